/*
 * send_jobs.c -- imc-send's jobs, local and remote alike: queues of
 * (message, recipient) jobs, the batches taken from them, the queue file
 * each job delivers and the job lines' heads (docs/INTERNALS.md sections
 * 5 and 8), and settling the messages of jobs that have their results.
 * The processes that deliver them are send_runs.c's.
 * Layer 3 of imc-send (send.h): it calls the scheduler, the state and the
 * table below it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "send.h"

/* ---- job queues */

int jobq_push(struct jobq *q, struct msg *m, unsigned long i)
{
  if (q->head && q->head == q->n) q->head = q->n = 0;
  if (q->head > q->cap / 2) {                     /* keep the queue from creeping */
    memmove(q->v, q->v + q->head, (q->n - q->head) * sizeof *q->v);
    q->n -= q->head;
    q->head = 0;
  }
  if (q->n == q->cap) {
    unsigned long nc = q->cap ? q->cap * 2 : 64;
    struct job *v = realloc(q->v, nc * sizeof *v);
    if (!v) return -1;
    q->v = v;
    q->cap = nc;
  }
  q->v[q->n].m = m;
  q->v[q->n].i = i;
  q->n++;
  m->busy[i] = 1;
  m->inflight++;
  return 0;
}

unsigned long jobq_len(const struct jobq *q) { return q->n - q->head; }

static int job_copy(const struct job *j);

unsigned long jobq_take(struct jobq *q, unsigned long maxmsgs, struct job **out)
{
  unsigned long n = 0, msgs = 0, lines = 0;
  struct msg *last = 0;
  while (q->head + n < q->n && n < MAXPAIRS) {
    const struct job *j = &q->v[q->head + n];
    if (j->m != last && ++msgs > maxmsgs) break;
    if ((!n || !jobs_same_file(j - 1, j)) && ++lines > JOBCHAN_MAXFILES) break;
    last = j->m;
    n++;
  }
  *out = malloc((n ? n : 1) * sizeof **out);
  if (!*out) return 0;
  memcpy(*out, q->v + q->head, n * sizeof **out);
  q->head += n;
  return n;
}

/* right after jobq_take (no push between): the jobs are at the head again */
void jobq_untake(struct jobq *q, struct job *jobs, unsigned long n)
{
  q->head -= n;
  free(jobs);
}

/* ---- settling */

/* the distinct messages of jobs [from, done) that have no job in [done, n)
   (none still waiting for its report), each settled once; collected first,
   as settling may remove a message */
void jobs_settle(struct job *jobs, unsigned long from, unsigned long done, unsigned long n,
                 unsigned long now)
{
  unsigned long k, j, nm = 0;
  struct msg **ms = malloc((done > from ? done - from : 1) * sizeof *ms);
  if (!ms) return;
  for (k = from; k < done; k++) {
    for (j = 0; j < nm && ms[j] != jobs[k].m; j++) ;
    if (j < nm) continue;
    for (j = done; j < n && jobs[j].m != jobs[k].m; j++) ;
    if (j == n) ms[nm++] = jobs[k].m;
  }
  for (j = 0; j < nm; j++) msg_settle(ms[j], now);
  free(ms);
}

void jobs_fail(struct job *jobs, unsigned long n, const char *why, unsigned long now)
{
  unsigned long k;
  for (k = 0; k < n; k++) {
    jobs[k].m->busy[jobs[k].i] = 0;
    jobs[k].m->inflight--;
    rcpt_result(jobs[k].m, jobs[k].i, 'Z', why, now);
  }
  jobs_settle(jobs, 0, n, n, now);
  free(jobs);
}

/* ---- the files */

/* the file a job delivers: its message's converted copy for the recipient's profile, or the original */
static int job_copy(const struct job *j)
{
  return j->m->rcv && j->m->rcv[j->i] ? (int)j->m->rcv[j->i] - 1 : -1;
}

int job_file(const struct job *j, int *fd, unsigned long long *len)
{
  int c = job_copy(j);
  if (c < 0) { *fd = j->m->fd; *len = j->m->msglen; }
  else { *fd = j->m->cv[c].fd; *len = j->m->cv[c].len; }
  return *fd < 0 ? -1 : 0;
}

int jobs_same_file(const struct job *a, const struct job *b)
{
  return a->m == b->m && job_copy(a) == job_copy(b);
}

int job_line_head(stralloc *in, const struct job *jobs, unsigned long k, unsigned long *line)
{
  int fd;
  unsigned long long len;
  if (k && jobs_same_file(&jobs[k - 1], &jobs[k])) return 0;
  if (job_file(&jobs[k], &fd, &len) < 0) return -1;
  if (k && !stralloc_append(in, "\n")) return -1;
  return stralloc_catulong(in, JOBCHAN_FIRST + (*line)++) && stralloc_append(in, ":")
         && stralloc_cats(in, jobs[k].m->id) && stralloc_append(in, "\t")
         && stralloc_catulong(in, (unsigned long)len) ? 1 : -1;
}

/* every job's file open: 0, -1 if one cannot be opened */
int jobs_ready(struct job *jobs, unsigned long n)
{
  unsigned long k;
  for (k = 0; k < n; k++) {
    int c = job_copy(&jobs[k]);
    if (c < 0 ? msg_open(jobs[k].m) < 0 : conv_open(jobs[k].m, (unsigned)c) < 0) return -1;
  }
  return 0;
}

int jobs_files(struct job *jobs, unsigned long n, int *fds, size_t *nfds, size_t max)
{
  unsigned long k;
  *nfds = 0;
  for (k = 0; k < n; k++) {
    int c = job_copy(&jobs[k]), fd;
    unsigned long long len;
    if (k > 0 && jobs_same_file(&jobs[k - 1], &jobs[k])) continue;
    if (c < 0 ? msg_open(jobs[k].m) < 0 : conv_open(jobs[k].m, (unsigned)c) < 0) return -1;
    if (*nfds == max) return -1;
    job_file(&jobs[k], &fd, &len);
    fds[(*nfds)++] = fd;
  }
  return 0;
}

void jobs_close(struct job *jobs, unsigned long n)
{
  unsigned long k;
  for (k = 0; k < n; k++) {
    struct msg *m = jobs[k].m;
    unsigned c;
    if (m->fd >= 0) { close(m->fd); m->fd = -1; }
    for (c = 0; c < m->ncv; c++)
      if (m->cv[c].fd >= 0) { close(m->cv[c].fd); m->cv[c].fd = -1; }
  }
}

