/*
 * session.c -- one SMTP client session of imc-remote, up to the point
 * where MAIL may be sent (see remote.h): connect, greeting, EHLO (HELO
 * when EHLO is refused with 5xx), STARTTLS by the destination's tls=
 * setting and AUTH (both in sess_tls.c); RSET between messages; QUIT.
 *
 * Inputs: the target address, the destination's TLS mode and credentials,
 * control/me, timeoutconnect, timeoutremote (each read) and the message's
 * transfer deadline.  Output: a ready session, or a failure code with the
 * text for the reports in s->why, the connection then closed:
 *   SESS_NOCONN   the connection failed (errno kept in why's text)
 *   SESS_HOST     the host refused (4xx/5xx greeting or EHLO), TLS was
 *                 required and missing, AUTH impossible: try the next host
 *   SESS_TLSFAIL  the TLS handshake failed under tls=may: retry in plain
 *   SESS_PERM     AUTH was refused with 535: every recipient fails
 *   SESS_LOOP     the greeting or the EHLO reply names control/me: the
 *                 host is this gateway (5.4.6 mail for DOMAIN loops back
 *                 to myself), every recipient fails
 * Failure modes: a reply line over REPLY_LINE_MAX, a malformed or overlong
 * reply, EOF, a read or write error or a timeout make the connection lost.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "diag.h"
#include "log.h"
#include "remote.h"
#include "rules.h"
#include "tls.h"

unsigned long sess_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long)ts.tv_sec;
}

/* a line of category transfer at LEVEL (log.h folds and escapes the text).
   minimum: nothing but errors; medium: connections, TLS, AUTH, each
   recipient's result; maximum: the addresses found for the destination */
void rlog(const struct config *c, int level, ...)
{
  va_list ap;
  if (!config_logging(c, LOG_TRANSFER, level)) return;
  va_start(ap, level);
  log_va(LOG_TRANSFER, ap);
  va_end(ap);
}

/* the transcript at loglevel protocol maximum; control characters as '?' */
static void log_proto(const struct session *s, const char *dir, const char *b, size_t len)
{
  char buf[REPLY_LINE_MAX + 1];
  size_t i;
  if (!config_logging(s->cfg, LOG_PROTOCOL, LEVEL_MAXIMUM)) return;
  if (len > REPLY_LINE_MAX) len = REPLY_LINE_MAX;
  for (i = 0; i < len; i++) buf[i] = (unsigned char)b[i] < 32 || b[i] == 127 ? '?' : b[i];
  buf[len] = 0;
  log_always(LOG_PROTOCOL, s->desc, dir, buf);
}

/* ---- the reasons given in the reports */

static int why_cat(struct session *s, const char *a, const char *b, const char *c)
{
  if (s->closing) return 0;          /* QUIT's troubles never hide the reason */
  if (!stralloc_copys(&s->why, s->desc) || !stralloc_cats(&s->why, ": ") || !stralloc_cats(&s->why, a)
      || !stralloc_cats(&s->why, b) || !stralloc_cats(&s->why, c) || !stralloc_0(&s->why)) {
    s->why.len = 0;                    /* out of memory: an empty text, the reports say their kind */
    if (s->why.s) s->why.s[0] = 0;
    return -1;
  }
  s->why.len--;
  return 0;
}

int sess_why(struct session *s, const char *text) { return why_cat(s, text, "", ""); }

int sess_why_reply(struct session *s, const char *prefix)
{
  if (reply_summary(&s->reply, &s->tmp) < 0) return why_cat(s, prefix, "(reply lost: out of memory)", "");
  return why_cat(s, prefix, s->tmp.s, "");
}

void sess_lost(struct session *s, const char *what)
{
  int e = errno;
  if (s->closing) return;
  why_cat(s, "4.4.2 connection lost", what, e ? ": " : ": closed by the server");
  if (e && stralloc_cats(&s->why, strerror(e)) && stralloc_0(&s->why)) s->why.len--;
}

/* ---- commands and replies */

void sess_set_timeout(struct session *s)
{
  unsigned long t = s->cfg->timeoutremote, now = sess_now();
  if (s->deadline) {
    unsigned long left = s->deadline > now ? s->deadline - now : 1;
    if (!t || left < t) t = left;
  }
  s->io.timeout = t ? (unsigned)t : 0;
}

static int deadline_passed(const struct session *s)
{
  return s->deadline && sess_now() >= s->deadline;
}

int sess_cmd(struct session *s, const char *cmd, size_t len, int flush)
{
  if (s->logas) log_proto(s, " > ", s->logas, strlen(s->logas));
  else log_proto(s, " > ", cmd, len);
  sess_set_timeout(s);
  if (sio_put(&s->io, cmd, len) < 0 || sio_put(&s->io, "\r\n", 2) < 0 || (flush && sio_flush(&s->io) < 0)) {
    sess_lost(s, " (sending)");
    return -1;
  }
  return 0;
}

/* one reply line into s->line: 0, or -1 with errno (0: EOF) */
static int reply_getline(struct session *s)
{
  int r;
  if (deadline_passed(s)) { errno = ETIMEDOUT; return -1; }
  sess_set_timeout(s);
  r = sio_getline(&s->io, &s->line, REPLY_LINE_MAX, 0);
  if (r == 1) return 0;
  if (r == 0) errno = 0;
  if (r == -2) errno = EMSGSIZE;
  return -1;
}

int sess_reply(struct session *s)
{
  reply_init(&s->reply);
  if (sio_flush(&s->io) < 0) { sess_lost(s, " (sending)"); return -1; }
  for (;;) {
    int r;
    if (reply_getline(s) < 0) { sess_lost(s, ""); return -1; }
    log_proto(s, " < ", s->line.s, s->line.len);
    r = reply_line(&s->reply, s->line.s, s->line.len);
    if (r == 1) return 0;
    if (r < 0) { errno = EPROTO; sess_lost(s, " (malformed reply)"); return -1; }
  }
}

/* a command and its reply: the reply code, or -1 lost */
static int sess_ask(struct session *s, const char *cmd)
{
  if (sess_cmd(s, cmd, strlen(cmd), 1) < 0 || sess_reply(s) < 0) return -1;
  return s->reply.code;
}

int sess_rset(struct session *s)
{
  int code = sess_ask(s, "RSET");
  if (code == 250) return 0;
  if (code > 0) sess_why_reply(s, "RSET refused: ");
  return -1;
}

/* ---- opening */

static void set_desc(struct session *s, const struct target *t)
{
  char ip[IP_FMT];
  size_t hn = strlen(t->host), in;
  ip_format(ip, (const unsigned char *)t->ip);
  in = strlen(ip);
  if (t->literal) { memcpy(s->desc, t->host, hn + 1); return; }
  memcpy(s->desc, t->host, hn);
  memcpy(s->desc + hn, " [", 2);
  memcpy(s->desc + hn + 2, ip, in);
  memcpy(s->desc + hn + 2 + in, "]", 2);
}

/* EHLO, or HELO when EHLO gets 5xx: 0, or a SESS_ code */
int sess_ehlo(struct session *s)
{
  stralloc *c = &s->tmp;
  int code;
  memset(&s->ehlo, 0, sizeof s->ehlo);
  if (!stralloc_copys(c, "EHLO ") || !stralloc_cat(c, &s->cfg->me) || !stralloc_0(c)) return SESS_LOST;
  if ((code = sess_ask(s, c->s)) < 0) return SESS_LOST;
  if (code == 250) { ehlo_parse(&s->reply, &s->ehlo); return SESS_OK; }
  if (code / 100 == 5) {
    memcpy(c->s, "HELO", 4);
    if ((code = sess_ask(s, c->s)) < 0) return SESS_LOST;
    if (code == 250) return SESS_OK;
  }
  sess_why_reply(s, code / 100 == 5 ? "HELO refused: " : "EHLO refused: ");
  return SESS_HOST;
}

/* does the first line of the reply (greeting or EHLO) start with control/me? */
static int names_me(const struct session *s)
{
  const stralloc *me = &s->cfg->me;
  const char *t = s->reply.text.s;
  size_t n = 0;
  if (!t || !me->len || !s->reply.text.len) return 0;
  while (t[n] && t[n] != ' ') n++;
  return n == me->len && !case_diffb(t, n, me->s);
}

/* SESS_LOOP with why = "desc: 5.4.6 mail for DOMAIN loops back to myself" */
static int loop_found(struct session *s)
{
  why_cat(s, "5.4.6 mail for ", s->domain ? s->domain : "this domain", " loops back to myself");
  return SESS_LOOP;
}

static int open_fail(struct session *s, int rc)
{
  if (rc == SESS_LOST) { sess_abort(s); return SESS_HOST; }
  if (rc == SESS_TLSFAIL) sess_abort(s);
  else sess_close(s);
  return rc;
}

int sess_open(struct session *s, const struct target *t, int notls)
{
  int rc;
  s->t = t;
  set_desc(s, t);
  s->tls = 0;
  s->verified = 0;
  s->msgs = 0;
  s->reset = 0;
  s->deadline = 0;
  s->fd = tcp_connect(t->ip, t->port, (unsigned)s->cfg->timeoutconnect);
  if (s->fd < 0) {
    s->connerr = errno;
    why_cat(s, "4.4.1 ", strerror(s->connerr), "");
    return SESS_NOCONN;
  }
  sio_init(&s->io, s->fd, s->fd, (unsigned)s->cfg->timeoutremote);
  rlog(s->cfg, LEVEL_MEDIUM, "connected to ", s->desc, (const char *)0);
  if (sess_reply(s) < 0) return open_fail(s, SESS_LOST);
  if (s->reply.code / 100 != 2) { sess_why_reply(s, ""); return open_fail(s, SESS_HOST); }
  if (names_me(s)) return open_fail(s, loop_found(s));
  if ((rc = sess_ehlo(s)) != SESS_OK) return open_fail(s, rc);
  if (names_me(s)) return open_fail(s, loop_found(s));
  if ((rc = sess_tls(s, notls)) != SESS_OK) return open_fail(s, rc);
  if ((rc = sess_auth(s)) != SESS_OK) return open_fail(s, rc);
  return SESS_OK;
}

/* ---- closing */

/* a kept connection the server said something on (a 421, EOF) while it was idle is
   of no use: closed at once */
int sess_usable(struct session *s)
{
  struct pollfd p;
  p.fd = s->fd;
  p.events = POLLIN;
  p.revents = 0;
  if (poll(&p, 1, 0) == 0) return 1;
  rlog(s->cfg, LEVEL_MEDIUM, s->desc, ": the kept connection was closed by the server", (const char *)0);
  sess_abort(s);
  return 0;
}

void sess_abort(struct session *s)
{
  if (s->fd < 0) return;
  sio_free(&s->io);          /* also drops a TLS session without close_notify */
  close(s->fd);
  s->fd = -1;
  s->tls = 0;
  s->verified = 0;
}

void sess_close(struct session *s)
{
  if (s->fd < 0) return;
  s->deadline = sess_now() + 10;       /* QUIT's reply is not worth waiting long for */
  s->closing = 1;
  if (sess_cmd(s, "QUIT", 4, 1) == 0) sess_reply(s);
  if (s->tls) tls_close(&s->io);
  s->closing = 0;
  sess_abort(s);
}
