/*
 * ctl_dns.h -- imc-ctl check --dns: does the mail of each site domain
 * (control/sitedomains) reach this host?
 *
 * For each site domain the MX records are looked up (libowfat DNS, as
 * imc-remote does it: DNSCACHEIP, else /etc/resolv.conf); without MX
 * records the domain's own address records are its implicit MX (RFC 5321
 * 5.1).  An MX host is this host when its name is control/me, or when one
 * of its addresses (AAAA and A) is one of control/me's.
 *
 * Output: one line per domain through the caller's function, a finding
 * (`site.test: MX mail.site.test [192.0.2.1] is this host`) or a warning
 * (`site.test: no MX record points at this host (mx1.other.test [192.0.2.9])`).
 * Failure modes: a DNS temporary failure is a warning that says so and is
 * counted apart; out of memory is a warning too.  libowfat's dns_ip6
 * answers "no address" (0, empty), not -1, when neither the AAAA nor the A
 * query is answered, so only a failed MX lookup is seen as temporary.
 */
#ifndef IMC_CTL_DNS_H
#define IMC_CTL_DNS_H

#include "config.h"

typedef void (*dnscheck_fn)(int is_warning, const char *line);

struct dnscheck_result {
  unsigned long warnings;     /* domains whose mail does not come here */
  unsigned long tempfails;    /* domains not checked: DNS temporary failure */
};

void dnscheck_sites(const struct config *c, dnscheck_fn say, struct dnscheck_result *res);

#endif
