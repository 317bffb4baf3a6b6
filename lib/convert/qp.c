/*
 * qp.c -- streaming quoted-printable encoder and decoder (see qp.h).
 * Output is gathered in a local block and passed on once per put.
 */
#include <string.h>
#include "qp.h"

static const char hexdig[] = "0123456789ABCDEF";

int qp_hexval(unsigned char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* ---- encoder */

struct blk { char b[4096]; size_t n; struct sink *next; };

static int blk_room(struct blk *k, size_t need)
{
  if (k->n + need <= sizeof k->b) return 0;
  if (sink_put(k->next, k->b, k->n) < 0) return -1;
  k->n = 0;
  return 0;
}

/* one token of 1 or 3 characters, with a soft break first if the line is full */
static int enc_token(struct qpenc *e, struct blk *k, const char *t, unsigned len)
{
  if (blk_room(k, 6) < 0) return -1;
  if (e->col + len > 75) {
    k->b[k->n++] = '=';
    k->b[k->n++] = '\n';
    e->col = 0;
  }
  memcpy(k->b + k->n, t, len);
  k->n += len;
  e->col += len;
  return 0;
}

static int enc_escaped(struct qpenc *e, struct blk *k, unsigned char c)
{
  char t[3] = { '=', hexdig[c >> 4], hexdig[c & 15] };
  return enc_token(e, k, t, 3);
}

static int enc_byte(struct qpenc *e, struct blk *k, unsigned char c)
{
  if (c == '\n' && !e->binary) {
    if (e->held >= 0 && enc_escaped(e, k, (unsigned char)e->held) < 0) return -1;
    e->held = -1;
    if (blk_room(k, 1) < 0) return -1;
    k->b[k->n++] = '\n';
    e->col = 0;
    return 0;
  }
  if (e->held >= 0) {
    char t = (char)e->held;
    e->held = -1;
    if (enc_token(e, k, &t, 1) < 0) return -1;
  }
  if ((c == ' ' || c == '\t') && !e->binary) { e->held = c; return 0; }
  if (c > 32 && c < 127 && c != '=') return enc_token(e, k, (const char *)&c, 1);
  return enc_escaped(e, k, c);
}

static int enc_put(struct sink *s, const char *p, size_t n)
{
  struct qpenc *e = (struct qpenc *)s;
  struct blk k;
  size_t i;
  k.n = 0;
  k.next = e->next;
  for (i = 0; i < n; i++) if (enc_byte(e, &k, (unsigned char)p[i]) < 0) return -1;
  return sink_put(e->next, k.b, k.n);
}

static int enc_end(struct sink *s)
{
  struct qpenc *e = (struct qpenc *)s;
  struct blk k;
  k.n = 0;
  k.next = e->next;
  if (e->held >= 0 && enc_escaped(e, &k, (unsigned char)e->held) < 0) return -1;
  e->held = -1;
  return sink_put(e->next, k.b, k.n);
}

void qpenc_init(struct qpenc *e, struct sink *next, int binary)
{
  memset(e, 0, sizeof *e);
  e->s.put = enc_put;
  e->s.end = enc_end;
  e->next = next;
  e->binary = binary;
  e->held = -1;
}

/* ---- decoder: the rules of binascii.a2b_qp */

static int dec_out(struct blk *k, const char *p, size_t n)
{
  if (blk_room(k, n) < 0) return -1;
  memcpy(k->b + k->n, p, n);
  k->n += n;
  return 0;
}

static int dec_plain(struct qpdec *d, struct blk *k, unsigned char c)
{
  if (c == '=') { d->state = 1; return 0; }
  return dec_out(k, (const char *)&c, 1);
}

static int dec_byte(struct qpdec *d, struct blk *k, unsigned char c)
{
  switch (d->state) {
  case 0: return dec_plain(d, k, c);
  case 1:
    d->state = 0;
    if (c == '\n') return 0;                                 /* soft break */
    if (c == '\r') { d->state = 3; return 0; }
    if (c == '=') return dec_out(k, "=", 1);
    if (qp_hexval(c) >= 0) { d->state = 2; d->hex1 = (char)c; return 0; }
    if (dec_out(k, "=", 1) < 0) return -1;
    return dec_plain(d, k, c);
  case 2:
    d->state = 0;
    if (qp_hexval(c) >= 0) {
      char b = (char)(qp_hexval((unsigned char)d->hex1) * 16 + qp_hexval(c));
      return dec_out(k, &b, 1);
    }
    {
      char t[2] = { '=', d->hex1 };
      if (dec_out(k, t, 2) < 0) return -1;
    }
    return dec_plain(d, k, c);
  default:
    if (c == '\n') d->state = 0;                             /* "=" CR ... LF: soft break */
    return 0;
  }
}

static int dec_put(struct sink *s, const char *p, size_t n)
{
  struct qpdec *d = (struct qpdec *)s;
  struct blk k;
  size_t i;
  k.n = 0;
  k.next = d->next;
  for (i = 0; i < n; i++) if (dec_byte(d, &k, (unsigned char)p[i]) < 0) return -1;
  return sink_put(d->next, k.b, k.n);
}

static int dec_end(struct sink *s)
{
  struct qpdec *d = (struct qpdec *)s;
  char t[2] = { '=', d->hex1 };
  int st = d->state;
  d->state = 0;
  return st == 2 ? sink_put(d->next, t, 2) : 0;              /* a lone "=" at the end goes */
}

void qpdec_init(struct qpdec *d, struct sink *next)
{
  d->s.put = dec_put;
  d->s.end = dec_end;
  d->next = next;
  d->state = 0;
  d->hex1 = 0;
}

size_t qp_decode_q(unsigned char *dst, const char *src, size_t n)
{
  size_t i = 0, o = 0;
  while (i < n) {
    unsigned char c = (unsigned char)src[i];
    if (c == '_') { dst[o++] = ' '; i++; }
    else if (c == '=' && i + 2 < n && qp_hexval((unsigned char)src[i + 1]) >= 0
             && qp_hexval((unsigned char)src[i + 2]) >= 0) {
      dst[o++] = (unsigned char)(qp_hexval((unsigned char)src[i + 1]) * 16 + qp_hexval((unsigned char)src[i + 2]));
      i += 3;
    } else { dst[o++] = c; i++; }
  }
  return o;
}
