/*
 * uuscan.c -- the inbound profile: uuencoded blocks in a text part become
 * MIME attachments (see conv.h).
 *
 * Input: an inline text/plain part (or a message with no MIME at all).
 * Its first TEXT_MAX bytes are buffered and decoded; when they hold a
 * `begin MODE NAME` (or `begin-base64`) line followed by a valid body line,
 * the part is rewritten as a multipart/mixed: the text between blocks as
 * text/plain parts with the original Content-Type and transfer encoding
 * (blank lines around a block go), each block as an attachment typed by
 * control/mimetypes from its name, in base64.  Otherwise the part is copied
 * unchanged, except that a message without MIME headers whose text has
 * 8-bit bytes is labelled text/plain, 8bit, in UTF-8 when the text is valid
 * UTF-8 and else in the profile's nonmimecharset (when that is not
 * US-ASCII).  Blocks are decoded a line at a time, so one of any size costs
 * a line of memory.  A block broken off (a line that is not a body line,
 * or no `end`) ends its attachment there, with a warning; what follows is
 * text again.
 *
 * Boundaries are "=_imc_" and 24 random hex digits ("=_imc_test_N" when the
 * environment has IMC_CONVERT_TEST_BOUNDARY, for the golden tests).
 *
 * Failure modes: those of reading and writing, ENOMEM.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "conv.h"
#include "diag.h"
#include "uu.h"

#define UULINE 4096
enum { S_TEXT, S_BEGIN, S_UU, S_UUZERO, S_B64 };

struct uuscan {
  struct sink s;
  struct conv *c;
  const struct part *pt;
  const struct mhdr *h;
  const char *bnd;
  int state, kind, overlong, text_open, att_open, any_att, first;
  unsigned blanks;
  char line[UULINE];
  size_t len;
  char begin[UULINE];
  size_t beginlen;
  int tcte;
  struct b64enc tb, ab;
  struct qpenc tq;
  struct b64dec ad;
  struct cwsink out;
  struct sink *tenc;
};

void boundary_make(char *b, size_t cap)
{
  static const char hex[] = "0123456789abcdef";
  static unsigned counter;
  unsigned char r[12];
  size_t i, o;
  unsigned long v = (unsigned long)time(0) ^ ((unsigned long)getpid() << 16) ^ ++counter;
  if (getenv("IMC_CONVERT_TEST_BOUNDARY")) {         /* the golden tests want the same output twice */
    char num[FMT_ULONG];
    num[fmt_ulong(num, counter)] = 0;
    strcpy(b, "=_imc_test_");
    if (strlen(num) + 12 < cap) strcat(b, num);
    return;
  }
  if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
    for (i = 0; i < sizeof r; i++) { r[i] = (unsigned char)v; v = v * 1103515245 + 12345 + i; }
  strcpy(b, "=_imc_");
  o = 6;
  for (i = 0; i < sizeof r && o + 2 < cap; i++) { b[o++] = hex[r[i] >> 4]; b[o++] = hex[r[i] & 15]; }
  b[o] = 0;
}

/* ---- sub-parts */

static int delim(struct uuscan *u, const char *close)
{
  if (!u->first && cws(u->c, "\n") < 0) return -1;
  u->first = 0;
  return cws(u->c, "--") < 0 || cws(u->c, u->bnd) < 0 ? -1 : cws(u->c, close);
}

static int text_close(struct uuscan *u)
{
  u->blanks = 0;
  if (!u->text_open) return 0;
  u->text_open = 0;
  return sink_end(u->tenc);
}

static int text_open(struct uuscan *u)
{
  stralloc v = {0}, f = {0};
  int rc = delim(u, "\n");
  if (rc == 0 && mhdr_get(u->h, "content-type", &v) > 0)
    rc = hdr_fold(&f, "Content-Type", 12, v.s, v.len) < 0 || cw(u->c, f.s, f.len) < 0 ? -1 : 0;
  stralloc_free(&v);
  stralloc_free(&f);
  if (rc == 0 && u->tcte != CTE_7BIT)
    rc = cws(u->c, "Content-Transfer-Encoding: ") < 0 || cws(u->c, mime_cte_name(u->tcte)) < 0
         || cws(u->c, "\n") < 0 ? -1 : 0;
  if (rc == 0) rc = cws(u->c, "\n");
  encoder_sink(u->tcte, &u->tb, &u->tq, &u->out.s, &u->tenc);
  u->text_open = 1;
  return rc;
}

static int att_open(struct uuscan *u)
{
  stralloc hd = {0};
  const char *name;
  size_t namelen;
  unsigned mode;
  int rc;
  if (text_close(u) < 0) return -1;
  uu_begin(u->begin, u->beginlen, &mode, &name, &namelen);
  rc = stralloc_copys(&hd, "Content-Type: ") && stralloc_catb(&hd, name, namelen) && stralloc_0(&hd) ? 0 : -1;
  if (rc == 0) {
    const char *type = mimetypes_type(&u->c->p->mt, hd.s + 14);
    hd.len = 14;
    rc = stralloc_cats(&hd, type) ? 0 : -1;
  }
  if (rc == 0) rc = mime_param_cat(&hd, "name", name, namelen, utf8_valid(name, namelen) ? "utf-8" : "unknown-8bit");
  if (rc == 0) rc = stralloc_cats(&hd, "\nContent-Disposition: attachment") ? 0 : -1;
  if (rc == 0) rc = mime_param_cat(&hd, "filename", name, namelen, utf8_valid(name, namelen) ? "utf-8" : "unknown-8bit");
  if (rc == 0) rc = stralloc_cats(&hd, "\nContent-Transfer-Encoding: base64\n\n") ? 0 : -1;
  if (rc < 0) { stralloc_free(&hd); errno = ENOMEM; return -1; }
  rc = delim(u, "\n") < 0 || cw(u->c, hd.s, hd.len) < 0 ? -1 : 0;
  stralloc_free(&hd);
  b64enc_init(&u->ab, &u->out.s);
  b64dec_init(&u->ad, &u->ab.s);
  u->att_open = u->any_att = 1;
  return rc;
}

static int att_close(struct uuscan *u, const char *broken)
{
  if (!u->att_open) return 0;
  u->att_open = 0;
  u->state = S_TEXT;
  if (broken) pwarn3(u->pt, "uuencoded block ", broken, "", ": attachment ends there");
  if (u->kind == UU_BEGIN_B64 && sink_end(&u->ad.s) < 0) return -1;
  return sink_end(&u->ab.s);
}

/* ---- lines */

static int is_blank(const char *p, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n') return 0;
  return 1;
}

static int text_line(struct uuscan *u, const char *p, size_t n)
{
  if (is_blank(p, n) && !u->overlong) {
    if (u->text_open || !u->any_att) u->blanks++;
    return 0;
  }
  if (!u->text_open && text_open(u) < 0) return -1;
  for (; u->blanks; u->blanks--) if (sink_put(u->tenc, "\n", 1) < 0) return -1;
  return sink_put(u->tenc, p, n);
}

static int b64_line(const char *p, size_t n)
{
  size_t i;
  while (n && (p[n - 1] == '\n' || p[n - 1] == '\r')) n--;
  if (!n) return 0;
  for (i = 0; i < n; i++) if (b64_value((unsigned char)p[i]) < 0 && p[i] != '=') return 0;
  return 1;
}

static int is_b64_end(const char *p, size_t n)
{
  while (n && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' ')) n--;
  return n == 4 && !memcmp(p, "====", 4);
}

static int line(struct uuscan *u, const char *p, size_t n);

static int in_block(struct uuscan *u, const char *p, size_t n)
{
  unsigned char buf[64];
  size_t got;
  if (u->state == S_B64) {
    if (is_b64_end(p, n)) return att_close(u, 0);
    if (b64_line(p, n)) return sink_put(&u->ad.s, p, n);
  } else if (u->state == S_UUZERO) {
    if (uu_is_end(p, n)) return att_close(u, 0);
    if (att_close(u, "without its end line") < 0) return -1;
    return line(u, p, n);
  } else {
    if (uu_is_end(p, n)) return att_close(u, 0);
    if (uu_decode_line(p, n, buf, &got)) {
      if (!got) u->state = S_UUZERO;
      return sink_put(&u->ab.s, (char *)buf, got);
    }
  }
  if (att_close(u, "broken off") < 0) return -1;
  return text_line(u, p, n);
}

static int line(struct uuscan *u, const char *p, size_t n)
{
  const char *name;
  size_t namelen;
  unsigned mode;
  unsigned char buf[64];
  size_t got;
  if (u->state == S_BEGIN) {
    int ok = u->kind == UU_BEGIN ? !uu_is_end(p, n) && uu_decode_line(p, n, buf, &got) : b64_line(p, n);
    u->state = S_TEXT;
    if (ok) {
      if (att_open(u) < 0) return -1;
      u->state = u->kind == UU_BEGIN ? S_UU : S_B64;
      return in_block(u, p, n);
    }
    if (text_line(u, u->begin, u->beginlen) < 0) return -1;
  }
  if (u->state != S_TEXT) return in_block(u, p, n);
  if (!u->overlong && (u->kind = uu_begin(p, n, &mode, &name, &namelen)) != 0) {
    memcpy(u->begin, p, n);
    u->beginlen = n;
    u->state = S_BEGIN;
    return 0;
  }
  return text_line(u, p, n);
}

/* ---- the sink: decoded text in, lines out */

static int scan_put(struct sink *s, const char *p, size_t n)
{
  struct uuscan *u = (struct uuscan *)s;
  while (n) {
    const char *nl = memchr(p, '\n', n);
    size_t take = nl ? (size_t)(nl - p) + 1 : n;
    if (u->len + take > UULINE) {                      /* a long line: only ever text */
      if (u->state != S_TEXT && u->state != S_BEGIN) { if (att_close(u, "broken off") < 0) return -1; }
      if (u->state == S_BEGIN) { u->state = S_TEXT; if (text_line(u, u->begin, u->beginlen) < 0) return -1; }
      if (text_line(u, u->line, u->len) < 0) return -1;
      u->len = 0;
      u->overlong = 1;
    }
    if (u->overlong) { if (text_line(u, p, take) < 0) return -1; }
    else { memcpy(u->line + u->len, p, take); u->len += take; }
    if (nl) {
      if (!u->overlong && line(u, u->line, u->len) < 0) return -1;
      u->len = 0;
      u->overlong = 0;
    }
    p += take;
    n -= take;
  }
  return 0;
}

static int scan_end(struct uuscan *u)
{
  if (u->len && line(u, u->line, u->len) < 0) return -1;
  u->len = 0;
  if (u->state == S_BEGIN && text_line(u, u->begin, u->beginlen) < 0) return -1;
  if (u->att_open && att_close(u, "without its end line") < 0) return -1;
  if (text_close(u) < 0) return -1;
  return delim(u, "--");
}

/* ---- the part */

/* a begin line followed by a body line somewhere in the decoded text */
static int has_block(const stralloc *d)
{
  size_t i = 0;
  unsigned mode;
  const char *name;
  size_t namelen, got;
  unsigned char buf[64];
  while (i < d->len) {
    const char *nl = memchr(d->s + i, '\n', d->len - i), *nx;
    size_t n = nl ? (size_t)(nl - (d->s + i)) + 1 : d->len - i, m;
    int kind = uu_begin(d->s + i, n, &mode, &name, &namelen);
    i += n;
    if (!kind || i >= d->len) continue;
    nx = memchr(d->s + i, '\n', d->len - i);
    m = nx ? (size_t)(nx - (d->s + i)) + 1 : d->len - i;
    if (kind == UU_BEGIN ? !uu_is_end(d->s + i, m) && uu_decode_line(d->s + i, m, buf, &got) : b64_line(d->s + i, m))
      return 1;
  }
  return 0;
}

struct sa_sink { struct sink s; stralloc *sa; };
static int sa_put(struct sink *s, const char *p, size_t n)
{
  if (stralloc_catb(((struct sa_sink *)s)->sa, p, n)) return 0;
  errno = ENOMEM;
  return -1;
}

/* the transfer decoding of a part, first into a buffer, then into the scanner */
struct dec {
  struct b64dec bd;
  struct qpdec qd;
  struct sa_sink z;
  struct sink *head;
};

static int dec_start(struct dec *d, const struct part *pt, const stralloc *raw, stralloc *out, int complete)
{
  d->z.s.put = sa_put;
  d->z.s.end = 0;
  d->z.sa = out;
  out->len = 0;
  decoder_sink(pt->cte, &d->bd, &d->qd, &d->z.s, &d->head);
  if (sink_put(d->head, raw->s, raw->len) < 0) return -1;
  return complete ? sink_end(d->head) : 0;
}

static void dec_redirect(struct dec *d, struct sink *to)
{
  d->bd.next = to;
  d->qd.next = to;
  if (d->head == &d->z.s) d->head = to;
}

static int convert_part(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x,
                        struct dec *d, const stralloc *dec, int complete)
{
  char b[64];
  stralloc ct = {0};
  struct hedit e;
  struct uuscan u;
  int rc, eight = pt->cte == CTE_8BIT || pt->cte == CTE_BINARY;
  boundary_make(b, sizeof b);
  memset(&e, 0, sizeof e);
  if (!stralloc_copys(&ct, "multipart/mixed") || mime_param_cat(&ct, "boundary", b, strlen(b), "") < 0
      || !stralloc_0(&ct)) { errno = ENOMEM; return -1; }
  e.ctype = ct.s;
  e.cte = eight && !c->p->eightbit ? "8bit" : "";
  e.mime_version = x->top;
  rc = hdr_out(c, h, x, &e);
  stralloc_free(&ct);
  if (rc < 0) return -1;
  memset(&u, 0, sizeof u);
  u.s.put = scan_put;
  u.c = c;
  u.pt = pt;
  u.h = h;
  u.bnd = b;
  u.first = 1;
  u.tcte = eight ? (c->p->eightbit ? CTE_QP : CTE_8BIT) : pt->cte;
  cwsink_init(&u.out, c);
  if (sink_put(&u.s, dec->s, dec->len) < 0) return -1;
  dec_redirect(d, &u.s);
  if (!complete && (body_feed(c, d->head) < 0 || sink_end(d->head) < 0)) return -1;
  return scan_end(&u);
}

/* the label for 8-bit text of a message without MIME headers: utf-8 when
   it is valid UTF-8, else the profile's nonmimecharset; 0 when none is
   due (7-bit text, MIME headers, a US-ASCII nonmimecharset, -8, keep) */
static const char *nonmime_charset(const struct conv *c, const struct mhdr *h, const struct ectx *x,
                                   const stralloc *body)
{
  const char *cs = c->p->d.nonmimecharset;
  size_t i;
  if (!x->top || c->p->keep || c->p->eightbit || cs_is_ascii(cs)) return 0;
  if (mhdr_find(h, "mime-version") >= 0 || mhdr_find(h, "content-type") >= 0) return 0;
  for (i = 0; i < body->len && !((unsigned char)body->s[i] & 0x80); i++) ;
  if (i == body->len) return 0;
  return utf8_valid(body->s, body->len) ? "utf-8" : cs;
}

/* no uuencoded block: the part as it is, labelled when nonmime_charset says so */
static int plain_entity(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x, int complete)
{
  const char *cs = nonmime_charset(c, h, x, &c->tbuf);
  char ct[DOM_CHARSET_MAX + 32] = "text/plain; charset=";
  struct hedit e;
  if (!cs) return leaf_from_buffer(c, h, pt, x, &c->tbuf, complete);
  memset(&e, 0, sizeof e);
  strcat(ct, cs);
  e.ctype = ct;
  e.cte = "8bit";
  e.mime_version = 1;
  if (!convert_quiet) info("8-bit text without MIME headers labelled ", cs, " (nonmimecharset)");
  if (hdr_out(c, h, x, &e) < 0 || cw(c, c->tbuf.s, c->tbuf.len) < 0) return -1;
  return complete ? 0 : body_copy(c);
}

int uuscan_entity(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x)
{
  stralloc dec = {0};
  struct dec d;
  int rc, r = body_buffer(c, &c->tbuf, TEXT_MAX), coded = pt->cte == CTE_QP || pt->cte == CTE_B64;
  const stralloc *text = coded ? &dec : &c->tbuf;         /* 7bit, 8bit: the body is the text */
  if (r < 0) return -1;
  if (pt->cte == CTE_OTHER || (coded && dec_start(&d, pt, &c->tbuf, &dec, r) < 0) || !has_block(text)) {
    stralloc_free(&dec);
    return plain_entity(c, h, pt, x, r);
  }
  if (!coded) memset(&d, 0, sizeof d);                   /* no decoder: dec_redirect points at the scanner */
  if (!coded) d.head = &d.z.s;
  rc = convert_part(c, h, pt, x, &d, text, r);
  stralloc_free(&dec);
  return rc;
}
