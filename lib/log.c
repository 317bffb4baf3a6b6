/*
 * log.c -- see log.h.
 *
 * Inputs: the configuration given to log_init (kept by pointer: the caller
 * keeps it alive), strings.  Output: lines on fd 2.  Failure modes: a
 * failing write(2) is ignored (logging never stops a daemon).
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include "diag.h"
#include "log.h"

static const struct config *log_cfg;

void log_init(const struct config *c) { log_cfg = c; }

void log_load(struct config *c)
{
  static const char *const only[] = { "loglevel", 0 };
  int i;
  if (config_load_only(c, only, 0) < 0) {
    memset(c, 0, sizeof *c);
    for (i = 0; i < LOG_NCAT; i++) c->loglevel[i] = LEVEL_MINIMUM;
  }
  log_init(c);
}

int log_enabled(int cat, int level)
{
  return log_cfg && config_logging(log_cfg, cat, level);
}

static void puts_fold(struct diag_line *l, const char *s) { diag_fold(l, s, str_len(s)); }

static void put_head(struct diag_line *l, int cat)
{
  puts_fold(l, diag_prog);
  puts_fold(l, ": ");
  puts_fold(l, log_category_name(cat));
  puts_fold(l, ": ");
}

static void emit(struct diag_line *l)
{
  int e = errno;
  l->buf[l->pos++] = '\n';
  while (write(2, l->buf, l->pos) < 0 && errno == EINTR) ;
  errno = e;
}

void log_va(int cat, va_list ap)
{
  char buf[LOG_LINE_MAX];
  struct diag_line l = { buf, 0, LOG_LINE_MAX - 1, 0 };
  const char *s;
  put_head(&l, cat);
  while ((s = va_arg(ap, const char *)) != 0) puts_fold(&l, s);
  emit(&l);
}

void log_put(int cat, ...)
{
  va_list ap;
  va_start(ap, cat);
  log_va(cat, ap);
  va_end(ap);
}

void log_out(int cat, int level, ...)
{
  va_list ap;
  if (!log_enabled(cat, level)) return;
  va_start(ap, level);
  log_va(cat, ap);
  va_end(ap);
}

void log_outb(int cat, int level, const char *prefix, const char *b, size_t len)
{
  char buf[LOG_LINE_MAX];
  struct diag_line l = { buf, 0, LOG_LINE_MAX - 1, 0 };
  if (!log_enabled(cat, level)) return;
  put_head(&l, cat);
  puts_fold(&l, prefix);
  diag_fold(&l, b, len);
  emit(&l);
}
