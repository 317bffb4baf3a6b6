/*
 * tcpd_child.c -- one connection's child: its environment and its spawn
 * (see tcpd.h).
 *
 * Inputs: the accepted socket, the client's and our addresses, the rule's
 * verdict.  Output: the per-connection program (imc-smtpd) running with
 * the socket as fds 0 and 1 (blocking, not close-on-exec; fd 2 stays the
 * log), default signal dispositions and an empty signal mask, and the
 * environment of imc-tcpd plus, UCSPI style:
 *
 *     PROTO=TCP
 *     TCPREMOTEIP=192.0.2.1        (IPv6 in standard text; an IPv4-mapped
 *     TCPREMOTEPORT=50123           client is shown as plain IPv4)
 *     TCPLOCALIP=192.0.2.25
 *     TCPLOCALPORT=25
 *     IMC_RULE=accept|relay|auth|tls|tlsauth   the control/rules verdict
 *     IMC_SUBMISSION=1             only on the submission port
 *     IMC_REPORT_FD=N              the report pipe's write end (inherited)
 *     IMC_AUTHFAIL=N               the client's AUTH failures in the window, when any
 *     IMC_ETRNWAIT=N               seconds until the client may ETRN, when any
 *
 * Any of these already in imc-tcpd's environment (and IMC_READY_FD and
 * IMC_WORKER) is left out.
 *
 * A worker of the pool (worker_spawn) gets the inherited environment with
 * IMC_WORKER=1 and IMC_REPORT_FD, its end of the socketpair as fd 0, and
 * each connection later with the frame of tcpd_frame (lib/handoff.h):
 * the same variables, sent with the socket instead of in the environment.  Spawning is posix_spawn (vfork-like: no copy of the parent).
 * Failure modes: -1 with errno (ENOMEM, or what posix_spawn reports, e.g.
 * ENOENT when the program is missing).
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "fileio.h"
#include "handoff.h"
#include "rules.h"
#include "tcpd.h"

#define NVARS 10

static char **base;           /* the inherited environment, filtered, with NVARS free slots */
static size_t nbase;

static const char *const ours[] = { "PROTO", "TCPREMOTEIP", "TCPREMOTEPORT", "TCPLOCALIP",
  "TCPLOCALPORT", "TCPREMOTEHOST", "TCPLOCALHOST", "TCPREMOTEINFO", "IMC_RULE",
  "IMC_SUBMISSION", "IMC_READY_FD", "IMC_REPORT_FD", "IMC_AUTHFAIL", "IMC_ETRNWAIT", "IMC_WORKER", 0 };

static int is_ours(const char *var)
{
  int i;
  for (i = 0; ours[i]; i++) {
    size_t n = strlen(ours[i]);
    if (!strncmp(var, ours[i], n) && var[n] == '=') return 1;
  }
  return 0;
}

int child_env_init(char **env)
{
  size_t n = 0, i;
  while (env && env[n]) n++;
  free(base);
  base = malloc((n + NVARS + 1) * sizeof *base);
  if (!base) { errno = ENOMEM; return -1; }
  for (nbase = 0, i = 0; i < n; i++) if (!is_ours(env[i])) base[nbase++] = env[i];
  base[nbase] = 0;
  return 0;
}

static void var(char *out, const char *name, const char *value)
{
  size_t n = strlen(name), v = strlen(value);
  if (n + v + 2 > 80) v = 80 - n - 2;
  memcpy(out, name, n);
  out[n] = '=';
  memcpy(out + n + 1, value, v);
  out[n + 1 + v] = 0;
}

static void var_ulong(char *out, const char *name, unsigned long u)
{
  char num[FMT_ULONG];
  num[fmt_ulong(num, u)] = 0;
  var(out, name, num);
}

size_t child_env_vars(char vars[][80], const struct tcpd_conn *c)
{
  char ip[IP_FMT];
  size_t n = 0;
  var(vars[n++], "PROTO", "TCP");
  ip_format(ip, c->rip);
  var(vars[n++], "TCPREMOTEIP", ip);
  var_ulong(vars[n++], "TCPREMOTEPORT", c->rport);
  ip_format(ip, c->lip);
  var(vars[n++], "TCPLOCALIP", ip);
  var_ulong(vars[n++], "TCPLOCALPORT", c->lport);
  var(vars[n++], "IMC_RULE", rule_verdict_name(c->verdict));
  if (c->submission) var(vars[n++], "IMC_SUBMISSION", "1");
  if (c->report_fd > 2) var_ulong(vars[n++], "IMC_REPORT_FD", (unsigned long)c->report_fd);
  if (c->authfail) var_ulong(vars[n++], "IMC_AUTHFAIL", c->authfail);
  if (c->etrnwait) var_ulong(vars[n++], "IMC_ETRNWAIT", c->etrnwait);
  return n;
}

static void sa_unpack(const struct sockaddr_storage *ss, unsigned char ip[16], unsigned *port)
{
  static const unsigned char v4prefix[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
    memcpy(ip, v4prefix, 12);
    memcpy(ip + 12, &s->sin_addr, 4);
    *port = ntohs(s->sin_port);
  } else {
    const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
    memcpy(ip, &s->sin6_addr, 16);
    *port = ntohs(s->sin6_port);
  }
}

int tcpd_conn_addrs(struct tcpd_conn *c, int fd, const void *peer, unsigned peerlen)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  memcpy(&ss, peer, peerlen < sizeof ss ? peerlen : sizeof ss);
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) { errno = EAFNOSUPPORT; return -1; }
  sa_unpack(&ss, c->rip, &c->rport);
  memset(&ss, 0, sizeof ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return -1;
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) { errno = EAFNOSUPPORT; return -1; }
  sa_unpack(&ss, c->lip, &c->lport);
  return 0;
}

static int spawn_attr(posix_spawnattr_t *a)
{
  static const int sigs[] = { SIGPIPE, SIGHUP, SIGTERM, SIGINT, SIGCHLD, SIGALRM, 0 };
  sigset_t def, none;
  int i;
  sigemptyset(&def);
  sigemptyset(&none);
  for (i = 0; sigs[i]; i++) sigaddset(&def, sigs[i]);
  if (posix_spawnattr_init(a)) return -1;
  if (posix_spawnattr_setsigdefault(a, &def) || posix_spawnattr_setsigmask(a, &none)
      || posix_spawnattr_setflags(a, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)) {
    posix_spawnattr_destroy(a);
    return -1;
  }
  return 0;
}

int child_spawn(pid_t *pid, const char *path, int fd, const struct tcpd_conn *c)
{
  static char vars[NVARS][80];
  char *argv[2];
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  size_t n = child_env_vars(vars, c), i;
  int r;
  if (!base) { errno = ENOMEM; return -1; }
  for (i = 0; i < n; i++) base[nbase + i] = vars[i];
  base[nbase + n] = 0;
  if (fd_blocking(fd) < 0) return -1;
  if (spawn_attr(&attr) < 0) { errno = ENOMEM; return -1; }
  if (posix_spawn_file_actions_init(&fa)) { posix_spawnattr_destroy(&attr); errno = ENOMEM; return -1; }
  argv[0] = (char *)path;
  argv[1] = 0;
  r = posix_spawn_file_actions_adddup2(&fa, fd, 0) || posix_spawn_file_actions_adddup2(&fa, fd, 1)
      ? ENOMEM : posix_spawn(pid, path, &fa, &attr, argv, base);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  base[nbase] = 0;
  if (r) { errno = r; return -1; }
  return 0;
}

/* ---- a worker of the pool */

int worker_spawn(pid_t *pid, const char *path, int sock, int report_fd)
{
  static char vars[2][80];
  char *argv[2];
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  int r;
  if (!base) { errno = ENOMEM; return -1; }
  var(vars[0], "IMC_WORKER", "1");
  base[nbase] = vars[0];
  base[nbase + 1] = 0;
  if (report_fd > 2) {
    var_ulong(vars[1], "IMC_REPORT_FD", (unsigned long)report_fd);
    base[nbase + 1] = vars[1];
    base[nbase + 2] = 0;
  }
  if (spawn_attr(&attr) < 0) { errno = ENOMEM; return -1; }
  if (posix_spawn_file_actions_init(&fa)) { posix_spawnattr_destroy(&attr); errno = ENOMEM; return -1; }
  argv[0] = (char *)path;
  argv[1] = 0;
  r = posix_spawn_file_actions_adddup2(&fa, sock, 0) ? ENOMEM : posix_spawn(pid, path, &fa, &attr, argv, base);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  base[nbase] = 0;
  if (r) { errno = r; return -1; }
  return 0;
}

/* the frame of lib/handoff.h, with the variables a per-connection child gets */
size_t tcpd_frame(char frame[], const struct tcpd_conn *c)
{
  char ip[IP_FMT], num[FMT_ULONG];
  size_t n = handoff_start(frame);
  ip_format(ip, c->rip);
  n = handoff_add(frame, n, HF_REMOTEIP, ip);
  num[fmt_ulong(num, c->rport)] = 0;
  if (n) n = handoff_add(frame, n, HF_REMOTEPORT, num);
  ip_format(ip, c->lip);
  if (n) n = handoff_add(frame, n, HF_LOCALIP, ip);
  num[fmt_ulong(num, c->lport)] = 0;
  if (n) n = handoff_add(frame, n, HF_LOCALPORT, num);
  if (n) n = handoff_add(frame, n, HF_RULE, rule_verdict_name(c->verdict));
  if (n && c->submission) n = handoff_add(frame, n, HF_SUBMISSION, "1");
  num[fmt_ulong(num, c->authfail)] = 0;
  if (n && c->authfail) n = handoff_add(frame, n, HF_AUTHFAIL, num);
  num[fmt_ulong(num, c->etrnwait)] = 0;
  if (n && c->etrnwait) n = handoff_add(frame, n, HF_ETRNWAIT, num);
  return n;
}
