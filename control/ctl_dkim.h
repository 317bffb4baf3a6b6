/*
 * ctl_dkim.h -- imc-ctl's DKIM and DMARC commands.
 *
 * imc-ctl dkim-keygen DOMAIN SELECTOR: a new 2048-bit RSA key in
 * control/dkimkeys/SELECTOR.DOMAIN.pem (0400; imcr:root in a system
 * instance run by root, else the caller's), DOMAIN's control/dkim line
 * replaced or added, and the DNS record to publish printed
 * (SELECTOR._domainkey.DOMAIN TXT).  Exit 0; 100 a bad DOMAIN or
 * SELECTOR; 111 the key or the files could not be made.
 *
 * imc-ctl dmarc DOMAIN: the policy record found for DOMAIN (lib/dmarc.h's
 * discovery, the instance's DNS settings) and the organizational domain
 * (the Public Suffix List), as "name: value" lines.  Exit 0 whatever was
 * found; 111 when the list or a DNS server address is missing.
 *
 * ctl_dkim_check: for imc-ctl check, control/dkim's lines and each key:
 * a key that does not parse, is not RSA, is shorter than 2048 bits or is
 * readable by others is reported as control/dkim:LINE.
 */
#ifndef IMC_CTL_DKIM_H
#define IMC_CTL_DKIM_H

#include "config.h"

int ctl_dkim_keygen(const char *domain, const char *selector);
int ctl_dmarc(const char *domain, const char *dnscacheip);
int ctl_dkim_check(config_errfn err);          /* 0, -1 control/dkim unreadable */

#endif
