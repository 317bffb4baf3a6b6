/*
 * remote.h -- the parts of imc-remote that talk to the network, shared by
 * its modules (docs/INTERNALS.md section 8 has the protocol with imc-send):
 *
 *   dest.c      the addresses to try for a destination: a route or the
 *               smart host (their hosts by A/AAAA), an address literal, or
 *               MX records (sorted, the implicit MX, null MX), via libowfat DNS
 *   session.c   one SMTP session up to MAIL: greeting, EHLO/HELO, RSET,
 *               QUIT; the protocol transcript
 *   sess_tls.c  STARTTLS by the tls= mode, AUTH PLAIN/LOGIN
 *   transfer.c  one message over a session: MAIL, RCPT, DATA, with
 *               PIPELINING, SIZE and 8BITMIME; a result per recipient
 *   report.c    the reports on fd 1, in input order, each line one write(2)
 *   ownaddr.c   our own addresses (the listener, control/localips): mail
 *               loops when the next hop is one of them
 *   callenv.c   what the setuid imc-remote takes from its caller's environment
 *
 * The parts without I/O have their own headers, for the unit tests and
 * fuzz targets: rjob.h (job lines), mx.h (MX order, null MX), data_out.h
 * (dot-stuffing, SIZE and 8-bit scan); lib/ has the SMTP reply parser
 * (smtp_reply.h, replies and EHLO) and the TCP connect (tcpconn.h), which
 * imc-dequeue shares.
 *
 * Failure modes are returned as the SESS_* codes below, with a text for the
 * reports in the session's `why`.
 */
#ifndef IMC_REMOTE_H
#define IMC_REMOTE_H

#include <stddef.h>
#include "config.h"
#include "owfat.h"
#include "route.h"
#include "sio.h"
#include "data_out.h"
#include "smtp_reply.h"
#include "tcpconn.h"

#define DEST_MAX 64                /* addresses tried per destination */
#define HOST_MAX 255
#define HOSTDESC_MAX (HOST_MAX + 64)   /* "host [address]" */
#define REPLY_LINE_MAX 2048        /* longest reply line read (RFC 5321 says 512) */

/* ---- dest.c */
struct target {
  char host[HOST_MAX + 1];         /* MX or route host, or the literal "[...]" */
  int literal;
  char ip[16];                     /* IPv4 as v4-mapped */
  unsigned port;
  unsigned pref;                   /* rank: the way's place by cost << 16, plus the MX
                                      preference or the route host's /PREF or place */
  int tls;                         /* the way's ROUTE_TLS_*, AUTH credentials, insecureauth */
  const char *user, *passfile;
  int insecureauth;
};

struct dest {
  int tls;                         /* ROUTE_TLS_* of the target in use (dest_select) */
  const char *user, *passfile;     /* AUTH credentials, or 0 */
  int insecureauth;                /* AUTH also without a verified certificate */
  struct target t[DEST_MAX];
  size_t n;
};

/* the addresses for domain: 0 ok (d->n > 0); 'D' or 'Z' with the reason in why */
int dest_find(struct dest *d, const char *domain, const struct routes *r, const struct config *c, stralloc *why);
/* target i's TLS mode and credentials made the destination's (before connecting to it) */
void dest_select(struct dest *d, size_t i);
int dest_loopback(const char ip[16]);
void dest_random_init(void);                       /* seeds libowfat's DNS ids and MX ties */

/* ---- ownaddr.c */
#define OWN_MAX 64
enum { OWN_EXACT = 1, OWN_ANY4, OWN_ANY6 };
struct own_addr {
  char ip[16];
  int kind;                        /* OWN_EXACT, or a wildcard listener (0.0.0.0, ::) */
  unsigned port;                   /* 0: every port */
};
struct own {
  struct own_addr a[OWN_MAX];
  size_t n;
  char ifs[OWN_MAX][16];           /* the local interfaces' addresses */
  size_t nifs;
};
int own_load(struct own *o);       /* 0; -1 a file unreadable (what was read is kept) */
void own_add(struct own *o, const char ip[16], int kind, unsigned port);
void own_add_listen(struct own *o, const char *addr, size_t len, unsigned port);
int own_match(const struct own *o, const char ip[16], unsigned port);    /* 1 ours */
/* drop our targets and those no more preferred: 1 when none is left (a loop) */
int own_truncate(struct dest *d, const struct own *o);

/* ---- session.c */
enum { SESS_OK, SESS_NOCONN, SESS_HOST, SESS_TLSFAIL, SESS_LOST, SESS_PERM, SESS_LOOP };

struct session {
  struct sio io;
  int fd;                          /* -1: closed */
  const struct config *cfg;
  const struct dkimcfg *dkim;      /* control/dkim: the domains signed for */
  const struct dest *dest;
  const char *domain;              /* the destination, for the loop's reason */
  const struct target *t;
  char desc[HOSTDESC_MAX];         /* "host [address]" */
  struct ehlo ehlo;
  int tls;                         /* TLS is up */
  int verified;                    /* ... with the certificate verified (tls=verify) */
  int closing;                     /* in sess_close: keep why as it is */
  int connerr;                     /* errno of the last failed connect */
  const char *logas;               /* the transcript shows this instead of the command */
  unsigned long msgs;              /* transactions started on this connection */
  int reset;                       /* RSET done since the last transaction (kept for the next batch) */
  unsigned long deadline;          /* for this message (monotonic seconds), 0: none */
  struct smtp_reply reply;
  stralloc line, why, tmp, tmp2;
};

/* connect to t and get ready for MAIL; notls: never STARTTLS (a retry after a failed
   handshake under tls=may).  SESS_OK, or another code with why set and the
   connection closed */
int sess_open(struct session *s, const struct target *t, int notls);
void sess_close(struct session *s);              /* QUIT when usable, then close */
void sess_abort(struct session *s);              /* close at once */
int sess_usable(struct session *s);              /* a kept connection still quiet: 1; else closed, 0 */
int sess_cmd(struct session *s, const char *cmd, size_t len, int flush);  /* 0, -1 */
int sess_reply(struct session *s);               /* 0 a complete reply in s->reply, -1 lost */
int sess_rset(struct session *s);                /* 0, -1 */
int sess_ehlo(struct session *s);                /* EHLO (HELO after a 5xx): SESS_OK, _HOST, _LOST */
int sess_tls(struct session *s, int notls);      /* sess_tls.c: STARTTLS as d->tls says; SESS_ code */
int sess_auth(struct session *s);                /* sess_tls.c: AUTH when d->user; SESS_ code */
void sess_set_timeout(struct session *s);        /* per read, cut to the message deadline */
void sess_lost(struct session *s, const char *what);  /* why = "desc: 4.4.2 connection lost ..." */
int sess_why(struct session *s, const char *code_text);  /* why = "desc: " code_text */
int sess_why_reply(struct session *s, const char *prefix);  /* why = "desc: " prefix reply */
unsigned long sess_now(void);
void rlog(const struct config *c, int level, ...);   /* a transfer line at LEVEL; end with 0 */

/* ---- transfer.c */
struct rmsg {
  int fd;
  unsigned long long len;
  int prio;
  const char *id;                  /* the queue id for the log, NUL-terminated, "" when the job gave none */
  const char *sender;              /* NUL-terminated, "" for <> */
  const char **rcpt;               /* NUL-terminated */
  const char *mdsn;                /* MAIL's DSN parameters to pass on (lib/dsn.h), "" when none */
  const char **rdsn;               /* each recipient's, "" when none */
  size_t nrcpt;
  size_t first;                    /* report slot of rcpt[0] */
  int scanned;
  struct msgscan scan;
  int own_fd;                      /* the downgraded or signed copy (a memfd) that m->fd now is, else -1 */
  int dkim_done;                   /* signed (or found to need no signature) */
  int smtputf8;                    /* SMTPUTF8 needed: the job said so, or an address has UTF-8 */
};

/* one message; every recipient gets a report unless the connection is lost
   (SESS_LOST: the unreported ones are left to the caller; *started tells whether
   the server answered MAIL) */
int xfer_message(struct session *s, struct rmsg *m, int *started);
const char *rmsg_scan(struct rmsg *m);           /* size and 8-bit: 0, or why the message is unreadable */

/* ---- sign.c */
struct dkimcfg;
/* the message signed (DKIM) for its From: domain when control/dkim has a line
   for it: m->fd becomes a memfd with the DKIM-Signature field first.  0 signed
   or nothing to sign; -1 with *why (the key unusable, out of memory) */
int rmsg_sign(struct rmsg *m, const struct dkimcfg *c, const char **why);
void rmsg_release(struct rmsg *m);               /* its downgraded copy, once every recipient has a report */

/* ---- callenv.c */
#define IMC_SEND_USER "imcs"       /* imc-send's user in system mode (bin/imc-setup) */
/* before ids_settle: refuse or pin the variables that steer imc-remote (fatal) */
void callenv_check(void);

/* ---- report.c */
int rep_init(size_t n);                          /* n slots for a batch (the last one's dropped): 0, -1 */
void rep_set(size_t slot, char kind, const char *text);   /* once per slot; others ignored */
int rep_done(size_t slot);                       /* the slot has its result */
void rep_flush(void);                            /* writes what is ready, in order; fatal on error */
size_t rep_missing(void);

#endif
