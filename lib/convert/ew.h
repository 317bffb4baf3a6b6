/*
 * ew.h -- RFC 2047 encoded words in header fields: finding, decoding,
 * encoding and moving them to another charset.
 *
 * Words are found wherever they stand, as Python's decode_header finds
 * them; a run is a sequence of words separated only by white space (which
 * RFC 2047 says to drop).  The bytes of adjacent words in one charset are
 * joined before conversion, so a character cut between two words (common,
 * though not allowed) survives.  The encoder writes words of at most 75
 * characters that are safe in a phrase as well as in unstructured text:
 * Q with only letters, digits and !*+-/ literal, or B when more than a
 * third would be escaped; a word never splits a character.
 *
 * Failure modes: -1 with errno ENOMEM; a word that is malformed, in an
 * unknown charset or invalid in its charset is kept as it is.
 */
#ifndef IMC_CONVERT_EW_H
#define IMC_CONVERT_EW_H

#include <stddef.h>
#include "owfat.h"

struct ew {
  size_t start, end;        /* the word: s[start..end) */
  size_t cs, cslen;         /* charset (a "*language" suffix excluded) */
  char enc;                 /* 'Q' or 'B' */
  size_t text, textlen;
};

int ew_at(const char *s, size_t n, size_t i, struct ew *w);       /* 1: a word starts at s[i] */
int ew_next(const char *s, size_t n, size_t from, struct ew *w);  /* 1: the next word at or after from */
int ew_bytes(const char *s, const struct ew *w, stralloc *out);    /* its bytes appended; 0, -1 */

/* s with its words decoded to UTF-8; the number of runs decoded, -1 */
int ew_decode(const char *s, size_t n, stralloc *out);
/* UTF-8 text as words in charset cs, separated by spaces, appended:
   0 ok, 1 a character cs cannot represent (out as it was), -1 */
int ew_encode(const char *u8, size_t n, const char *cs, stralloc *out);
/* bytes taken as they are, labelled cs, as words appended; 0, -1 */
int ew_encode_raw(const char *b, size_t n, const char *cs, stralloc *out);
/* s with each run of words whose charset is not target re-encoded in
   target; a run target cannot represent stays and *kept is set.
   1 changed (out holds the new text), 0 unchanged, -1 */
int ew_transcode(const char *s, size_t n, const char *target, stralloc *out, int *kept);

#endif
