/*
 * need.h -- would a profile change this message?  imc-send asks before it
 * runs imc-convert, so that the common message (plain text that is already
 * in the form the destination wants) costs no conversion at all.
 *
 * Input: the profile's settings (or inbound), the start of the message
 * (its header section, complete or not), imc-queue's content note
 * (lib/cscan.h) and the message's length.  The answer errs one way only:
 * 0 means the conversion would certainly give back the message unchanged
 * and deliver it (no suppression, no size limit hit); 1 means run it.
 * Failure modes: none (out of memory answers 1).
 */
#ifndef IMC_CONVERT_NEED_H
#define IMC_CONVERT_NEED_H

#include <stddef.h>
#include "cscan.h"
#include "domains.h"
#include "queue.h"

/* the profile of a recipient at DOMAIN (a local one's address domain, a remote
   one's destination): 1 with its KEY and settings; 0 none (local mail that
   did not come in over SMTP).  KEY is, for a local recipient, "inbound" when
   the domain falls under `*` in control/domains, else "inbound@PATTERN"; for
   a remote one the control/domains pattern, or "*" */
#define CONV_KEY_MAX 272
int conv_profile(const struct domains *d, int local, int from_net, const char *domain,
                 char key[CONV_KEY_MAX], struct domain_settings *s);
/* the imc-convert PROFILE argument for a copy with KEY made for DOMAIN:
   "inbound", "inbound@DOMAIN" or DOMAIN (sa is overwritten): 0, -1 ENOMEM */
int conv_profile_arg(stralloc *sa, const char *key, const char *domain);
/* KEY's copy of message id under mess/H/: "ID.KEY" ("default" for "*"), or ".ID.KEY.tmp" */
int conv_copy_name(stralloc *sa, const char *id, const char *key, int tmp);   /* 0, -1 ENOMEM */
/* the same as a path: QDIR/mess/H/NAME, NUL-terminated (sa is overwritten): 0, -1 ENOMEM */
int conv_copy_path(stralloc *sa, const char *qdir, const char *id, const char *key, int tmp);
/* a name of either form: 1 with its id, 0 not one */
int conv_copy_parse(const char *name, char id[QID_LEN + 1]);

#define CONV_HEAD 16384           /* bytes of a message's start that imc-send and the tools pass */

int conv_needed(const struct domain_settings *s, int inbound, const char *head, size_t len,
                const struct cfacts *f, unsigned long long msglen);

#endif
