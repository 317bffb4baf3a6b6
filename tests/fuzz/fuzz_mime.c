/*
 * fuzz_mime.c -- libFuzzer target for imc-convert's parsers and codecs
 * (convert/): the MIME parser through whole conversions, the uudecoder,
 * and the base64, quoted-printable, RFC 2047 and wrapping stages.
 *
 * The first input byte picks the profile (bits 0-1: the `*` defaults,
 * attachments=uuencode with richtext=never and wrap=76, inbound, or
 * charset=iso-8859-1 with wrap=72; bit 2: -8; bit 3: inbound with
 * nonmimecharset=iso-8859-1, the others with signed=convert); the rest is
 * the message.
 * Checks, besides the sanitizers:
 *   - inbound (bit 3 clear): a message with no "begin" in it comes out
 *     byte for byte;
 *   - the defaults: a plain ASCII message with nothing to convert (no
 *     RFC 2047 word, charset, base64, quoted-printable, CR, NUL or long
 *     line) comes out byte for byte;
 *   - base64, quoted-printable (binary) and uuencode round-trip the input;
 *   - every uudecoded line fits its length byte; wrapping changes only
 *     white space (input without '>', which gains a quote prefix).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>
#include "convert/conv.h"
#include "convert/ew.h"
#include "convert/uu.h"
#include "exitcodes.h"

struct mem { struct sink s; char *b; size_t n, cap; };

static int mem_put(struct sink *s, const char *p, size_t n)
{
  struct mem *m = (struct mem *)s;
  if (m->n + n > m->cap) {
    size_t cap = (m->n + n) * 2;
    char *nb = realloc(m->b, cap);
    if (!nb) abort();
    m->b = nb;
    m->cap = cap;
  }
  memcpy(m->b + m->n, p, n);
  m->n += n;
  return 0;
}

static void mem_init(struct mem *m)
{
  memset(m, 0, sizeof *m);
  m->s.put = mem_put;
}

static void run(struct sink *s, const char *p, size_t n, struct sink *first)
{
  if (sink_put(s, p, n) < 0 || sink_end(s) < 0) abort();
  if (first && first != s && sink_end(first) < 0) abort();
}

static void roundtrips(const char *p, size_t n)
{
  struct mem a, b;
  struct b64enc be;
  struct b64dec bd;
  struct qpenc qe;
  struct qpdec qd;
  mem_init(&a);
  mem_init(&b);
  b64enc_init(&be, &a.s);
  run(&be.s, p, n, 0);
  b64dec_init(&bd, &b.s);
  run(&bd.s, a.b, a.n, 0);
  if (b.n != n || (n && memcmp(b.b, p, n))) abort();
  a.n = b.n = 0;
  qpenc_init(&qe, &a.s, 1);
  run(&qe.s, p, n, 0);
  qpdec_init(&qd, &b.s);
  run(&qd.s, a.b, a.n, 0);
  if (b.n != n || (n && memcmp(b.b, p, n))) abort();
  free(a.b);
  free(b.b);
}

static void uu_roundtrip(const char *p, size_t n)
{
  struct mem a;
  struct uuenc ue;
  unsigned char out[64];
  size_t pos = 0, got, total = 0;
  mem_init(&a);
  uuenc_init(&ue, &a.s);
  run(&ue.s, p, n, 0);
  while (pos < a.n) {
    char *nl = memchr(a.b + pos, '\n', a.n - pos);
    size_t len = (size_t)(nl - (a.b + pos)) + 1;
    if (uu_is_end(a.b + pos, len)) break;
    if (!uu_decode_line(a.b + pos, len, out, &got) || total + got > n || memcmp(out, p + total, got)) abort();
    total += got;
    pos += len;
  }
  if (total != n) abort();
  free(a.b);
}

static void lines(const char *p, size_t n)
{
  unsigned char out[64];
  size_t i = 0, got, namelen;
  unsigned mode;
  const char *name;
  while (i < n) {
    const char *nl = memchr(p + i, '\n', n - i);
    size_t len = nl ? (size_t)(nl - (p + i)) + 1 : n - i;
    if (uu_decode_line(p + i, len, out, &got) && got > 63) abort();
    if (uu_begin(p + i, len, &mode, &name, &namelen) && (name < p + i || name + namelen > p + i + len)) abort();
    i += len;
  }
}

static size_t squeeze(const char *p, size_t n, char *out)
{
  size_t i, o = 0;
  for (i = 0; i < n; i++) if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n') out[o++] = p[i];
  return o;
}

static void wrap_check(const char *p, size_t n)
{
  struct mem a;
  struct wrap w;
  char *x, *y;
  size_t nx, ny;
  if (memchr(p, '>', n)) return;
  mem_init(&a);
  wrap_init(&w, &a.s, 10, n & 1, 0);
  run(&w.s, p, n, 0);
  x = malloc(n + 1);
  y = malloc(a.n + 1);
  nx = squeeze(p, n, x);
  ny = squeeze(a.b, a.n, y);
  if (nx != ny || memcmp(x, y, nx)) abort();
  free(x);
  free(y);
  free(a.b);
}

static void headers(const char *p, size_t n)
{
  stralloc out = {0};
  int kept = 0;
  struct mhdr h;
  ew_decode(p, n, &out);
  ew_transcode(p, n, "iso-8859-1", &out, &kept);
  mime_param(p, n, "filename", &out);
  mime_param_set(p, n, "charset", "utf-8", &out);
  if (utf8_valid(p, n) && n < 2000) {
    stralloc back = {0};
    out.len = 0;
    if (ew_encode(p, n, "utf-8", &out) == 0 && ew_decode(out.s, out.len, &back) >= 0
        && n && (back.len != n || memcmp(back.s, p, n))) abort();
    stralloc_free(&back);
  }
  mhdr_init(&h);
  mhdr_parse(&h, p, n);
  mhdr_free(&h);
  stralloc_free(&out);
}

/* a message imc-convert's defaults have nothing to do with */
static int plain_ascii(const char *p, size_t n)
{
  static const char *const words[] = { "=?", "charset", "base64", "quoted-printable", 0 };
  size_t i, col = 0;
  int k;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c == '\n') { col = 0; continue; }
    if ((c < 32 && c != '\t') || c > 126 || ++col > 998) return 0;
  }
  for (k = 0; words[k]; k++) {
    size_t w = strlen(words[k]);
    for (i = 0; i + w <= n; i++) if (!strncasecmp(p + i, words[k], w)) return 0;
  }
  return 1;
}

static int same_output(int fd, const char *p, size_t n)
{
  off_t len = lseek(fd, 0, SEEK_CUR);
  char *b;
  int same;
  if (len != (off_t)n) return 0;
  b = mmap(0, n ? n : 1, PROT_READ, MAP_SHARED, fd, 0);
  if (b == MAP_FAILED) abort();
  same = !n || !memcmp(b, p, n);
  munmap(b, n ? n : 1);
  return same;
}

static struct profile prof[4][2][2];

static void setup(void)
{
  int i, e, v;
  convert_quiet = 1;
  for (i = 0; i < 4; i++) for (e = 0; e < 2; e++) for (v = 0; v < 2; v++) {
    struct profile *p = &prof[i][e][v];
    if (profile_builtin(p, i == 2, e) < 0) abort();
    if (i == 1) {
      p->d.attachments = ATT_UUENCODE;
      p->d.richtext = RICH_NEVER;
      p->d.wrap = 76;
      p->d.displaynames = 0;
      strcpy(p->d.charset, "iso-8859-1");
    }
    if (i == 3) { strcpy(p->d.charset, "iso-8859-1"); p->d.wrap = 72; }
    if (v && i == 2) strcpy(p->d.nonmimecharset, "iso-8859-1");
    if (v) p->d.signed_keep = 0;
  }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  static int fd = -1;
  const char *msg = (const char *)data + 1;
  size_t n = size ? size - 1 : 0;
  int which, eight, variant, rc;
  if (fd < 0) { setup(); fd = memfd_create("fuzz", 0); if (fd < 0) abort(); }
  if (!size) return 0;
  which = data[0] & 3;
  eight = (data[0] >> 2) & 1;
  variant = (data[0] >> 3) & 1;
  if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0) abort();
  rc = convert_mem(&prof[which][eight][variant], msg, n, fd);
  if (rc != CX_OK && rc != CX_SUPPRESSED && rc != CX_TOOBIG) abort();
  if (which == 2 && !eight && !variant && !memmem(msg, n, "begin", 5) && !same_output(fd, msg, n)) abort();
  if (which == 0 && !eight && rc == CX_OK && plain_ascii(msg, n) && !same_output(fd, msg, n)) abort();
  roundtrips(msg, n < 4096 ? n : 4096);
  uu_roundtrip(msg, n < 4096 ? n : 4096);
  lines(msg, n);
  wrap_check(msg, n < 4096 ? n : 4096);
  headers(msg, n < 8192 ? n : 8192);
  return 0;
}
