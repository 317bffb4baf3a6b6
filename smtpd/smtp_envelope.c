/*
 * smtp_envelope.c -- the envelope commands of an imc-smtpd session: MAIL
 * FROM (SIZE against control/databytes, the authenticated user's own
 * addresses, control/filter), RCPT TO (control/maxrcpt and the recipient
 * policy of smtp_policy.c) and ETRN (a request to imc-send on
 * queue/trigger).
 *
 * Inputs: parsed commands.  Outputs: replies; the transaction's sender and
 * recipients in the session (at most smtpd_maxrcpt addresses: bounded).
 * Failure modes: directory errors give 451 4.3.0 (the client retries); a
 * trigger nobody reads gives 458.  Addresses imc-remote's job line cannot
 * carry (addr_carried: e.g. "a>b"@example.org) are refused, 553 5.1.7 at
 * MAIL and 553 5.1.3 at RCPT, rather than accepted and never delivered.
 * An address with UTF-8 needs MAIL FROM's SMTPUTF8 parameter (RFC 6531):
 * without it, 553 5.6.7, at MAIL for the sender and at RCPT for each
 * recipient.
 * Past SMTPD_MAX_REFUSED_RCPT refused recipients the session ends (421
 * 4.7.0: directory harvesting); ETRN is accepted in one session a minute per client, 16 domains
 * (458 4.7.0 otherwise; smtp_limits.c).
 *
 * The ETRN request on queue/trigger is one write of "R@DOMAIN\n" (the
 * domain in lower case), opened O_WRONLY|O_NONBLOCK: imc-send retries every
 * message waiting for DOMAIN now.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "addr.h"
#include "control.h"
#include "log.h"
#include "smtp_check.h"
#include "smtp_policy.h"
#include "smtpd.h"

/* ---- MAIL */

static int mail_refused(struct session *s)
{
  const struct smtp_path *p = &s->sender;
  char lim[FMT_ULONG];
  lim[fmt_ulong(lim, s->cfg.databytes)] = 0;
  if (p->has_size && s->cfg.databytes && p->size > s->cfg.databytes) {
    smtpd_reply(s, "552 5.3.4 message size exceeds the limit of ", lim, " octets");
    return 1;
  }
  if (s->authed && !policy_auth_sender(&s->cfg, s->auth_user, p->addr, p->len)) {
    smtpd_reply(s, "554 5.7.1 sender address does not belong to the authenticated user");
    return 1;
  }
  return 0;
}

/* a tls or tlsauth rule before STARTTLS, an auth one before AUTH: 530 */
static int mail_unprotected(struct session *s)
{
  const char *why = 0;
  if (s->must_tls && !s->tls) why = "530 5.7.0 must issue a STARTTLS command first";
  else if (s->must_auth && !s->authed) why = "530 5.7.0 authentication required";
  if (!why) return 0;
  log_event(LOG_SMTP, LEVEL_MEDIUM, s->remoteip, " mail refused: ", why);
  smtpd_bad(s, why);
  return 1;
}

void smtpd_mail(struct session *s, const struct smtp_cmd *c)
{
  const char *e;
  if (!s->helo_seen) { smtpd_bad(s, "503 5.5.1 send EHLO or HELO first"); return; }
  if (s->mail_seen) { smtpd_bad(s, "503 5.5.1 nested MAIL command"); return; }
  if (mail_unprotected(s)) return;
  e = smtp_path_parse(c->arg, c->arglen, 1, &s->sender);
  if (!e && s->sender.utf8 && !s->sender.smtputf8) e = SMTP_UTF8_REPLY;
  if (e) { smtpd_tx_reset(s); smtpd_bad(s, e); return; }
  if (s->sender.len && !addr_carried(s->sender.addr, s->sender.len)) {
    log_event(LOG_SMTP, LEVEL_MEDIUM, s->remoteip, " mail=<", s->sender.addr, "> refused: cannot be carried");
    smtpd_tx_reset(s);
    smtpd_bad(s, "553 5.1.7 sender address not accepted: its quoted local part cannot be delivered from here");
    return;
  }
  if (mail_refused(s)) {
    log_event(LOG_SMTP, LEVEL_MEDIUM, s->remoteip, " mail=<", s->sender.addr, "> refused");
    smtpd_tx_reset(s);
    return;
  }
  e = check_mail(s);
  if (e) {
    log_event(LOG_SMTP, LEVEL_MEDIUM, s->remoteip, " mail=<", s->sender.addr, "> refused: ", e);
    smtpd_tx_reset(s);
    smtpd_reply(s, e);
    return;
  }
  s->filter = config_filter(&s->cfg, s->sender.addr, s->sender.len);
  s->mail_seen = 1;
  byte_copy(s->last_mail, s->sender.len + 1, s->sender.addr);
  s->last_rcpts = 0;
  s->last_id[0] = 0;
  smtpd_reply(s, "250 2.1.0 ok");
}

/* ---- RCPT */

static int rcpt_known(const struct session *s, const char *a, size_t len)
{
  size_t pos = 0;
  const char *r;
  while ((r = config_list_next(&s->rcpts, &pos)) != 0)
    if (str_len(r) == len && byte_equal(r, len, a)) return 1;
  return 0;
}

static const char *rcpt_check(struct session *s, struct smtp_path *p)
{
  int remote;
  if (!s->dir_ok) s->dir_ok = directory_open(&s->dir) == 0;
  if (!s->dir_ok) return "451 4.3.0 unable to read the directory, try again later";
  return policy_rcpt(&s->cfg, &s->dir, s->relay || s->authed, p, s->sender.addr, s->sender.len, &remote);
}

void smtpd_rcpt(struct session *s, const struct smtp_cmd *c)
{
  struct smtp_path p;
  const char *e;
  if (!s->mail_seen) { smtpd_bad(s, "503 5.5.1 send MAIL first"); return; }
  if (s->bdat) { smtpd_bad(s, "503 5.5.1 RCPT is not allowed after BDAT"); return; }
  e = smtp_path_parse(c->arg, c->arglen, 0, &p);
  if (!e && p.utf8 && !s->sender.smtputf8) e = SMTP_UTF8_REPLY;
  if (e) { smtpd_bad(s, e); return; }
  if (!addr_carried(p.addr, p.len)) {
    smtpd_bad(s, "553 5.1.3 recipient address not accepted: its quoted local part cannot be delivered from here");
    return;
  }
  if (s->nrcpt >= smtpd_maxrcpt(s)) { smtpd_reply(s, "452 4.5.3 too many recipients"); return; }
  e = rcpt_check(s, &p);
  if (e && e[0] == '5' && limits_rcpt_refused(s)) {
    log_event(LOG_SMTP, LEVEL_MEDIUM, s->remoteip, " too many refused recipients");
    smtpd_reply(s, "421 4.7.0 ", s->cfg.me.s, " too many refused recipients, closing connection");
    smtpd_end(s, "too-many-refused-recipients");
  }
  if (e) {
    log_event(LOG_SMTP, LEVEL_MEDIUM, s->remoteip, " mail=<", s->sender.addr, "> rcpt=<", p.addr, "> refused: ", e);
    smtpd_reply(s, e);
    return;
  }
  if (!rcpt_known(s, p.addr, p.len)) {
    size_t had = s->rcpts.len;
    if (!stralloc_catb(&s->rcpts, p.addr, p.len + 1) || !stralloc_catb(&s->rcpt_dsn, p.dsn, p.dsnlen + 1)) {
      s->rcpts.len = had;                 /* the two lists stay in step */
      smtpd_reply(s, "452 4.3.0 out of memory");
      return;
    }
    s->nrcpt++;
    s->last_rcpts = s->nrcpt;
  }
  smtpd_reply(s, "250 2.1.5 ok");
}

/* ---- ETRN */

static int trigger_etrn(const char *dom)
{
  stralloc path = {0};
  char msg[2 + 255 + 1];
  size_t n = str_len(dom);
  int fd, ok;
  if (imc_path2(&path, "queue", "trigger") < 0) return -1;
  fd = open(path.s, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  stralloc_free(&path);
  if (fd < 0) return -1;
  msg[0] = 'R';
  msg[1] = '@';
  byte_copy(msg + 2, n, dom);
  msg[2 + n] = '\n';
  ok = write(fd, msg, n + 3) == (ssize_t)(n + 3);     /* below PIPE_BUF: all or nothing */
  close(fd);
  return ok ? 0 : -1;
}

void smtpd_etrn(struct session *s, const struct smtp_cmd *c)
{
  char dom[256];
  const char *e;
  if (!s->helo_seen) { smtpd_bad(s, "503 5.5.1 send EHLO or HELO first"); return; }
  if (s->mail_seen) { smtpd_bad(s, "503 5.5.1 ETRN is not allowed inside a mail transaction"); return; }
  e = smtp_etrn_parse(c->arg, c->arglen, dom);
  if (e) { if (e[0] == '5') smtpd_bad(s, e); else smtpd_reply(s, e); return; }
  e = policy_etrn(&s->cfg, dom);
  if (!e && !limits_etrn_allowed(s)) e = "458 4.7.0 ETRN in one session a minute per client, 16 domains: try again later";
  if (e) smtpd_reply(s, e);
  else if (trigger_etrn(dom) < 0) smtpd_reply(s, "458 4.4.0 unable to queue messages for node ", dom);
  else { limits_etrn_done(s); smtpd_reply(s, "250 2.0.0 queuing for node ", dom, " started"); }
  log_event(LOG_SMTP, LEVEL_MEDIUM, s->remoteip, " etrn=", dom, e ? " refused" : "");
}
