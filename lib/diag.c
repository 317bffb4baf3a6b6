/*
 * diag.c -- formatted diagnostics on fd 2 (see diag.h).
 * Messages longer than the buffer are cut, never split over writes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "diag.h"

const char *diag_prog = "imc";

static size_t put(char *buf, size_t pos, size_t cap, const char *s)
{
  while (*s && pos < cap) buf[pos++] = *s++;
  return pos;
}

static void diag_va(const char *sev, int sys, va_list ap)
{
  char buf[2048];
  size_t cap = sizeof buf - 1, pos = 0;
  const char *s;
  int e = errno;

  pos = put(buf, pos, cap, diag_prog);
  pos = put(buf, pos, cap, ": ");
  pos = put(buf, pos, cap, sev);
  pos = put(buf, pos, cap, ": ");
  while ((s = va_arg(ap, const char *)) != 0) pos = put(buf, pos, cap, s);
  if (sys) {
    pos = put(buf, pos, cap, ": ");
    pos = put(buf, pos, cap, strerror(e));
  }
  buf[pos++] = '\n';
  while (write(2, buf, pos) < 0 && errno == EINTR) ;
  errno = e;
}

void diag_out(const char *sev, int sys, ...)
{
  va_list ap;
  va_start(ap, sys);
  diag_va(sev, sys, ap);
  va_end(ap);
}

void diag_exit(int ex, const char *sev, int sys, ...)
{
  va_list ap;
  va_start(ap, sys);
  diag_va(sev, sys, ap);
  va_end(ap);
  _exit(ex);
}
