/*
 * mimetypes.h -- control/mimetypes: which MIME type goes with which file
 * name extension, for imc-convert when it turns MIME attachments into
 * uuencoded blocks (naming them) and back (typing them).
 *
 *   control/mimetypes, one type a line:   type/subtype ext ext ...
 *
 * Extensions are matched without case, with or without a leading dot in
 * the file.  When the file is missing, a shipped list (MIMETYPES_BUILTIN,
 * the common types) is used; when it exists, it is the whole list.  The
 * first extension of a type names it; an extension listed twice belongs to
 * its first type.
 *
 * Failure modes: mimetypes_load returns -1 (errno) when the file cannot be
 * read; otherwise the number of bad lines (`bad type`, `bad extension`,
 * `expected type/subtype ext ...`), each reported through err as
 * ("mimetypes", LINE, MESSAGE) and skipped.
 */
#ifndef IMC_MIMETYPES_H
#define IMC_MIMETYPES_H

#include <stddef.h>
#include "config.h"

struct mimetype { char *type; char *ext; };   /* both lower case */

struct mimetypes {
  struct mimetype *m;
  size_t n, alloc;
};

extern const char MIMETYPES_BUILTIN[];

int mimetypes_load(struct mimetypes *mt, config_errfn err);   /* 0 ok, >0 errors, -1 unreadable */
int mimetypes_parse_text(struct mimetypes *mt, const char *text, size_t len, config_errfn err);
void mimetypes_free(struct mimetypes *mt);
int mimetypes_check(config_errfn err);

/* the type of a file name by its extension; "application/octet-stream" when unknown */
const char *mimetypes_type(const struct mimetypes *mt, const char *filename);
/* the first extension of a type (case-insensitive), or 0 */
const char *mimetypes_ext(const struct mimetypes *mt, const char *type);

#endif
