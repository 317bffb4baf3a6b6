/*
 * qclient.h -- the client side of imc-queue's protocol (docs/INTERNALS.md),
 * for every program that queues a message (imc-inject, imc-pickup,
 * imc-smtpd, imc-send's notices): building the envelope and running
 * imc-queue with the message on a pipe to its fd 0, the envelope on a pipe
 * to its fd 1 and IMC_QUEUE_IDFD on a third pipe.
 *
 * imc-queue is found by bin_path (lib/binpath.h): $IMC_BIN, else the
 * directory of the running program.
 *
 * Two forms: qrun, one imc-queue per message (imc-inject, imc-pickup,
 * imc-send's notices), and qconn, one imc-queue for many messages
 * (imc-queue -s, lib/qframe.h; imc-smtpd).
 */
#ifndef IMC_QCLIENT_H
#define IMC_QCLIENT_H

#include <sys/types.h>
#include "message.h"
#include "owfat.h"
#include "qframe.h"
#include "queue.h"

/* the envelope address for addr: with "@me" appended when it has no '@',
   the domain in lower case; NUL-terminated, out->len excludes the NUL.
   0, or -1 with errno EINVAL (not a valid address) or ENOMEM */
int inject_address(stralloc *out, const char *addr, size_t len, const char *me);

/* appends a T record for addr (qualified as above) unless the envelope
   already has it: 0, or -1 with errno EINVAL or ENOMEM */
int inject_rcpt(stralloc *env, const char *addr, size_t len, const char *me);

/* a running imc-queue */
struct qrun {
  pid_t pid;
  int msgfd, envfd, idfd;      /* our ends of its fd 0, fd 1 and IMC_QUEUE_IDFD */
};

int qrun_start(struct qrun *q);           /* 0, or -1 (errno): imc-queue not started */
/* ends the message, sends the finished envelope (env_finish done), waits:
   imc-queue's exit code (with id filled in when 0), or EX_TEMP when it died
   of a signal; a NULL env sends none, so that imc-queue refuses the message */
int qrun_finish(struct qrun *q, const stralloc *env, char id[QID_LEN + 1]);

/* the whole injection: h's fields, `added`, a blank line, then the rest of m.
   Returns imc-queue's exit code, or QX_TEMP_READ (reading m failed) or
   QX_TEMP_QUEUE (imc-queue could not be run), each with a diagnostic */
int inject_message(struct msgin *m, const struct msghead *h, const stralloc *added,
                   const stralloc *env, char id[QID_LEN + 1]);

/* a persistent imc-queue -s: started by the first qconn_begin, kept for
   the messages after it, started anew after it died or refused a message
   for good.  A zeroed struct is a closed one.  Its pipes are close-on-exec:
   no other child of the caller holds them.  The text in buf is cleared as
   soon as it is sent: a long-lived caller keeps none of a message. */
struct qconn {
  pid_t pid;                   /* 0: none running */
  int reqfd, repfd;            /* our ends of its fd 0 (frames) and fd 1 (replies) */
  int ok;                      /* 0 once a write of this message failed */
  size_t len;                  /* message bytes waiting in buf */
  char buf[QFRAME_HEAD + QFRAME_CHUNK_MAX];
};

/* a new message: imc-queue running (started when none is, or when the one
   we had has gone): 0, or -1 (errno) with a diagnostic */
int qconn_begin(struct qconn *c);
void qconn_put(struct qconn *c, const char *b, size_t n);     /* the message's bytes, in order */
/* ends the message with the finished envelope (env_finish done), or a NULL
   env to cancel it; returns imc-queue's code for it (QX_PERM_CANCEL after a
   cancel, id filled in when QX_OK), or EX_TEMP when imc-queue went away
   or answered nonsense (with a diagnostic) */
int qconn_end(struct qconn *c, const stralloc *env, char id[QID_LEN + 1]);
/* the same, with top (whole header lines, 1..QFRAME_TOP_MAX bytes) put above
   the message; a NULL or empty top adds nothing */
int qconn_end_top(struct qconn *c, const stralloc *top, const stralloc *env, char id[QID_LEN + 1]);
/* EOF to imc-queue between messages; waits for it to exit: its exit code, or -1 */
int qconn_close(struct qconn *c);

#endif
