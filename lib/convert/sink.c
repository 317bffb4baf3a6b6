/*
 * sink.c -- the trivial sink of sink.h: one that keeps statistics for
 * choosing a transfer encoding.  No failure modes.
 */
#include <string.h>
#include "sink.h"

static void stats_byte(struct sink_stats *st, unsigned char c)
{
  if (st->last == '\r' && c != '\n') st->bare_cr = 1;
  if (c == '\n') {
    if (st->cur > st->maxline) st->maxline = st->cur;
    st->cur = 0;
    st->lines++;
  } else {
    st->cur++;
    if (c >= 0x80) st->high++;
    else if (c == 0) st->nul++;
    else if (c < 32 && c != '\t' && c != '\r' && c != 27 && c != '\f') st->ctl++;
  }
  st->last = c;
}

static int stats_put(struct sink *s, const char *p, size_t n)
{
  struct sink_stats *st = (struct sink_stats *)s;
  size_t i;
  st->n += n;
  for (i = 0; i < n; i++) stats_byte(st, (unsigned char)p[i]);
  return 0;
}

static int stats_end(struct sink *s)
{
  struct sink_stats *st = (struct sink_stats *)s;
  if (st->cur > st->maxline) st->maxline = st->cur;
  if (st->last == '\r') st->bare_cr = 1;
  return 0;
}

void sink_stats_init(struct sink_stats *st)
{
  memset(st, 0, sizeof *st);
  st->s.put = stats_put;
  st->s.end = stats_end;
  st->last = -1;
}
