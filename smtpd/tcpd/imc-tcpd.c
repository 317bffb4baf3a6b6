/*
 * imc-tcpd -- the inbound SMTP listener.
 *
 * Runs under s6 (service/smtpd), as root in system mode so that it can
 * bind port 25.  Environment (from the instance's env/ directory):
 *
 *   IMC_HOME             the instance
 *   IMC_PORT             the SMTP port (default 25)
 *   IMC_SUBMISSION_PORT  the submission port; no submission listener without it
 *   IMC_LISTEN           the addresses to bind, space separated (default "0.0.0.0 ::");
 *                        an address the machine lacks is a warning while one binds
 *   IMC_USER             when started as root: the user to become after binding
 *   IMC_SMTPD            the worker program (default imc-smtpd next to imc-tcpd)
 *   IMC_SMTPD_UCSPI      1: run IMC_SMTPD once per connection, on the socket, with
 *                        the variables in its environment (a program that is not
 *                        an imc-smtpd worker: a wrapper, a test's stand-in)
 *   IMC_READY_FD         readiness: a newline once every listener is bound
 *
 * Each connection is checked in turn against control/transfermode (none
 * or outbound: `421 4.3.2 ME service not available, try later`),
 * control/rules (reject: `521 5.7.1 ME access denied`), and maxinbound /
 * maxperip (`421 4.7.0 ME too many connections`; 0 means no limit, and
 * maxinbound is at most TCPD_MAXCHILD); a refused client gets that one
 * line, written without waiting, and is closed.  A client is counted by
 * its address, an IPv6 one by its first control/ipv6prefix bits (64: a
 * /64 is one client).  Otherwise the connection goes to an idle imc-smtpd
 * worker of the pool (tcpd_pool.c), with the UCSPI variables, IMC_RULE
 * and what the sessions reported of this client (IMC_AUTHFAIL,
 * IMC_ETRNWAIT; the report pipe IMC_REPORT_FD: tcpd_recent.c) in a frame
 * (lib/handoff.h, docs/INTERNALS.md section 11); with IMC_SMTPD_UCSPI=1
 * the program is spawned per connection with them in its environment
 * (tcpd_child.c).  The accept loop never blocks on a client.
 *
 * The pool: TCPD_SPARE idle workers are kept ready; a connection finding
 * none starts one, so that there are as many workers as sessions, up to
 * maxinbound, and never more.  A worker serves control/smtpdmaxuse
 * sessions (100) and exits; one idle for control/smtpdidle seconds (60)
 * is told to exit; both are replaced as needed.
 *
 * Signals: HUP rereads control/ (rules, transfermode, limits, me), keeping
 * the old settings when the new ones have errors (the workers reread
 * theirs by themselves when a file changes); TERM stops listening and
 * exits 0 (running sessions go on; every worker exits after its session,
 * idle ones at once); CHLD counts the sessions and workers down.
 * Exit codes: 0 after TERM; 100 a usage error in the environment (a bad
 * port or address); 111 cannot start (control files, binding, privileges).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "binpath.h"
#include "config.h"
#include "control.h"
#include "diag.h"
#include "exitcodes.h"
#include "fileio.h"
#include "log.h"
#include "rules.h"
#include "ready.h"
#include "selfpipe.h"
#include "tcpd.h"

#define ACCEPT_BURST 64          /* connections taken from one listener per wake-up */

extern char **environ;

struct settings {
  struct config cfg;
  struct rules rules;
  int mode;
  unsigned long maxinbound, maxperip;
  unsigned prefix;                 /* control/ipv6prefix */
  unsigned long maxuse, idle;      /* control/smtpdmaxuse, smtpdidle */
};

static struct settings set;
static struct tcpd_table table;
static struct tcpd_pool pool;
static int ucspi;                  /* IMC_SMTPD_UCSPI=1: a child per connection, no pool */
static long long fill_after;       /* ms: workers that died at once: no new ones before this */
static struct tcpd_recent recent;
static int report[2] = { -1, -1 };  /* the children's report pipe: read end, write end */
static struct tcpd_listener ls[TCPD_MAXLISTEN];
static unsigned nls;
static stralloc smtpd;
static int sigfd = -1;             /* the self-pipe's read end */
static time_t paused_until;      /* accept() ran out of resources: wait until then */

/* ---- settings */

static void config_error(const char *file, unsigned line, const char *msg)
{
  if (line) config_warn(file, line, msg);     /* unreadable: the caller reports it with errno */
}

static void settings_free(struct settings *s)
{
  config_free(&s->cfg);
  rules_free(&s->rules);
}

/* an init line when loglevel init is at minimum or more: starting, stopping, rereading */
#define tcpd_note(...) do { if (config_logging(&set.cfg, LOG_INIT, LEVEL_MINIMUM)) log_always(LOG_INIT, __VA_ARGS__); } while (0)

/* the control files imc-tcpd reads (besides rules and transfermode): an error
   in another one (retry, routes) is not its business and never stops it */
static const char *const tcpd_files[] = { "me", "loglevel", "maxinbound", "maxperip", "ipv6prefix",
                                          "smtpdmaxuse", "smtpdidle", 0 };

/* 0 ok, -1 (a diagnostic was written) */
static int settings_load(struct settings *s)
{
  int r;
  memset(s, 0, sizeof *s);
  r = config_load_only(&s->cfg, tcpd_files, config_error);
  if (r < 0) { warnsys("unable to read the control files"); return -1; }
  if (r > 0) { config_free(&s->cfg); return -1; }
  r = rules_load(&s->rules, config_error);
  if (r == 0) r = transfermode_load(&s->mode, config_error);
  if (r < 0) warnsys("unable to read control/rules or control/transfermode");
  if (r != 0) { settings_free(s); return -1; }
  s->maxinbound = s->cfg.maxinbound;
  if (!s->maxinbound || s->maxinbound > TCPD_MAXCHILD) s->maxinbound = TCPD_MAXCHILD;
  s->maxperip = s->cfg.maxperip;
  s->prefix = (unsigned)s->cfg.ipv6prefix;
  s->maxuse = s->cfg.smtpdmaxuse;
  s->idle = s->cfg.smtpdidle;
  return 0;
}

static void settings_reload(void)
{
  struct settings fresh;
  if (settings_load(&fresh) < 0) {
    warn("control files have errors: keeping the old settings");
    return;
  }
  settings_free(&set);
  set = fresh;
  tcpd_note("reread the control files");
}

/* ---- start: listeners, privileges, signals, readiness */

static unsigned env_port(const char *name, const char *def)
{
  const char *s = getenv(name);
  unsigned port;
  if (!s || !*s) s = def;
  if (!tcpd_scan_port(s, &port)) fatal(EX_PERM, "bad ", name, ": ", s, " (must be 1..65535)");
  return port;
}

/* 1 bound, 0 skipped with a warning (the machine lacks the address or its family) */
static int listen_one(const unsigned char ip[16], const char *text, unsigned port, int sub)
{
  char num[FMT_ULONG];
  num[fmt_ulong(num, port)] = 0;
  if (tcpd_listen(&ls[nls], ip, port, sub) == 0) {
    tcpd_note("listening on ", text, " port ", num);
    nls++;
    return 1;
  }
  if (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT) {
    warnsys("unable to bind ", text, " port ", num);
    return 0;
  }
  fatalsys(EX_TEMP, "unable to bind ", text, " port ", num);
}

/* IMC_LISTEN, every address checked before any is bound */
static unsigned listen_addrs(const char *list, unsigned char ip[][16], char text[][64])
{
  const char *p = list, *word;
  unsigned n = 0;
  int r;
  while ((r = tcpd_next_addr(&p, ip[n], text[n], 64, &word)) != 0) {
    if (r < 0) fatal(EX_PERM, "bad address in IMC_LISTEN: ", word);
    if (++n == TCPD_MAXLISTEN / 2) break;
  }
  if (*p && tcpd_next_addr(&p, ip[n], text[n], 64, &word))
    fatal(EX_PERM, "too many addresses in IMC_LISTEN");
  if (!n) fatal(EX_PERM, "no address in IMC_LISTEN");
  return n;
}

static void listen_all(void)
{
  const char *list = getenv("IMC_LISTEN"), *subs = getenv("IMC_SUBMISSION_PORT");
  unsigned port = env_port("IMC_PORT", "25"), sub = 0, n, i;
  unsigned char ip[TCPD_MAXLISTEN / 2][16];
  char text[TCPD_MAXLISTEN / 2][64];
  if (subs && *subs) sub = env_port("IMC_SUBMISSION_PORT", subs);
  if (sub == port) fatal(EX_PERM, "IMC_SUBMISSION_PORT is the same as IMC_PORT");
  if (!list || !*list) list = "0.0.0.0 ::";
  n = listen_addrs(list, ip, text);
  for (i = 0; i < n; i++) {
    listen_one(ip[i], text[i], port, 0);
    if (sub) listen_one(ip[i], text[i], sub, 1);
  }
  if (!nls) fatal(EX_TEMP, "no address of IMC_LISTEN could be bound: ", list);
}

static void drop_privileges(void)
{
  const char *u = getenv("IMC_USER");
  struct passwd *pw;
  if (!u || !*u || geteuid() != 0) return;
  errno = 0;
  pw = getpwnam(u);
  if (!pw) {
    if (errno) fatalsys(EX_TEMP, "unable to look up user ", u);
    fatal(EX_TEMP, "unknown user: ", u, " (IMC_USER)");
  }
  if (initgroups(u, pw->pw_gid) < 0) fatalsys(EX_TEMP, "unable to set the groups of ", u);
  if (setgid(pw->pw_gid) < 0) fatalsys(EX_TEMP, "unable to set the group of ", u);
  if (setuid(pw->pw_uid) < 0) fatalsys(EX_TEMP, "unable to become ", u);
  if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid || getgid() != pw->pw_gid
      || (pw->pw_uid != 0 && setuid(0) == 0))
    fatal(EX_TEMP, "unable to drop privileges to ", u);
}

static void signals_init(void)
{
  if ((sigfd = selfpipe_init()) < 0) fatalsys(EX_TEMP, "unable to create the self-pipe");
  if (selfpipe_catch(SIGHUP, 0) < 0 || selfpipe_catch(SIGTERM, 0) < 0 || selfpipe_catch(SIGINT, 0) < 0
      || selfpipe_catch(SIGCHLD, SA_NOCLDSTOP) < 0) fatalsys(EX_TEMP, "unable to catch signals");
  signal(SIGPIPE, SIG_IGN);
}

/* fds 0, 1 and 2 open, so that an accepted socket is never one of them */
static void std_fds(void)
{
  int fd;
  while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2) ;
  if (fd < 0) fatalsys(EX_TEMP, "unable to open /dev/null");
  close(fd);
}

/* the report pipe: children inherit the non-blocking write end (a full pipe
   drops a report, never stalls a session), we read the other */
static void report_init(void)
{
  if (pipe2(report, O_CLOEXEC | O_NONBLOCK) < 0) fatalsys(EX_TEMP, "unable to create the report pipe");
  if (fcntl(report[1], F_SETFD, 0) < 0) fatalsys(EX_TEMP, "unable to create the report pipe");
}

static long long now_secs(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec + 1;
}

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* the children's report lines; a line cut by a full buffer is dropped */
static void report_read(void)
{
  static char buf[1024];
  static size_t len;
  ssize_t r;
  while ((r = read(report[0], buf + len, sizeof buf - len)) > 0) {
    char *nl;
    len += (size_t)r;
    while ((nl = memchr(buf, '\n', len)) != 0) {
      size_t n = (size_t)(nl - buf);
      recent_report(&recent, buf, n, set.prefix, now_secs());
      memmove(buf, nl + 1, len - n - 1);
      len -= n + 1;
    }
    if (len == sizeof buf) len = 0;
  }
}

static void start(void)
{
  unsigned long seed = (unsigned long)time(0) ^ ((unsigned long)getpid() << 16);
  std_fds();
  if (settings_load(&set) < 0) fatal(EX_TEMP, "unable to read the control files");
  listen_all();
  drop_privileges();
  if (chdir(imc_home()) < 0) fatalsys(EX_TEMP, "unable to enter ", imc_home());
  if (getenv("IMC_SMTPD") && *getenv("IMC_SMTPD")) {
    if (!stralloc_copys(&smtpd, getenv("IMC_SMTPD")) || !stralloc_0(&smtpd)) fatal(EX_TEMP, "out of memory");
  } else if (bin_path(&smtpd, "imc-smtpd") < 0) fatalsys(EX_TEMP, "unable to find imc-smtpd");
  if (access(smtpd.s, X_OK) < 0) warnsys("connections will fail: unable to run ", smtpd.s);
  if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) < 0) { /* the time and pid will do */ }
  table_init(&table, seed);
  pool_init(&pool);
  ucspi = getenv("IMC_SMTPD_UCSPI") && !strcmp(getenv("IMC_SMTPD_UCSPI"), "1");
  recent_init(&recent);
  report_init();
  if (child_env_init(environ) < 0) fatal(EX_TEMP, "out of memory");
  signals_init();
}

/* ---- connections */

/* "CODE ME TEXT\r\n" without waiting, then close */
static void refuse(int fd, const char *code, const char *text)
{
  char line[512];
  size_t n = 0, me = set.cfg.me.len;
  if (me > 255) me = 255;
  memcpy(line, code, strlen(code)); n += strlen(code);
  memcpy(line + n, set.cfg.me.s, me); n += me;
  memcpy(line + n, text, strlen(text)); n += strlen(text);
  memcpy(line + n, "\r\n", 2); n += 2;
  if (send(fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) { /* the client is gone: nothing to tell */ }
  close(fd);
}

static void log_conn(int level, const char *what, const struct tcpd_conn *c, const char *extra)
{
  char ip[IP_FMT], port[FMT_ULONG];
  if (!config_logging(&set.cfg, LOG_SMTP, level)) return;
  ip_format(ip, c->rip);
  port[fmt_ulong(port, c->rport)] = 0;
  log_always(LOG_SMTP, what, " ", ip, " port ", port, extra);
}

/* 1 when over a limit */
static int over_limit(const unsigned char key[16])
{
  if (table.nchild >= set.maxinbound) return 1;
  return set.maxperip && table_count_ip(&table, key) >= set.maxperip;
}

/* ---- the pool */

/* a new idle worker: its index, or -1 (a warning once a second at most) */
static int worker_new(void)
{
  static long long warned;
  int i = pool_start(&pool, (unsigned)set.maxinbound, smtpd.s, report[1], now_ms());
  if (i < 0 && errno != EAGAIN && now_ms() - warned >= 1000) {
    warned = now_ms();
    warnsys("unable to start a worker ", smtpd.s);
  }
  return i;
}

/* TCPD_SPARE idle workers, as far as maxinbound allows (busy ones count);
   idle ones past a lowered maxinbound are retired */
static void pool_fill(void)
{
  unsigned long room = set.maxinbound > pool.n ? set.maxinbound - pool.n : 0;
  unsigned want = TCPD_SPARE;
  while (pool.n > set.maxinbound && pool.idle) pool_lost(&pool, pool_take(&pool));
  if (ucspi || now_ms() < fill_after) return;
  while (pool.idle < want && room-- > 0)
    if (worker_new() < 0) { fill_after = now_ms() + 1000; return; }
}

/* the connection to an idle worker, or a new one: its pid, or -1 */
static pid_t hand_over(int fd, const struct tcpd_conn *c)
{
  int tries, i;
  for (tries = 0; tries < 3; tries++) {
    i = pool_take(&pool);
    if (i < 0) i = worker_new();
    if (i < 0) return -1;
    if (pool_hand(&pool, i, fd, c, set.maxuse) == 0) return pool.w[i].pid;
    warnsys("unable to hand a connection to a worker");
    pool_lost(&pool, i);
  }
  return -1;
}

static void start_child(int fd, struct tcpd_conn *c, const unsigned char key[16])
{
  char pidnum[FMT_ULONG], extra[64];
  pid_t pid;
  c->report_fd = report[1];
  c->authfail = recent_authfail(&recent, key, now_secs());
  c->etrnwait = recent_etrnwait(&recent, key, now_secs());
  if (ucspi ? child_spawn(&pid, smtpd.s, fd, c) < 0 : (pid = hand_over(fd, c)) < 0) {
    warnsys("unable to run ", smtpd.s);
    refuse(fd, "421 4.3.0 ", " temporary failure, try later");
    return;
  }
  close(fd);
  table_add(&table, pid, key);             /* room was checked by over_limit */
  pidnum[fmt_ulong(pidnum, (unsigned long)pid)] = 0;
  strcpy(extra, ": pid ");
  strcat(extra, pidnum);
  strcat(extra, " rule ");
  strcat(extra, rule_verdict_name(c->verdict));
  log_conn(LEVEL_MEDIUM, "connection from", c, extra);
}

static void handle_conn(int fd, const struct sockaddr_storage *peer, socklen_t len, int sub)
{
  struct tcpd_conn c;
  unsigned char key[16];
  memset(&c, 0, sizeof c);
  c.submission = sub;
  if (tcpd_conn_addrs(&c, fd, peer, len) < 0) { warnsys("unable to get the connection's addresses"); close(fd); return; }
  if (!transfermode_inbound(set.mode)) {
    log_conn(LEVEL_MINIMUM, "refused", &c, ": control/transfermode");
    refuse(fd, "421 4.3.2 ", " service not available, try later");
    return;
  }
  c.verdict = rules_match(&set.rules, c.rip);
  if (c.verdict == RULE_REJECT) {
    log_conn(LEVEL_MINIMUM, "refused", &c, ": rejected by control/rules");
    refuse(fd, "521 5.7.1 ", " access denied");
    return;
  }
  tcpd_client_key(key, c.rip, set.prefix);
  if (over_limit(key)) {
    log_conn(LEVEL_MINIMUM, "refused", &c, ": too many connections");
    refuse(fd, "421 4.7.0 ", " too many connections");
    return;
  }
  start_child(fd, &c, key);
}

static void accept_some(const struct tcpd_listener *l)
{
  struct sockaddr_storage peer;
  socklen_t len;
  int i, fd;
  for (i = 0; i < ACCEPT_BURST; i++) {
    len = sizeof peer;
    fd = accept4(l->fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
    if (fd >= 0) { handle_conn(fd, &peer, len, l->submission); continue; }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO || errno == EPERM) continue;
    warnsys("unable to accept a connection (pausing for a second)");
    paused_until = time(0) + 1;              /* EMFILE, ENFILE, ENOBUFS, ENOMEM */
    return;
  }
}

/* ---- the loop */

static void reap(void)
{
  pid_t pid;
  int st;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    int i = pool_find(&pool, pid);
    table_remove(&table, pid);
    if (i >= 0) {
      /* a worker gone before its first session: no new one for a second */
      if (!pool.w[i].uses && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) fill_after = now_ms() + 1000;
      pool_remove(&pool, i);
    }
    if (WIFSIGNALED(st)) {
      char p[FMT_ULONG], s[FMT_ULONG];
      p[fmt_ulong(p, (unsigned long)pid)] = 0;
      s[fmt_ulong(s, (unsigned long)WTERMSIG(st))] = 0;
      warn("child ", p, " killed by signal ", s);
    }
  }
}

/* 1 when TERM arrived */
static int on_selfpipe(void)
{
  int sig, stop = 0, hup = 0;
  while ((sig = selfpipe_next()) != 0) {
    if (sig == SIGHUP) hup = 1;
    else if (sig == SIGTERM || sig == SIGINT) stop = 1;
  }
  reap();
  if (hup) settings_reload();
  return stop;
}

/* what the workers said: idle again (their session's slot freed), or gone */
static void workers_read(const struct pollfd *fds)
{
  int i;
  for (i = (int)pool.n - 1; i >= 0; i--) {
    if (!fds[i].revents || pool.w[i].fd != fds[i].fd) continue;
    if (pool_read(&pool, i, now_ms()) == 1) table_remove(&table, pool.w[i].pid);
  }
}

/* the poll timeout: the next idle worker to retire, the pause, the refill */
static int poll_timeout(int paused)
{
  int t = pool_next_expiry(&pool, now_ms(), set.idle);
  if (paused && (t < 0 || t > 250)) t = 250;
  if (fill_after && (t < 0 || t > 1000)) t = 1000;
  return t;
}

static void serve(void)
{
  static struct pollfd fds[TCPD_MAXLISTEN + 2 + TCPD_MAXCHILD];
  unsigned i, nw;
  for (;;) {
    int paused = paused_until && time(0) < paused_until;
    if (!paused) paused_until = 0;
    if (fill_after && now_ms() >= fill_after) fill_after = 0;
    if (pool_expire(&pool, now_ms(), set.idle)) { /* they exit on EOF; the reaper forgets them */ }
    pool_fill();
    fds[0].fd = sigfd; fds[0].events = POLLIN; fds[0].revents = 0;
    for (i = 0; i < nls; i++) {
      fds[i + 1].fd = paused ? -1 : ls[i].fd;
      fds[i + 1].events = POLLIN;
      fds[i + 1].revents = 0;
    }
    fds[nls + 1].fd = report[0]; fds[nls + 1].events = POLLIN; fds[nls + 1].revents = 0;
    nw = pool.n;
    for (i = 0; i < nw; i++) {
      fds[nls + 2 + i].fd = pool.w[i].fd;
      fds[nls + 2 + i].events = POLLIN;
      fds[nls + 2 + i].revents = 0;
    }
    if (poll(fds, nls + 2 + nw, poll_timeout(paused)) < 0) {
      if (errno == EINTR) continue;
      fatalsys(EX_TEMP, "unable to poll");
    }
    if (fds[nls + 1].revents) report_read();
    workers_read(fds + nls + 2);
    if (fds[0].revents && on_selfpipe()) return;
    for (i = 0; i < nls; i++) if (fds[i + 1].revents) accept_some(&ls[i]);
  }
}

int main(int argc, char **argv)
{
  unsigned i;
  (void)argv;
  diag_prog = "imc-tcpd";
  if (argc > 1) usage("(no arguments; the settings come from the environment)");
  start();
  ready_signal(ready_parse(getenv("IMC_READY_FD")));
  serve();
  for (i = 0; i < nls; i++) close(ls[i].fd);
  tcpd_note("stopped listening; running sessions go on");
  return EX_OK;
}
