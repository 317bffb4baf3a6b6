/*
 * dkimcfg.h -- control/dkim: which From: domains imc-remote signs for, and
 * with which key (imc-control(5)).
 *
 * One line per signing domain, `DOMAIN SELECTOR KEYFILE`: DOMAIN a domain
 * name (lower-cased), SELECTOR a DNS label (the key's name at
 * SELECTOR._domainkey.DOMAIN), KEYFILE a PEM RSA private key, relative to
 * control/ (imc-ctl dkim-keygen writes control/dkimkeys/SELECTOR.DOMAIN.pem).
 * A message is signed for the longest DOMAIN that is its From: domain or
 * a parent of it.  A missing file signs nothing.  Errors go to err as
 * file:line like every control file's; a DOMAIN given twice is an error.
 */
#ifndef IMC_DKIMCFG_H
#define IMC_DKIMCFG_H

#include "config.h"
#include "owfat.h"

struct dkim_line {
  unsigned line;
  char domain[254], selector[64];
  char keyfile[256];
};

struct dkimcfg {
  struct dkim_line *l;
  unsigned n;
};

int dkimcfg_load(struct dkimcfg *c, config_errfn err);    /* 0 ok, >0 errors, -1 unreadable */
void dkimcfg_free(struct dkimcfg *c);
/* one line (modified: split into words) into *out: 0, or the reason it is bad */
const char *dkimcfg_parse_line(char *p, struct dkim_line *out);
/* the line for a From: domain (any case), or 0 */
const struct dkim_line *dkimcfg_find(const struct dkimcfg *c, const char *domain, size_t len);

#endif
