/*
 * addr.h -- checks on domains, mailbox names and envelope addresses.
 *
 * An envelope address is stored as text without angle brackets: the empty
 * string is the null sender, otherwise LOCAL@DOMAIN where the domain is a
 * host name or an address literal [1.2.3.4] / [IPv6:...].  Addresses never
 * hold control characters, so TAB and LF can separate fields in the queue's
 * records and the programs' protocols.
 *
 * Internationalized addresses (RFC 6531, SMTPUTF8): the local part and the
 * domain's labels may hold UTF-8, which must be well-formed and free of
 * control characters (C1 included: lib/utf8.h); a label is still at most
 * 63 octets.  Whether an address needs SMTPUTF8 is whether it has an octet
 * above 127 (utf8_has8bit).
 */
#ifndef IMC_ADDR_H
#define IMC_ADDR_H

#include <stddef.h>

int domain_valid(const char *s, size_t len);        /* host name: labels of [A-Za-z0-9-], no trailing dot */
int domain_literal(const char *s, size_t len);      /* [1.2.3.4] or [IPv6:...] */
/* a host name whose labels may also hold UTF-8 (U-labels, RFC 6531), as above */
int domain_utf8_valid(const char *s, size_t len);
/* a directory alias usable as a Maildir name: at most 64 octets of letters, digits,
   . - _ + (not . or - first) and UTF-8 characters (RFC 6531 local parts) */
int mailbox_name_valid(const char *s, size_t len);
int addr_valid(const char *s, size_t len);          /* envelope address as above (not the null sender) */
size_t addr_at(const char *s, size_t len);          /* index of the last '@', or len */
/* can imc-remote's job line (docs/INTERNALS.md section 8) carry the address
   into MAIL FROM:<> or RCPT TO:<>?  No control character, no angle bracket, no
   space outside double quotes (each '"' opens or closes, escaped or not), at
   most 1000 bytes: the rule of imc-remote's rjob_addr_ok.  1 yes, 0 no */
int addr_carried(const char *s, size_t len);

#endif
