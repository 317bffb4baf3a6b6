/*
 * send_settle.c -- what imc-send does with a message when its state
 * changes: record a delivery result, expire what waited too long, start
 * what is due, bounce what failed, and then either remove the message
 * (every recipient final), save its state (write-new, fsync, rename, then
 * move new/ID to mess/H/ID), or set its next wake-up in the heap.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>         /* rename(2) only */
#include <string.h>
#include <unistd.h>
#include "diag.h"
#include "fileio.h"
#include "send.h"
#include "track.h"

#define BOUNCE_RETRY 60          /* seconds before a bounce that could not be queued is tried again */

void track_rcpt(const char *event, const struct msg *m, unsigned long i, const char *result)
{
  const struct qinfo_rcpt *r = &m->q.r[i];
  struct track_event e = { event, m->id, m->msgid.s, m->sender.s, r->address.s, 0, result };
  track_log(&e);
}

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

void rcpt_result(struct msg *m, unsigned long i, char code, const char *text, unsigned long now)
{
  struct qinfo_rcpt *r = &m->q.r[i];
  r->attempts++;
  r->last = now;
  set_reply(r, text);
  m->dirty = 1;
  if (code == 'K') {
    r->state = QI_DELIVERED;
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
  return (m->q.flags & QI_HELD)
         || (r->kind == QI_REMOTE && (!remote_allowed() || held_domain(r->target.s, r->target.len)));
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
    if (m->busy[i] || conv_waiting(m, i)) continue;
    if (r->state == QI_FAILED || r->state == QI_EXPIRED) w = now + BOUNCE_RETRY;
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
    if (r->kind == QI_REMOTE) remote_dest_up(r->target.s);
  }
  heap_set(m, now);
}

void msg_schedule(struct msg *m, unsigned long now)
{
  unsigned long i;
  expire(m, now);
  for (i = 0; i < m->q.n && !(m->q.flags & QI_HELD); i++) {
    struct qinfo_rcpt *r = &m->q.r[i];
    if (r->state != QI_PENDING || m->busy[i] || r->next > now) continue;
    if (conv_gate(m, i, now) != GATE_GO) continue;
    if (r->kind == QI_LOCAL) local_ready(m, i);
    else if (!remote_due(m, i, now) && r->next <= now && remote_allowed()
             && !held_domain(r->target.s, r->target.len)) r->next = now + BOUNCE_RETRY;
  }
  msg_settle(m, now);
}

static int has_state(const struct msg *m, char a, char b)
{
  unsigned long i;
  for (i = 0; i < m->q.n; i++) if (m->q.r[i].state == a || m->q.r[i].state == b) return 1;
  return 0;
}

/* ---- files */

static int info_write(struct msg *m)
{
  stralloc text = {0}, tmp = {0}, fin = {0};
  int fd = -1, r = -1;
  char h[2] = { qid_hash(m->id), 0 };
  if (qinfo_pack(&m->q, &text) < 0 || qpath(&fin, qdir.s, "info", m->id) < 0) goto done;
  if (!stralloc_copy(&tmp, &qdir) || !stralloc_cats(&tmp, "/info/") || !stralloc_cats(&tmp, h)
      || !stralloc_cats(&tmp, "/.") || !stralloc_cats(&tmp, m->id) || !stralloc_cats(&tmp, ".tmp")
      || !stralloc_0(&tmp)) goto done;
  if ((fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0) goto done;
  if (write_all(fd, text.s, text.len) < 0 || fsync(fd) < 0) goto done;
  if (close(fd) < 0) { fd = -1; goto done; }
  fd = -1;
  if (rename(tmp.s, fin.s) < 0) goto done;
  m->has_info = 1;
  if (dir_sync_parent(fin.s) < 0) goto done;
  r = 0;
done:
  if (r < 0) { warnsys("unable to write state of ", m->id); if (tmp.len) unlink(tmp.s); }
  if (fd >= 0) close(fd);
  stralloc_free(&text);
  stralloc_free(&tmp);
  stralloc_free(&fin);
  return r;
}

static int msg_save(struct msg *m)
{
  stralloc from = {0}, to = {0};
  int r = info_write(m);
  if (r == 0 && m->area == AREA_NEW) {
    r = -1;
    if (qpath(&from, qdir.s, "new", m->id) == 0 && qpath(&to, qdir.s, "mess", m->id) == 0)
      r = rename(from.s, to.s);
    if (r == 0) m->area = AREA_MESS;
    else warnsys("unable to move ", m->id, " to mess/");
  }
  if (r == 0) m->dirty = 0;
  stralloc_free(&from);
  stralloc_free(&to);
  return r;
}

/* message file first, then its state: a crash between leaves an orphan state
   file that the next start removes, never a message without its state */
static void msg_remove(struct msg *m)
{
  stralloc p = {0};
  if (msg_path(&p, m) == 0 && unlink(p.s) < 0 && errno != ENOENT) warnsys("unable to remove ", p.s);
  if (m->has_info && qpath(&p, qdir.s, "info", m->id) == 0) unlink(p.s);
  conv_remove(m);
  stralloc_free(&p);
  msg_free(m);
}

void msg_settle(struct msg *m, unsigned long now)
{
  if (has_state(m, QI_FAILED, QI_EXPIRED) && bounce_send(m, now) == 0) m->dirty = 1;
  if (warn_pending(m) && now >= m->q.qtime + cfg.delaywarn && has_state(m, QI_PENDING, QI_PENDING)
      && delay_send(m, now) == 0) {
    m->q.flags |= QI_WARNED;
    m->dirty = 1;
  }
  if (!m->inflight && !has_state(m, QI_PENDING, QI_FAILED) && !has_state(m, QI_EXPIRED, QI_EXPIRED)) {
    msg_remove(m);
    return;
  }
  if (!m->inflight) {                 /* a crash in flight repeats from new/: at least once */
    if (m->dirty) msg_save(m);
    if (m->fd >= 0) { close(m->fd); m->fd = -1; }
  }
  heap_set(m, next_wake(m, now));
}
