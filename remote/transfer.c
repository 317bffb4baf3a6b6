/*
 * transfer.c -- one message over a ready session (see remote.h): RSET
 * when the connection carried a message before, then MAIL FROM (SIZE=,
 * BODY=8BITMIME, and RET=/ENVID= to a server that offers DSN), RCPT TO for
 * each recipient (NOTIFY=/ORCPT= likewise), DATA and the message.  With
 * PIPELINING the MAIL, RCPT and DATA commands leave in one flush and the
 * replies are read after (RFC 2920; with more than PIPE_BATCH recipients
 * the replies are read every PIPE_BATCH, so that neither side blocks on a
 * full buffer); otherwise one command at a time.
 *
 * Inputs: the message (its first m->len bytes of m->fd, read with pread
 * only), the server's EHLO extensions, the transfer deadline for the
 * message's priority.  Outputs: a report per recipient (rep_set):
 *   RCPT 2xx and a 2xx after the data: K (R when the server does not offer
 *     DSN and the recipient asked NOTIFY=SUCCESS); RCPT 4xx: Z, 5xx: D;
 *   MAIL refused: every recipient Z or D with that reply;
 *   DATA or the final reply refused: every accepted recipient Z or D;
 *   8-bit message, server without 8BITMIME: the message goes through
 *     `imc-convert -8 keep` (8-bit parts become quoted-printable or base64,
 *     RFC 6152) into a memfd that replaces m->fd; when that fails, or the
 *     result is still 8-bit, Z and nothing sent;
 *   larger than the server's SIZE: D 5.3.4, nothing sent;
 *   a message that needs SMTPUTF8 (the job's option, or an address with
 *     UTF-8), server without it: D 5.6.7, nothing sent (RFC 6531 3.4);
 *     with it, MAIL FROM carries the SMTPUTF8 parameter.
 * Failure modes: SESS_LOST when the connection breaks or times out; the
 * recipients without a report are then the caller's (section 8: Z, or
 * one retry on a fresh connection when the server never answered MAIL).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "binpath.h"
#include "child.h"
#include "dsn.h"
#include "fileio.h"
#include "remote.h"

#define CHUNK 32768

static char inbuf[CHUNK], outbuf[2 * CHUNK];
static stralloc rstate;        /* one byte per recipient: RCPT_* */
#define RCPT_SENT 1
#define RCPT_ACCEPTED 2
static stralloc cmd;

#define PIPE_BATCH 100         /* RCPTs sent before their replies are read */
struct pipeline {
  int mail_read, mail_ok;
  size_t next;                 /* the next recipient whose reply is due */
  size_t accepted;
};

const char *rmsg_scan(struct rmsg *m)
{
  struct stat st;
  unsigned long long off = 0;
  msgscan_init(&m->scan);
  if (fstat(m->fd, &st) < 0) return strerror(errno);
  if (!S_ISREG(st.st_mode)) return "the queue file is not a regular file";
  if ((unsigned long long)st.st_size < m->len) return "the queue file is shorter than the message";
  while (off < m->len) {
    size_t want = m->len - off < CHUNK ? (size_t)(m->len - off) : CHUNK;
    ssize_t r = pread_full(m->fd, inbuf, want, (off_t)off);
    if (r < 0) return strerror(errno);
    if ((size_t)r < want) return "the queue file is shorter than the message";
    msgscan_chunk(&m->scan, inbuf, want);
    off += want;
  }
  msgscan_finish(&m->scan);
  m->scanned = 1;
  return 0;
}

/* ---- results */

/* delivered to a next hop without DSN, and the recipient asked NOTIFY=SUCCESS:
   imc-send tells the sender that the message was relayed (report R) */
static int relayed(const struct session *s, const struct rmsg *m, size_t i)
{
  struct dsn_params p;
  return !s->ehlo.dsn && m->rdsn && dsn_unpack(m->rdsn[i], str_len(m->rdsn[i]), 0, &p) == 0
         && (dsn_wants(&p) & DSN_SUCCESS);
}

static void result(struct session *s, const struct rmsg *m, size_t i, char kind, const char *t)
{
  static const char *const word[] = { "delivered to <", "deferred <", "failed <" };
  int ok = kind == 'K';
  if (ok && relayed(s, m, i)) kind = 'R';
  rep_set(m->first + i, kind, t);
  rlog(s->cfg, LEVEL_MEDIUM, m->id, m->id[0] ? " " : "", word[ok ? 0 : kind == 'Z' ? 1 : 2], m->rcpt[i], ">: ", t,
       (const char *)0);
}

static int open_rcpt(const struct rmsg *m, size_t i) { return !rep_done(m->first + i); }

/* every recipient still open (only the accepted ones when `acc`) gets kind and text */
static void result_all(struct session *s, const struct rmsg *m, char kind, const char *t, int acc)
{
  size_t i;
  for (i = 0; i < m->nrcpt; i++)
    if (open_rcpt(m, i) && (!acc || rstate.s[i] == RCPT_ACCEPTED)) result(s, m, i, kind, t);
}

static char reply_kind(const struct session *s)
{
  int c = reply_class(&s->reply);
  return c == 2 ? 'K' : c == 5 ? 'D' : 'Z';
}

/* the reply as report text, "desc: CODE TEXT" */
static const char *reply_text(struct session *s)
{
  sess_why_reply(s, "");
  return s->why.s ? s->why.s : "";
}

/* ---- commands */

/* the DSN parameters, to a server that offers DSN */
static int put_dsn(const struct session *s, const char *params)
{
  if (!s->ehlo.dsn || !params || !*params) return 0;
  return stralloc_append(&cmd, " ") && stralloc_cats(&cmd, params) ? 0 : -1;
}

static int put_rcpt(struct session *s, const struct rmsg *m, size_t i, int flush)
{
  if (!stralloc_copys(&cmd, "RCPT TO:<") || !stralloc_cats(&cmd, m->rcpt[i]) || !stralloc_append(&cmd, ">")
      || put_dsn(s, m->rdsn ? m->rdsn[i] : 0) < 0) return -1;
  return sess_cmd(s, cmd.s, cmd.len, flush);
}

static int put_mail(struct session *s, const struct rmsg *m, int flush)
{
  if (!stralloc_copys(&cmd, "MAIL FROM:<") || !stralloc_cats(&cmd, m->sender) || !stralloc_append(&cmd, ">")) return -1;
  if (m->smtputf8 && !stralloc_cats(&cmd, " SMTPUTF8")) return -1;
  if (s->ehlo.size && (!stralloc_cats(&cmd, " SIZE=") || !stralloc_catulong0(&cmd, (unsigned long)m->scan.size, 0))) return -1;
  if (m->scan.eightbit && !stralloc_cats(&cmd, " BODY=8BITMIME")) return -1;
  if (put_dsn(s, m->mdsn) < 0) return -1;
  return sess_cmd(s, cmd.s, cmd.len, flush);
}

/* a RCPT reply: accepted, or the recipient's report */
static int rcpt_result(struct session *s, const struct rmsg *m, size_t i)
{
  if (reply_class(&s->reply) == 2) { rstate.s[i] = RCPT_ACCEPTED; return 1; }
  result(s, m, i, reply_kind(s), reply_text(s));
  return 0;
}

/* ---- the data */

static int data_lost(struct session *s, const char *what)
{
  sess_lost(s, what);
  return -1;
}

/* the message dot-stuffed with CR LF, then ".": 0, or -1 lost */
static int send_data(struct session *s, const struct rmsg *m)
{
  struct dotstuff d;
  unsigned long long off = 0;
  size_t n;
  dot_init(&d);
  while (off < m->len) {
    size_t want = m->len - off < CHUNK ? (size_t)(m->len - off) : CHUNK;
    ssize_t r = pread_full(m->fd, inbuf, want, (off_t)off);
    if (r < 0 || (size_t)r < want) {
      if (r >= 0) errno = EIO;
      return data_lost(s, " (reading the message from the queue)");
    }
    n = dot_encode(&d, inbuf, want, outbuf);
    if (s->deadline && sess_now() >= s->deadline) { errno = ETIMEDOUT; return data_lost(s, " (sending the message)"); }
    sess_set_timeout(s);
    if (sio_put(&s->io, outbuf, n) < 0) return data_lost(s, " (sending the message)");
    off += want;
  }
  n = dot_finish(&d, outbuf);
  sess_set_timeout(s);
  if (sio_put(&s->io, outbuf, n) < 0 || sio_flush(&s->io) < 0) return data_lost(s, " (sending the message)");
  return 0;
}

/* after DATA's reply: the message and its final reply, or DATA's refusal */
static int after_data(struct session *s, const struct rmsg *m, size_t naccepted)
{
  if (s->reply.code != 354) {
    result_all(s, m, reply_kind(s), reply_text(s), 1);
    return SESS_OK;
  }
  if (!naccepted) {                       /* RFC 2920: DATA went through with no recipient */
    if (sess_cmd(s, ".", 1, 1) < 0 || sess_reply(s) < 0) return SESS_LOST;
    return SESS_OK;
  }
  if (send_data(s, m) < 0 || sess_reply(s) < 0) return SESS_LOST;
  result_all(s, m, reply_kind(s), reply_text(s), 1);
  return SESS_OK;
}

/* ---- the two ways of sending the envelope */

/* replies to what was sent so far: MAIL's once, then the RCPTs before `upto` */
static int read_pending(struct session *s, const struct rmsg *m, struct pipeline *p, size_t upto, int *started)
{
  if (!p->mail_read) {
    if (sess_reply(s) < 0) return -1;
    *started = p->mail_read = 1;
    p->mail_ok = reply_class(&s->reply) == 2;
    if (!p->mail_ok) result_all(s, m, reply_kind(s), reply_text(s), 0);
  }
  for (; p->next < upto; p->next++) {
    if (rstate.s[p->next] != RCPT_SENT) continue;
    if (sess_reply(s) < 0) return -1;
    if (p->mail_ok) p->accepted += (size_t)rcpt_result(s, m, p->next);
  }
  return 0;
}

/* MAIL, the RCPTs and DATA in one flush; the replies after.  Every PIPE_BATCH
   recipients the replies so far are read, so neither side's buffers fill up */
static int xfer_pipelined(struct session *s, const struct rmsg *m, int *started)
{
  struct pipeline p = { 0, 0, 0, 0 };
  size_t i, batch = 0;
  if (put_mail(s, m, 0) < 0) return SESS_LOST;
  for (i = 0; i < m->nrcpt; i++) {
    if (!open_rcpt(m, i)) continue;
    if (put_rcpt(s, m, i, 0) < 0) return SESS_LOST;
    rstate.s[i] = RCPT_SENT;
    if (++batch < PIPE_BATCH) continue;
    batch = 0;
    if (read_pending(s, m, &p, i + 1, started) < 0) return SESS_LOST;
    if (!p.mail_ok) return SESS_OK;
  }
  if (sess_cmd(s, "DATA", 4, 1) < 0 || read_pending(s, m, &p, m->nrcpt, started) < 0) return SESS_LOST;
  if (sess_reply(s) < 0) return SESS_LOST;
  return after_data(s, m, p.mail_ok ? p.accepted : 0);
}

static int xfer_stepwise(struct session *s, const struct rmsg *m, int *started)
{
  size_t i, n = 0;
  if (put_mail(s, m, 1) < 0 || sess_reply(s) < 0) return SESS_LOST;
  *started = 1;
  if (reply_class(&s->reply) != 2) {
    result_all(s, m, reply_kind(s), reply_text(s), 0);
    return SESS_OK;
  }
  for (i = 0; i < m->nrcpt; i++) {
    if (!open_rcpt(m, i)) continue;
    if (put_rcpt(s, m, i, 1) < 0 || sess_reply(s) < 0) return SESS_LOST;
    n += (size_t)rcpt_result(s, m, i);
  }
  if (!n) return SESS_OK;
  if (sess_cmd(s, "DATA", 4, 1) < 0 || sess_reply(s) < 0) return SESS_LOST;
  return after_data(s, m, n);
}

/* ---- one message */

/* the message made 7-bit by imc-convert in a memfd that replaces m->fd: 0, -1 */
static int downgrade(struct rmsg *m)
{
  static stralloc prog;
  struct spawn_fd fds[2];
  char len[FMT_ULONG];
  char *argv[] = { "imc-convert", "-8", "-l", len, "keep", 0 };
  struct stat st;
  int out, code = -1;
  pid_t pid;
  len[fmt_ulong(len, (unsigned long)m->len)] = 0;
  if (!prog.len && bin_path(&prog, "imc-convert") < 0) return -1;
  if ((out = memfd_create("downgrade", MFD_CLOEXEC)) < 0) return -1;
  fds[0].from = m->fd; fds[0].to = 0;
  fds[1].from = out; fds[1].to = 1;
  if (spawn_prog(&pid, prog.s, argv, fds, 2) == 0) code = wait_exitcode(pid);
  if (code != 0 || fstat(out, &st) < 0) { close(out); return -1; }
  m->fd = m->own_fd = out;
  m->len = (unsigned long long)st.st_size;
  m->scanned = 0;
  return rmsg_scan(m) || m->scan.eightbit ? -1 : 0;
}

void rmsg_release(struct rmsg *m)
{
  if (m->own_fd >= 0) close(m->own_fd);
  m->own_fd = -1;
}

/* what the server's EHLO rules out before anything is sent: 1 when every recipient got a report */
static int refused_early(struct session *s, struct rmsg *m)
{
  static const char big[] = "5.3.4 message larger than the server's SIZE limit";
  char a[FMT_ULONG], b[FMT_ULONG];
  const char *why;
  if (m->smtputf8 && !s->ehlo.smtputf8) {
    sess_why(s, "5.6.7 the message needs SMTPUTF8 (RFC 6531), which the server does not offer");
    result_all(s, m, 'D', s->why.s, 0);
    return 1;
  }
  if (m->scan.eightbit && !s->ehlo.eightbitmime && (m->own_fd >= 0 || downgrade(m) < 0)) {
    sess_why(s, "4.3.0 8-bit message, the server lacks 8BITMIME, and the downgrade to 7 bits failed");
    result_all(s, m, 'Z', s->why.s, 0);
    return 1;
  }
  if (rmsg_sign(m, s->dkim, &why) < 0) {          /* after the downgrade: the bytes that leave */
    sess_why(s, why);
    result_all(s, m, 'Z', s->why.s, 0);
    return 1;
  }
  if (!s->ehlo.size || !s->ehlo.sizemax || m->scan.size <= s->ehlo.sizemax) return 0;
  a[fmt_ulong(a, (unsigned long)m->scan.size)] = 0;
  b[fmt_ulong(b, s->ehlo.sizemax)] = 0;
  if (stralloc_copys(&s->tmp, big) && stralloc_cats(&s->tmp, " (") && stralloc_cats(&s->tmp, a)
      && stralloc_cats(&s->tmp, " bytes, the limit is ") && stralloc_cats(&s->tmp, b)
      && stralloc_cats(&s->tmp, ")") && stralloc_0(&s->tmp)) sess_why(s, s->tmp.s);
  else sess_why(s, big);
  result_all(s, m, 'D', s->why.s, 0);
  return 1;
}

int xfer_message(struct session *s, struct rmsg *m, int *started)
{
  unsigned long tt = s->cfg->transfertimeout[m->prio];
  const char *e = m->scanned ? 0 : rmsg_scan(m);
  *started = 0;
  if (e) {
    int ok = stralloc_copys(&s->tmp, "4.3.0 unable to read the message: ") && stralloc_cats(&s->tmp, e)
             && stralloc_0(&s->tmp);
    result_all(s, m, 'Z', ok ? s->tmp.s : "4.3.0 unable to read the message", 0);
    return SESS_OK;
  }
  if (refused_early(s, m)) return SESS_OK;
  if (!stralloc_ready(&rstate, m->nrcpt + 1)) { sess_lost(s, " (out of memory)"); return SESS_LOST; }
  memset(rstate.s, 0, m->nrcpt + 1);
  s->deadline = tt ? sess_now() + tt : 0;
  if (s->msgs && !s->reset && sess_rset(s) < 0) return SESS_LOST;
  s->reset = 0;
  s->msgs++;
  return s->ehlo.pipelining ? xfer_pipelined(s, m, started) : xfer_stepwise(s, m, started);
}
