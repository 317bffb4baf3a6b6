/*
 * admin_held.c -- the parser of queue/info/held, the destinations the
 * administrator holds (docs/INTERNALS.md section 13): one domain a line,
 * written by imc-send.  The tools read it leniently: white space around
 * the domain, a leading `@`, blank lines and `#` comments are allowed,
 * and the domain is lower-cased.  It takes any bytes (fuzzed by
 * tests/fuzz/fuzz_admin.c); a line holding a NUL is skipped.
 */
#include <errno.h>
#include <string.h>
#include "admin.h"

/* one word of a line, lower-cased, appended NUL-terminated */
static int held_word(const char *s, size_t len, stralloc *out)
{
  size_t i, start = 0, end;
  while (start < len && (s[start] == ' ' || s[start] == '\t')) start++;
  for (end = start; end < len && s[end] != ' ' && s[end] != '\t' && s[end] != '#' && s[end] != '\r'; end++) ;
  if (end == start || s[start] == '#') return 0;
  if (s[start] == '@') start++;
  if (end == start) return 0;
  if (!stralloc_catb(out, s + start, end - start) || !stralloc_0(out)) { errno = ENOMEM; return -1; }
  for (i = out->len - 1 - (end - start); i < out->len - 1; i++)
    if (out->s[i] >= 'A' && out->s[i] <= 'Z') out->s[i] = (char)(out->s[i] + 32);
  return 0;
}

int held_parse(const char *text, size_t len, stralloc *out)
{
  size_t pos = 0;
  out->len = 0;
  while (pos < len) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - text) - pos : len - pos;
    if (memchr(text + pos, 0, n) == 0 && held_word(text + pos, n, out) < 0) return -1;
    pos += n + 1;
  }
  return 0;
}
