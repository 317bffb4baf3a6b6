/*
 * dkim_tags.c -- DKIM's tag lists and the DKIM-Signature field (see dkim.h).
 *
 * tag-list = tag-spec *( ";" tag-spec ) [ ";" ], tag-spec = [FWS] name [FWS]
 * "=" [FWS] value [FWS], name = ALPHA *(ALPHA / DIGIT / "_"), value = words of
 * %x21-3A / %x3C-7E separated by FWS.  A duplicate tag makes the list invalid.
 */
#include <string.h>
#include "base64.h"
#include "dkim.h"

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_valchar(char c) { return c >= 0x21 && c <= 0x7e && c != ';'; }

static size_t skip_wsp(const char *s, size_t len, size_t i)
{
  while (i < len && dkim_is_fws(s[i])) i++;
  return i;
}

/* one tag-spec at *i (which stops at ';' or the end): 0, -1 */
static int tag_spec(const char *s, size_t len, size_t *i, struct dkim_tag *t, const char **why)
{
  size_t p = skip_wsp(s, len, *i), end;
  t->name = s + p;
  if (p >= len || !is_alpha(s[p])) { *why = "tag name expected"; return -1; }
  while (p < len && (is_alpha(s[p]) || is_digit(s[p]) || s[p] == '_')) p++;
  t->nlen = (size_t)(s + p - t->name);
  p = skip_wsp(s, len, p);
  if (p >= len || s[p] != '=') { *why = "'=' expected after a tag name"; return -1; }
  p = skip_wsp(s, len, p + 1);
  t->val = s + p;
  end = p;
  while (p < len && s[p] != ';') {
    if (!dkim_is_fws(s[p]) && !is_valchar(s[p])) { *why = "bad character in a tag value"; return -1; }
    if (!dkim_is_fws(s[p])) end = p + 1;
    p++;
  }
  t->vlen = end - (size_t)(t->val - s);
  *i = p;
  return 0;
}

static int same_name(const struct dkim_tag *a, const struct dkim_tag *b)
{
  return a->nlen == b->nlen && !memcmp(a->name, b->name, a->nlen);
}

int dkim_tags(const char *s, size_t len, struct dkim_tag *t, int max, const char **why)
{
  size_t i = 0;
  int n = 0, k;
  while (skip_wsp(s, len, i) < len) {
    if (n == max) { *why = "too many tags"; return -1; }
    if (tag_spec(s, len, &i, &t[n], why) < 0) return -1;
    for (k = 0; k < n; k++)
      if (same_name(&t[k], &t[n])) { *why = "duplicate tag"; return -1; }
    n++;
    if (i < len) i++;                   /* the ';' */
  }
  return n;
}

const struct dkim_tag *dkim_tag_get(const struct dkim_tag *t, int n, const char *name)
{
  size_t len = strlen(name);
  int k;
  for (k = 0; k < n; k++)
    if (t[k].nlen == len && !memcmp(t[k].name, name, len)) return &t[k];
  return 0;
}

/* ---- the DKIM-Signature's values */

/* a tag's value without its FWS into out (cap bytes, NUL-terminated): 0, -1 too long */
static int unfold(const struct dkim_tag *t, char *out, size_t cap)
{
  size_t i, o = 0;
  for (i = 0; i < t->vlen; i++) {
    if (dkim_is_fws(t->val[i])) continue;
    if (o + 1 >= cap) return -1;
    out[o++] = t->val[i];
  }
  out[o] = 0;
  return 0;
}

static int lower_copy(const struct dkim_tag *t, char *out, size_t cap)
{
  char *p;
  if (unfold(t, out, cap) < 0) return -1;
  for (p = out; *p; p++) if (*p >= 'A' && *p <= 'Z') *p += 32;
  return 0;
}

/* a base64 value with FWS inside (b=, bh=, p=) into out: 0, -1 */
int dkim_b64(const struct dkim_tag *t, unsigned char *out, size_t cap, size_t *outlen)
{
  char text[2048];
  if (!t || unfold(t, text, sizeof text) < 0) return -1;
  return base64_decode(text, strlen(text), (char *)out, cap, outlen);
}

static int number(const struct dkim_tag *t, unsigned long long *v)
{
  size_t i;
  *v = 0;
  if (!t->vlen || t->vlen > 12) return -1;
  for (i = 0; i < t->vlen; i++) {
    if (!is_digit(t->val[i])) return -1;
    *v = *v * 10 + (unsigned long long)(t->val[i] - '0');
  }
  return 0;
}

static int canon_names(struct dkim_sig *s, const struct dkim_tag *c)
{
  char v[32], *slash;
  s->hcanon = s->bcanon = DKIM_SIMPLE;
  if (!c) return 0;
  if (lower_copy(c, v, sizeof v) < 0) return -1;
  slash = strchr(v, '/');
  if (slash) *slash++ = 0;
  if (!strcmp(v, "relaxed")) s->hcanon = DKIM_RELAXED;
  else if (strcmp(v, "simple")) return -1;
  if (!slash || !strcmp(slash, "simple")) return 0;
  if (!strcmp(slash, "relaxed")) { s->bcanon = DKIM_RELAXED; return 0; }
  return -1;
}

static int algorithm(struct dkim_sig *s, const struct dkim_tag *a, const char **why)
{
  char v[32];
  if (!a || lower_copy(a, v, sizeof v) < 0) { *why = "no usable a= tag"; return -1; }
  if (!strcmp(v, "rsa-sha256")) s->alg = DKIM_A_RSA_SHA256;
  else if (!strcmp(v, "ed25519-sha256")) s->alg = DKIM_A_ED25519_SHA256;
  else { *why = !strcmp(v, "rsa-sha1") ? "rsa-sha1 is not accepted (RFC 8301)" : "unknown algorithm"; return -1; }
  return 0;
}

/* h= must name from; i= must be in d= or a subdomain of it */
static int consistent(const struct dkim_sig *s, const char **why)
{
  const char *p = s->h, *at;
  size_t dl = strlen(s->domain), il;
  int from = 0;
  while (*p) {
    const char *e = strchr(p, ':');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n == 4 && !memcmp(p, "from", 4)) from = 1;
    if (!n) { *why = "empty name in h="; return 0; }
    p += n + (e != 0);
  }
  if (!from) { *why = "h= does not sign From"; return 0; }
  at = strrchr(s->ident, '@');
  if (!at) { *why = "i= has no @"; return 0; }
  at++;
  il = strlen(at);
  if (!(il == dl && !strcmp(at, s->domain)) && !(il > dl && at[il - dl - 1] == '.' && !strcmp(at + il - dl, s->domain))) {
    *why = "i= is not within d=";
    return 0;
  }
  if (s->x && s->t && s->x < s->t) { *why = "x= before t="; return 0; }
  return 1;
}

static int required(const struct dkim_tag *t, int n, const char **why)
{
  static const char *const need[] = { "v", "a", "b", "bh", "d", "h", "s", 0 };
  const struct dkim_tag *v;
  int k;
  for (k = 0; need[k]; k++)
    if (!dkim_tag_get(t, n, need[k])) { *why = "a required tag is missing"; return 0; }
  v = dkim_tag_get(t, n, "v");
  if (v->vlen != 1 || v->val[0] != '1') { *why = "v= is not 1"; return 0; }
  return 1;
}

static int optional(struct dkim_sig *s, const struct dkim_tag *t, int n, const char **why)
{
  const struct dkim_tag *x;
  unsigned long long l;
  s->length = -1;
  s->t = s->x = 0;
  if ((x = dkim_tag_get(t, n, "l")) && number(x, &l) < 0) { *why = "bad l="; return -1; }
  if (x) s->length = (long long)l;
  if ((x = dkim_tag_get(t, n, "t")) && number(x, &s->t) < 0) { *why = "bad t="; return -1; }
  if ((x = dkim_tag_get(t, n, "x")) && number(x, &s->x) < 0) { *why = "bad x="; return -1; }
  if ((x = dkim_tag_get(t, n, "q")) && !(x->vlen >= 7 && !memcmp(x->val, "dns/txt", 7))) { *why = "q= is not dns/txt"; return -1; }
  if ((x = dkim_tag_get(t, n, "i"))) { if (lower_copy(x, s->ident, sizeof s->ident) < 0) { *why = "i= too long"; return -1; } }
  else { s->ident[0] = '@'; memcpy(s->ident + 1, s->domain, strlen(s->domain) + 1); }
  return 0;
}

int dkim_sig_parse(struct dkim_sig *s, const char *value, size_t len, const char **why)
{
  struct dkim_tag t[DKIM_TAGS_MAX];
  size_t bhlen;
  int n = dkim_tags(value, len, t, DKIM_TAGS_MAX, why);
  memset(s, 0, sizeof *s);
  if (n < 0 || !required(t, n, why) || algorithm(s, dkim_tag_get(t, n, "a"), why) < 0) return -1;
  if (canon_names(s, dkim_tag_get(t, n, "c")) < 0) { *why = "bad c="; return -1; }
  if (lower_copy(dkim_tag_get(t, n, "d"), s->domain, sizeof s->domain) < 0 || !s->domain[0]) { *why = "bad d="; return -1; }
  if (lower_copy(dkim_tag_get(t, n, "s"), s->selector, sizeof s->selector) < 0 || !s->selector[0]) { *why = "bad s="; return -1; }
  if (lower_copy(dkim_tag_get(t, n, "h"), s->h, sizeof s->h) < 0) { *why = "h= too long"; return -1; }
  if (dkim_b64(dkim_tag_get(t, n, "b"), s->b, sizeof s->b, &s->blen) < 0 || !s->blen) { *why = "bad b="; return -1; }
  if (dkim_b64(dkim_tag_get(t, n, "bh"), s->bh, sizeof s->bh, &bhlen) < 0 || bhlen != 32) { *why = "bad bh="; return -1; }
  if (optional(s, t, n, why) < 0) return -1;
  return consistent(s, why) ? 0 : -1;
}
