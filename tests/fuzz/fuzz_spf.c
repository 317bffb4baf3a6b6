/*
 * fuzz_spf.c -- libFuzzer target for the SPF record parser and macro
 * expansion (lib/spf_record.c, lib/spf_macro.c): the input is scanned as a
 * whole record, walked term by term (every term's parts must lie inside
 * the input, CIDR lengths within range), and expanded as an explanation
 * and as a domain-spec (the expansion stays within SPF_EXPAND_MAX, a
 * domain within 253 bytes); then evaluated with a DNS that answers every
 * TXT question with the input itself, which exercises include and
 * redirect recursion to the limits.
 */
#include <stdlib.h>
#include <string.h>
#include "spf.h"
#include "rules.h"

static const unsigned char *in;
static size_t inlen;

static int inside(const char *p, size_t len) { return p >= (const char *)in && p + len <= (const char *)in + inlen; }

static int fake(void *ctx, const char *name, unsigned type, struct dnsq_result *r)
{
  char l[2] = { (char)(inlen >> 8), (char)inlen };
  (void)ctx; (void)name;
  r->recs.len = 0;
  r->n = 0;
  if (type == DNSQ_TXT && inlen < 65536) {
    stralloc_catb(&r->recs, l, 2);
    stralloc_catb(&r->recs, (const char *)in, inlen);
    r->n = 1;
  } else if (type == DNSQ_A) {
    stralloc_catb(&r->recs, "\0\4\300\0\2\1", 6);
    r->n = 1;
  }
  return r->status = DNSQ_OK;
}

static void walk(void)
{
  struct spf_term t;
  struct spf_record_info info;
  size_t pos = 0, prev = 0;
  int r, scanned = spf_record_scan((const char *)in, inlen, &info);
  while ((r = spf_term_next((const char *)in, inlen, &pos, &t)) == 1) {
    if (!inside(t.text, t.len) || (t.arg && !inside(t.arg, t.alen))) abort();
    if (t.cidr4 > 32 || t.cidr6 > 128 || pos <= prev || pos > inlen) abort();
    prev = pos;
  }
  if (scanned == 0 && r != 0 && info.bad == 0) abort();
}

static void expand(void)
{
  static stralloc out;
  struct spf_macro_vars v;
  unsigned char ip[16] = {0,0,0,0, 0,0,0,0, 0,0,0xff,0xff, 192,0,2,1};
  int nm;
  memset(&v, 0, sizeof v);
  v.s = "user@example.test"; v.l = "user"; v.o = v.d = "example.test"; v.h = "helo.test";
  v.ip = ip;
  if (spf_expand(&v, (const char *)in, inlen, 1, &out, &nm) == 0 && out.len > SPF_EXPAND_MAX) abort();
  if (spf_expand_domain(&v, (const char *)in, inlen, &out, &nm) == 0 && out.len > DNSQ_NAME_MAX) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  static struct spf_outcome o;
  struct spf_request q;
  in = data;
  inlen = size;
  walk();
  expand();
  memset(&q, 0, sizeof q);
  ip_scan("192.0.2.1", q.ip);
  q.helo = "helo.test";
  q.lookup = fake;
  spf_check_mailfrom(&q, "user@example.test", &o);
  if (o.result < SPF_NONE || o.result > SPF_PERMERROR || o.lookups > SPF_LOOKUP_MAX + 1) abort();
  return 0;
}
