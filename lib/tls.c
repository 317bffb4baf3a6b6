/*
 * tls.c -- TLS 1.2 sessions for a struct sio, on BearSSL (see tls.h;
 * credentials and anchors are loaded by tls_load.c).
 *
 * Sessions: one allocation per session (struct tls_session, about 42 KB:
 * the engine context, the X.509 contexts and the BR_SSL_BUFSIZE_BIDI
 * buffer), none per record; it is wiped before it is freed.  The engine is driven by run_until(): it writes pending
 * records first, reads records when the engine wants them, and stops when
 * the wanted state (SENDAPP: the handshake is done, or there is room to
 * write; RECVAPP: data to read) appears.  Each transport step is one
 * sio_fd_read or sio_fd_write, so s->timeout bounds it.
 *
 * Failure modes: transport errors keep their errno (ETIMEDOUT...); a
 * protocol failure is EPROTO; a refused certificate makes the client
 * start return -2.  tls_strerror() says why in words.  Renegotiation is
 * refused.  No stdio.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bearssl.h>
#include "tls_internal.h"

/* the opportunistic X.509 "validator": any chain, the end-entity key */
struct any_x509 {
  const br_x509_class *vtable;
  br_x509_decoder_context dc;
  unsigned ncerts;
};

struct tls_session {
  union { br_ssl_server_context server; br_ssl_client_context client; } u;
  br_x509_minimal_context xc;
  struct any_x509 any;
  br_ssl_engine_context *eng;
  int ioerr;                        /* errno of a transport failure, sticky */
  int eof;                          /* the transport hit EOF, sticky */
  char hex[8];                      /* "0xNNNN" for a suite without a name */
  const char *cipher;
  unsigned char buf[BR_SSL_BUFSIZE_BIDI];
};

static char errtext[80];

const char *tls_strerror(void) { return errtext; }

/* errtext = a b, starting in lower case ("connection timed out") */
static void set_error(const char *a, const char *b)
{
  size_t la = strlen(a), lb = b ? strlen(b) : 0;
  if (la > sizeof errtext - 1) la = sizeof errtext - 1;
  if (lb > sizeof errtext - 1 - la) lb = sizeof errtext - 1 - la;
  memcpy(errtext, a, la);
  if (lb) memcpy(errtext + la, b, lb);
  errtext[la + lb] = 0;
  if (errtext[0] >= 'A' && errtext[0] <= 'Z' && errtext[1] >= 'a' && errtext[1] <= 'z') errtext[0] += 'a' - 'A';
}

/* ---------------------------------------------------------------- opportunistic X.509 */

static void any_start_chain(const br_x509_class **ctx, const char *server_name)
{
  struct any_x509 *x = (struct any_x509 *)(void *)ctx;
  (void)server_name;
  x->ncerts = 0;
  br_x509_decoder_init(&x->dc, 0, 0);
}

static void any_start_cert(const br_x509_class **ctx, uint32_t length)
{
  (void)ctx;
  (void)length;
}

static void any_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
  struct any_x509 *x = (struct any_x509 *)(void *)ctx;
  if (!x->ncerts) br_x509_decoder_push(&x->dc, buf, len);     /* the end-entity only */
}

static void any_end_cert(const br_x509_class **ctx)
{
  ((struct any_x509 *)(void *)ctx)->ncerts++;
}

static unsigned any_end_chain(const br_x509_class **ctx)
{
  struct any_x509 *x = (struct any_x509 *)(void *)ctx;
  if (!x->ncerts) return BR_ERR_X509_EMPTY_CHAIN;
  return (unsigned)br_x509_decoder_last_error(&x->dc);
}

static const br_x509_pkey *any_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
  struct any_x509 *x = (struct any_x509 *)(void *)ctx;
  if (usages) *usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
  return br_x509_decoder_get_pkey(&x->dc);
}

static const br_x509_class any_x509_class = {
  sizeof(struct any_x509), any_start_chain, any_start_cert, any_append,
  any_end_cert, any_end_chain, any_get_pkey
};

/* ---------------------------------------------------------------- driving the engine */

/* write some pending record bytes: 0 or -1 */
static int send_step(struct sio *s)
{
  struct tls_session *t = s->tls;
  size_t len;
  unsigned char *buf = br_ssl_engine_sendrec_buf(t->eng, &len);
  ssize_t w = sio_fd_write(s, (char *)buf, len);
  if (w < 0) { t->ioerr = errno; return -1; }
  br_ssl_engine_sendrec_ack(t->eng, (size_t)w);
  return 0;
}

/* read some record bytes: 1, 0 EOF, -1 */
static int recv_step(struct sio *s)
{
  struct tls_session *t = s->tls;
  size_t len;
  unsigned char *buf = br_ssl_engine_recvrec_buf(t->eng, &len);
  ssize_t r = sio_fd_read(s, (char *)buf, len);
  if (r < 0) { t->ioerr = errno; return -1; }
  if (r == 0) { t->eof = 1; return 0; }
  br_ssl_engine_recvrec_ack(t->eng, (size_t)r);
  return 1;
}

/* run until target (BR_SSL_SENDAPP or BR_SSL_RECVAPP) is possible:
   1; 0 the session ended (close_notify, or transport EOF); -1 error */
static int run_until(struct sio *s, unsigned target)
{
  struct tls_session *t = s->tls;
  for (;;) {
    unsigned st;
    int r;
    if (t->ioerr) { errno = t->ioerr; return -1; }
    if (t->eof) return 0;
    st = br_ssl_engine_current_state(t->eng);
    if (st & BR_SSL_CLOSED) {
      if (br_ssl_engine_last_error(t->eng) == BR_ERR_OK) return 0;
      errno = EPROTO;
      return -1;
    }
    if (st & BR_SSL_SENDREC) {
      if (send_step(s) == 0) continue;
      if (target == BR_SSL_SENDAPP || (t->ioerr != EPIPE && t->ioerr != ECONNRESET)) return -1;
      t->ioerr = 0;             /* a reader whose peer hung up (maybe after its */
      t->eof = 1;               /* close_notify, before ours went out) sees EOF */
      return 0;
    }
    if (st & target) return 1;
    if (st & BR_SSL_RECVAPP) { errno = EPROTO; return -1; }   /* data to read while we write */
    if (st & BR_SSL_RECVREC) { if ((r = recv_step(s)) <= 0) return r; continue; }
    br_ssl_engine_flush(t->eng, 0);
    if (br_ssl_engine_current_state(t->eng) == st) { errno = EPROTO; return -1; }
  }
}

ssize_t tls_read(struct sio *s, char *buf, size_t len)
{
  struct tls_session *t = s->tls;
  unsigned char *p;
  size_t n;
  int r = run_until(s, BR_SSL_RECVAPP);
  if (r <= 0) return r;
  p = br_ssl_engine_recvapp_buf(t->eng, &n);
  if (n > len) n = len;
  memcpy(buf, p, n);
  br_ssl_engine_recvapp_ack(t->eng, n);
  return (ssize_t)n;
}

/* send every pending record: 0 or -1 */
static int drain(struct sio *s)
{
  struct tls_session *t = s->tls;
  for (;;) {
    unsigned st;
    if (t->ioerr) { errno = t->ioerr; return -1; }
    st = br_ssl_engine_current_state(t->eng);
    if (st & BR_SSL_CLOSED) { errno = EPIPE; return -1; }
    if (!(st & BR_SSL_SENDREC)) return 0;
    if (send_step(s) < 0) return -1;
  }
}

int tls_write(struct sio *s, const char *buf, size_t len)
{
  struct tls_session *t = s->tls;
  while (len) {
    unsigned char *p;
    size_t n;
    int r = run_until(s, BR_SSL_SENDAPP);
    if (r <= 0) { if (!r) errno = EPIPE; return -1; }
    p = br_ssl_engine_sendapp_buf(t->eng, &n);
    if (n > len) n = len;
    memcpy(p, buf, n);
    br_ssl_engine_sendapp_ack(t->eng, n);
    buf += n;
    len -= n;
  }
  br_ssl_engine_flush(t->eng, 0);
  return drain(s);
}

size_t tls_pending(const struct sio *s)
{
  size_t n = 0;
  if (s->tls && (br_ssl_engine_current_state(s->tls->eng) & BR_SSL_RECVAPP))
    br_ssl_engine_recvapp_buf(s->tls->eng, &n);
  return n;
}

void tls_discard(struct sio *s)
{
  size_t n;
  while (tls_pending(s)) {
    br_ssl_engine_recvapp_buf(s->tls->eng, &n);
    br_ssl_engine_recvapp_ack(s->tls->eng, n);
  }
}

/* ---------------------------------------------------------------- names */

static const struct { unsigned short id; const char *name; } suites[] = {
  { BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384" },
  { BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256" },
  { BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384" },
  { BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305" },
  { BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_128_CCM, "ECDHE-ECDSA-AES128-CCM" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_256_CCM, "ECDHE-ECDSA-AES256-CCM" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, "ECDHE-ECDSA-AES128-CCM8" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8, "ECDHE-ECDSA-AES256-CCM8" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, "ECDHE-ECDSA-AES128-SHA256" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384, "ECDHE-ECDSA-AES256-SHA384" },
  { BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, "ECDHE-RSA-AES128-SHA256" },
  { BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, "ECDHE-RSA-AES256-SHA384" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "ECDHE-ECDSA-AES128-SHA" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "ECDHE-ECDSA-AES256-SHA" },
  { BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "ECDHE-RSA-AES128-SHA" },
  { BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "ECDHE-RSA-AES256-SHA" },
  { BR_TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA, "ECDHE-ECDSA-DES-CBC3-SHA" },
  { BR_TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, "ECDHE-RSA-DES-CBC3-SHA" },
  { BR_TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256, "ECDH-ECDSA-AES128-GCM-SHA256" },
  { BR_TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384, "ECDH-ECDSA-AES256-GCM-SHA384" },
  { BR_TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256, "ECDH-RSA-AES128-GCM-SHA256" },
  { BR_TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384, "ECDH-RSA-AES256-GCM-SHA384" },
  { BR_TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256, "ECDH-ECDSA-AES128-SHA256" },
  { BR_TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384, "ECDH-ECDSA-AES256-SHA384" },
  { BR_TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256, "ECDH-RSA-AES128-SHA256" },
  { BR_TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384, "ECDH-RSA-AES256-SHA384" },
  { BR_TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA, "ECDH-ECDSA-AES128-SHA" },
  { BR_TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA, "ECDH-ECDSA-AES256-SHA" },
  { BR_TLS_ECDH_RSA_WITH_AES_128_CBC_SHA, "ECDH-RSA-AES128-SHA" },
  { BR_TLS_ECDH_RSA_WITH_AES_256_CBC_SHA, "ECDH-RSA-AES256-SHA" },
  { BR_TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA, "ECDH-ECDSA-DES-CBC3-SHA" },
  { BR_TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA, "ECDH-RSA-DES-CBC3-SHA" },
  { BR_TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256" },
  { BR_TLS_RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384" },
  { BR_TLS_RSA_WITH_AES_128_CCM, "AES128-CCM" },
  { BR_TLS_RSA_WITH_AES_256_CCM, "AES256-CCM" },
  { BR_TLS_RSA_WITH_AES_128_CCM_8, "AES128-CCM8" },
  { BR_TLS_RSA_WITH_AES_256_CCM_8, "AES256-CCM8" },
  { BR_TLS_RSA_WITH_AES_128_CBC_SHA256, "AES128-SHA256" },
  { BR_TLS_RSA_WITH_AES_256_CBC_SHA256, "AES256-SHA256" },
  { BR_TLS_RSA_WITH_AES_128_CBC_SHA, "AES128-SHA" },
  { BR_TLS_RSA_WITH_AES_256_CBC_SHA, "AES256-SHA" },
  { BR_TLS_RSA_WITH_3DES_EDE_CBC_SHA, "DES-CBC3-SHA" },
};

/* the OpenSSL name of a suite, or "0xNNNN" written into hex[7] */
const char *tls_suite_name(unsigned id, char hex[7])
{
  static const char digits[] = "0123456789ABCDEF";
  size_t i;
  for (i = 0; i < sizeof suites / sizeof suites[0]; i++)
    if (suites[i].id == id) return suites[i].name;
  hex[0] = '0';
  hex[1] = 'x';
  for (i = 0; i < 4; i++) hex[2 + i] = digits[(id >> (12 - 4 * i)) & 15];
  hex[6] = 0;
  return hex;
}

const char *tls_version(const struct sio *s)
{
  if (!s->tls) return 0;
  switch (br_ssl_engine_get_version(s->tls->eng)) {
  case BR_TLS10: return "TLSv1";
  case BR_TLS11: return "TLSv1.1";
  default: return "TLSv1.2";
  }
}

const char *tls_cipher(const struct sio *s)
{
  return s->tls ? s->tls->cipher : 0;
}

const char *tls_sni(const struct sio *s)
{
  return s->tls ? br_ssl_engine_get_server_name(s->tls->eng) : 0;
}

static const struct { int err; const char *text; } x509_errors[] = {
  { BR_ERR_X509_NOT_TRUSTED, "certificate not trusted" },
  { BR_ERR_X509_EXPIRED, "certificate expired or not yet valid" },
  { BR_ERR_X509_BAD_SERVER_NAME, "server name mismatch" },
  { BR_ERR_X509_BAD_SIGNATURE, "bad certificate signature" },
  { BR_ERR_X509_NOT_CA, "issuer is not a CA" },
  { BR_ERR_X509_FORBIDDEN_KEY_USAGE, "key usage forbids TLS" },
  { BR_ERR_X509_WEAK_PUBLIC_KEY, "weak public key" },
  { BR_ERR_X509_UNSUPPORTED, "unsupported certificate algorithm" },
  { BR_ERR_X509_CRITICAL_EXTENSION, "unknown critical extension" },
  { BR_ERR_X509_EMPTY_CHAIN, "no certificate" },
  { BR_ERR_X509_TIME_UNKNOWN, "time unknown" },
};

/* record in errtext why the session t failed */
static void explain(const struct tls_session *t)
{
  int err = br_ssl_engine_last_error(t->eng);
  char num[FMT_ULONG];
  size_t i;
  if (!err) {
    if (t->ioerr) set_error(strerror(t->ioerr), 0);
    else set_error(t->eof ? "connection closed by the peer" : "closed", 0);
    return;
  }
  for (i = 0; i < sizeof x509_errors / sizeof x509_errors[0]; i++)
    if (x509_errors[i].err == err) { set_error(x509_errors[i].text, 0); return; }
  if (err >= BR_ERR_SEND_FATAL_ALERT) {
    num[fmt_ulong(num, (unsigned long)(err - BR_ERR_SEND_FATAL_ALERT))] = 0;
    set_error("sent alert ", num);
  } else if (err >= BR_ERR_RECV_FATAL_ALERT) {
    num[fmt_ulong(num, (unsigned long)(err - BR_ERR_RECV_FATAL_ALERT))] = 0;
    set_error("peer sent alert ", num);
  } else {
    num[fmt_ulong(num, (unsigned long)err)] = 0;
    set_error(err > BR_ERR_X509_OK && err < 64 ? "certificate error " : "TLS error ", num);
  }
}

/* ---------------------------------------------------------------- sessions */

void tls_abort(struct sio *s)
{
  if (!s->tls) return;
  explicit_bzero(s->tls, sizeof *s->tls);
  free(s->tls);
  s->tls = 0;
  s->inpos = s->inlen = 0;      /* no decrypted byte survives as plaintext */
}

void tls_close(struct sio *s)
{
  struct tls_session *t = s->tls;
  if (!t) return;
  if (!t->ioerr && !t->eof && !(br_ssl_engine_current_state(t->eng) & BR_SSL_CLOSED)) {
    if (s->out.len) (void)sio_flush(s);
    if (!t->ioerr) {
      br_ssl_engine_close(t->eng);
      (void)drain(s);
    }
  }
  s->out.len = 0;
  tls_abort(s);
}

static int handshake(struct sio *s, int client)
{
  struct tls_session *t = s->tls;
  br_ssl_session_parameters p;
  int r = run_until(s, BR_SSL_SENDAPP), err, e;
  if (r > 0) {
    br_ssl_engine_get_session_parameters(t->eng, &p);
    t->cipher = tls_suite_name(p.cipher_suite, t->hex);
    explicit_bzero(&p, sizeof p);
    return 0;
  }
  err = br_ssl_engine_last_error(t->eng);
  explain(t);
  e = r < 0 ? errno : t->eof ? ECONNRESET : EPROTO;
  tls_abort(s);
  errno = e;
  return client && err > BR_ERR_X509_OK && err < 64 ? -2 : -1;
}

/* a fresh session for s, its output flushed and its input dropped; 0 and errno */
static struct tls_session *session_new(struct sio *s)
{
  struct tls_session *t;
  if (s->tls) { errno = EISCONN; set_error("TLS is already active", 0); return 0; }
  if (sio_flush(s) < 0) { set_error(strerror(errno), 0); return 0; }
  sio_discard(s);
  t = calloc(1, sizeof *t);
  if (!t) { errno = ENOMEM; set_error("out of memory", 0); }
  return t;
}

static int session_go(struct sio *s, struct tls_session *t, br_ssl_engine_context *eng,
                      int client, const char *sni)
{
  int ok;
  t->eng = eng;
  br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
  br_ssl_engine_set_buffer(eng, t->buf, sizeof t->buf, 1);
  br_ssl_engine_add_flags(eng, BR_OPT_NO_RENEGOTIATION | (client ? 0 : BR_OPT_ENFORCE_SERVER_PREFERENCES));
  s->tls = t;
  ok = client ? br_ssl_client_reset(&t->u.client, sni, 0) : br_ssl_server_reset(&t->u.server);
  if (!ok) {
    explain(t);
    tls_abort(s);
    errno = EIO;
    return -1;
  }
  return handshake(s, client);
}

int tls_server_start(struct sio *s, const struct tls_creds *c)
{
  struct tls_session *t = session_new(s);
  if (!t) return -1;
  if (c->key_type == BR_KEYTYPE_RSA)
    br_ssl_server_init_full_rsa(&t->u.server, c->chain, c->chain_len, br_skey_decoder_get_rsa(&c->key));
  else
    br_ssl_server_init_full_ec(&t->u.server, c->chain, c->chain_len, c->issuer_type,
                               br_skey_decoder_get_ec(&c->key));
  return session_go(s, t, &t->u.server.eng, 0, 0);
}

/* an address is no name for SNI (RFC 6066 3) */
static int is_address(const char *h)
{
  if (*h == '[' || strchr(h, ':')) return 1;            /* a literal, or IPv6 */
  for (; *h; h++) if (!(*h == '.' || *h == ':' || (*h >= '0' && *h <= '9'))) return 0;
  return 1;
}

int tls_client_start(struct sio *s, const char *host, int verify, const struct tls_anchors *a)
{
  struct tls_session *t;
  const char *sni = host && *host && !is_address(host) ? host : 0;
  if (verify && (!a || !a->n || !host || !*host)) {
    set_error("verification needs a host name and trust anchors", 0);
    errno = EINVAL;
    return -1;
  }
  if (!(t = session_new(s))) return -1;
  br_ssl_client_init_full(&t->u.client, &t->xc, verify ? a->ta : 0, verify ? a->n : 0);
  if (!verify) {
    t->any.vtable = &any_x509_class;
    br_ssl_engine_set_x509(&t->u.client.eng, &t->any.vtable);
  } else {
    sni = host;                 /* the name to check, even for an address: fail closed */
  }
  return session_go(s, t, &t->u.client.eng, 1, sni);
}
