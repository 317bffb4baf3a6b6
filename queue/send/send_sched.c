/*
 * send_sched.c -- imc-send's scheduler: what happens to a message when its
 * state changes.  It records a delivery result (a temporary failure waits
 * for the control/retry delay of its attempt, never past the lifetime of
 * the message's priority), expires what waited too long, hands the
 * recipients that are due to their stage, bounces what failed (and tells
 * of what was delivered when NOTIFY=SUCCESS asked: state S), warns once
 * of a delay, and then removes the message (every recipient final), saves
 * its state, or sets its next wake-up in the heap.
 *
 * Layer 2 of imc-send (send.h): it calls the state and the table below it,
 * and reaches the stages above only through the hooks in `sched`, which
 * imc-send sets at start (send_stages.c) and the scheduler's unit test
 * replaces (tests/unit/t_sched.c).
 */
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "send.h"

#define BOUNCE_RETRY 60          /* seconds before a bounce that could not be queued is tried again */

struct sched_hooks sched;

static unsigned long expiry(const struct msg *m)
{
  return m->q.qtime + cfg.lifetime[m->prio];
}

/* a delay warning is due when it is time, something still waits, and nobody was warned */
static int warn_pending(const struct msg *m)
{
  return cfg.delaywarn && !(m->q.flags & QI_WARNED) && m->sender.len && !m->double_bounce;
}

static int set_reply(struct qinfo_rcpt *r, const char *text)
{
  return qinfo_set(&r->reply, text, str_len(text));
}

/* NOTIFY=SUCCESS asks for a notice when this delivery ends the mail system's
   part: a local delivery, or a relay to a next hop that does not offer DSN
   (imc-remote's R report); a next hop that offers DSN got NOTIFY and tells
   the sender itself.  The null sender gets no notice. */
static int success_due(const struct msg *m, unsigned long i, char code)
{
  if (!m->sender.len || m->double_bounce || !(msg_dsn_wants(m, i) & DSN_SUCCESS)) return 0;
  return code == 'R' || m->q.r[i].kind == QI_LOCAL;
}

void rcpt_result(struct msg *m, unsigned long i, char code, const char *text, unsigned long now)
{
  struct qinfo_rcpt *r = &m->q.r[i];
  log_event(LOG_TRANSFER, LEVEL_MINIMUM, m->id, code == 'K' ? " delivered <" : code == 'D' ? " failed <" : " deferred <",
            r->address.s, ">: ", text);
  r->attempts++;
  r->last = now;
  set_reply(r, text);
  m->dirty = 1;
  if (code == 'K' || code == 'R') {
    r->state = success_due(m, i, code) ? QI_SUCCESS : QI_DELIVERED;
    track_rcpt("delivered", m, i, text);
  } else if (code == 'D') {
    r->state = QI_FAILED;
  } else {
    r->next = now + config_retry_delay(&cfg, (unsigned)r->attempts);
    if (r->next >= expiry(m)) r->next = expiry(m);
    track_rcpt("deferred", m, i, text);
  }
}

/* a recipient that cannot be tried now: its message or destination is held, or
   transfermode keeps remote mail back */
static int rcpt_waits(const struct msg *m, const struct qinfo_rcpt *r)
{
  return (m->q.flags & QI_HELD) || sched.blocked(r);
}

/* mark pending recipients whose lifetime is over; 1 if any.  A recipient that
   could be tried but never was gets its first try first (as qmail does): a
   message is not bounced as expired untried after imc-send was down a while. */
static int expire(struct msg *m, unsigned long now)
{
  unsigned long i;
  int any = 0;
  if (now < expiry(m)) return 0;
  for (i = 0; i < m->q.n; i++) {
    struct qinfo_rcpt *r = &m->q.r[i];
    if (r->state != QI_PENDING || m->busy[i] || (!r->attempts && !rcpt_waits(m, r))) continue;
    r->state = QI_EXPIRED;
    if (!r->reply.len) set_reply(r, "4.4.7 message expired before it could be delivered");
    else {
      stralloc t = {0};
      if (stralloc_copys(&t, "4.4.7 message expired; last error: ") && stralloc_cat(&t, &r->reply)
          && stralloc_0(&t)) set_reply(r, t.s);
      stralloc_free(&t);
    }
    track_rcpt("expired", m, i, r->reply.s);
    m->dirty = any = 1;
  }
  return any;
}

/* the time this message next needs attention */
static unsigned long next_wake(const struct msg *m, unsigned long now)
{
  unsigned long i, t = TIME_NEVER;
  for (i = 0; i < m->q.n; i++) {
    const struct qinfo_rcpt *r = &m->q.r[i];
    unsigned long w = TIME_NEVER;
    if (m->busy[i] || sched.converting(m, i)) continue;
    if (r->state == QI_FAILED || r->state == QI_EXPIRED || r->state == QI_SUCCESS) w = now + BOUNCE_RETRY;
    else if (r->state == QI_PENDING) {
      w = rcpt_waits(m, r) ? expiry(m) : r->next;
      if (w > expiry(m)) w = expiry(m);
      if (warn_pending(m) && m->q.qtime + cfg.delaywarn < w) w = m->q.qtime + cfg.delaywarn;
    }
    if (w < t) t = w;
  }
  if (t != TIME_NEVER && t < now) t = now;
  return t;
}

/* the administrator asked: every waiting recipient now, its destination too */
void msg_retry(struct msg *m, unsigned long now)
{
  unsigned long i;
  for (i = 0; i < m->q.n; i++) {
    struct qinfo_rcpt *r = &m->q.r[i];
    if (r->state != QI_PENDING || m->busy[i]) continue;
    r->next = now;
    if (r->kind == QI_REMOTE) sched.dest_up(r->target.s);
  }
  heap_set(m, now);
}

/* each message that is due gets one turn: one that stays due (it could not be
   dispatched) waits for the next loop rather than spinning here */
void sched_due(unsigned long now)
{
  struct msg *m;
  unsigned long turns = msg_count() + 1;
  while (turns-- && (m = heap_top()) != 0 && m->next <= now) {
    heap_set(m, TIME_NEVER);
    msg_schedule(m, now);
  }
}

void msg_schedule(struct msg *m, unsigned long now)
{
  unsigned long i;
  expire(m, now);
  for (i = 0; i < m->q.n && !(m->q.flags & QI_HELD); i++) {
    struct qinfo_rcpt *r = &m->q.r[i];
    if (r->state != QI_PENDING || m->busy[i] || r->next > now) continue;
    if (sched.gate(m, i, now) != GATE_GO) continue;
    if (!sched.due(m, i, now) && r->next <= now && !sched.blocked(r)) r->next = now + BOUNCE_RETRY;
  }
  msg_settle(m, now);
}

static int has_state(const struct msg *m, char a, char b)
{
  unsigned long i;
  for (i = 0; i < m->q.n; i++) if (m->q.r[i].state == a || m->q.r[i].state == b) return 1;
  return 0;
}

void msg_settle(struct msg *m, unsigned long now)
{
  if ((has_state(m, QI_FAILED, QI_EXPIRED) || has_state(m, QI_SUCCESS, QI_SUCCESS)) && sched.bounce(m, now) == 0)
    m->dirty = 1;
  if (warn_pending(m) && now >= m->q.qtime + cfg.delaywarn && has_state(m, QI_PENDING, QI_PENDING)
      && sched.delay(m, now) == 0) {
    m->q.flags |= QI_WARNED;
    m->dirty = 1;
  }
  if (!m->inflight && !has_state(m, QI_PENDING, QI_FAILED) && !has_state(m, QI_EXPIRED, QI_SUCCESS)) {
    msg_remove(m);
    return;
  }
  if (!m->inflight) {                 /* a crash in flight repeats from new/: at least once */
    if (m->dirty) msg_save(m);
    if (m->fd >= 0) { close(m->fd); m->fd = -1; }
  }
  heap_set(m, next_wake(m, now));
}
