/*
 * wrap.c -- hard wrapping of UTF-8 text (see wrap.h).
 *
 * Characters are taken one at a time.  The line being built is held until
 * it ends or must be broken; the last break opportunity is remembered as
 * (cut, at): where the old line ends and where the new one starts.
 */
#include <string.h>
#include "charset.h"
#include "wrap.h"

unsigned wrap_width(unsigned cp)
{
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) || (cp >= 0x3041 && cp <= 0x33ff)
      || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf)
      || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f)
      || (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6)
      || (cp >= 0x1f300 && cp <= 0x1f64f) || (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd))
    return 2;
  return 1;
}

/* kinsoku: no line may start with these, or end with those */
static int no_break_before(unsigned cp)
{
  static const unsigned closing[] = { 0x3001, 0x3002, 0xff0c, 0xff0e, 0xff1a, 0xff1b, 0xff1f, 0xff01,
    0x300d, 0x300f, 0xff09, 0x3011, 0x3015, 0x3009, 0x300b, 0x30fc, 0xff5d, 0x309b, 0x309c, 0x30fb, 0 };
  int i;
  for (i = 0; closing[i]; i++) if (closing[i] == cp) return 1;
  return 0;
}

static int no_break_after(unsigned cp)
{
  static const unsigned opening[] = { 0x300c, 0x300e, 0xff08, 0x3010, 0x3014, 0x3008, 0x300a, 0xff5b, 0 };
  int i;
  for (i = 0; opening[i]; i++) if (opening[i] == cp) return 1;
  return 0;
}

static void line_reset(struct wrap *w)
{
  w->len = 0;
  w->col = 0;
  w->has_brk = 0;
  w->overlong = 0;
  w->skipsp = 0;
  w->prevcp = 0;
  w->plen = 0;
  w->pcol = 0;
  w->inprefix = 1;
}

static int put_line(struct wrap *w)
{
  int rc = sink_put(w->next, w->line, w->len);
  w->len = 0;
  return rc;
}

/* the line ends at the opportunity; the rest starts the next one, after the prefix */
static int do_break(struct wrap *w)
{
  size_t rest = w->len - w->at;
  if (sink_put(w->next, w->line, w->cut) < 0) return -1;
  if (w->flowed && w->delsp && sink_put(w->next, " ", 1) < 0) return -1;
  if (sink_put(w->next, "\n", 1) < 0) return -1;
  w->breaks++;
  memmove(w->line + w->plen, w->line + w->at, rest);
  memcpy(w->line, w->prefix, w->plen);
  w->len = w->plen + rest;
  w->col = w->pcol + (w->col - w->atcol);
  w->has_brk = 0;
  if (w->col <= w->width) return 0;
  w->overlong = 1;                 /* what is left is one word wider than the line */
  return put_line(w);
}

/* a space ends an over-long word: break there */
static int overlong_space(struct wrap *w)
{
  if (w->flowed && sink_put(w->next, w->delsp ? "  " : " ", w->delsp ? 2 : 1) < 0) return -1;
  if (sink_put(w->next, "\n", 1) < 0 || sink_put(w->next, w->prefix, w->plen) < 0) return -1;
  w->breaks++;
  w->overlong = 0;
  w->skipsp = 1;
  w->len = 0;
  w->col = w->pcol;
  w->has_brk = 0;
  w->prevcp = 0;
  return 0;
}

static void track_prefix(struct wrap *w, const char *b, size_t k, unsigned cp)
{
  if ((cp == '>' || (cp == ' ' && w->plen)) && w->plen + k <= WRAP_PREFIX) {
    memcpy(w->prefix + w->plen, b, k);
    w->plen += k;
    w->pcol++;
  } else w->inprefix = 0;
}

static void note_opportunity(struct wrap *w, unsigned cp)
{
  if (cp == ' ' || cp == '\t') {
    if (w->prevcp != ' ' && w->prevcp != '\t') w->cut = w->len;    /* a run of spaces starts */
    if (w->cut <= w->plen) return;
    w->has_brk = 2;                                                /* completed after the append */
    return;
  }
  if (!w->flowed && w->prevcp && w->prevcp != ' ' && w->prevcp != '\t' && w->len > w->plen
      && (wrap_width(cp) == 2 || wrap_width(w->prevcp) == 2)
      && !no_break_before(cp) && !no_break_after(w->prevcp)) {
    w->cut = w->at = w->len;
    w->atcol = w->col;
    w->has_brk = 1;
  }
}

static int wrap_char(struct wrap *w, const char *b, size_t k, unsigned cp)
{
  unsigned cw = cp == '\t' ? 8 - w->col % 8 : wrap_width(cp);
  if (cp == '\n') {
    int rc = put_line(w) < 0 || sink_put(w->next, "\n", 1) < 0 ? -1 : 0;
    line_reset(w);
    return rc;
  }
  if (w->skipsp && (cp == ' ' || cp == '\t')) return 0;
  w->skipsp = 0;
  if (w->overlong) {
    if (cp == ' ' || cp == '\t') return overlong_space(w);
    w->col += cw;
    return sink_put(w->next, b, k);
  }
  if (w->inprefix) track_prefix(w, b, k, cp);
  if (w->len + k > WRAP_HOLD) {
    w->overlong = 1;
    if (put_line(w) < 0) return -1;
    w->col += cw;
    return sink_put(w->next, b, k);
  }
  if (!w->inprefix) note_opportunity(w, cp);
  memcpy(w->line + w->len, b, k);
  w->len += k;
  w->col += cw;
  w->prevcp = cp;
  if (w->has_brk == 2 && (cp == ' ' || cp == '\t')) {
    w->at = w->len;
    w->atcol = w->col;
    if (w->flowed) w->cut = w->len;
    return 0;
  }
  if (w->col <= w->width || cp == ' ' || cp == '\t') return 0;
  if (w->has_brk) return do_break(w);
  w->overlong = 1;
  return put_line(w);
}

static unsigned decode_cp(const char *b, size_t k)
{
  const unsigned char *u = (const unsigned char *)b;
  if (k == 1) return u[0];
  if (k == 2) return (u[0] & 0x1fu) << 6 | (u[1] & 0x3f);
  if (k == 3) return (u[0] & 0x0fu) << 12 | (u[1] & 0x3fu) << 6 | (u[2] & 0x3f);
  return (u[0] & 0x07u) << 18 | (u[1] & 0x3fu) << 12 | (u[2] & 0x3fu) << 6 | (u[3] & 0x3f);
}

static int wrap_put(struct sink *s, const char *p, size_t n)
{
  struct wrap *w = (struct wrap *)s;
  size_t i;
  for (i = 0; i < n; i++) {
    size_t need;
    w->u8[w->u8n++] = p[i];
    need = utf8_seqlen((unsigned char)w->u8[0]);
    if (w->u8n > 1 && ((unsigned char)p[i] & 0xc0) != 0x80) {    /* a broken sequence: bytes as they are */
      if (wrap_char(w, w->u8, w->u8n - 1, 0xfffd) < 0) return -1;
      w->u8[0] = p[i];
      w->u8n = 1;
      need = utf8_seqlen((unsigned char)p[i]);
    }
    if (w->u8n < need) continue;
    if (wrap_char(w, w->u8, w->u8n, decode_cp(w->u8, w->u8n)) < 0) return -1;
    w->u8n = 0;
  }
  return 0;
}

static int wrap_end(struct sink *s)
{
  struct wrap *w = (struct wrap *)s;
  if (w->u8n && wrap_char(w, w->u8, w->u8n, 0xfffd) < 0) return -1;   /* a sequence cut off */
  w->u8n = 0;
  if (put_line(w) < 0) return -1;
  line_reset(w);
  return 0;
}

void wrap_init(struct wrap *w, struct sink *next, unsigned width, int flowed, int delsp)
{
  memset(w, 0, sizeof *w);
  w->s.put = wrap_put;
  w->s.end = wrap_end;
  w->next = next;
  w->width = width;
  w->flowed = flowed;
  w->delsp = delsp;
  line_reset(w);
}
