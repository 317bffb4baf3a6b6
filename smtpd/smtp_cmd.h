/*
 * smtp_cmd.h -- parsing SMTP command lines (RFC 5321) for imc-smtpd:
 * the verb and its argument, the MAIL FROM / RCPT TO paths with their
 * parameters, and the EHLO/HELO and ETRN arguments.
 *
 * Input: one command line without its line end, as received (it may hold
 * any byte; one that ended in a bare LF or holds a bare CR is refused
 * before it is parsed: smtp_line_bare).  Output: a struct filled in, or
 * the SMTP reply that refuses the line ("501 5.1.7 ..."), a static string.  Nothing is allocated: an
 * address lives in a fixed buffer of SMTP_ADDR_MAX bytes, so the memory
 * is bounded whatever the input.
 */
#ifndef IMC_SMTP_CMD_H
#define IMC_SMTP_CMD_H

#include <stddef.h>
#include "dsn.h"

#define SMTP_CMD_MAX (512 + 552)  /* a command line, CR LF included: 512 (RFC 5321 4.5.3.1.4)
                                     and room for " NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=" with
                                     its 500 (RFC 3461 section 5) */
#define SMTP_ADDR_MAX 320         /* an address as stored: 64 local + @ + 255 domain */
#define SMTP_LOCAL_MAX 64

enum smtp_verb { V_UNKNOWN, V_HELO, V_EHLO, V_MAIL, V_RCPT, V_DATA, V_RSET, V_NOOP, V_QUIT,
                 V_HELP, V_VRFY, V_EXPN, V_STARTTLS, V_AUTH, V_ETRN,
                 V_BDAT };

struct smtp_cmd {
  int verb;
  const char *arg;                /* after the verb and its spaces; trailing spaces cut */
  size_t arglen;
};

/* 0 ok (verb may be V_UNKNOWN: the caller answers 500 5.5.1), or the refusal: a NUL
   byte or another control character in the line is 500 5.5.2 */
const char *smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *c);
/* a line as sio_getline returned it (without its line end; crlf: it ended in CR LF)
   had a bare CR or LF: 1, or 0.  The session then answers SMTP_BARE_REPLY and
   closes: what follows a bare line end may be commands another server took for text */
int smtp_line_bare(const char *line, size_t len, int crlf);
#define SMTP_BARE_REPLY "500 5.5.2 bare CR or LF in a command line is not allowed, closing connection"
const char *smtp_verb_name(int verb);

#define BODY_NONE 0
#define BODY_7BIT 7
#define BODY_8BITMIME 8

struct smtp_path {
  char addr[SMTP_ADDR_MAX + 1];   /* LOCAL@DOMAIN, NUL-terminated; "" is the null path <> */
  size_t len;
  size_t at;                      /* index of the '@' in addr, or len (no domain) */
  int route;                      /* a source route @a,@b: was given (it is dropped) */
  int quoted;                     /* the local part needs quotes (not a dot-atom) */
  int trailing_dot;               /* the domain ended in a dot (it is dropped) */
  int literal;                    /* the domain is an address literal [...] */
  int utf8;                       /* the address has UTF-8 (octets above 127) */
  int smtputf8;                   /* MAIL FROM's SMTPUTF8 parameter (RFC 6531) */
  int has_size;
  unsigned long size;             /* SIZE=, saturated at ULONG_MAX */
  int body;                       /* BODY=: BODY_NONE, BODY_7BIT, BODY_8BITMIME */
  char dsn[DSN_PACK_MAX + 1];     /* RET/ENVID (MAIL) or NOTIFY/ORCPT (RCPT), packed (lib/dsn.h) */
  size_t dsnlen;
};

/* arg: "FROM:<...> PARAMS" (mail) or "TO:<...> PARAMS"; 0 ok or the refusal.
   An address with UTF-8 parses (utf8 set) whether or not SMTPUTF8 was given:
   SMTP_UTF8_REPLY is the caller's refusal when the transaction lacks it.
   The domain is lower-cased; a quoted local part that is a dot-atom is unquoted.
   A path without a domain parses (at == len): only RCPT TO:<postmaster> may use it. */
const char *smtp_path_parse(const char *arg, size_t len, int mail, struct smtp_path *p);

#define SMTP_UTF8_REPLY "553 5.6.7 non-ASCII address: give MAIL FROM the SMTPUTF8 parameter (RFC 6531)"

/* EHLO/HELO argument: one word of printable ASCII, 1..255 bytes: 1 ok, 0 not */
int smtp_helo_valid(const char *arg, size_t len);

/* ETRN argument: "domain" or "@domain" (the @ is dropped) into dom (lower case,
   NUL-terminated, at most 255 bytes): 0 ok, or the refusal */
const char *smtp_etrn_parse(const char *arg, size_t len, char dom[256]);

/* BDAT argument (RFC 3030): "SIZE" or "SIZE LAST", SIZE 1 to 18 digits (case of
   LAST ignored): 0 ok with *size and *last, or the refusal.  A refused BDAT line
   leaves the chunk's end unknown: the session answers it and closes */
#define SMTP_BDAT_DIGITS 18
const char *smtp_bdat_parse(const char *arg, size_t len, unsigned long long *size, int *last);

#endif
