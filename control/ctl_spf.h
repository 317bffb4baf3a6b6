/*
 * ctl_spf.h -- imc-ctl spf IP MAILFROM [HELO]: the SPF check imc-smtpd
 * makes (lib/spf.h's spf_check_mailfrom: MAIL FROM's domain, postmaster@HELO
 * for the null sender), made now and printed.
 *
 * DNS: the instance's env/DNSCACHEIP when the file exists (what the
 * services get through s6-envdir), else $DNSCACHEIP, else /etc/resolv.conf;
 * the whole check within SPF_DEADLINE_MS, the answers cached for it.
 * %{r} is control/me.
 *
 * Output, on stdout, one "name: value" line each, the empty ones left out:
 *     spf: fail
 *     sender: user@example.test
 *     mechanism: -all (record of example.test)
 *     explanation: 192.0.2.1 may not send for example.test
 *     problem: ...                       (temperror, permerror, none)
 *     lookups: 2 terms, 0 void
 * Exit codes: 0 a result was printed, whatever it is; 100 usage (an IP
 * that does not parse, a null sender without HELO); 111 env/DNSCACHEIP
 * unreadable or without an address.
 */
#ifndef IMC_CTL_SPF_H
#define IMC_CTL_SPF_H

int ctl_spf(const char *ip, const char *mailfrom, const char *helo);
/* env/DNSCACHEIP of the instance, else $DNSCACHEIP; 0: /etc/resolv.conf */
const char *ctl_dnscacheip(void);

#endif
