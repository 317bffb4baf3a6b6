/*
 * b64.c -- streaming base64 encoder and decoder (see b64.h).
 * Work is done in blocks through a local buffer, so a put of any size
 * costs a few calls of the next sink.
 */
#include <string.h>
#include "base64.h"
#include "b64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* value of each byte: 0..63, -1 not in the alphabet */
static signed char table[256];
static int table_ready;

static void table_init(void)
{
  int i;
  if (table_ready) return;
  for (i = 0; i < 256; i++) table[i] = -1;
  for (i = 0; i < 64; i++) table[(unsigned char)alphabet[i]] = (signed char)i;
  table_ready = 1;
}

int b64_value(unsigned char c)
{
  table_init();
  return table[c];
}

static inline void quad(char *d, const unsigned char *s)
{
  d[0] = alphabet[s[0] >> 2];
  d[1] = alphabet[((s[0] & 3) << 4) | (s[1] >> 4)];
  d[2] = alphabet[((s[1] & 15) << 2) | (s[2] >> 6)];
  d[3] = alphabet[s[2] & 63];
}

/* ---- encoder: 57 input bytes make one line of 76 */

static int enc_put(struct sink *s, const char *p, size_t n)
{
  struct b64enc *e = (struct b64enc *)s;
  const unsigned char *u = (const unsigned char *)p;
  char buf[4096];
  size_t o = 0;
  while (n) {
    if (e->ncarry < 3) { e->carry[e->ncarry++] = *u++; n--; }
    if (e->ncarry < 3) continue;
    if (e->col == 76) { buf[o++] = '\n'; e->col = 0; }
    quad(buf + o, e->carry);
    o += 4;
    e->col += 4;
    e->ncarry = 0;
    while (n >= 3 && o < sizeof buf - 8 && e->col < 76) {   /* fast path inside a line */
      quad(buf + o, u);
      o += 4; e->col += 4; u += 3; n -= 3;
    }
    if (o >= sizeof buf - 8) {
      if (sink_put(e->next, buf, o) < 0) return -1;
      o = 0;
    }
  }
  return sink_put(e->next, buf, o);
}

static int enc_end(struct sink *s)
{
  struct b64enc *e = (struct b64enc *)s;
  char buf[8];
  size_t o = 0;
  if (!e->ncarry) return 0;
  if (e->col == 76) buf[o++] = '\n';
  o += base64_encode(buf + o, (const char *)e->carry, e->ncarry);
  e->ncarry = 0;
  e->col = 4;
  return sink_put(e->next, buf, o);
}

void b64enc_init(struct b64enc *e, struct sink *next)
{
  memset(e, 0, sizeof *e);
  e->s.put = enc_put;
  e->s.end = enc_end;
  e->next = next;
}

/* ---- decoder */

static size_t dec_flush_group(struct b64dec *d, unsigned char *o)
{
  size_t k = 0;
  if (d->nq == 2) o[k++] = (unsigned char)(d->acc >> 4);
  else if (d->nq == 3) {
    o[k++] = (unsigned char)(d->acc >> 10);
    o[k++] = (unsigned char)(d->acc >> 2);
  }
  d->nq = 0;
  d->acc = 0;
  return k;
}

static size_t dec_byte(struct b64dec *d, unsigned char c, unsigned char *o)
{
  int v = table[c];
  if (v < 0) {
    if (c == '=') return dec_flush_group(d, o);
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') d->bad++;
    return 0;
  }
  d->acc = (d->acc << 6) | (unsigned)v;
  if (++d->nq < 4) return 0;
  o[0] = (unsigned char)(d->acc >> 16);
  o[1] = (unsigned char)(d->acc >> 8);
  o[2] = (unsigned char)d->acc;
  d->nq = 0;
  d->acc = 0;
  return 3;
}

/* whole groups of four alphabet bytes, at a group boundary: the common case */
static size_t dec_fast(const unsigned char *u, size_t n, size_t *i, unsigned char *o, size_t room)
{
  size_t k = 0;
  while (*i + 4 <= n && k + 3 <= room) {
    int a = table[u[*i]], b = table[u[*i + 1]], c = table[u[*i + 2]], e = table[u[*i + 3]];
    if ((a | b | c | e) < 0) break;
    o[k++] = (unsigned char)(a << 2 | b >> 4);
    o[k++] = (unsigned char)(b << 4 | c >> 2);
    o[k++] = (unsigned char)(c << 6 | e);
    *i += 4;
  }
  return k;
}

static int dec_put(struct sink *s, const char *p, size_t n)
{
  struct b64dec *d = (struct b64dec *)s;
  const unsigned char *u = (const unsigned char *)p;
  unsigned char buf[4096];
  size_t o = 0, i = 0;
  table_init();
  while (i < n) {
    if (!d->nq) o += dec_fast(u, n, &i, buf + o, sizeof buf - 4 - o);
    if (i < n) o += dec_byte(d, u[i++], buf + o);
    if (o > sizeof buf - 8) {
      if (sink_put(d->next, (char *)buf, o) < 0) return -1;
      o = 0;
    }
  }
  return sink_put(d->next, (char *)buf, o);
}

static int dec_end(struct sink *s)
{
  struct b64dec *d = (struct b64dec *)s;
  unsigned char buf[4];
  size_t k = dec_flush_group(d, buf);
  return sink_put(d->next, (char *)buf, k);
}

void b64dec_init(struct b64dec *d, struct sink *next)
{
  memset(d, 0, sizeof *d);
  d->s.put = dec_put;
  d->s.end = dec_end;
  d->next = next;
}

size_t b64_decode_raw(unsigned char *dst, const char *src, size_t n)
{
  struct b64dec d;
  size_t o = 0, i;
  b64dec_init(&d, 0);
  table_init();
  for (i = 0; i < n; i++) o += dec_byte(&d, (unsigned char)src[i], dst + o);
  return o + dec_flush_group(&d, dst + o);
}
