/*
 * mime.h -- the MIME parser's pieces (RFC 2045-2049, 2231): header
 * sections, Content-Type and its parameters, transfer encodings, and
 * multipart delimiter lines.  RFC 2047 words are in ew.h.
 *
 * A header section is kept as its raw bytes and a list of fields, each the
 * raw text of one field with its folded continuation lines and final LF,
 * so that an untouched field is written out byte for byte.  The reader
 * (entity.c) adds lines; mhdr_parse does the same from memory.
 * A section is bounded by MHDR_MAX bytes and MHDR_FIELDS fields.
 *
 * Failure modes: functions returning int give -1 with errno ENOMEM when
 * memory runs out; malformed text is never an error here: a Content-Type
 * that does not parse is reported by mime_ctype returning 0, a delimiter
 * that does not match is not one.
 */
#ifndef IMC_CONVERT_MIME_H
#define IMC_CONVERT_MIME_H

#include <stddef.h>
#include "owfat.h"

#define MHDR_MAX (1024 * 1024)
#define MHDR_FIELDS 20000
#define MIME_BOUNDARY_MAX 200
#define MIME_TYPE_MAX 80

/* how a header section ended */
enum { HEND_BLANK, HEND_EOF, HEND_DELIM, HEND_BODY, HEND_BIG };

struct mfield { size_t off, len, namelen; };

struct mhdr {
  stralloc raw;
  struct mfield *f;
  size_t n, alloc;
  int end;                   /* HEND_* */
};

void mhdr_init(struct mhdr *h);
void mhdr_free(struct mhdr *h);
void mhdr_clear(struct mhdr *h);

/* what a line (with its LF) is at the start of a line of a header section */
enum { HL_FIELD, HL_CONT, HL_BLANK, HL_OTHER };
int mhdr_line_kind(const char *p, size_t n, size_t *namelen);
/* add a line: a new field (namelen given) or more of the last one (namelen 0); 0, -1 */
int mhdr_add(struct mhdr *h, const char *p, size_t n, size_t namelen);
/* parse a whole section from memory, up to its blank line: the bytes used */
size_t mhdr_parse(struct mhdr *h, const char *s, size_t len);

int mhdr_find(const struct mhdr *h, const char *name);                  /* first field, or -1 */
int mhdr_is(const struct mhdr *h, size_t i, const char *name);           /* field i has this name */
/* the field's value unfolded (line ends removed), trimmed; 0, -1 */
int mhdr_value(const struct mhdr *h, size_t i, stralloc *v);
/* the value of the first field NAME: 1 found, 0 not, -1 */
int mhdr_get(const struct mhdr *h, const char *name, stralloc *v);

/* Content-Type "type/subtype; params": 1 and both in lower case (each at most
   MIME_TYPE_MAX - 1), 0 malformed; *params is where the parameters start */
int mime_ctype(const char *v, size_t n, char *type, char *sub, size_t *params);

/* one parameter, found by mime_param_next from *pos on */
struct mparam {
  size_t start, end;        /* the whole "; name=value" span */
  size_t name, namelen;
  size_t val, vallen;       /* raw value, quotes included */
  int quoted;
};
int mime_param_next(const char *v, size_t n, size_t *pos, struct mparam *p);   /* 1 one, 0 no more */
/* a parameter's value: RFC 2231 sections and charsets and RFC 2047 words
   decoded to UTF-8 when they can be; 1 found, 0 not, -1 ENOMEM */
int mime_param(const char *v, size_t n, const char *name, stralloc *out);
/* v with parameter name set to val (quoted when needed), or added; 0, -1 */
int mime_param_set(const char *v, size_t n, const char *name, const char *val, stralloc *out);
/* append "; name=value" quoted as needed, or as RFC 2231 name*=utf-8''... for
   non-ASCII (cs is the charset named there); 0, -1 */
int mime_param_cat(stralloc *out, const char *name, const char *val, size_t len, const char *cs);

enum { CTE_7BIT, CTE_8BIT, CTE_BINARY, CTE_QP, CTE_B64, CTE_OTHER };
int mime_cte(const char *v, size_t n);          /* CTE_*; an empty value is 7bit */
const char *mime_cte_name(int cte);

/* is the line (with or without its LF) a delimiter of boundary b:
   0 no, 1 "--b", 2 the close "--b--" */
int mime_delim(const char *line, size_t n, const char *b, size_t blen);
int mime_boundary_ok(const char *b, size_t n);  /* usable: 1..MIME_BOUNDARY_MAX, no CR/LF */

#endif
