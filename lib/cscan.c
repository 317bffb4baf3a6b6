/*
 * cscan.c -- the content note of imc-queue (see cscan.h).
 */
#include <string.h>
#include "cscan.h"

static const char begin[] = "begin ";

void cscan_init(struct cscan *c)
{
  memset(c, 0, sizeof *c);
}

void cscan_feed(struct cscan *c, const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char b = (unsigned char)s[i];
    if (b == '\n') {
      if (c->line > c->maxline) c->maxline = c->line;
      c->line = 0;
      c->match = 0;
      continue;
    }
    c->line++;
    if (b & 0x80) c->eightbit = 1;
    if (c->match >= 0) {
      if (b != (unsigned char)begin[c->match]) c->match = -1;
      else if (++c->match == 6) { c->uu = 1; c->match = -1; }
    }
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
