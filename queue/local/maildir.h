/*
 * maildir.h -- the pure parts of imc-local (docs/INTERNALS.md section 5):
 * parsing a job line, naming a Maildir file, formatting the two delivery
 * header lines, and finding an earlier Delivered-To line in a message's
 * header section.  Nothing here does I/O, so each piece can be unit-tested
 * and fuzzed on its own.
 *
 * A job line (without its LF) is
 *     FD[:ID] TAB MSGLEN TAB SENDER TAB MAILBOX TAB RECIPIENT [TAB MAILBOX TAB RECIPIENT ...]
 * job_parse tells three cases apart: a blank line (no pair: skipped); a line
 * whose fields make pairs but whose FD, MSGLEN or SENDER is unusable (every
 * pair it claims fails); a line whose fields do not make pairs at all (it
 * counts as one pair, which fails).  Mailbox names and recipients are
 * checked one pair at a time by the caller (mailbox_name_valid, rcpt_valid).
 */
#ifndef IMC_MAILDIR_H
#define IMC_MAILDIR_H

#include <stddef.h>

#define JOB_ADDR_MAX 1000       /* longest SENDER or RECIPIENT accepted */
#define JOB_HDR_MAX 2048        /* deliv_header's output always fits */
#define MAILDIR_HOST_MAX 256    /* sanitized host name, without NUL */
#define MAILDIR_NAME_MAX (4 * 21 + 8 + MAILDIR_HOST_MAX)  /* without NUL */

struct job {
  int fd;                       /* the open queue file */
  const char *id;               /* the queue id, into the line (idlen 0: none) */
  size_t idlen;
  unsigned long long msglen;    /* the message is its first msglen bytes */
  const char *sender;           /* not NUL-terminated; empty: the null sender */
  size_t slen;
  const char *pairs;            /* "MAILBOX\tRECIPIENT[\t...]", into the line */
  size_t plen;
  size_t npairs;
  const char *err;              /* why the job is unusable, or 0 */
};

struct job_pair {
  const char *mailbox;
  size_t mlen;
  const char *rcpt;
  size_t rlen;
};

/* returns the number of pairs the line claims (0 only for a blank line);
   j->err is 0 when the job can be delivered, else a short reason */
size_t job_parse(const char *line, size_t len, struct job *j);
/* the next pair of a job without err, from *pos (start at 0): 1, or 0 at the end */
int job_pair_next(const struct job *j, size_t *pos, struct job_pair *p);
/* 1 if s is usable as an address in a header line: 1..JOB_ADDR_MAX bytes, no control character */
int rcpt_valid(const char *s, size_t len);

/* host name for Maildir file names: '/' becomes \057 and ':' \072; at most
   MAILDIR_HOST_MAX bytes (an escape is never cut); returns the length */
size_t maildir_host(char *out, const char *host, size_t len);
/* SECONDS.MusecPpidQn.HOST into out (MAILDIR_NAME_MAX + 1 bytes), NUL-terminated; returns the length */
size_t maildir_name(char *out, unsigned long sec, unsigned long usec, unsigned long pid,
                    unsigned long q, const char *host, size_t hostlen);

/* "Return-Path: <SENDER>\nDelivered-To: RCPT\n" into out (JOB_HDR_MAX bytes); returns the length.
   slen and rlen must be at most JOB_ADDR_MAX. */
size_t deliv_header(char *out, const char *sender, size_t slen, const char *rcpt, size_t rlen);

/* 1 if the header section at the start of msg (len bytes) has a line
   "Delivered-To: RCPT" (case-insensitive, blanks around the address ignored).
   complete: msg is the whole message, so a last line without LF counts;
   otherwise msg is a prefix and a cut last line is ignored. */
int hdr_delivered_to(const char *msg, size_t len, int complete, const char *rcpt, size_t rlen);

#endif
