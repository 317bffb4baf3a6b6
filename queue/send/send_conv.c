/*
 * send_conv.c -- imc-send's conversion stage (docs/INTERNALS.md section 14).
 *
 * When a message is loaded, each pending recipient gets its profile
 * (send_plan.c).  A recipient whose profile needs a copy waits, "awaiting conversion", until imc-convert has made the
 * profile's copy, queue/mess/H/ID.KEY (written as .ID.KEY.tmp, renamed),
 * once per message and profile; the original is never touched.  At most
 * CONV_RUNS conversions run at once.  The copies are a cache: not fsync'd,
 * removed with the message, and all removed when imc-send starts, so a
 * crash costs a conversion, never a message.
 *
 * Outcomes: converted (the copy is delivered); suppressed (an automatic
 * reply the profile does not send: the recipient is done, tracked
 * "suppressed"); too big (5.3.4, bounced); failed (the original is
 * delivered, logged, and the postmaster told when control/notify has
 * conversion-failed).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>         /* rename(2) only */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "convert/need.h"
#include "diag.h"
#include "domains.h"
#include "exitcodes.h"
#include "send.h"

#define CONV_RUNS 2              /* conversions at once: they use the CPU, not the network */

static struct job *waiting;      /* conversions to start: (message, copy index) */
static unsigned long nwaiting, capwaiting;
static unsigned running;

static void outcome(struct msg *m, unsigned cvi, int code, unsigned long now);
static run_done_fn conv_finish;

/* ---- running imc-convert */

static int waiting_push(struct msg *m, unsigned cvi)
{
  if (nwaiting == capwaiting) {
    unsigned long nc = capwaiting ? capwaiting * 2 : 64;
    struct job *v = realloc(waiting, nc * sizeof *v);
    if (!v) return -1;
    waiting = v;
    capwaiting = nc;
  }
  waiting[nwaiting].m = m;
  waiting[nwaiting].i = cvi;
  nwaiting++;
  m->inflight++;                 /* the message stays until its conversion is done */
  m->cv[cvi].state = CV_QUEUED;
  return 0;
}

static int conv_start(struct msg *m, unsigned cvi)
{
  stralloc tmp = {0};
  char len[FMT_ULONG];
  char *argv[] = { "imc-convert", "-l", len, "-i", m->id, m->cv[cvi].profile.s, 0 };
  int out = -1, r = -1;
  len[fmt_ulonglong(len, m->msglen)] = 0;
  if (msg_open(m) < 0 || conv_path(&tmp, m, cvi, 1) < 0) goto done;
  if ((out = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0) goto done;
  r = run_start_filter("imc-convert", argv, m->fd, out, conv_finish, m, cvi);
done:
  if (r < 0) { warnsys("unable to convert ", m->id, " for ", m->cv[cvi].key.s); if (out >= 0) unlink(tmp.s); }
  if (out >= 0) close(out);
  if (m->fd >= 0) { close(m->fd); m->fd = -1; }     /* imc-convert has its own copy */
  stralloc_free(&tmp);
  return r;
}

void conv_dispatch(unsigned long now)
{
  unsigned long k = 0;
  while (k < nwaiting && running < CONV_RUNS && !runs_full()) {
    struct job j = waiting[k++];
    j.m->cv[j.i].state = CV_RUNNING;
    if (conv_start(j.m, (unsigned)j.i) == 0) running++;
    else outcome(j.m, (unsigned)j.i, EX_TEMP, now);
  }
  if (k) memmove(waiting, waiting + k, (nwaiting - k) * sizeof *waiting);
  nwaiting -= k;
}

/* ---- outcomes */

static void notify_failed(const struct msg *m, const struct cvcopy *v)
{
  stralloc t = {0};
  if (!(cfg.notify & NOTIFY_CONVERSION)) return;
  if (stralloc_copys(&t, "The content conversion of queued message ") && stralloc_cats(&t, m->id)
      && stralloc_cats(&t, "\nfrom <") && stralloc_cat(&t, &m->sender) && stralloc_cats(&t, ">\nfor the profile ")
      && stralloc_cats(&t, v->key.s) && stralloc_cats(&t, " (control/domains) failed.\n"
         "The message was delivered as it was received, unconverted.\n"
         "imc-send's log (log/send/current) has imc-convert's reason.\n") && stralloc_0(&t))
    admin_notice("Content conversion failed", t.s);
  stralloc_free(&t);
}

static int copy_ready(struct msg *m, unsigned cvi)
{
  stralloc tmp = {0}, fin = {0};
  int r = -1, fd;
  if (conv_path(&tmp, m, cvi, 1) == 0 && conv_path(&fin, m, cvi, 0) == 0 && rename(tmp.s, fin.s) == 0
      && (fd = open(fin.s, O_RDONLY | O_CLOEXEC)) >= 0) {
    off_t end = lseek(fd, 0, SEEK_END);
    close(fd);
    if (end >= 0) { m->cv[cvi].len = (unsigned long long)end; r = 0; }
  }
  if (r < 0) { warnsys("unable to keep the converted copy of ", m->id); if (tmp.len) unlink(tmp.s); }
  stralloc_free(&tmp);
  stralloc_free(&fin);
  return r;
}

static void track_converted(struct msg *m, unsigned cvi, const char *what)
{
  unsigned long i;
  for (i = 0; i < m->q.n; i++)
    if (m->rcv[i] == cvi + 1 && m->q.r[i].state == QI_PENDING) track_rcpt("converted", m, i, what);
}

static void conv_finish(struct run *run, int code, unsigned long now)
{
  running--;
  outcome(run->owner, (unsigned)run->arg, code, now);
}

static void outcome(struct msg *m, unsigned cvi, int code, unsigned long now)
{
  struct cvcopy *v = &m->cv[cvi];
  stralloc t = {0};
  m->inflight--;
  if (code != CX_OK) {                              /* nothing to keep */
    stralloc p = {0};
    if (conv_path(&p, m, cvi, 1) == 0) unlink(p.s);
    stralloc_free(&p);
  }
  if (code == CX_OK && copy_ready(m, cvi) == 0) {
    v->state = CV_READY;
    if (stralloc_copys(&t, "profile ") && stralloc_cats(&t, v->key.s) && stralloc_cats(&t, ", ")
        && stralloc_catulong(&t, (unsigned long)v->len) && stralloc_cats(&t, " bytes") && stralloc_0(&t))
      track_converted(m, cvi, t.s);
  } else if (code == CX_SUPPRESSED) v->state = CV_SUPPRESSED;
  else if (code == CX_TOOBIG) v->state = CV_TOOBIG;
  else {
    v->state = CV_FAILED;
    warn("conversion of ", m->id, " for ", v->key.s, " failed: delivering it unconverted");
    notify_failed(m, v);
  }
  stralloc_free(&t);
  msg_schedule(m, now);
}

/* ---- the gate before a delivery */

static void settle_rcpt(struct msg *m, unsigned long i, char state, const char *event, const char *text)
{
  struct qinfo_rcpt *r = &m->q.r[i];
  r->state = state;
  qinfo_set(&r->reply, text, strlen(text));
  m->dirty = 1;
  if (event) track_rcpt(event, m, i, text);
}

int conv_gate(struct msg *m, unsigned long i, unsigned long now)
{
  struct cvcopy *v;
  if (!m->rcv || !m->rcv[i]) return GATE_GO;
  v = &m->cv[m->rcv[i] - 1];
  switch (v->state) {
  case CV_READY: return GATE_GO;
  case CV_FAILED: m->rcv[i] = 0; return GATE_GO;
  case CV_SUPPRESSED:
    settle_rcpt(m, i, QI_DELIVERED, "suppressed", "automatic reply not sent: the destination's profile suppresses it");
    return GATE_DONE;
  case CV_TOOBIG:
    settle_rcpt(m, i, QI_FAILED, 0, "5.3.4 message too big for the destination after conversion (control/domains maxsize)");
    return GATE_DONE;
  case CV_WANTED:
    if (waiting_push(m, m->rcv[i] - 1) < 0) m->q.r[i].next = now + 60;   /* out of memory: later */
    return GATE_WAIT;
  default: return GATE_WAIT;
  }
}

int conv_waiting(const struct msg *m, unsigned long i)
{
  return m->rcv && m->rcv[i] && (m->cv[m->rcv[i] - 1].state == CV_QUEUED || m->cv[m->rcv[i] - 1].state == CV_RUNNING);
}
