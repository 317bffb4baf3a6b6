/*
 * qp.h -- streaming quoted-printable (RFC 2045 section 6.7) as sink stages.
 *
 * Encoder: lines of at most 76 characters with soft breaks ("=" LF); '='
 * and bytes outside 33..126 are escaped, except SP and TAB that do not end
 * a line.  In text mode LF is a line break; in binary mode LF and CR are
 * escaped too.  No LF is added at the end.
 *
 * Decoder: the inverse, by the rules of Python's binascii.a2b_qp (so that
 * what a reader decodes is what imc-convert decoded): "=" before LF (or
 * before CR ... LF) is a soft break, "==" is "=", a malformed escape is
 * kept as it is, a lone "=" at the very end is dropped; white space is
 * kept.  Constant memory.
 *
 * Failure modes: only those of the next sink.
 */
#ifndef IMC_CONVERT_QP_H
#define IMC_CONVERT_QP_H

#include "sink.h"

struct qpenc {
  struct sink s;
  struct sink *next;
  int binary;
  unsigned col;
  int held;                   /* a SP or TAB not yet written, -1 none */
};
void qpenc_init(struct qpenc *e, struct sink *next, int binary);

struct qpdec {
  struct sink s;
  struct sink *next;
  int state;                  /* 0 plain, 1 after '=', 2 after '=' and a hex digit, 3 after "=" CR */
  char hex1;
};
void qpdec_init(struct qpdec *d, struct sink *next);

/* whole-buffer helpers for RFC 2047 Q words: decode ('_' is a space) */
size_t qp_decode_q(unsigned char *dst, const char *src, size_t n);   /* dst: n bytes */
int qp_hexval(unsigned char c);                                    /* 0..15, -1 */

#endif
