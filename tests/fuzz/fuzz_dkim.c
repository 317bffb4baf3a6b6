/*
 * fuzz_dkim.c -- libFuzzer target for lib/dkim*'s parsers: the input as a
 * tag list, a DKIM-Signature value, a key record and a DER key; then as a
 * whole message whose DKIM-Signature fields are verified, the key lookup
 * answering with the input's last line (so signatures, keys and bodies
 * are all attacker's bytes).  Checks: a tag list's tags lie inside the
 * input, no tag name is empty; nothing crashes or reads out of bounds
 * under ASan; every signature gets a result.
 */
#include <stdlib.h>
#include <string.h>
#include "dkim.h"

static const char *data_s;
static size_t data_n;

static int txt(void *ctx, const char *name, stralloc *out)
{
  const char *nl = data_n ? memrchr(data_s, '\n', data_n) : 0;
  size_t off = nl ? (size_t)(nl - data_s) + 1 : 0;
  (void)ctx; (void)name;
  out->len = 0;
  if (off == data_n) return 0;
  return stralloc_copyb(out, data_s + off, data_n - off) && stralloc_0(out) ? 1 : -1;
}

static void tags(const char *s, size_t n)
{
  struct dkim_tag t[DKIM_TAGS_MAX];
  const char *why;
  int k, c = dkim_tags(s, n, t, DKIM_TAGS_MAX, &why);
  for (k = 0; k < c; k++) {
    if (!t[k].nlen || t[k].name < s || t[k].name + t[k].nlen > s + n) abort();
    if (t[k].val < s || t[k].val + t[k].vlen > s + n) abort();
  }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  const char *s = (const char *)data, *why;
  struct dkim_sig sig;
  struct dkim_key key;
  static struct dkim_verify v;
  size_t k;
  data_s = s;
  data_n = size;
  tags(s, size);
  dkim_sig_parse(&sig, s, size, &why);
  dkim_key_parse(&key, s, size, &why);
  dkim_der_rsa(&key, data, size);
  if (dkim_verify_start(&v, s, size) == 0) {
    dkim_verify_body(&v, s, size);
    dkim_verify_finish(&v, txt, 0, 1796000000ULL);
    for (k = 0; k < (size_t)v.nsig; k++)
      if (v.res[k].result == DKIM_NONE) abort();
  }
  dkim_verify_free(&v);
  return 0;
}
