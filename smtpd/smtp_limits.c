/*
 * smtp_limits.c -- what keeps one imc-smtpd session from holding its slot
 * (or guessing passwords, or harvesting addresses) for ever:
 *
 *   control/timeoutsession  the whole session: past it, 421 4.4.2 and close
 *   control/mindatarate     during DATA, after control/mindatagrace seconds,
 *                           the client must keep up this many bytes a second:
 *                           the DATA phase may last mindatagrace seconds plus
 *                           one second per mindatarate bytes received
 *   AUTH failures           each one waits 1, 2, 4, 8, 16, 16 ... seconds before
 *                           its 535; with IMC_AUTHFAIL (imc-tcpd's count for the
 *                           client) they reach control/authfailures: 454 4.7.0
 *   refused recipients      past SMTPD_MAX_REFUSED_RCPT, 421 4.7.0 and close
 *   ETRN                    one session a minute per client (IMC_ETRNWAIT);
 *                           the session whose ETRN was accepted may name
 *                           ETRN_DOMAINS domains in all (a provider's
 *                           customer asks for each of its domains)
 *
 * Both deadlines become the sio's deadline, so that no read or write of the
 * session waits past them (sio.h); the DATA one moves with every read
 * (sio's on_read).  AUTH failures and accepted ETRNs are reported to imc-tcpd
 * on IMC_REPORT_FD, one line per event (docs/INTERNALS.md section 11):
 *
 *     authfail ADDRESS\n       etrn ADDRESS\n
 *
 * Inputs: the loaded control files, the environment or imc-tcpd's frame.  Outputs: the sio's
 * deadline, report lines, the verdicts.  Failure modes: a report that
 * cannot be written (no imc-tcpd, a full pipe) is dropped: the per-session
 * limits still apply.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>
#include "control.h"
#include "smtpd.h"

#define AUTH_DELAY_MAX 16             /* seconds: the longest wait after a failure */
#define END_GRACE_MS 10000            /* for the last reply once a deadline passed */
#define ETRN_INTERVAL_MS 60000
#define ETRN_DOMAINS 16               /* domains one session may name with ETRN */

static unsigned long var_ulong(smtpd_getvar get, const char *name, unsigned long def)
{
  const char *v = get(name);
  unsigned long u;
  return v && ctl_scan_ulong(v, &u) ? u : def;
}

static long long min_deadline(long long a, long long b)
{
  if (!a) return b;
  if (!b) return a;
  return a < b ? a : b;
}

/* the end of the DATA phase at the rate so far: 0 when mindatarate is 0 */
static long long data_end(const struct session *s)
{
  const struct session_limits *l = &s->lim;
  if (!l->data_start || !s->cfg.mindatarate) return 0;
  return l->data_start + (long long)s->cfg.mindatagrace * 1000
         + (long long)(l->data_bytes * 1000 / s->cfg.mindatarate);
}

static void set_deadline(struct session *s)
{
  s->sio.deadline = min_deadline(s->lim.session_end, data_end(s));
}

static struct session *of_sio(struct sio *io)
{
  return (struct session *)((char *)io - offsetof(struct session, sio));
}

static void data_read(struct sio *io, size_t n)
{
  struct session *s = of_sio(io);
  s->lim.data_bytes += n;
  set_deadline(s);
}

static const char *env_var(const char *name) { return getenv(name); }

int limits_report_fd(void)
{
  unsigned long fd = var_ulong(env_var, "IMC_REPORT_FD", ~0UL);
  if (fd < 3 || fd > 65535 || fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0) return -1;
  return (int)fd;
}

void limits_init(struct session *s, smtpd_getvar get, int report_fd)
{
  struct session_limits *l = &s->lim;
  unsigned long wait = var_ulong(get, "IMC_ETRNWAIT", 0);
  unsigned long t = s->cfg.timeoutsession;
  long long now = sio_now_ms();
  if (t > 31536000) t = 31536000;
  l->session_end = t ? now + (long long)t * 1000 : 0;
  l->auth_failed_before = var_ulong(get, "IMC_AUTHFAIL", 0);
  l->report_fd = report_fd;
  if (wait > 60) wait = 60;
  l->etrn_after = wait ? now + (long long)wait * 1000 : 0;
  l->etrn_left = 0;
  set_deadline(s);
}

void limits_data_begin(struct session *s)
{
  s->lim.data_start = sio_now_ms();
  s->lim.data_bytes = 0;
  s->sio.on_read = data_read;
  set_deadline(s);
}

void limits_data_end(struct session *s)
{
  s->lim.data_start = 0;
  s->sio.on_read = 0;
  set_deadline(s);
}

const char *limits_timeout_text(const struct session *s)
{
  long long now = sio_now_ms(), d = data_end(s);
  if (s->lim.session_end && now >= s->lim.session_end) return "session time limit reached";
  if (d && now >= d) return "data arriving too slowly";
  return "timeout";
}

void limits_end_grace(struct session *s)
{
  long long now = sio_now_ms();
  if (s->sio.deadline && s->sio.deadline < now + END_GRACE_MS) s->sio.deadline = now + END_GRACE_MS;
}

/* one line to imc-tcpd, in one write (below PIPE_BUF: never interleaved) */
static void report(struct session *s, const char *what)
{
  char line[16 + 64 + 2];
  size_t n = str_len(what), a = str_len(s->remoteip);
  if (s->lim.report_fd < 0 || a > 64) return;
  byte_copy(line, n, what);
  line[n++] = ' ';
  byte_copy(line + n, a, s->remoteip);
  n += a;
  line[n++] = '\n';
  if (write(s->lim.report_fd, line, n) < 0) { /* imc-tcpd is gone or busy: the session's own limits hold */ }
}

int limits_auth_blocked(const struct session *s)
{
  unsigned long max = s->cfg.authfailures;
  return max && s->lim.auth_failed_before + s->lim.auth_failed >= max;
}

void limits_auth_failed(struct session *s)
{
  unsigned n = s->lim.auth_failed++, secs = n >= 4 ? AUTH_DELAY_MAX : 1u << n;
  long long until;
  report(s, "authfail");
  if (s->lim.session_end && s->lim.session_end - sio_now_ms() < (long long)secs * 1000) return;
  until = sio_now_ms() + (long long)secs * 1000;
  for (;;) {
    long long left = until - sio_now_ms();
    if (left <= 0) break;
    poll(0, 0, (int)left);
  }
}

int limits_rcpt_refused(struct session *s)
{
  return ++s->lim.rcpt_refused > SMTPD_MAX_REFUSED_RCPT;
}

int limits_etrn_allowed(const struct session *s)
{
  return s->lim.etrn_left || !s->lim.etrn_after || sio_now_ms() >= s->lim.etrn_after;
}

void limits_etrn_done(struct session *s)
{
  if (s->lim.etrn_left) { s->lim.etrn_left--; return; }
  s->lim.etrn_left = ETRN_DOMAINS - 1;
  s->lim.etrn_after = sio_now_ms() + ETRN_INTERVAL_MS;
  report(s, "etrn");
}
