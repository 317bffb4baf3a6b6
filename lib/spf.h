/*
 * spf.h -- Sender Policy Framework (RFC 7208): may this client address
 * send mail for this domain?
 *
 * Evaluation (spf_check_mailfrom, spf_check_host): check_host() of RFC
 * 7208 section 4 with every mechanism (all, include, a, mx, ptr, ip4, ip6,
 * exists) and its qualifier and CIDR lengths, the modifiers redirect= and
 * exp= (the explanation, macro-expanded, for a fail decided outside an
 * include), unknown modifiers checked for syntax and ignored, and macros
 * (%{s l o d i p h v}, and c r t in explanations; digits, r and delimiters
 * as transformers; upper-case letters URL-escaped; %% %_ %-).
 *
 *   spf_check_mailfrom  the check imc-smtpd makes: MAIL FROM's domain, or
 *                       postmaster@HELO for the null sender (RFC 7208 2.4);
 *                       an address without a local part gets "postmaster"
 *   spf_check_host      check_host(ip, domain, sender) itself
 *
 * Record selection: of the TXT records of the domain (each one's strings
 * joined) those that are "v=spf1" alone or followed by a space; none is
 * result none, two or more permerror.  A syntax error anywhere in the
 * record is permerror before any term is evaluated.
 *
 * Limits (RFC 7208 4.6.4), each exceeded giving permerror: 10 terms that
 * query the DNS (include, a, mx, ptr, exists, redirect) over the whole
 * evaluation; 2 void lookups (an answer with no records, or NXDOMAIN);
 * 10 MX names per mx (more is permerror); 10 PTR names per ptr or %{p}
 * (the rest ignored).  Together with the DNS client's deadline this bounds
 * the work: at most 10 + 10 * 11 + 2 * 11 questions per evaluation, answers
 * of one session cached by the caller's lookup function.
 *
 * Results: none neutral pass fail softfail temperror permerror.  The
 * outcome also says which term decided (as written in the record, and the
 * domain whose record held it; "default" when none matched) and, for
 * errors, what went wrong.
 *
 * DNS comes through the caller's lookup function (dnsq_lookup with a
 * struct dnsq_cache, or a table in the unit tests): any DNSQ_TEMP or
 * DNSQ_MALFORMED answer is temperror; DNSQ_BADNAME is a void lookup.
 *
 * The record parser (spf_term_next, spf_record_scan) reads any bytes: it
 * never reads past len and keeps no state but the position.
 */
#ifndef IMC_SPF_H
#define IMC_SPF_H

#include <stddef.h>
#include "dnsq.h"

enum spf_result { SPF_NONE, SPF_NEUTRAL, SPF_PASS, SPF_FAIL, SPF_SOFTFAIL, SPF_TEMPERROR, SPF_PERMERROR };

#define SPF_LOOKUP_MAX   10
#define SPF_VOID_MAX      2
#define SPF_MX_MAX       10
#define SPF_PTR_MAX      10
#define SPF_EXPAND_MAX 4096      /* bytes of one macro expansion, explanations included */
#define SPF_DEADLINE_MS 20000    /* one evaluation's DNS, in all (RFC 7208 4.6.4: at least 20 s) */

typedef int (*spf_lookup_fn)(void *ctx, const char *name, unsigned type, struct dnsq_result *r);

struct spf_request {
  unsigned char ip[16];        /* the client; IPv4 as ::ffff:a.b.c.d */
  const char *helo;            /* %{h}; 0 is "unknown" */
  const char *receiver;        /* %{r}, this host's name; 0 is "unknown" */
  unsigned long now;           /* %{t}, seconds since 1970 */
  spf_lookup_fn lookup;
  void *ctx;
};

struct spf_outcome {
  int result;
  stralloc sender;             /* the <sender> checked: local@domain */
  stralloc domain;             /* its domain */
  stralloc mechanism;          /* the term that decided, or "default" */
  stralloc where;              /* the domain whose record held it */
  stralloc explanation;        /* fail with exp=: the expanded text */
  stralloc problem;            /* temperror, permerror: what went wrong */
  unsigned lookups, voids;     /* DNS-querying terms and void lookups used */
};

/* MAIL FROM as given (with or without <>; empty or <> is the null sender) */
int spf_check_mailfrom(const struct spf_request *q, const char *mailfrom, struct spf_outcome *o);
/* check_host(ip, domain, sender): sender is local@domain */
int spf_check_host(const struct spf_request *q, const char *domain, const char *sender, struct spf_outcome *o);
void spf_outcome_free(struct spf_outcome *o);
const char *spf_result_name(int result);

/* ---- the record */

enum spf_kind { SPF_T_ALL, SPF_T_INCLUDE, SPF_T_A, SPF_T_MX, SPF_T_PTR, SPF_T_IP4, SPF_T_IP6,
                SPF_T_EXISTS, SPF_T_REDIRECT, SPF_T_EXP, SPF_T_UNKNOWN };

struct spf_term {
  int kind;
  int result;                  /* a mechanism's qualifier as a result: SPF_PASS ... */
  const char *text;            /* the term as written */
  size_t len;
  const char *arg;             /* domain-spec or macro-string; 0 when there is none */
  size_t alen;
  unsigned cidr4, cidr6;       /* 32 and 128 unless given */
  unsigned char ip[16];        /* ip4 (mapped), ip6 */
};

struct spf_record_info {
  const char *redirect, *exp;  /* the modifiers' domain-specs, or 0 */
  size_t redirect_len, exp_len;
  const char *bad;             /* a syntax error: the term, as written */
  size_t bad_len;
};

/* 1 when a TXT record is an SPF record ("v=spf1" alone or followed by a space) */
int spf_is_record(const char *txt, size_t len);
/* the term after *pos (start at 0: the version is skipped): 1 a term, 0 the end, -1 syntax error */
int spf_term_next(const char *rec, size_t len, size_t *pos, struct spf_term *t);
/* the whole record: 0 good (info filled), -1 a syntax error (info->bad) */
int spf_record_scan(const char *rec, size_t len, struct spf_record_info *info);
/* a macro-string: 0 good, -1 not; exp allows c, r, t; *ends_macro set when it ends in a macro */
int spf_macro_scan(const char *s, size_t len, int exp, int *ends_macro);
/* a domain-spec: a macro-string ending in "." toplabel ["."] or in a macro: 0 good, -1 not */
int spf_domain_spec_check(const char *s, size_t len);

/* ---- macros */

struct spf_macro_vars {
  const char *s, *l, *o, *d, *h, *r;
  const unsigned char *ip;
  unsigned long t;
  int (*p)(void *ctx, stralloc *out);    /* %{p}: the validated name, "unknown" */
  void *pctx;
};

/* s expanded into out (replaced); exp: an explanation (c, r, t allowed);
   0 ok, -1 a syntax error or out of memory (*nomem set for the latter) */
int spf_expand(const struct spf_macro_vars *v, const char *s, size_t len, int exp, stralloc *out, int *nomem);
/* a domain-spec expanded, cut from the left to at most 253 bytes (RFC 7208 7.3) */
int spf_expand_domain(const struct spf_macro_vars *v, const char *s, size_t len, stralloc *out, int *nomem);

#endif
