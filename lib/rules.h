/*
 * rules.h -- control/rules (who may connect, relay or must authenticate)
 * and control/transfermode (which directions mail may flow).
 *
 * control/rules: one rule a line, `VERDICT ADDRESS[/PREFIX]`:
 *
 *     relay  127.0.0.0/8        may send to any domain
 *     reject 192.0.2.0/24       gets 521 5.7.1 and is closed
 *     auth   2001:db8::/32      must authenticate before MAIL
 *     tls    198.51.100.0/24    must use STARTTLS before MAIL (530 5.7.0)
 *     tlsauth 203.0.113.7       must use STARTTLS and authenticate before MAIL
 *     accept 0.0.0.0/0          ordinary inbound mail only
 *     relay  ::1                a bare address is a /32 or a /128
 *
 * A client matches the rules of its own family: an IPv4 client (also one
 * seen as ::ffff:a.b.c.d on an IPv6 socket) matches the IPv4 rules, an
 * IPv6 client the IPv6 rules (a rule written as ::ffff:a.b.c.d/P with P at
 * least 96 is an IPv4 rule).  The longest matching prefix wins; between
 * equal prefixes the later line wins; no match is `accept`.  When the file
 * is missing or has no rule lines, the rules are `relay 127.0.0.0/8` and
 * `relay ::1`.  Errors: unknown verdict, bad address, prefix out of range,
 * host bits set (the address has bits set beyond the prefix).
 *
 * control/transfermode: one word, both|inbound|outbound|none (default
 * both).  none and outbound refuse every inbound connection with 421.
 *
 * Every error is reported through the caller's config_errfn as ("rules"
 * or "transfermode", LINE, message), as config.h does; LINE 0 means the
 * file could not be read.
 */
#ifndef IMC_RULES_H
#define IMC_RULES_H

#include <stddef.h>
#include "config.h"
#include "control.h"

enum rule_verdict { RULE_ACCEPT, RULE_REJECT, RULE_RELAY, RULE_AUTH, RULE_TLS, RULE_TLSAUTH };
#define RULE_LAST RULE_TLSAUTH

struct rule {
  unsigned char ip[16];      /* IPv4 rules as ::ffff:a.b.c.d */
  unsigned char bits;        /* prefix length over the 128 bits (IPv4 /P is 96 + P) */
  unsigned char v4;          /* an IPv4 rule */
  unsigned char verdict;
  unsigned line;             /* 0 for a default rule */
};

struct rules {
  struct rule *r;
  size_t n, alloc;
  int is_default;            /* the file was missing or empty */
};

/* 0 ok, >0 the number of errors (each reported; rs is then unusable), -1 unreadable (errno) */
int rules_load(struct rules *rs, config_errfn err);
int rules_parse(struct rules *rs, ctl_file *f, config_errfn err);   /* same, from an open file */
int rules_check_text(const char *text, size_t len, config_errfn err); /* number of errors */
int rules_defaults(struct rules *rs);                                /* 0, -1 ENOMEM */
/* a tls or tlsauth rule where STARTTLS cannot be offered (have_tls 0: no
   control/tls/cert.pem and key.pem): each reported through warnfn as
   ("rules", LINE, message); the number of warnings */
int rules_warn(const struct rules *rs, int have_tls, config_errfn warnfn);
void rules_free(struct rules *rs);

/* the verdict for a client: ip is 16 bytes (IPv4 as ::ffff:a.b.c.d) */
int rules_match(const struct rules *rs, const unsigned char ip[16]);
const char *rule_verdict_name(int verdict);
/* one rule as text, e.g. "relay 127.0.0.0/8", into buf (at least RULE_FMT bytes) */
#define RULE_FMT 64
void rule_format(char *buf, const struct rule *r);

/* addresses: "a.b.c.d" or IPv6 text into 16 bytes (IPv4 mapped): 1 ok, 0 bad */
int ip_scan(const char *s, unsigned char ip[16]);
int ip_is_v4(const unsigned char ip[16]);                /* ::ffff:a.b.c.d */
/* do a and b (16 bytes) agree in their first `bits` bits? */
int ip_prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits);
#define IP_FMT 48
void ip_format(char buf[IP_FMT], const unsigned char ip[16]);   /* mapped ones as plain IPv4 */

enum transfer_mode { XFER_BOTH, XFER_INBOUND, XFER_OUTBOUND, XFER_NONE };
/* 0 ok (*mode set; both when the file is missing or empty), >0 errors, -1 unreadable */
int transfermode_load(int *mode, config_errfn err);
int transfermode_parse(int *mode, ctl_file *f, config_errfn err);
int transfermode_check_text(const char *text, size_t len, config_errfn err);
const char *transfermode_name(int mode);
int transfermode_inbound(int mode);                      /* 1 when inbound connections are taken */

#endif
