/*
 * out.c -- buffered, counted, size-limited output (see out.h).
 */
#include <errno.h>
#include <string.h>
#include "fileio.h"
#include "out.h"

static int out_fail(struct out *o, int e)
{
  if (!o->failed) o->failed = e;
  errno = o->failed;
  return -1;
}

int out_flush(struct out *o)
{
  if (o->failed) return out_fail(o, o->failed);
  if (o->len && write_all(o->fd, o->buf, o->len) < 0) return out_fail(o, errno);
  o->len = 0;
  return 0;
}

static int out_put(struct sink *s, const char *p, size_t n)
{
  struct out *o = (struct out *)s;
  if (o->failed) return out_fail(o, o->failed);
  if (o->max && o->total + n > o->max) return out_fail(o, EFBIG);
  o->total += n;
  o->last = (unsigned char)p[n - 1];
  if (n >= OUT_BUF) {
    if (out_flush(o) < 0) return -1;
    return write_all(o->fd, p, n) < 0 ? out_fail(o, errno) : 0;
  }
  if (o->len + n > OUT_BUF && out_flush(o) < 0) return -1;
  memcpy(o->buf + o->len, p, n);
  o->len += n;
  return 0;
}

static int out_end(struct sink *s)
{
  return out_flush((struct out *)s);
}

void out_init(struct out *o, int fd, unsigned long long max)
{
  o->s.put = out_put;
  o->s.end = out_end;
  o->fd = fd;
  o->total = 0;
  o->max = max;
  o->last = -1;
  o->failed = 0;
  o->len = 0;
}

int out_puts(struct out *o, const char *s)
{
  return sink_put(&o->s, s, strlen(s));
}
