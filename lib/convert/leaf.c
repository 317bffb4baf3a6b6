/*
 * leaf.c -- parts that are not converted (see conv.h): copied as they
 * are, or, for the 8BITMIME downgrade (-8), re-encoded: quoted-printable
 * for text that is mostly ASCII, base64 for the rest.
 *
 * Input: the part's header and body.  The decision looks at the first
 * LOOK_MAX bytes of the body; a part labelled 7bit whose 8-bit bytes come
 * only later is copied (it was malformed).  A part labelled 8bit or binary
 * that turns out to be 7-bit throughout is relabelled 7bit.  Output:
 * streamed, so an attachment of any size costs LOOK_MAX of memory.
 *
 * Failure modes: those of reading and writing.
 */
#include <string.h>
#include "conv.h"

static int is8(const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) if (((unsigned char)s[i] & 0x80) || !s[i]) return 1;
  return 0;
}

static size_t count8(const char *s, size_t n)
{
  size_t i, k = 0;
  for (i = 0; i < n; i++) k += ((unsigned char)s[i] & 0x80) || !s[i];
  return k;
}

static size_t maxline(const char *s, size_t n)
{
  size_t best = 0, cur = 0, i;
  for (i = 0; i < n; i++) {
    if (s[i] == '\n') { if (cur > best) best = cur; cur = 0; }
    else cur++;
  }
  return cur > best ? cur : best;
}

static int copy_rest(struct conv *c, stralloc *buf, int complete)
{
  if (cw(c, buf->s, buf->len) < 0) return -1;
  return complete ? 0 : body_copy(c);
}

static int encode_rest(struct conv *c, const struct part *pt, stralloc *buf, int complete, int enc)
{
  struct b64enc be;
  struct qpenc qe;
  struct cwsink k;
  struct sink *head;
  (void)pt;
  cwsink_init(&k, c);
  encoder_sink(enc, &be, &qe, &k.s, &head);
  if (sink_put(head, buf->s, buf->len) < 0) return -1;
  if (!complete && body_feed(c, head) < 0) return -1;
  return sink_end(head);
}

int leaf_from_buffer(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x, stralloc *buf, int complete)
{
  struct hedit e;
  int enc, need = c->p->eightbit && pt->cte != CTE_QP && pt->cte != CTE_B64 && pt->cte != CTE_OTHER;
  int has8 = need && is8(buf->s, buf->len);
  memset(&e, 0, sizeof e);
  if (!need || (pt->cte == CTE_7BIT && !has8))
    return hdr_out(c, h, x, 0) < 0 ? -1 : copy_rest(c, buf, complete);
  if (complete && !has8 && maxline(buf->s, buf->len) <= 998) {
    e.cte = "7bit";
    return hdr_out(c, h, x, &e) < 0 ? -1 : copy_rest(c, buf, complete);
  }
  enc = part_is(pt, "text", 0) && !memchr(buf->s, 0, buf->len) && count8(buf->s, buf->len) * 6 <= buf->len
    ? CTE_QP : CTE_B64;
  e.cte = mime_cte_name(enc);
  e.mime_version = x->top;
  if (hdr_out(c, h, x, &e) < 0) return -1;
  return encode_rest(c, pt, buf, complete, enc);
}

int leaf_entity(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x)
{
  int r;
  if (!c->p->eightbit || pt->cte == CTE_QP || pt->cte == CTE_B64 || pt->cte == CTE_OTHER)
    return hdr_out(c, h, x, 0) < 0 ? -1 : body_copy(c);
  if ((r = body_buffer(c, &c->tbuf, LOOK_MAX)) < 0) return -1;
  return leaf_from_buffer(c, h, pt, x, &c->tbuf, r);
}
