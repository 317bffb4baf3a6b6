/*
 * dkim_sign.c -- a DKIM-Signature for a message (see dkim.h): rsa-sha256,
 * c=relaxed/relaxed, t= the signing time, h= every field of
 * dkim_signed_headers the message has (as many times as it has it) and
 * From once more, so that a From: added on the way does not verify.
 *
 * The field is folded at about 76 columns; it is hashed exactly as it is
 * written, with b= empty, so a verifier that unfolds it sees the same.
 */
#include <string.h>
#include "base64.h"
#include "dkim.h"

const char *const dkim_signed_headers[] = {
  "from", "to", "cc", "subject", "date", "message-id", "reply-to", "in-reply-to", "references",
  "mime-version", "content-type", "content-transfer-encoding", 0
};

/* h=: each name as often as a field has it, from once more */
static int h_list(char *h, size_t cap, const struct dkim_field *f, int nf)
{
  size_t o = 0;
  int i, k;
  for (i = 0; dkim_signed_headers[i]; i++) {
    int times = !strcmp(dkim_signed_headers[i], "from");
    size_t n = strlen(dkim_signed_headers[i]);
    for (k = 0; k < nf; k++) times += dkim_field_is(&f[k], dkim_signed_headers[i]);
    while (times--) {
      if (o + n + 2 > cap) return -1;
      if (o) h[o++] = ':';
      memcpy(h + o, dkim_signed_headers[i], n);
      o += n;
    }
  }
  h[o] = 0;
  return 0;
}

/* appends text to the field, starting a continuation line first when the
   current line would pass 76 columns; *col tracks the column */
static int fold_cat(stralloc *out, const char *text, size_t n, size_t *col)
{
  if (*col + n > 76 && *col > 1) {
    if (!stralloc_cats(out, "\n\t")) return -1;
    *col = 1;
  }
  *col += n;
  return stralloc_catb(out, text, n) ? 0 : -1;
}

/* the h= list, broken after colons where needed */
static int fold_list(stralloc *out, const char *h, size_t *col)
{
  while (*h) {
    const char *e = strchr(h, ':');
    size_t n = e ? (size_t)(e - h) + 1 : strlen(h);
    if (fold_cat(out, h, n, col) < 0) return -1;
    h += n;
  }
  return 0;
}

static int head_tags(stralloc *out, const struct dkim_signer *s, const char *h, const unsigned char bh[32])
{
  char b64[BASE64_LEN(32)], t[24];
  size_t col = 0;
  stralloc tmp = {0};
  int ok;
  t[fmt_ulonglong(t, s->now)] = 0;
  ok = stralloc_cats(&tmp, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=") && stralloc_cats(&tmp, s->domain)
       && stralloc_cats(&tmp, "; s=") && stralloc_cats(&tmp, s->selector) && stralloc_cats(&tmp, ";");
  if (!ok || fold_cat(out, tmp.s, tmp.len, &col) < 0) { stralloc_free(&tmp); return -1; }
  stralloc_free(&tmp);
  if (fold_cat(out, " t=", 3, &col) < 0 || fold_cat(out, t, strlen(t), &col) < 0 || fold_cat(out, ";", 1, &col) < 0
      || fold_cat(out, " h=", 3, &col) < 0 || fold_list(out, h, &col) < 0 || fold_cat(out, ";", 1, &col) < 0) return -1;
  if (!stralloc_cats(out, "\n\tbh=") || !stralloc_catb(out, b64, base64_encode(b64, (const char *)bh, 32))
      || !stralloc_cats(out, ";\n\tb=")) return -1;
  return 0;
}

/* the signature in base64, 72 characters a line */
static int b_value(stralloc *out, const unsigned char *sig, size_t len)
{
  char b64[BASE64_LEN(1024)];
  size_t n = base64_encode(b64, (const char *)sig, len), i;
  for (i = 0; i < n; i += 72) {
    if (i && !stralloc_cats(out, "\n\t")) return -1;
    if (!stralloc_catb(out, b64 + i, n - i < 72 ? n - i : 72)) return -1;
  }
  return stralloc_cats(out, "\n") ? 0 : -1;
}

int dkim_sign(stralloc *out, const char *msg, size_t len, const struct dkim_signer *s)
{
  static struct dkim_field f[DKIM_FIELDS_MAX];
  struct dkim_body body;
  unsigned char bh[32], hh[32], sig[1024];
  size_t hdrlen, start = out->len, siglen = (s->key->n_bitlen + 7) / 8;
  char h[512];
  int nf = dkim_fields(msg, len, f, DKIM_FIELDS_MAX, &hdrlen);
  if (nf < 0 || siglen > sizeof sig || h_list(h, sizeof h, f, nf) < 0) return -1;
  dkim_body_init(&body, DKIM_RELAXED, -1);
  dkim_body_put(&body, msg + hdrlen, len - hdrlen);
  dkim_body_end(&body, bh);
  if (head_tags(out, s, h, bh) < 0) return -1;
  if (dkim_header_hash(f, nf, h, DKIM_RELAXED, out->s + start, out->len - start, hh) < 0) return -1;
  if (!br_rsa_pkcs1_sign_get_default()(BR_HASH_OID_SHA256, hh, 32, s->key, sig)) return -1;
  return b_value(out, sig, siglen);
}
