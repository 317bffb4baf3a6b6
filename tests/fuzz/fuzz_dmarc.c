/*
 * fuzz_dmarc.c -- libFuzzer target for lib/dmarc.c and lib/psl.c: the input
 * as a DMARC record (a parsed record's values must be in range), as a
 * Public Suffix List (rules with wildcards, exceptions, garbage), and its
 * first line as a domain whose organizational domain is found with that
 * list and with a fixed one (the result must be a suffix of the domain that
 * starts at a label); discovery answers every TXT query with the input.
 */
#include <stdlib.h>
#include <string.h>
#include "dmarc.h"

static const char *data_s;
static size_t data_n;

static int txt(void *ctx, const char *name, stralloc *out)
{
  (void)ctx; (void)name;
  return stralloc_copyb(out, data_s, data_n) && stralloc_0(out) ? 1 : -1;
}

static void org_ok(const struct psl *p, const char *d)
{
  size_t o = psl_org(p, d);
  if (o > strlen(d) || (o && d[o - 1] != '.')) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  static const char fixed[] = "com\nco.uk\nuk\n*.ck\n!www.ck\n";
  const char *s = (const char *)data, *why, *nl;
  struct dmarc_record r;
  struct dmarc_found f;
  struct psl p, q;
  char dom[300];
  size_t n;
  data_s = s;
  data_n = size;
  if (dmarc_parse(&r, s, size, &why) == 0 && (r.pct > 100 || r.p > DMARC_P_REJECT || r.sp > DMARC_P_REJECT)) abort();
  nl = memchr(s, '\n', size);
  n = nl ? (size_t)(nl - s) : size;
  if (n >= sizeof dom || memchr(s, 0, n)) return 0;
  memcpy(dom, s, n);
  dom[n] = 0;
  if (psl_load_text(&p, s, size) < 0 || psl_load_text(&q, fixed, sizeof fixed - 1) < 0) abort();
  org_ok(&p, dom);
  org_ok(&q, dom);
  dmarc_discover(&f, dom, &p, txt, 0);
  psl_free(&p);
  psl_free(&q);
  return 0;
}
