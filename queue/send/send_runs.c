/*
 * send_runs.c -- the processes imc-send starts to deliver and convert.
 *
 * A worker (imc-remote, imc-local) is started once with a job channel on
 * fd 0 (lib/jobchan.h) and a pipe for its reports on fd 1, and then takes
 * batch after batch: each batch is one record on the channel, its job
 * lines in a memfd and its queue files passed open (imc-send closes its
 * own copies at once).  Its states: busy (a batch given, reports coming:
 * one line per recipient, then "."), idle (waiting for a batch; closed
 * after idle_limit seconds), closing (imc-send closed the channel: it
 * finishes its batch and exits).  A filter (imc-convert) runs once; only
 * its end is watched (a pipe that reaches EOF when it exits).
 *
 * Each report gives its job its result at once, and the messages whose
 * jobs have all reported are settled; at a batch's end the stage hears of
 * it (batch_done), and when the process ends every job of its batch left
 * without a report is a temporary failure, then the stage hears of the
 * end (finished).  A worker that writes anything but reports in order
 * and the batch's end line is closed; its unreported jobs fail the same
 * way.  Protocols: docs/INTERNALS.md sections 5, 8 and 12.
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

static struct run *runs[MAXRUNS];
static unsigned nruns;

int runs_active(void) { return (int)nruns; }
int runs_full(void) { return nruns == MAXRUNS; }

int runs_busy(void)
{
  unsigned k;
  int n = 0;
  for (k = 0; k < nruns; k++) n += runs[k]->state != RUN_IDLE;
  return n;
}

/* ---- starting */

/* prog started with fds, the slot whose .to is pipe_to getting the write end of
   a new pipe, whose read end becomes the run's reports; stage is the stage's
   part (callbacks, owner), completed and added to the runs: the run, or 0 */
static struct run *run_spawn(const char *prog, char **argv, struct spawn_fd *fds, size_t nfds, int pipe_to,
                             const struct run *stage)
{
  stralloc path = {0};
  struct run *run = 0;
  int p[2] = { -1, -1 };
  size_t k;
  if (nruns == MAXRUNS || bin_path(&path, prog) < 0 || pipe2(p, O_CLOEXEC) < 0) goto done;
  if (!(run = malloc(sizeof *run))) goto done;
  *run = *stage;
  for (k = 0; k < nfds; k++) if (fds[k].to == pipe_to) fds[k].from = p[1];
  if (spawn_prog(&run->pid, path.s, argv, fds, nfds) < 0) { free(run); run = 0; goto done; }
  run->out = p[0];
  p[0] = -1;
  fd_nonblock(run->out);
  run->prog = prog;
  runs[nruns++] = run;
done:
  if (p[0] >= 0) close(p[0]);
  if (p[1] >= 0) close(p[1]);
  stralloc_free(&path);
  return run;
}

struct run *run_worker(const char *prog, char **argv, run_done_fn *finished, batch_done_fn *batch_done,
                       void *owner, unsigned long idle_limit)
{
  struct spawn_fd fds[2] = { { -1, 0 }, { -1, 1 } };
  struct run stage = {0}, *run = 0;
  int theirs = -1;
  stage.state = RUN_IDLE;
  stage.finished = finished;
  stage.batch_done = batch_done;
  stage.owner = owner;
  stage.idle_limit = idle_limit;
  if (jobchan_pair(&stage.chan, &theirs) == 0) {
    fds[0].from = theirs;
    run = run_spawn(prog, argv, fds, 2, 1, &stage);
    close(theirs);
    if (!run) close(stage.chan);
  }
  if (!run) warnsys("unable to run ", prog);
  return run;
}

/* a filter with fd 0 in and fd 1 out; fd 3 a pipe that reaches EOF when it exits */
int run_start_filter(const char *prog, char **argv, int in, int out, run_done_fn *finished, void *owner,
                     unsigned long arg)
{
  struct spawn_fd fds[3] = { { in, 0 }, { out, 1 }, { -1, 3 } };
  struct run stage = {0};
  stage.state = RUN_CLOSING;
  stage.chan = -1;
  stage.finished = finished;
  stage.owner = owner;
  stage.arg = arg;
  return run_spawn(prog, argv, fds, 3, 3, &stage) ? 0 : -1;
}

/* ---- batches */

int run_batch(struct run *run, const stralloc *in, struct job *jobs, unsigned long n, unsigned long now)
{
  int files[JOBCHAN_MAXFILES], memfd = -1, r = -1;
  size_t nfiles;
  (void)now;
  if (run->state != RUN_IDLE || run->chan < 0) return -1;
  if (jobs_files(jobs, n, files, &nfiles, JOBCHAN_MAXFILES) == 0
      && (memfd = memfd_text(run->prog, in->s, in->len)) >= 0)
    r = jobchan_send(run->chan, memfd, files, nfiles);
  if (r < 0) warnsys("unable to pass jobs to ", run->prog);
  if (memfd >= 0) close(memfd);
  jobs_close(jobs, n);                 /* the deliverer has its own copies now */
  if (r < 0) return -1;
  run->jobs = jobs;
  run->njobs = n;
  run->done = run->ok = run->tempfail = 0;
  run->state = RUN_BUSY;
  run->batches++;
  return 0;
}

void run_close(struct run *run)
{
  if (run->chan >= 0) close(run->chan);
  run->chan = -1;
  run->state = RUN_CLOSING;
}

struct run *run_idle(const void *owner)
{
  unsigned k;
  for (k = 0; k < nruns; k++)
    if (runs[k]->state == RUN_IDLE && runs[k]->owner == owner) return runs[k];
  return 0;
}

struct run *run_idle_other(const char *prog, const void *owner)
{
  struct run *best = 0;
  unsigned k;
  for (k = 0; k < nruns; k++) {
    struct run *r = runs[k];
    if (r->state == RUN_IDLE && r->owner != owner && !strcmp(r->prog, prog)
        && (!best || r->idle_since < best->idle_since)) best = r;
  }
  return best;
}

void runs_close_all(void)
{
  unsigned k;
  for (k = 0; k < nruns; k++) if (runs[k]->chan >= 0) run_close(runs[k]);
}

void runs_expire(unsigned long now)
{
  unsigned k;
  for (k = 0; k < nruns; k++)
    if (runs[k]->state == RUN_IDLE && now >= runs[k]->idle_since + runs[k]->idle_limit) run_close(runs[k]);
}

unsigned long runs_wake(void)
{
  unsigned long t = TIME_NEVER;
  unsigned k;
  for (k = 0; k < nruns; k++)
    if (runs[k]->state == RUN_IDLE && runs[k]->idle_since + runs[k]->idle_limit < t)
      t = runs[k]->idle_since + runs[k]->idle_limit;
  return t;
}

/* ---- reports */

void runs_pollfds(struct pollfd *fds, unsigned *n, unsigned max)
{
  unsigned k;
  for (k = 0; k < nruns && *n < max; k++) {
    fds[*n].fd = runs[k]->out;
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
  if (code != 'K' && code != 'R' && code != 'Z' && code != 'D') return 0;
  if (!stralloc_copyb(text, s + 1, (size_t)(nl - s) - 1) || !stralloc_0(text)) return 0;
  return code;
}

/* one job's report (c 0: none came) */
static void job_report(struct run *run, char c, const char *text, unsigned long now)
{
  struct job *j = &run->jobs[run->done++];
  j->m->busy[j->i] = 0;
  j->m->inflight--;
  if (c == 'K' || c == 'R' || c == 'D') run->ok++; else run->tempfail++;
  rcpt_result(j->m, j->i, c ? c : 'Z', c ? text : "4.3.0 the deliverer did not report", now);
}

/* the line at pos is the batch's end line */
static int end_line(const struct run *run)
{
  size_t n = sizeof JOBCHAN_END - 1;
  return run->rep.len - run->pos >= n && !memcmp(run->rep.s + run->pos, JOBCHAN_END, n);
}

/* the batch's end: its jobs freed, the worker idle (unless closing), the stage told */
static void batch_end(struct run *run, unsigned long now)
{
  run->pos += sizeof JOBCHAN_END - 1;
  if (run->state == RUN_BUSY) run->state = RUN_IDLE;
  run->idle_since = now;
  if (run->batch_done) run->batch_done(run, now);
  free(run->jobs);
  run->jobs = 0;
  run->njobs = 0;
  if (run->state == RUN_IDLE && !run->idle_limit) run_close(run);
}

/* the complete lines that arrived: reports in order, then the end line */
static int read_lines(struct run *run, stralloc *text, unsigned long now)
{
  while (!run->gone && run->pos < run->rep.len && memchr(run->rep.s + run->pos, '\n', run->rep.len - run->pos)) {
    char c;
    if (run->jobs && run->done == run->njobs && end_line(run)) return 1;
    if (!run->jobs || run->done == run->njobs || !(c = report_line(&run->rep, &run->pos, text))) {
      run->gone = 1;               /* not a report: the rest get none */
      break;
    }
    job_report(run, c, text->s, now);
  }
  return 0;
}

/* the reports that arrived; at EOF every job left without one is a temporary failure */
static void run_progress(struct run *run, int eof, unsigned long now)
{
  stralloc text = {0};
  unsigned long from = run->done;
  int ended = read_lines(run, &text, now);
  if (eof) while (run->jobs && run->done < run->njobs) job_report(run, 0, 0, now);
  if (run->jobs) jobs_settle(run->jobs, from, run->done, run->njobs, now);   /* a delivered message leaves at once */
  stralloc_free(&text);
  if (run->gone && run->chan >= 0) {
    warn(run->prog, " wrote something that is not a report: closing it");
    run_close(run);
  }
  if (ended) batch_end(run, now);
  if (run->pos == run->rep.len) run->pos = run->rep.len = 0;   /* a worker reads for long */
}

/* every job gets its result, then the stage hears of the end */
static void run_finish(struct run *run, unsigned long now)
{
  int code = wait_exitcode(run->pid);
  close(run->out);
  if (run->chan >= 0) run_close(run);
  if (run->jobs || run->batches) run_progress(run, 1, now);   /* a filter has no reports */
  if (run->jobs) warn(run->prog, " ended in the middle of a batch");
  else if (code != 0 && run->batches) warn(run->prog, " exited with an error");
  run->finished(run, code, now);
  stralloc_free(&run->rep);
  free(run->jobs);
  free(run);
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
    struct run *run;
    if (!fds[f].revents) continue;
    for (k = 0; k < nruns && runs[k]->out != fds[f].fd; k++) ;
    if (k == nruns) continue;
    run = runs[k];
    if (!read_reports(run)) {
      if (run->jobs || run->batches) run_progress(run, 0, now);
      continue;
    }
    runs[k] = runs[--nruns];
    run_finish(run, now);
  }
}
