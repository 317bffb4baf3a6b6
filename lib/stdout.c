/*
 * stdout.c -- buffered standard output for the tools (see stdout.h).
 */
#include <string.h>
#include "diag.h"
#include "exitcodes.h"
#include "fileio.h"
#include "owfat.h"
#include "stdout.h"

static stralloc out;

void out_flush(void)
{
  if (out.len && write_all(1, out.s, out.len) < 0) fatalsys(EX_TEMP, "unable to write to stdout");
  out.len = 0;
}

void out_putb(const char *s, size_t n)
{
  if (!stralloc_catb(&out, s, n)) fatal(EX_TEMP, "out of memory");
  if (out.len > STDOUT_FLUSH) out_flush();
}

void out_puts(const char *s) { out_putb(s, strlen(s)); }

void out_putulong(unsigned long n)
{
  char num[FMT_ULONG];
  out_putb(num, fmt_ulong(num, n));
}
