/*
 * dkim_hdr.c -- the hash of the signed header fields (RFC 6376 section
 * 3.7), shared by signing and verifying (see dkim.h).
 *
 * Each name in h= takes the last field of that name not yet taken, from
 * the bottom of the header section up; a name with none left adds
 * nothing (which is how signing a name once more than it occurs keeps an
 * added field from verifying).  Then the DKIM-Signature field itself, with
 * the value of its b= tag (and the whitespace around it) removed, in the
 * same canonical form but without its final CRLF.
 */
#include <string.h>
#include "dkim.h"

/* the field with b='s value removed, into out */
static int strip_b(stralloc *out, const char *f, size_t len)
{
  const char *colon = memchr(f, ':', len);
  size_t i;
  if (!colon) return stralloc_catb(out, f, len) ? 0 : -1;
  i = (size_t)(colon - f) + 1;
  if (!stralloc_catb(out, f, i)) return -1;
  while (i < len) {
    size_t s = i, n;
    const char *semi = memchr(f + i, ';', len - i);
    size_t e = semi ? (size_t)(semi - f) : len;
    while (s < e && dkim_is_fws(f[s])) s++;
    n = s;
    while (n < e && f[n] != '=' && !dkim_is_fws(f[n])) n++;
    if (n - s == 1 && f[s] == 'b') {
      const char *eq = memchr(f + n, '=', e - n);
      size_t upto = eq ? (size_t)(eq - f) + 1 : e;
      if (!stralloc_catb(out, f + i, upto - i)) return -1;
    } else if (!stralloc_catb(out, f + i, e - i)) return -1;
    if (semi && !stralloc_append(out, ";")) return -1;
    i = semi ? e + 1 : len;
  }
  return 0;
}

/* the next name of the ':'-separated list at *p into name: 1, 0 at the end */
static int next_name(const char **p, char *name, size_t cap)
{
  const char *e;
  size_t n;
  if (!**p) return 0;
  e = strchr(*p, ':');
  n = e ? (size_t)(e - *p) : strlen(*p);
  if (n >= cap) n = cap - 1;
  memcpy(name, *p, n);
  name[n] = 0;
  *p = e ? e + 1 : *p + strlen(*p);
  return 1;
}

int dkim_header_hash(const struct dkim_field *f, int nf, const char *h, int relaxed,
                     const char *sig, size_t siglen, unsigned char out[32])
{
  stralloc c = {0};
  unsigned char used[DKIM_FIELDS_MAX];
  char name[80];
  const char *p = h;
  br_sha256_context sha;
  int k, r = -1;
  memset(used, 0, sizeof used);
  while (next_name(&p, name, sizeof name)) {
    for (k = nf - 1; k >= 0 && (used[k] || !dkim_field_is(&f[k], name)); k--) ;
    if (k < 0) continue;
    used[k] = 1;
    if (dkim_header_canon(&c, f[k].s, f[k].len, relaxed) < 0) goto done;
  }
  {
    stralloc b = {0};
    int ok = strip_b(&b, sig, siglen) == 0 && dkim_header_canon(&c, b.s, b.len, relaxed) == 0;
    stralloc_free(&b);
    if (!ok) goto done;
  }
  c.len -= 2;                                   /* no CRLF after the signature field */
  br_sha256_init(&sha);
  br_sha256_update(&sha, c.s, c.len);
  br_sha256_out(&sha, out);
  r = 0;
done:
  stralloc_free(&c);
  return r;
}
