/*
 * psl.c -- the Public Suffix List and organizational domains (see psl.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "fileio.h"
#include "psl.h"

#define RULE_MAX 253

static size_t hash(const char *s, size_t n)
{
  size_t h = 5381;
  while (n--) h = h * 33 + (unsigned char)*s++;
  return h;
}

static int lookup(const struct psl *p, const char *s, size_t n)
{
  size_t i;
  if (!p->nslot) return 0;
  for (i = hash(s, n) % p->nslot; p->slot[i]; i = (i + 1) % p->nslot) {
    const char *r = p->text.s + p->slot[i] - 1;
    if (strlen(r) == n && !memcmp(r, s, n)) return 1;
  }
  return 0;
}

static void insert(struct psl *p, size_t off)
{
  const char *r = p->text.s + off;
  size_t i = hash(r, strlen(r)) % p->nslot;
  while (p->slot[i]) i = (i + 1) % p->nslot;
  p->slot[i] = off + 1;
}

/* one line: its rule (up to the first whitespace) appended, lower case: 1, 0 none, -1 */
static int add_rule(struct psl *p, const char *line, size_t len)
{
  size_t n = 0, i;
  while (n < len && line[n] != ' ' && line[n] != '\t' && line[n] != '\r') n++;
  if (!n || n > RULE_MAX || (n >= 2 && line[0] == '/' && line[1] == '/')) return 0;
  for (i = 0; i < n; i++) {
    char c = line[i] >= 'A' && line[i] <= 'Z' ? line[i] + 32 : line[i];
    if (!stralloc_append(&p->text, &c)) return -1;
  }
  if (!stralloc_0(&p->text)) return -1;
  p->nrule++;
  return 1;
}

int psl_load_text(struct psl *p, const char *text, size_t len)
{
  size_t pos = 0, off = 0, k;
  memset(p, 0, sizeof *p);
  while (pos < len) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - text - pos) : len - pos;
    if (add_rule(p, text + pos, n) < 0) { psl_free(p); errno = ENOMEM; return -1; }
    pos += n + 1;
  }
  p->nslot = p->nrule * 2 + 1;
  if (!(p->slot = calloc(p->nslot, sizeof *p->slot))) { psl_free(p); errno = ENOMEM; return -1; }
  for (k = 0; k < p->nrule; k++) {
    insert(p, off);
    off += strlen(p->text.s + off) + 1;
  }
  return 0;
}

int psl_load(struct psl *p, const char *path)
{
  stralloc sa = {0};
  int r = file_read(path, &sa);
  if (r == 0) errno = ENOENT;
  if (r <= 0) { stralloc_free(&sa); memset(p, 0, sizeof *p); return -1; }
  r = psl_load_text(p, sa.s, sa.len);
  stralloc_free(&sa);
  return r;
}

void psl_free(struct psl *p)
{
  stralloc_free(&p->text);
  free(p->slot);
  memset(p, 0, sizeof *p);
}

/* is "!"s, s, or "*."(s without its first label) a rule?  2 exception, 1 rule, 0 */
static int matches(const struct psl *p, const char *s, size_t n)
{
  char buf[RULE_MAX + 3];
  const char *dot = memchr(s, '.', n);
  if (n > RULE_MAX) return 0;
  buf[0] = '!';
  memcpy(buf + 1, s, n);
  if (lookup(p, buf, n + 1)) return 2;
  if (lookup(p, s, n)) return 1;
  if (dot) {
    size_t rest = n - (size_t)(dot - s) - 1;
    buf[0] = '*'; buf[1] = '.';
    memcpy(buf + 2, dot + 1, rest);
    if (lookup(p, buf, rest + 2)) return 1;
  }
  return 0;
}

size_t psl_org(const struct psl *p, const char *domain)
{
  size_t n = strlen(domain), i, best;            /* best: where the public suffix starts */
  size_t starts[128], ns = 0;
  starts[ns++] = 0;
  for (i = 0; i < n && ns < 128; i++) if (domain[i] == '.') starts[ns++] = i + 1;
  best = starts[ns - 1];                          /* the default rule "*": the last label */
  for (i = 0; i < ns; i++) {                     /* from the longest suffix */
    int m = matches(p, domain + starts[i], n - starts[i]);
    if (m == 2) { best = i + 1 < ns ? starts[i + 1] : n; break; }
    if (m == 1 && starts[i] < best) best = starts[i];
  }
  if (best == 0) return 0;                        /* a public suffix itself */
  for (i = ns; i-- > 0;) if (starts[i] < best) return starts[i];
  return 0;
}
