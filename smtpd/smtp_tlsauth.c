/*
 * smtp_tlsauth.c -- STARTTLS (RFC 3207) and AUTH PLAIN / LOGIN (RFC 4954,
 * 4616) in an imc-smtpd session.
 *
 * STARTTLS: offered when control/tls/cert.pem and key.pem loaded; input
 * pipelined after the command is discarded before the handshake
 * (CVE-2011-0411); afterwards the session forgets EHLO, the transaction
 * and any authentication, so the client must EHLO again.
 *
 * AUTH: offered when control/auth has users, and only under TLS or from
 * loopback (otherwise 538 5.7.11).  Each failure counts as a bad command,
 * so guessing is bounded per connection, waits longer than the one before
 * and is reported to imc-tcpd; once control/authfailures failures came from
 * the client within 10 minutes, AUTH gets 454 4.7.0 (smtp_limits.c).
 * Secrets never reach the log: the transcript shows responses as ****.
 *
 * Failure modes: a failed handshake ends the session; crypt(3) failing
 * gives 454 4.7.0.
 */
#include <string.h>
#include "base64.h"
#include "log.h"
#include "smtpd.h"
#include "tls.h"

/* ---- STARTTLS */

void smtpd_starttls(struct session *s, const struct smtp_cmd *c)
{
  if (c->arglen) { smtpd_bad(s, "501 5.5.4 syntax: STARTTLS"); return; }
  if (s->tls) { smtpd_bad(s, "503 5.5.1 TLS is already active"); return; }
  if (!s->creds) { smtpd_bad(s, "502 5.5.1 STARTTLS is not available"); return; }
  sio_discard(&s->sio);
  smtpd_reply(s, "220 2.0.0 ready to start TLS");
  smtpd_flush(s);
  if (tls_server_start(&s->sio, s->creds) < 0) {
    s->dead = 1;
    smtpd_end(s, "tls-handshake-failed");
  }
  s->tls = 1;
  s->helo_seen = 0;
  s->esmtp = 0;
  s->authed = 0;
  s->auth_user[0] = 0;
  smtpd_tx_reset(s);
  log_event(LOG_SMTP, LEVEL_MEDIUM, s->remoteip, " starttls ", tls_version(&s->sio), " cipher ", tls_cipher(&s->sio));
}

/* ---- AUTH */

/* AUTH in clear only on loopback, and not for a client a tls rule holds to STARTTLS */
static int auth_clear_ok(const struct session *s) { return s->loopback && !s->must_tls; }

int smtpd_auth_offered(const struct session *s)
{
  return s->cfg.auth.len && (s->tls || auth_clear_ok(s));
}

/* a base64 response ("=" is the empty one) into out: 1, or 0 when refused */
static int auth_decode(struct session *s, const char *in, size_t len, char *out, size_t *outlen)
{
  if (len == 1 && in[0] == '=') { *outlen = 0; return 1; }
  if (base64_decode(in, len, out, AUTH_FIELD_MAX, outlen) == 0) return 1;
  smtpd_bad(s, "501 5.5.2 cannot decode the response");
  return 0;
}

/* a 334 challenge and the client's answer, decoded: 1, or 0 when refused */
static int auth_read(struct session *s, const char *challenge, char *out, size_t *outlen)
{
  int crlf;
  smtpd_reply(s, "334 ", challenge);
  smtpd_flush(s);
  if (smtpd_getline(s, &crlf) == -2) {
    smtpd_log_in(s, "****", 4);
    smtpd_bad(s, "500 5.5.2 line too long");
    return 0;
  }
  smtpd_log_in(s, "****", 4);
  if (s->line.len == 1 && s->line.s[0] == '*') { smtpd_bad(s, "501 5.0.0 authentication cancelled"); return 0; }
  return auth_decode(s, s->line.s, s->line.len, out, outlen);
}

static void auth_finish(struct session *s, const char *user, size_t ulen, const char *pass, size_t plen)
{
  int r = ulen && ulen <= AUTH_FIELD_MAX ? auth_check(&s->cfg, user, ulen, pass, plen) : 0;
  if (r < 0) { smtpd_reply(s, "454 4.7.0 temporary authentication failure"); return; }
  if (r == 0) {
    char pre[96];
    size_t n = 0;
    const char *p;
    for (p = s->remoteip; *p && n < 64; p++) pre[n++] = *p;
    byte_copy(pre + n, 19, " auth failed user=");
    log_outb(LOG_SMTP, LEVEL_MEDIUM, pre, user, ulen);
    limits_auth_failed(s);
    smtpd_bad(s, "535 5.7.8 authentication credentials invalid");
    return;
  }
  byte_copy(s->auth_user, ulen, user);
  s->auth_user[ulen] = 0;
  case_lowerb(s->auth_user, ulen);
  s->authed = 1;
  log_event(LOG_SMTP, LEVEL_MEDIUM, s->remoteip, " auth=", s->auth_user);
  smtpd_reply(s, "235 2.7.0 authentication successful");
}

static void auth_plain(struct session *s, const char *resp, size_t rlen)
{
  char buf[AUTH_FIELD_MAX];
  const char *user, *pass;
  size_t n, ulen, plen;
  if (resp ? !auth_decode(s, resp, rlen, buf, &n) : !auth_read(s, "", buf, &n)) return;
  if (auth_plain_split(buf, n, &user, &ulen, &pass, &plen) < 0) smtpd_bad(s, "501 5.5.2 malformed PLAIN response");
  else auth_finish(s, user, ulen, pass, plen);
  explicit_bzero(buf, sizeof buf);
}

static void auth_login(struct session *s, const char *resp, size_t rlen)
{
  char user[AUTH_FIELD_MAX], pass[AUTH_FIELD_MAX];
  size_t ulen, plen;
  if (resp ? !auth_decode(s, resp, rlen, user, &ulen) : !auth_read(s, "VXNlcm5hbWU6", user, &ulen)) return;
  if (!auth_read(s, "UGFzc3dvcmQ6", pass, &plen)) return;
  if (memchr(user, 0, ulen) || memchr(pass, 0, plen)) smtpd_bad(s, "501 5.5.2 malformed LOGIN response");
  else auth_finish(s, user, ulen, pass, plen);
  explicit_bzero(pass, sizeof pass);
}

static const char *auth_refusal(const struct session *s)
{
  if (!s->helo_seen) return "503 5.5.1 send EHLO first";
  if (s->authed) return "503 5.5.1 already authenticated";
  if (s->mail_seen) return "503 5.5.1 AUTH is not allowed inside a mail transaction";
  if (!s->cfg.auth.len) return "502 5.5.1 AUTH is not available";
  if (!s->tls && !auth_clear_ok(s)) return "538 5.7.11 encryption required for authentication: use STARTTLS";
  if (limits_auth_blocked(s)) return "454 4.7.0 too many authentication failures from your address, try again later";
  return 0;
}

void smtpd_auth(struct session *s, const struct smtp_cmd *c)
{
  size_t sp = byte_chr(c->arg, c->arglen, ' '), rlen = 0;
  const char *resp = 0, *e = auth_refusal(s);
  if (e) { smtpd_bad(s, e); return; }
  if (sp < c->arglen) {
    resp = c->arg + sp;
    rlen = c->arglen - sp;
    while (rlen && *resp == ' ') { resp++; rlen--; }
  }
  if (sp == 5 && !case_diffb(c->arg, 5, "PLAIN")) auth_plain(s, resp, rlen);
  else if (sp == 5 && !case_diffb(c->arg, 5, "LOGIN")) auth_login(s, resp, rlen);
  else smtpd_bad(s, "504 5.5.4 unrecognized authentication mechanism");
}
