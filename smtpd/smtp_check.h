/*
 * smtp_check.h -- email authentication of inbound mail in imc-smtpd: SPF
 * at MAIL, DKIM on the DATA stream, DMARC at its end, the result in an
 * Authentication-Results header (RFC 8601) above the Received line, and
 * control/authpolicy's answers (see smtp_check.c).
 *
 * The text of every message, checked or not, passes through check_text:
 * its header section is held (at most CHECK_HEAD_MAX octets and
 * DKIM_FIELDS_MAX fields) so that Authentication-Results fields claiming
 * this host's name (control/me) are removed before it goes on.
 */
#ifndef IMC_SMTP_CHECK_H
#define IMC_SMTP_CHECK_H

#include <stddef.h>
#include "owfat.h"

#define CHECK_HEAD_MAX (1024 * 1024)   /* octets of a header section; more is 552 5.3.4 */
#define CHECK_DEADLINE_MS 20000        /* DNS of one phase (SPF at MAIL; DKIM and DMARC after DATA) */

struct session;
typedef void (*check_emit)(const char *s, size_t n);

/* at MAIL, after the sender was accepted: the reply refusing it, or 0 */
const char *check_mail(struct session *s);
/* the text of a message: begin, every octet as stored (LF line ends), end */
void check_text_begin(struct session *s);
void check_text(const char *p, size_t n, check_emit out);
void check_text_end(check_emit out);
/* after the text: the reply refusing the message, or 0 with the header to put on
   top in top (empty when the session is not checked); log: " spf=... dkim=... dmarc=..." */
const char *check_verdict(struct session *s, stralloc *top, stralloc *log);
/* the end of a transaction (RSET, a new MAIL): forget MAIL's SPF result */
void check_tx_reset(void);
/* a worker's session ended: every buffer of the checks wiped */
void check_forget(void);

#endif
