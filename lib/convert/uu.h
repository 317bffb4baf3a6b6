/*
 * uu.h -- uuencoding, as uuencode(1) and uudecode(1) of sharutils write
 * and read it.
 *
 *   begin 644 NAME        (or begin-base64 644 NAME, whose body is base64 ending in "====")
 *   M<60 characters: 45 bytes>
 *   ...
 *   <shorter last line>
 *   `                     (a line of no bytes)
 *   end
 *
 * The encoder is a sink stage that writes the body lines and, at end(),
 * the last line, "`" and "end"; the caller writes the begin line.  The
 * decoder works a line at a time and is strict about what a body line may
 * be (characters 0x20 to 0x60, a length that fits its first character),
 * so that ordinary text is never taken for one; it forgives up to two
 * trailing characters lost (trailing spaces that a mailer stripped).
 * Failure modes: only those of the next sink.
 */
#ifndef IMC_CONVERT_UU_H
#define IMC_CONVERT_UU_H

#include <stddef.h>
#include "sink.h"

struct uuenc {
  struct sink s;
  struct sink *next;
  unsigned char line[45];
  unsigned n;
};
void uuenc_init(struct uuenc *e, struct sink *next);

#define UU_BEGIN 1          /* begin MODE NAME */
#define UU_BEGIN_B64 2      /* begin-base64 MODE NAME */
/* a begin line (without its LF): UU_BEGIN or UU_BEGIN_B64, the mode and the
   name (pointing into s); 0 when it is not one */
int uu_begin(const char *s, size_t n, unsigned *mode, const char **name, size_t *namelen);
/* a body line (without its LF): 1 and its bytes (out: at least 64), 0 when not one */
int uu_decode_line(const char *s, size_t n, unsigned char *out, size_t *outn);
int uu_is_end(const char *s, size_t n);            /* "end", trailing white space allowed */

#endif
