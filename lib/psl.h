/*
 * psl.h -- the Public Suffix List (Debian's publicsuffix package), for
 * DMARC's organizational domain (RFC 7489 section 3.2).
 *
 * psl_load reads the list's text form (PSL_FILE): one rule a line, "//"
 * comments, "*." wildcards and "!" exceptions; rules are kept lower case
 * in a hash set.  psl_org gives a domain's organizational domain: the
 * public suffix (the longest matching rule, an exception rule winning, one
 * label when nothing matches) and one label more; a domain that is itself
 * a public suffix is its own.  Failure modes: psl_load -1 with errno (the
 * file unreadable, ENOMEM); lines longer than a domain are skipped.
 */
#ifndef IMC_PSL_H
#define IMC_PSL_H

#include <stddef.h>
#include "owfat.h"

#define PSL_FILE "/usr/share/publicsuffix/public_suffix_list.dat"

struct psl {
  stralloc text;                /* the rules, each NUL-terminated */
  size_t *slot;                 /* hash set: offsets into text + 1, 0 empty */
  size_t nslot, nrule;
};

int psl_load(struct psl *p, const char *path);          /* 0, -1 errno */
int psl_load_text(struct psl *p, const char *text, size_t len);   /* 0, -1 ENOMEM */
void psl_free(struct psl *p);
/* the organizational domain of domain (lower case, no final dot) as an
   offset into domain: domain + psl_org(...) */
size_t psl_org(const struct psl *p, const char *domain);

#endif
