/*
 * addrlist.h -- the addresses in an RFC 5322 address list, as found in
 * To:, Cc:, Bcc:, From: and Sender: fields and in sendmail's arguments.
 *
 * Handles folded text (CR and LF count as white space), display names,
 * quoted strings, comments (nested), groups ("undisclosed-recipients:;"
 * gives no address), angle brackets with an obsolete source route
 * ("<@a,@b:x@y>"), domain literals and whitespace around '.' and '@'.
 * Each address comes out as its addr-spec with comments and white space
 * removed: `"John Doe" <john . doe@example.com> (work)` gives
 * `john.doe@example.com`.  A bare local part (no '@') comes out as is and
 * the caller qualifies it; "<>" comes out as the empty string.
 */
#ifndef IMC_ADDRLIST_H
#define IMC_ADDRLIST_H

#include <stddef.h>
#include "owfat.h"

/* appends each address, NUL-terminated, to out; returns how many, or -1
   with errno EINVAL (syntax error; out is left as it was) or ENOMEM */
int addrlist_parse(const char *s, size_t len, stralloc *out);

#endif
