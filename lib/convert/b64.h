/*
 * b64.h -- streaming base64 (RFC 2045 section 6.8) as sink stages.
 *
 * The encoder writes lines of 76 characters separated by LF, with no LF
 * after the last one.  The decoder skips every byte outside the alphabet
 * (line ends, white space, garbage: it counts the garbage in `bad`), ends a
 * group at '=' padding and goes on after it (concatenated base64), and at
 * the end keeps the whole bytes of an unfinished group.  Failure modes:
 * only those of the next sink.
 */
#ifndef IMC_CONVERT_B64_H
#define IMC_CONVERT_B64_H

#include "sink.h"

struct b64enc {
  struct sink s;
  struct sink *next;
  unsigned char carry[3];
  unsigned ncarry, col;
};
void b64enc_init(struct b64enc *e, struct sink *next);

struct b64dec {
  struct sink s;
  struct sink *next;
  unsigned long acc;
  unsigned nq;              /* sextets in acc */
  unsigned long long bad;   /* bytes that are neither alphabet, padding nor white space */
};
void b64dec_init(struct b64dec *d, struct sink *next);

/* the whole-buffer lenient decoder for encoded words (encoding: lib/base64.h) */
size_t b64_decode_raw(unsigned char *dst, const char *src, size_t n);  /* dst: 3*n/4 + 3 */
int b64_value(unsigned char c);                                        /* 0..63, -1 */

#endif
