/*
 * hdr8.c -- 8-bit header text made 7-bit (see hdr8.h).
 */
#include <errno.h>
#include <string.h>
#include "ew.h"
#include "hdr8.h"

static int nomem(void) { errno = ENOMEM; return -1; }

static int has8(const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) if ((unsigned char)s[i] & 0x80) return 1;
  return 0;
}

static const char *raw_label(const struct conv *c, const char *s, size_t n)
{
  if (utf8_valid(s, n)) return "utf-8";
  if (!c->p->inbound && !cs_is_ascii(c->p->d.nonmimecharset)) return c->p->d.nonmimecharset;
  return "unknown-8bit";
}

int hdr8_words(const struct conv *c, const char *s, size_t n, stralloc *out)
{
  const char *cs = raw_label(c, s, n);
  int rc;
  if (strcmp(cs, "utf-8")) return ew_encode_raw(s, n, cs, out);
  rc = ew_encode(s, n, cs, out);
  return rc == 1 ? ew_encode_raw(s, n, cs, out) : rc;
}

/* ---- parameters */

static int params8(const struct conv *c, const stralloc *v, stralloc *out)
{
  stralloc val = {0};
  struct mparam p;
  size_t pos = 0, copied = 0;
  int rc = 0;
  while (rc == 0 && mime_param_next(v->s, v->len, &pos, &p)) {
    if (!has8(v->s + p.val, p.vallen) || memchr(v->s + p.name, '*', p.namelen)) continue;
    if (!stralloc_catb(out, v->s + copied, p.start - copied) || !stralloc_copyb(&val, v->s + p.name, p.namelen)
        || !stralloc_0(&val)) { rc = nomem(); break; }
    {
      const char *q = v->s + p.val;
      size_t qn = p.vallen, keep = val.len;
      if (p.quoted && qn >= 2) { q++; qn -= 2; }
      if (!stralloc_catb(&val, q, qn)) { rc = nomem(); break; }
      rc = mime_param_cat(out, val.s, val.s + keep, qn, raw_label(c, q, qn));
    }
    copied = p.end;
  }
  if (rc == 0 && !stralloc_catb(out, v->s + copied, v->len - copied)) rc = nomem();
  stralloc_free(&val);
  return rc;
}

/* ---- unstructured text: runs of 8-bit words */

static size_t word_end(const char *s, size_t n, size_t i)
{
  while (i < n && s[i] != ' ' && s[i] != '\t') i++;
  return i;
}

static int unstructured8(const struct conv *c, const stralloc *v, stralloc *out)
{
  size_t i = 0, n = v->len;
  const char *s = v->s;
  while (i < n) {
    size_t j = word_end(s, n, i), a, k;
    if (i == j) { if (!stralloc_append(out, s + i)) return nomem(); i++; continue; }
    if (!has8(s + i, j - i)) { if (!stralloc_catb(out, s + i, j - i)) return nomem(); i = j; continue; }
    a = i;
    for (;;) {                                    /* extend over white space + 8-bit word */
      for (k = j; k < n && (s[k] == ' ' || s[k] == '\t'); k++) ;
      if (k == j || k >= n || !has8(s + k, word_end(s, n, k) - k)) break;
      j = word_end(s, n, k);
    }
    if (hdr8_words(c, s + a, j - a, out) < 0) return -1;
    i = j;
  }
  return 0;
}

/* ---- address lists */

static size_t skip_quoted(const char *s, size_t n, size_t i)
{
  for (i++; i < n && s[i] != '"'; i++) if (s[i] == '\\' && i + 1 < n) i++;
  return i < n ? i + 1 : n;
}

static size_t skip_comment(const char *s, size_t n, size_t i)
{
  int depth = 0;
  for (; i < n; i++) {
    if (s[i] == '\\' && i + 1 < n) { i++; continue; }
    if (s[i] == '(') depth++;
    else if (s[i] == ')' && --depth == 0) return i + 1;
  }
  return n;
}

/* text without quotes and backslashes */
static int unquoted(const char *s, size_t n, stralloc *t)
{
  size_t i;
  t->len = 0;
  for (i = 0; i < n; i++) {
    if (s[i] == '"') continue;
    if (s[i] == '\\' && i + 1 < n) i++;
    if (!stralloc_append(t, s + i)) return nomem();
  }
  return 0;
}

/* a phrase (display name) with 8-bit text: white space kept around the words */
static int phrase8(const struct conv *c, const char *s, size_t n, stralloc *out, stralloc *t)
{
  size_t a = 0, b = n;
  while (a < b && (s[a] == ' ' || s[a] == '\t')) a++;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) b--;
  if (!stralloc_catb(out, s, a) || unquoted(s + a, b - a, t) < 0) return nomem();
  if (hdr8_words(c, t->s, t->len, out) < 0) return -1;
  return stralloc_catb(out, s + b, n - b) ? 0 : nomem();
}

static int segment8(const struct conv *c, const char *s, size_t i, size_t j, stralloc *out, stralloc *t)
{
  size_t k;
  int at = 0;
  for (k = i; k < j; k = s[k] == '"' ? skip_quoted(s, j, k) : k + 1) if (s[k] == '@') at = 1;
  if (!has8(s + i, j - i) || at) {
    if (has8(s + i, j - i)) cwarn("an 8-bit address cannot be downgraded: left as it is", "", "");
    return stralloc_catb(out, s + i, j - i) ? 0 : nomem();
  }
  return phrase8(c, s + i, j - i, out, t);
}

static int addr8(const struct conv *c, const stralloc *v, stralloc *out)
{
  stralloc t = {0};
  const char *s = v->s;
  size_t i = 0, n = v->len, j;
  int rc = 0;
  while (i < n && rc == 0) {
    if (s[i] == '(') {
      j = skip_comment(s, n, i);
      if (!has8(s + i, j - i) || j - i < 2) rc = stralloc_catb(out, s + i, j - i) ? 0 : nomem();
      else if (!stralloc_append(out, "(") || unquoted(s + i + 1, j - i - 2, &t) < 0) rc = nomem();
      else if ((rc = hdr8_words(c, t.s, t.len, out)) == 0 && !stralloc_append(out, ")")) rc = nomem();
    } else if (s[i] == '<') {
      for (j = i; j < n && s[j] != '>'; j = s[j] == '"' ? skip_quoted(s, n, j) : j + 1) ;
      j = j < n ? j + 1 : n;
      rc = segment8(c, s, i, j, out, &t);
    } else if (strchr(",:;", s[i])) {
      j = i + 1;
      rc = stralloc_append(out, s + i) ? 0 : nomem();
    } else {
      for (j = i; j < n && !strchr("(<,:;", s[j]); j = s[j] == '"' ? skip_quoted(s, n, j) : j + 1) ;
      rc = segment8(c, s, i, j, out, &t);
    }
    i = j;
  }
  stralloc_free(&t);
  return rc;
}

static const char *const addr_fields[] = { "from", "to", "cc", "bcc", "reply-to", "sender", "resent-from",
  "resent-to", "resent-cc", "resent-bcc", "resent-sender", "resent-reply-to", 0 };

int hdr8_field(struct conv *c, const struct mhdr *h, size_t i, stralloc *v)
{
  stralloc out = {0};
  int rc, k, addr = 0;
  for (k = 0; addr_fields[k]; k++) if (mhdr_is(h, i, addr_fields[k])) addr = 1;
  if (mhdr_is(h, i, "content-type") || mhdr_is(h, i, "content-disposition")) rc = params8(c, v, &out);
  else if (addr) rc = addr8(c, v, &out);
  else rc = unstructured8(c, v, &out);
  if (rc == 0 && !stralloc_copy(v, &out)) rc = nomem();
  stralloc_free(&out);
  return rc < 0 ? -1 : 1;
}
