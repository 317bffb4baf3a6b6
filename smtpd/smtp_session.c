/*
 * smtp_session.c -- the command loop of an imc-smtpd session: the
 * greeting (with the early-talker check), reading and dispatching command
 * lines, replies and their flushing, the bad-command limit, the log line
 * at the end, and the commands that need no module of their own (EHLO,
 * HELO, RSET, NOOP, QUIT, HELP, VRFY, EXPN).
 *
 * Inputs: command lines on the session's sio (any bytes; lines over
 * SMTP_CMD_MAX octets are refused; a line that ends in a bare LF or holds
 * a bare CR gets 500 5.5.2 and the session closes, nothing after it read).
 * Outputs: replies, buffered and flushed whenever no pipelined input is
 * waiting.  Failure modes: EOF, a read or
 * write error or the idle timeout (421 4.4.2) end the session; so does
 * the SMTPD_MAX_BAD-th bad command (421 4.7.0).  At the end the session
 * shuts its output down and drains the client's input for up to a second,
 * so that the last reply (421, 554) is not lost to a TCP reset.  Then the
 * process exits, or a worker goes back to its loop (smtpd_leave).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <unistd.h>
#include "log.h"
#include "smtpd.h"
#include "tls.h"

/* ---- replies and the end */

void smtpd_replyl(struct session *s, ...)
{
  char buf[2 + SMTPD_REPLY_MAX];             /* "> " for the transcript, then the reply */
  size_t pos = 2;
  const char *p;
  va_list ap;
  buf[0] = '>';
  buf[1] = ' ';
  va_start(ap, s);
  while ((p = va_arg(ap, const char *)) != 0)
    while (*p && pos < sizeof buf) buf[pos++] = *p++;
  va_end(ap);
  log_outb(LOG_PROTOCOL, LEVEL_MAXIMUM, s->tag, buf, pos);
  sio_put(&s->sio, buf + 2, pos - 2);
  sio_put(&s->sio, "\r\n", 2);
}

void smtpd_log_in(struct session *s, const char *text, size_t len)
{
  char buf[LOG_LINE_MAX];
  size_t n = len < sizeof buf - 2 ? len : sizeof buf - 2;
  buf[0] = '<';
  buf[1] = ' ';
  byte_copy(buf + 2, n, text);
  log_outb(LOG_PROTOCOL, LEVEL_MAXIMUM, s->tag, buf, n + 2);
}

int smtpd_flush(struct session *s)
{
  if (sio_flush(&s->sio) == 0) return 0;
  if (errno == ETIMEDOUT) {
    /* a deadline passed before the replies went out (a command read just in
       time): they go, with the 421, in smtpd_end's few seconds of grace */
    smtpd_reply(s, "421 4.4.2 ", s->cfg.me.s, " ", limits_timeout_text(s), ", closing connection");
    smtpd_end(s, "timeout");
  }
  s->dead = 1;
  smtpd_end(s, "write-error");
}

/* the last reply must reach the client: closing with its unread input still
   queued would send a reset that can destroy the reply in flight.  So: no more
   output, then read and drop what it sends, for a second at most, until it closes. */
static void linger(struct session *s)
{
  char buf[4096];
  struct pollfd p;
  int i;
  shutdown(s->sio.wfd, SHUT_WR);
  for (i = 0; i < 5; i++) {
    p.fd = s->sio.rfd;
    p.events = POLLIN;
    if (poll(&p, 1, 200) <= 0 || read(s->sio.rfd, buf, sizeof buf) <= 0) return;
  }
}

/* a timeout's result in the log line names the limit that passed */
static const char *end_result(const struct session *s, const char *result)
{
  const char *t;
  if (str_diffn(result, "timeout", 7)) return result;
  t = limits_timeout_text(s);
  if (t[0] == 's') return "session-time-limit";
  if (t[0] == 'd') return "data-rate-too-low";
  return result;
}

static sigjmp_buf *end_jump;

void smtpd_end_jump(sigjmp_buf *j) { end_jump = j; }

void smtpd_leave(int code)
{
  if (end_jump) siglongjmp(*end_jump, 1);
  smtpd_queue_close();
  _exit(code);
}

void smtpd_end(struct session *s, const char *result)
{
  char n1[FMT_ULONG], n2[FMT_ULONG];
  result = end_result(s, result);
  limits_end_grace(s);
  n1[fmt_ulong(n1, s->last_rcpts)] = 0;
  n2[fmt_ulong(n2, s->msgs)] = 0;
  log_event(LOG_SMTP, LEVEL_MINIMUM, s->remoteip, " helo=", s->helo[0] ? s->helo : "-",
            " mail=<", s->last_mail, ">", s->last_id[0] ? " id=" : "", s->last_id, " rcpts=", n1, " msgs=", n2, s->tls ? " tls" : "",
            s->authed ? " auth=" : "", s->authed ? s->auth_user : "", " result=", result);
  if (!s->dead) {
    sio_flush(&s->sio);
    if (s->tls) tls_close(&s->sio);
    linger(s);
  }
  smtpd_leave(0);
}

void smtpd_bad(struct session *s, const char *text)
{
  if (++s->bad >= SMTPD_MAX_BAD) {
    smtpd_reply(s, "421 4.7.0 ", s->cfg.me.s, " too many errors, closing connection");
    smtpd_end(s, "too-many-errors");
  }
  smtpd_reply(s, text);
}

int smtpd_getline(struct session *s, int *crlf)
{
  int r;
  if (!sio_pending(&s->sio)) smtpd_flush(s);
  r = sio_getline(&s->sio, &s->line, SMTP_CMD_MAX - 2, crlf);
  if ((r == 1 || r == -2) && smtp_line_bare(s->line.s, s->line.len, *crlf)) {
    /* not logged as it came: it may be an AUTH response */
    smtpd_log_in(s, "[a line with a bare CR or LF]", 29);
    smtpd_reply(s, SMTP_BARE_REPLY);
    smtpd_end(s, "bare-newline-in-command");
  }
  if (r == -2) return -2;
  if (r == 0) { s->dead = 1; smtpd_end(s, "disconnected"); }
  if (r < 0 && errno == ETIMEDOUT) {
    smtpd_reply(s, "421 4.4.2 ", s->cfg.me.s, " ", limits_timeout_text(s), ", closing connection");
    smtpd_end(s, "timeout");
  }
  if (r < 0) { s->dead = 1; smtpd_end(s, "read-error"); }
  if (s->line.len + 2 > SMTP_CMD_MAX) return -2;
  return 1;
}

void smtpd_tx_reset(struct session *s)
{
  if (s->bdat) smtpd_msg_cancel();
  s->bdat = 0;
  s->mail_seen = 0;
  s->rcpts.len = 0;
  s->rcpt_dsn.len = 0;
  s->nrcpt = 0;
  s->filter = FILTER_NONE;
  s->sender.len = 0;
  s->sender.dsnlen = 0;
  s->sender.addr[0] = 0;
  s->sender.utf8 = s->sender.smtputf8 = 0;
}

unsigned long smtpd_maxrcpt(const struct session *s)
{
  unsigned long m = s->cfg.maxrcpt;
  return m && m < SMTPD_RCPT_HARDMAX ? m : SMTPD_RCPT_HARDMAX;
}

/* RFC 3848, and RFC 6531 3.7.3 for a transaction with SMTPUTF8 */
const char *smtpd_proto(const struct session *s)
{
  int u = s->sender.smtputf8;
  if (!s->esmtp && !s->tls && !s->authed) return "SMTP";
  if (s->tls) return s->authed ? (u ? "UTF8SMTPSA" : "ESMTPSA") : (u ? "UTF8SMTPS" : "ESMTPS");
  return s->authed ? (u ? "UTF8SMTPA" : "ESMTPA") : (u ? "UTF8SMTP" : "ESMTP");
}

/* ---- the greeting */

static void greet(struct session *s)
{
  unsigned long d = s->cfg.greetdelay;
  int r = 0;
  if (s->local) d = 0;             /* a local submitter may pipe its commands in */
  if (d) r = sio_wait_readable(&s->sio, d > 600 ? 600000 : (unsigned)d * 1000);
  if (r == 0 && !s->local) r = sio_wait_readable(&s->sio, 0);
  if (r == 1) {
    smtpd_reply(s, "554 5.5.0 ", s->cfg.me.s, " input before the greeting: early talker refused");
    smtpd_end(s, "early-talker");
  }
  smtpd_reply(s, "220 ", s->cfg.me.s, " ESMTP imc");
}

/* ---- simple commands */

static void ehlo_reply(struct session *s)
{
  char size[FMT_ULONG];
  size[fmt_ulong(size, s->cfg.databytes)] = 0;
  smtpd_reply(s, "250-", s->cfg.me.s, " hello ", s->helo, " [", s->remoteip, "]");
  smtpd_reply(s, "250-PIPELINING");
  smtpd_reply(s, "250-CHUNKING");
  smtpd_reply(s, "250-SMTPUTF8");
  smtpd_reply(s, "250-SIZE", s->cfg.databytes ? " " : "", s->cfg.databytes ? size : "");
  smtpd_reply(s, "250-8BITMIME");
  smtpd_reply(s, "250-ENHANCEDSTATUSCODES");
  smtpd_reply(s, "250-ETRN");
  smtpd_reply(s, "250-DSN");
  if (s->creds && !s->tls) smtpd_reply(s, "250-STARTTLS");
  if (smtpd_auth_offered(s)) smtpd_reply(s, "250-AUTH PLAIN LOGIN");
  smtpd_reply(s, "250 HELP");
}

static void cmd_helo(struct session *s, const struct smtp_cmd *c)
{
  if (!smtp_helo_valid(c->arg, c->arglen)) {
    smtpd_bad(s, c->verb == V_EHLO ? "501 5.5.4 syntax: EHLO hostname" : "501 5.5.4 syntax: HELO hostname");
    return;
  }
  smtpd_tx_reset(s);
  byte_copy(s->helo, c->arglen, c->arg);
  s->helo[c->arglen] = 0;
  s->helo_seen = 1;
  s->esmtp = c->verb == V_EHLO;
  if (s->esmtp) ehlo_reply(s);
  else smtpd_reply(s, "250 ", s->cfg.me.s);
}

static void cmd_simple(struct session *s, const struct smtp_cmd *c)
{
  switch (c->verb) {
  case V_RSET:
    if (c->arglen) { smtpd_bad(s, "501 5.5.4 syntax: RSET"); return; }
    smtpd_tx_reset(s);
    smtpd_reply(s, "250 2.0.0 ok");
    return;
  case V_NOOP: smtpd_reply(s, "250 2.0.0 ok"); return;
  case V_QUIT:
    smtpd_reply(s, "221 2.0.0 ", s->cfg.me.s, " closing connection");
    smtpd_end(s, "quit");
  case V_HELP:
    smtpd_reply(s, "214 2.0.0 commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT HELP VRFY EXPN STARTTLS AUTH ETRN BDAT");
    return;
  case V_VRFY:
    if (!c->arglen) { smtpd_bad(s, "501 5.5.4 syntax: VRFY address"); return; }
    smtpd_reply(s, "252 2.5.0 cannot VRFY a user, but will accept mail and attempt delivery");
    return;
  case V_EXPN: smtpd_reply(s, "502 5.5.1 EXPN is not available"); return;
  }
}

static void dispatch(struct session *s, const struct smtp_cmd *c)
{
  switch (c->verb) {
  case V_HELO: case V_EHLO: cmd_helo(s, c); return;
  case V_MAIL: smtpd_mail(s, c); return;
  case V_RCPT: smtpd_rcpt(s, c); return;
  case V_DATA: limits_data_begin(s); smtpd_data(s, c); limits_data_end(s); return;
  case V_STARTTLS: smtpd_starttls(s, c); return;
  case V_AUTH: smtpd_auth(s, c); return;
  case V_ETRN: smtpd_etrn(s, c); return;
  case V_BDAT: smtpd_bdat(s, c); return;
  case V_RSET: case V_NOOP: case V_QUIT: case V_HELP: case V_VRFY: case V_EXPN: cmd_simple(s, c); return;
  default: smtpd_bad(s, "500 5.5.1 command not recognized");
  }
}

/* the command line in the transcript, with what follows "AUTH MECHANISM" masked
   (also when the line did not parse: it may still hold a secret) */
static void log_command(struct session *s)
{
  const char *l = s->line.s;
  size_t len = s->line.len, mech;
  char buf[64 + 8];
  if (!log_enabled(LOG_PROTOCOL, LEVEL_MAXIMUM)) return;
  if (len < 5 || case_diffb(l, 5, "AUTH ")) { smtpd_log_in(s, l, len); return; }
  mech = 5;
  while (mech < len && l[mech] == ' ') mech++;
  while (mech < len && l[mech] != ' ') mech++;
  if (mech == len) { smtpd_log_in(s, l, len); return; }
  if (mech > 64) mech = 64;
  byte_copy(buf, mech, l);
  byte_copy(buf + mech, 5, " ****");
  smtpd_log_in(s, buf, mech + 5);
}

void smtpd_run(struct session *s)
{
  struct smtp_cmd c;
  int crlf;
  greet(s);
  for (;;) {
    const char *e;
    if (smtpd_getline(s, &crlf) == -2) {
      smtpd_log_in(s, "[a line over 512 octets]", 24);
      smtpd_bad(s, "500 5.5.2 line too long");
      continue;
    }
    log_command(s);
    e = smtp_cmd_parse(s->line.s, s->line.len, &c);
    if (e) smtpd_bad(s, e);
    else dispatch(s, &c);
  }
}
