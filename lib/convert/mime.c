/*
 * mime.c -- header sections, Content-Type and transfer encodings,
 * delimiters (see mime.h).  Parameters are in mimeparam.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "mime.h"

void mhdr_init(struct mhdr *h)
{
  memset(h, 0, sizeof *h);
}

void mhdr_clear(struct mhdr *h)
{
  h->raw.len = 0;
  h->n = 0;
  h->end = HEND_EOF;
}

void mhdr_free(struct mhdr *h)
{
  stralloc_free(&h->raw);
  free(h->f);
  memset(h, 0, sizeof *h);
}

int mhdr_line_kind(const char *p, size_t n, size_t *namelen)
{
  size_t i = 0, k;
  if (n == 0 || p[0] == '\n' || (p[0] == '\r' && n >= 2 && p[1] == '\n')) return HL_BLANK;
  if (p[0] == ' ' || p[0] == '\t') return HL_CONT;
  while (i < n && (unsigned char)p[i] > 32 && (unsigned char)p[i] < 127 && p[i] != ':') i++;
  k = i;
  while (i < n && (p[i] == ' ' || p[i] == '\t')) i++;
  if (k == 0 || i >= n || p[i] != ':') return HL_OTHER;
  *namelen = k;
  return HL_FIELD;
}

int mhdr_add(struct mhdr *h, const char *p, size_t n, size_t namelen)
{
  if (namelen || !h->n) {
    if (h->n == h->alloc) {
      size_t na = h->alloc ? 2 * h->alloc : 32;
      struct mfield *nf = realloc(h->f, na * sizeof *nf);
      if (!nf) { errno = ENOMEM; return -1; }
      h->f = nf;
      h->alloc = na;
    }
    h->f[h->n].off = h->raw.len;
    h->f[h->n].len = 0;
    h->f[h->n].namelen = namelen;
    h->n++;
  }
  if (!stralloc_catb(&h->raw, p, n)) { errno = ENOMEM; return -1; }
  h->f[h->n - 1].len += n;
  return 0;
}

size_t mhdr_parse(struct mhdr *h, const char *s, size_t len)
{
  size_t i = 0;
  mhdr_clear(h);
  while (i < len) {
    const char *e = memchr(s + i, '\n', len - i);
    size_t nl = e ? (size_t)(e - (s + i)) + 1 : len - i, namelen = 0;
    int kind = mhdr_line_kind(s + i, nl, &namelen);
    if (kind == HL_BLANK) { h->end = HEND_BLANK; return i + nl; }
    if (kind == HL_OTHER || (kind == HL_CONT && !h->n)) { h->end = HEND_BODY; return i; }
    if (h->raw.len + nl > MHDR_MAX || h->n >= MHDR_FIELDS
        || mhdr_add(h, s + i, nl, kind == HL_FIELD ? namelen : 0) < 0) { h->end = HEND_BIG; return i; }
    i += nl;
  }
  h->end = HEND_EOF;
  return i;
}

int mhdr_is(const struct mhdr *h, size_t i, const char *name)
{
  size_t n = strlen(name);
  return h->f[i].namelen == n && !strncasecmp(h->raw.s + h->f[i].off, name, n);
}

int mhdr_find(const struct mhdr *h, const char *name)
{
  size_t i;
  for (i = 0; i < h->n; i++) if (mhdr_is(h, i, name)) return (int)i;
  return -1;
}

int mhdr_value(const struct mhdr *h, size_t i, stralloc *v)
{
  const char *s = h->raw.s + h->f[i].off;
  size_t n = h->f[i].len, k = h->f[i].namelen, a, b;
  while (k < n && s[k] != ':') k++;
  k++;
  v->len = 0;
  if (!stralloc_readyplus(v, n + 1)) { errno = ENOMEM; return -1; }
  for (; k < n; k++) if (s[k] != '\n' && s[k] != '\r') v->s[v->len++] = s[k];
  a = 0;
  b = v->len;
  while (a < b && (v->s[a] == ' ' || v->s[a] == '\t')) a++;
  while (b > a && (v->s[b - 1] == ' ' || v->s[b - 1] == '\t')) b--;
  memmove(v->s, v->s + a, b - a);
  v->len = b - a;
  v->s[v->len] = 0;
  return 0;
}

int mhdr_get(const struct mhdr *h, const char *name, stralloc *v)
{
  int i = mhdr_find(h, name);
  if (i < 0) return 0;
  return mhdr_value(h, (size_t)i, v) < 0 ? -1 : 1;
}

/* ---- Content-Type */

static int is_tspecial(char c) { return strchr("()<>@,;:\\\"/[]?=", c) != 0; }
static int is_token(char c) { return (unsigned char)c > 32 && (unsigned char)c < 127 && !is_tspecial(c); }

/* skip white space and (nested) comments */
size_t mime_skip_cfws(const char *v, size_t n, size_t i);
size_t mime_skip_cfws(const char *v, size_t n, size_t i)
{
  for (;;) {
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n')) i++;
    if (i >= n || v[i] != '(') return i;
    {
      int depth = 0;
      for (; i < n; i++) {
        if (v[i] == '\\' && i + 1 < n) { i++; continue; }
        if (v[i] == '(') depth++;
        else if (v[i] == ')' && --depth == 0) { i++; break; }
      }
    }
  }
}

static size_t token(const char *v, size_t n, size_t i, char *out, size_t cap)
{
  size_t o = 0;
  while (i < n && is_token(v[i])) {
    if (o + 1 < cap) out[o++] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] + 32 : v[i]);
    else o = cap;                     /* too long: refused below */
    i++;
  }
  if (o >= cap) o = 0;
  out[o] = 0;
  return i;
}

int mime_ctype(const char *v, size_t n, char *type, char *sub, size_t *params)
{
  size_t i = mime_skip_cfws(v, n, 0);
  i = token(v, n, i, type, MIME_TYPE_MAX);
  i = mime_skip_cfws(v, n, i);
  if (!*type || i >= n || v[i] != '/') return 0;
  i = mime_skip_cfws(v, n, i + 1);
  i = token(v, n, i, sub, MIME_TYPE_MAX);
  if (!*sub) return 0;
  i = mime_skip_cfws(v, n, i);
  if (i < n && v[i] != ';') return 0;
  *params = i;
  return 1;
}

/* ---- transfer encodings */

int mime_cte(const char *v, size_t n)
{
  static const char *const names[] = { "7bit", "8bit", "binary", "quoted-printable", "base64" };
  char t[40];
  size_t i = token(v, n, mime_skip_cfws(v, n, 0), t, sizeof t);
  int k;
  if (mime_skip_cfws(v, n, i) < n) return CTE_OTHER;
  if (!*t) return i < n ? CTE_OTHER : CTE_7BIT;
  for (k = 0; k < 5; k++) if (!strcmp(t, names[k])) return k;
  return CTE_OTHER;
}

const char *mime_cte_name(int cte)
{
  static const char *const names[] = { "7bit", "8bit", "binary", "quoted-printable", "base64", "x-unknown" };
  return names[cte >= 0 && cte <= CTE_OTHER ? cte : CTE_OTHER];
}

/* ---- delimiters */

int mime_delim(const char *line, size_t n, const char *b, size_t blen)
{
  int kind = 1;
  size_t i;
  if (n < blen + 2 || line[0] != '-' || line[1] != '-' || memcmp(line + 2, b, blen)) return 0;
  i = blen + 2;
  if (i + 1 < n && line[i] == '-' && line[i + 1] == '-') { kind = 2; i += 2; }
  while (i < n && (line[i] == ' ' || line[i] == '\t')) i++;
  if (i < n && line[i] == '\r') i++;
  if (i < n && line[i] == '\n') i++;
  return i == n ? kind : 0;
}

int mime_boundary_ok(const char *b, size_t n)
{
  size_t i;
  if (n == 0 || n > MIME_BOUNDARY_MAX) return 0;
  for (i = 0; i < n; i++) if (b[i] == '\r' || b[i] == '\n' || b[i] == 0) return 0;
  return 1;
}
