/*
 * qclient.c -- envelopes and imc-queue runs for the programs that queue
 * mail (see qclient.h).
 *
 * Inputs: addresses, a prepared message, a finished envelope.  Output: a
 * child imc-queue fed through pipes; its exit code.  Failure modes: pipe
 * or spawn failures (reported, QX_TEMP_QUEUE); a read error on the
 * message (the child gets no envelope, so it refuses and removes its
 * tmp/ file; QX_TEMP_READ).  SIGPIPE is ignored from qrun_start on, so
 * that a child that stops reading (message too big) shows as EPIPE and its
 * exit code is still collected.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "addr.h"
#include "binpath.h"
#include "child.h"
#include "diag.h"
#include "exitcodes.h"
#include "fileio.h"
#include "qclient.h"

/* ---- envelope */

int inject_address(stralloc *out, const char *addr, size_t len, const char *me)
{
  size_t at;
  if (!stralloc_copyb(out, addr, len)) goto nomem;
  if (addr_at(addr, len) == len && (!stralloc_append(out, "@") || !stralloc_cats(out, me))) goto nomem;
  at = addr_at(out->s, out->len);
  case_lowerb(out->s + at, out->len - at);
  if (!stralloc_0(out)) goto nomem;
  out->len--;
  if (!addr_valid(out->s, out->len)) { errno = EINVAL; return -1; }
  return 0;
nomem:
  errno = ENOMEM;
  return -1;
}

static int env_has_rcpt(const stralloc *env, const char *a, size_t len)
{
  size_t pos = 0, vlen;
  const char *val;
  char type;
  while (env_next(env->s, env->len, &pos, &type, &val, &vlen) == 1)
    if (type == 'T' && vlen == len && !memcmp(val, a, len)) return 1;
  return 0;
}

int inject_rcpt(stralloc *env, const char *addr, size_t len, const char *me)
{
  stralloc a = {0};
  int r = inject_address(&a, addr, len, me);
  if (r == 0 && !env_has_rcpt(env, a.s, a.len)) r = env_add(env, 'T', a.s, a.len);
  stralloc_free(&a);
  return r;
}

/* ---- running imc-queue */

/* a pipe whose ends are above 9, so that mapping them onto 0, 1 and 3 clobbers none */
static int pipe_high(int p[2])
{
  int t[2], i;
  if (pipe2(t, O_CLOEXEC) < 0) return -1;
  for (i = 0; i < 2; i++) {
    p[i] = fcntl(t[i], F_DUPFD_CLOEXEC, 10);
    close(t[i]);
  }
  if (p[0] >= 0 && p[1] >= 0) return 0;
  if (p[0] >= 0) close(p[0]);
  if (p[1] >= 0) close(p[1]);
  return -1;
}

static int spawn_queue(struct qrun *q, int m[2], int e[2], int i[2])
{
  stralloc prog = {0};
  char *argv[2] = { (char *)"imc-queue", 0 };
  struct spawn_fd fds[3];
  int r = -1, err;
  fds[0].from = m[0]; fds[0].to = 0;
  fds[1].from = e[0]; fds[1].to = 1;
  fds[2].from = i[1]; fds[2].to = 3;
  if (bin_path(&prog, "imc-queue") == 0 && setenv("IMC_QUEUE_IDFD", "3", 1) == 0)
    r = spawn_prog(&q->pid, prog.s, argv, fds, 3);
  err = errno;
  stralloc_free(&prog);
  errno = err;
  return r;
}

int qrun_start(struct qrun *q)
{
  int m[2], e[2], i[2], r, err;
  signal(SIGPIPE, SIG_IGN);
  if (pipe_high(m) < 0) return -1;
  if (pipe_high(e) < 0) { err = errno; close(m[0]); close(m[1]); errno = err; return -1; }
  if (pipe_high(i) < 0) { err = errno; close(m[0]); close(m[1]); close(e[0]); close(e[1]); errno = err; return -1; }
  r = spawn_queue(q, m, e, i);
  err = errno;
  close(m[0]); close(e[0]); close(i[1]);
  q->msgfd = m[1]; q->envfd = e[1]; q->idfd = i[0];
  if (r == 0) return 0;
  close(m[1]); close(e[1]); close(i[0]);
  errno = err;
  return -1;
}

static void read_id(int fd, char id[QID_LEN + 1])
{
  char buf[QID_LEN + 2];
  ssize_t n = read_full(fd, buf, sizeof buf);
  id[0] = 0;
  if (n == QID_LEN + 1 && buf[QID_LEN] == '\n' && qid_valid(buf, QID_LEN)) {
    memcpy(id, buf, QID_LEN);
    id[QID_LEN] = 0;
  }
}

int qrun_finish(struct qrun *q, const stralloc *env, char id[QID_LEN + 1])
{
  int status;
  close(q->msgfd);
  if (env) write_all(q->envfd, env->s, env->len);    /* EPIPE: the exit code tells why */
  close(q->envfd);
  read_id(q->idfd, id);
  close(q->idfd);
  status = wait_exitcode(q->pid);
  if (status >= 0 && status < 128) return status;
  if (status < 0) warnsys("unable to wait for imc-queue");
  else warn("imc-queue died of a signal");
  return EX_TEMP;
}

int inject_message(struct msgin *m, const struct msghead *h, const stralloc *added,
                   const stralloc *env, char id[QID_LEN + 1])
{
  static struct msgout o;
  struct qrun q;
  int r;
  if (qrun_start(&q) < 0) { warnsys("unable to start imc-queue"); return QX_TEMP_QUEUE; }
  msgout_init(&o, q.msgfd);
  msgout_put(&o, h->text.s, h->text.len);
  msgout_put(&o, added->s, added->len);
  msgout_put(&o, "\n", 1);
  r = msg_copy_body(m, h, &o);
  msgout_flush(&o);
  if (r < 0) {
    warnsys("unable to read the message");
    qrun_finish(&q, 0, id);
    return QX_TEMP_READ;
  }
  return qrun_finish(&q, env, id);
}
