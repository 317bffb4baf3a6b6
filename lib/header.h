/*
 * header.h -- looking at a message's header section (RFC 5322): where it
 * ends, and the unfolded value of a field.  Works on a prefix of the
 * message; a header section longer than the prefix is simply cut.
 */
#ifndef IMC_HEADER_H
#define IMC_HEADER_H

#include <stddef.h>
#include "owfat.h"

size_t header_end(const char *s, size_t len);   /* length of the header section, incl. the blank line */
/* the first field NAME (case-insensitive, without the colon): 1 found (value unfolded,
   leading/trailing white space trimmed), 0 not found, -1 ENOMEM */
int header_get(const char *s, size_t len, const char *name, stralloc *value);

#endif
