/*
 * sink.h -- the push interface every streaming stage of imc-convert has:
 * decoders, encoders, charset conversion, wrapping, the output writer.
 *
 * A stage embeds `struct sink` as its first member, takes bytes through
 * put() and passes what it makes to its `next` sink; end() flushes what it
 * holds at the end of one stream (then end()s its next sink only when the
 * stage says so).  Both return 0, or -1 with errno set (EFBIG: the output
 * passed the size limit; others: a write or memory error).
 */
#ifndef IMC_CONVERT_SINK_H
#define IMC_CONVERT_SINK_H

#include <stddef.h>

struct sink {
  int (*put)(struct sink *s, const char *p, size_t n);
  int (*end)(struct sink *s);          /* may be 0: nothing to flush */
};

static inline int sink_put(struct sink *s, const char *p, size_t n)
{
  return n ? s->put(s, p, n) : 0;
}

static inline int sink_end(struct sink *s)
{
  return s->end ? s->end(s) : 0;
}

/* text statistics of the bytes put: for choosing a transfer encoding */
struct sink_stats {
  struct sink s;
  unsigned long long n, high, nul, ctl;  /* bytes; >= 0x80; NUL; other controls but TAB, LF, ESC, FF */
  unsigned long long lines;              /* line ends seen */
  size_t maxline, cur;                   /* longest line (without LF); the open line so far */
  int last;                              /* last byte, -1 none */
  int bare_cr;                           /* a CR not before LF */
};
void sink_stats_init(struct sink_stats *st);

#endif
