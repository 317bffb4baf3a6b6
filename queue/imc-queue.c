/*
 * imc-queue -- the only way into the queue (docs/INTERNALS.md, section 4).
 *
 *     imc-queue < message 1< envelope        one message
 *     imc-queue -s < frames 1> replies        serial: many messages
 *
 * Inputs, one message: the message on fd 0 (stored byte for byte, NUL
 * bytes included), then the envelope records on fd 1, read to EOF (fd 1 is
 * a pipe it reads).  Serial (-s, lib/qframe.h): frames on fd 0, each
 * message its 'm' frames then an 'e' (queue it) or 'a' (cancel) frame; one
 * reply per message on fd 1, "CCC ID\n".  After a reply of 0 or 35
 * (cancelled) it reads the next message; after any other it exits with
 * that code.  EOF between messages ends it (0).
 * Control files: control/databytes (0: no limit), control/diskfree (not
 * for imc-send's own notices: IMC_QUEUE_RESERVE=1 from the owner of
 * queue/mess).
 *
 * The instance (IMC_HOME) is opened once: IMC_HOME, then its control/ and
 * queue/ as directory descriptors.  Installed setuid, it checks what it
 * opened (fstat) and uses nothing else: control files are read relative
 * to the control/ descriptor, the queue relative to queue/ (fchdir), so a
 * symbolic link swapped after the check changes nothing.
 *
 * The envelope's I records are kept as given when the caller is one of
 * imc's own users (trusted_caller); from anyone else only imc-inject's
 * via=inject is kept, and imc-queue adds uid=N (the caller's real uid)
 * itself.  The envelope gets one more record, the content note of
 * lib/cscan.h.
 *
 * Output: queue/new/ID, committed by write tmp/ID (O_EXCL, mode 0640),
 * fsync, rename to new/ID, fsync new/ -- the commit point.  Then "ID\n" on
 * the fd named by IMC_QUEUE_IDFD (if set) and one byte on queue/trigger;
 * serial, the trigger, then the reply.  Prints nothing on success.  Serial, each message
 * is committed on its own and the control files are read again for each.
 *
 * Failure modes: every exit code is in lib/exitcodes.h (QX_*): 31 too big,
 * 32 no recipient, 33 malformed envelope or address, 36 malformed frame,
 * 51-57 temporary (54 also: EOF inside a frame or a message).  Any
 * failure before the commit unlinks tmp/ID; each writes one line on fd 2
 * and, serial, the reply it owes for the message under way.
 * SIGALRM after QUEUE_WRITER_TIMEOUT seconds ends it with 57; its handler
 * only unlinks tmp/ID and exits (both async-signal-safe), and the alarm is
 * cancelled before the commit rename, so a timeout never follows a commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>          /* rename(2) only */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "addr.h"
#include "config.h"
#include "control.h"
#include "cscan.h"
#include "diag.h"
#include "exitcodes.h"
#include "fileio.h"
#include "passwd.h"
#include "qframe.h"
#include "queue.h"

#define ENVELOPE_MAX QFRAME_ENV_MAX
#define BLOCK QFRAME_CHUNK_MAX

static char tmppath[4 + QID_LEN + 1];        /* "tmp/ID" */
static volatile sig_atomic_t tmp_live;
static volatile sig_atomic_t reply_owed;     /* serial: a message is under way */

/* serial: the message's reply on fd 1 (write(2) only: the alarm handler uses it) */
static void reply(int code, const char *id)
{
  char r[QFRAME_REPLY];
  qframe_reply_pack(r, code, id);
  reply_owed = 0;
  write_all(1, r, sizeof r);
}

/* before any exit: no tmp/ file left, and the reply owed for the message under way */
static void cleanup(int ex)
{
  if (tmp_live) { unlink(tmppath); tmp_live = 0; }
  if (reply_owed) reply(ex, 0);
}

#define qdie(ex, ...) do { cleanup(ex); fatal((ex), __VA_ARGS__); } while (0)
/* a write that failed for want of space is the disk guard's temporary failure (452 4.3.1) */
#define WRITE_EX (errno == ENOSPC || errno == EDQUOT ? QX_TEMP_DISKFREE : QX_TEMP_WRITE)
#define qdiesys(ex, ...) do { int e_ = errno; cleanup(ex); errno = e_; fatalsys((ex), __VA_ARGS__); } while (0)

static void on_alarm(int sig)
{
  (void)sig;
  qdie(QX_TEMP_TIMEOUT, "timed out: the writer went silent");
}

/* ---- control files */

static int control_bad;
static const char *control_unreadable = "control files";

/* the only settings imc-queue reads: no other control file can stop it */
static const char *const settings_used[] = { "databytes", "diskfree", 0 };

static void control_err(const char *file, unsigned line, const char *msg)
{
  if (line == 0) { control_unreadable = file; return; }
  control_bad = 1;
  warn("control/", file, ": ", msg);
}

static void load_control(struct config *c)
{
  int r = config_load_only(c, settings_used, control_err);
  if (r < 0 && errno == ENOMEM) qdie(QX_TEMP_NOMEM, "out of memory");
  if (r < 0) qdiesys(QX_TEMP_CONTROL, "unable to read control/", control_unreadable);
  if (control_bad) qdie(QX_TEMP_CONTROL, "control/databytes or control/diskfree is malformed");
}

/* imc-send's own notices (one says the disk is low) may use the space below
   control/diskfree: IMC_QUEUE_RESERVE=1 from the queue manager, i.e. a
   caller whose real uid owns queue/mess */
static int reserve_allowed(void)
{
  struct stat st;
  const char *r = getenv("IMC_QUEUE_RESERVE");
  return r && !strcmp(r, "1") && stat("mess", &st) == 0 && st.st_uid == getuid();
}

static void check_diskfree(const struct config *c)
{
  int low;
  if (reserve_allowed()) return;
  low = config_disk_low(c, ".", 0);
  if (low < 0) qdiesys(QX_TEMP_QUEUE, "unable to stat the queue file system");
  if (low) qdie(QX_TEMP_DISKFREE, "free space in the queue is below control/diskfree");
}

/* ---- the instance, opened once */

struct instance {
  int home;      /* IMC_HOME */
  int control;   /* IMC_HOME/control, or -1 when missing (not setuid: defaults) */
  int queue;     /* IMC_HOME/queue */
};

#define NOT_INSTANCE "IMC_HOME is not an instance: it must be root's, control/ root's and queue/ imc-queue's own"

static int open_dir(int at, const char *name, int nofollow)
{
  return openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
}

/* Installed setuid imcq, imc-queue takes IMC_HOME from its caller: it may
   only be an instance, a directory of root's (or imcq's) that no one else
   may write, whose control/ is a directory of root's that only root may
   write, and whose queue/ is a directory (not a link) of its own user.  A
   tree of the caller's own (control files without limits, queue/ a link to
   the real queue) is refused.  The checks are on the open descriptors. */
static void check_instance(const struct instance *in)
{
  struct stat h, c, q;
  if (in->control < 0 || fstat(in->home, &h) < 0 || fstat(in->control, &c) < 0 || fstat(in->queue, &q) < 0)
    fatal(QX_TEMP_QUEUE, NOT_INSTANCE);
  if ((h.st_uid != 0 && h.st_uid != geteuid()) || (h.st_mode & 022)
      || c.st_uid != 0 || (c.st_mode & 022) || q.st_uid != geteuid())
    fatal(QX_TEMP_QUEUE, NOT_INSTANCE);
}

static void open_instance(struct instance *in)
{
  int setuid_run = getuid() != geteuid();
  in->home = open(imc_home(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (in->home < 0) {
    if (setuid_run) fatal(QX_TEMP_QUEUE, NOT_INSTANCE);
    fatalsys(QX_TEMP_QUEUE, "unable to open ", imc_home());
  }
  in->control = open_dir(in->home, "control", setuid_run);
  if (in->control < 0 && errno != ENOENT && !setuid_run) fatalsys(QX_TEMP_CONTROL, "unable to open ", imc_home(), "/control");
  in->queue = open_dir(in->home, "queue", setuid_run);
  if (in->queue < 0) {
    if (setuid_run) fatal(QX_TEMP_QUEUE, NOT_INSTANCE);
    if (errno == EACCES) {
      /* not setuid: most likely the install replaced it without its mode */
      int e = errno;
      warn("imc-queue is not setuid to the queue's owner: as root, run imc-setup --system ", imc_home());
      errno = e;
    }
    fatalsys(QX_TEMP_QUEUE, "unable to enter ", imc_home(), "/queue");
  }
  if (setuid_run) check_instance(in);
}

/* ---- who the caller is */

/* imc-smtpd's user: the one imc-tcpd drops to, env/IMC_USER of the instance */
static int smtpd_uid(int home, unsigned long *uid)
{
  stralloc name = {0};
  int fd = openat(home, "env/IMC_USER", O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r = 0;
  size_t n;
  if (fd < 0) return 0;
  if (file_read_fd(fd, &name) == 0) {
    n = byte_chr(name.s, name.len, '\n');
    r = n > 0 && passwd_file_uid(name.s, n, uid);
  }
  close(fd);
  stralloc_free(&name);
  return r;
}

/* May the caller write any I record?  Yes when imc-queue is not setuid (the
   caller owns the queue), for root (the administrator), imc-queue's own user
   (imc-pickup), the owner of queue/mess (imc-send: bounces, notices) and
   imc-smtpd's user; run in queue/ */
static int trusted_caller(const struct instance *in)
{
  uid_t u = getuid();
  struct stat st;
  unsigned long d;
  if (u == geteuid() || u == 0) return 1;
  if (fstatat(in->queue, "mess", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_uid == u) return 1;
  return smtpd_uid(in->home, &d) && d == (unsigned long)u;
}

/* ---- writing tmp/ID */

/* the time an id is made of: later than the one this process used before, even
   when the clock stands still or steps back, so that a process serving many
   messages (-s) never makes an id twice (its pid is in every one) */
static void id_time(struct timeval *tv)
{
  static struct timeval last;
  gettimeofday(tv, 0);
  if (tv->tv_sec < last.tv_sec || (tv->tv_sec == last.tv_sec && tv->tv_usec <= last.tv_usec)) {
    *tv = last;
    if (++tv->tv_usec >= 1000000) { tv->tv_sec++; tv->tv_usec = 0; }
  }
  last = *tv;
}

static int create_tmp(char id[QID_LEN + 1], unsigned long *qtime)
{
  for (;;) {
    struct timeval tv;
    struct timespec ns = { 0, 1000 };
    int fd;
    id_time(&tv);
    qid_make(id, (unsigned long)tv.tv_sec, (unsigned long)tv.tv_usec, (unsigned long)getpid());
    memcpy(tmppath, "tmp/", 4);
    memcpy(tmppath + 4, id, QID_LEN + 1);
    fd = open(tmppath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd >= 0) {
      tmp_live = 1;
      *qtime = (unsigned long)tv.tv_sec;
      if (fchmod(fd, 0640) < 0) qdiesys(QX_TEMP_WRITE, "unable to chmod queue/", tmppath);
      return fd;
    }
    if (errno == ENOSPC || errno == EDQUOT) qdiesys(QX_TEMP_DISKFREE, "unable to create queue/", tmppath);
    if (errno != EEXIST) qdiesys(QX_TEMP_QUEUE, "unable to create queue/", tmppath);
    nanosleep(&ns, 0);
  }
}

static unsigned long long copy_message(int out, unsigned long databytes, struct cscan *cs)
{
  char buf[BLOCK];
  unsigned long long total = 0;
  for (;;) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      qdiesys(QX_TEMP_READ, "unable to read the message");
    }
    if (r == 0) return total;
    total += (unsigned long long)r;
    if (databytes && total > databytes) qdie(QX_PERM_TOOBIG, "message larger than control/databytes");
    cscan_feed(cs, buf, (size_t)r);
    if (write_all(out, buf, (size_t)r) < 0) qdiesys(WRITE_EX, "unable to write queue/", tmppath);
  }
}

static void read_envelope(stralloc *env)
{
  env->len = 0;
  for (;;) {
    ssize_t r;
    if (!stralloc_readyplus(env, BLOCK)) qdie(QX_TEMP_NOMEM, "out of memory");
    r = read(1, env->s + env->len, BLOCK);
    if (r < 0) {
      if (errno == EINTR) continue;
      qdiesys(QX_TEMP_READ, "unable to read the envelope");
    }
    if (r == 0) return;
    env->len += (size_t)r;
    if (env->len > ENVELOPE_MAX) qdie(QX_PERM_ENVELOPE, "envelope larger than 16 MB");
  }
}

/* an I record: key=value, printable (it ends up in log lines) */
static int info_valid(const char *s, size_t len)
{
  size_t i;
  if (len == 0 || s[0] == '=' || !memchr(s, '=', len)) return 0;
  for (i = 0; i < len; i++) if ((unsigned char)s[i] < 32 || s[i] == 127) return 0;
  return 1;
}

static void check_envelope(const stralloc *env)
{
  size_t pos = 0, len;
  const char *val;
  char type;
  int r = env_check(env->s, env->len, 0);
  if (r == -1) qdie(QX_PERM_ENVELOPE, "malformed envelope");
  if (r == -2) qdie(QX_PERM_NORCPT, "envelope has no recipient");
  while (env_next(env->s, env->len, &pos, &type, &val, &len) == 1) {
    if (type == 'F' && len && !addr_valid(val, len)) qdie(QX_PERM_ENVELOPE, "invalid sender address");
    if (type == 'T' && !addr_valid(val, len)) qdie(QX_PERM_ENVELOPE, "invalid recipient address");
    if (type == 'I' && !info_valid(val, len)) qdie(QX_PERM_ENVELOPE, "malformed information record");
  }
}

/* a caller that is not one of imc's own users: its I records but via=inject
   are dropped, and uid= is imc-queue's */
static void restrict_envelope(stralloc *env)
{
  stralloc out = {0};
  if (env_restrict(&out, env->s, env->len, (unsigned long)getuid()) < 0)
    qdie(errno == ENOMEM ? QX_TEMP_NOMEM : QX_PERM_ENVELOPE, "unable to restrict the envelope");
  stralloc_free(env);
  *env = out;
}

/* the content note goes last, before the envelope's final NUL: the last one counts */
static void add_content_note(stralloc *env, const struct cscan *cs)
{
  env->len--;
  if (cscan_record(cs, env) < 0 || !stralloc_0(env)) qdie(QX_TEMP_NOMEM, "out of memory");
}

static void finish_tmp(int fd, const stralloc *env, unsigned long long msglen, unsigned long qtime)
{
  struct qtrailer t;
  char tr[QTRAILER_LEN];
  t.msglen = msglen;
  t.envlen = (unsigned long)env->len;
  t.qtime = qtime;
  qtrailer_pack(tr, &t);
  if (write_all(fd, env->s, env->len) < 0 || write_all(fd, tr, sizeof tr) < 0)
    qdiesys(WRITE_EX, "unable to write queue/", tmppath);
  if (fsync(fd) < 0) qdiesys(WRITE_EX, "unable to fsync queue/", tmppath);
  if (close(fd) < 0) qdiesys(WRITE_EX, "unable to close queue/", tmppath);
}

/* the commit point: rename into new/ and make the rename durable */
static void commit(const char *id)
{
  char newpath[4 + QID_LEN + 1];
  memcpy(newpath, "new/", 4);
  memcpy(newpath + 4, id, QID_LEN + 1);
  alarm(0);
  if (rename(tmppath, newpath) < 0) qdiesys(QX_TEMP_WRITE, "unable to rename queue/", tmppath, " to queue/", newpath);
  tmp_live = 0;
  if (dir_sync("new") < 0) {
    int e = errno;
    unlink(newpath);
    errno = e;
    qdiesys(QX_TEMP_WRITE, "unable to fsync queue/new");
  }
}

/* ---- after the commit: nothing here may fail the message */

static void report_id(const char *id)
{
  const char *s = getenv("IMC_QUEUE_IDFD");
  char line[QID_LEN + 1];
  unsigned long fd;
  if (!s || !*s || s[scan_ulong(s, &fd)] || fd > 1000000) return;
  memcpy(line, id, QID_LEN);
  line[QID_LEN] = '\n';
  write_all((int)fd, line, sizeof line);
  close((int)fd);
}

static void poke_trigger(void)
{
  int fd = open("trigger", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENXIO && errno != ENOENT) warnsys("unable to open queue/trigger");
    return;
  }
  if (write(fd, "\n", 1) < 0 && errno != EAGAIN) warnsys("unable to write queue/trigger");
  close(fd);
}

/* ---- one message (imc-queue < message 1< envelope) */

static int one_message(int trusted)
{
  struct config c;
  struct cscan cs;
  stralloc env = {0};
  char id[QID_LEN + 1];
  unsigned long qtime;
  unsigned long long msglen;
  int fd;
  alarm(QUEUE_WRITER_TIMEOUT);
  load_control(&c);
  check_diskfree(&c);
  fd = create_tmp(id, &qtime);
  cscan_init(&cs);
  msglen = copy_message(fd, c.databytes, &cs);
  read_envelope(&env);
  check_envelope(&env);
  if (!trusted) restrict_envelope(&env);
  add_content_note(&env, &cs);
  finish_tmp(fd, &env, msglen, qtime);
  commit(id);
  report_id(id);
  poke_trigger();
  return QX_OK;
}

/* ---- serial (imc-queue -s): frames on fd 0, a reply per message on fd 1 */

static void frame_die(int r, const char *why)
{
  if (r == QF_BAD) qdie(QX_PERM_FRAME, "malformed frame: ", why);
  if (r == QF_SHORT) qdie(QX_TEMP_READ, "truncated frame: the caller went away in the middle of a message");
  qdiesys(QX_TEMP_READ, "unable to read a frame");
}

static void frame_payload(struct qframe_in *q, char *buf, size_t len)
{
  int r = qframe_read(q, buf, len);
  if (r != QF_OK) frame_die(r, "");
}

/* A message's bytes stay in memory up to HOLD_MAX and are written at its end,
   so that a top frame (header fields for the top, known only at the end)
   costs no copy; a longer message goes to tmp/ID as it comes, and a top
   frame then means a new tmp file: the top, then the old file's bytes. */
#define HOLD_MAX (256UL * 1024)
static stralloc held;
static int spilled;

static void hold_put(int fd, const char *b, size_t n)
{
  if (!spilled && held.len + n <= HOLD_MAX) {
    if (!stralloc_catb(&held, b, n)) qdie(QX_TEMP_NOMEM, "out of memory");
    return;
  }
  if (!spilled && held.len && write_all(fd, held.s, held.len) < 0) qdiesys(WRITE_EX, "unable to write queue/", tmppath);
  spilled = 1;
  if (write_all(fd, b, n) < 0) qdiesys(WRITE_EX, "unable to write queue/", tmppath);
}

/* the memory cleared for the next message */
static void hold_clear(void)
{
  if (held.s) memset(held.s, 0, held.len);
  held.len = 0;
  spilled = 0;
}

/* what is held goes to the file */
static void hold_flush(int fd)
{
  if (!spilled && held.len && write_all(fd, held.s, held.len) < 0) qdiesys(WRITE_EX, "unable to write queue/", tmppath);
  hold_clear();
}

/* the top above a message already in tmp/ID: a new tmp file (a new id) with
   the top and then the old file's bytes; the old one removed */
static int top_copy(int fd, const stralloc *top, char id[QID_LEN + 1])
{
  char oldpath[sizeof tmppath];
  unsigned long qtime;
  off_t len = lseek(fd, 0, SEEK_END), in = 0;
  int nfd;
  memcpy(oldpath, tmppath, sizeof oldpath);
  nfd = create_tmp(id, &qtime);
  if (write_all(nfd, top->s, top->len) < 0) qdiesys(WRITE_EX, "unable to write queue/", tmppath);
  while (in < len) {
    ssize_t r = copy_file_range(fd, &in, nfd, 0, (size_t)(len - in), 0);
    if (r <= 0) qdiesys(WRITE_EX, "unable to copy into queue/", tmppath);
  }
  close(fd);
  unlink(oldpath);
  return nfd;
}

/* the top frame's fields written first (or by a copy): the new fd */
static int put_top(int fd, const stralloc *top, char id[QID_LEN + 1])
{
  if (spilled) return top_copy(fd, top, id);
  if (write_all(fd, top->s, top->len) < 0) qdiesys(WRITE_EX, "unable to write queue/", tmppath);
  return fd;
}

/* the message's 'm' frames, up to its last frame (returned) */
static char frame_message(struct qframe_in *q, struct qframe *f, int fd,
                          unsigned long databytes, struct cscan *cs, unsigned long long *msglen)
{
  static char buf[QFRAME_CHUNK_MAX];
  const char *why;
  int r;
  *msglen = 0;
  while (f->type == QFRAME_DATA) {
    frame_payload(q, buf, f->len);
    *msglen += f->len;
    if (databytes && *msglen > databytes) qdie(QX_PERM_TOOBIG, "message larger than control/databytes");
    cscan_feed(cs, buf, f->len);
    hold_put(fd, buf, f->len);
    if ((r = qframe_next(q, f, &why)) != QF_OK) frame_die(r, why);
  }
  return f->type;
}

/* a top frame: its fields (whole lines) into top, counted in the content note */
static void frame_top(struct qframe_in *q, struct qframe *f, stralloc *top, struct cscan *cs)
{
  struct cscan tc;
  const char *why;
  int r;
  if (!stralloc_ready(top, f->len)) qdie(QX_TEMP_NOMEM, "out of memory");
  frame_payload(q, top->s, f->len);
  top->len = f->len;
  if (top->s[top->len - 1] != '\n') qdie(QX_PERM_FRAME, "malformed frame: the top does not end a line");
  cscan_init(&tc);
  cscan_feed(&tc, top->s, top->len);
  cs->eightbit |= tc.eightbit;
  if (tc.maxline > cs->maxline) cs->maxline = tc.maxline;
  if ((r = qframe_next(q, f, &why)) != QF_OK) frame_die(r, why);
}

static void frame_envelope(struct qframe_in *q, const struct qframe *f, stralloc *env)
{
  if (!stralloc_ready(env, f->len)) qdie(QX_TEMP_NOMEM, "out of memory");
  frame_payload(q, env->s, f->len);
  env->len = f->len;
}

static void cancelled(int fd)
{
  hold_clear();
  close(fd);
  alarm(0);
  tmp_live = 0;
  unlink(tmppath);
  reply(QX_PERM_CANCEL, 0);
}

/* the message a frame has begun: committed and answered, or cancelled */
static void serve_message(struct qframe_in *q, struct qframe *f, struct config *c, int trusted)
{
  static stralloc env, top;
  struct cscan cs;
  char id[QID_LEN + 1];
  unsigned long qtime;
  unsigned long long msglen;
  int fd;
  reply_owed = 1;
  alarm(QUEUE_WRITER_TIMEOUT);
  config_free(c);
  load_control(c);
  check_diskfree(c);
  fd = create_tmp(id, &qtime);
  cscan_init(&cs);
  top.len = 0;
  if (frame_message(q, f, fd, c->databytes, &cs, &msglen) == QFRAME_TOP) frame_top(q, f, &top, &cs);
  if (f->type == QFRAME_CANCEL) { cancelled(fd); return; }
  if (top.len) { fd = put_top(fd, &top, id); msglen += top.len; }
  hold_flush(fd);
  frame_envelope(q, f, &env);
  check_envelope(&env);
  if (!trusted) restrict_envelope(&env);
  add_content_note(&env, &cs);
  finish_tmp(fd, &env, msglen, qtime);
  commit(id);
  poke_trigger();
  reply(QX_OK, id);
}

static int serial(int trusted)
{
  struct qframe_in q;
  struct qframe f;
  struct config c;
  const char *why;
  int r;
  memset(&c, 0, sizeof c);
  qframe_in_init(&q, 0);
  for (;;) {
    r = qframe_next(&q, &f, &why);
    if (r == QF_END) return QX_OK;
    if (r != QF_OK) frame_die(r, why);
    serve_message(&q, &f, &c, trusted);
  }
}

int main(int argc, char **argv)
{
  struct instance in;
  int serve = argc == 2 && !strcmp(argv[1], "-s"), trusted;

  diag_prog = "imc-queue";
  if (argc > 1 && !serve) usage("[-s]");
  signal(SIGPIPE, SIG_IGN);
  signal(SIGALRM, on_alarm);
  alarm(QUEUE_WRITER_TIMEOUT);
  open_instance(&in);
  if (in.control >= 0) ctl_use_dir(in.control);
  if (fchdir(in.queue) < 0) fatalsys(QX_TEMP_QUEUE, "unable to enter ", imc_home(), "/queue");
  trusted = trusted_caller(&in);
  if (!serve) return one_message(trusted);
  alarm(0);
  return serial(trusted);
}
