/*
 * ew.c -- RFC 2047 encoded words (see ew.h).
 */
#include <errno.h>
#include <string.h>
#include "base64.h"
#include "b64.h"
#include "charset.h"
#include "ew.h"
#include "qp.h"

static int nomem(void) { errno = ENOMEM; return -1; }

int ew_at(const char *s, size_t n, size_t i, struct ew *w)
{
  size_t j;
  if (i + 8 > n || s[i] != '=' || s[i + 1] != '?') return 0;
  w->start = i;
  w->cs = i + 2;
  for (j = w->cs; j < n && s[j] != '?' && (unsigned char)s[j] > 32 && (unsigned char)s[j] < 127; j++) ;
  if (j >= n || s[j] != '?' || j == w->cs || j + 3 >= n) return 0;
  w->cslen = j - w->cs;
  {
    const char *star = memchr(s + w->cs, '*', w->cslen);
    if (star) w->cslen = (size_t)(star - (s + w->cs));
  }
  if (!w->cslen || s[j + 2] != '?') return 0;
  w->enc = (char)(s[j + 1] & ~32);
  if (w->enc != 'Q' && w->enc != 'B') return 0;
  w->text = j + 3;
  for (j = w->text; j + 1 < n && !(s[j] == '?' && s[j + 1] == '='); j++)
    if ((unsigned char)s[j] <= 32 || (unsigned char)s[j] >= 127) return 0;
  if (j + 1 >= n) return 0;
  w->textlen = j - w->text;
  w->end = j + 2;
  return 1;
}

int ew_next(const char *s, size_t n, size_t from, struct ew *w)
{
  size_t i;
  for (i = from; i + 1 < n; i++) if (s[i] == '=' && s[i + 1] == '?' && ew_at(s, n, i, w)) return 1;
  return 0;
}

int ew_bytes(const char *s, const struct ew *w, stralloc *out)
{
  size_t got;
  if (!stralloc_readyplus(out, w->textlen + 4)) return nomem();
  if (w->enc == 'Q') got = qp_decode_q((unsigned char *)out->s + out->len, s + w->text, w->textlen);
  else got = b64_decode_raw((unsigned char *)out->s + out->len, s + w->text, w->textlen);
  out->len += got;
  return 0;
}

static int only_ws(const char *s, size_t a, size_t b)
{
  for (; a < b; a++) if (s[a] != ' ' && s[a] != '\t' && s[a] != '\r' && s[a] != '\n') return 0;
  return 1;
}

/* the words of one run from *w on, joined by charset and converted to UTF-8
   into u8; *last gets the run's last word; *same is set when every word is in
   charset cmp.  0 ok, 1 unknown or invalid, -1 */
static int run_utf8(const char *s, size_t n, struct ew *w, struct ew *last, const char *cmp,
                    stralloc *u8, int *same)
{
  stralloc bytes = {0}, conv = {0};
  char cs[CS_NAME_MAX], cs2[CS_NAME_MAX];
  struct ew nx;
  int rc = 0;
  u8->len = 0;
  *same = 1;
  for (;;) {
    cs_label(cs, s + w->cs, w->cslen);
    if (!*cs || (cmp && !cs_same(cs, cmp))) *same = 0;
    bytes.len = 0;
    for (;;) {                                   /* words of this charset */
      if (ew_bytes(s, w, &bytes) < 0) { rc = -1; goto done; }
      *last = *w;
      if (!ew_next(s, n, w->end, &nx) || !only_ws(s, w->end, nx.start)) break;
      cs_label(cs2, s + nx.cs, nx.cslen);
      if (!cs_same(cs, cs2)) break;
      *w = nx;
    }
    if (!*cs) { rc = 1; goto done; }
    rc = cs_convert("UTF-8", cs, bytes.s, bytes.len, &conv);
    if (rc) { if (rc > 0) rc = 1; goto done; }
    if (!stralloc_cat(u8, &conv)) { rc = nomem(); goto done; }
    if (!ew_next(s, n, last->end, &nx) || !only_ws(s, last->end, nx.start)) break;
    *w = nx;
  }
done:
  stralloc_free(&bytes);
  stralloc_free(&conv);
  return rc;
}

int ew_decode(const char *s, size_t n, stralloc *out)
{
  stralloc u8 = {0};
  struct ew w, last;
  size_t i = 0;
  int words = 0, same, rc;
  out->len = 0;
  if (!n) return 0;
  while (ew_next(s, n, i, &w)) {
    size_t start = w.start;
    if (!stralloc_catb(out, s + i, start - i)) goto fail;
    rc = run_utf8(s, n, &w, &last, 0, &u8, &same);
    if (rc < 0) goto fail;
    if (rc == 0 && !stralloc_cat(out, &u8)) goto fail;
    if (rc == 1 && !stralloc_catb(out, s + start, last.end - start)) goto fail;
    words += rc == 0;
    i = last.end;
  }
  if (!stralloc_catb(out, s + i, n - i)) goto fail;
  stralloc_free(&u8);
  return words;
fail:
  stralloc_free(&u8);
  return nomem();
}

/* ---- encoding */

static int q_literal(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr("!*+-/", c));
}

static size_t q_len(const char *b, size_t n)
{
  size_t i, k = 0;
  for (i = 0; i < n; i++) k += q_literal((unsigned char)b[i]) || b[i] == ' ' ? 1 : 3;
  return k;
}

static int word_cat(stralloc *out, const char *cs, int b64, const char *b, size_t n)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  if (!stralloc_cats(out, "=?") || !stralloc_cats(out, cs) || !stralloc_cats(out, b64 ? "?B?" : "?Q?")) return -1;
  if (b64) {
    if (!stralloc_readyplus(out, (n + 2) / 3 * 4)) return -1;
    out->len += base64_encode(out->s + out->len, b, n);
  } else for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)b[i];
    char t[3] = { '=', hex[c >> 4], hex[c & 15] };
    int ok = c == ' ' ? stralloc_append(out, "_") : q_literal(c) ? stralloc_append(out, (char *)&c)
                                                                 : stralloc_catb(out, t, 3);
    if (!ok) return -1;
  }
  return stralloc_cats(out, "?=") ? 0 : -1;
}

static size_t word_len(const char *cs, int b64, const char *b, size_t n)
{
  return strlen(cs) + 7 + (b64 ? (n + 2) / 3 * 4 : q_len(b, n));
}

/* the longest run of whole characters from u8[i] whose word fits 75; its bytes in cb */
static int chunk(const char *u8, size_t n, size_t i, const char *cs, int b64, stralloc *cb, size_t *end)
{
  stralloc t = {0};
  size_t j = i, best = i;
  int rc = 0;
  while (j < n) {
    size_t k = j + utf8_seqlen((unsigned char)u8[j]);
    if (k > n) k = n;
    if (cs_is_utf8(cs)) rc = stralloc_copyb(&t, u8 + i, k - i) ? 0 : -1;
    else rc = cs_convert(cs, "UTF-8", u8 + i, k - i, &t);
    if (rc) break;
    if (word_len(cs, b64, t.s, t.len) > 75 && best > i) break;
    if (!stralloc_copy(cb, &t)) { rc = -1; break; }
    best = j = k;
  }
  stralloc_free(&t);
  *end = best;
  return rc < 0 ? nomem() : rc ? 1 : 0;
}

int ew_encode(const char *u8, size_t n, const char *cs, stralloc *out)
{
  stralloc all = {0}, cb = {0};
  size_t i = 0, end, keep = out->len;
  int rc = cs_convert(cs, "UTF-8", u8, n, &all), b64;
  if (rc == 2) rc = 1;
  if (rc) goto done;
  b64 = q_len(all.s, all.len) * 3 > all.len * 5;    /* more than a third escaped */
  while (i < n && rc == 0) {
    if ((rc = chunk(u8, n, i, cs, b64, &cb, &end)) != 0) break;
    if (out->len > keep && !stralloc_append(out, " ")) { rc = nomem(); break; }
    if (word_cat(out, cs, b64, cb.s, cb.len) < 0) { rc = nomem(); break; }
    i = end;
  }
done:
  if (rc) out->len = keep;
  stralloc_free(&all);
  stralloc_free(&cb);
  return rc;
}

int ew_encode_raw(const char *b, size_t n, const char *cs, stralloc *out)
{
  size_t i = 0, keep = out->len;
  int b64 = q_len(b, n) * 3 > n * 5;
  while (i < n) {
    size_t k = 1;
    while (i + k < n && word_len(cs, b64, b + i, k + 1) <= 75) k++;
    if ((out->len > keep && !stralloc_append(out, " ")) || word_cat(out, cs, b64, b + i, k) < 0) {
      out->len = keep;
      return nomem();
    }
    i += k;
  }
  return 0;
}

/* ---- moving runs to another charset */

static int transcode_run(const char *s, size_t n, struct ew *w, struct ew *last, const char *target,
                         stralloc *out, int *kept, int *changed)
{
  stralloc u8 = {0};
  size_t start = w->start;
  int same, rc = run_utf8(s, n, w, last, target, &u8, &same);
  if (rc < 0) goto done;
  if (rc == 0 && !same) {
    rc = ew_encode(u8.s, u8.len, target, out);
    if (rc == 0) *changed = 1;
    if (rc == 1) *kept = 1;
  }
  if (rc == 1 || same) rc = stralloc_catb(out, s + start, last->end - start) ? 0 : nomem();
done:
  stralloc_free(&u8);
  return rc;
}

int ew_transcode(const char *s, size_t n, const char *target, stralloc *out, int *kept)
{
  struct ew w, last;
  size_t i = 0;
  int changed = 0;
  out->len = 0;
  if (!n) return 0;
  while (ew_next(s, n, i, &w)) {
    if (!stralloc_catb(out, s + i, w.start - i)) return nomem();
    if (transcode_run(s, n, &w, &last, target, out, kept, &changed) < 0) return -1;
    i = last.end;
  }
  if (!stralloc_catb(out, s + i, n - i)) return nomem();
  return changed;
}
