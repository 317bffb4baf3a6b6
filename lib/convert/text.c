/*
 * text.c -- text parts (see conv.h): charset, wrapping and transfer
 * encoding, decided on a dry pass over the buffered part and done on a
 * second.
 *
 * Input: the part's encoded body, at most TEXT_MAX bytes, in memory.  The
 * pipeline is: transfer decoding -> iconv from the source charset to UTF-8
 * (which also proves the text valid) -> wrapping -> iconv to the target ->
 * (stats on the dry pass | transfer encoding and output).  The source
 * charset is the label; text labelled us-ascii (or not at all) that has
 * 8-bit bytes is taken as UTF-8 when it is valid UTF-8, else as the
 * profile's nonmimecharset, and is labelled so.  A target that cannot
 * represent every character is skipped; when none can, the text stays in
 * its own charset (still wrapped).  Text in an unknown charset, or invalid
 * in its charset, is never converted: only re-encoded when the transport
 * needs it (-8, lines over 998).
 *
 * Failure modes: ENOMEM, and the output's.
 */
#include <errno.h>
#include <string.h>
#include "conv.h"

int decoder_sink(int cte, struct b64dec *b, struct qpdec *q, struct sink *next, struct sink **head)
{
  if (cte == CTE_B64) { b64dec_init(b, next); *head = &b->s; }
  else if (cte == CTE_QP) { qpdec_init(q, next); *head = &q->s; }
  else *head = next;
  return 0;
}

int encoder_sink(int cte, struct b64enc *b, struct qpenc *q, struct sink *next, struct sink **head)
{
  if (cte == CTE_B64) { b64enc_init(b, next); *head = &b->s; }
  else if (cte == CTE_QP) { qpenc_init(q, next, 0); *head = &q->s; }
  else *head = next;
  return 0;
}

/* ---- the pipeline */

struct tpipe {
  struct b64dec bd;
  struct qpdec qd;
  struct ics in, outc;
  struct wrap wr;
  struct b64enc be;
  struct qpenc qe;
  struct sink *stage[6];
  int n, has_in, has_out;
};

static void add_stage(struct tpipe *t, struct sink *s)
{
  memmove(t->stage + 1, t->stage, (size_t)t->n * sizeof t->stage[0]);
  t->stage[0] = s;
  t->n++;
}

static void tpipe_close(struct tpipe *t)
{
  if (t->has_in) ics_close(&t->in);
  if (t->has_out) ics_close(&t->outc);
  t->has_in = t->has_out = 0;
}

/* decoder [-> in -> wrap -> out] [-> encoder] -> tail; enc < 0: no encoder.
   0, or -2 when iconv does not know a charset */
static int tpipe_open(struct tpipe *t, const struct part *pt, const struct tplan *pl, int enc, struct sink *tail)
{
  struct sink *next = tail, *h;
  memset(t, 0, sizeof *t);
  if (enc >= 0) { encoder_sink(enc, &t->be, &t->qe, next, &h); if (h != next) add_stage(t, next = h); }
  if (pl->convert) {
    if (!cs_is_utf8(pl->dst)) {
      if (ics_open(&t->outc, pl->dst, "UTF-8", next) < 0) return -2;
      t->has_out = 1;
      add_stage(t, next = &t->outc.s);
    }
    if (pl->wrap) { wrap_init(&t->wr, next, pl->wrap, pt->flowed, pt->delsp); add_stage(t, next = &t->wr.s); }
    if (ics_open(&t->in, "UTF-8", pl->src, next) < 0) { tpipe_close(t); return -2; }
    t->has_in = 1;
    add_stage(t, next = &t->in.s);
  }
  decoder_sink(pt->cte, &t->bd, &t->qd, next, &h);
  if (h != next) add_stage(t, h);
  if (!t->n) add_stage(t, tail);
  return 0;
}

static int tpipe_run(struct tpipe *t, const char *p, size_t n)
{
  int i;
  if (sink_put(t->stage[0], p, n) < 0) return -1;
  for (i = 0; i < t->n; i++) if (sink_end(t->stage[i]) < 0) return -1;
  return 0;
}

/* ---- planning */

static int dry_stats(const struct part *pt, const stralloc *raw, struct tplan *pl, struct tpipe *t)
{
  int rc;
  sink_stats_init(&pl->st);
  if ((rc = tpipe_open(t, pt, pl, -1, &pl->st.s)) < 0) return rc;
  if (tpipe_run(t, raw->s, raw->len) < 0) { tpipe_close(t); return -1; }
  return sink_end(&pl->st.s);                 /* the last line may have no LF */
}

/* the charset the text is in; relabel when it was guessed */
static void source_charset(const struct conv *c, const struct part *pt, const stralloc *raw,
                           const struct sink_stats *sd, struct tplan *pl)
{
  struct tplan probe;
  struct tpipe t;
  const char *nonmime = c->p->inbound ? "us-ascii" : c->p->d.nonmimecharset;
  strcpy(pl->src, pt->charset);
  if (*pt->charset && !cs_is_ascii(pt->charset)) {
    if (!cs_known(pt->charset)) { pwarn(pt, "unknown charset: not converted"); *pl->src = 0; }
    return;
  }
  if (!sd->high) { strcpy(pl->src, *pt->charset ? pt->charset : "us-ascii"); return; }
  memset(&probe, 0, sizeof probe);
  probe.convert = 1;
  strcpy(probe.src, "utf-8");
  strcpy(probe.dst, "utf-8");
  if (dry_stats(pt, raw, &probe, &t) == 0) {
    int bad = t.in.bad;
    tpipe_close(&t);
    if (!bad) { strcpy(pl->src, "utf-8"); pl->relabel = 1; return; }
  }
  if (!cs_is_ascii(nonmime) && cs_known(nonmime)) { strcpy(pl->src, nonmime); pl->relabel = 1; return; }
  pwarn(pt, "8-bit text in no charset: not converted");
  *pl->src = 0;
}

/* try one target: 0 it fits (pl set), 1 it does not, 2 the source is invalid, -1 */
static int try_target(const struct part *pt, const stralloc *raw, const struct sink_stats *sd,
                      const char *target, unsigned wrap, struct tplan *pl)
{
  struct tpipe t;
  int need_cs = !cs_same(pl->src, target)
    && !(sd->high == 0 && cs_ascii_compatible(pl->src) && cs_ascii_compatible(target));
  int need_wrap = wrap && sd->maxline > wrap, bad_in, bad_out, r;
  strcpy(pl->dst, need_cs ? target : pl->src);
  pl->wrap = need_wrap ? wrap : 0;
  pl->convert = need_cs || need_wrap;
  if (!pl->convert) { pl->st = *sd; return 0; }
  if ((r = dry_stats(pt, raw, pl, &t)) < 0) return r == -2 ? 1 : -1;
  bad_in = t.in.bad;
  bad_out = t.has_out && t.outc.bad;
  need_wrap = need_wrap && t.wr.breaks;
  tpipe_close(&t);
  if (bad_in) return 2;
  if (bad_out) return 1;
  if (!need_cs && !need_wrap) { pl->convert = 0; pl->wrap = 0; pl->st = *sd; }
  return 0;
}

static int cte_legal(const struct conv *c, int cte, const struct sink_stats *st)
{
  if (cte == CTE_QP || cte == CTE_B64) return 1;
  if (st->maxline > 998 || st->nul || st->bare_cr) return 0;
  if (cte == CTE_7BIT) return st->high == 0;
  return !c->p->eightbit;
}

int text_choose_cte(const struct conv *c, const struct part *pt, const struct sink_stats *st, int changed)
{
  int orig = pt->cte == CTE_BINARY ? CTE_8BIT : pt->cte;
  int clean7 = st->high == 0 && !st->nul && st->maxline <= 998 && !st->bare_cr;
  if (!changed && cte_legal(c, orig, st)) return pt->cte;
  if (!changed && orig == CTE_7BIT && !c->p->eightbit && st->high && cte_legal(c, CTE_8BIT, st)) return pt->cte;
  if (clean7) return CTE_7BIT;
  if ((orig == CTE_7BIT || orig == CTE_8BIT) && cte_legal(c, CTE_8BIT, st)) return CTE_8BIT;
  return st->high * 6 > st->n ? CTE_B64 : CTE_QP;
}

int text_plan(struct conv *c, const struct part *pt, const stralloc *raw, const char *const *targets,
              int fallback, unsigned wrap, struct tplan *pl)
{
  struct sink_stats sd;
  struct tpipe t;
  struct tplan base;
  int i, r = 1;
  memset(pl, 0, sizeof *pl);
  memset(&base, 0, sizeof base);
  if (dry_stats(pt, raw, &base, &t) < 0) return -1;
  sd = base.st;
  source_charset(c, pt, raw, &sd, pl);
  if (!*pl->src) { strcpy(pl->dst, pt->charset); pl->st = sd; r = 0; }
  for (i = 0; r == 1 && targets[i]; i++) r = try_target(pt, raw, &sd, targets[i], wrap, pl);
  if (r == 1 && fallback) {
    r = try_target(pt, raw, &sd, pl->src, wrap, pl);
    pl->kept = 1;
  }
  if (r == 2) {
    pwarn(pt, "text invalid in its charset: not converted");
    strcpy(pl->dst, pt->charset);
    pl->convert = pl->wrap = pl->relabel = 0;
    pl->st = sd;
    r = 0;
  }
  if (r) return r;
  pl->cte = text_choose_cte(c, pt, &pl->st, pl->convert || pl->relabel);
  pl->change = pl->convert || pl->relabel || pl->cte != pt->cte;
  if (pl->change && !*pl->dst && pl->st.high) {           /* re-encoded 8-bit text in no charset */
    strcpy(pl->dst, "unknown-8bit");
    pl->relabel = 1;
  }
  return 0;
}

int text_emit(struct conv *c, const struct part *pt, const stralloc *raw, const struct tplan *pl, struct sink *to)
{
  struct tpipe t;
  int rc;
  (void)c;
  if (tpipe_open(&t, pt, pl, pl->cte, to) < 0) { errno = EINVAL; return -1; }   /* planned: cannot happen */
  rc = tpipe_run(&t, raw->s, raw->len);
  tpipe_close(&t);
  return rc;
}

/* ---- a text part of the MIME profile */

static int text_header(struct conv *c, struct mhdr *h, const struct part *pt, const struct ectx *x,
                       const struct tplan *pl)
{
  stralloc ct = {0}, v = {0};
  struct hedit e;
  int rc = 0;
  memset(&e, 0, sizeof e);
  if (pl->relabel || !cs_same(pl->dst, pt->charset)) {
    if (pt->has_ctype && mhdr_get(h, "content-type", &v) > 0) rc = mime_param_set(v.s, v.len, "charset", pl->dst, &ct);
    else rc = stralloc_copys(&ct, "text/plain") && mime_param_cat(&ct, "charset", pl->dst, strlen(pl->dst), "") == 0 ? 0 : -1;
    if (rc == 0 && !stralloc_0(&ct)) rc = -1;
    e.ctype = ct.s;
  }
  if (pl->cte != pt->cte) e.cte = mime_cte_name(pl->cte);
  e.mime_version = x->top && (e.ctype || e.cte);
  if (rc == 0) rc = hdr_out(c, h, x, &e);
  stralloc_free(&ct);
  stralloc_free(&v);
  return rc;
}

int text_entity(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x)
{
  const char *targets[2];
  struct tplan pl;
  struct cwsink k;
  int r = body_buffer(c, &c->tbuf, TEXT_MAX);
  if (r < 0) return -1;
  if (r == 0) {
    pwarn(pt, "text part over 2 MB: not converted");
    return leaf_from_buffer(c, h, pt, x, &c->tbuf, 0);
  }
  targets[0] = c->p->d.charset;
  targets[1] = 0;
  if (text_plan(c, pt, &c->tbuf, targets, 1, part_is(pt, "text", "plain") ? (unsigned)c->p->d.wrap : 0, &pl) < 0)
    return -1;
  if (pl.kept) pwarn3(pt, "characters not in ", c->p->d.charset, ": kept in ", pl.dst);
  if (!pl.change) return hdr_out(c, h, x, 0) < 0 ? -1 : cw(c, c->tbuf.s, c->tbuf.len);
  cwsink_init(&k, c);
  if (text_header(c, h, pt, x, &pl) < 0) return -1;
  return text_emit(c, pt, &c->tbuf, &pl, &k.s);
}
