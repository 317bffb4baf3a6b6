/*
 * send_local.c -- imc-send's local deliveries: recipients that are due go
 * on a ready list; up to control/maxlocal imc-local runs at a time each
 * take up to LOCAL_BATCH messages from it (one run per message when the
 * queue is quiet, big batches under load, so the fork, exec and directory
 * fsync are shared).  The protocol is docs/INTERNALS.md section 5: the
 * queue files are passed open, the jobs come from a memfd on fd 0, the
 * reports are read from a pipe on fd 1.  A run that dies leaves its
 * unreported recipients deferred.
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

#define MAXRUNS 64
#define MAXPAIRS 1000

struct job { struct msg *m; unsigned long i; };
struct run {
  pid_t pid;
  int out;
  stralloc rep;
  struct job *jobs;
  unsigned long njobs;
};

static struct job *ready;
static unsigned long nready, readycap, readyhead;
static struct run runs[MAXRUNS];
static unsigned nruns;

int local_running(void) { return (int)nruns; }

void local_ready(struct msg *m, unsigned long i)
{
  if (readyhead && readyhead == nready) readyhead = nready = 0;
  if (readyhead > readycap / 2) {                 /* keep the list from creeping */
    memmove(ready, ready + readyhead, (nready - readyhead) * sizeof *ready);
    nready -= readyhead;
    readyhead = 0;
  }
  if (nready == readycap) {
    unsigned long nc = readycap ? readycap * 2 : 256;
    struct job *j = realloc(ready, nc * sizeof *j);
    if (!j) return;                    /* stays pending; tried at its next wake-up */
    ready = j;
    readycap = nc;
  }
  ready[nready].m = m;
  ready[nready].i = i;
  nready++;
  m->busy[i] = 1;
  m->inflight++;
}

/* the jobs of one run: consecutive ready entries, at most LOCAL_BATCH messages */
static unsigned long take_jobs(struct job **out)
{
  unsigned long start = readyhead, n = 0, msgs = 0;
  struct msg *last = 0;
  while (start + n < nready && n < MAXPAIRS) {
    struct msg *m = ready[start + n].m;
    if (m != last && ++msgs > LOCAL_BATCH) break;
    last = m;
    n++;
  }
  *out = malloc((n ? n : 1) * sizeof **out);
  if (!*out) return 0;
  memcpy(*out, ready + start, n * sizeof **out);
  readyhead += n;
  return n;
}

static int cat_num(stralloc *sa, unsigned long long n)
{
  char buf[FMT_ULONG];
  return stralloc_catb(sa, buf, fmt_ulong(buf, (unsigned long)n)) ? 0 : -1;
}

/* one job line per message: FD MSGLEN SENDER (MAILBOX RECIPIENT)... */
static int job_lines(const struct job *jobs, unsigned long n, stralloc *in, struct spawn_fd *fds, size_t *nfds)
{
  unsigned long k;
  const struct msg *last = 0;
  for (k = 0; k < n; k++) {
    const struct msg *m = jobs[k].m;
    const struct qinfo_rcpt *r = &m->q.r[jobs[k].i];
    if (m != last) {
      if (last && !stralloc_append(in, "\n")) return -1;
      if (cat_num(in, (unsigned long long)m->fd) < 0 || !stralloc_append(in, "\t") || cat_num(in, m->msglen) < 0
          || !stralloc_append(in, "\t") || !stralloc_cat(in, &m->sender)) return -1;
      fds[*nfds].from = fds[*nfds].to = m->fd;
      (*nfds)++;
      last = m;
    }
    if (!stralloc_append(in, "\t") || !stralloc_cat(in, &r->target) || !stralloc_append(in, "\t")
        || !stralloc_cat(in, &r->address)) return -1;
  }
  return last && !stralloc_append(in, "\n") ? -1 : 0;
}


static void fail_jobs(struct job *jobs, unsigned long n, const char *why);

static int start_run(struct run *run, struct job *jobs, unsigned long n)
{
  static stralloc prog;
  stralloc in = {0};
  struct spawn_fd *fds = malloc((n + 2) * sizeof *fds);
  size_t nfds = 2;
  int p[2] = { -1, -1 }, memfd = -1, r = -1;
  char *argv[] = { "imc-local", 0 };
  if (!fds || (!prog.len && bin_path(&prog, "imc-local") < 0)) goto done;
  if (job_lines(jobs, n, &in, fds, &nfds) < 0) goto done;
  if ((memfd = memfd_text("imc-local-jobs", in.s, in.len)) < 0 || pipe2(p, O_CLOEXEC) < 0) goto done;
  fds[0].from = memfd; fds[0].to = 0;
  fds[1].from = p[1]; fds[1].to = 1;
  if (spawn_prog(&run->pid, prog.s, argv, fds, nfds) < 0) goto done;
  run->out = p[0];
  p[0] = -1;
  fd_nonblock(run->out);
  run->rep.len = 0;
  run->jobs = jobs;
  run->njobs = n;
  r = 0;
done:
  if (r < 0) warnsys("unable to run imc-local");
  if (memfd >= 0) close(memfd);
  if (p[0] >= 0) close(p[0]);
  if (p[1] >= 0) close(p[1]);
  free(fds);
  stralloc_free(&in);
  return r;
}

void local_dispatch(void)
{
  while (nruns < cfg.maxlocal && nruns < MAXRUNS && readyhead < nready) {
    struct job *jobs;
    unsigned long n = take_jobs(&jobs), k;
    if (!n) return;
    for (k = 0; k < n; k++)
      if (msg_open(jobs[k].m) < 0) break;
    if (k < n) { fail_jobs(jobs, n, "4.3.0 unable to open the queue file"); continue; }
    if (start_run(&runs[nruns], jobs, n) < 0) { fail_jobs(jobs, n, "4.3.0 unable to run imc-local"); return; }
    nruns++;
  }
}

void local_pollfds(struct pollfd *fds, unsigned *n, unsigned max)
{
  unsigned k;
  for (k = 0; k < nruns && *n < max; k++) {
    fds[*n].fd = runs[k].out;
    fds[*n].events = POLLIN;
    fds[*n].revents = 0;
    (*n)++;
  }
}

/* the k-th report line of a run: its code and text, or 0 when there is none */
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

/* collect the distinct messages of a run, so each is settled once */
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

static void fail_jobs(struct job *jobs, unsigned long n, const char *why)
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

static void finish_run(struct run *run)
{
  unsigned long now = (unsigned long)time(0), k;
  stralloc text = {0};
  size_t pos = 0;
  int code = wait_exitcode(run->pid), gone = 0;
  if (code != 0) warn("imc-local exited with an error");
  for (k = 0; k < run->njobs; k++) {
    struct job *j = &run->jobs[k];
    char c = gone ? 0 : report_line(&run->rep, &pos, &text);
    if (!c) gone = 1;
    j->m->busy[j->i] = 0;
    j->m->inflight--;
    rcpt_result(j->m, j->i, c ? c : 'Z', c ? text.s : "4.3.0 imc-local did not report", now);
  }
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

void local_events(struct pollfd *fds, unsigned n)
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
      finish_run(&done);
    }
  }
}
