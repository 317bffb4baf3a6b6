/*
 * wrap.h -- hard wrapping of UTF-8 text at a column, as a sink stage.
 *
 * A line longer than `width` columns is broken at its last break
 * opportunity that keeps it within the width: a run of spaces (which the
 * break replaces), or, in fixed (not flowed) text, the boundary next to a
 * wide East Asian character (never before closing or after opening
 * punctuation).  A word longer than the width -- a long URL -- is never
 * split: it stands on a line of its own, over-long.  A quoted line ("> ...")
 * keeps its quote prefix on each continuation.  In format=flowed text the
 * break keeps the space at the end of the line, a soft break (RFC 3676),
 * and with delsp=yes adds one more.  Wide characters count two columns,
 * combining marks none, a TAB up to the next multiple of 8.
 *
 * Memory: one line of at most WRAP_HOLD bytes is held; beyond that the
 * line is passed on as it is.  Failure modes: those of the next sink.
 */
#ifndef IMC_CONVERT_WRAP_H
#define IMC_CONVERT_WRAP_H

#include "sink.h"

#define WRAP_HOLD 8192
#define WRAP_PREFIX 32

struct wrap {
  struct sink s;
  struct sink *next;
  unsigned width;
  int flowed, delsp;
  char line[WRAP_HOLD];
  size_t len;
  unsigned col;
  size_t cut, at;           /* last opportunity: the line ends at cut, the next starts at at */
  unsigned atcol;           /* columns of line[0..at) */
  int has_brk;
  int overlong;             /* the held part was passed on: in a word longer than the width */
  int skipsp;               /* after a break in an over-long word: drop the spaces that follow */
  unsigned prevcp;          /* previous character, 0 at a line start */
  char prefix[WRAP_PREFIX];
  size_t plen;
  unsigned pcol;
  int inprefix;             /* still reading the quote prefix of this line */
  char u8[4];
  size_t u8n;
  unsigned long long breaks;   /* line breaks inserted */
};

void wrap_init(struct wrap *w, struct sink *next, unsigned width, int flowed, int delsp);
unsigned wrap_width(unsigned cp);    /* columns of a code point: 0, 1 or 2 */

#endif
