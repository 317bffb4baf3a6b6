/*
 * smtp_auth.h -- SMTP AUTH (RFC 4954) for imc-smtpd: base64, the PLAIN
 * (RFC 4616) and LOGIN responses, and the password check against
 * control/auth (`user:crypt-hash`, checked with crypt(3)).
 *
 * Inputs: network bytes (bounded by the command line limit) and the loaded
 * configuration.  Outputs: decoded bytes in the caller's buffers; a
 * verdict.  Nothing is allocated.
 */
#ifndef IMC_SMTP_AUTH_H
#define IMC_SMTP_AUTH_H

#include <stddef.h>
#include "config.h"

#define AUTH_FIELD_MAX 512        /* longest user name or password accepted */


/* a decoded PLAIN response "authzid NUL authcid NUL password": user and pass point
   into buf; the authzid must be empty or the user itself.  0 ok, -1 malformed */
int auth_plain_split(const char *buf, size_t len, const char **user, size_t *ulen,
                     const char **pass, size_t *plen);

/* 1 the password is the user's (control/auth), 0 it is not or the user is unknown,
   -1 crypt(3) failed (a temporary failure) */
int auth_check(const struct config *c, const char *user, size_t ulen, const char *pass, size_t plen);

#endif
