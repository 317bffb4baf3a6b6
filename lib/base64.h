/*
 * base64.h -- base64 (RFC 4648) of a whole buffer, for SMTP AUTH (imc-smtpd
 * decodes the client's answers and encodes its challenges, imc-remote
 * encodes its credentials) and for RFC 2047 encoded words (lib/convert).
 * Encoding is libowfat's fmt_base64.  Decoding here is strict: the text
 * must be whole groups of four, '=' only as the padding of the last one,
 * and canonical (the unused bits of the last group zero), so that one
 * answer has one spelling.  The lenient decoder for message bodies, which
 * skips line ends and garbage, is lib/convert/b64.h's.
 * Failure modes: malformed or too long input (-1); no allocation.
 */
#ifndef IMC_BASE64_H
#define IMC_BASE64_H

#include <stddef.h>

#define BASE64_LEN(n) (((n) + 2) / 3 * 4)   /* the encoding of n octets */

/* in (len octets) into out (BASE64_LEN(len) bytes, no NUL): the length written */
size_t base64_encode(char *out, const char *in, size_t len);
/* the strict decoding of in (len bytes, no NUL needed) into out (cap bytes):
   0 with *outlen set, or -1 (malformed, or more than cap octets) */
int base64_decode(const char *in, size_t len, char *out, size_t cap, size_t *outlen);

#endif
