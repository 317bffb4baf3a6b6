/*
 * charset.h -- character sets for imc-convert: names as found in mail,
 * what iconv calls them, and conversion both as a sink stage and on whole
 * buffers.
 *
 * The stage converts with glibc iconv and no transliteration: a byte
 * sequence that is invalid in the source, or a character the target
 * cannot represent, sets `bad` and the rest of the stream is dropped (the
 * callers run a dry pass first and never emit a stream that went bad).
 * A sequence cut between two puts is carried over.
 *
 * Failure modes: ics_open returns -1 when iconv does not know a name;
 * puts fail only as the next sink does.
 */
#ifndef IMC_CONVERT_CHARSET_H
#define IMC_CONVERT_CHARSET_H

#include <iconv.h>
#include <stddef.h>
#include "owfat.h"
#include "sink.h"

#define CS_NAME_MAX 48

struct ics {
  struct sink s;
  struct sink *next;
  iconv_t cd;
  char carry[16];
  size_t ncarry;
  int bad;                  /* invalid input or unrepresentable character met */
};

int ics_open(struct ics *c, const char *to, const char *from, struct sink *next);
void ics_close(struct ics *c);

/* a label as used in mail, lower-cased and trimmed into buf (CS_NAME_MAX):
   "" when there is none or it is unusable */
void cs_label(char *buf, const char *s, size_t n);
const char *cs_iconv(const char *label);        /* the name to give iconv for a label */
int cs_same(const char *a, const char *b);      /* the same charset under two labels */
int cs_known(const char *label);                /* iconv converts it to and from UTF-8 */
int cs_ascii_compatible(const char *label);     /* ASCII bytes mean ASCII in it (not UTF-16, ISO-2022-JP ...) */
int cs_is_ascii(const char *label);             /* us-ascii and its aliases, or "" */
int cs_is_utf8(const char *label);

/* convert a whole buffer: 0 ok (out replaced), 1 invalid or unrepresentable,
   2 a charset iconv does not know, -1 out of memory */
int cs_convert(const char *to, const char *from, const char *s, size_t n, stralloc *out);
int utf8_valid(const char *s, size_t n);
size_t utf8_seqlen(unsigned char c);            /* bytes of the sequence a lead byte starts (1 for bad bytes) */

#endif
