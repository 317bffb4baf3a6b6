/*
 * fuzz_report.c -- libFuzzer target for imc-send's reader of a deliverer's
 * reports (docs/INTERNALS.md sections 5 and 8: "K text", "R text" (relayed
 * to a next hop without DSN), "Z text", "D text", one per LF), which come
 * from imc-local and imc-remote.
 * Checks, besides the sanitizers: every line handed out is K, R, Z or D; its
 * text is the line's bytes after the code, NUL-terminated; the position
 * only moves forward, to just after an LF, and never past the input; the
 * reader stops at the first line that is not a report (as imc-send then
 * counts the rest as unreported: temporary failures).
 */
#include <stdlib.h>
#include <string.h>
#include "owfat.h"
#include "../../queue/send/send.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
  stralloc rep = {0}, text = {0};
  size_t pos = 0, before;
  char c;
  if (!stralloc_copyb(&rep, (const char *)data, n)) return 0;
  for (;;) {
    before = pos;
    c = report_line(&rep, &pos, &text);
    if (!c) break;
    if (c != 'K' && c != 'R' && c != 'Z' && c != 'D') abort();
    if (pos <= before || pos > rep.len || rep.s[pos - 1] != '\n' || rep.s[before] != c) abort();
    if (text.len != pos - before - 1 || memcmp(text.s, rep.s + before + 1, text.len - 1) || text.s[text.len - 1]) abort();
  }
  stralloc_free(&rep);
  stralloc_free(&text);
  return 0;
}
