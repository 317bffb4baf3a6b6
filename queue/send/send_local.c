/*
 * send_local.c -- imc-send's local deliveries: due recipients go on one
 * ready queue; up to control/maxlocal imc-local workers (send_runs.c) each
 * take batches of up to LOCAL_BATCH messages from it (one message a batch
 * when the queue is quiet, big batches under load, so that the directory
 * fsync is shared).  A worker waits for its next batch and is closed after
 * LOCAL_IDLE seconds without one.  Job lines: docs/INTERNALS.md section 5.
 */
#include <stdlib.h>
#include "diag.h"
#include "send.h"

static struct jobq ready;
static unsigned workers;        /* imc-local processes, busy, idle or closing */

void local_ready(struct msg *m, unsigned long i)
{
  jobq_push(&ready, m, i);     /* on ENOMEM it stays pending for its next wake-up */
}

/* one line per message: FD MSGLEN SENDER (MAILBOX RECIPIENT)... */
static int job_lines(const struct job *jobs, unsigned long n, stralloc *in)
{
  unsigned long k, line = 0;
  for (k = 0; k < n; k++) {
    const struct msg *m = jobs[k].m;
    const struct qinfo_rcpt *r = &m->q.r[jobs[k].i];
    int head = job_line_head(in, jobs, k, &line);
    if (head < 0 || (head && (!stralloc_append(in, "\t") || !stralloc_cat(in, &m->sender)))) return -1;
    if (!stralloc_append(in, "\t") || !stralloc_cat(in, &r->target) || !stralloc_append(in, "\t")
        || !stralloc_cat(in, &r->address)) return -1;
  }
  return n && !stralloc_append(in, "\n") ? -1 : 0;
}

static void local_end(struct run *run, int code, unsigned long now)
{
  (void)run; (void)code; (void)now;
  workers--;
}

/* a batch from the ready queue to run: 0 given (or failed), -1 not (back in the queue) */
static int local_give(struct run *run, unsigned long now)
{
  stralloc in = {0};
  struct job *jobs;
  unsigned long n = jobq_take(&ready, LOCAL_BATCH, &jobs);
  int r = 0;
  if (!n) { free(jobs); return 0; }
  if (jobs_ready(jobs, n) < 0 || job_lines(jobs, n, &in) < 0)
    jobs_fail(jobs, n, "4.3.0 unable to open the queue file", now);
  else if (run_batch(run, &in, jobs, n, now) < 0) { jobq_untake(&ready, jobs, n); r = -1; }
  stralloc_free(&in);
  return r;
}

/* an idle imc-local, started when there are fewer than control/maxlocal: 0 when none */
static struct run *local_worker(void)
{
  static char *argv[] = { "imc-local", 0 };
  struct run *run = run_idle(&ready);
  if (run || workers >= cfg.maxlocal || runs_full()) return run;
  if ((run = run_worker("imc-local", argv, local_end, 0, &ready, LOCAL_IDLE)) != 0) workers++;
  return run;
}

void local_dispatch(unsigned long now)
{
  while (jobq_len(&ready)) {
    struct run *run = local_worker();
    if (!run) {
      struct job *jobs;
      unsigned long n;
      if (workers) return;                       /* the ones running take the rest */
      if ((n = jobq_take(&ready, LOCAL_BATCH, &jobs)) != 0) jobs_fail(jobs, n, "4.3.0 unable to run imc-local", now);
      else free(jobs);
      return;
    }
    if (local_give(run, now) < 0) { run_close(run); return; }
  }
}
