/*
 * idna.c -- see idna.h.  Punycode as RFC 3492 section 6.3 describes the
 * encoder: the label's ASCII code points first, a '-' after them when
 * there are any, then for each larger code point in increasing order the
 * deltas of its positions as generalized variable-length integers, the
 * bias adapted after each.  Parameters of section 5.
 */
#include "idna.h"
#include "utf8.h"

#define BASE 36
#define TMIN 1
#define TMAX 26
#define SKEW 38
#define DAMP 700
#define INITIAL_BIAS 72
#define INITIAL_N 128
#define CP_MAX IDNA_LABEL_MAX           /* a label of more code points cannot fit */

static unsigned long adapt(unsigned long delta, unsigned long points, int first)
{
  unsigned long k = 0;
  delta = first ? delta / DAMP : delta / 2;
  delta += delta / points;
  while (delta > ((BASE - TMIN) * TMAX) / 2) {
    delta /= BASE - TMIN;
    k += BASE;
  }
  return k + (BASE - TMIN + 1) * delta / (delta + SKEW);
}

static char digit(unsigned long d) { return (char)(d < 26 ? 'a' + d : '0' + (d - 26)); }

struct sink { char *out; size_t pos, end; int full; };

static void put(struct sink *k, char c)
{
  if (k->pos < k->end) k->out[k->pos++] = c;
  else k->full = 1;
}

/* delta as a variable-length integer under bias */
static void put_number(struct sink *k, unsigned long q, unsigned long bias)
{
  unsigned long b, t;
  for (b = BASE;; b += BASE) {
    t = b <= bias ? TMIN : b >= bias + TMAX ? TMAX : b - bias;
    if (q < t) break;
    put(k, digit(t + (q - t) % (BASE - t)));
    q = (q - t) / (BASE - t);
  }
  put(k, digit(q));
}

/* the code points cp[0..n) as Punycode */
static void punycode(const unsigned long *cp, size_t n, struct sink *k)
{
  unsigned long cur = INITIAL_N, delta = 0, bias = INITIAL_BIAS, m;
  size_t i, h = 0, b;
  for (i = 0; i < n; i++) if (cp[i] < 0x80) { put(k, (char)cp[i]); h++; }
  b = h;
  if (b) put(k, '-');
  while (h < n) {
    for (m = 0x110000, i = 0; i < n; i++) if (cp[i] >= cur && cp[i] < m) m = cp[i];
    delta += (m - cur) * (h + 1);            /* at most 0x110000 * 64: no overflow */
    cur = m;
    for (i = 0; i < n; i++) {
      if (cp[i] < cur) delta++;
      if (cp[i] != cur) continue;
      put_number(k, delta, bias);
      bias = adapt(delta, h + 1, h == b);
      delta = 0;
      h++;
    }
    delta++;
    cur++;
  }
}

/* one label s[0..len) appended: 0, or -1 */
static int label(const char *s, size_t len, struct sink *k)
{
  unsigned long cp[CP_MAX];
  size_t n = 0, i = 0, c, start = k->pos;
  if (len == 0) return -1;
  if (!utf8_has8bit(s, len)) {
    for (i = 0; i < len; i++) put(k, s[i]);
  } else {
    while (i < len) {
      if (n == CP_MAX || (c = utf8_char(s + i, len - i, &cp[n])) == 0) return -1;
      n++;
      i += c;
    }
    put(k, 'x'); put(k, 'n'); put(k, '-'); put(k, '-');
    punycode(cp, n, k);
  }
  return k->full || k->pos - start > IDNA_LABEL_MAX ? -1 : 0;
}

long idna_to_ascii(const char *s, size_t len, char *out, size_t cap)
{
  struct sink k;
  size_t i = 0, dot;
  if (cap == 0) return -1;
  k.out = out;
  k.pos = 0;
  k.end = cap - 1;
  k.full = 0;
  while (i <= len) {
    for (dot = i; dot < len && s[dot] != '.'; dot++) ;
    if (label(s + i, dot - i, &k) < 0) return -1;
    if (dot < len) put(&k, '.');
    i = dot + 1;
  }
  if (k.full) return -1;
  out[k.pos] = 0;
  return (long)k.pos;
}
