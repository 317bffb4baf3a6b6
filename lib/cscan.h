/*
 * cscan.h -- what imc-queue notes about a message's content while it copies
 * it, so that imc-send can tell without reading the message whether a
 * conversion could change it (docs/INTERNALS.md, section 14).
 *
 * The note is one envelope record `Icontent=FLAGS/MAXLINE`: FLAGS is `-` or
 * letters, `8` (a byte above 127) and `u` (a line starting "begin ", which
 * may open a uuencoded block); MAXLINE is the length of the longest line
 * in bytes, without its LF.  A queue file without the record (written by
 * an older imc-queue) says nothing: every conversion is assumed to apply.
 */
#ifndef IMC_CSCAN_H
#define IMC_CSCAN_H

#include <stddef.h>
#include "owfat.h"

struct cscan {
  int eightbit, uu;
  int match;                  /* bytes of "begin " matched at this line's start; -1 none */
  unsigned long line, maxline;
};

void cscan_init(struct cscan *c);
void cscan_feed(struct cscan *c, const char *s, size_t n);
int cscan_record(const struct cscan *c, stralloc *env);     /* appends the I record: 0, -1 ENOMEM */

/* the facts read back from an envelope record's value ("content=..."): 1 found */
struct cfacts { int known, eightbit, uu; unsigned long maxline; };
int cfacts_parse(struct cfacts *f, const char *val, size_t len);

#endif
