/*
 * tls_load.c -- credentials and trust anchors for lib/tls.c, from PEM.
 *
 * tls_creds_load reads a PEM chain (end-entity first) and a PEM key (RSA
 * or EC; PKCS#8, traditional, or traditional after an EC PARAMETERS
 * block), checks that the key belongs to the first certificate, and owns
 * everything it decoded: the certificates' DER, and the key, which lives
 * inside the skey decoder kept in struct tls_creds.  tls_anchors_load
 * turns a PEM bundle into BearSSL trust anchors, skipping certificates
 * whose key type BearSSL cannot use.
 *
 * Failure modes: -1 with errno (ENOENT for a missing file, ENOMEM, or the
 * read error); -2 when a file does not parse or the pieces do not fit,
 * after a warning on fd 2 naming the file and the reason.  Key bytes read
 * from disk are wiped before they are freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "diag.h"
#include "fileio.h"
#include "tls_internal.h"

/* ---------------------------------------------------------------- PEM */

struct der_sink { stralloc sa; int oom; };

static void der_append(void *ctx, const void *buf, size_t len)
{
  struct der_sink *d = ctx;
  if (!d->oom && !stralloc_catb(&d->sa, buf, len)) d->oom = 1;
}

struct pem_load {
  struct tls_creds *c;
  struct tls_anchors *a;
  const char *why;                  /* set with -2 */
};
typedef int pem_handler(struct pem_load *, const char *, const unsigned char *, size_t);

/* one decoder event: 0 go on, -1 ENOMEM, -2 bad PEM */
static int pem_event(br_pem_decoder_context *pc, struct der_sink *d, int *inobj,
                     pem_handler *h, struct pem_load *pl)
{
  switch (br_pem_decoder_event(pc)) {
  case BR_PEM_BEGIN_OBJ:
    d->sa.len = 0;
    br_pem_decoder_setdest(pc, der_append, d);
    *inobj = 1;
    return 0;
  case BR_PEM_END_OBJ:
    if (!*inobj) return 0;
    *inobj = 0;
    if (d->oom) { errno = ENOMEM; return -1; }
    return h(pl, br_pem_decoder_name(pc), (unsigned char *)d->sa.s, d->sa.len);
  case BR_PEM_ERROR:
    pl->why = "bad PEM encoding";
    return -2;
  }
  return 0;
}

/* call h for every PEM object in data: 0, -1, -2 */
static int pem_each(const char *data, size_t len, pem_handler *h, struct pem_load *pl)
{
  br_pem_decoder_context pc;
  struct der_sink d = { { 0, 0, 0 }, 0 };
  int inobj = 0, nl = 0, r = 0;
  br_pem_decoder_init(&pc);
  while (!r) {
    size_t n;
    if (!len) {
      if (nl) break;
      data = "\n";              /* ends a last line that has no newline */
      len = nl = 1;
    }
    n = br_pem_decoder_push(&pc, data, len);
    data += n;
    len -= n;
    r = pem_event(&pc, &d, &inobj, h, pl);
  }
  if (!r && inobj) { pl->why = "unterminated PEM object"; r = -2; }
  if (d.sa.s) explicit_bzero(d.sa.s, d.sa.a);
  stralloc_free(&d.sa);
  return r;
}

/* BearSSL's PEM decoder wants LF line ends: files from Windows have CR LF */
static size_t drop_cr(char *s, size_t len)
{
  size_t i, j = 0;
  for (i = 0; i < len; i++) if (s[i] != '\r') s[j++] = s[i];
  return j;
}

/* read path and run its PEM objects through h: 0, -1 (ENOENT if missing), -2 (diagnosed) */
static int pem_file(const char *path, pem_handler *h, struct pem_load *pl)
{
  stralloc sa = { 0, 0, 0 };
  int r = file_read(path, &sa);
  if (r == 0) errno = ENOENT;
  if (r <= 0) { stralloc_free(&sa); return -1; }
  pl->why = 0;
  sa.len = drop_cr(sa.s, sa.len);
  r = pem_each(sa.s, sa.len, h, pl);
  if (sa.s) explicit_bzero(sa.s, sa.a);
  stralloc_free(&sa);
  if (r == -2) warn("unable to load ", path, ": ", pl->why);
  return r;
}

/* ---------------------------------------------------------------- credentials */

static int cert_obj(struct pem_load *pl, const char *name, const unsigned char *der, size_t len)
{
  struct tls_creds *c = pl->c;
  br_x509_certificate *n;
  if (strcmp(name, "CERTIFICATE") && strcmp(name, "X509 CERTIFICATE")) return 0;
  n = realloc(c->chain, (c->chain_len + 1) * sizeof *n);
  if (!n) { errno = ENOMEM; return -1; }
  c->chain = n;
  n[c->chain_len].data = malloc(len ? len : 1);
  if (!n[c->chain_len].data) { errno = ENOMEM; return -1; }
  memcpy(n[c->chain_len].data, der, len);
  n[c->chain_len++].data_len = len;
  return 0;
}

static int key_obj(struct pem_load *pl, const char *name, const unsigned char *der, size_t len)
{
  struct tls_creds *c = pl->c;
  if (!strcmp(name, "ENCRYPTED PRIVATE KEY")) { pl->why = "encrypted keys are not supported"; return -2; }
  if (strcmp(name, "PRIVATE KEY") && strcmp(name, "RSA PRIVATE KEY") && strcmp(name, "EC PRIVATE KEY"))
    return 0;
  if (c->have_key) { pl->why = "more than one private key"; return -2; }
  c->have_key = 1;
  br_skey_decoder_push(&c->key, der, len);
  if (br_skey_decoder_last_error(&c->key)) { pl->why = "unsupported or damaged private key"; return -2; }
  c->key_type = br_skey_decoder_key_type(&c->key);
  return 0;
}

static int same_int(const unsigned char *a, size_t la, const unsigned char *b, size_t lb)
{
  while (la && !*a) { a++; la--; }
  while (lb && !*b) { b++; lb--; }
  return la == lb && !memcmp(a, b, la);
}

/* does the private key belong to the public key pk? */
static int key_matches(const struct tls_creds *c, const br_x509_pkey *pk)
{
  if (pk->key_type != c->key_type) return 0;
  if (c->key_type == BR_KEYTYPE_RSA) {
    const br_rsa_private_key *sk = br_skey_decoder_get_rsa(&c->key);
    br_rsa_compute_modulus mod = br_rsa_compute_modulus_get_default();
    unsigned char n[512];
    size_t len = mod(0, sk);
    if (!len || len > sizeof n) return 0;
    len = mod(n, sk);
    return same_int(n, len, pk->key.rsa.n, pk->key.rsa.nlen);
  } else {
    const br_ec_private_key *sk = br_skey_decoder_get_ec(&c->key);
    unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
    br_ec_public_key pub;
    if (!br_ec_compute_pub(br_ec_get_default(), &pub, q, sk)) return 0;
    return pub.curve == pk->key.ec.curve && pub.qlen == pk->key.ec.qlen
      && !memcmp(pub.q, pk->key.ec.q, pub.qlen);
  }
}

/* the loaded pieces make sense together: 0 or -2 (diagnosed) */
static int creds_check(struct tls_creds *c, const char *certfile, const char *keyfile)
{
  br_x509_decoder_context dc;
  const br_x509_pkey *pk;
  if (!c->chain_len) { warn("unable to load ", certfile, ": no certificate"); return -2; }
  if (!c->have_key) { warn("unable to load ", keyfile, ": no private key"); return -2; }
  br_x509_decoder_init(&dc, 0, 0);
  br_x509_decoder_push(&dc, c->chain[0].data, c->chain[0].data_len);
  pk = br_x509_decoder_get_pkey(&dc);
  if (!pk) { warn("unable to load ", certfile, ": unsupported or damaged certificate"); return -2; }
  if (!key_matches(c, pk)) {
    warn("unable to load ", keyfile, ": the key does not belong to the certificate in ", certfile);
    return -2;
  }
  c->issuer_type = br_x509_decoder_get_signer_key_type(&dc);
  if (!c->issuer_type) c->issuer_type = (unsigned)c->key_type;
  return 0;
}

void tls_creds_free(struct tls_creds *c)
{
  size_t i;
  if (!c) return;
  for (i = 0; i < c->chain_len; i++) free(c->chain[i].data);
  free(c->chain);
  explicit_bzero(c, sizeof *c);
  free(c);
}

int tls_creds_load(struct tls_creds **cp, const char *certfile, const char *keyfile)
{
  struct pem_load pl = { 0, 0, 0 };
  int r, e;
  *cp = 0;
  pl.c = calloc(1, sizeof *pl.c);
  if (!pl.c) { errno = ENOMEM; return -1; }
  br_skey_decoder_init(&pl.c->key);
  r = pem_file(certfile, cert_obj, &pl);
  if (!r) r = pem_file(keyfile, key_obj, &pl);
  if (!r) r = creds_check(pl.c, certfile, keyfile);
  if (r) {
    e = errno;
    tls_creds_free(pl.c);
    errno = e;
    return r;
  }
  *cp = pl.c;
  return 0;
}

/* a private key alone (a DKIM signing key): 0, -1 with errno, -2 (diagnosed) */
int tls_key_load(struct tls_creds **cp, const char *keyfile)
{
  struct pem_load pl = { 0, 0, 0 };
  int r, e;
  *cp = 0;
  pl.c = calloc(1, sizeof *pl.c);
  if (!pl.c) { errno = ENOMEM; return -1; }
  br_skey_decoder_init(&pl.c->key);
  r = pem_file(keyfile, key_obj, &pl);
  if (!r && !pl.c->have_key) { warn("unable to load ", keyfile, ": no private key"); r = -2; }
  if (r) {
    e = errno;
    tls_creds_free(pl.c);
    errno = e;
    return r;
  }
  *cp = pl.c;
  return 0;
}

const br_rsa_private_key *tls_key_rsa(const struct tls_creds *c)
{
  return c->key_type == BR_KEYTYPE_RSA ? br_skey_decoder_get_rsa(&c->key) : 0;
}

/* ---------------------------------------------------------------- trust anchors */

static void *dup_mem(const void *p, size_t len)
{
  void *d = malloc(len ? len : 1);
  if (d) memcpy(d, p, len);
  return d;
}

static void anchor_clear(br_x509_trust_anchor *ta)
{
  free(ta->dn.data);
  if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
    free(ta->pkey.key.rsa.n);
    free(ta->pkey.key.rsa.e);
  } else if (ta->pkey.key_type == BR_KEYTYPE_EC) {
    free(ta->pkey.key.ec.q);
  }
}

/* ta from a decoded certificate: 0 or -1 ENOMEM */
static int anchor_fill(br_x509_trust_anchor *ta, const stralloc *dn, const br_x509_pkey *pk, int ca)
{
  memset(ta, 0, sizeof *ta);
  ta->flags = ca ? BR_X509_TA_CA : 0;
  ta->pkey.key_type = pk->key_type;
  ta->dn.data = dup_mem(dn->s, dn->len);
  ta->dn.len = dn->len;
  if (pk->key_type == BR_KEYTYPE_RSA) {
    ta->pkey.key.rsa.n = dup_mem(pk->key.rsa.n, pk->key.rsa.nlen);
    ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
    ta->pkey.key.rsa.e = dup_mem(pk->key.rsa.e, pk->key.rsa.elen);
    ta->pkey.key.rsa.elen = pk->key.rsa.elen;
    if (ta->dn.data && ta->pkey.key.rsa.n && ta->pkey.key.rsa.e) return 0;
  } else {
    ta->pkey.key.ec.curve = pk->key.ec.curve;
    ta->pkey.key.ec.q = dup_mem(pk->key.ec.q, pk->key.ec.qlen);
    ta->pkey.key.ec.qlen = pk->key.ec.qlen;
    if (ta->dn.data && ta->pkey.key.ec.q) return 0;
  }
  anchor_clear(ta);
  errno = ENOMEM;
  return -1;
}

static int anchor_obj(struct pem_load *pl, const char *name, const unsigned char *der, size_t len)
{
  struct tls_anchors *a = pl->a;
  struct der_sink dn = { { 0, 0, 0 }, 0 };
  br_x509_decoder_context dc;
  const br_x509_pkey *pk;
  int r = 0;
  if (strcmp(name, "CERTIFICATE") && strcmp(name, "X509 CERTIFICATE") && strcmp(name, "TRUSTED CERTIFICATE"))
    return 0;
  br_x509_decoder_init(&dc, der_append, &dn);
  br_x509_decoder_push(&dc, der, len);
  pk = br_x509_decoder_get_pkey(&dc);
  if (!pk) goto out;                        /* a key type BearSSL lacks: skip it */
  if (dn.oom) { errno = ENOMEM; r = -1; goto out; }
  if (a->n == a->a) {
    size_t na = a->a ? 2 * a->a : 64;
    br_x509_trust_anchor *t = realloc(a->ta, na * sizeof *t);
    if (!t) { errno = ENOMEM; r = -1; goto out; }
    a->ta = t;
    a->a = na;
  }
  r = anchor_fill(&a->ta[a->n], &dn.sa, pk, br_x509_decoder_isCA(&dc));
  if (!r) a->n++;
out:
  stralloc_free(&dn.sa);
  return r;
}

void tls_anchors_free(struct tls_anchors *a)
{
  size_t i;
  if (!a) return;
  for (i = 0; i < a->n; i++) anchor_clear(&a->ta[i]);
  free(a->ta);
  free(a);
}

size_t tls_anchors_count(const struct tls_anchors *a) { return a ? a->n : 0; }

int tls_anchors_load(struct tls_anchors **ap, const char *bundle)
{
  struct pem_load pl = { 0, 0, 0 };
  int r, e;
  *ap = 0;
  pl.a = calloc(1, sizeof *pl.a);
  if (!pl.a) { errno = ENOMEM; return -1; }
  r = pem_file(bundle, anchor_obj, &pl);
  if (!r && !pl.a->n) { warn("unable to load ", bundle, ": no usable certificate"); r = -2; }
  if (r) {
    e = errno;
    tls_anchors_free(pl.a);
    errno = e;
    return r;
  }
  *ap = pl.a;
  return 0;
}

/* ---------------------------------------------------------------- inspection */

/* run the first certificate alone through BearSSL's X.509 validation with
   anchor as the only trust anchor, at the certificate's notBefore, checking
   name (0: no name check): 0 when it is trusted, else BR_ERR_X509_* */
static unsigned chain_verdict(const br_x509_certificate *cert, const br_x509_trust_anchor *anchor,
                              const br_x509_decoder_context *dc, const char *name)
{
  br_x509_minimal_context xc;
  const br_x509_class **vt = &xc.vtable;
  br_x509_minimal_init_full(&xc, anchor, 1);
  br_x509_minimal_set_time(&xc, dc->notbefore_days, dc->notbefore_seconds);
  (*vt)->start_chain(vt, name);
  (*vt)->start_cert(vt, (uint32_t)cert->data_len);
  (*vt)->append(vt, cert->data, cert->data_len);
  (*vt)->end_cert(vt);
  return (*vt)->end_chain(vt);
}

/* days since 0 AD and seconds of the day (BearSSL's dates) as Unix time */
static long long unix_time(uint32_t days, uint32_t seconds)
{
  return ((long long)days - 719528) * 86400 + seconds;
}

static int inspect(const struct tls_creds *c, const char *name, struct tls_certinfo *ci)
{
  struct der_sink dn = { { 0, 0, 0 }, 0 };
  br_x509_decoder_context dc;
  br_x509_trust_anchor self;
  const br_x509_pkey *pk;
  unsigned v;
  br_x509_decoder_init(&dc, der_append, &dn);
  br_x509_decoder_push(&dc, c->chain[0].data, c->chain[0].data_len);
  pk = br_x509_decoder_get_pkey(&dc);
  if (!pk || dn.oom) { stralloc_free(&dn.sa); if (dn.oom) errno = ENOMEM; return dn.oom ? -1 : -2; }
  ci->not_after = unix_time(dc.notafter_days, dc.notafter_seconds);
  if (anchor_fill(&self, &dn.sa, pk, 1) < 0) { stralloc_free(&dn.sa); return -1; }
  v = chain_verdict(&c->chain[0], &self, &dc, 0);
  ci->self_signed = v == 0;
  v = chain_verdict(&c->chain[0], &self, &dc, name);
  ci->name_ok = v != BR_ERR_X509_BAD_SERVER_NAME;
  anchor_clear(&self);
  stralloc_free(&dn.sa);
  return 0;
}

int tls_cert_inspect(const char *certfile, const char *name, struct tls_certinfo *ci)
{
  struct pem_load pl = { 0, 0, 0 };
  int r, e;
  pl.c = calloc(1, sizeof *pl.c);
  if (!pl.c) { errno = ENOMEM; return -1; }
  r = pem_file(certfile, cert_obj, &pl);
  if (!r && !pl.c->chain_len) { warn("unable to load ", certfile, ": no certificate"); r = -2; }
  if (!r) {
    r = inspect(pl.c, name, ci);
    if (r == -2) warn("unable to load ", certfile, ": unsupported or damaged certificate");
  }
  e = errno;
  tls_creds_free(pl.c);
  errno = e;
  return r;
}
