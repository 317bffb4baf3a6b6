/*
 * send_remote.c -- imc-send's remote deliveries.  Recipients are grouped
 * by destination (route_key: the domain, or the route or smart host that
 * several domains share), so that one imc-remote carries several messages
 * over one connection.  An imc-remote is a worker (send_runs.c): after a
 * batch it keeps its connection and waits for the next batch for its
 * destination, which it gets before any new imc-remote is started; it is
 * closed after control/connectioncache seconds idle (0: at once).  At
 * most control/maxoutbound workers in all and control/maxperhost per
 * destination, idle ones included; when the limit in all keeps a
 * destination waiting, an idle worker of another destination is closed to
 * make room.  A destination whose batch deferred every recipient is down:
 * its worker is closed, and it is retried on the control/retry schedule as
 * a whole, not once per message.  control/transfermode none or inbound
 * holds remote deliveries back (their lifetimes keep running).
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
  unsigned workers;             /* imc-remote processes, busy, idle or closing */
  unsigned long down_until;     /* 0: may be tried */
  unsigned failures;            /* runs in a row that deferred everything */
  int listed;                   /* on the active list */
  struct dest *hnext, *anext;
};

static struct dest *dests[DEST_HASH];
static struct dest *active;     /* destinations with ready jobs */
static unsigned workers;
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

/* an address field of a job line: ADDRESS, or "<ADDRESS> PARAMS" with the
   DSN parameters to pass on (docs/INTERNALS.md section 8) */
static int job_addr(stralloc *in, const stralloc *addr, const struct dsn_params *p, int mail)
{
  size_t at;
  if (!p->ret && !p->envid && !p->notify && !p->orcpt) return stralloc_cat(in, addr) ? 0 : -1;
  if (!stralloc_append(in, "<") || !stralloc_cat(in, addr) || !stralloc_cats(in, "> ")) return -1;
  at = in->len;
  if (dsn_pack(in, p, mail) < 0) return -1;
  if (in->len == at) in->len -= 1;
  return 0;
}

/* one line per message: FD MSGLEN PRIORITY[,smtputf8] SENDER RECIPIENT... */
static int job_lines(const struct job *jobs, unsigned long n, stralloc *in)
{
  unsigned long k, line = 0;
  struct dsn_params p;
  for (k = 0; k < n; k++) {
    const struct msg *m = jobs[k].m;
    int head = job_line_head(in, jobs, k, &line);
    msg_dsn_mail(m, &p);
    if (head < 0 || (head && (!stralloc_append(in, "\t") || !stralloc_cats(in, prio_name(m->prio))
                              || (m->smtputf8 && !stralloc_cats(in, ",smtputf8"))
                              || !stralloc_append(in, "\t") || job_addr(in, &m->sender, &p, 1) < 0))) return -1;
    msg_dsn_rcpt(m, jobs[k].i, &p);
    if (!stralloc_append(in, "\t") || job_addr(in, &m->q.r[jobs[k].i].address, &p, 0) < 0) return -1;
  }
  return n && !stralloc_append(in, "\n") ? -1 : 0;
}

/* a batch for d has ended: a destination whose batch deferred every recipient is down */
static void dest_batch(struct run *run, unsigned long now)
{
  struct dest *d = run->owner;
  if (run->ok || !run->tempfail) { d->failures = 0; d->down_until = 0; return; }
  d->failures++;
  d->down_until = now + config_retry_delay(&cfg, d->failures);
  if (run->state == RUN_IDLE) run_close(run);      /* nothing got through: no connection to keep */
}

/* an imc-remote of d has ended (a batch it left unfinished counts as above) */
static void dest_end(struct run *run, int code, unsigned long now)
{
  struct dest *d = run->owner;
  (void)code;
  if (run->njobs) dest_batch(run, now);
  d->workers--;
  workers--;
}

/* a batch of d's ready jobs to run: 0 given (or failed), -1 not (back in the queue) */
static int dest_give(struct dest *d, struct run *run, unsigned long now)
{
  stralloc in = {0};
  struct job *jobs;
  unsigned long n = jobq_take(&d->ready, LOCAL_BATCH, &jobs);
  int r = 0;
  if (!n) { free(jobs); return 0; }
  if (jobs_ready(jobs, n) < 0 || job_lines(jobs, n, &in) < 0)
    jobs_fail(jobs, n, "4.3.0 unable to open the queue file", now);
  else if (run_batch(run, &in, jobs, n, now) < 0) { jobq_untake(&d->ready, jobs, n); r = -1; }
  stralloc_free(&in);
  return r;
}

/* a new imc-remote for d, with a batch: 0, -1 none could be started */
static int dest_start(struct dest *d, unsigned long now)
{
  char *argv[] = { "imc-remote", d->domain.s, 0 };
  struct run *run = run_worker("imc-remote", argv, dest_end, dest_batch, d, cfg.connectioncache);
  struct job *jobs;
  unsigned long n;
  if (run) {
    d->workers++;
    workers++;
    if (dest_give(d, run, now) < 0) run_close(run);
    return 0;
  }
  if ((n = jobq_take(&d->ready, LOCAL_BATCH, &jobs)) != 0) jobs_fail(jobs, n, "4.3.0 unable to run imc-remote", now);
  else free(jobs);
  return -1;
}

/* d's ready jobs to its idle workers */
static void dest_reuse(struct dest *d, unsigned long now)
{
  struct run *run;
  while (jobq_len(&d->ready) && (run = run_idle(d)) != 0)
    if (dest_give(d, run, now) < 0) run_close(run);
}

/* new workers for d within the limits; at maxoutbound an idle worker of another
   destination is closed, and d waits for its end */
static void dest_grow(struct dest *d, unsigned long now)
{
  while (jobq_len(&d->ready) && d->workers < cfg.maxperhost && !runs_full()) {
    if (workers >= cfg.maxoutbound) {
      struct run *other = run_idle_other("imc-remote", d);
      if (other) run_close(other);
      return;
    }
    if (dest_start(d, now) < 0) return;
  }
}

void remote_dispatch(unsigned long now)
{
  struct dest **p, *d;
  for (d = active; d; d = d->anext) dest_reuse(d, now);
  for (p = &active; *p; ) {
    d = *p;
    dest_grow(d, now);
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
