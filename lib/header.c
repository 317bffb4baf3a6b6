/*
 * header.c -- see header.h.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "header.h"

size_t header_end(const char *s, size_t len)
{
  size_t i = 0;
  while (i < len) {
    const char *nl = memchr(s + i, '\n', len - i);
    size_t linelen;
    if (!nl) return len;
    linelen = (size_t)(nl - (s + i));
    if (linelen == 0 || (linelen == 1 && s[i] == '\r')) return i + linelen + 1;
    i += linelen + 1;
  }
  return len;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* append one physical line's text (without the line end) */
static int cat_line(stralloc *v, const char *s, size_t n)
{
  while (n && (s[n - 1] == '\r')) n--;
  return stralloc_catb(v, s, n) ? 0 : -1;
}

int header_get(const char *s, size_t len, const char *name, stralloc *value)
{
  size_t nlen = strlen(name), end = header_end(s, len), i = 0;
  while (i < end) {
    const char *line = s + i, *nl = memchr(line, '\n', end - i);
    size_t linelen = nl ? (size_t)(nl - line) : end - i;
    i += linelen + 1;
    if (linelen <= nlen || line[nlen] != ':' || strncasecmp(line, name, nlen)) continue;
    value->len = 0;
    if (cat_line(value, line + nlen + 1, linelen - nlen - 1) < 0) goto nomem;
    while (i < end && (s[i] == ' ' || s[i] == '\t')) {       /* folded continuation */
      const char *c = s + i, *cnl = memchr(c, '\n', end - i);
      size_t clen = cnl ? (size_t)(cnl - c) : end - i;
      if (cat_line(value, c, clen) < 0) goto nomem;
      i += clen + 1;
    }
    {
      size_t a = 0, b = value->len;
      while (a < b && is_ws(value->s[a])) a++;
      while (b > a && is_ws(value->s[b - 1])) b--;
      memmove(value->s, value->s + a, b - a);
      value->len = b - a;
    }
    return 1;
  }
  return 0;
nomem:
  errno = ENOMEM;
  return -1;
}
