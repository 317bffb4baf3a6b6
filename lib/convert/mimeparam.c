/*
 * mimeparam.c -- Content-Type and Content-Disposition parameters, with
 * RFC 2231 continuations and charsets (see mime.h).
 *
 * Parsing is lenient the way mail readers are: an unquoted value runs to
 * the next ';' (file names with spaces are common), a parameter without
 * '=' is skipped, RFC 2047 words in a plain value are decoded (common in
 * file names though not allowed).  At most 64 RFC 2231 sections are read.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "charset.h"
#include "ew.h"
#include "mime.h"
#include "qp.h"

size_t mime_skip_cfws(const char *v, size_t n, size_t i);

static int nomem(void) { errno = ENOMEM; return -1; }

static size_t skip_quoted(const char *v, size_t n, size_t i)
{
  for (i++; i < n && v[i] != '"'; i++) if (v[i] == '\\' && i + 1 < n) i++;
  return i < n ? i + 1 : n;
}

int mime_param_next(const char *v, size_t n, size_t *pos, struct mparam *p)
{
  size_t i = *pos;
  for (;;) {
    i = mime_skip_cfws(v, n, i);
    if (i >= n) { *pos = n; return 0; }
    p->start = i;
    if (v[i] == ';') i = mime_skip_cfws(v, n, i + 1);
    p->name = i;
    while (i < n && v[i] != '=' && v[i] != ';' && v[i] != ' ' && v[i] != '\t' && v[i] != '(' && v[i] != '"') i++;
    p->namelen = i - p->name;
    i = mime_skip_cfws(v, n, i);
    if (i >= n || v[i] != '=' || !p->namelen) {            /* no value: skip to the next ';' */
      while (i < n && v[i] != ';') i = v[i] == '"' ? skip_quoted(v, n, i) : i + 1;
      if (i == p->start) i++;
      continue;
    }
    i = mime_skip_cfws(v, n, i + 1);
    p->val = i;
    p->quoted = i < n && v[i] == '"';
    if (p->quoted) i = skip_quoted(v, n, i);
    else {
      while (i < n && v[i] != ';') i++;
      while (i > p->val && (v[i - 1] == ' ' || v[i - 1] == '\t')) i--;
    }
    p->vallen = i - p->val;
    p->end = i;
    *pos = i;
    return 1;
  }
}

/* the value without its quotes and escapes */
static int unquote(const char *v, const struct mparam *p, stralloc *out)
{
  size_t i = p->val, e = p->val + p->vallen;
  out->len = 0;
  if (!p->quoted) return stralloc_catb(out, v + i, p->vallen) ? 0 : nomem();
  for (i++, e = e > i && v[e - 1] == '"' ? e - 1 : e; i < e; i++) {
    if (v[i] == '\\' && i + 1 < e) i++;
    if (!stralloc_append(out, v + i)) return nomem();
  }
  return 0;
}

/* name, name*, name*K, name*K*: which form p is of name: 0 none, 1 plain,
   2 extended (name*), 3 section K plain, 4 section K extended */
static int param_form(const char *v, const struct mparam *p, const char *name, unsigned *k)
{
  size_t nl = strlen(name), i;
  const char *s = v + p->name;
  if (p->namelen < nl || strncasecmp(s, name, nl)) return 0;
  if (p->namelen == nl) return 1;
  if (s[nl] != '*') return 0;
  if (p->namelen == nl + 1) return 2;
  *k = 0;
  for (i = nl + 1; i < p->namelen && s[i] >= '0' && s[i] <= '9' && *k < 1000; i++) *k = *k * 10 + (unsigned)(s[i] - '0');
  if (i == nl + 1) return 0;
  if (i == p->namelen) return 3;
  return i + 1 == p->namelen && s[i] == '*' ? 4 : 0;
}

static int pct_decode(const char *s, size_t n, stralloc *out)
{
  size_t i;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%' && i + 2 < n && qp_hexval((unsigned char)s[i + 1]) >= 0
        && qp_hexval((unsigned char)s[i + 2]) >= 0) {
      c = (char)(qp_hexval((unsigned char)s[i + 1]) * 16 + qp_hexval((unsigned char)s[i + 2]));
      i += 2;
    }
    if (!stralloc_append(out, &c)) return nomem();
  }
  return 0;
}

/* charset'language'rest: the charset into cs, the rest's offset */
static size_t ext_charset(const stralloc *val, char *cs)
{
  const char *q1 = val->len ? memchr(val->s, '\'', val->len) : 0, *q2;
  if (!q1) { *cs = 0; return 0; }
  q2 = memchr(q1 + 1, '\'', val->len - (size_t)(q1 + 1 - val->s));
  if (!q2) { *cs = 0; return 0; }
  cs_label(cs, val->s, (size_t)(q1 - val->s));
  return (size_t)(q2 + 1 - val->s);
}

/* bytes in charset cs (may be "") to UTF-8 when possible, else kept */
static int to_utf8(const char *cs, stralloc *bytes, stralloc *out)
{
  if (*cs && cs_convert("UTF-8", cs, bytes->s, bytes->len, out) == 0) return 0;
  return stralloc_copy(out, bytes) ? 0 : nomem();
}

/* the RFC 2231 forms of name: 1 found (out set), 0 none, -1 */
static int param_ext(const char *v, size_t n, size_t from, const char *name, stralloc *out)
{
  stralloc val = {0}, bytes = {0};
  char cs[CS_NAME_MAX] = "";
  struct mparam p;
  unsigned k, want;
  int found = 0, rc = 0;
  for (want = 0; want < 64 && rc == 0; want++) {
    size_t pos = from;
    int got = 0, form = 0;
    while (!got && mime_param_next(v, n, &pos, &p)) {
      form = param_form(v, &p, name, &k);
      got = (form == 2 && want == 0) || ((form == 3 || form == 4) && k == want);
    }
    if (!got) break;
    if (unquote(v, &p, &val) < 0) { rc = -1; break; }
    {
      size_t off = (form == 2 || (form == 4 && want == 0)) ? ext_charset(&val, cs) : 0;
      if (form == 3) rc = stralloc_catb(&bytes, val.s, val.len) ? 0 : nomem();
      else rc = pct_decode(val.s + off, val.len - off, &bytes);
    }
    found = 1;
    if (form == 2) break;
  }
  if (found && rc == 0) rc = to_utf8(cs, &bytes, out);
  stralloc_free(&val);
  stralloc_free(&bytes);
  return rc < 0 ? -1 : found;
}

int mime_param(const char *v, size_t n, const char *name, stralloc *out)
{
  stralloc raw = {0};
  struct mparam p;
  size_t pos = 0, from = 0;
  unsigned k;
  int rc;
  out->len = 0;
  rc = param_ext(v, n, from, name, out);
  if (rc != 0) return rc;
  while (mime_param_next(v, n, &pos, &p)) {
    if (param_form(v, &p, name, &k) != 1) continue;
    if (unquote(v, &p, &raw) < 0 || ew_decode(raw.s, raw.len, out) < 0) { stralloc_free(&raw); return -1; }
    stralloc_free(&raw);
    return 1;
  }
  return 0;
}

static int attr_char(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr("!#$&+-.^_`|~", c));
}

int mime_param_cat(stralloc *out, const char *name, const char *val, size_t len, const char *cs)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  int ascii = 1, plain = 1;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)val[i];
    if (c >= 127 || c < 32) ascii = 0;
    if (!attr_char(c)) plain = 0;
  }
  if (!stralloc_cats(out, "; ") || !stralloc_cats(out, name)) return nomem();
  if (!ascii) {
    if (!stralloc_cats(out, "*=") || !stralloc_cats(out, cs) || !stralloc_cats(out, "''")) return nomem();
    for (i = 0; i < len; i++) {
      unsigned char c = (unsigned char)val[i];
      char t[3] = { '%', hex[c >> 4], hex[c & 15] };
      if (!(attr_char(c) ? stralloc_append(out, (char *)&c) : stralloc_catb(out, t, 3))) return nomem();
    }
    return 0;
  }
  if (!stralloc_append(out, "=") || (!plain && !stralloc_append(out, "\""))) return nomem();
  for (i = 0; i < len; i++) {
    if (!plain && (val[i] == '"' || val[i] == '\\') && !stralloc_append(out, "\\")) return nomem();
    if (!stralloc_append(out, val + i)) return nomem();
  }
  return plain || stralloc_append(out, "\"") ? 0 : nomem();
}

int mime_param_set(const char *v, size_t n, const char *name, const char *val, stralloc *out)
{
  struct mparam p;
  size_t pos = 0, copied = 0;
  unsigned k;
  char type[MIME_TYPE_MAX], sub[MIME_TYPE_MAX];
  out->len = 0;
  if (mime_ctype(v, n, type, sub, &pos) != 1) pos = 0;
  while (mime_param_next(v, n, &pos, &p)) {
    if (!param_form(v, &p, name, &k)) continue;
    if (!stralloc_catb(out, v + copied, p.start - copied)) return nomem();
    copied = p.end;
  }
  while (n > copied && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == ';')) n--;
  if (!stralloc_catb(out, v + copied, n > copied ? n - copied : 0)) return nomem();
  return mime_param_cat(out, name, val, strlen(val), "utf-8");
}
