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
 *
 * The persistent form (qconn) frames the message for imc-queue -s and
 * reads one reply per message.  imc-queue dying (a write fails, or EOF
 * where the reply should be) costs only the message under way: EX_TEMP,
 * and the next qconn_begin starts another.  One that is gone while idle is
 * seen by qconn_begin (its reply pipe polls readable: EOF) and replaced
 * before the message's first byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

static void close_pipe(int p[2])
{
  close(p[0]);
  close(p[1]);
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

/* ---- one imc-queue for many messages (imc-queue -s) */

static int qconn_start(struct qconn *c)
{
  stralloc prog = {0};
  char *argv[3] = { (char *)"imc-queue", (char *)"-s", 0 };
  struct spawn_fd fds[2];
  int req[2], rep[2], r = -1, err;
  signal(SIGPIPE, SIG_IGN);
  if (pipe_high(req) < 0) return -1;
  if (pipe_high(rep) < 0) { err = errno; close_pipe(req); errno = err; return -1; }
  fds[0].from = req[0]; fds[0].to = 0;
  fds[1].from = rep[1]; fds[1].to = 1;
  if (bin_path(&prog, "imc-queue") == 0) r = spawn_prog(&c->pid, prog.s, argv, fds, 2);
  err = errno;
  stralloc_free(&prog);
  close(req[0]);
  close(rep[1]);
  if (r < 0) { close(req[1]); close(rep[0]); c->pid = 0; errno = err; return -1; }
  c->reqfd = req[1];
  c->repfd = rep[0];
  return 0;
}

int qconn_close(struct qconn *c)
{
  int status;
  if (!c->pid) return -1;
  close(c->reqfd);
  close(c->repfd);
  status = wait_exitcode(c->pid);
  c->pid = 0;
  c->ok = 0;                  /* nothing more is written to the closed ends */
  c->reqfd = c->repfd = -1;
  return status;
}

/* imc-queue idle between messages writes nothing: a readable reply pipe
   means it has gone (EOF) or is out of step */
static int qconn_gone(const struct qconn *c)
{
  struct pollfd p;
  p.fd = c->repfd;
  p.events = POLLIN;
  p.revents = 0;
  return poll(&p, 1, 0) != 0;
}

int qconn_begin(struct qconn *c)
{
  if (c->pid && qconn_gone(c)) {
    warn("imc-queue went away between messages: starting another");
    qconn_close(c);
  }
  if (!c->pid && qconn_start(c) < 0) { warnsys("unable to start imc-queue"); return -1; }
  c->ok = 1;
  c->len = 0;
  return 0;
}

/* a write that fails (EPIPE: imc-queue stopped) ends this message's writes; the reply tells why */
static void send_out(struct qconn *c, const char *b, size_t n)
{
  if (c->ok && write_all(c->reqfd, b, n) < 0) c->ok = 0;
}

/* the waiting bytes as one 'm' frame, its header in the room before them */
static void qconn_flush(struct qconn *c)
{
  if (!c->len) return;
  qframe_head_pack(c->buf, QFRAME_DATA, (unsigned long)c->len);
  send_out(c, c->buf, QFRAME_HEAD + c->len);
  memset(c->buf + QFRAME_HEAD, 0, c->len);    /* no message text stays behind in the caller */
  c->len = 0;
}

static void frame_last(struct qconn *c, const stralloc *env)
{
  char h[QFRAME_HEAD];
  qframe_head_pack(h, env ? QFRAME_ENVELOPE : QFRAME_CANCEL, env ? (unsigned long)env->len : 0);
  send_out(c, h, sizeof h);
  if (env) send_out(c, env->s, env->len);
}

void qconn_put(struct qconn *c, const char *b, size_t n)
{
  while (n) {
    size_t k = QFRAME_CHUNK_MAX - c->len;
    if (k > n) k = n;
    memcpy(c->buf + QFRAME_HEAD + c->len, b, k);
    c->len += k;
    b += k;
    n -= k;
    if (c->len == QFRAME_CHUNK_MAX) qconn_flush(c);
  }
}

/* the reply, or EX_TEMP; imc-queue goes on only after 0 and a cancel */
static int qconn_reply(struct qconn *c, char id[QID_LEN + 1])
{
  char r[QFRAME_REPLY];
  int code;
  ssize_t n = read_full(c->repfd, r, sizeof r);
  if (n != sizeof r) {
    if (n < 0) warnsys("unable to read imc-queue's reply");
    else warn("imc-queue went away in the middle of a message");
    qconn_close(c);
    return EX_TEMP;
  }
  if (qframe_reply_unpack(r, &code, id) < 0) {
    warn("imc-queue's reply is malformed");
    qconn_close(c);
    return EX_TEMP;
  }
  if (code != QX_OK && code != QX_PERM_CANCEL) qconn_close(c);
  return code;
}

int qconn_end_top(struct qconn *c, const stralloc *top, const stralloc *env, char id[QID_LEN + 1])
{
  id[0] = 0;
  if (!c->pid) return EX_TEMP;
  qconn_flush(c);
  if (env && top && top->len && top->len <= QFRAME_TOP_MAX) {
    char h[QFRAME_HEAD];
    qframe_head_pack(h, QFRAME_TOP, (unsigned long)top->len);
    send_out(c, h, sizeof h);
    send_out(c, top->s, top->len);
  }
  frame_last(c, env);
  return qconn_reply(c, id);
}

int qconn_end(struct qconn *c, const stralloc *env, char id[QID_LEN + 1])
{
  return qconn_end_top(c, 0, env, id);
}
