/*
 * dkim_canon.c -- DKIM's canonical forms (RFC 6376 section 3.4) and the
 * header section's fields (see dkim.h).
 *
 * Body: lines are hashed as they complete; empty lines (relaxed: lines of
 * only whitespace) are held back as a count, since those at the end of the
 * body are dropped.  simple: an empty body is one CRLF; relaxed: nothing.
 * Relaxed also drops whitespace at the end of a line and reduces every run
 * of it inside to one space.  l= stops the hash after that many bytes.
 */
#include <string.h>
#include "dkim.h"

void dkim_body_init(struct dkim_body *b, int relaxed, long long limit)
{
  memset(b, 0, sizeof *b);
  br_sha256_init(&b->sha);
  b->relaxed = relaxed;
  b->left = limit;
}

static void hash(struct dkim_body *b, const char *s, size_t n)
{
  b->total += n;
  if (b->left >= 0 && (unsigned long long)b->left < n) n = (size_t)b->left;
  if (b->left >= 0) b->left -= (long long)n;
  if (n) br_sha256_update(&b->sha, s, n);
}

/* the line has its first content: the empty lines before it count now */
static void line_starts(struct dkim_body *b)
{
  for (; b->empty; b->empty--) hash(b, "\r\n", 2);
  b->started = 1;
  b->any = 1;
}

static void line_ends(struct dkim_body *b)
{
  if (b->started) hash(b, "\r\n", 2);
  else b->empty++;
  b->started = b->wsp = 0;
}

static void content(struct dkim_body *b, char c)
{
  if (!b->started) line_starts(b);
  if (b->wsp) { hash(b, " ", 1); b->wsp = 0; }
  hash(b, &c, 1);
}

static void put_char(struct dkim_body *b, char c)
{
  if (b->cr) {                                  /* a CR not followed by LF is content */
    b->cr = 0;
    if (c == '\n') { line_ends(b); return; }
    content(b, '\r');
  }
  if (c == '\r') { b->cr = 1; return; }
  if (c == '\n') { line_ends(b); return; }
  if (b->relaxed && (c == ' ' || c == '\t')) { b->wsp = 1; return; }
  content(b, c);
}

void dkim_body_put(struct dkim_body *b, const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) put_char(b, s[i]);
}

void dkim_body_end(struct dkim_body *b, unsigned char h[32])
{
  if (b->cr) { b->cr = 0; content(b, '\r'); }
  if (b->started) hash(b, "\r\n", 2);         /* a last line without its line end */
  if (!b->any && !b->relaxed) hash(b, "\r\n", 2);
  br_sha256_out(&b->sha, h);
}

/* ---- header fields */

static int is_wsp(char c) { return c == ' ' || c == '\t'; }

static int canon_simple(stralloc *out, const char *f, size_t len)
{
  size_t i;
  for (i = 0; i < len; i++) {
    if (f[i] == '\n' && (i == 0 || f[i - 1] != '\r')) { if (!stralloc_catb(out, "\r\n", 2)) return -1; }
    else if (!stralloc_append(out, &f[i])) return -1;
  }
  return stralloc_catb(out, "\r\n", 2) ? 0 : -1;
}

static int canon_relaxed(stralloc *out, const char *f, size_t len)
{
  const char *colon = memchr(f, ':', len);
  size_t n, i, start;
  int wsp = 0, any = 0;
  if (!colon) return stralloc_catb(out, "\r\n", 2) ? 0 : -1;
  n = (size_t)(colon - f);
  while (n && is_wsp(f[n - 1])) n--;
  for (i = 0; i < n; i++) {
    char c = f[i] >= 'A' && f[i] <= 'Z' ? f[i] + 32 : f[i];
    if (!stralloc_append(out, &c)) return -1;
  }
  if (!stralloc_append(out, ":")) return -1;
  start = (size_t)(colon - f) + 1;
  for (i = start; i < len; i++) {
    char c = f[i];
    if (c == '\r' || c == '\n') continue;      /* unfolding */
    if (is_wsp(c)) { wsp = 1; continue; }
    if (wsp && any && !stralloc_append(out, " ")) return -1;
    wsp = 0;
    any = 1;
    if (!stralloc_append(out, &c)) return -1;
  }
  return stralloc_catb(out, "\r\n", 2) ? 0 : -1;
}

int dkim_header_canon(stralloc *out, const char *field, size_t len, int relaxed)
{
  return relaxed ? canon_relaxed(out, field, len) : canon_simple(out, field, len);
}

/* the end of the line at p (its LF), or len */
static size_t line_end(const char *m, size_t len, size_t p)
{
  const char *nl = memchr(m + p, '\n', len - p);
  return nl ? (size_t)(nl - m) : len;
}

static size_t field_end(const char *m, size_t len, size_t p)
{
  size_t e = line_end(m, len, p);
  while (e + 1 < len && is_wsp(m[e + 1])) e = line_end(m, len, e + 1);
  return e;
}

int dkim_fields(const char *msg, size_t len, struct dkim_field *f, int max, size_t *hdrlen)
{
  size_t p = 0;
  int n = 0;
  while (p < len && msg[p] != '\n' && !(msg[p] == '\r' && p + 1 < len && msg[p + 1] == '\n')) {
    size_t e = field_end(msg, len, p), l = e - p;
    if (n == max) return -1;
    if (l && msg[p + l - 1] == '\r') l--;
    f[n].s = msg + p;
    f[n].len = l;
    n++;
    p = e < len ? e + 1 : len;
  }
  if (p < len) p += msg[p] == '\r' ? 2 : 1;     /* the empty line */
  *hdrlen = p;
  return n;
}

int dkim_field_is(const struct dkim_field *f, const char *name)
{
  size_t n = strlen(name), i;
  if (f->len <= n) return 0;
  for (i = 0; i < n; i++) {
    char c = f->s[i] >= 'A' && f->s[i] <= 'Z' ? f->s[i] + 32 : f->s[i];
    if (c != name[i]) return 0;
  }
  for (; i < f->len && is_wsp(f->s[i]); i++) ;
  return i < f->len && f->s[i] == ':';
}
