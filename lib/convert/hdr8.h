/*
 * hdr8.h -- the 8BITMIME downgrade of header fields: raw 8-bit text made
 * 7-bit.
 *
 *   Content-Type, Content-Disposition: parameters with 8-bit values are
 *     written as RFC 2231 `name*=charset''%XX...`.
 *   Address fields (From, To, Cc, Bcc, Reply-To, Sender, Resent-*): display
 *     names, quoted strings and comments become RFC 2047 words (quotes
 *     dropped, the words being phrase-safe); an 8-bit address cannot be
 *     downgraded and stays as it is (warned).
 *   Other fields: each run of 8-bit words becomes RFC 2047 words.
 * The charset is UTF-8 when the bytes are valid UTF-8, else the profile's
 * nonmimecharset, else unknown-8bit (RFC 1428).
 *
 * Failure modes: -1 ENOMEM.
 */
#ifndef IMC_CONVERT_HDR8_H
#define IMC_CONVERT_HDR8_H

#include "conv.h"

/* v holds the unfolded value of field i; on 1 it holds the new value; 0 unchanged */
int hdr8_field(struct conv *c, const struct mhdr *h, size_t i, stralloc *v);
/* text (any bytes) as RFC 2047 words appended to out; 0, -1 */
int hdr8_words(const struct conv *c, const char *s, size_t n, stralloc *out);

#endif
