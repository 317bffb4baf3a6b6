/*
 * smtp_worker.c -- imc-smtpd as a worker of imc-tcpd's pool: the loop that
 * takes one connection at a time from imc-tcpd, serves it, forgets it,
 * and says it is idle (docs/INTERNALS.md section 11, lib/handoff.h).
 *
 * Inputs: fd 0, the worker's end of a SOCK_SEQPACKET socketpair with
 * imc-tcpd (moved to a close-on-exec fd; 0 and 1 become /dev/null); each
 * datagram is a frame with the client's socket.  Outputs: the sessions;
 * "idle" after each.  The worker exits 0 when imc-tcpd closes its end
 * (it retires the worker after control/smtpdmaxuse sessions or
 * control/smtpdidle seconds idle, or has stopped), 111 when it cannot set
 * itself up.
 *
 * Between two sessions (session_forget): smtp_msg.c gives up a DATA cut
 * short and wipes its buffers; a TLS session is wiped and freed (lib/tls.c:
 * keys and buffers zeroed); the sio's output buffer, the recipients and
 * the command line are wiped and freed; the struct session is wiped as a
 * whole (its input buffer with it); the stack below the loop is wiped
 * (AUTH responses decoded into locals of a session cut short).  Wiping
 * hands the whole pages back to the kernel (lib/wipe.c: MADV_DONTNEED,
 * and malloc_trim for the heap), so an idle worker holds little private
 * memory however big its last session was.
 *
 * Control files: before each session the files imc-smtpd reads are
 * stat()ed (smtpd_config_files, tls/cert.pem, tls/key.pem;
 * device, inode, size, mtime and ctime to the nanosecond); when any
 * differs from the last load, they are all loaded again (imc-ctl set
 * replaces a file by rename: a new inode).  directory.cdb is reopened
 * when it was replaced (directory_refresh).  Control files with errors:
 * each session gets 421 4.3.5 until they are fixed.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "control.h"
#include "diag.h"
#include "exitcodes.h"
#include "handoff.h"
#include "smtpd.h"
#include "tls.h"
#include "wipe.h"

#define STAMP_MAX 64                 /* control files watched */
#define STACK_WIPE 131072            /* bytes of stack below the loop wiped and released after a session */

struct stamp {
  int present;
  dev_t dev;
  ino_t ino;
  off_t size;
  long long mtime, ctime;            /* ns */
};

static struct stamp stamps[STAMP_MAX];
static struct handoff current;       /* the frame of the session being served */

static const char *frame_var(const char *name) { return handoff_get(&current, name); }

/* ---- control files */

static const char *watched(size_t i)
{
  static const char *const tls[] = { "tls/cert.pem", "tls/key.pem" };
  size_t n = 0;
  while (smtpd_config_files[n]) n++;
  if (i < n) return smtpd_config_files[i];
  return i - n < 2 ? tls[i - n] : 0;
}

static void stamp_take(struct stamp *t, int dirfd, const char *name)
{
  struct stat st;
  memset(t, 0, sizeof *t);
  if (fstatat(dirfd, name, &st, 0) < 0) return;
  t->present = 1;
  t->dev = st.st_dev;
  t->ino = st.st_ino;
  t->size = st.st_size;
  t->mtime = (long long)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  t->ctime = (long long)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
}

/* 1 when a watched file changed since the last call (the first call: 1) */
static int control_changed(void)
{
  static int first = 1;
  struct stamp now;
  stralloc dir = {0};
  int fd, changed = first;
  size_t i;
  if (imc_path2(&dir, "control", ".") < 0) return 1;
  fd = open(dir.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  stralloc_free(&dir);
  if (fd < 0) return 1;
  for (i = 0; i < STAMP_MAX && watched(i); i++) {
    stamp_take(&now, fd, watched(i));
    if (memcmp(&now, &stamps[i], sizeof now)) { stamps[i] = now; changed = 1; }
  }
  close(fd);
  first = 0;
  return changed;
}

static void base_refresh(struct smtpd_base *b)
{
  if (control_changed()) { smtpd_base_load(b); return; }
  if (!b->dir_ok) b->dir_ok = directory_open(&b->dir) == 0;
  else if (directory_refresh(&b->dir) < 0) warnsys("unable to reopen control/directory.cdb");
}

/* ---- forgetting a session */

static void wipe_sa(stralloc *sa)
{
  if (sa->s) explicit_bzero(sa->s, sa->a);
  stralloc_free(sa);
  sa->s = 0;
  sa->len = sa->a = 0;
}

static void session_forget(struct session *s, struct smtpd_base *b)
{
  smtpd_msg_forget();
  if (s->dir_ok && !b->dir_ok) { b->dir = s->dir; b->dir_ok = 1; }   /* opened in the session */
  if (s->sio.tls) tls_abort(&s->sio);
  wipe_sa(&s->sio.out);
  wipe_sa(&s->rcpts);
  wipe_sa(&s->rcpt_dsn);
  wipe_sa(&s->line);
  wipe_release(s, sizeof *s);
  explicit_bzero(&current, sizeof current);
  wipe_stack_below(STACK_WIPE);
  wipe_heap_trim();
}

/* ---- the loop */

static int ctl_setup(void)
{
  int ctl = fcntl(0, F_DUPFD_CLOEXEC, 3), null;
  if (ctl < 0) fatalsys(EX_TEMP, "unable to set up the worker's socket");
  null = open("/dev/null", O_RDWR);
  if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0) fatalsys(EX_TEMP, "unable to open /dev/null");
  if (null > 1) close(null);
  return ctl;
}

static void serve_one(struct session *s, struct smtpd_base *b, int fd)
{
  sigjmp_buf back;
  if (sigsetjmp(back, 0) == 0) {
    smtpd_end_jump(&back);
    base_refresh(b);
    smtpd_session(s, b, fd, fd, frame_var);
  }
  smtpd_end_jump(0);
}

void smtpd_worker(struct session *s, struct smtpd_base *b)
{
  char frame[HANDOFF_MAX];
  int ctl = ctl_setup(), fd;
  for (;;) {
    ssize_t r = handoff_recv(ctl, frame, &fd);
    if (r == 0) { smtpd_queue_close(); _exit(EX_OK); }
    if (r < 0 && errno != EMSGSIZE) fatalsys(EX_TEMP, "unable to read from imc-tcpd");
    if (r > 0 && fd >= 0 && handoff_parse(&current, frame, (size_t)r) == 0) serve_one(s, b, fd);
    else warn("imc-tcpd sent a connection this worker cannot read: closed");
    if (fd >= 0) close(fd);
    session_forget(s, b);
    if (send(ctl, HANDOFF_IDLE, sizeof HANDOFF_IDLE - 1, MSG_NOSIGNAL) < 0 && errno != EPIPE)
      warnsys("unable to tell imc-tcpd the worker is idle");
  }
}
