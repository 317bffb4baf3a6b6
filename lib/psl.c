/*
 * psl.c -- the Public Suffix List and organizational domains (see psl.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "fileio.h"
#include "psl.h"

#define RULE_MAX 253

/* ---- SipHash-2-4 (Aumasson and Bernstein): a keyed 64-bit hash */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4])
{
  v[0] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[0]; v[0] = ROTL(v[0], 32);
  v[2] += v[3]; v[3] = ROTL(v[3], 16); v[3] ^= v[2];
  v[0] += v[3]; v[3] = ROTL(v[3], 21); v[3] ^= v[0];
  v[2] += v[1]; v[1] = ROTL(v[1], 17); v[1] ^= v[2]; v[2] = ROTL(v[2], 32);
}

static uint64_t le64(const unsigned char *b, size_t n)
{
  uint64_t x = 0;
  while (n--) x = (x << 8) | b[n];
  return x;
}

static uint64_t siphash(const uint64_t k[2], const char *s, size_t n)
{
  uint64_t v[4] = { k[0] ^ 0x736f6d6570736575ULL, k[1] ^ 0x646f72616e646f6dULL,
                    k[0] ^ 0x6c7967656e657261ULL, k[1] ^ 0x7465646279746573ULL };
  const unsigned char *b = (const unsigned char *)s;
  size_t i;
  uint64_t m;
  for (i = 0; i + 8 <= n; i += 8) {
    m = le64(b + i, 8);
    v[3] ^= m; sip_round(v); sip_round(v); v[0] ^= m;
  }
  m = le64(b + i, n - i) | ((uint64_t)(n & 0xff) << 56);
  v[3] ^= m; sip_round(v); sip_round(v); v[0] ^= m;
  v[2] ^= 0xff;
  sip_round(v); sip_round(v); sip_round(v); sip_round(v);
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---- the rules as a sorted array of their hashes */

static int cmp64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int lookup(const struct psl *p, const char *s, size_t n)
{
  uint64_t h;
  if (!p->nrule) return 0;
  h = siphash(p->key, s, n);
  return bsearch(&h, p->hash, p->nrule, sizeof h, cmp64) != 0;
}

static int add_rule(struct psl *p, const char *line, size_t len, size_t *cap)
{
  char r[RULE_MAX];
  size_t n = 0, i;
  while (n < len && line[n] != ' ' && line[n] != '\t' && line[n] != '\r') n++;
  if (!n || n > RULE_MAX || (n >= 2 && line[0] == '/' && line[1] == '/')) return 0;
  for (i = 0; i < n; i++) r[i] = line[i] >= 'A' && line[i] <= 'Z' ? line[i] + 32 : line[i];
  if (p->nrule == *cap) {
    size_t c = *cap ? *cap * 2 : 1024;
    uint64_t *h = realloc(p->hash, c * sizeof *h);
    if (!h) return -1;
    p->hash = h;
    *cap = c;
  }
  p->hash[p->nrule++] = siphash(p->key, r, n);
  return 1;
}

static void new_key(struct psl *p)
{
  if (getrandom(p->key, sizeof p->key, 0) != (ssize_t)sizeof p->key) {
    p->key[0] = (uint64_t)(uintptr_t)p ^ 0x9e3779b97f4a7c15ULL;    /* never on Linux >= 3.17 */
    p->key[1] = (uint64_t)(uintptr_t)&p->key ^ 0xc2b2ae3d27d4eb4fULL;
  }
}

int psl_load_text(struct psl *p, const char *text, size_t len)
{
  size_t pos = 0, cap = 0, i, k;
  uint64_t *h;
  memset(p, 0, sizeof *p);
  new_key(p);
  while (pos < len) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - text - pos) : len - pos;
    if (add_rule(p, text + pos, n, &cap) < 0) { psl_free(p); errno = ENOMEM; return -1; }
    pos += n + 1;
  }
  if (p->nrule) qsort(p->hash, p->nrule, sizeof *p->hash, cmp64);
  for (i = k = 0; i < p->nrule; i++)                 /* the same rule twice is one */
    if (!k || p->hash[i] != p->hash[k - 1]) p->hash[k++] = p->hash[i];
  p->nrule = k;
  if (k && (h = realloc(p->hash, k * sizeof *h)) != 0) p->hash = h;
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
  free(p->hash);
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
