/*
 * dkim_verify.c -- verifying a message's DKIM signatures (see dkim.h).
 *
 * dkim_verify_start parses up to DKIM_SIGS_MAX DKIM-Signature fields of the
 * header section (one that does not parse is a permerror) and starts a body
 * hash for each; the body is fed as it arrives; dkim_verify_finish compares
 * the body hashes, fetches each key (SELECTOR._domainkey.DOMAIN TXT), and
 * checks the signature over the header hash.  Results (RFC 8601): pass;
 * fail (body or signature does not match, expired, key too weak); neutral
 * (Ed25519 not usable here); temperror (DNS); permerror (bad field, no key,
 * bad key, revoked).  RSA keys below 1024 bits fail (RFC 8301).
 */
#include <string.h>
#include <nettle/eddsa.h>
#include "dkim.h"

const char *const dkim_result_name[] = { "none", "pass", "fail", "neutral", "temperror", "permerror", "policy" };

static void verdict(struct dkim_check *c, enum dkim_result r, const char *why)
{
  c->result = r;
  c->why = why;
}

static void identify(struct dkim_check *c, const struct dkim_sig *s)
{
  memcpy(c->domain, s->domain, sizeof c->domain);
  memcpy(c->selector, s->selector, sizeof c->selector);
  memcpy(c->ident, s->ident, sizeof c->ident);
}

/* header.b: the first 8 characters of b= as written */
static void b_short(struct dkim_check *c, const char *value, size_t len)
{
  struct dkim_tag t[DKIM_TAGS_MAX];
  const struct dkim_tag *b;
  const char *why;
  size_t i, o = 0;
  int n = dkim_tags(value, len, t, DKIM_TAGS_MAX, &why);
  c->bshort[0] = 0;
  if (n < 0 || !(b = dkim_tag_get(t, n, "b"))) return;
  for (i = 0; i < b->vlen && o < 8; i++)
    if (!dkim_is_fws(b->val[i])) c->bshort[o++] = b->val[i];
  c->bshort[o] = 0;
}

int dkim_verify_start(struct dkim_verify *v, const char *head, size_t len)
{
  static struct dkim_field f[DKIM_FIELDS_MAX];
  size_t hdrlen;
  int nf, k;
  memset(v, 0, sizeof *v);
  if (!stralloc_copyb(&v->head, head, len)) return -1;
  nf = dkim_fields(v->head.s, v->head.len, f, DKIM_FIELDS_MAX, &hdrlen);
  for (k = 0; k < nf && v->nsig < DKIM_SIGS_MAX; k++) {
    struct dkim_check *c = &v->res[v->nsig];
    const char *val, *why = 0;
    if (!dkim_field_is(&f[k], "dkim-signature")) continue;
    val = memchr(f[k].s, ':', f[k].len) + 1;
    v->field[v->nsig] = k;
    b_short(c, val, f[k].len - (size_t)(val - f[k].s));
    if (dkim_sig_parse(&v->sig[v->nsig], val, f[k].len - (size_t)(val - f[k].s), &why) < 0) verdict(c, DKIM_PERMERROR, why);
    else {
      identify(c, &v->sig[v->nsig]);
      dkim_body_init(&v->body[v->nsig], v->sig[v->nsig].bcanon, v->sig[v->nsig].length);
      c->result = DKIM_NONE;                    /* to be decided */
    }
    v->nsig++;
  }
  return 0;
}

void dkim_verify_body(struct dkim_verify *v, const char *s, size_t n)
{
  int k;
  for (k = 0; k < v->nsig; k++)
    if (v->res[k].result == DKIM_NONE) dkim_body_put(&v->body[k], s, n);
}

/* the first TXT record at the key's name that parses: 1, or 0 with the result set */
static int fetch_key(struct dkim_key *key, const struct dkim_sig *s, dkim_txt_fn *txt, void *ctx, struct dkim_check *c)
{
  stralloc name = {0}, recs = {0};
  const char *why = "no key record";
  size_t p = 0;
  int r, found = 0;
  if (!stralloc_copys(&name, s->selector) || !stralloc_cats(&name, "._domainkey.") || !stralloc_cats(&name, s->domain)
      || !stralloc_0(&name)) { verdict(c, DKIM_TEMPERROR, "out of memory"); return 0; }
  r = txt(ctx, name.s, &recs);
  while (r > 0 && !found && p < recs.len) {
    size_t n = strlen(recs.s + p);
    found = dkim_key_parse(key, recs.s + p, n, &why) == 0;
    p += n + 1;
  }
  if (r < 0) verdict(c, DKIM_TEMPERROR, "key lookup failed");
  else if (!found) verdict(c, DKIM_PERMERROR, why);
  stralloc_free(&name);
  stralloc_free(&recs);
  return found;
}

static int key_fits(const struct dkim_key *k, const struct dkim_sig *s, struct dkim_check *c)
{
  const char *at = strrchr(s->ident, '@');
  if (k->alg != s->alg) { verdict(c, DKIM_PERMERROR, "key type does not match a="); return 0; }
  if (k->strict && (!at || strcmp(at + 1, s->domain))) { verdict(c, DKIM_PERMERROR, "key is for d= only (t=s)"); return 0; }
  if (k->alg == DKIM_A_RSA_SHA256 && k->bits < 1024) { verdict(c, DKIM_FAIL, "RSA key below 1024 bits"); return 0; }
  return 1;
}

static int rsa_ok(const struct dkim_key *k, const struct dkim_sig *s, const unsigned char hh[32])
{
  br_rsa_public_key pk;
  unsigned char out[64];
  pk.n = (unsigned char *)k->n; pk.nlen = k->nlen;
  pk.e = (unsigned char *)k->e; pk.elen = k->elen;
  if (s->blen != k->nlen) return 0;
  if (!br_rsa_pkcs1_vrfy_get_default()(s->b, s->blen, BR_HASH_OID_SHA256, 32, &pk, out)) return 0;
  return !memcmp(out, hh, 32);
}

static int ed25519_ok(const struct dkim_key *k, const struct dkim_sig *s, const unsigned char hh[32])
{
  return s->blen == 64 && ed25519_sha512_verify(k->n, 32, hh, s->b);
}

static void check_one(struct dkim_verify *v, int i, dkim_txt_fn *txt, void *ctx, unsigned long long now)
{
  static struct dkim_field f[DKIM_FIELDS_MAX];
  const struct dkim_sig *s = &v->sig[i];
  struct dkim_check *c = &v->res[i];
  struct dkim_key key;
  struct dkim_field self;
  unsigned char bh[32], hh[32];
  size_t hdrlen;
  int nf, k;
  dkim_body_end(&v->body[i], bh);
  if (s->length >= 0 && v->body[i].total < (unsigned long long)s->length) { verdict(c, DKIM_PERMERROR, "l= past the body"); return; }
  if (s->x && now > s->x) { verdict(c, DKIM_FAIL, "signature expired"); return; }
  if (memcmp(bh, s->bh, 32)) { verdict(c, DKIM_FAIL, "body hash did not verify"); return; }
  if (!fetch_key(&key, s, txt, ctx, c) || !key_fits(&key, s, c)) return;
  nf = dkim_fields(v->head.s, v->head.len, f, DKIM_FIELDS_MAX, &hdrlen);
  k = v->field[i];
  self = f[k];
  memmove(f + k, f + k + 1, (size_t)(nf - k - 1) * sizeof *f);   /* h= never takes the field itself */
  if (dkim_header_hash(f, nf - 1, s->h, s->hcanon, self.s, self.len, hh) < 0) { verdict(c, DKIM_TEMPERROR, "out of memory"); return; }
  if (s->alg == DKIM_A_RSA_SHA256 ? rsa_ok(&key, s, hh) : ed25519_ok(&key, s, hh)) verdict(c, DKIM_PASS, 0);
  else verdict(c, DKIM_FAIL, "signature did not verify");
}

void dkim_verify_finish(struct dkim_verify *v, dkim_txt_fn *txt, void *ctx, unsigned long long now)
{
  int k;
  for (k = 0; k < v->nsig; k++)
    if (v->res[k].result == DKIM_NONE) check_one(v, k, txt, ctx, now);
}

void dkim_verify_free(struct dkim_verify *v)
{
  stralloc_free(&v->head);
}
