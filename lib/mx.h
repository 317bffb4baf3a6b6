/*
 * mx.h -- MX records as libowfat's dns_mx returns them, made into the
 * order imc-remote tries them (RFC 5321 5.1): by preference, random among
 * equal preferences; a null MX (RFC 7505: the single record ".") means the
 * domain accepts no mail.
 *
 * Input: dns_mx's answer, unsorted records of a 2-byte big-endian
 * preference and a NUL-terminated host name ("." for the root).  Output:
 * at most MX_MAX entries.  Failure modes: a record cut short makes the
 * answer malformed (-1); of more than MX_MAX records the most preferred
 * are kept (MX_READ_MAX records are looked at).  Nothing here does I/O.
 */
#ifndef IMC_MX_H
#define IMC_MX_H

#include <stddef.h>

#define MX_MAX 32            /* hosts tried per domain */
#define MX_READ_MAX 256      /* records looked at */
#define MX_NAME_MAX 255

struct mx {
  unsigned pref;
  unsigned tie;              /* random, orders equal preferences */
  char name[MX_NAME_MAX + 1];
};

/* the records into list (MX_MAX entries), sorted; returns the count, or -1 malformed.
   *nullmx is set when every record names the root (".", RFC 7505): the count is 0.
   A "." among other records is dropped.  rnd(n) returns 0..n-1. */
int mx_parse(const char *ans, size_t len, struct mx *list, int *nullmx, unsigned (*rnd)(unsigned));
void mx_sort(struct mx *list, size_t n);     /* by (pref, tie) */

#endif
