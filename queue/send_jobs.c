/*
 * send_jobs.c -- imc-send's deliverer runs, local and remote alike: queues
 * of (message, recipient) jobs, starting a deliverer with its jobs on a
 * memfd (fd 0), the queue files passed open, and its reports read from a
 * pipe (fd 1); when a run ends, every job gets its report (or a temporary
 * failure when the deliverer died without one) and each message involved
 * is settled once.  Protocols: docs/INTERNALS.md sections 5 and 8.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "binpath.h"
#include "child.h"
#include "diag.h"
#include "fileio.h"
#include "send.h"

#define MAXRUNS 256

static struct run runs[MAXRUNS];
static unsigned nruns;

int runs_active(void) { return (int)nruns; }
int runs_full(void) { return nruns == MAXRUNS; }

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

/* consecutive jobs, at most maxmsgs messages and MAXPAIRS recipients, into a new array */
unsigned long jobq_take(struct jobq *q, unsigned long maxmsgs, struct job **out)
{
  unsigned long n = 0, msgs = 0;
  struct msg *last = 0;
  while (q->head + n < q->n && n < MAXPAIRS) {
    struct msg *m = q->v[q->head + n].m;
    if (m != last && ++msgs > maxmsgs) break;
    last = m;
    n++;
  }
  *out = malloc((n ? n : 1) * sizeof **out);
  if (!*out) return 0;
  memcpy(*out, q->v + q->head, n * sizeof **out);
  q->head += n;
  return n;
}

/* ---- settling */

/* the distinct messages of a set of jobs, each settled once */
static void settle_all(struct job *jobs, unsigned long n, unsigned long now)
{
  unsigned long k, j, nm = 0;
  struct msg **ms = malloc((n ? n : 1) * sizeof *ms);
  if (!ms) return;
  for (k = 0; k < n; k++) {
    for (j = 0; j < nm && ms[j] != jobs[k].m; j++) ;
    if (j == nm) ms[nm++] = jobs[k].m;
  }
  for (j = 0; j < nm; j++) msg_settle(ms[j], now);
  free(ms);
}

void jobs_fail(struct job *jobs, unsigned long n, const char *why)
{
  unsigned long now = (unsigned long)time(0), k;
  for (k = 0; k < n; k++) {
    jobs[k].m->busy[jobs[k].i] = 0;
    jobs[k].m->inflight--;
    rcpt_result(jobs[k].m, jobs[k].i, 'Z', why, now);
  }
  settle_all(jobs, n, now);
  free(jobs);
}

/* ---- runs */

/* every message's queue file open, and the FD list for the child; -1 if one cannot be opened */
int jobs_open(struct job *jobs, unsigned long n, struct spawn_fd *fds, size_t *nfds)
{
  unsigned long k;
  for (k = 0; k < n; k++) {
    struct msg *m = jobs[k].m;
    if (msg_open(m) < 0) return -1;
    if (k == 0 || jobs[k - 1].m != m) {
      fds[*nfds].from = fds[*nfds].to = m->fd;
      (*nfds)++;
    }
  }
  return 0;
}

/* imc-send holds a queue file open only while it starts a deliverer for it */
static void jobs_close(struct job *jobs, unsigned long n)
{
  unsigned long k;
  for (k = 0; k < n; k++)
    if (jobs[k].m->fd >= 0) { close(jobs[k].m->fd); jobs[k].m->fd = -1; }
}

int run_start(const char *prog, char **argv, const stralloc *in, struct job *jobs, unsigned long n,
              struct dest *d)
{
  stralloc path = {0};
  struct spawn_fd *fds = malloc((n + 2) * sizeof *fds);
  size_t nfds = 2;
  int p[2] = { -1, -1 }, memfd = -1, r = -1;
  struct run *run = &runs[nruns];
  if (!fds || nruns == MAXRUNS || bin_path(&path, prog) < 0) goto done;
  if (jobs_open(jobs, n, fds, &nfds) < 0) goto done;
  if ((memfd = memfd_text(prog, in->s, in->len)) < 0 || pipe2(p, O_CLOEXEC) < 0) goto done;
  fds[0].from = memfd; fds[0].to = 0;
  fds[1].from = p[1]; fds[1].to = 1;
  if (spawn_prog(&run->pid, path.s, argv, fds, nfds) < 0) goto done;
  run->out = p[0];
  p[0] = -1;
  fd_nonblock(run->out);
  run->rep.len = 0;
  run->jobs = jobs;
  run->njobs = n;
  run->dest = d;
  nruns++;
  r = 0;
done:
  if (r < 0) warnsys("unable to run ", prog);
  jobs_close(jobs, n);            /* the deliverer has its own copies now */
  if (memfd >= 0) close(memfd);
  if (p[0] >= 0) close(p[0]);
  if (p[1] >= 0) close(p[1]);
  free(fds);
  stralloc_free(&path);
  return r;
}

void runs_pollfds(struct pollfd *fds, unsigned *n, unsigned max)
{
  unsigned k;
  for (k = 0; k < nruns && *n < max; k++) {
    fds[*n].fd = runs[k].out;
    fds[*n].events = POLLIN;
    fds[*n].revents = 0;
    (*n)++;
  }
}

/* the next report line of a run: its code and text, or 0 when there is none */
static char report_line(const stralloc *rep, size_t *pos, stralloc *text)
{
  const char *s = rep->s + *pos, *nl;
  char code;
  if (*pos >= rep->len || !(nl = memchr(s, '\n', rep->len - *pos))) return 0;
  code = s[0];
  *pos = (size_t)(nl - rep->s) + 1;
  if (code != 'K' && code != 'Z' && code != 'D') return 0;
  if (!stralloc_copyb(text, s + 1, (size_t)(nl - s) - 1) || !stralloc_0(text)) return 0;
  return code;
}

static void run_finish(struct run *run)
{
  unsigned long now = (unsigned long)time(0), k, ok = 0, tempfail = 0;
  stralloc text = {0};
  size_t pos = 0;
  int gone = 0;
  if (wait_exitcode(run->pid) != 0) warn(run->dest ? "imc-remote" : "imc-local", " exited with an error");
  for (k = 0; k < run->njobs; k++) {
    struct job *j = &run->jobs[k];
    char c = gone ? 0 : report_line(&run->rep, &pos, &text);
    if (!c) gone = 1;
    j->m->busy[j->i] = 0;
    j->m->inflight--;
    if (c == 'K' || c == 'D') ok++; else tempfail++;
    rcpt_result(j->m, j->i, c ? c : 'Z', c ? text.s : "4.3.0 the deliverer did not report", now);
  }
  if (run->dest) dest_result(run->dest, ok, tempfail, now);
  else local_done();
  settle_all(run->jobs, run->njobs, now);
  stralloc_free(&text);
  stralloc_free(&run->rep);
  free(run->jobs);
  close(run->out);
}

/* read what a run wrote; 1 when it reached EOF */
static int read_reports(struct run *run)
{
  for (;;) {
    ssize_t r;
    if (!stralloc_readyplus(&run->rep, 4096)) return 0;
    r = read(run->out, run->rep.s + run->rep.len, 4096);
    if (r > 0) { run->rep.len += (size_t)r; continue; }
    if (r == 0) return 1;
    if (errno == EINTR) continue;
    return errno == EAGAIN ? 0 : 1;
  }
}

void runs_events(struct pollfd *fds, unsigned n)
{
  unsigned k, f;
  for (f = 0; f < n; f++) {
    if (!fds[f].revents) continue;
    for (k = 0; k < nruns && runs[k].out != fds[f].fd; k++) ;
    if (k == nruns || !read_reports(&runs[k])) continue;
    {
      struct run done = runs[k];
      runs[k] = runs[--nruns];
      memset(&runs[nruns], 0, sizeof runs[nruns]);
      run_finish(&done);
    }
  }
}
