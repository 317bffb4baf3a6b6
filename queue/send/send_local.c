/*
 * send_local.c -- imc-send's local deliveries: due recipients go on one
 * ready queue; up to control/maxlocal imc-local runs at a time each take up
 * to LOCAL_BATCH messages from it (one run per message when the queue is
 * quiet, big batches under load, so the fork, exec and directory fsync are
 * shared).  Job lines: docs/INTERNALS.md section 5.
 */
#include <stdlib.h>
#include "diag.h"
#include "send.h"

static struct jobq ready;
static unsigned running;

void local_ready(struct msg *m, unsigned long i)
{
  jobq_push(&ready, m, i);     /* on ENOMEM it stays pending for its next wake-up */
}

/* one line per message: FD MSGLEN SENDER (MAILBOX RECIPIENT)... */
static int job_lines(const struct job *jobs, unsigned long n, stralloc *in)
{
  unsigned long k;
  for (k = 0; k < n; k++) {
    const struct msg *m = jobs[k].m;
    const struct qinfo_rcpt *r = &m->q.r[jobs[k].i];
    int head = job_line_head(in, jobs, k);
    if (head < 0 || (head && (!stralloc_append(in, "\t") || !stralloc_cat(in, &m->sender)))) return -1;
    if (!stralloc_append(in, "\t") || !stralloc_cat(in, &r->target) || !stralloc_append(in, "\t")
        || !stralloc_cat(in, &r->address)) return -1;
  }
  return n && !stralloc_append(in, "\n") ? -1 : 0;
}

static void local_done(struct run *run, int code, unsigned long now)
{
  (void)run; (void)code; (void)now;
  running--;
}

void local_dispatch(unsigned long now)
{
  static char *argv[] = { "imc-local", 0 };
  while (running < cfg.maxlocal && !runs_full() && jobq_len(&ready)) {
    stralloc in = {0};
    struct job *jobs;
    unsigned long n = jobq_take(&ready, LOCAL_BATCH, &jobs);
    if (!n) return;
    if (jobs_ready(jobs, n) < 0 || job_lines(jobs, n, &in) < 0) {
      jobs_fail(jobs, n, "4.3.0 unable to open the queue file", now);
    } else if (run_start("imc-local", argv, &in, jobs, n, local_done, 0) < 0) {
      jobs_fail(jobs, n, "4.3.0 unable to run imc-local", now);
      stralloc_free(&in);
      return;
    } else running++;
    stralloc_free(&in);
  }
}
