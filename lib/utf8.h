/*
 * utf8.h -- well-formed UTF-8 (RFC 3629) without allocation: for
 * internationalized addresses (RFC 6531, SMTPUTF8), which must be valid
 * UTF-8 (Unicode normalization is not required of them).  Ill-formed
 * means: a byte that starts no sequence (80-BF alone, C0, C1, F5-FF), a
 * missing or extra continuation byte, an overlong form, a surrogate
 * (U+D800-DFFF) or a code point above U+10FFFF.
 */
#ifndef IMC_UTF8_H
#define IMC_UTF8_H

#include <stddef.h>

/* the octets of the well-formed character at s (1 for ASCII), with its code
   point in *cp; 0 when the bytes at s are ill-formed or cut short by n */
size_t utf8_char(const char *s, size_t n, unsigned long *cp);
/* the octets of the character at s when it is well-formed and no control
   character (no C0, DEL or C1); 0 otherwise */
size_t utf8_printable_char(const char *s, size_t n);
/* 1 when s is well-formed UTF-8 (controls allowed: message text) */
int utf8_wellformed(const char *s, size_t n);
/* 1 when s is well-formed UTF-8 and holds no control character: no C0
   (below 0x20), no DEL, no C1 (U+0080-U+009F); else 0 */
int utf8_printable(const char *s, size_t n);
/* s copied to out (at most cap octets) for a log line: each control character
   (C0, DEL, C1) and each octet that is not part of well-formed UTF-8 becomes
   repl, so the result is printable UTF-8; a character is never cut at the end.
   Returns the octets written */
size_t utf8_clean(char *out, size_t cap, const char *s, size_t len, char repl);
/* 1 when s has an octet above 127 */
int utf8_has8bit(const char *s, size_t n);

#endif
