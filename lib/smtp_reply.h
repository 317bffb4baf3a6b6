/*
 * smtp_reply.h -- SMTP replies as imc-remote and imc-dequeue read them (RFC 5321 4.2):
 * one or more lines "CODE-text" ending with "CODE text" (or a bare
 * "CODE"), the enhanced status code of RFC 3463 when the first line's text
 * starts with one, and the extensions an EHLO reply lists (RFC 5321 4.1.1.1).
 *
 * Input: reply lines without their CR LF, one call per line.  Output: the
 * code, the enhanced status, the lines' texts (kept up to REPLY_KEEP_MAX
 * bytes; the rest is dropped, never allocated), and a one-line summary for
 * reports.  Failure modes: a line that does not start with three digits
 * 2xx..5xx, a code that changes between lines, or more than
 * REPLY_LINES_MAX lines make the reply malformed (-1): the caller treats
 * the connection as broken.  Nothing here does I/O.
 */
#ifndef IMC_SMTP_REPLY_H
#define IMC_SMTP_REPLY_H

#include <stddef.h>
#include "owfat.h"

#define REPLY_LINES_MAX 200     /* lines in one reply */
#define REPLY_KEEP_MAX 16384    /* bytes of text kept */
#define REPLY_SUMMARY_MAX 512   /* bytes of reply_summary */
#define STATUS_MAX 12           /* "5.123.123" and a NUL fit */

struct smtp_reply {
  int code;                     /* 0 before the first line */
  int done;                     /* the last line was seen */
  unsigned lines;
  char status[STATUS_MAX];      /* "4.2.1", or "" when the first line has none */
  stralloc text;                /* each line's text (after "CODE-"), NUL-terminated, as kept */
};

void reply_init(struct smtp_reply *r);       /* empty, ready for a new reply (keeps memory) */
void reply_free(struct smtp_reply *r);
/* one line: 1 the reply is complete, 0 more lines follow, -1 malformed */
int reply_line(struct smtp_reply *r, const char *line, size_t len);
/* "CODE TEXT TEXT..." on one line, control characters as spaces, at most
   REPLY_SUMMARY_MAX bytes, NUL-terminated (len without it): 0, or -1 ENOMEM */
int reply_summary(const struct smtp_reply *r, stralloc *out);
int reply_class(const struct smtp_reply *r);  /* 2, 3, 4, 5 */

struct ehlo {
  int pipelining, eightbitmime, starttls, smtputf8;
  int dsn;                      /* DSN (RFC 3461) */
  int size;                     /* SIZE was advertised */
  unsigned long sizemax;        /* its limit; 0: none given */
  int auth_plain, auth_login;   /* AUTH mechanisms offered */
};

/* the extensions in a complete 250 reply to EHLO (its first line is the greeting) */
void ehlo_parse(const struct smtp_reply *r, struct ehlo *e);

#endif
