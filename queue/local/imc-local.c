/*
 * imc-local.c -- local delivery into Maildirs (docs/INTERNALS.md section 5).
 *
 *     imc-local              (jobs on fd 0, reports on fd 1; IMC_HOME set)
 *
 * Inputs: batches of job lines on fd 0, each read whole before any delivery:
 *     FD[:ID] TAB MSGLEN TAB SENDER TAB MAILBOX TAB RECIPIENT [TAB MAILBOX TAB RECIPIENT ...]
 * Two forms (lib/jobchan.h): fd 0 a job channel from imc-send (a
 * SOCK_SEQPACKET socket; each batch one record with its queue files
 * passed along, FD the file's place in the record; imc-local serves batch
 * after batch until EOF), or anything else read to EOF as one batch (FD a
 * descriptor number).  The message is the first MSGLEN bytes of its queue
 * file, read only with explicit offsets (pread, copy_file_range), never
 * through the shared file position.  imc-local opens nothing under queue/.
 *
 * Outputs: for each (MAILBOX, RECIPIENT) pair a file
 * $IMC_HOME/mail/MAILBOX/new/NAME holding "Return-Path: <SENDER>",
 * "Delivered-To: RECIPIENT" and the message, written as tmp/NAME (O_EXCL,
 * 0600), fsynced and renamed.  The Maildir (MAILBOX/ tmp/ new/ cur/, 0700)
 * is created when missing.  After the last job each new/ directory touched
 * is fsynced once (the per-message budget of section 7: 1 + 1/B fsyncs);
 * only then one report per pair goes to fd 1, in input order:
 *     K2.0.0 ...   delivered
 *     Z4.x.x ...   temporary failure (imc-send retries)
 *     D5.x.x ...   permanent failure (imc-send bounces)
 * and, on a job channel, the line "." after the batch's last report.  A
 * batch forgets everything of the one before (mailboxes, reports).
 *
 * Failure modes: an invalid mailbox name or a message that already has
 * "Delivered-To: RECIPIENT" in its header section (a loop) is D; a write,
 * fsync or rename error is Z (ENOSPC, EDQUOT: Z4.2.2); a failed fsync of a
 * new/ directory turns every delivery into it to Z.  A malformed job line
 * gets Z for each pair it claims (one when its fields make no pairs); jobs
 * beyond LOCAL_MAXJOBS and pairs beyond LOCAL_MAXPAIRS get Z without being
 * tried.  Exit 0 when every pair got its report, 111 otherwise (fd 0
 * unreadable, a batch larger than LOCAL_INPUT_MAX, a channel record that
 * is not a batch, fd 1 unwritable): imc-send
 * counts a pair without report as a temporary failure.
 *
 * Log lines on fd 2 by control/loglevel transfer (log.h), each starting
 * with the job's queue id when its FD field carries one (FD:ID, as
 * imc-send writes it): at medium each pair's result ("ID delivered
 * <RCPT>: TEXT", deferred, failed; at minimum imc-send logs the results),
 * at maximum one more line per job (its size, sender and number of
 * pairs).  Errors are written at every level.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>       /* rename(2) only */
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include "owfat.h"
#include "addr.h"
#include "control.h"
#include "diag.h"
#include "exitcodes.h"
#include "fileio.h"
#include "jobchan.h"
#include "log.h"
#include "maildir.h"

#define LOCAL_MAXJOBS 1000
#define LOCAL_MAXPAIRS 10000
#define LOCAL_INPUT_MAX (16UL << 20)   /* 4x the longest legitimate input */
#define LOOP_SCAN_MAX 65536            /* header bytes searched for Delivered-To */
#define MBOX_HASH 16384                /* power of 2, > 1.5 * LOCAL_MAXPAIRS */
#define MBOX_NAME_MAX 64               /* as mailbox_name_valid */
#define PATH_MAX_LOCAL (MBOX_NAME_MAX + 5 + MAILDIR_NAME_MAX + 1)

/* ---- state of the run */

struct mbox {
  char name[MBOX_NAME_MAX + 1];
  unsigned char ready;       /* tmp/ and new/ known to exist */
  unsigned char made_mbox;   /* we created MAILBOX/: fsync mail/ too */
  unsigned char made_sub;    /* we created a subdirectory: fsync MAILBOX/ too */
  unsigned char used;        /* a file was renamed into new/ */
  int sync_errno;            /* the final directory fsync failed */
};

struct report {
  char kind;                 /* 'K', 'Z', 'D' */
  int mbox;                  /* index into mboxes for K, else -1 */
  size_t off, len;           /* text in reptext (without the kind) */
  size_t roff, rlen;         /* the recipient in reptext, for the log (rlen 0: none) */
  size_t ioff, ilen;         /* the queue id in reptext, for the log (ilen 0: none) */
};

struct msg {                 /* the message of the current job */
  int fd;
  size_t len;
  size_t have;               /* bytes of it in body (at most LOOP_SCAN_MAX) */
  char *body;
};

static struct mbox mboxes[LOCAL_MAXPAIRS];
static size_t nmbox;
static int mbox_slot[MBOX_HASH];          /* index + 1; 0 empty */
static struct report reports[LOCAL_MAXPAIRS];
static size_t nreports;
static stralloc reptext;
static unsigned long excess;              /* pairs past the limits: a suffix of the input */
static unsigned long njobs;
static int mail_errno;                    /* chdir to mail/ failed */
static char host[MAILDIR_HOST_MAX];
static size_t hostlen;
static unsigned long pid, ndeliveries;
static char msgbuf[JOB_HDR_MAX + LOOP_SCAN_MAX];
static char copybuf[65536];
static const char *cur_rcpt;              /* the pair being delivered, for the log */
static size_t cur_rlen;
static char cur_id[JOBCHAN_ID_MAX + 1];   /* the queue id of the job, "" when its line gave none */
static struct config cfg;                 /* for control/loglevel only */
static struct jobsrc src;

/* ---- reports */

static int slot_free(void)
{
  return njobs <= LOCAL_MAXJOBS && nreports < LOCAL_MAXPAIRS;
}

/* kind, then the text as strings ended by a null pointer */
static void report_va(char kind, int mbox, va_list ap)
{
  struct report *r;
  const char *s;
  if (!slot_free()) { excess++; return; }
  r = &reports[nreports++];
  r->kind = kind;
  r->mbox = mbox;
  r->off = reptext.len;
  while ((s = va_arg(ap, const char *)) != 0)
    if (!stralloc_cats(&reptext, s)) { reptext.len = r->off; break; }  /* fallback text */
  r->len = reptext.len - r->off;
  r->roff = reptext.len;
  r->rlen = cur_rlen && stralloc_catb(&reptext, cur_rcpt, cur_rlen) ? cur_rlen : 0;
  r->ioff = reptext.len;
  r->ilen = cur_id[0] && stralloc_cats(&reptext, cur_id) ? strlen(cur_id) : 0;
}

static void report(char kind, int mbox, ...)
{
  va_list ap;
  va_start(ap, mbox);
  report_va(kind, mbox, ap);
  va_end(ap);
}
#define REPORT(kind, mbox, ...) report((kind), (mbox), __VA_ARGS__, (const char *)0)

static void report_errno(const char *mailbox, const char *what, int e)
{
  if (e == ENOSPC || e == EDQUOT)
    REPORT('Z', -1, "4.2.2 mailbox ", mailbox, " full: ", strerror(e));
  else
    REPORT('Z', -1, "4.3.0 unable to ", what, " mailbox ", mailbox, ": ", strerror(e));
}

/* ---- output on fd 1, without stdio; every write checked */

static char obuf[65536];
static size_t olen;
static int out_failed;

static void out_flush(void)
{
  if (olen && !out_failed && write_all(1, obuf, olen) < 0) out_failed = errno ? errno : EIO;
  olen = 0;
}

static void out_put(const char *s, size_t len)
{
  while (len) {
    size_t n = sizeof obuf - olen < len ? sizeof obuf - olen : len;
    memcpy(obuf + olen, s, n);
    olen += n; s += n; len -= n;
    if (olen == sizeof obuf) out_flush();
  }
}

static void out_puts(const char *s) { out_put(s, strlen(s)); }

static const char *fallback_text(char kind)
{
  return kind == 'K' ? "2.0.0 delivered" : kind == 'D' ? "5.0.0 permanent failure"
                                                       : "4.3.0 temporary failure";
}

static void out_report(const struct report *r)
{
  const struct mbox *mb = r->mbox >= 0 ? &mboxes[r->mbox] : 0;
  if (r->kind == 'K' && mb && mb->sync_errno) {
    out_puts("Z4.3.0 unable to sync mailbox ");
    out_puts(mb->name);
    out_puts(": ");
    out_puts(strerror(mb->sync_errno));
  } else {
    out_put(&r->kind, 1);
    if (r->len) out_put(reptext.s + r->off, r->len);
    else out_puts(fallback_text(r->kind));
  }
  out_put("\n", 1);
}

/* the report as written to fd 1, at transfer medium (at minimum imc-send logs
   each result): "ID delivered <RCPT>: TEXT", deferred, failed */
static void log_report(const struct report *r)
{
  static stralloc pre;
  const struct mbox *mb = r->mbox >= 0 ? &mboxes[r->mbox] : 0;
  int unsynced = r->kind == 'K' && mb && mb->sync_errno;
  char kind = unsynced ? 'Z' : r->kind;
  if (!log_enabled(LOG_TRANSFER, LEVEL_MEDIUM)) return;
  if (!stralloc_copyb(&pre, reptext.s + r->ioff, r->ilen) || (r->ilen && !stralloc_append(&pre, " "))
      || !stralloc_cats(&pre, kind == 'K' ? "delivered <" : kind == 'Z' ? "deferred <" : "failed <")
      || !stralloc_catb(&pre, reptext.s + r->roff, r->rlen) || !stralloc_cats(&pre, ">: ")
      || !stralloc_0(&pre)) return;
  if (unsynced)
    log_event(LOG_TRANSFER, LEVEL_MEDIUM, pre.s, "4.3.0 unable to sync mailbox ", mb->name, ": ", strerror(mb->sync_errno));
  else if (r->len) log_outb(LOG_TRANSFER, LEVEL_MEDIUM, pre.s, reptext.s + r->off, r->len);
  else log_event(LOG_TRANSFER, LEVEL_MEDIUM, pre.s, fallback_text(r->kind));
}

static int write_reports(void)
{
  static const char over[] = "Z4.3.0 too many deliveries in one run\n";
  size_t i;
  unsigned long k;
  for (i = 0; i < nreports; i++) { out_report(&reports[i]); log_report(&reports[i]); }
  for (k = 0; k < excess; k++) out_put(over, sizeof over - 1);
  if (src.chan) out_puts(JOBCHAN_END);
  out_flush();
  if (!out_failed) return 0;
  errno = out_failed;
  return -1;
}

/* ---- the mailboxes touched in this run */

static unsigned long name_hash(const char *s, size_t len)
{
  unsigned long h = 5381;
  while (len--) h = (h * 33) ^ (unsigned char)*s++;
  return h;
}

/* index of the mailbox (len <= MBOX_NAME_MAX, valid), added when new */
static int mbox_get(const char *name, size_t len)
{
  unsigned long h = name_hash(name, len) & (MBOX_HASH - 1);
  struct mbox *mb;
  for (; mbox_slot[h]; h = (h + 1) & (MBOX_HASH - 1)) {
    mb = &mboxes[mbox_slot[h] - 1];
    if (strlen(mb->name) == len && !memcmp(mb->name, name, len)) return mbox_slot[h] - 1;
  }
  mb = &mboxes[nmbox];
  memset(mb, 0, sizeof *mb);               /* an entry of an earlier batch */
  memcpy(mb->name, name, len);
  mb->name[len] = 0;
  mbox_slot[h] = (int)++nmbox;
  return (int)nmbox - 1;
}

/* mkdir that accepts an existing directory; sets *made when it created one */
static int mkdir_once(const char *path, unsigned char *made)
{
  if (mkdir(path, 0700) == 0) { *made = 1; return 0; }
  return errno == EEXIST ? 0 : -1;
}

/* MAILBOX/ tmp/ new/ cur/; not atomic, and made durable by sync_mailboxes */
static int maildir_create(struct mbox *mb)
{
  static const char *const sub[] = { "/tmp", "/new", "/cur" };
  char path[MBOX_NAME_MAX + 5];
  size_t n = strlen(mb->name), i;
  if (mkdir_once(mb->name, &mb->made_mbox) < 0) return -1;
  for (i = 0; i < 3; i++) {
    memcpy(path, mb->name, n);
    memcpy(path + n, sub[i], 5);
    if (mkdir_once(path, &mb->made_sub) < 0) return -1;
  }
  return 0;
}

/* fsync each new/ we renamed into, once; then the parents of what we created */
static void sync_mailboxes(void)
{
  char path[MBOX_NAME_MAX + 5];
  int mail_made = 0, e = 0;
  size_t i;
  for (i = 0; i < nmbox; i++) {
    struct mbox *mb = &mboxes[i];
    if (!mb->used) continue;
    memcpy(path, mb->name, strlen(mb->name));
    memcpy(path + strlen(mb->name), "/new", 5);
    if (dir_sync(path) < 0 || ((mb->made_sub || mb->made_mbox) && dir_sync(mb->name) < 0))
      mb->sync_errno = errno;
    mail_made |= mb->made_mbox;
  }
  if (mail_made && dir_sync(".") < 0) e = errno;
  for (i = 0; e && i < nmbox; i++)
    if (mboxes[i].used && mboxes[i].made_mbox && !mboxes[i].sync_errno) mboxes[i].sync_errno = e;
  for (i = 0; i < nmbox; i++)
    if (mboxes[i].sync_errno)
      warn("unable to sync mailbox ", mboxes[i].name, ": ", strerror(mboxes[i].sync_errno));
}

/* ---- writing one delivery */

static int copy_by_pread(int out, int in, off_t off, off_t len)
{
  while (off < len) {
    size_t want = (size_t)(len - off) < sizeof copybuf ? (size_t)(len - off) : sizeof copybuf;
    ssize_t r = pread_full(in, copybuf, want, off);
    if (r < 0) return -1;
    if ((size_t)r < want) { errno = EIO; return -1; }   /* the queue file shrank */
    if (write_all(out, copybuf, want) < 0) return -1;
    off += (off_t)want;
  }
  return 0;
}

/* the first len bytes of in, appended to out; in's file position is not used */
static int copy_message(int out, int in, off_t len)
{
  off_t off = 0;
  while (off < len) {
    ssize_t r = copy_file_range(in, &off, out, 0, (size_t)(len - off), 0);
    if (r > 0) continue;
    if (r == 0) { errno = EIO; return -1; }
    if (errno == EINTR) continue;
    if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)
      return copy_by_pread(out, in, off, len);
    return -1;
  }
  return 0;
}

/* the two header lines and the message: one write when the message is in memory */
static int write_message(int fd, const struct msg *m, const char *hdr, size_t hlen)
{
  if (m->have == m->len) {
    char *start = m->body - hlen;
    memcpy(start, hdr, hlen);
    return write_all(fd, start, hlen + m->len);
  }
  if (write_all(fd, hdr, hlen) < 0) return -1;
  return copy_message(fd, m->fd, (off_t)m->len);
}

/* path = MAILBOX/SUB/NAME (sub is "tmp" or "new") */
static void maildir_path(char *path, const struct mbox *mb, const char *sub, const char *name)
{
  size_t n = strlen(mb->name);
  memcpy(path, mb->name, n);
  path[n] = '/';
  memcpy(path + n + 1, sub, 3);
  path[n + 4] = '/';
  memcpy(path + n + 5, name, strlen(name) + 1);
}

static int missing_dir(int e) { return e == ENOENT || e == ENOTDIR; }

/* tmp/NAME created with a fresh unique name; creates the Maildir if missing */
static int tmp_open(struct mbox *mb, char *name, char *tmp, const char **what)
{
  int attempt;
  for (attempt = 0; attempt < 4; attempt++) {
    struct timeval tv;
    int fd;
    gettimeofday(&tv, 0);
    maildir_name(name, (unsigned long)tv.tv_sec, (unsigned long)tv.tv_usec, pid,
                 ++ndeliveries, host, hostlen);
    maildir_path(tmp, mb, "tmp", name);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    if (errno == EEXIST) continue;
    if (mb->ready || !missing_dir(errno)) break;
    *what = "create";
    if (maildir_create(mb) < 0) return -1;
    mb->ready = 1;
  }
  if (errno == EEXIST) errno = EAGAIN;   /* the clock or the pid is not unique */
  *what = "create a file in";
  return -1;
}

static int rename_new(struct mbox *mb, const char *tmp, const char *name, const char **what)
{
  char path[PATH_MAX_LOCAL];
  maildir_path(path, mb, "new", name);
  if (rename(tmp, path) == 0) return 0;
  if (missing_dir(errno)) {
    *what = "create";
    if (maildir_create(mb) < 0) return -1;
    if (rename(tmp, path) == 0) return 0;
  }
  *what = "rename a file in";
  return -1;
}

/* tmp/NAME, write, fsync, close, rename to new/NAME: 0, or -1 with errno and *what */
static int maildir_deliver(struct mbox *mb, const struct msg *m, const char *hdr, size_t hlen,
                           const char **what)
{
  char name[MAILDIR_NAME_MAX + 1], tmp[PATH_MAX_LOCAL];
  int fd = tmp_open(mb, name, tmp, what), e;
  if (fd < 0) return -1;
  *what = "write to";
  if (write_message(fd, m, hdr, hlen) < 0 || fsync(fd) < 0) {
    e = errno; close(fd); unlink(tmp); errno = e;
    return -1;
  }
  if (close(fd) < 0 || rename_new(mb, tmp, name, what) < 0) {
    e = errno; unlink(tmp); errno = e;
    return -1;
  }
  mb->ready = 1;
  mb->used = 1;
  return 0;
}

/* ---- one job */

static void deliver_pair(const struct msg *m, const struct job *j, const struct job_pair *p)
{
  char hdr[JOB_HDR_MAX], mailbox[MBOX_NAME_MAX + 1], rcpt[JOB_ADDR_MAX + 1];
  const char *what = "write to";
  size_t hlen;
  int i;
  cur_rcpt = p->rcpt;
  cur_rlen = p->rlen;
  if (!mailbox_name_valid(p->mailbox, p->mlen)) { REPORT('D', -1, "5.1.3 invalid mailbox name"); return; }
  if (!rcpt_valid(p->rcpt, p->rlen)) { REPORT('Z', -1, "4.3.0 malformed recipient in job line"); return; }
  memcpy(mailbox, p->mailbox, p->mlen);
  mailbox[p->mlen] = 0;
  memcpy(rcpt, p->rcpt, p->rlen);
  rcpt[p->rlen] = 0;
  if (hdr_delivered_to(m->body, m->have, m->have == m->len, p->rcpt, p->rlen)) {
    REPORT('D', -1, "5.4.6 mail loop: already delivered to ", rcpt);
    return;
  }
  hlen = deliv_header(hdr, j->sender, j->slen, p->rcpt, p->rlen);
  if (mail_errno) { report_errno(mailbox, "reach the mail directory for", mail_errno); return; }
  i = mbox_get(mailbox, p->mlen);
  if (maildir_deliver(&mboxes[i], m, hdr, hlen, &what) < 0) { report_errno(mailbox, what, errno); return; }
  REPORT('K', i, "2.0.0 delivered to mailbox ", mailbox);
}

/* checks the queue file and reads the start of the message: 0 or a reason */
static const char *msg_load(const struct job *j, struct msg *m)
{
  struct stat st;
  ssize_t r;
  m->fd = j->fd;
  m->body = msgbuf + JOB_HDR_MAX;
  m->have = 0;
  m->len = (size_t)j->msglen;
  if (m->len != j->msglen) return "message too long";
  if (fstat(j->fd, &st) < 0) return strerror(errno);
  if (!S_ISREG(st.st_mode)) return "queue file is not a regular file";
  if ((unsigned long long)st.st_size < j->msglen) return "queue file shorter than the message";
  m->have = m->len < LOOP_SCAN_MAX ? m->len : LOOP_SCAN_MAX;
  r = pread_full(j->fd, m->body, m->have, 0);
  if (r < 0) return strerror(errno);
  if ((size_t)r < m->have) return "queue file shorter than the message";
  return 0;
}

/* Z for each of the n pairs of job number njobs */
static void fail_pairs(size_t n, const char *why, const char *detail)
{
  char num[FMT_ULONG];
  num[fmt_ulong(num, njobs)] = 0;
  warn("job ", num, cur_id[0] ? " (" : "", cur_id, cur_id[0] ? ")" : "", ": ", why, ": ", detail);
  while (n--) REPORT('Z', -1, "4.3.0 ", why, ": ", detail);
}

/* at transfer maximum: "ID message of N bytes from <SENDER>: P deliveries" */
static void log_job(const struct job *j)
{
  static stralloc line;
  char size[FMT_ULONG], pairs[FMT_ULONG];
  if (!log_enabled(LOG_TRANSFER, LEVEL_MAXIMUM)) return;
  size[fmt_ulong(size, j->msglen)] = 0;
  pairs[fmt_ulong(pairs, j->npairs)] = 0;
  if (!stralloc_copyb(&line, j->sender, j->slen) || !stralloc_0(&line)) return;
  log_event(LOG_TRANSFER, LEVEL_MAXIMUM, cur_id, cur_id[0] ? " " : "", "message of ", size, " bytes from <", line.s, ">: ", pairs,
            j->npairs == 1 ? " delivery" : " deliveries");
}

static void deliver_job(const struct job *j)
{
  struct job_pair p;
  struct msg m;
  size_t pos = 0;
  const char *err = msg_load(j, &m);
  log_job(j);
  if (err) { fail_pairs(j->npairs, "unable to read the message", err); return; }
  while (job_pair_next(j, &pos, &p)) {
    if (!slot_free()) { excess++; continue; }
    deliver_pair(&m, j, &p);
  }
  cur_rlen = 0;
}

static void do_line(const char *line, size_t len, int terminated)
{
  struct job j;
  size_t n = job_parse(line, len, &j);
  memcpy(cur_id, j.id ? j.id : "", j.idlen);
  cur_id[j.idlen] = 0;
  if (!terminated && n) { n = 1; j.err = "job line without newline"; }
  if (!n) return;
  njobs++;
  if (!slot_free()) { excess += n; return; }
  if (j.err) { fail_pairs(n, "malformed job line", j.err); return; }
  j.fd = jobsrc_file(&src, j.fd);
  deliver_job(&j);
}

/* ---- the run */

/* the next batch, at most LOCAL_INPUT_MAX bytes: 1, or 0 when there is no more */
static int read_jobs(stralloc *in)
{
  int r = jobsrc_next(&src, in, LOCAL_INPUT_MAX);
  if (r == -2) fatal(EX_TEMP, "unable to read jobs: more than 16 MB of input");
  if (r < 0) fatalsys(EX_TEMP, "unable to read jobs");
  return r;
}

/* a new batch starts with no mailbox known and no report */
static void batch_reset(void)
{
  memset(mbox_slot, 0, sizeof mbox_slot);
  nmbox = nreports = 0;
  reptext.len = 0;
  excess = njobs = 0;
}

static void run_jobs(const stralloc *in)
{
  size_t pos = 0;
  while (pos < in->len) {
    const char *s = in->s + pos;
    const char *nl = memchr(s, '\n', in->len - pos);
    size_t n = nl ? (size_t)(nl - s) : in->len - pos;
    do_line(s, n, nl != 0);
    pos += n + 1;
  }
}

/* fds 0 and 1 are the protocol; a closed fd 2 is filled, so no Maildir file becomes it */
static void check_fds(void)
{
  if (fcntl(1, F_GETFD) < 0) fatalsys(EX_TEMP, "fd 1 (reports) is not open");
  if (fcntl(0, F_GETFD) < 0) fatalsys(EX_TEMP, "fd 0 (jobs) is not open");
  if (fcntl(2, F_GETFD) < 0 && open("/dev/null", O_WRONLY) < 0) fatalsys(EX_TEMP, "unable to open /dev/null");
}

static void setup(void)
{
  char name[256];
  stralloc mail = {0};
  diag_prog = "imc-local";
  check_fds();
  signal(SIGPIPE, SIG_IGN);
  pid = (unsigned long)getpid();
  if (gethostname(name, sizeof name) < 0 || !name[0]) memcpy(name, "localhost", 10);
  name[sizeof name - 1] = 0;
  hostlen = maildir_host(host, name, strlen(name));
  log_load(&cfg);
  if (imc_path(&mail, "mail") < 0) fatal(EX_TEMP, "out of memory");
  if (chdir(mail.s) < 0) {
    mail_errno = errno;
    warnsys("unable to switch to ", mail.s);
  }
  stralloc_free(&mail);
}

static void batch(const stralloc *in)
{
  batch_reset();
  run_jobs(in);
  if (excess) {
    char num[FMT_ULONG];
    num[fmt_ulong(num, excess)] = 0;
    warn(num, " deliveries past the limits of one run (1000 jobs, 10000 pairs) not tried");
  }
  sync_mailboxes();
  if (write_reports() < 0) fatalsys(EX_TEMP, "unable to write reports");
}

int main(int argc, char **argv)
{
  stralloc in = {0};
  (void)argv;
  setup();
  if (argc > 1) usage("(jobs on fd 0, reports on fd 1)");
  jobsrc_init(&src);
  while (read_jobs(&in)) {
    batch(&in);
    jobsrc_release(&src);
    if (!src.chan) break;
  }
  return EX_OK;
}
