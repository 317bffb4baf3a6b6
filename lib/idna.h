/*
 * idna.h -- a domain name with UTF-8 labels (U-labels, RFC 6531) in the
 * form DNS and TLS use: each label with an octet above 127 becomes "xn--"
 * and its Punycode (RFC 3492), the others stay as they are.  No mapping
 * is applied (IDNA2008's case folding and normalization are the sender's
 * business, RFC 5891 5.2): the label's code points are encoded as given.
 * Nothing is allocated.
 */
#ifndef IMC_IDNA_H
#define IMC_IDNA_H

#include <stddef.h>

#define IDNA_LABEL_MAX 63

/* s (well-formed UTF-8) as A-labels into out, NUL-terminated, at most cap - 1
   octets: the length, or -1 when s is not UTF-8, a label is empty or longer than
   IDNA_LABEL_MAX once encoded, or out is too small */
long idna_to_ascii(const char *s, size_t len, char *out, size_t cap);

#endif
