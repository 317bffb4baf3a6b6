/*
 * diag.c -- formatted diagnostics on fd 2 (see diag.h).
 * Messages longer than the buffer are cut, never split over writes; line
 * breaks inside one are folded (diag_fold).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "diag.h"
#include "utf8.h"

const char *diag_prog = "imc";
const char *diag_subject;

void diag_fold(struct diag_line *l, const char *s, size_t len)
{
  size_t i, k;
  for (i = 0; i < len && l->pos < l->cap; i++) {
    if (s[i] == '\r' || s[i] == '\n') { l->brk = 1; continue; }
    if (l->brk && l->pos && l->buf[l->pos - 1] != ' ') l->buf[l->pos++] = ' ';
    l->brk = 0;
    k = utf8_printable_char(s + i, len - i);
    if (!k) { if (l->pos < l->cap) l->buf[l->pos++] = '?'; continue; }
    if (l->pos + k > l->cap) { l->cap = l->pos; break; }      /* full: never half a character */
    memcpy(l->buf + l->pos, s + i, k);
    l->pos += k;
    i += k - 1;
  }
}

static void puts_fold(struct diag_line *l, const char *s) { diag_fold(l, s, strlen(s)); }

static void diag_va(const char *sev, int sys, va_list ap)
{
  char buf[2048];
  struct diag_line l = { buf, 0, sizeof buf - 1, 0 };
  const char *s;
  int e = errno;

  puts_fold(&l, diag_prog);
  puts_fold(&l, ": ");
  puts_fold(&l, sev);
  puts_fold(&l, ": ");
  if (diag_subject && *diag_subject) { puts_fold(&l, diag_subject); puts_fold(&l, " "); }
  while ((s = va_arg(ap, const char *)) != 0) puts_fold(&l, s);
  if (sys) {
    puts_fold(&l, ": ");
    puts_fold(&l, strerror(e));
  }
  buf[l.pos++] = '\n';
  while (write(2, buf, l.pos) < 0 && errno == EINTR) ;
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
