/*
 * flat.c -- attachments=uuencode: the MIME tree flattened into one text
 * body (see conv.h).
 *
 * Output: the message's header without its MIME fields, then
 *   Content-Type: text/plain; charset=CS   and a transfer encoding,
 * and a body made of the inline text/plain parts in order, each converted
 * to CS, and every other part as a uuencoded block (`begin 644 NAME`),
 * named by its file name or part-N.EXT (EXT from control/mimetypes).
 * Multipart preambles and epilogues go; a multipart/alternative gives its
 * text/plain, and its other alternatives become files unless richtext=never
 * drops them (as it drops application/ms-tnef).
 *
 * The header is written when the first item is known.  CS is chosen on the
 * first text: nonmimecharset if it can represent the text, else charset,
 * else the text's own charset; the encoding is 7bit or 8bit when the text
 * allows it (8bit only without -8), else quoted-printable for the whole
 * body.  A later text that does not fit CS and that encoding becomes a
 * uuencoded file instead (nothing is lost); so does a text part over
 * TEXT_MAX.  A top-level multipart whose boundary never appears is passed
 * through unchanged.
 *
 * Failure modes: those of reading and writing, ENOMEM.
 */
#include <string.h>
#include "conv.h"
#include "uu.h"

struct trk { struct sink s; struct sink *next; int last; };

struct flat {
  struct mhdr *top;
  int started, passthrough, items;
  char cs[CS_NAME_MAX];
  int cte;
  struct trk track;
  struct qpenc qe;
  unsigned nfiles;
  stralloc names;
};

static int trk_put(struct sink *s, const char *p, size_t n)
{
  struct trk *t = (struct trk *)s;
  t->last = (unsigned char)p[n - 1];
  return sink_put(t->next, p, n);
}

static int flat_entity(struct conv *c, const struct ectx *x);

/* the header; from here on body text goes to fl->track */
static int flat_start(struct conv *c, const char *cs, int cte)
{
  struct flat *fl = c->fl;
  struct ectx tx;
  struct hedit e;
  stralloc ct = {0};
  int rc;
  memset(&tx, 0, sizeof tx);
  tx.top = tx.msghdr = 1;
  memset(&e, 0, sizeof e);
  if (!stralloc_copys(&ct, "text/plain") || mime_param_cat(&ct, "charset", cs, strlen(cs), "") < 0 || !stralloc_0(&ct)) return -1;
  e.ctype = ct.s;
  e.cte = mime_cte_name(cte);
  e.drop_disposition = 1;
  e.mime_version = 1;
  rc = hdr_out(c, fl->top, &tx, &e);
  stralloc_free(&ct);
  strcpy(fl->cs, cs);
  fl->cte = cte;
  fl->started = 1;
  fl->track.s.put = trk_put;
  fl->track.s.end = 0;
  fl->track.last = '\n';
  fl->track.next = &c->out.s;
  if (cte == CTE_QP) { qpenc_init(&fl->qe, &c->out.s, 0); fl->track.next = &fl->qe.s; }
  return rc;
}

/* a blank line between items */
static int separate(struct flat *fl)
{
  if (fl->items++ && sink_put(&fl->track.s, "\n", 1) < 0) return -1;
  return 0;
}

/* ---- files */

static int name_used(const stralloc *names, const char *n)
{
  size_t pos = 0;
  while (pos < names->len) {
    if (!strcmp(names->s + pos, n)) return 1;
    pos += strlen(names->s + pos) + 1;
  }
  return 0;
}

/* a safe file name: the last path component, no control characters, no leading
   dot, dash, tilde or space; non-ASCII kept only when the body can carry it (utf8),
   else one '_' a character */
static void safe_name(const stralloc *fn, int utf8, char *out, size_t cap)
{
  size_t i, o = 0, start = 0;
  int keep8 = utf8 && utf8_valid(fn->s, fn->len);
  for (i = 0; i < fn->len; i++) if (fn->s[i] == '/' || fn->s[i] == '\\') start = i + 1;
  for (i = start; i < fn->len && o + 5 < cap; i++) {
    unsigned char ch = (unsigned char)fn->s[i];
    if (o == 0 && (ch == '.' || ch == '-' || ch == '~' || ch == ' ')) continue;
    if (ch >= 0x80 && keep8) out[o++] = (char)ch;
    else if (ch >= 0x80) {
      if ((ch & 0xc0) != 0x80) out[o++] = '_';               /* one per character */
    } else out[o++] = ch >= 32 && ch != 127 && ch != '|' && ch != '"' ? (char)ch : '_';
  }
  while (o && out[o - 1] == ' ') o--;
  out[o] = 0;
}

static int file_name(struct conv *c, const struct part *pt, char *name, size_t cap)
{
  struct flat *fl = c->fl;
  char type[2 * MIME_TYPE_MAX], num[FMT_ULONG], base[200];
  const char *ext;
  unsigned k = 2;
  fl->nfiles++;
  safe_name(&pt->filename, fl->cte != CTE_7BIT && cs_is_utf8(fl->cs), base, sizeof base);
  if (!*base) {
    strcpy(type, pt->type);
    strcat(type, "/");
    strcat(type, pt->sub);
    ext = mimetypes_ext(&c->p->mt, type);
    if (ext && strlen(ext) > 40) ext = 0;                    /* a control file's word: bounded here */
    num[fmt_ulong(num, pt->num)] = 0;
    strcpy(base, "part-");
    strcat(base, num);
    strcat(base, ".");
    strcat(base, ext ? ext : "bin");
  }
  strcpy(name, base);
  while (name_used(&fl->names, name) && k < 100000) {          /* base-K.ext */
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    num[fmt_ulong(num, k++)] = 0;
    if (stem + strlen(num) + 2 + strlen(base + stem) >= cap) break;
    memcpy(name, base, stem);
    name[stem] = '-';
    strcpy(name + stem + 1, num);
    strcat(name, base + stem);
  }
  return stralloc_cats(&fl->names, name) && stralloc_0(&fl->names) ? 0 : -1;
}

/* one part as a uuencoded block; buf holds its body's start (all of it when complete) */
static int flat_file(struct conv *c, const struct part *pt, const stralloc *buf, int complete)
{
  struct flat *fl = c->fl;
  struct b64dec bd;
  struct qpdec qd;
  struct uuenc ue;
  struct sink *head;
  char name[256];
  if (!fl->started && flat_start(c, *c->p->d.nonmimecharset ? c->p->d.nonmimecharset : "us-ascii", CTE_7BIT) < 0) return -1;
  if (file_name(c, pt, name, sizeof name) < 0 || separate(fl) < 0) return -1;
  if (sink_put(&fl->track.s, "begin 644 ", 10) < 0 || sink_put(&fl->track.s, name, strlen(name)) < 0
      || sink_put(&fl->track.s, "\n", 1) < 0) return -1;
  uuenc_init(&ue, &fl->track.s);
  decoder_sink(pt->cte, &bd, &qd, &ue.s, &head);
  if (buf && sink_put(head, buf->s, buf->len) < 0) return -1;
  if (!complete && body_feed(c, head) < 0) return -1;
  if (head != &ue.s && sink_end(head) < 0) return -1;
  return sink_end(&ue.s);
}

/* ---- text */

static int body_cte(const struct conv *c, const struct tplan *pl)
{
  const struct sink_stats *st = &pl->st;
  int ok8 = !st->nul && st->maxline <= 998 && !st->bare_cr;
  if (ok8 && !st->high && (c->p->eightbit || cs_is_ascii(pl->dst))) return CTE_7BIT;
  if (ok8 && !c->p->eightbit) return CTE_8BIT;
  return CTE_QP;
}

/* does the planned text fit the body as started? */
static int fits(const struct flat *fl, const struct tplan *pl)
{
  const struct sink_stats *st = &pl->st;
  int ok8 = !st->nul && st->maxline <= 998 && !st->bare_cr;
  if (!cs_same(pl->dst, fl->cs) && !(st->high == 0 && cs_ascii_compatible(pl->dst) && cs_ascii_compatible(fl->cs)))
    return 0;
  if (fl->cte == CTE_7BIT) return ok8 && !st->high;
  return fl->cte == CTE_8BIT ? ok8 : 1;
}

static int flat_text(struct conv *c, struct part *pt)
{
  struct flat *fl = c->fl;
  const char *targets[3];
  struct tplan pl;
  unsigned wrap = (unsigned)c->p->d.wrap;
  int r = body_buffer(c, &c->tbuf, TEXT_MAX);
  if (r <= 0) return r < 0 ? -1 : flat_file(c, pt, &c->tbuf, 0);
  targets[0] = fl->started ? fl->cs : c->p->d.nonmimecharset;
  targets[1] = fl->started ? 0 : c->p->d.charset;
  targets[2] = 0;
  if ((r = text_plan(c, pt, &c->tbuf, targets, !fl->started, wrap, &pl)) < 0) return -1;
  if (r == 1 || (fl->started && !fits(fl, &pl))) {
    pwarn3(pt, "text that does not fit the body's charset ", fl->cs, "", ": sent as a uuencoded file");
    return flat_file(c, pt, &c->tbuf, 1);
  }
  if (pl.kept) pwarn3(pt, "characters not in ", c->p->d.nonmimecharset, " or ", c->p->d.charset);
  if (!*pl.dst) strcpy(pl.dst, pl.st.high ? "unknown-8bit" : "us-ascii");
  if (!fl->started && flat_start(c, pl.dst, body_cte(c, &pl)) < 0) return -1;
  pl.cte = CTE_7BIT;                                         /* the body's encoder does the rest */
  if (separate(fl) < 0 || text_emit(c, pt, &c->tbuf, &pl, &fl->track.s) < 0) return -1;
  return fl->track.last == '\n' ? 0 : sink_put(&fl->track.s, "\n", 1);
}

/* ---- the tree */

static int flat_parts(struct conv *c, struct part *pt, int level)
{
  int seen_plain = 0;
  struct ectx cx;
  memset(&cx, 0, sizeof cx);
  cx.in_alt = part_is(pt, "multipart", "alternative");
  cx.digest = part_is(pt, "multipart", "digest");
  cx.seen_plain = &seen_plain;
  while (!c->delim_close) {
    if (flat_entity(c, &cx) < 0) return -1;
    if (!c->end_delim || c->delim_level != level) { pwarn(pt, "multipart ends without its closing boundary"); return 0; }
  }
  bnd_pop(c);                    /* the epilogue goes; our own delimiter in it is only text */
  return body_skip(c);
}

/* no delimiter: the whole body was preamble; pass the message through, or keep it as a file */
static int no_parts(struct conv *c, struct part *pt, int complete, int top)
{
  pwarn(pt, "multipart whose boundary never appears: passed through unchanged");
  if (!top || c->fl->started) return flat_file(c, pt, &c->tbuf, complete);
  c->fl->passthrough = 1;
  if (hdr_out_raw(c, c->fl->top) < 0 || cw(c, c->tbuf.s, c->tbuf.len) < 0) return -1;
  return complete ? 0 : body_copy(c);
}

static int flat_multipart(struct conv *c, struct part *pt, int top)
{
  int level, r, rc;
  if (bnd_push(c, pt->boundary.s, pt->boundary.len) < 0) return -1;
  level = c->nb - 1;
  c->depth++;
  r = body_buffer(c, &c->tbuf, TEXT_MAX);                    /* the preamble */
  if (r < 0) rc = -1;
  else if (r == 0 || !c->end_delim || c->delim_level != level) {
    bnd_pop(c);                                              /* the rest belongs to the outer body */
    c->depth--;
    return no_parts(c, pt, r, top);
  } else rc = flat_parts(c, pt, level);
  c->depth--;
  if (c->nb == level + 1) bnd_pop(c);
  return rc;
}

static int flat_node(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x)
{
  int never = c->p->d.richtext == RICH_NEVER;
  if (h->end == HEND_BIG) {
    pwarn(pt, "header section over 1 MB: sent as a uuencoded file");
    pt->cte = CTE_7BIT;                                      /* the raw bytes, whatever they say */
    return flat_file(c, pt, &h->raw, 0);
  }
  if (never && part_is_tnef(pt)) return drop_entity(c, pt, "application/ms-tnef dropped (richtext=never)");
  if (never && x->in_alt && *x->seen_plain && part_is_richtext(pt))
    return drop_entity(c, pt, "rich text alternative dropped (richtext=never)");
  if (part_is(pt, "multipart", 0) && !pt->ct_bad && mime_boundary_ok(pt->boundary.s, pt->boundary.len)
      && c->depth < DEPTH_MAX)
    return flat_multipart(c, pt, x->top);
  if (part_is(pt, "text", "plain") && !pt->attachment && pt->cte != CTE_OTHER && !(x->in_alt && *x->seen_plain)) {
    if (x->in_alt) *x->seen_plain = 1;
    return flat_text(c, pt);
  }
  return flat_file(c, pt, 0, 0);
}

static int flat_entity(struct conv *c, const struct ectx *x) { return entity_walk(c, x, flat_node); }

int flat_top(struct conv *c, struct mhdr *h, struct part *pt)
{
  struct flat fl;
  struct ectx x;
  int rc;
  memset(&fl, 0, sizeof fl);
  memset(&x, 0, sizeof x);
  x.top = x.msghdr = 1;
  fl.top = h;
  c->fl = &fl;
  rc = flat_node(c, h, pt, &x);
  if (rc == 0 && !fl.started && !fl.passthrough) rc = flat_start(c, *c->p->d.nonmimecharset ? c->p->d.nonmimecharset : "us-ascii", CTE_7BIT);
  if (rc == 0 && fl.started && fl.cte == CTE_QP) rc = sink_end(&fl.qe.s);
  stralloc_free(&fl.names);
  c->fl = 0;
  return rc;
}
