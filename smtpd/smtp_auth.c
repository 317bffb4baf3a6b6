/*
 * smtp_auth.c -- base64, PLAIN and LOGIN decoding, and the crypt(3) check
 * (see smtp_auth.h).
 *
 * The hash comparison takes the same time whatever the bytes, and an
 * unknown user costs one crypt(3) with the first user's setting, so timing
 * tells little about who exists.  Failure modes: malformed input (-1 from
 * the decoders), crypt(3) returning no hash (-1 from auth_check).
 */
#include <crypt.h>
#include <string.h>
#include "smtp_auth.h"

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
  const char *p = c ? strchr(b64chars, c) : 0;
  return p ? (int)(p - b64chars) : -1;
}

/* one group of 4 characters; pad: how many '=' it ends with (0..2) */
static int b64_group(const char *in, char *out, size_t *n, int last)
{
  int v[4], i, pad = 0;
  for (i = 0; i < 4; i++) {
    if (in[i] == '=' && last && i >= 2) { v[i] = 0; pad++; continue; }
    if (pad || (v[i] = b64_value(in[i])) < 0) return -1;
  }
  out[(*n)++] = (char)(v[0] << 2 | v[1] >> 4);
  if (pad < 2) out[(*n)++] = (char)((v[1] & 15) << 4 | v[2] >> 2);
  if (pad < 1) out[(*n)++] = (char)((v[2] & 3) << 6 | v[3]);
  return 0;
}

int b64_decode(const char *in, size_t len, char *out, size_t cap, size_t *outlen)
{
  size_t i;
  *outlen = 0;
  if (len % 4 || len / 4 * 3 > cap) return -1;
  for (i = 0; i < len; i += 4)
    if (b64_group(in + i, out, outlen, i + 4 == len) < 0) return -1;
  return 0;
}

size_t b64_encode(const char *in, size_t len, char *out)
{
  const unsigned char *s = (const unsigned char *)in;
  size_t i, n = 0;
  for (i = 0; i < len; i += 3) {
    unsigned v = (unsigned)s[i] << 16 | (i + 1 < len ? (unsigned)s[i + 1] << 8 : 0) | (i + 2 < len ? s[i + 2] : 0);
    out[n++] = b64chars[v >> 18 & 63];
    out[n++] = b64chars[v >> 12 & 63];
    out[n++] = i + 1 < len ? b64chars[v >> 6 & 63] : '=';
    out[n++] = i + 2 < len ? b64chars[v & 63] : '=';
  }
  return n;
}

int auth_plain_split(const char *buf, size_t len, const char **user, size_t *ulen,
                     const char **pass, size_t *plen)
{
  const char *n1 = memchr(buf, 0, len), *n2;
  size_t zlen;
  if (!n1) return -1;
  zlen = (size_t)(n1 - buf);
  *user = n1 + 1;
  n2 = memchr(*user, 0, len - zlen - 1);
  if (!n2) return -1;
  *ulen = (size_t)(n2 - *user);
  *pass = n2 + 1;
  *plen = len - zlen - *ulen - 2;
  if (!*ulen || !*plen || memchr(*pass, 0, *plen)) return -1;
  if (zlen && (zlen != *ulen || memcmp(buf, *user, zlen))) return -1;
  return 0;
}

static int same(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b), i;
  unsigned char d = (unsigned char)(la != lb);
  for (i = 0; i < la && i < lb; i++) d |= (unsigned char)(a[i] ^ b[i]);
  return d == 0;
}

int auth_check(const struct config *c, const char *user, size_t ulen, const char *pass, size_t plen)
{
  static struct crypt_data cd;
  char pw[AUTH_FIELD_MAX + 1];
  const char *hash, *got;
  size_t pos = 0;
  int known;
  if (plen > AUTH_FIELD_MAX || memchr(pass, 0, plen) || memchr(user, 0, ulen)) return 0;
  hash = config_auth_hash(c, user, ulen);
  known = hash != 0;
  if (!hash) {                                /* the same work for an unknown user */
    const char *first = config_list_next(&c->auth, &pos);
    if (!first) return 0;
    hash = strchr(first, ':') + 1;
  }
  memcpy(pw, pass, plen);
  pw[plen] = 0;
  got = crypt_rn(pw, hash, &cd, sizeof cd);
  explicit_bzero(pw, sizeof pw);
  if (!got || got[0] == '*') return known ? -1 : 0;
  return known && same(got, hash);
}
