/*
 * body.c -- reading entities from the input and writing the output
 * (see conv.h).
 *
 * Input: the message through rd.  A body ends at a delimiter line of any
 * enclosing multipart (the innermost is tried first) or at the end of the
 * input.  The LF before a delimiter belongs to the delimiter (RFC 2046), so
 * a body piece's final LF is held back until the next line is known not to
 * be one; it is handed out in front of the next piece (rd keeps the byte
 * before a piece in its buffer).  Output: through cw(), which first writes
 * a delimiter left pending, so that the delimiter before a part that turns
 * out to be dropped is never written.
 *
 * Failure modes: read errors (-1, c->read_failed set), write errors and
 * EFBIG from the output, ENOMEM.
 */
#include <errno.h>
#include <string.h>
#include "conv.h"

static int is_delim(const struct conv *c, const char *q, size_t m, int *level, int *close)
{
  int k, d;
  if (m < 3 || q[0] != '-' || q[1] != '-' || m >= DELIM_MAX) return 0;
  for (k = c->nb - 1; k >= 0; k--)
    if ((d = mime_delim(q, m, c->bnd[k], c->bndlen[k])) != 0) {
      *level = k;
      *close = d == 2;
      return 1;
    }
  return 0;
}

static void note_delim(struct conv *c, const char *q, size_t m, int level, int close)
{
  c->end_delim = 1;
  c->delim_level = level;
  c->delim_close = close;
  c->delim_lf = c->pending_lf;
  memcpy(c->delim, q, m);
  c->delimn = m;
  c->pending_lf = 0;
}

int body_next(struct conv *c, const char **p, size_t *n)
{
  for (;;) {
    const char *q;
    size_t m;
    int bol, level, close, r = rd_piece(&c->in, &q, &m, &bol);
    if (r < 0) { c->read_failed = 1; return -1; }
    if (r == 0) {
      c->end_delim = 0;
      if (!c->pending_lf) return 0;
      c->pending_lf = 0;
      *p = "\n";
      *n = 1;
      return 1;
    }
    if (bol && c->nb && is_delim(c, q, m, &level, &close)) { note_delim(c, q, m, level, close); return 0; }
    if (c->pending_lf) { q--; m++; }                 /* rd keeps the byte before q: the held LF */
    c->pending_lf = c->nb && q[m - 1] == '\n';
    if (c->pending_lf) m--;
    if (m) { *p = q; *n = m; return 1; }
  }
}

int body_copy(struct conv *c)
{
  const char *p;
  size_t n;
  int r;
  while ((r = body_next(c, &p, &n)) > 0) if (cw(c, p, n) < 0) return -1;
  return r;
}

int body_skip(struct conv *c)
{
  const char *p;
  size_t n;
  int r;
  while ((r = body_next(c, &p, &n)) > 0) ;
  return r;
}

int body_buffer(struct conv *c, stralloc *sa, size_t max)
{
  const char *p;
  size_t n;
  int r = 0;
  sa->len = 0;
  while (sa->len <= max && (r = body_next(c, &p, &n)) > 0)
    if (!stralloc_catb(sa, p, n)) { errno = ENOMEM; return -1; }
  if (sa->len > max) return 0;
  return r < 0 ? -1 : 1;
}

int body_feed(struct conv *c, struct sink *s)
{
  const char *p;
  size_t n;
  int r;
  while ((r = body_next(c, &p, &n)) > 0) if (sink_put(s, p, n) < 0) return -1;
  return r;
}

/* ---- output */

int cw(struct conv *c, const char *p, size_t n)
{
  if (c->pend) {
    c->pend = 0;
    if (c->pendlf && sink_put(&c->out.s, "\n", 1) < 0) return -1;
    if (sink_put(&c->out.s, c->pendline, c->pendn) < 0) return -1;
  }
  return sink_put(&c->out.s, p, n);
}

int cws(struct conv *c, const char *s)
{
  return cw(c, s, strlen(s));
}

int cw_delim(struct conv *c, int lf)
{
  if (lf && cw(c, "\n", 1) < 0) return -1;
  return cw(c, c->delim, c->delimn);
}

static int cwsink_put(struct sink *s, const char *p, size_t n)
{
  return cw(((struct cwsink *)s)->c, p, n);
}

void cwsink_init(struct cwsink *k, struct conv *c)
{
  k->s.put = cwsink_put;
  k->s.end = 0;
  k->c = c;
}

int bnd_push(struct conv *c, const char *b, size_t n)
{
  if (c->nb >= DEPTH_MAX) { errno = EINVAL; return -1; }
  c->bnd[c->nb] = b;
  c->bndlen[c->nb] = n;
  c->nb++;
  return 0;
}

void bnd_pop(struct conv *c)
{
  if (c->nb) c->nb--;
}

/* ---- header sections */

static int hdr_stop(struct conv *c, struct mhdr *h, int end)
{
  rd_unget(&c->in);
  h->end = end;
  return 0;
}

int hdr_read(struct conv *c, struct mhdr *h)
{
  mhdr_clear(h);
  c->pending_lf = 0;
  for (;;) {
    const char *q;
    size_t m, namelen = 0;
    int bol, level, close, kind, r = rd_piece(&c->in, &q, &m, &bol);
    if (r < 0) { c->read_failed = 1; return -1; }
    if (r == 0) { h->end = HEND_EOF; return 0; }
    if (h->raw.len + m > MHDR_MAX || h->n >= MHDR_FIELDS) return hdr_stop(c, h, HEND_BIG);
    if (!bol) { if (mhdr_add(h, q, m, 0) < 0) return -1; continue; }
    kind = mhdr_line_kind(q, m, &namelen);
    if (kind == HL_BLANK) { h->end = HEND_BLANK; return 0; }
    if (c->nb && is_delim(c, q, m, &level, &close)) return hdr_stop(c, h, HEND_DELIM);
    if (kind == HL_OTHER || (kind == HL_CONT && !h->n)) return hdr_stop(c, h, HEND_BODY);
    if (mhdr_add(h, q, m, kind == HL_FIELD ? namelen : 0) < 0) return -1;
  }
}
