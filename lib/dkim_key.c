/*
 * dkim_key.c -- a DKIM key record (RFC 6376 section 3.6.1, RFC 8463) and
 * the RSA public key inside it (see dkim.h).
 *
 * Tags: v= (DKIM1, first if present), k= (rsa, the default, or ed25519),
 * h= (if present it must allow sha256), s= (* or email), t= (y, s), p=
 * (base64; empty: revoked).  An RSA p= is DER: SubjectPublicKeyInfo
 * (SEQUENCE { SEQUENCE { OID rsaEncryption, NULL }, BIT STRING { RSAPublicKey } })
 * or, as some publish, the RSAPublicKey SEQUENCE { INTEGER n, INTEGER e }
 * alone.  The DER reader checks every length against what is left.
 */
#include <string.h>
#include "dkim.h"

/* ---- DER */

struct der { const unsigned char *p; size_t len; };

/* the next element of tag at d: its contents in *in, d advanced past it: 0, -1 */
static int der_next(struct der *d, unsigned char tag, struct der *in)
{
  size_t l, k, n;
  if (d->len < 2 || d->p[0] != tag) return -1;
  l = d->p[1];
  k = 2;
  if (l & 0x80) {
    n = l & 0x7f;
    if (n == 0 || n > 3 || d->len < 2 + n) return -1;
    for (l = 0; n--; k++) l = l << 8 | d->p[k];
  }
  if (l > d->len - k) return -1;
  in->p = d->p + k;
  in->len = l;
  d->p += k + l;
  d->len -= k + l;
  return 0;
}

/* an unsigned INTEGER without its leading zeros into out (cap bytes) */
static int der_uint(struct der *d, unsigned char *out, size_t cap, size_t *outlen)
{
  struct der v;
  if (der_next(d, 0x02, &v) < 0 || !v.len || (v.p[0] & 0x80)) return -1;
  while (v.len > 1 && v.p[0] == 0) { v.p++; v.len--; }
  if (v.len > cap) return -1;
  memcpy(out, v.p, v.len);
  *outlen = v.len;
  return 0;
}

static int rsa_public_key(struct dkim_key *k, struct der d)
{
  struct der seq;
  unsigned b;
  if (der_next(&d, 0x30, &seq) < 0 || d.len) return -1;
  if (der_uint(&seq, k->n, sizeof k->n, &k->nlen) < 0 || der_uint(&seq, k->e, sizeof k->e, &k->elen) < 0 || seq.len)
    return -1;
  for (b = 0; b < 8 && !(k->n[0] & (0x80 >> b)); b++) ;
  k->bits = (unsigned)k->nlen * 8 - b;
  return 0;
}

int dkim_der_rsa(struct dkim_key *k, const unsigned char *der, size_t len)
{
  static const unsigned char rsa_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };
  struct der d = { der, len }, spki, alg, oid, bits;
  if (len && der[0] == 0x30 && rsa_public_key(k, d) == 0) return 0;      /* bare RSAPublicKey */
  if (der_next(&d, 0x30, &spki) < 0 || d.len) return -1;
  if (der_next(&spki, 0x30, &alg) < 0 || der_next(&alg, 0x06, &oid) < 0) return -1;
  if (oid.len != sizeof rsa_oid || memcmp(oid.p, rsa_oid, sizeof rsa_oid)) return -1;
  if (der_next(&spki, 0x03, &bits) < 0 || spki.len || !bits.len || bits.p[0] != 0) return -1;
  bits.p++;
  bits.len--;
  return rsa_public_key(k, bits);
}

/* ---- the record */

static int value_is(const struct dkim_tag *t, const char *v)
{
  return t->vlen == strlen(v) && !memcmp(t->val, v, t->vlen);
}

/* does a ':'-separated list (with FWS) hold word? */
static int list_has(const struct dkim_tag *t, const char *word)
{
  size_t i = 0, n = strlen(word);
  while (i < t->vlen) {
    size_t s, e;
    while (i < t->vlen && dkim_is_fws(t->val[i])) i++;
    s = i;
    while (i < t->vlen && t->val[i] != ':') i++;
    e = i;
    while (e > s && dkim_is_fws(t->val[e - 1])) e--;
    if (e - s == n && !memcmp(t->val + s, word, n)) return 1;
    i++;
  }
  return 0;
}

static int key_tags(struct dkim_key *k, const struct dkim_tag *t, int n, const char **why)
{
  const struct dkim_tag *x;
  if ((x = dkim_tag_get(t, n, "v")) && (x != &t[0] || !value_is(x, "DKIM1"))) { *why = "bad v= in the key"; return -1; }
  k->alg = DKIM_A_RSA_SHA256;
  if ((x = dkim_tag_get(t, n, "k"))) {
    if (value_is(x, "ed25519")) k->alg = DKIM_A_ED25519_SHA256;
    else if (!value_is(x, "rsa")) { *why = "unknown key type"; return -1; }
  }
  if ((x = dkim_tag_get(t, n, "h")) && !list_has(x, "sha256")) { *why = "the key does not allow sha256"; return -1; }
  if ((x = dkim_tag_get(t, n, "s")) && !list_has(x, "*") && !list_has(x, "email")) { *why = "the key is not for email"; return -1; }
  if ((x = dkim_tag_get(t, n, "t"))) { k->testing = list_has(x, "y"); k->strict = list_has(x, "s"); }
  return 0;
}

int dkim_key_parse(struct dkim_key *k, const char *txt, size_t len, const char **why)
{
  struct dkim_tag t[DKIM_TAGS_MAX];
  unsigned char der[1100];
  size_t dlen;
  int n = dkim_tags(txt, len, t, DKIM_TAGS_MAX, why);
  const struct dkim_tag *p;
  memset(k, 0, sizeof *k);
  if (n < 0 || key_tags(k, t, n, why) < 0) return -1;
  if (!(p = dkim_tag_get(t, n, "p"))) { *why = "no p= in the key"; return -1; }
  if (!p->vlen) { *why = "key revoked"; return -1; }
  if (dkim_b64(p, der, sizeof der, &dlen) < 0) { *why = "bad base64 in p="; return -1; }
  if (k->alg == DKIM_A_ED25519_SHA256) {
    if (dlen != 32) { *why = "an Ed25519 key is not 32 bytes"; return -1; }
    memcpy(k->n, der, 32);
    k->nlen = 32;
    k->bits = 256;
    return 0;
  }
  if (dkim_der_rsa(k, der, dlen) < 0) { *why = "p= is not an RSA public key"; return -1; }
  return 0;
}
