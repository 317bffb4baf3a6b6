/*
 * imc-send -- the queue manager.
 *
 * Runs under s6 (service/send) with IMC_HOME naming the instance.  At
 * start it takes queue/lock, reads the control files, recovers the queue
 * (docs/INTERNALS.md section 2) and signals readiness on IMC_READY_FD.
 * Then it waits on the trigger FIFO, its self-pipe and the reports of the
 * deliverers and filters it started, and on the earliest time a queued
 * message or an idle deliverer needs attention: new messages are read
 * from new/ when the trigger fires, resolved through the directory,
 * delivered, bounced, saved or removed.
 *
 * Signals: HUP rereads the control files (keeping the old settings when
 * the new ones do not parse) and the directory, and closes the job
 * channels of its deliverers (they finish their batches and exit; the
 * next batches start new ones, which read the new settings); TERM stops
 * starting deliveries, closes the job channels, waits for every process
 * it started and exits 0.
 * Control files: those of send_config_files below (lib/config.c's table),
 * routes, smarthost, transfermode, domains and the directory; an error in
 * another file of the table (greetdelay, auth) never touches its settings.  Only its connector fault check (send_fault.c)
 * reads every file, to tell the postmaster of an error in any of them.
 * Exit codes: 0 after TERM, 111 when it cannot start.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "control.h"
#include "diag.h"
#include "log.h"
#include "exitcodes.h"
#include "fileio.h"
#include "ready.h"
#include "selfpipe.h"
#include "send.h"
#include "track.h"

#define MAXPOLL 258              /* self-pipe, trigger, and every deliverer run */
#define RESCAN_EVERY 60          /* seconds between safety scans of new/ */
#define DEBRIS_EVERY 3600

static int sigfd = -1;
static int trigger = -1;

static void signals_init(void)
{
  if ((sigfd = selfpipe_init()) < 0) fatalsys(EX_TEMP, "unable to create the self-pipe");
  if (selfpipe_catch(SIGHUP, 0) < 0 || selfpipe_catch(SIGTERM, 0) < 0 || selfpipe_catch(SIGINT, 0) < 0)
    fatalsys(EX_TEMP, "unable to catch signals");
  signal(SIGPIPE, SIG_IGN);
}

/* the settings imc-send uses, and what uses them: notices and bounces (me,
   postmaster, notify), local domains and recipients (sitedomains, through
   the directory), the address space and restrictions of outbound mail
   (addressspace, senders.allow, senders.deny), the schedule (retry,
   lifetime, delaywarn), deliverers (maxlocal, maxoutbound, maxperhost,
   connectioncache), archive, tracking, faults (diskfree, queuewarn),
   logging (loglevel) */
static const char *const send_config_files[] = {
  "me", "sitedomains", "postmaster", "notify", "addressspace", "senders.allow", "senders.deny",
  "retry", "lifetime", "delaywarn", "maxlocal", "maxoutbound", "maxperhost", "connectioncache",
  "archive", "tracking", "diskfree", "queuewarn", "dsnfullmax", "loglevel", 0
};

static void config_reload(void)
{
  struct config fresh;
  int r = config_load_only(&fresh, send_config_files, config_warn);
  if (r != 0) {
    if (r > 0) config_free(&fresh);
    warn("control files have errors: keeping the old settings");
  } else {
    config_free(&cfg);
    cfg = fresh;
    track_enable(cfg.tracking);
    log_init(&cfg);
    log_event(LOG_INIT, LEVEL_MINIMUM, "reread the control files");
  }
  if (directory_refresh(&dir) < 0) warnsys("unable to reopen control/directory.cdb");
  {
    int was = remote_allowed();
    remote_reload();
    if (!was && remote_allowed()) remote_retry(0, (unsigned long)time(0));
  }
  conv_reload();
  runs_close_all();
  faults_check((unsigned long)time(0));
}

/* as many descriptors as the hard limit allows: every deliverer run holds its
   messages' queue files open while it runs */
static void fd_limit(void)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

static void start(void)
{
  int fd;
  fd_limit();
  if (chdir(imc_home()) < 0) fatalsys(EX_TEMP, "unable to enter ", imc_home());
  if (imc_path(&qdir, "queue") < 0) fatalsys(EX_TEMP, "out of memory");
  fd = open("queue/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) fatalsys(EX_TEMP, "unable to open queue/lock");
  if (flock(fd, LOCK_EX | LOCK_NB) < 0) fatalsys(EX_TEMP, "unable to lock queue/lock (another imc-send?)");
  if (config_load_only(&cfg, send_config_files, config_warn) != 0) fatal(EX_TEMP, "unable to read the control files");
  track_enable(cfg.tracking);
  log_init(&cfg);
  if (directory_open(&dir) < 0) fatalsys(EX_TEMP, "unable to open control/directory.cdb");
  if (remote_reload() < 0) fatal(EX_TEMP, "unable to read control/routes, smarthost or transfermode");
  conv_reload();
  trigger = open("queue/trigger", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (trigger < 0) fatalsys(EX_TEMP, "unable to open queue/trigger");
  if (open("queue/trigger", O_WRONLY | O_NONBLOCK | O_CLOEXEC) < 0)   /* never see EOF on it */
    fatalsys(EX_TEMP, "unable to open queue/trigger for writing");
  signals_init();
}

/* one trigger line (docs/INTERNALS.md section 9) */
static void trigger_line(const char *s, size_t len, unsigned long now)
{
  char arg[256];
  if (len == 1 && s[0] == 'C') { ctl_scan(now); return; }
  if (len < 2 || s[0] != 'R' || len > sizeof arg) return;
  memcpy(arg, s + 1, len - 1);
  arg[len - 1] = 0;
  if (!strcmp(arg, "*")) { info("retrying everything now"); remote_retry(0, now); }
  else if (arg[0] == '@') { info("retrying ", arg, " now"); remote_retry(arg + 1, now); }
  else if (qid_valid(arg, len - 1)) {
    struct msg *m = msg_find(arg);
    if (m) { msg_retry(m, now); info("retrying ", arg, " now"); }
  }
}

/* reads the trigger to empty; lines may arrive split across reads */
static void trigger_read(int fd, unsigned long now)
{
  static char line[256];
  static size_t len;
  static int overlong;
  char buf[1024];
  ssize_t n, i;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    for (i = 0; i < n; i++) {
      if (buf[i] != '\n') {
        if (len < sizeof line) line[len++] = buf[i]; else overlong = 1;
        continue;
      }
      if (!overlong) trigger_line(line, len, now);
      len = 0;
      overlong = 0;
    }
}

/* 1 when TERM arrived */
static int on_selfpipe(void)
{
  int sig, stop = 0;
  while ((sig = selfpipe_next()) != 0) {
    if (sig == SIGHUP) config_reload();
    else if (sig == SIGTERM || sig == SIGINT) stop = 1;
  }
  return stop;
}

static int poll_timeout(unsigned long now, unsigned long periodic)
{
  struct msg *m = heap_top();
  unsigned long until = periodic, idle = runs_wake();
  if (m && m->next < until) until = m->next;
  if (idle < until) until = idle;
  if (until <= now) return 1000 * (m && m->next <= now);   /* a message that stayed due: a second */
  return until - now > 3600 ? 3600000 : (int)((until - now) * 1000);
}

static void scan_new(unsigned long now)
{
  if (directory_refresh(&dir) < 0) warnsys("unable to reopen control/directory.cdb");
  queue_scan_new(now);
}

int main(void)
{
  struct pollfd fds[MAXPOLL];
  unsigned long now = (unsigned long)time(0), rescan = now + RESCAN_EVERY, debris = now + DEBRIS_EVERY;
  int stopping = 0;
  diag_prog = "imc-send";
  umask(027);
  sched = stage_hooks;
  start();
  held_load();
  if (queue_recover(now) < 0) fatal(EX_TEMP, "unable to read the queue");
  ctl_scan(now);
  faults_check(now);
  ready_signal(ready_parse(getenv("IMC_READY_FD")));
  log_event(LOG_INIT, LEVEL_MINIMUM, "started");
  for (;;) {
    unsigned n = 2;
    now = (unsigned long)time(0);
    if (!stopping) {
      runs_expire(now);
      sched_due(now); conv_dispatch(now); local_dispatch(now); remote_dispatch(now);
    }
    if (stopping && !runs_active()) break;
    fds[0].fd = sigfd; fds[0].events = POLLIN; fds[0].revents = 0;
    fds[1].fd = trigger; fds[1].events = stopping ? 0 : POLLIN; fds[1].revents = 0;
    runs_pollfds(fds, &n, MAXPOLL);
    if (poll(fds, n, stopping ? 1000 : poll_timeout(now, rescan < debris ? rescan : debris)) < 0
        && errno != EINTR) fatalsys(EX_TEMP, "poll failed");
    now = (unsigned long)time(0);
    if (fds[0].revents && on_selfpipe()) { stopping = 1; runs_close_all(); }
    runs_events(fds + 2, n - 2, now);
    if (stopping) continue;
    if (fds[1].revents || now >= rescan) {
      trigger_read(trigger, now);
      scan_new(now);
      if (now >= rescan) { ctl_scan(now); faults_check(now); rescan = now + RESCAN_EVERY; }
    }
    if (now >= debris) { queue_debris(now); debris = now + DEBRIS_EVERY; }
  }
  log_event(LOG_INIT, LEVEL_MINIMUM, "stopped");
  return EX_OK;
}
