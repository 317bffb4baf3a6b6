/*
 * imc-pickup -- the drop directory $IMC_HOME/pickup/, run by s6
 * (service/pickup).
 *
 *     imc-pickup [READY-FD]        (or IMC_READY_FD=N in the environment)
 *
 * Input: regular files in pickup/ whose names do not start with '.'.
 * Writers write a dot-file and rename it into place, so a file is never
 * seen half-written.  The envelope comes from X-Sender: / X-Receiver:
 * fields at the top of the file (Exchange pickup style; they are removed
 * from the message), otherwise the sender from From: (or Sender: when
 * From: lists several) and the recipients from To:, Cc: and Bcc:.  Bcc:
 * fields are removed; Date:, Message-ID: and From: are added when
 * missing; CRLF becomes LF.  Addresses without '@' get "@control/me".
 *
 * Output: the message queued by imc-queue (envelope I records via=pickup,
 * file=NAME, uid=OWNER); the file is then unlinked and a line
 * "imc-pickup: info: FILE queued as ID" logged.  A crash between the two
 * queues the file again on restart (at least once, never lost).
 *
 * Failure modes: a file that can never be queued (no sender, no
 * recipient, a bad address, too big, not a regular file) is renamed into
 * pickup/bad/ with a warning line giving the reason; a temporary failure
 * leaves it in place and it is tried again after RETRY_DELAY seconds.
 *
 * Waiting: inotify (IN_MOVED_TO, IN_CLOSE_WRITE) on pickup/, plus a full
 * scan at start and every SCAN_INTERVAL seconds.  Readiness: "\n" on the
 * READY-FD after the watch is set and the first scan is done.  Signals
 * arrive through a self-pipe: SIGTERM finishes the current file and exits
 * 0, SIGHUP rereads control/me.  Lines "imc-pickup: init: started" (when
 * ready) and "imc-pickup: init: stopped" at loglevel init minimum
 * (control/loglevel is read at start).  No stdio.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>          /* rename(2) only */
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "addrlist.h"
#include "config.h"
#include "control.h"
#include "diag.h"
#include "exitcodes.h"
#include "fileio.h"
#include "log.h"
#include "qclient.h"
#include "message.h"
#include "queue.h"
#include "ready.h"
#include "selfpipe.h"

#define SCAN_INTERVAL 60
#define RETRY_DELAY 60

enum { P_OK, P_QUEUED, P_BAD, P_TEMP, P_GONE };   /* P_OK: go on */

static int sigfd = -1;             /* the self-pipe's read end */
static int stop;
static stralloc me, dir, reason, env, added, sender, rcpts;
static struct msgin in;
static struct msghead head;

#define nomem() fatal(EX_TEMP, "out of memory")

/* ---- signals, through the self-pipe */

static struct config logcfg;         /* control/loglevel, read at start */

static void load_me(void)
{
  if (config_me(&me) < 0) warnsys("unable to read control/me");
}

/* drains the self-pipe: sets stop, rereads control/ on SIGHUP */
static void take_signals(void)
{
  int sig;
  while ((sig = selfpipe_next()) != 0) {
    if (sig == SIGHUP) load_me();
    else stop = 1;
  }
}

static void setup_signals(void)
{
  if ((sigfd = selfpipe_init()) < 0) fatalsys(EX_TEMP, "unable to create the self-pipe");
  if (selfpipe_catch(SIGTERM, 0) < 0 || selfpipe_catch(SIGINT, 0) < 0 || selfpipe_catch(SIGHUP, 0) < 0)
    fatalsys(EX_TEMP, "unable to catch signals");
  signal(SIGPIPE, SIG_IGN);
}

/* ---- files waiting for a retry after a temporary failure */

struct delay { char *name; time_t until; };
static struct delay *delays;
static size_t ndelays;

static ssize_t delay_find(const char *name)
{
  size_t i;
  for (i = 0; i < ndelays; i++) if (!strcmp(delays[i].name, name)) return (ssize_t)i;
  return -1;
}

static void delay_clear(const char *name)
{
  ssize_t i = delay_find(name);
  if (i < 0) return;
  free(delays[i].name);
  delays[i] = delays[--ndelays];
}

static void delay_set(const char *name, time_t until)
{
  struct delay *d;
  if (delay_find(name) >= 0) delay_clear(name);
  d = realloc(delays, (ndelays + 1) * sizeof *d);
  if (!d) nomem();
  delays = d;
  if (!(delays[ndelays].name = strdup(name))) nomem();
  delays[ndelays++].until = until;
}

static int delay_due(const char *name, time_t now)
{
  ssize_t i = delay_find(name);
  return i < 0 || delays[i].until <= now;
}

/* ---- reasons */

static int because(const char *a, const char *b, int ret)
{
  if (!stralloc_copys(&reason, a) || !stralloc_cats(&reason, b ? b : "") || !stralloc_0(&reason)) nomem();
  return ret;
}

static int because_sys(const char *what, int ret)
{
  return because(what, strerror(errno), ret);
}

/* ---- the envelope */

/* the addresses in a field's value: count, or -1 (syntax) */
static int field_addrs(const char *f, size_t len, stralloc *out)
{
  const char *colon = memchr(f, ':', len);
  int n = addrlist_parse(colon + 1, len - (size_t)(colon + 1 - f), out);
  if (n < 0 && errno == ENOMEM) nomem();
  return n;
}

/* X-Sender: and X-Receiver: at the top of the file, cut from the text */
static int take_x_fields(int *xsender, int *xrcpt)
{
  size_t pos = 0, cut = 0, len, nl;
  const char *f;
  while (msghead_next(&head.text, &pos, &f, &len, &nl)) {
    if (msghead_is(f, nl, "X-Sender")) {
      if (*xsender) return because("more than one X-Sender: field", 0, P_BAD);
      if (field_addrs(f, len, &sender) != 1) return because("the X-Sender: field does not hold one address", 0, P_BAD);
      *xsender = 1;
    } else if (msghead_is(f, nl, "X-Receiver")) {
      if (field_addrs(f, len, &rcpts) < 0) return because("unparseable X-Receiver: field", 0, P_BAD);
      *xrcpt = 1;
    } else break;
    cut = pos;
  }
  memmove(head.text.s, head.text.s + cut, head.text.len - cut);
  head.text.len -= cut;
  return P_OK;
}

/* From: with one address, else Sender:, else the first From: address */
static int header_sender(void)
{
  stralloc from = {0};
  int n = msghead_addresses(&head.text, "From", &from), r = P_OK;
  if (n < 0 && errno == ENOMEM) nomem();
  if (n < 0) r = because("unparseable From: field", 0, P_BAD);
  else if (n == 1 || (n > 1 && msghead_addresses(&head.text, "Sender", &sender) != 1)) {
    sender.len = 0;
    if (!stralloc_catb(&sender, from.s, strlen(from.s) + 1)) nomem();
  } else if (n == 0) r = because("no sender: add a From: field (or X-Sender:) with the sender's address", 0, P_BAD);
  stralloc_free(&from);
  return r;
}

static int header_rcpts(void)
{
  static const char *const fields[] = { "To", "Cc", "Bcc", 0 };
  int i;
  for (i = 0; fields[i]; i++)
    if (msghead_addresses(&head.text, fields[i], &rcpts) < 0) {
      if (errno == ENOMEM) nomem();
      return because("unparseable field ", fields[i], P_BAD);
    }
  return P_OK;
}

/* F: the qualified sender (empty stays the null sender); then each T */
static int envelope_addresses(void)
{
  stralloc a = {0};
  size_t pos;
  if (*sender.s && inject_address(&a, sender.s, strlen(sender.s), me.s) < 0) {
    if (errno == ENOMEM) nomem();
    return because("invalid sender address: ", sender.s, P_BAD);
  }
  if (!stralloc_0(&a) || env_add(&env, 'F', a.s, str_len(a.s)) < 0) nomem();
  if (!stralloc_copy(&sender, &a)) nomem();       /* for From: */
  stralloc_free(&a);
  for (pos = 0; pos < rcpts.len; pos += strlen(rcpts.s + pos) + 1) {
    const char *r = rcpts.s + pos;
    if (inject_rcpt(&env, r, strlen(r), me.s) == 0) continue;
    if (errno == ENOMEM) nomem();
    return because("invalid recipient address: ", *r ? r : "<>", P_BAD);
  }
  return P_OK;
}

static int printable(const char *s)
{
  for (; *s; s++) if ((unsigned char)*s < 32 || *s == 127) return 0;
  return 1;
}

static int envelope_info(const char *name, uid_t owner)
{
  stralloc i = {0};
  char num[FMT_ULONG];
  size_t n;
  if (env_add(&env, 'I', "via=pickup", 10) < 0) nomem();
  if (printable(name) && (!stralloc_copys(&i, "file=") || !stralloc_cats(&i, name)
                          || env_add(&env, 'I', i.s, i.len) < 0)) nomem();
  if (!stralloc_copys(&i, "uid=") || !stralloc_catb(&i, num, fmt_ulong(num, (unsigned long)owner))
      || env_add(&env, 'I', i.s, i.len) < 0 || env_finish(&env) < 0) nomem();
  stralloc_free(&i);
  if (env_check(env.s, env.len, &n) == -2) return because("no recipients: add a To:, Cc: or Bcc: field (or X-Receiver:) with the recipients' addresses", 0, P_BAD);
  return P_OK;
}

static int build_envelope(const char *name, uid_t owner)
{
  int xsender = 0, xrcpt = 0, r;
  env.len = sender.len = rcpts.len = 0;
  r = take_x_fields(&xsender, &xrcpt);
  if (r == P_OK && !xsender) r = header_sender();
  if (r == P_OK && !xrcpt) r = header_rcpts();
  if (r == P_OK) r = envelope_addresses();
  if (r == P_OK) r = envelope_info(name, owner);
  return r;
}

/* ---- one file */

static void add_headers(void)
{
  added.len = 0;
  if (!msghead_has(&head.text, "Date") && msg_add_date(&added, time(0)) < 0) nomem();
  if (!msghead_has(&head.text, "Message-ID") && msg_add_msgid(&added, me.s) < 0) nomem();
  if (!msghead_has(&head.text, "From") && *sender.s && msg_add_from(&added, 0, sender.s) < 0) nomem();
}

static int queue_result(int r)
{
  char num[FMT_ULONG];
  num[fmt_ulong(num, (unsigned long)r)] = 0;
  if (r == QX_OK) return P_QUEUED;
  if (r == QX_PERM_TOOBIG) return because("larger than control/databytes", 0, P_BAD);
  if (r == QX_PERM_NORCPT) return because("no recipients", 0, P_BAD);
  if (r == QX_PERM_ENVELOPE) return because("malformed envelope or address (imc-queue exit 33)", 0, P_BAD);
  if (QX_IS_PERM(r)) return because("refused by imc-queue, exit ", num, P_BAD);
  return because("imc-queue exit ", num, P_TEMP);
}

static int inject_fd(int fd, const char *name, uid_t owner, char id[QID_LEN + 1])
{
  int r;
  if (fd_blocking(fd) < 0) return because_sys("unable to set the file blocking: ", P_TEMP);
  msgin_init(&in, fd, 0);
  r = msghead_read(&in, &head);
  if (r == -2) return because("the header section is larger than 4 MB", 0, P_BAD);
  if (r < 0) return because_sys("unable to read: ", P_TEMP);
  if ((r = build_envelope(name, owner)) != P_OK) return r;
  msghead_drop(&head.text, "Bcc");
  add_headers();
  return queue_result(inject_message(&in, &head, &added, &env, id));
}

static int inject_one(const char *name, char id[QID_LEN + 1])
{
  stralloc path = {0};
  struct stat st;
  int fd, r;
  if (imc_path2(&path, "pickup", name) < 0) nomem();
  fd = open(path.s, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  stralloc_free(&path);
  if (fd < 0) {
    if (errno == ENOENT) return P_GONE;
    if (errno == ELOOP) return because("a symbolic link", 0, P_BAD);
    return because_sys("unable to open: ", P_TEMP);
  }
  if (fstat(fd, &st) < 0) r = because_sys("unable to stat: ", P_TEMP);
  else if (S_ISDIR(st.st_mode)) r = P_GONE;
  else if (!S_ISREG(st.st_mode)) r = because("not a regular file", 0, P_BAD);
  else r = inject_fd(fd, name, st.st_uid, id);
  close(fd);
  return r;
}

static void move_bad(const char *name, time_t now)
{
  stralloc from = {0}, to = {0};
  if (imc_path2(&from, "pickup", name) < 0 || imc_path2(&to, "pickup/bad", name) < 0) nomem();
  if (rename(from.s, to.s) == 0) warn(name, " moved to pickup/bad: ", reason.s);
  else if (errno != ENOENT || access(from.s, F_OK) == 0) {
    warnsys(name, ": ", reason.s, "; unable to move it to pickup/bad");
    delay_set(name, now + RETRY_DELAY);
  }
  stralloc_free(&from);
  stralloc_free(&to);
}

/* queued: the file goes; if it cannot, it must not be queued again and again */
static void remove_queued(const char *name, const char *id, time_t now)
{
  stralloc path = {0};
  if (imc_path2(&path, "pickup", name) < 0) nomem();
  if (unlink(path.s) < 0 && errno != ENOENT) {
    warnsys(name, " queued as ", id, " but unable to remove it; ignoring it until it changes");
    delay_set(name, now + 86400L * 365);
  } else info(name, " queued as ", id);
  stralloc_free(&path);
}

static void pickup(const char *name, int event)
{
  char id[QID_LEN + 1];
  time_t now = time(0);
  int r;
  if (name[0] == '.') return;
  if (event) delay_clear(name);
  else if (!delay_due(name, now)) return;
  r = inject_one(name, id);
  if (r == P_QUEUED) remove_queued(name, id, now);
  else if (r == P_BAD) move_bad(name, now);
  else if (r == P_TEMP) {
    warn(name, ": temporary failure, trying again in a minute: ", reason.s);
    delay_set(name, now + RETRY_DELAY);
  }
}

/* ---- waiting */

static void prune_delays(void)
{
  size_t i = 0;
  while (i < ndelays) {
    stralloc path = {0};
    struct stat st;
    if (imc_path2(&path, "pickup", delays[i].name) < 0) nomem();
    if (lstat(path.s, &st) < 0 && errno == ENOENT) delay_clear(delays[i].name);
    else i++;
    stralloc_free(&path);
  }
}

static void scan(void)
{
  stralloc names = {0};
  struct dirent *e;
  size_t pos;
  DIR *d = opendir(dir.s);
  if (!d) { warnsys("unable to open ", dir.s); return; }
  while ((e = readdir(d)) != 0) {
    if (e->d_name[0] == '.' || e->d_type == DT_DIR) continue;
    if (!stralloc_catb(&names, e->d_name, strlen(e->d_name) + 1)) nomem();
  }
  closedir(d);
  prune_delays();
  for (pos = 0; pos < names.len && !stop; pos += strlen(names.s + pos) + 1) {
    pickup(names.s + pos, 0);
    take_signals();
  }
  stralloc_free(&names);
}

static void events(int ino)
{
  static char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t n = read(ino, buf, sizeof buf);
    char *p;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) fatalsys(EX_TEMP, "unable to read inotify events");
    for (p = buf; p < buf + n && !stop; ) {
      struct inotify_event *ev = (struct inotify_event *)(void *)p;
      p += sizeof *ev + ev->len;
      if (ev->mask & IN_IGNORED) fatal(EX_TEMP, dir.s, " went away");
      if (ev->mask & IN_Q_OVERFLOW) scan();
      else if (ev->len && !(ev->mask & IN_ISDIR)) pickup(ev->name, 1);
      take_signals();
    }
  }
}

static int ready_fd(int argc, char **argv)
{
  int fd = ready_parse(argc > 1 ? argv[1] : getenv("IMC_READY_FD"));
  if (argc > 2 || fd == -2) usage("[ready-fd]");
  return fd;
}

static void wait_loop(int ino)
{
  time_t next = time(0) + SCAN_INTERVAL;
  while (!stop) {
    struct pollfd p[2];
    time_t now = time(0);
    p[0].fd = sigfd;
    p[1].fd = ino;
    p[0].events = p[1].events = POLLIN;
    p[0].revents = p[1].revents = 0;
    if (poll(p, 2, next > now ? (int)(next - now) * 1000 : 0) < 0 && errno != EINTR)
      fatalsys(EX_TEMP, "unable to poll");
    take_signals();
    if (stop) break;
    if (p[1].revents) events(ino);
    if (time(0) >= next) {
      scan();
      next = time(0) + SCAN_INTERVAL;
    }
  }
}

int main(int argc, char **argv)
{
  int ino, rfd;
  diag_prog = "imc-pickup";
  rfd = ready_fd(argc, argv);
  setup_signals();
  log_load(&logcfg);
  load_me();
  if (!me.len) fatal(EX_TEMP, "control/me is empty or unreadable");
  if (imc_path(&dir, "pickup") < 0) nomem();
  ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ino < 0) fatalsys(EX_TEMP, "unable to start inotify");
  if (inotify_add_watch(ino, dir.s, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) < 0)
    fatalsys(EX_TEMP, "unable to watch ", dir.s);
  scan();
  ready_signal(rfd);
  log_event(LOG_INIT, LEVEL_MINIMUM, "started");
  wait_loop(ino);
  log_event(LOG_INIT, LEVEL_MINIMUM, "stopped");
  return 0;
}
