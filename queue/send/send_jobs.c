/*
 * send_jobs.c -- imc-send's deliverer runs, local and remote alike: queues
 * of (message, recipient) jobs, starting a deliverer with its jobs on a
 * memfd (fd 0), the queue files passed open, and its reports read from a
 * pipe (fd 1); when a run ends, every job gets its report (or a temporary
 * failure when the deliverer died without one) and each message involved
 * is settled once, then the stage that started the run hears of its end
 * (its callback).  Protocols: docs/INTERNALS.md sections 5 and 8.
 * Layer 3 of imc-send (send.h): it calls the scheduler, the state and the
 * table below it, and the stages only through their callbacks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
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

/* the distinct messages of jobs [from, done) that have no job in [done, n)
   (none still waiting for its report), each settled once; collected first,
   as settling may remove a message */
static void settle_jobs(struct job *jobs, unsigned long from, unsigned long done, unsigned long n,
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
  settle_jobs(jobs, 0, n, n, now);
  free(jobs);
}

/* ---- runs */

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

/* where a job line starts (the first job, or one for another file than the job
   before): the LF ending the previous line, then "FD<TAB>MSGLEN": 1 it started
   one, 0 the job continues the line, -1 out of memory or the file not open */
int job_line_head(stralloc *in, const struct job *jobs, unsigned long k)
{
  int fd;
  unsigned long long len;
  if (k && jobs_same_file(&jobs[k - 1], &jobs[k])) return 0;
  if (job_file(&jobs[k], &fd, &len) < 0) return -1;
  if (k && !stralloc_append(in, "\n")) return -1;
  return stralloc_catulong(in, (unsigned long)fd) && stralloc_append(in, "\t")
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

/* every job's file open, and the FD list for the child; -1 if one cannot be opened */
static int jobs_open(struct job *jobs, unsigned long n, struct spawn_fd *fds, size_t *nfds)
{
  unsigned long k;
  for (k = 0; k < n; k++) {
    int c = job_copy(&jobs[k]), fd;
    unsigned long long len;
    if (k > 0 && jobs_same_file(&jobs[k - 1], &jobs[k])) continue;
    if (c < 0 ? msg_open(jobs[k].m) < 0 : conv_open(jobs[k].m, (unsigned)c) < 0) return -1;
    job_file(&jobs[k], &fd, &len);
    fds[*nfds].from = fds[*nfds].to = fd;
    (*nfds)++;
  }
  return 0;
}

/* imc-send holds a queue file open only while it starts a deliverer for it */
static void jobs_close(struct job *jobs, unsigned long n)
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

/* prog started with fds, the slot whose .to is pipe_to getting the write end of
   a new pipe, whose read end becomes the run's reports; run is the stage's part
   (jobs, callback, owner), completed and added to the runs: 0, -1 */
static int run_spawn(const char *prog, char **argv, struct spawn_fd *fds, size_t nfds, int pipe_to,
                     const struct run *stage)
{
  stralloc path = {0};
  struct run run = *stage;
  int p[2] = { -1, -1 }, r = -1;
  size_t k;
  if (nruns == MAXRUNS || bin_path(&path, prog) < 0 || pipe2(p, O_CLOEXEC) < 0) goto done;
  for (k = 0; k < nfds; k++) if (fds[k].to == pipe_to) fds[k].from = p[1];
  if (spawn_prog(&run.pid, path.s, argv, fds, nfds) < 0) goto done;
  run.out = p[0];
  p[0] = -1;
  fd_nonblock(run.out);
  run.prog = prog;
  runs[nruns++] = run;
  r = 0;
done:
  if (p[0] >= 0) close(p[0]);
  if (p[1] >= 0) close(p[1]);
  stralloc_free(&path);
  return r;
}

int run_start(const char *prog, char **argv, const stralloc *in, struct job *jobs, unsigned long n,
              run_done_fn *finished, void *owner)
{
  struct spawn_fd *fds = malloc((n + 2) * sizeof *fds);
  struct run stage = {0};
  size_t nfds = 2;
  int memfd = -1, r = -1;
  stage.jobs = jobs;
  stage.njobs = n;
  stage.finished = finished;
  stage.owner = owner;
  if (!fds || jobs_open(jobs, n, fds, &nfds) < 0) goto done;
  if ((memfd = memfd_text(prog, in->s, in->len)) < 0) goto done;
  fds[0].from = memfd; fds[0].to = 0;
  fds[1].from = -1; fds[1].to = 1;
  r = run_spawn(prog, argv, fds, nfds, 1, &stage);
done:
  if (r < 0) warnsys("unable to run ", prog);
  jobs_close(jobs, n);            /* the deliverer has its own copies now */
  if (memfd >= 0) close(memfd);
  free(fds);
  return r;
}

/* a filter with fd 0 in and fd 1 out; fd 3 a pipe that reaches EOF when it exits */
int run_start_filter(const char *prog, char **argv, int in, int out, run_done_fn *finished, void *owner,
                     unsigned long arg)
{
  struct spawn_fd fds[3] = { { in, 0 }, { out, 1 }, { -1, 3 } };
  struct run stage = {0};
  stage.finished = finished;
  stage.owner = owner;
  stage.arg = arg;
  return run_spawn(prog, argv, fds, 3, 3, &stage);
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
char report_line(const stralloc *rep, size_t *pos, stralloc *text)
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

/* one job's report (c 0: none came) */
static void job_report(struct run *run, char c, const char *text, unsigned long now)
{
  struct job *j = &run->jobs[run->done++];
  j->m->busy[j->i] = 0;
  j->m->inflight--;
  if (c == 'K' || c == 'D') run->ok++; else run->tempfail++;
  rcpt_result(j->m, j->i, c ? c : 'Z', c ? text : "4.3.0 the deliverer did not report", now);
}

/* the reports that arrived; at EOF every job left without one is a temporary failure */
static void run_progress(struct run *run, int eof, unsigned long now)
{
  stralloc text = {0};
  unsigned long from = run->done;
  while (run->done < run->njobs) {
    char c = 0;
    if (!run->gone) {
      int line = run->pos < run->rep.len && memchr(run->rep.s + run->pos, '\n', run->rep.len - run->pos);
      if (line && !(c = report_line(&run->rep, &run->pos, &text))) run->gone = 1;   /* not a report */
    }
    if (!c && !eof) break;
    job_report(run, c, text.s, now);
  }
  settle_jobs(run->jobs, from, run->done, run->njobs, now);   /* a delivered message leaves at once */
  stralloc_free(&text);
}

/* every job gets its result, then the stage hears of the end */
static void run_finish(struct run *run, unsigned long now)
{
  int code = wait_exitcode(run->pid);
  close(run->out);
  if (run->jobs) {
    if (code != 0) warn(run->prog, " exited with an error");
    run_progress(run, 1, now);
  }
  run->finished(run, code, now);
  stralloc_free(&run->rep);
  free(run->jobs);
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

void runs_events(struct pollfd *fds, unsigned n, unsigned long now)
{
  unsigned k, f;
  for (f = 0; f < n; f++) {
    if (!fds[f].revents) continue;
    for (k = 0; k < nruns && runs[k].out != fds[f].fd; k++) ;
    if (k == nruns) continue;
    if (!read_reports(&runs[k])) {
      if (runs[k].jobs) run_progress(&runs[k], 0, now);
      continue;
    }
    {
      struct run done = runs[k];
      runs[k] = runs[--nruns];
      memset(&runs[nruns], 0, sizeof runs[nruns]);
      run_finish(&done, now);
    }
  }
}
