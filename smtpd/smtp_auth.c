/*
 * smtp_auth.c -- PLAIN and LOGIN decoding (base64 is lib/base64.h), and the
 * crypt(3) check
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
#include "wipe.h"

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
  int known, r;
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
  if (!got || got[0] == '*') r = known ? -1 : 0;
  else r = known && same(got, hash);
  wipe_release(&cd, sizeof cd);             /* the hash work of this password: a worker lives on */
  return r;
}
