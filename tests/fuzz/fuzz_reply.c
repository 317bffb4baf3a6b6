/*
 * fuzz_reply.c -- libFuzzer target for what imc-remote parses from the
 * network: SMTP replies and EHLO extensions (remote/smtp_reply.c) on the
 * input split into lines, an MX answer (remote/mx.c) on the raw input, and
 * the DATA encoder against the SIZE scanner (remote/smtp_data.c).
 * Checks: the kept text and the summary stay within their bounds, the
 * summary has no control character, MX entries are sorted and
 * NUL-terminated, and the encoded data is exactly the scanned size plus
 * the doubled dots and the final ".\r\n", with no bare CR or LF.
 */
#include <stdlib.h>
#include <string.h>
#include "mx.h"
#include "../../remote/data_out.h"
#include "smtp_reply.h"

static struct smtp_reply r;
static stralloc sum;

static void check_reply(void)
{
  struct ehlo e;
  size_t i;
  if (r.text.len > REPLY_KEEP_MAX) abort();
  if (reply_summary(&r, &sum) < 0) return;
  if (sum.len > REPLY_SUMMARY_MAX || sum.s[sum.len]) abort();
  for (i = 0; i < sum.len; i++) if ((unsigned char)sum.s[i] < 32) abort();
  if (r.code < 200 || r.code > 599) abort();
  ehlo_parse(&r, &e);
  if (e.size == 0 && e.sizemax) abort();
}

static void fuzz_replies(const char *s, size_t len)
{
  size_t pos = 0;
  reply_init(&r);
  while (pos < len) {
    const char *nl = memchr(s + pos, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - s - pos) : len - pos;
    int rc = reply_line(&r, s + pos, n);
    if (rc == 1) check_reply();
    if (rc != 0) reply_init(&r);
    pos += n + 1;
  }
}

static unsigned counter;
static unsigned rnd(unsigned n) { return counter++ % n; }

static void fuzz_mx(const char *s, size_t len)
{
  static struct mx list[MX_MAX];
  int nullmx, n = mx_parse(s, len, list, &nullmx, rnd), i;
  if (n > MX_MAX || (nullmx && n)) abort();
  for (i = 0; i < n; i++) {
    if (memchr(list[i].name, 0, sizeof list[i].name) == 0) abort();
    if (i && list[i].pref < list[i - 1].pref) abort();
  }
}

/* data_out.h's rules, one byte at a time: the model the encoder must match */
static size_t model_dot(const char *s, size_t n, char *out, int *eightbit)
{
  size_t i, o = 0;
  int bol = 1;
  *eightbit = 0;
  for (i = 0; i < n; i++) {
    if ((unsigned char)s[i] >= 0x80) *eightbit = 1;
    if (s[i] == '\r' || s[i] == '\n') {
      if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') i++;
      out[o++] = '\r';
      out[o++] = '\n';
      bol = 1;
      continue;
    }
    if (bol && s[i] == '.') out[o++] = '.';
    out[o++] = s[i];
    bol = 0;
  }
  if (!bol) { out[o++] = '\r'; out[o++] = '\n'; }
  memcpy(out + o, ".\r\n", 3);
  return o + 3;
}

static void fuzz_data(const char *s, size_t len)
{
  static char want[2 * 4096 + DOT_FINISH_MAX];
  int eightbit;
  static char out[2 * 4096 + DOT_FINISH_MAX];
  struct dotstuff d;
  struct msgscan m;
  size_t o = 0, i, dots = 0;
  if (len > 4096) len = 4096;
  dot_init(&d);
  msgscan_init(&m);
  o = dot_encode(&d, s, len / 2, out);
  o += dot_encode(&d, s + len / 2, len - len / 2, out + o);
  o += dot_finish(&d, out + o);
  msgscan_chunk(&m, s, len);
  msgscan_finish(&m);
  for (i = 0; i < o; i++) {
    if (out[i] == '.' && (i == 0 || out[i - 1] == '\n')) dots++;
    if (out[i] == '\r' && (i + 1 == o || out[i + 1] != '\n')) abort();
    if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r')) abort();
  }
  if (m.size + 3 + dots - 1 != o) abort();
  if (o < 3 || memcmp(out + o - 3, ".\r\n", 3) || (o > 3 && out[o - 4] != '\n')) abort();
  if (model_dot(s, len, want, &eightbit) != o || memcmp(want, out, o) || eightbit != m.eightbit) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  fuzz_replies((const char *)data, size);
  fuzz_mx((const char *)data, size);
  fuzz_data((const char *)data, size);
  return 0;
}
