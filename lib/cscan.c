/*
 * cscan.c -- the content note of imc-queue (see cscan.h).
 */
#include <string.h>
#include "bytes.h"
#include "cscan.h"

static const char begin[] = "begin ";

void cscan_init(struct cscan *c)
{
  memset(c, 0, sizeof *c);
}

/* "begin " at the start of a line: the bytes of this line's first run that may still match */
static void match_begin(struct cscan *c, const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n && c->match >= 0; i++) {
    if ((unsigned char)s[i] != (unsigned char)begin[c->match]) c->match = -1;
    else if (++c->match == 6) { c->uu = 1; c->match = -1; }
  }
}

/* a line at a time: memchr finds its end, bytes_high its 8-bit bytes */
void cscan_feed(struct cscan *c, const char *s, size_t n)
{
  while (n) {
    const char *nl = memchr(s, '\n', n);
    size_t run = nl ? (size_t)(nl - s) : n;
    if (c->match >= 0) match_begin(c, s, run);
    if (!c->eightbit && bytes_high(s, run)) c->eightbit = 1;
    c->line += run;
    if (!nl) return;
    if (c->line > c->maxline) c->maxline = c->line;
    c->line = 0;
    c->match = 0;
    s = nl + 1;
    n -= run + 1;
  }
}

int cscan_record(const struct cscan *c, stralloc *env)
{
  unsigned long maxline = c->line > c->maxline ? c->line : c->maxline;
  if (!stralloc_cats(env, "Icontent=")) return -1;
  if (!c->eightbit && !c->uu && !stralloc_append(env, "-")) return -1;
  if (c->eightbit && !stralloc_append(env, "8")) return -1;
  if (c->uu && !stralloc_append(env, "u")) return -1;
  if (!stralloc_append(env, "/") || !stralloc_catulong(env, maxline)) return -1;
  return stralloc_0(env) ? 0 : -1;
}

int cfacts_parse(struct cfacts *f, const char *val, size_t len)
{
  size_t i = 8;
  memset(f, 0, sizeof *f);
  if (len < 10 || memcmp(val, "content=", 8)) return 0;
  for (; i < len && val[i] != '/'; i++) {
    if (val[i] == '8') f->eightbit = 1;
    else if (val[i] == 'u') f->uu = 1;
    else if (val[i] != '-') return 0;
  }
  if (i >= len || i + 1 + scan_ulongn(val + i + 1, len - i - 1, &f->maxline) != len || i + 1 == len) return 0;
  f->known = 1;
  return 1;
}
