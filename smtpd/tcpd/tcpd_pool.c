/*
 * tcpd_pool.c -- imc-tcpd's pool of imc-smtpd workers (see tcpd.h and
 * docs/INTERNALS.md section 11).
 *
 * A worker is a long-lived imc-smtpd with one end of a SOCK_SEQPACKET
 * socketpair as its fd 0.  It is idle, then busy once a connection is
 * handed to it (lib/handoff.h), then idle again when it says "idle".  The
 * connection at its smtpdmaxuse-th use is its last: our end is closed
 * right after the hand-off, so the worker reads that connection, then EOF,
 * and exits when the session is over.  An idle worker past smtpdidle is
 * retired the same way (our end closed) and forgotten at once.  A worker
 * that dies (SIGKILL) is found by the EOF on its socket or by the reaper;
 * the reaper (imc-tcpd.c) frees its session's slot with pool_remove.
 *
 * Failure modes: a worker that cannot be started (-1, errno); a hand-off
 * to a worker that just died (-1: the caller tries another).  The table is
 * an array kept dense: removing moves the last entry into the hole.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "handoff.h"
#include "tcpd.h"

void pool_init(struct tcpd_pool *p)
{
  p->n = 0;
  p->idle = 0;
}

int pool_start(struct tcpd_pool *p, unsigned max, const char *path, int report_fd, long long now)
{
  struct tcpd_worker *w;
  int sv[2];
  pid_t pid;
  if (p->n >= max || p->n >= TCPD_MAXCHILD) { errno = EAGAIN; return -1; }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -1;
  if (worker_spawn(&pid, path, sv[1], report_fd) < 0) {
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    errno = e;
    return -1;
  }
  close(sv[1]);
  w = &p->w[p->n];
  w->pid = pid;
  w->fd = sv[0];
  w->state = WK_IDLE;
  w->uses = 0;
  w->idle_since = now;
  p->idle++;
  return (int)p->n++;
}

int pool_take(const struct tcpd_pool *p)
{
  long long best = -1;
  int i, found = -1;
  if (!p->idle) return -1;
  for (i = 0; i < (int)p->n; i++)
    if (p->w[i].state == WK_IDLE && p->w[i].idle_since >= best) { best = p->w[i].idle_since; found = i; }
  return found;
}

void pool_lost(struct tcpd_pool *p, int i)
{
  struct tcpd_worker *w = &p->w[i];
  if (w->fd >= 0) close(w->fd);
  w->fd = -1;
  if (w->state == WK_IDLE) { pool_remove(p, i); return; }
  w->state = WK_LAST;
}

int pool_hand(struct tcpd_pool *p, int i, int fd, const struct tcpd_conn *c, unsigned long maxuse)
{
  struct tcpd_worker *w = &p->w[i];
  char frame[HANDOFF_MAX];
  size_t len = tcpd_frame(frame, c);
  if (!len) { errno = EINVAL; return -1; }
  if (handoff_send(w->fd, frame, len, fd) < 0) return -1;
  p->idle--;
  w->state = WK_BUSY;
  if (++w->uses == maxuse) {
    close(w->fd);
    w->fd = -1;
    w->state = WK_LAST;
  }
  return 0;
}

int pool_read(struct tcpd_pool *p, int i, long long now)
{
  struct tcpd_worker *w = &p->w[i];
  char buf[16];
  ssize_t r = recv(w->fd, buf, sizeof buf, MSG_DONTWAIT);
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  if (r <= 0) { pool_lost(p, i); return -1; }
  if (r != sizeof HANDOFF_IDLE - 1 || memcmp(buf, HANDOFF_IDLE, (size_t)r) || w->state != WK_BUSY) return 0;
  w->state = WK_IDLE;
  w->idle_since = now;
  p->idle++;
  return 1;
}

int pool_find(const struct tcpd_pool *p, pid_t pid)
{
  unsigned i;
  for (i = 0; i < p->n; i++) if (p->w[i].pid == pid) return (int)i;
  return -1;
}

void pool_remove(struct tcpd_pool *p, int i)
{
  struct tcpd_worker *w = &p->w[i];
  if (w->fd >= 0) close(w->fd);
  if (w->state == WK_IDLE) p->idle--;
  p->w[i] = p->w[--p->n];
}

unsigned pool_expire(struct tcpd_pool *p, long long now, unsigned long secs)
{
  unsigned n = 0;
  int i;
  if (!secs) return 0;
  for (i = (int)p->n - 1; i >= 0; i--)
    if (p->w[i].state == WK_IDLE && now - p->w[i].idle_since >= (long long)secs * 1000) {
      pool_lost(p, i);
      n++;
    }
  return n;
}

int pool_next_expiry(const struct tcpd_pool *p, long long now, unsigned long secs)
{
  long long first = -1;
  unsigned i;
  if (!secs || !p->idle) return -1;
  for (i = 0; i < p->n; i++)
    if (p->w[i].state == WK_IDLE && (first < 0 || p->w[i].idle_since < first)) first = p->w[i].idle_since;
  if (first < 0) return -1;
  first += (long long)secs * 1000 - now;
  return first <= 0 ? 0 : first > 3600000 ? 3600000 : (int)first;
}
