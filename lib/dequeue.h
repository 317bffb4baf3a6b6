/*
 * dequeue.h -- control/dequeue: when imc-dequeue asks a provider that holds
 * our mail to release it (ETRN, RFC 1985).
 *
 *   control/dequeue, one provider per line:
 *       HOST[:PORT] SCHEDULE [etrn=DOMAIN[,DOMAIN...]]
 *   HOST is a host name or an address literal (`[192.0.2.1]`), PORT 25 by
 *   default.  SCHEDULE is `every=TIME` (at start, then every TIME: 90, 15m,
 *   4h as everywhere) or `at=HH:MM[,HH:MM...]` (those times of the day, UTC).
 *   etrn= names the domains to ask for (at most DEQUEUE_DOMAINS_MAX);
 *   without it, every domain of control/sitedomains.
 *
 * dequeue_next gives a line's next time to run: for every=, now at the
 * first run and now + TIME after each; for at=, the first listed time of
 * day after now (today or tomorrow).
 *
 * Failure modes: dequeue_parse_text and dequeue_load return the number of
 * malformed lines, each reported through err as ("dequeue", LINE, MESSAGE)
 * and skipped (the good lines are kept); dequeue_load returns -1 (errno)
 * when the file cannot be read.  A missing file is no lines.
 */
#ifndef IMC_DEQUEUE_H
#define IMC_DEQUEUE_H

#include <stddef.h>
#include "config.h"
#include "route.h"

#define DEQUEUE_DOMAINS_MAX 16
#define DEQUEUE_AT_MAX 48
#define DEQUEUE_LINES_MAX 64

struct dequeue_line {
  unsigned line;                 /* in control/dequeue */
  struct route_host host;        /* name points into text */
  unsigned long every;           /* seconds; 0: the at= times */
  unsigned nat;
  unsigned at[DEQUEUE_AT_MAX];   /* minutes after midnight UTC */
  unsigned ndomains;             /* 0: control/sitedomains */
  const char *domain[DEQUEUE_DOMAINS_MAX];   /* lower case */
  char *text;                    /* the line's words, NUL-separated */
  char *key;                     /* the line as written (its identity across rereads) */
};

struct dequeues {
  struct dequeue_line l[DEQUEUE_LINES_MAX];
  size_t n;
};

int dequeue_parse_text(struct dequeues *d, const char *text, size_t len, config_errfn err);
int dequeue_load(struct dequeues *d, config_errfn err);   /* >=0 errors, -1 unreadable */
void dequeue_free(struct dequeues *d);
int dequeue_check(config_errfn err);                      /* for imc-ctl check: the same counts */
long long dequeue_next(const struct dequeue_line *l, long long now, int first);

#endif
