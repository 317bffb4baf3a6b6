/*
 * smtp_policy.h -- imc-smtpd's decisions about senders and recipients
 * (docs/SECURITY.md section 4: no open relay, no backscatter), apart from the
 * session so that they can be tested without a network.
 *
 * A relay client is one whose connection rule is `relay`, or one that has
 * authenticated.  Every answer is 0 (accept) or the SMTP reply that
 * refuses, a static string.
 */
#ifndef IMC_SMTP_POLICY_H
#define IMC_SMTP_POLICY_H

#include "config.h"
#include "directory.h"
#include "smtp_cmd.h"

/* RCPT TO: a site-domain recipient must resolve in the directory (550 5.1.1);
   any other only for a relay client, inside control/addressspace, from a sender
   control/senders.allow and senders.deny let out (550 5.7.1).  A non-relay client
   gets 550 5.7.1 for source routes, %, !, @ or quotes in the local part, a trailing
   dot or an address literal, unless the address resolves in a site domain.
   <postmaster> becomes postmaster@ the first site domain.  *remote is set to 1 for
   a recipient outside the site domains.  Directory errors: 451 4.3.0. */
const char *policy_rcpt(const struct config *c, struct directory *d, int relay,
                        struct smtp_path *rcpt, const char *sender, size_t slen, int *remote);

/* may a relay client's sender send out of the site?  With no senders.allow and
   no senders.deny lines, yes; otherwise it must be in a site domain, on
   senders.allow (when that has lines) and not on senders.deny.  The null sender
   may.  1 yes, 0 no */

/* may an authenticated user (an alias or an address from control/auth) send
   as this address?  ALIAS@ a site domain, or the user's own address, or <>.  1 yes */
int policy_auth_sender(const struct config *c, const char *user, const char *sender, size_t len);

/* ETRN DOMAIN: refused (459) for a site domain or a domain outside addressspace */
const char *policy_etrn(const struct config *c, const char *dom);

#endif
