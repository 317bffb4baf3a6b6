/*
 * send_remote.c -- imc-send's remote deliveries.  Recipients are grouped
 * by destination (route_key: the domain, or the route or smart host that
 * several domains share), so that one imc-remote run carries several
 * messages over one connection.  At most control/maxoutbound runs in all
 * and control/maxperhost per destination.  A destination whose run
 * deferred every recipient is down: it is retried on the control/retry
 * schedule as a whole, not once per message.  control/transfermode none or
 * inbound holds remote deliveries back (their lifetimes keep running).
 * Job lines: docs/INTERNALS.md section 8.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "diag.h"
#include "send.h"
#include "route.h"
#include "rules.h"

#define DEST_HASH 4096

struct dest {
  stralloc key;                 /* route_key() */
  stralloc domain;              /* passed to imc-remote */
  struct jobq ready;
  unsigned running;
  unsigned long down_until;     /* 0: may be tried */
  unsigned failures;            /* runs in a row that deferred everything */
  int listed;                   /* on the active list */
  struct dest *hnext, *anext;
};

static struct dest *dests[DEST_HASH];
static struct dest *active;     /* destinations with ready jobs */
static unsigned running;
static struct routes routes;
static int mode = XFER_BOTH;

int remote_reload(void)
{
  struct routes fresh;
  int m, r = 0;
  memset(&fresh, 0, sizeof fresh);
  if (route_load(&fresh, config_warn) != 0) {
    route_free(&fresh);
    warn("control/routes or smarthost have errors: keeping the old ones");
    r = -1;
  } else {
    route_free(&routes);
    routes = fresh;
  }
  if (transfermode_load(&m, config_warn) != 0) r = -1;
  else mode = m;
  return r;
}

int remote_allowed(void) { return mode == XFER_BOTH || mode == XFER_OUTBOUND; }

static unsigned hash_key(const char *s, size_t n)
{
  unsigned h = 5381;
  while (n--) h = h * 33 + (unsigned char)*s++;
  return h % DEST_HASH;
}

static struct dest *dest_get(const stralloc *target)
{
  static stralloc key;
  struct dest *d;
  unsigned h;
  if (route_key(&routes, target->s, &key) < 0) return 0;     /* target is NUL-terminated */
  h = hash_key(key.s, key.len);
  for (d = dests[h]; d; d = d->hnext)
    if (d->key.len == key.len && !memcmp(d->key.s, key.s, key.len)) return d;
  if (!(d = calloc(1, sizeof *d))) return 0;
  if (!stralloc_copy(&d->key, &key) || !stralloc_copy(&d->domain, target) || !stralloc_0(&d->domain)) {
    free(d);
    return 0;
  }
  d->hnext = dests[h];
  dests[h] = d;
  return d;
}

/* queue recipient i if its destination may be tried now: 1 queued, 0 not now */
int remote_due(struct msg *m, unsigned long i, unsigned long now)
{
  struct qinfo_rcpt *r = &m->q.r[i];
  struct dest *d;
  if (!remote_allowed() || held_domain(r->target.s, r->target.len)) return 0;
  if (!(d = dest_get(&r->target))) return 0;
  if (d->down_until > now) {
    if (r->next < d->down_until) r->next = d->down_until;
    return 0;
  }
  if (jobq_push(&d->ready, m, i) < 0) return 0;
  if (!d->listed) { d->listed = 1; d->anext = active; active = d; }
  return 1;
}

static const char *prio_name(int p)
{
  return p == PRIO_URGENT ? "urgent" : p == PRIO_NONURGENT ? "nonurgent" : "normal";
}

/* one line per message: FD MSGLEN PRIORITY SENDER RECIPIENT... */
static int job_lines(const struct job *jobs, unsigned long n, stralloc *in)
{
  unsigned long k;
  for (k = 0; k < n; k++) {
    const struct msg *m = jobs[k].m;
    int head = job_line_head(in, jobs, k);
    if (head < 0 || (head && (!stralloc_append(in, "\t") || !stralloc_cats(in, prio_name(m->prio))
                              || !stralloc_append(in, "\t") || !stralloc_cat(in, &m->sender)))) return -1;
    if (!stralloc_append(in, "\t") || !stralloc_cat(in, &m->q.r[jobs[k].i].address)) return -1;
  }
  return n && !stralloc_append(in, "\n") ? -1 : 0;
}

/* a run for d has ended: a destination whose run deferred every recipient is down */
static void dest_result(struct run *run, int code, unsigned long now)
{
  struct dest *d = run->owner;
  (void)code;
  d->running--;
  running--;
  if (run->ok || !run->tempfail) { d->failures = 0; d->down_until = 0; return; }
  d->failures++;
  d->down_until = now + config_retry_delay(&cfg, d->failures);
}

static void dest_start(struct dest *d, unsigned long now)
{
  char *argv[] = { "imc-remote", d->domain.s, 0 };
  stralloc in = {0};
  struct job *jobs;
  unsigned long n = jobq_take(&d->ready, LOCAL_BATCH, &jobs);
  if (!n) return;
  if (jobs_ready(jobs, n) < 0 || job_lines(jobs, n, &in) < 0)
    jobs_fail(jobs, n, "4.3.0 unable to open the queue file", now);
  else if (run_start("imc-remote", argv, &in, jobs, n, dest_result, d) < 0)
    jobs_fail(jobs, n, "4.3.0 unable to run imc-remote", now);
  else { d->running++; running++; }
  stralloc_free(&in);
}

void remote_dispatch(unsigned long now)
{
  struct dest **p = &active;
  while (*p && running < cfg.maxoutbound && !runs_full()) {
    struct dest *d = *p;
    while (jobq_len(&d->ready) && d->running < cfg.maxperhost && running < cfg.maxoutbound && !runs_full())
      dest_start(d, now);
    if (!jobq_len(&d->ready)) { d->listed = 0; *p = d->anext; }
    else p = &d->anext;
  }
}

static int domain_matches(const struct qinfo_rcpt *r, const char *domain)
{
  return !domain || (r->target.len == strlen(domain) && !strncasecmp(r->target.s, domain, r->target.len));
}

struct retry_ctx { const char *domain; unsigned long now; };

static void retry_msg(struct msg *m, void *vctx)
{
  struct retry_ctx *c = vctx;
  unsigned long i;
  int any = 0;
  for (i = 0; i < m->q.n; i++) {
    struct qinfo_rcpt *r = &m->q.r[i];
    if (r->state == QI_PENDING && r->kind == QI_REMOTE && !m->busy[i] && domain_matches(r, c->domain)) {
      r->next = c->now;
      any = 1;
    }
  }
  if (any) heap_set(m, c->now);
}

/* the destination of a domain brought up again, or every one when domain is 0 */
void remote_dest_up(const char *domain)
{
  stralloc t = {0};
  struct dest *d;
  unsigned h;
  if (domain) {
    if (stralloc_copys(&t, domain) && stralloc_0(&t)) {
      t.len--;                          /* dest_get wants target->s NUL-terminated */
      if ((d = dest_get(&t)) != 0) { d->down_until = 0; d->failures = 0; }
    }
    stralloc_free(&t);
    return;
  }
  for (h = 0; h < DEST_HASH; h++)
    for (d = dests[h]; d; d = d->hnext) { d->down_until = 0; d->failures = 0; }
}

void remote_retry(const char *domain, unsigned long now)
{
  struct retry_ctx c = { domain, now };
  remote_dest_up(domain);
  msg_foreach(retry_msg, &c);
}
