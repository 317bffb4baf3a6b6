/*
 * send_conv.c -- imc-send's conversion stage (docs/INTERNALS.md section 14).
 *
 * When a message is loaded, each pending recipient gets its profile: the
 * inbound one for a local recipient of mail received over SMTP, the
 * control/domains line of a remote recipient's domain.  A profile that
 * would change nothing (convert/need.h) sends the original.  Otherwise the
 * recipient waits, "awaiting conversion", until imc-convert has made the
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

static struct domains doms;
static int doms_loaded;
static struct job *waiting;      /* conversions to start: (message, copy index) */
static unsigned long nwaiting, capwaiting;
static unsigned running;

static void outcome(struct msg *m, unsigned cvi, int code, unsigned long now);

int conv_reload(void)
{
  struct domains fresh;
  memset(&fresh, 0, sizeof fresh);
  if (domains_load(&fresh, config_warn) != 0) {
    domains_free(&fresh);
    warn("control/domains has errors: keeping the old settings");
    if (!doms_loaded) { domains_builtin(&doms.star); doms_loaded = 1; }
    return -1;
  }
  if (doms_loaded) domains_free(&doms);
  doms = fresh;
  doms_loaded = 1;
  return 0;
}

/* ---- planning */

/* a new copy entry for this key: its index, or -1 */
static int cv_add(struct msg *m, const char *key, const char *profile, int needed)
{
  struct cvcopy *v;
  if (m->ncv >= 0xfffe || !(v = realloc(m->cv, (m->ncv + 1) * sizeof *v))) return -1;
  m->cv = v;
  v += m->ncv;
  memset(v, 0, sizeof *v);
  v->fd = -1;
  v->state = needed ? CV_WANTED : CV_SKIP;
  if (!stralloc_copys(&v->key, key) || !stralloc_0(&v->key) || !stralloc_copys(&v->profile, profile)
      || !stralloc_0(&v->profile)) { stralloc_free(&v->key); stralloc_free(&v->profile); return -1; }
  return (int)m->ncv++;
}

/* the profile of recipient i: 0 none, else 1 with its key and settings */
static int rcpt_profile(const struct msg *m, unsigned long i, const char **key, struct domain_settings *s)
{
  const struct qinfo_rcpt *r = &m->q.r[i];
  return conv_profile(&doms, r->kind == QI_LOCAL, m->from_net, r->target.s, key, s);
}

int conv_plan(struct msg *m, const char *head, size_t len)
{
  unsigned long i;
  if (!(m->rcv = calloc(m->q.n ? m->q.n : 1, sizeof *m->rcv))) return -1;
  for (i = 0; i < m->q.n; i++) {
    const struct qinfo_rcpt *r = &m->q.r[i];
    struct domain_settings s;
    const char *key;
    unsigned k;
    int idx;
    if (r->state != QI_PENDING || !rcpt_profile(m, i, &key, &s)) continue;
    for (k = 0; k < m->ncv && strcmp(m->cv[k].key.s, key); k++) ;
    if (k < m->ncv) idx = (int)k;
    else idx = cv_add(m, key, r->kind == QI_LOCAL ? "inbound" : r->target.s,
                       conv_needed(&s, r->kind == QI_LOCAL, head, len, &m->facts, m->msglen));
    if (idx < 0) return -1;
    if (m->cv[idx].state != CV_SKIP) m->rcv[i] = (unsigned short)(idx + 1);
  }
  return 0;
}

/* ---- files */

static int conv_path(stralloc *sa, const struct msg *m, unsigned cvi, int tmp)
{
  return conv_copy_path(sa, qdir.s, m->id, m->cv[cvi].key.s, tmp);
}

int conv_open(struct msg *m, unsigned cvi)
{
  stralloc p = {0};
  struct cvcopy *v = &m->cv[cvi];
  if (v->fd >= 0) return 0;
  if (conv_path(&p, m, cvi, 0) == 0) v->fd = open(p.s, O_RDONLY | O_CLOEXEC);
  stralloc_free(&p);
  return v->fd < 0 ? -1 : 0;
}

void conv_remove(struct msg *m)
{
  stralloc p = {0};
  unsigned k;
  for (k = 0; k < m->ncv; k++)
    if (m->cv[k].state == CV_READY && conv_path(&p, m, k, 0) == 0 && unlink(p.s) < 0 && errno != ENOENT)
      warnsys("unable to remove ", p.s);
  stralloc_free(&p);
}

void conv_free(struct msg *m)
{
  unsigned k;
  for (k = 0; k < m->ncv; k++) {
    if (m->cv[k].fd >= 0) close(m->cv[k].fd);
    stralloc_free(&m->cv[k].key);
    stralloc_free(&m->cv[k].profile);
  }
  free(m->cv);
  free(m->rcv);
  m->cv = 0;
  m->rcv = 0;
  m->ncv = 0;
}

/* mess/H/ID.KEY or .ID.KEY.tmp: a copy made before imc-send (re)started */
void conv_clean(const char *dirpath, const char *name)
{
  stralloc p = {0};
  if (stralloc_copys(&p, dirpath) && stralloc_append(&p, "/") && stralloc_cats(&p, name) && stralloc_0(&p))
    unlink(p.s);
  stralloc_free(&p);
}

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
  char *argv[] = { "imc-convert", "-l", len, m->cv[cvi].profile.s, 0 };
  int out = -1, r = -1;
  len[fmt_ulonglong(len, m->msglen)] = 0;
  if (msg_open(m) < 0 || conv_path(&tmp, m, cvi, 1) < 0) goto done;
  if ((out = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0) goto done;
  r = run_start_conv("imc-convert", argv, m->fd, out, m, cvi);
done:
  if (r < 0) { warnsys("unable to convert ", m->id, " for ", m->cv[cvi].key.s); if (out >= 0) unlink(tmp.s); }
  if (out >= 0) close(out);
  if (m->fd >= 0) { close(m->fd); m->fd = -1; }     /* imc-convert has its own copy */
  stralloc_free(&tmp);
  return r;
}

void conv_dispatch(void)
{
  unsigned long k = 0;
  unsigned long now = (unsigned long)time(0);
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

void conv_finish(struct msg *m, unsigned cvi, int code, unsigned long now)
{
  running--;
  outcome(m, cvi, code, now);
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
