/*
 * utf8.c -- see utf8.h.  The bounds of each sequence's second byte are
 * RFC 3629's table (section 4): they rule out overlong forms, surrogates
 * and code points above U+10FFFF; every later byte is 80-BF.
 */
#include "utf8.h"

static int cont(unsigned char c) { return c >= 0x80 && c <= 0xbf; }

/* the sequence's length from its lead byte, and its second byte's bounds */
static size_t lead(unsigned char c, unsigned char *lo, unsigned char *hi)
{
  *lo = 0x80;
  *hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) return 2;
  if (c >= 0xe0 && c <= 0xef) {
    if (c == 0xe0) *lo = 0xa0;
    if (c == 0xed) *hi = 0x9f;
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (c == 0xf0) *lo = 0x90;
    if (c == 0xf4) *hi = 0x8f;
    return 4;
  }
  return 0;
}

size_t utf8_char(const char *s, size_t n, unsigned long *cp)
{
  const unsigned char *u = (const unsigned char *)s;
  unsigned char lo, hi;
  size_t len, i;
  if (n == 0) return 0;
  if (u[0] < 0x80) { *cp = u[0]; return 1; }
  len = lead(u[0], &lo, &hi);
  if (len == 0 || len > n || u[1] < lo || u[1] > hi) return 0;
  *cp = u[0] & (0x7f >> len);
  for (i = 1; i < len; i++) {
    if (!cont(u[i])) return 0;
    *cp = (*cp << 6) | (u[i] & 0x3f);
  }
  return len;
}

static int control(unsigned long cp) { return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f); }

size_t utf8_printable_char(const char *s, size_t n)
{
  unsigned long cp;
  size_t k = utf8_char(s, n, &cp);
  return k && !control(cp) ? k : 0;
}

int utf8_wellformed(const char *s, size_t n)
{
  size_t i = 0, k;
  unsigned long cp;
  while (i < n) {
    if ((k = utf8_char(s + i, n - i, &cp)) == 0) return 0;
    i += k;
  }
  return 1;
}

int utf8_printable(const char *s, size_t n)
{
  size_t i = 0, k;
  while (i < n) {
    if ((k = utf8_printable_char(s + i, n - i)) == 0) return 0;
    i += k;
  }
  return 1;
}

size_t utf8_clean(char *out, size_t cap, const char *s, size_t len, char repl)
{
  size_t i = 0, o = 0, k, j;
  unsigned long cp;
  while (i < len && o < cap) {
    k = utf8_char(s + i, len - i, &cp);
    if (k == 0 || control(cp)) { out[o++] = repl; i += k ? k : 1; continue; }
    if (o + k > cap) break;
    for (j = 0; j < k; j++) out[o++] = s[i++];
  }
  return o;
}

int utf8_has8bit(const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) if ((unsigned char)s[i] & 0x80) return 1;
  return 0;
}
