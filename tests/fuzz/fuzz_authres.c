/*
 * fuzz_authres.c -- libFuzzer target for imc-smtpd's header section
 * handling (smtpd/smtp_check.c): the input, after its first byte, is the
 * text of a message as stored (LF line ends), fed to check_text in pieces
 * of 1 to 256 octets (the first byte chooses), as an unchecked session of
 * a host called mx.fuzz.test.  What comes out must be no longer than what
 * went in; when the header section was within bounds, the output must be
 * the input with whole fields removed, and a second pass over the output
 * must remove nothing more (no field claiming mx.fuzz.test is left).
 */
#include <stdlib.h>
#include <string.h>
#include "../../smtpd/smtp_check.h"
#include "../../smtpd/smtpd.h"

static stralloc out;

static void emit(const char *s, size_t n)
{
  if (!stralloc_catb(&out, s, n)) abort();
}

static int filter(struct session *s, const char *text, size_t len, size_t piece, stralloc *result)
{
  stralloc top = {0}, log = {0};
  const char *e;
  size_t i;
  out.len = 0;
  check_text_begin(s);
  for (i = 0; i < len; i += piece) check_text(text + i, len - i < piece ? len - i : piece, emit);
  check_text_end(emit);
  e = check_verdict(s, &top, &log);
  if (top.len) abort();                      /* an unchecked session adds nothing */
  stralloc_free(&top);
  stralloc_free(&log);
  if (!stralloc_copy(result, &out)) abort();
  return e != 0;
}

/* the length of the line at s (with its LF, if it has one) */
static size_t line_len(const char *s, size_t n)
{
  const char *nl = memchr(s, '\n', n);
  return nl ? (size_t)(nl - s) + 1 : n;
}

/* are a's lines a subsequence of b's (some whole lines of b left out)? */
static int removed_lines_only(const stralloc *a, const char *b, size_t blen)
{
  size_t i = 0, j = 0;
  while (i < a->len && j < blen) {
    size_t la = line_len(a->s + i, a->len - i), lb = line_len(b + j, blen - j);
    if (la == lb && !memcmp(a->s + i, b + j, la)) i += la;
    j += lb;
  }
  return i == a->len;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  static struct session s;
  static stralloc one, two;
  size_t piece;
  int refused;
  if (!size) return 0;
  piece = (size_t)data[0] + 1;
  memset(&s, 0, sizeof s);
  if (!stralloc_copys(&s.cfg.me, "mx.fuzz.test") || !stralloc_0(&s.cfg.me)) abort();
  refused = filter(&s, (const char *)data + 1, size - 1, piece, &one);
  if (one.len > size - 1) abort();
  if (!refused) {
    if (!removed_lines_only(&one, (const char *)data + 1, size - 1)) abort();
    if (filter(&s, one.s, one.len, 7, &two) || two.len != one.len || memcmp(one.s, two.s, one.len)) abort();
  }
  check_forget();
  stralloc_free(&s.cfg.me);
  return 0;
}
