/*
 * psl.h -- the Public Suffix List (Debian's publicsuffix package), for
 * DMARC's organizational domain (RFC 7489 section 3.2).
 *
 * psl_load reads the list's text form (PSL_FILE): one rule a line, "//"
 * comments, "*." wildcards and "!" exceptions.  A rule is kept as its
 * keyed 64-bit hash (SipHash-2-4 of its lower-case text, a random key per
 * load) in a sorted array: 8 bytes a rule, 75 KB for Debian's list of
 * about 9,500, which each long-lived imc-smtpd worker holds.  Without the
 * key no name can be chosen to collide with a rule; by chance, a lookup
 * matches a rule it is not with a probability of about 2^-51.  psl_org gives a domain's organizational domain: the
 * public suffix (the longest matching rule, an exception rule winning, one
 * label when nothing matches) and one label more; a domain that is itself
 * a public suffix is its own.  Failure modes: psl_load -1 with errno (the
 * file unreadable, ENOMEM); lines longer than a domain are skipped.
 */
#ifndef IMC_PSL_H
#define IMC_PSL_H

#include <stddef.h>
#include <stdint.h>
#include "owfat.h"

#define PSL_FILE "/usr/share/publicsuffix/public_suffix_list.dat"

struct psl {
  uint64_t *hash;               /* each rule's keyed hash, sorted, no two alike */
  size_t nrule;
  uint64_t key[2];              /* SipHash key, random per load */
};

int psl_load(struct psl *p, const char *path);          /* 0, -1 errno */
int psl_load_text(struct psl *p, const char *text, size_t len);   /* 0, -1 ENOMEM */
void psl_free(struct psl *p);
/* the organizational domain of domain (lower case, no final dot) as an
   offset into domain: domain + psl_org(...) */
size_t psl_org(const struct psl *p, const char *domain);

#endif
