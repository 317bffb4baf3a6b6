/*
 * uu.c -- uuencode encoder stage and line decoder (see uu.h).
 */
#include <string.h>
#include "uu.h"

static const char uuchar[] = "`!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_";

static void enc_group(char *d, const unsigned char *g)
{
  d[0] = uuchar[g[0] >> 2];
  d[1] = uuchar[((g[0] << 4) | (g[1] >> 4)) & 63];
  d[2] = uuchar[((g[1] << 2) | (g[2] >> 6)) & 63];
  d[3] = uuchar[g[2] & 63];
}

static size_t enc_line(char *d, const unsigned char *s, unsigned n)
{
  size_t o = 1;
  unsigned i;
  d[0] = uuchar[n];
  for (i = 0; i + 3 <= n; i += 3, o += 4) enc_group(d + o, s + i);
  if (i < n) {
    unsigned char g[3] = { 0, 0, 0 };
    memcpy(g, s + i, n - i);
    enc_group(d + o, g);
    o += 4;
  }
  d[o++] = '\n';
  return o;
}

static int enc_put(struct sink *s, const char *p, size_t n)
{
  struct uuenc *e = (struct uuenc *)s;
  char buf[4096];
  size_t o = 0;
  while (n) {
    size_t take = 45 - e->n < n ? 45 - e->n : n;
    memcpy(e->line + e->n, p, take);
    e->n += (unsigned)take;
    p += take;
    n -= take;
    if (e->n < 45) break;
    o += enc_line(buf + o, e->line, 45);
    e->n = 0;
    if (o > sizeof buf - 64) {
      if (sink_put(e->next, buf, o) < 0) return -1;
      o = 0;
    }
  }
  return sink_put(e->next, buf, o);
}

static int enc_end(struct sink *s)
{
  struct uuenc *e = (struct uuenc *)s;
  char buf[128];
  size_t o = 0;
  if (e->n) o = enc_line(buf, e->line, e->n);
  e->n = 0;
  memcpy(buf + o, "`\nend\n", 6);
  return sink_put(e->next, buf, o + 6);
}

void uuenc_init(struct uuenc *e, struct sink *next)
{
  memset(e, 0, sizeof *e);
  e->s.put = enc_put;
  e->s.end = enc_end;
  e->next = next;
}

static size_t trim(const char *s, size_t n)
{
  while (n && (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
  return n;
}

int uu_begin(const char *s, size_t n, unsigned *mode, const char **name, size_t *namelen)
{
  int kind;
  size_t i, digits = 0;
  unsigned m = 0;
  n = trim(s, n);
  if (n > 13 && !memcmp(s, "begin-base64 ", 13)) { kind = UU_BEGIN_B64; i = 13; }
  else if (n > 6 && !memcmp(s, "begin ", 6)) { kind = UU_BEGIN; i = 6; }
  else return 0;
  for (; i < n && s[i] >= '0' && s[i] <= '7'; i++, digits++) m = m * 8 + (unsigned)(s[i] - '0');
  if (digits < 3 || digits > 4 || i >= n || s[i] != ' ') return 0;
  while (i < n && s[i] == ' ') i++;
  if (i >= n) return 0;
  *mode = m;
  *name = s + i;
  *namelen = n - i;
  return kind;
}

int uu_is_end(const char *s, size_t n)
{
  n = trim(s, n);
  return n == 3 && !memcmp(s, "end", 3);
}

static unsigned char dec(char c) { return (unsigned char)((c - 32) & 63); }

int uu_decode_line(const char *s, size_t n, unsigned char *out, size_t *outn)
{
  char q[88];
  size_t len, need, full, i, o = 0;
  unsigned bad = 0;
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
  if (!n || n > 90) return 0;
  for (i = 0; i < n; i++) bad |= (unsigned)((unsigned char)s[i] - 0x20) > 0x40;   /* 0x20..0x60 */
  if (bad) return 0;
  len = dec(s[0]);
  need = (len * 4 + 2) / 3;
  full = (len + 2) / 3 * 4;
  if (n - 1 + 2 < need || n - 1 > full + 2) return 0;
  memset(q, ' ', full);                             /* characters a mailer stripped were spaces */
  memcpy(q, s + 1, n - 1 < full ? n - 1 : full);
  for (i = 0; i < full; i += 4) {
    out[o++] = (unsigned char)(dec(q[i]) << 2 | dec(q[i + 1]) >> 4);
    out[o++] = (unsigned char)(dec(q[i + 1]) << 4 | dec(q[i + 2]) >> 2);
    out[o++] = (unsigned char)(dec(q[i + 2]) << 6 | dec(q[i + 3]));
  }
  *outn = len;
  return 1;
}
