/*
 * rjob.h -- imc-remote's job lines (docs/INTERNALS.md section 8):
 *     FD[:ID] TAB MSGLEN TAB PRIORITY TAB SENDER TAB RECIPIENT [TAB RECIPIENT ...]
 * where SENDER and each RECIPIENT is ADDRESS or "<ADDRESS> DSN-PARAMETERS".
 * PRIORITY is a priority's name and options after commas: `smtputf8` (the
 * message was received with SMTPUTF8: the next hop must offer it); an
 * option imc-remote does not know is ignored.
 * rjob_parse tells three cases apart: a blank line (no recipient: skipped);
 * a line whose FD, MSGLEN, PRIORITY or SENDER is unusable (each recipient
 * it names fails); a line without any recipient field (it counts as one
 * recipient, which fails).  Recipients are checked one at a time
 * (rjob_addr_ok) by the caller.  Nothing here does I/O.
 */
#ifndef IMC_RJOB_H
#define IMC_RJOB_H

#include <stddef.h>

#define RJOB_ADDR_MAX 1000      /* longest SENDER or RECIPIENT accepted */

struct rjob {
  int fd;                       /* the open queue file */
  const char *id;               /* the queue id, into the line (idlen 0: none) */
  size_t idlen;
  unsigned long long msglen;    /* the message is its first msglen bytes */
  int prio;                     /* PRIO_* of config.h */
  int smtputf8;                 /* the option smtputf8 */
  const char *sender;           /* into the line, not NUL-terminated; empty: <> */
  size_t slen;
  const char *rcpts;            /* "RCPT[\tRCPT...]", into the line */
  size_t rlen;
  size_t nrcpt;
  const char *err;              /* why the job is unusable, or 0 */
};

/* the number of recipients the line claims (0 only for a blank line) */
size_t rjob_parse(const char *line, size_t len, struct rjob *j);
/* the next recipient from *pos (start at 0): 1, or 0 at the end */
int rjob_rcpt_next(const struct rjob *j, size_t *pos, const char **r, size_t *rlen);
/* a SENDER or RECIPIENT field, ADDRESS or "<ADDRESS> PARAMS" (the DSN
   parameters to pass on, lib/dsn.h's packed form; mail: of MAIL FROM), cut
   in place: the address NUL-terminated in *addr, the parameters in *params
   ("" when none).  0, or -1 when the parameters do not parse */
int rjob_field_split(char *f, size_t flen, int mail, char **addr, char **params);
/* usable in MAIL FROM:<> / RCPT TO:<>: at most RJOB_ADDR_MAX bytes, no control
   character, no space outside a quoted local part, no angle bracket */
int rjob_addr_ok(const char *s, size_t len);

#endif
