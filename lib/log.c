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
#include "utf8.h"

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

/* s into buf as printable UTF-8 (lib/utf8.h: controls and stray octets '?'), so
   that internationalized addresses (RFC 6531) stay readable */
static size_t put(char *buf, size_t pos, const char *s, size_t len)
{
  if (pos >= LOG_LINE_MAX - 1) return pos;
  return pos + utf8_clean(buf + pos, LOG_LINE_MAX - 1 - pos, s, len, '?');
}

static size_t put_head(char *buf, int cat)
{
  const char *n = log_category_name(cat);
  size_t pos = put(buf, 0, diag_prog, str_len(diag_prog));
  pos = put(buf, pos, ": ", 2);
  pos = put(buf, pos, n, str_len(n));
  return put(buf, pos, ": ", 2);
}

static void emit(char *buf, size_t pos)
{
  int e = errno;
  buf[pos++] = '\n';
  while (write(2, buf, pos) < 0 && errno == EINTR) ;
  errno = e;
}

void log_out(int cat, int level, ...)
{
  char buf[LOG_LINE_MAX];
  size_t pos;
  const char *s;
  va_list ap;
  if (!log_enabled(cat, level)) return;
  pos = put_head(buf, cat);
  va_start(ap, level);
  while ((s = va_arg(ap, const char *)) != 0) pos = put(buf, pos, s, str_len(s));
  va_end(ap);
  emit(buf, pos);
}

void log_outb(int cat, int level, const char *prefix, const char *b, size_t len)
{
  char buf[LOG_LINE_MAX];
  size_t pos;
  if (!log_enabled(cat, level)) return;
  pos = put_head(buf, cat);
  pos = put(buf, pos, prefix, str_len(prefix));
  pos = put(buf, pos, b, len);
  emit(buf, pos);
}
