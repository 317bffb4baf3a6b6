/*
 * dsn.h -- the Delivery Status Notification parameters of RFC 3461:
 * NOTIFY= and ORCPT= of RCPT TO, RET= and ENVID= of MAIL FROM.
 *
 * One parser for every program: imc-smtpd checks them on the wire
 * (dsn_param, one KEY=VALUE at a time), imc-inject builds them from
 * sendmail's -N, -R and -V, and imc-send and imc-remote read them back
 * from the envelope's D and N records (docs/INTERNALS.md section 10),
 * which hold them in the canonical form dsn_pack writes:
 *     N record:  [NOTIFY=SUCCESS,FAILURE,DELAY|NOTIFY=NEVER] [ORCPT=TYPE;XTEXT]
 *     D record:  [RET=FULL|RET=HDRS] [ENVID=XTEXT]
 * the very parameters imc-remote passes on to a next hop that offers DSN.
 *
 * xtext (RFC 3461 section 4): printable ASCII but '+' and '=', with any
 * byte written "+" and two upper-case hex digits.  ENVID is at most 100
 * characters, ORCPT at most 500 (sections 4.4 and 4.2); the decoded text
 * of either must be printable ASCII.  Nothing here allocates but
 * dsn_decode and dsn_pack, which append to a stralloc.
 */
#ifndef IMC_DSN_H
#define IMC_DSN_H

#include <stddef.h>
#include "owfat.h"

#define DSN_SUCCESS 1u
#define DSN_FAILURE 2u
#define DSN_DELAY   4u
#define DSN_NEVER   8u             /* NOTIFY=NEVER: no notice at all */
#define DSN_DEFAULT (DSN_FAILURE | DSN_DELAY)   /* no NOTIFY given */
#define DSN_RET_FULL 'F'
#define DSN_RET_HDRS 'H'
#define DSN_ENVID_MAX 100
#define DSN_ORCPT_MAX 500
#define DSN_PACK_MAX 600           /* longest packed record: "NOTIFY=...,DELAY ORCPT=" and 500 */

struct dsn_params {
  unsigned notify;                 /* DSN_* bits; 0 when no NOTIFY was given */
  char ret;                        /* 0, DSN_RET_FULL or DSN_RET_HDRS */
  const char *envid;               /* xtext, into the parsed text; 0 when none */
  size_t envidlen;
  const char *orcpt;               /* "TYPE;XTEXT", into the parsed text; 0 when none */
  size_t orcptlen;
};

/* 1 if s is xtext whose decoded text is printable ASCII (space included), else 0 */
int dsn_xtext_valid(const char *s, size_t len);
/* appends the decoded xtext (which dsn_xtext_valid accepted): 0, -1 ENOMEM */
int dsn_decode(stralloc *out, const char *s, size_t len);
/* appends text as xtext: 0, -1 ENOMEM */
int dsn_encode(stralloc *out, const char *s, size_t len);

/* one parameter KEY[=VALUE] (hasv: "=" was there) of MAIL (mail 1) or RCPT
   (mail 0) into p.  0 taken; 1 not a DSN parameter (the caller goes on);
   otherwise the refusal: "501 5.5.4 ..." for a bad value or a repeated key,
   "555 5.5.4 ..." for a DSN parameter of the other command */
const char *dsn_param(const char *k, size_t klen, const char *v, size_t vlen, int hasv, int mail,
                      struct dsn_params *p);
#define DSN_NOT_MINE ((const char *)1)
/* a D or N record's text back into p: 0, or -1 (not the canonical form) */
int dsn_unpack(const char *s, size_t len, int mail, struct dsn_params *p);
/* p's parameters for MAIL (mail 1: RET, ENVID) or RCPT (NOTIFY, ORCPT),
   canonical, space-separated, appended to out (nothing when none): 0, -1 */
int dsn_pack(stralloc *out, const struct dsn_params *p, int mail);
/* the notice kinds the recipient asked for: DSN_DEFAULT when no NOTIFY, 0 for NEVER */
unsigned dsn_wants(const struct dsn_params *p);

#endif
