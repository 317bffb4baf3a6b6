/*
 * out.h -- imc-convert's buffered output: a sink that writes to an fd
 * through a 64 KB buffer, counts the bytes and enforces a size limit.
 *
 * Failure modes: a write error (-1, errno from write(2)); the total passing
 * `max` (when not 0): -1 with errno EFBIG at once, before the excess is
 * written, and every later put fails the same way.
 */
#ifndef IMC_CONVERT_OUT_H
#define IMC_CONVERT_OUT_H

#include "sink.h"

#define OUT_BUF 65536

struct out {
  struct sink s;
  int fd;
  unsigned long long total, max;   /* bytes put; limit (0: none) */
  int last;                        /* last byte put, -1 none */
  int failed;                      /* errno of the first failure, 0 none */
  size_t len;
  char buf[OUT_BUF];
};

void out_init(struct out *o, int fd, unsigned long long max);
int out_puts(struct out *o, const char *s);
int out_flush(struct out *o);      /* write what is buffered; 0 or -1 */

#endif
