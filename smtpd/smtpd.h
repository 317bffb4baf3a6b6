/*
 * smtpd.h -- one inbound ESMTP session of imc-smtpd: its state and the
 * functions its modules share.  imc-smtpd.c fills the struct from the
 * environment (or imc-tcpd's frame) and the worker's settings, then
 * smtpd_run takes over until the session ends; nothing returns from it:
 * smtpd_end exits, or in a worker jumps back to the worker's loop
 * (smtp_worker.c), which forgets the session and waits for the next.
 *
 * What a worker keeps between sessions is struct smtpd_base: the control
 * files as loaded (reloaded when one changes), the directory, the TLS
 * certificate and key, the report pipe.  Everything of one session is in
 * struct session, which is wiped as a whole (explicit_bzero) after the
 * heap buffers it points to were wiped and freed; its cfg, dir and creds
 * are copies of the base's, pointing to the base's memory, never freed
 * through the session.  Outside the two: smtp_msg.c's DATA buffers
 * (smtpd_msg_forget wipes them) and smtp_auth.c's crypt(3) work area
 * (wiped after every check).
 *
 * Modules: smtp_session.c (the command loop, replies, logging, the simple
 * commands), smtp_envelope.c (MAIL, RCPT, ETRN), smtp_tlsauth.c (STARTTLS,
 * AUTH), smtp_msg.c (DATA: the Received line and the imc-queue run),
 * smtp_limits.c (what keeps a session from holding its slot: the session
 * deadline, the DATA rate, AUTH failures, refused recipients, ETRN),
 * smtp_check.c (SPF, DKIM and DMARC, the Authentication-Results field, the
 * removal of forged ones; control/authpolicy).
 */
#ifndef IMC_SMTPD_H
#define IMC_SMTPD_H

#include <setjmp.h>
#include "config.h"
#include "directory.h"
#include "queue.h"
#include "sio.h"
#include "smtp_auth.h"
#include "smtp_cmd.h"

#define SMTPD_MAX_BAD 10            /* bad commands before 421 and close */
#define SMTPD_RCPT_HARDMAX 10000    /* recipients per message when control/maxrcpt is 0 */
#define SMTPD_MAX_REFUSED_RCPT 20   /* refused RCPTs answered in a session; the next is 421 */

/* the session's limits (smtp_limits.c) */
struct session_limits {
  long long session_end;            /* sio_now_ms() when the session must end; 0: never */
  long long data_start;             /* DATA: when it began (0: not in DATA) */
  unsigned long long data_bytes;    /* DATA: bytes read since */
  unsigned long rcpt_refused;       /* RCPTs refused by policy in this session */
  unsigned auth_failed;             /* AUTH failures in this session */
  unsigned long auth_failed_before; /* ... and from this client before it (IMC_AUTHFAIL) */
  int report_fd;                    /* imc-tcpd's report pipe (IMC_REPORT_FD), or -1 */
  long long etrn_after;             /* sio_now_ms() before which ETRN is refused; 0: allowed */
  unsigned etrn_left;               /* more domains this session may name after its accepted ETRN */
};

/* what a worker keeps from one session to the next (smtp_worker.c) */
struct smtpd_base {
  struct config cfg;                /* valid when cfg_ok */
  int cfg_ok;                       /* 0: the control files have errors: sessions get 421 */
  struct directory dir;
  int dir_ok;
  struct tls_creds *creds;          /* 0: STARTTLS not offered */
  int report_fd;                    /* imc-tcpd's report pipe (IMC_REPORT_FD), or -1 */
  int local;                        /* imc-smtpd -l: a local submitter, no TLS */
};

/* where a session's client description comes from: getenv, or imc-tcpd's frame */
typedef const char *(*smtpd_getvar)(const char *name);

struct session {
  struct config cfg;                /* a copy of the base's: its strings are the base's */
  struct directory dir;
  int dir_ok;                       /* directory_open worked */
  struct sio sio;
  struct tls_creds *creds;          /* 0: STARTTLS not offered */
  const char *remoteip, *localip;   /* in rip and lip */
  char rip[64], lip[64];
  int relay;                        /* connection rule relay */
  int must_auth;                    /* rule auth or tlsauth, or the submission port */
  int must_tls;                     /* rule tls or tlsauth: STARTTLS before MAIL */
  int loopback;
  int local;                        /* imc-smtpd -l: the caller submits (sendmail -bs) */
  int tls;
  int dead;                         /* the transport failed: nothing more to write */
  int bad;                          /* bad commands so far */
  /* after EHLO/HELO */
  char helo[256];
  int helo_seen, esmtp;
  /* after AUTH */
  char auth_user[AUTH_FIELD_MAX + 1];
  int authed;
  /* the mail transaction */
  int mail_seen;
  int bdat;                         /* a BDAT chunk went to imc-queue: no RCPT, no DATA */
  struct smtp_path sender;
  stralloc rcpts;                   /* accepted recipients, each NUL-terminated */
  stralloc rcpt_dsn;                /* each one's DSN parameters (lib/dsn.h), NUL-terminated, "" when none */
  unsigned long nrcpt;
  int filter;                       /* FILTER_* of the sender */
  /* for the log line at the end */
  unsigned long msgs, last_rcpts;
  char last_mail[SMTP_ADDR_MAX + 1];
  char last_id[QID_LEN + 1];        /* the queue id of that transaction's message, "" when none was queued */
  stralloc line;                    /* the command line being handled */
  char tag[24];                     /* "[pid]" at the head of protocol log lines */
  struct session_limits lim;
};

void smtpd_run(struct session *s) __attribute__((noreturn));

/* ---- imc-smtpd.c and smtp_worker.c */
/* the files of lib/config.c's table imc-smtpd reads (a list ending in 0) */
extern const char *const smtpd_config_files[];
/* one session on rfd and wfd: never returns (see smtpd_end) */
void smtpd_session(struct session *s, const struct smtpd_base *b, int rfd, int wfd, smtpd_getvar get)
  __attribute__((noreturn));
/* loads the control files, the directory and TLS into b (a worker: again when they changed) */
void smtpd_base_load(struct smtpd_base *b);
void smtpd_worker(struct session *s, struct smtpd_base *b) __attribute__((noreturn));
/* a worker arms the jump smtpd_end and smtpd_leave take instead of exiting (0: exit) */
void smtpd_end_jump(sigjmp_buf *j);
/* the session is over: to the worker's loop, or _exit(code) */
void smtpd_leave(int code) __attribute__((noreturn));
/* smtp_msg.c: the message text, for DATA and for BDAT (smtp_bdat.c).  begin: the
   Received line to imc-queue and d ready (chunked: BDAT), or -1, answered (451)
   and the transaction reset; feed: octets through d to imc-queue, the octets
   consumed; end: the one reply for the message, the transaction reset; cancel:
   the message under way is dropped (imc-queue writes nothing) */
struct smtp_data;
int smtpd_msg_begin(struct session *s, struct smtp_data *d, int chunked);
size_t smtpd_msg_feed(struct smtp_data *d, const char *b, size_t n);
void smtpd_msg_end(struct session *s, struct smtp_data *d);
void smtpd_msg_cancel(void);
/* the client's next octets of text, at least one, or the session ends (EOF, timeout) */
void smtpd_text_peek(struct session *s, const char **p, size_t *n);
/* smtp_msg.c: a DATA cut short is given up (imc-queue writes nothing), its buffers wiped */
void smtpd_msg_forget(void);

/* a reply line made of the strings given: logged (protocol, maximum) and buffered
   until a flush; cut at SMTPD_REPLY_MAX */
#define SMTPD_REPLY_MAX 600
void smtpd_replyl(struct session *s, ...);
#define smtpd_reply(s, ...) smtpd_replyl((s), __VA_ARGS__, (const char *)0)
int smtpd_flush(struct session *s);
/* a refused command that counts against SMTPD_MAX_BAD (421 and the end past it) */
void smtpd_bad(struct session *s, const char *text);
/* ends the session: the log line, close (TLS close_notify), exit 0 */
void smtpd_end(struct session *s, const char *result) __attribute__((noreturn));
/* a line of the client (AUTH responses) with the session's timeout and limit:
   1 a line in s->line, or the session ends (EOF, timeout); -2 too long */
int smtpd_getline(struct session *s, int *crlf);
void smtpd_log_in(struct session *s, const char *text, size_t len);  /* "< text" (protocol) */
void smtpd_tx_reset(struct session *s);
unsigned long smtpd_maxrcpt(const struct session *s);

void smtpd_mail(struct session *s, const struct smtp_cmd *c);
void smtpd_rcpt(struct session *s, const struct smtp_cmd *c);
void smtpd_etrn(struct session *s, const struct smtp_cmd *c);
void smtpd_starttls(struct session *s, const struct smtp_cmd *c);
void smtpd_auth(struct session *s, const struct smtp_cmd *c);
int smtpd_auth_offered(const struct session *s);    /* AUTH in the EHLO reply */
void smtpd_data(struct session *s, const struct smtp_cmd *c);
void smtpd_bdat(struct session *s, const struct smtp_cmd *c);
void smtpd_queue_close(void);    /* ends the process's imc-queue (smtp_msg.c): at exit */
const char *smtpd_proto(const struct session *s);  /* SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA; UTF8SMTP... with SMTPUTF8 */

/* smtp_limits.c */
/* after the control files: the deadline; IMC_AUTHFAIL and IMC_ETRNWAIT from get */
void limits_init(struct session *s, smtpd_getvar get, int report_fd);
int limits_report_fd(void);                          /* IMC_REPORT_FD, made close-on-exec, or -1 */
void limits_data_begin(struct session *s);           /* the DATA rate applies until limits_data_end */
void limits_data_end(struct session *s);
/* after ETIMEDOUT: which limit passed: "timeout" (the idle timeout),
   "session time limit reached" or "data arriving too slowly" */
const char *limits_timeout_text(const struct session *s);
void limits_end_grace(struct session *s);            /* a few seconds more for the last reply */
int limits_auth_blocked(const struct session *s);    /* 1: too many failures from this client */
void limits_auth_failed(struct session *s);          /* report it, then wait 1, 2, 4 ... 16 s */
int limits_rcpt_refused(struct session *s);          /* count one: 1 when past SMTPD_MAX_REFUSED_RCPT */
int limits_etrn_allowed(const struct session *s);    /* 1: no ETRN from this client in the last minute, or more domains of this session's */
void limits_etrn_done(struct session *s);            /* an ETRN was accepted: report it */

#endif
