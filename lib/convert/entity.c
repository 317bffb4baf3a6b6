/*
 * entity.c -- the MIME tree, for the MIME (attachments=mime) and inbound
 * profiles (see conv.h).
 *
 * Each entity's header is read, classified and the entity handled by its
 * kind: a multipart is walked part by part (preamble and epilogue copied),
 * a message/rfc822 is handled as a message of its own, a text part goes to
 * text.c (outbound) or uuscan.c (inbound), everything else to leaf.c.
 * Outbound with richtext=never, application/ms-tnef parts and text/html
 * (or multipart/related) alternatives after a text/plain one are dropped.
 *
 * Malformed input passes through unchanged with a warning: a multipart
 * with no usable boundary, or whose boundary never appears, is copied; a
 * multipart that ends without its closing delimiter is written as far as
 * it went (no delimiter is invented); a header section over MHDR_MAX and
 * everything after it in that entity is copied.  Nesting deeper than
 * DEPTH_MAX is copied.
 *
 * Failure modes: those of reading and writing, ENOMEM.
 */
#include <string.h>
#include "conv.h"
#include "diag.h"

int drop_entity(struct conv *c, struct part *pt, const char *why)
{
  char num[FMT_ULONG];
  num[fmt_ulong(num, pt->num)] = 0;
  if (!convert_quiet) info("part ", num, ": ", why);
  return body_skip(c);
}

static int verbatim(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x, const char *why)
{
  if (why) pwarn(pt, why);
  return hdr_out(c, h, x, 0) < 0 ? -1 : body_copy(c);
}

static void set_pend(struct conv *c, int lf)
{
  memcpy(c->pendline, c->delim, c->delimn);
  c->pendn = c->delimn;
  c->pendlf = lf;
  c->pend = 1;
}

/* every part was dropped: one empty part keeps the multipart valid */
static int placeholder(struct conv *c, const struct part *pt)
{
  if (cws(c, "\n--") < 0 || cw(c, pt->boundary.s, pt->boundary.len) < 0) return -1;
  return cws(c, "\nContent-Type: text/plain; charset=us-ascii\n");
}

/* did the body end at this multipart's own delimiter? */
static int own_delim(struct conv *c, const struct part *pt, int level)
{
  if (!c->end_delim) { pwarn(pt, "multipart ends without its closing boundary"); return 0; }
  if (c->delim_level != level) { pwarn(pt, "multipart ends without its closing boundary"); return 0; }
  return 1;
}

static int parts(struct conv *c, struct part *pt, int level)
{
  int seen_plain = 0, lf;
  unsigned emitted = 0, dropped = 0;
  struct ectx cx;
  memset(&cx, 0, sizeof cx);
  cx.in_alt = part_is(pt, "multipart", "alternative");
  cx.digest = part_is(pt, "multipart", "digest");
  cx.seen_plain = &seen_plain;
  set_pend(c, c->delim_lf);
  for (;;) {
    if (entity(c, &cx) < 0) return -1;
    lf = c->delim_lf;
    if (c->pend) { c->pend = 0; lf = c->pendlf; dropped++; }
    else emitted++;
    if (!own_delim(c, pt, level)) return 0;
    if (c->delim_close) {
      if (!emitted && dropped && placeholder(c, pt) < 0) return -1;
      return cw_delim(c, lf || (!emitted && dropped));
    }
    set_pend(c, lf);
  }
}

static int multipart_body(struct conv *c, struct part *pt)
{
  int level = c->nb - 1;
  if (body_copy(c) < 0) return -1;                           /* the preamble */
  if (!c->end_delim) { pwarn(pt, "multipart whose boundary never appears: passed through unchanged"); return 0; }
  if (c->delim_level != level) { pwarn(pt, "multipart whose boundary never appears: passed through unchanged"); return 0; }
  if (c->delim_close) { if (cw_delim(c, c->delim_lf) < 0) return -1; }
  else {
    if (parts(c, pt, level) < 0) return -1;
    if (!c->end_delim || c->delim_level != level || !c->delim_close) return 0;
  }
  bnd_pop(c);                    /* in the epilogue our own delimiter is only text */
  return body_copy(c);
}

static int multipart_entity(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x)
{
  struct hedit e;
  int rc, level = c->nb;
  if (!mime_boundary_ok(pt->boundary.s, pt->boundary.len))
    return verbatim(c, h, pt, x, "multipart without a usable boundary: passed through unchanged");
  if (c->depth >= DEPTH_MAX) return verbatim(c, h, pt, x, "nested too deep: passed through unchanged");
  memset(&e, 0, sizeof e);
  if (c->p->eightbit && (pt->cte == CTE_8BIT || pt->cte == CTE_BINARY)) e.cte = "7bit";
  if (hdr_out(c, h, x, &e) < 0 || bnd_push(c, pt->boundary.s, pt->boundary.len) < 0) return -1;
  c->depth++;
  rc = multipart_body(c, pt);
  c->depth--;
  if (c->nb == level + 1) bnd_pop(c);
  return rc;
}

static int message_entity(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x)
{
  struct hedit e;
  struct ectx mx;
  int rc;
  memset(&e, 0, sizeof e);
  memset(&mx, 0, sizeof mx);
  mx.msghdr = 1;
  if (c->p->eightbit && (pt->cte == CTE_8BIT || pt->cte == CTE_BINARY)) e.cte = "7bit";
  if (hdr_out(c, h, x, &e) < 0) return -1;
  c->depth++;
  rc = entity(c, &mx);
  c->depth--;
  return rc;
}

static int is_message(const struct part *pt)
{
  return (part_is(pt, "message", "rfc822") || part_is(pt, "message", "global"))
    && (pt->cte == CTE_7BIT || pt->cte == CTE_8BIT || pt->cte == CTE_BINARY);
}

static int is_text(const struct conv *c, const struct part *pt)
{
  if (pt->attachment || pt->ct_bad || pt->cte == CTE_OTHER || !part_is(pt, "text", 0)) return 0;
  if (part_is(pt, "text", "plain")) return 1;
  return !c->p->inbound && (part_is(pt, "text", "html") || part_is(pt, "text", "enriched")
                            || part_is(pt, "text", "richtext"));
}

/* richtext=never: is this part dropped? */
static const char *dropped(const struct conv *c, const struct part *pt, const struct ectx *x)
{
  if (c->p->inbound || c->p->d.richtext != RICH_NEVER) return 0;
  if (part_is_tnef(pt)) return "application/ms-tnef dropped (richtext=never)";
  if (x->in_alt && *x->seen_plain && part_is_richtext(pt)) return "rich text alternative dropped (richtext=never)";
  return 0;
}

/* a text part: uuencoded blocks found (inbound), converted (outbound), or kept (keep) */
static int text_or_leaf(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x)
{
  if (!is_text(c, pt) || c->p->keep) return leaf_entity(c, h, pt, x);
  return c->p->inbound ? uuscan_entity(c, h, pt, x) : text_entity(c, h, pt, x);
}

int entity_with_header(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x)
{
  const char *why;
  if (h->end == HEND_BIG) {
    pwarn(pt, "header section over 1 MB: passed through unchanged");
    return hdr_out_raw(c, h) < 0 ? -1 : body_copy(c);
  }
  if (x->in_alt && part_is(pt, "text", "plain") && !pt->attachment && !*x->seen_plain) {
    *x->seen_plain = 1;
    return text_or_leaf(c, h, pt, x);
  }
  if ((why = dropped(c, pt, x)) != 0) return drop_entity(c, pt, why);
  if (part_is(pt, "multipart", 0) && !pt->ct_bad) return multipart_entity(c, h, pt, x);
  if (is_message(pt) && c->depth < DEPTH_MAX) return message_entity(c, h, pt, x);
  return text_or_leaf(c, h, pt, x);
}

int entity_walk(struct conv *c, const struct ectx *x, entity_fn *node)
{
  struct mhdr h;
  struct part pt;
  int rc;
  mhdr_init(&h);
  part_init(&pt);
  pt.num = ++c->nparts;
  rc = hdr_read(c, &h);
  if (rc == 0) rc = part_classify(&pt, &h, x->digest);
  if (rc == 0) rc = node(c, &h, &pt, x);
  mhdr_free(&h);
  part_free(&pt);
  return rc;
}

int entity(struct conv *c, const struct ectx *x) { return entity_walk(c, x, entity_with_header); }
