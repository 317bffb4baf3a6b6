/*
 * smtp_msg.c -- DATA in an imc-smtpd session: make sure imc-queue runs,
 * answer 354, stream the Received line and the text (through the smtp_data
 * state machine, which sees every octet as it came: dot-unstuffed, LF line
 * ends) into it, then send the envelope and map imc-queue's code to the
 * reply (docs/INTERNALS.md section 4).  One imc-queue -s serves every
 * message of the process (lib/qclient.h, qconn), across its sessions; it
 * is started on the first DATA and again after it died or refused a
 * message for good; smtpd_queue_close ends it when the process ends.
 *
 * Envelope: F the sender, T each recipient, I peer=IP, helo=NAME,
 * proto=SMTP|ESMTP|ESMTPS|ESMTPA|ESMTPSA, auth=USER (after AUTH),
 * filter=drop|turf (control/filter matched the sender; imc-send acts on it),
 * smtputf8=yes (MAIL FROM had SMTPUTF8: the next hop must offer it).
 *
 * Failure modes: imc-queue cannot start (451 4.3.0, before the 354); the
 * text is refused (a long line 500 5.5.2, too big 552 5.3.4: read to the
 * final dot, the message is cancelled so imc-queue writes nothing, one reply);
 * imc-queue fails (its code mapped: 552, 554, 452 4.3.1, 451; 451 4.3.0
 * when it died in the middle of the message); the client goes away or
 * times out in the middle (the session ends, and with the process
 * imc-queue's pipe: it sees EOF inside the message and writes nothing).
 * A bare CR or LF ends the text where it stands: 550 5.6.11, nothing
 * queued, and the session closes, so that nothing after it (a smuggled
 * second transaction) is ever read as a command.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include "date.h"
#include "diag.h"
#include "exitcodes.h"
#include "fileio.h"
#include "log.h"
#include "smtp_data.h"
#include "smtpd.h"
#include "tls.h"
#include "qclient.h"
#include "smtp_check.h"
#include "wipe.h"

/* the one imc-queue of this process */
static struct qconn queue;

void smtpd_queue_close(void)
{
  qconn_close(&queue);
}

/* ---- the Received line */

static void cat_ip(stralloc *r, const char *ip)
{
  if (!str_diffn(ip, "::ffff:", 7) && ip[str_chr(ip, '.')]) ip += 7;
  stralloc_cats(r, ip[str_chr(ip, ':')] ? "[IPv6:" : "[");
  stralloc_cats(r, ip);
  stralloc_cats(r, "]");
}

/* a peer's address, or "uid N" for a local submitter */
static void cat_origin(stralloc *r, const struct session *s)
{
  char uid[FMT_ULONG];
  if (!s->local) { cat_ip(r, s->remoteip); return; }
  uid[fmt_ulong(uid, (unsigned long)getuid())] = 0;
  stralloc_cats(r, "uid ");
  stralloc_cats(r, uid);
}

static void received(const struct session *s, stralloc *r)
{
  char date[DATE_MAX];
  date[date_rfc5322(date, time(0))] = 0;
  r->len = 0;
  stralloc_cats(r, "Received: from ");
  stralloc_cats(r, s->helo);
  stralloc_cats(r, " (");
  cat_origin(r, s);
  stralloc_cats(r, ")\n\tby ");
  stralloc_cats(r, s->cfg.me.s);
  stralloc_cats(r, " (imc) with ");
  stralloc_cats(r, smtpd_proto(s));
  if (s->tls) {
    stralloc_cats(r, " (");
    stralloc_cats(r, tls_version(&s->sio));
    stralloc_cats(r, " cipher ");
    stralloc_cats(r, tls_cipher(&s->sio));
    stralloc_cats(r, ")");
  }
  if (s->nrcpt == 1) {
    stralloc_cats(r, "\n\tfor <");
    stralloc_cats(r, s->rcpts.s);
    stralloc_cats(r, ">");
  }
  stralloc_cats(r, "; ");
  stralloc_cats(r, date);
  stralloc_cats(r, "\n");
}

/* what a DATA leaves behind: the Received line, the envelope, and whether
   a message is under way in imc-queue while the text flows (smtpd_msg_forget) */
static stralloc recv, env;
static int running;

/* ---- the envelope */

static int env_info(stralloc *env, const char *key, const char *val)
{
  char buf[16 + SMTP_ADDR_MAX + 1];
  size_t k = str_len(key), v = str_len(val);
  if (v > SMTP_ADDR_MAX) v = SMTP_ADDR_MAX;
  byte_copy(buf, k, key);
  byte_copy(buf + k, v, val);
  return env_add(env, 'I', buf, k + v);
}

/* who gave the message: the peer's address, or for a local submitter
   (imc-smtpd -l) via=inject and the caller's uid, which imc-queue checks */
static int env_origin(const struct session *s, stralloc *env)
{
  char uid[FMT_ULONG];
  if (!s->local) return env_info(env, "peer=", s->remoteip);
  uid[fmt_ulong(uid, (unsigned long)getuid())] = 0;
  if (env_info(env, "via=", "inject") < 0) return -1;
  return env_info(env, "uid=", uid);
}

static int envelope(const struct session *s, stralloc *env)
{
  static const char *filters[] = { "", "drop", "turf" };
  size_t pos = 0, dpos = 0;
  const char *r, *d;
  env->len = 0;
  if (env_add(env, 'F', s->sender.addr, s->sender.len) < 0) return -1;
  if (s->sender.dsnlen && env_add(env, 'D', s->sender.dsn, s->sender.dsnlen) < 0) return -1;
  while ((r = config_list_next(&s->rcpts, &pos)) != 0) {
    if (env_add(env, 'T', r, str_len(r)) < 0) return -1;
    d = config_list_next(&s->rcpt_dsn, &dpos);
    if (d && *d && env_add(env, 'N', d, str_len(d)) < 0) return -1;
  }
  if (env_origin(s, env) < 0 || env_info(env, "helo=", s->helo) < 0
      || env_info(env, "proto=", smtpd_proto(s)) < 0) return -1;
  if (s->authed && env_info(env, "auth=", s->auth_user) < 0) return -1;
  if (s->filter && env_info(env, "filter=", filters[s->filter]) < 0) return -1;
  if (s->sender.smtputf8 && env_info(env, "smtputf8=", "yes") < 0) return -1;
  return env_finish(env);
}

/* ---- the reply */

static const char *queue_refusal(int code)
{
  if (code == QX_PERM_TOOBIG) return "552 5.3.4 message too big";
  if (code == QX_PERM_LOOP) return "554 5.4.6 too many Received lines: a mail loop";
  if (QX_IS_PERM(code)) return "554 5.5.4 message refused by the queue";
  if (code == QX_TEMP_DISKFREE) return "452 4.3.1 insufficient system storage, try again later";
  if (code == QX_TEMP_CONTROL) return "451 4.3.5 configuration problem, try again later";
  return "451 4.3.0 temporary queue failure, try again later";
}

/* the results of the checks for the log line (smtp_check.c), or empty */
static stralloc checks, top;

static void log_message(struct session *s, const char *id, const struct smtp_data *d, const char *result)
{
  char n[FMT_ULONG], z[FMT_ULONG];
  n[fmt_ulong(n, s->nrcpt)] = 0;
  z[fmt_ulonglong(z, d->bytes)] = 0;
  log_event(LOG_SMTP, LEVEL_MEDIUM, s->remoteip, " id=", id[0] ? id : "-", " mail=<", s->sender.addr,
            "> rcpts=", n, " size=", z, checks.len ? checks.s : "", " result=", result);
}

/* ---- reading the text */

/* every octet the client sends goes through the machine as it came, so the end of
   the data is found by the machine alone (no line reader cuts the text first);
   returns the octets consumed, which stop at the end or at a bare CR or LF */
static void to_queue(const char *b, size_t n)
{
  if (n) qconn_put(&queue, b, n);
}

static size_t text_feed(struct smtp_data *d, const char *b, size_t n)
{
  char out[1024];
  size_t total = 0;
  while (n && !d->done) {
    size_t olen, used = smtp_data_feed(d, b, n < sizeof out ? n : sizeof out, out, &olen);
    if (olen) check_text(out, olen, to_queue);
    b += used;
    n -= used;
    total += used;
  }
  return total;
}

/* the client's next octets of message text (DATA or a BDAT chunk): at least one,
   or the session ends (EOF, a read error, or a limit: the 421 names which) */
void smtpd_text_peek(struct session *s, const char **p, size_t *n)
{
  int r = sio_peek(&s->sio, p, n);
  if (r == 0) { s->dead = 1; smtpd_end(s, "disconnected-in-data"); }
  if (r < 0 && errno == ETIMEDOUT) {
    smtpd_reply(s, "421 4.4.2 ", s->cfg.me.s, " ", limits_timeout_text(s), ", closing connection");
    smtpd_end(s, "timeout-in-data");
  }
  if (r < 0) { s->dead = 1; smtpd_end(s, "read-error-in-data"); }
}

static void text_read(struct session *s, struct smtp_data *d)
{
  const char *p;
  size_t n;
  while (!d->done) {
    smtpd_text_peek(s, &p, &n);
    sio_skip(&s->sio, text_feed(d, p, n));
  }
}

static void text_finish(struct session *s, const struct smtp_data *d)
{
  char id[QID_LEN + 1];
  const char *e = smtp_data_reply(d);
  int code;
  id[0] = 0;
  checks.len = 0;
  if (!e) check_text_end(to_queue);
  if (!e) e = check_verdict(s, &top, &checks);
  if (e || envelope(s, &env) < 0) {
    qconn_end(&queue, 0, id);
    if (!e) e = "451 4.3.0 out of memory, try again later";
    log_message(s, id, d, e);
    smtpd_reply(s, e);
    return;
  }
  code = qconn_end_top(&queue, &top, &env, id);
  if (code == QX_OK) {
    s->msgs++;
    byte_copy(s->last_id, sizeof s->last_id, id);
    log_message(s, id, d, "queued");
    smtpd_reply(s, "250 2.0.0 ok: queued as ", id);
    return;
  }
  e = queue_refusal(code);
  log_message(s, id, d, e);
  smtpd_reply(s, e);
}

/* a message begins in imc-queue: the Received line goes first; -1 (the reply
   given, the transaction reset) when imc-queue cannot take it */
int smtpd_msg_begin(struct session *s, struct smtp_data *d, int chunked)
{
  received(s, &recv);
  if (qconn_begin(&queue) < 0) {
    smtpd_reply(s, "451 4.3.0 unable to queue the message, try again later");
    smtpd_tx_reset(s);
    return -1;
  }
  running = 1;
  qconn_put(&queue, recv.s, recv.len);
  if (chunked) smtp_data_init_chunks(d, s->cfg.databytes, recv.len);
  else smtp_data_init(d, s->cfg.databytes, recv.len);
  check_text_begin(s);
  return 0;
}

size_t smtpd_msg_feed(struct smtp_data *d, const char *b, size_t n)
{
  return text_feed(d, b, n);
}

/* the text is complete (or refused: d->errors): one reply, the transaction reset;
   the chunks of BDAT are closed first (smtp_data_last) */
void smtpd_msg_end(struct session *s, struct smtp_data *d)
{
  char lf[1];
  size_t n;
  if (d->chunked) {
    smtp_data_last(d, lf, &n);
    if (n) check_text(lf, n, to_queue);
  }
  running = 0;
  text_finish(s, d);
  smtpd_tx_reset(s);
}

/* a message under way is given up: imc-queue writes nothing */
void smtpd_msg_cancel(void)
{
  char id[QID_LEN + 1];
  if (running) qconn_end(&queue, 0, id);
  running = 0;
}

void smtpd_data(struct session *s, const struct smtp_cmd *c)
{
  struct smtp_data d;
  if (c->arglen) { smtpd_bad(s, "501 5.5.4 syntax: DATA"); return; }
  if (s->bdat) { smtpd_bad(s, "503 5.5.1 DATA is not allowed after BDAT"); return; }
  if (!s->mail_seen) { smtpd_bad(s, "503 5.5.1 send MAIL first"); return; }
  if (!s->nrcpt) { smtpd_reply(s, "554 5.5.1 no valid recipients"); return; }
  if (smtpd_msg_begin(s, &d, 0) < 0) return;
  smtpd_reply(s, "354 go ahead, end with <CRLF>.<CRLF>");
  smtpd_flush(s);
  text_read(s, &d);
  smtpd_msg_end(s, &d);
  /* what follows a bare CR or LF is never read as a command: the 550 is the last reply */
  if (d.errors & DATA_BARE) smtpd_end(s, "bare-newline-in-data");
}

/* a session of a worker ended (maybe in the middle of DATA): the message
   under way in imc-queue is cancelled, so it writes nothing; the Received
   line and envelope buffers are wiped (qconn wipes the text it sent) */
void smtpd_msg_forget(void)
{
  smtpd_msg_cancel();
  if (recv.s) explicit_bzero(recv.s, recv.a);
  if (env.s) explicit_bzero(env.s, env.a);
  if (top.s) explicit_bzero(top.s, top.a);
  if (checks.s) explicit_bzero(checks.s, checks.a);
  recv.len = env.len = top.len = checks.len = 0;
  check_forget();
}
