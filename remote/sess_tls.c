/*
 * sess_tls.c -- STARTTLS and AUTH for imc-remote's sessions (see session.c).
 *
 * STARTTLS by the destination's tls= mode: none never; may when offered,
 * any certificate (a failed handshake returns SESS_TLSFAIL so the caller
 * can retry the same address in plain); require and verify fail the host
 * without it, verify also checks the chain against the trust anchors
 * (IMC_TLS_CAFILE, else /etc/ssl/certs/ca-certificates.crt) and the host
 * name.  After the handshake EHLO is sent again (RFC 3207).
 *
 * AUTH when the destination has credentials (auth=USER:PASSFILE): only
 * over TLS whose certificate was verified (tls=verify, the default with
 * auth=), unless the route says `insecureauth`: then over any TLS or in
 * plain text too.  A host that cannot be verified fails with a reason
 * naming its certificate ("4.7.5 certificate of HOST not verified: WHY;
 * not sending AUTH"), so the message is deferred, never sent the password.
 * PLAIN when offered, else LOGIN; the
 * password is the first line of PASSFILE (relative: under control/), read
 * at each use and wiped after.  535 is SESS_PERM (every recipient bounces
 * with 5.7.8); a server offering neither mechanism, or any other refusal,
 * fails the host.  Credentials never reach the log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "base64.h"
#include "control.h"
#include "fileio.h"
#include "remote.h"
#include "tls.h"

static struct tls_anchors *anchors;

static const char *anchor_file(void)
{
  const char *f = getenv("IMC_TLS_CAFILE");
  return f && *f ? f : "/etc/ssl/certs/ca-certificates.crt";
}

static int load_anchors(struct session *s)
{
  if (anchors) return 0;
  if (tls_anchors_load(&anchors, anchor_file()) == 0) return 0;
  anchors = 0;
  sess_why(s, "4.7.5 unable to load the trust anchors for tls=verify");
  return -1;
}

/* why = "4.7.5 certificate of HOST not verified: WHY; not sending AUTH" */
static void why_not_verified(struct session *s, const char *what)
{
  const char *host = s->t->host;
  if (!stralloc_copys(&s->tmp2, "4.7.5 certificate of ") || !stralloc_cats(&s->tmp2, host)
      || !stralloc_cats(&s->tmp2, " not verified: ") || !stralloc_cats(&s->tmp2, what)
      || !stralloc_cats(&s->tmp2, "; not sending AUTH") || !stralloc_0(&s->tmp2)) {
    sess_why(s, "4.7.5 certificate not verified; not sending AUTH");
    return;
  }
  sess_why(s, s->tmp2.s);
}

static int handshake(struct session *s, int verify)
{
  int r;
  if (verify && load_anchors(s) < 0) return SESS_HOST;
  r = tls_client_start(&s->io, s->t->literal ? 0 : s->t->host, verify, verify ? anchors : 0);
  if (r < 0) {
    const char *e = tls_strerror();
    if (!stralloc_copys(&s->tmp, e && *e ? e : "handshake failed") || !stralloc_0(&s->tmp)) return SESS_HOST;
    if (verify && s->dest->user)
      why_not_verified(s, s->t->literal ? "an address literal has no host name to check" : s->tmp.s);
    else {
      sess_why(s, r == -2 ? "4.7.5 TLS certificate refused: " : "4.7.5 TLS failed: ");
      if (stralloc_cats(&s->why, s->tmp.s) && stralloc_0(&s->why)) s->why.len--;
    }
    return verify || s->dest->tls == ROUTE_TLS_REQUIRE ? SESS_HOST : SESS_TLSFAIL;
  }
  s->tls = 1;
  s->verified = verify;
  rlog(s->cfg, LEVEL_MEDIUM, "TLS with ", s->desc, ": ", tls_version(&s->io), " ", tls_cipher(&s->io), (const char *)0);
  return sess_ehlo(s);
}

int sess_tls(struct session *s, int notls)
{
  int mode = s->dest->tls, strict = mode >= ROUTE_TLS_REQUIRE;
  if (mode == ROUTE_TLS_NONE || (notls && !strict)) return SESS_OK;
  if (!s->ehlo.starttls) {
    if (!strict) return SESS_OK;
    sess_why(s, "4.7.4 TLS is required but the server does not offer STARTTLS");
    return SESS_HOST;
  }
  if (sess_cmd(s, "STARTTLS", 8, 1) < 0 || sess_reply(s) < 0) return SESS_LOST;
  if (s->reply.code != 220) {
    if (!strict) return SESS_OK;
    sess_why_reply(s, "4.7.4 STARTTLS refused: ");
    return SESS_HOST;
  }
  return handshake(s, mode == ROUTE_TLS_VERIFY);
}

/* ---- AUTH */

/* the first line of the password file into pw: 0, or -1 with why set */
static int read_password(struct session *s, stralloc *pw)
{
  stralloc path = {0};
  const char *f = s->dest->passfile;
  int r = f[0] == '/' ? (stralloc_copys(&path, f) && stralloc_0(&path) ? 0 : -1)
                      : imc_path2(&path, "control", f);
  size_t n;
  if (r == 0) r = file_read(path.s, pw);
  stralloc_free(&path);
  if (r == 1) {
    for (n = 0; n < pw->len && pw->s[n] != '\n'; n++) ;
    if (n && pw->s[n - 1] == '\r') n--;
    pw->len = n;
    return 0;
  }
  if (r == 0) errno = ENOENT;
  sess_why(s, "4.3.5 unable to read the AUTH password file: ");
  if (stralloc_cats(&s->why, strerror(errno)) && stralloc_0(&s->why)) s->why.len--;
  return -1;
}

/* "PREFIX" + base64(data) as a command; the buffer is wiped after */
static int send_b64(struct session *s, const char *prefix, const char *data, size_t len)
{
  stralloc c = {0};
  size_t n = strlen(prefix);
  int r = -1;
  if (stralloc_ready(&c, n + B64_LEN(len) + 1)) {
    memcpy(c.s, prefix, n);
    c.len = n + base64_encode(c.s + n, data, len);
    s->logas = n ? "AUTH PLAIN (credentials not logged)" : "(credentials not logged)";
    r = sess_cmd(s, c.s, c.len, 1) < 0 || sess_reply(s) < 0 ? -1 : 0;
    s->logas = 0;
    memset(c.s, 0, c.a);
  }
  stralloc_free(&c);
  return r;
}

static int auth_plain(struct session *s, const stralloc *pw)
{
  stralloc t = {0};
  const char *u = s->dest->user;
  int r = -1;
  if (stralloc_copyb(&t, "", 1) && stralloc_cats(&t, u) && stralloc_catb(&t, "", 1) && stralloc_cat(&t, pw))
    r = send_b64(s, "AUTH PLAIN ", t.s, t.len);
  if (t.s) memset(t.s, 0, t.a);
  stralloc_free(&t);
  return r;
}

static int auth_login(struct session *s, const stralloc *pw)
{
  const char *u = s->dest->user;
  if (sess_cmd(s, "AUTH LOGIN", 10, 1) < 0 || sess_reply(s) < 0) return -1;
  if (s->reply.code != 334) return 0;
  if (send_b64(s, "", u, strlen(u)) < 0) return -1;
  if (s->reply.code != 334) return 0;
  return send_b64(s, "", pw->s, pw->len);
}

static int auth_result(struct session *s)
{
  if (s->reply.code == 235) {
    rlog(s->cfg, LEVEL_MEDIUM, "authenticated to ", s->desc, " as ", s->dest->user, (const char *)0);
    return SESS_OK;
  }
  if (s->reply.code == 535) { sess_why_reply(s, "5.7.8 authentication failed: "); return SESS_PERM; }
  sess_why_reply(s, "4.7.0 authentication refused: ");
  return SESS_HOST;
}

int sess_auth(struct session *s)
{
  stralloc pw = {0};
  int r;
  if (!s->dest->user) return SESS_OK;
  if (!s->verified && !s->dest->insecureauth) {
    why_not_verified(s, !s->tls ? "no TLS" : "tls=may or tls=require takes any certificate");
    return SESS_HOST;
  }
  if (!s->ehlo.auth_plain && !s->ehlo.auth_login) { sess_why(s, "4.7.0 the server offers no AUTH PLAIN or LOGIN"); return SESS_HOST; }
  if (read_password(s, &pw) < 0) return SESS_HOST;
  r = s->ehlo.auth_plain ? auth_plain(s, &pw) : auth_login(s, &pw);
  if (pw.s) memset(pw.s, 0, pw.a);
  stralloc_free(&pw);
  return r < 0 ? SESS_LOST : auth_result(s);
}
