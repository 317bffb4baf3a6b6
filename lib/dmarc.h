/*
 * dmarc.h -- DMARC (RFC 7489): the policy record, its discovery, and the
 * evaluation of a message's From: domain against its SPF and DKIM results.
 *
 * The record is a tag list (the DKIM syntax, lib/dkim.h) that starts with
 * v=DMARC1; p= is required (a record without p= but with rua= counts as
 * p=none); sp=, adkim=, aspf=, pct= are read, others ignored.  Discovery:
 * the TXT records at _dmarc.FROMDOMAIN, else at _dmarc.ORGDOMAIN (lib/psl.h);
 * records not starting with v=DMARC1 are ignored, and more than one that
 * does means no policy.  Evaluation: pass when SPF passed for an aligned
 * MAIL FROM domain or a DKIM signature passed for an aligned d= (relaxed:
 * the same organizational domain; strict: the same domain).  The policy
 * that applies is sp= for a subdomain of the organizational domain (when
 * the record came from there and has sp=), else p=; pct= samples it.
 * Fuzz target: tests/fuzz/fuzz_dmarc.c.
 */
#ifndef IMC_DMARC_H
#define IMC_DMARC_H

#include "dkim.h"
#include "psl.h"

enum dmarc_policy { DMARC_P_NONE, DMARC_P_QUARANTINE, DMARC_P_REJECT };
extern const char *const dmarc_policy_name[];
struct dmarc_record {
  enum dmarc_policy p, sp;
  int has_sp;
  int adkim_strict, aspf_strict;
  unsigned pct;
};
/* a record's text: 0, -1 with *why (not DMARC, syntax, a bad value) */
int dmarc_parse(struct dmarc_record *r, const char *txt, size_t len, const char **why);

enum dmarc_result { DMARC_NONE, DMARC_PASS, DMARC_FAIL, DMARC_TEMPERROR, DMARC_PERMERROR };
extern const char *const dmarc_result_name[];
/* what was found for a From: domain */
struct dmarc_found {
  enum dmarc_result status;     /* DMARC_PASS: a record (in rec); NONE, TEMPERROR, PERMERROR */
  struct dmarc_record rec;
  char where[260];              /* the domain whose _dmarc record it is */
  const char *why;
};
/* the policy record for from (lower case) */
void dmarc_discover(struct dmarc_found *f, const char *from, const struct psl *psl, dkim_txt_fn *txt, void *ctx);

/* the evidence: SPF's result and domain, the DKIM signatures' results */
struct dmarc_input {
  const char *from;             /* the From: domain, lower case */
  int spf_pass;
  const char *spf_domain;       /* MAIL FROM's domain (HELO's for the null sender) */
  const struct dkim_check *dkim;
  int ndkim;
};
struct dmarc_verdict {
  enum dmarc_result result;
  enum dmarc_policy policy;     /* what the record asks for this message (after pct=) */
  int by_spf, by_dkim;          /* what aligned */
};
/* roll: a number 0..99 for pct= sampling (the caller's random source) */
void dmarc_evaluate(struct dmarc_verdict *v, const struct dmarc_found *f, const struct dmarc_input *in,
                    const struct psl *psl, unsigned roll);

#endif
