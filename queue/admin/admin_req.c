/*
 * admin_req.c -- asking imc-send to act (docs/INTERNALS.md sections 9 and
 * 13); the administration tools never change a queue file themselves.
 *
 *   req_trigger   one line on queue/trigger (R lines: retry now).  The FIFO
 *                 is opened O_WRONLY|O_NONBLOCK: that fails with ENXIO when
 *                 nobody reads it, which is how the tools know that
 *                 imc-send is not running.  A line is one write(2).
 *   req_write     a request file: queue/ctl/.NAME written, fsynced, renamed
 *                 to queue/ctl/NAME (NAME = SECONDS.PID.N), queue/ctl/
 *                 fsynced; the caller then pokes the trigger with `C`.
 *   req_wait      imc-send removes a request once it has carried it out.
 *
 * Failure modes: -1 with errno for a missing queue/ctl/ (an instance made
 * before requests existed: imc-setup adds it), a trigger that is not a
 * FIFO (EINVAL), or a failed write; a half-written request is unlinked.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>        /* rename(2) only */
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "admin.h"
#include "fileio.h"

#define WAIT_STEP_MS 50

/* the trigger open for writing: fd, -2 nobody reads it, -1 error */
static int trigger_open(const struct aqueue *aq)
{
  stralloc p = {0};
  struct stat st;
  int fd = aq_path(aq, &p, "trigger") < 0 ? -1 : open(p.s, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  stralloc_free(&p);
  if (fd < 0) return errno == ENXIO ? -2 : -1;
  if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
    close(fd);
    errno = EINVAL;
    return -1;
  }
  return fd;
}

int req_sender_running(const struct aqueue *aq)
{
  int fd = trigger_open(aq);
  if (fd == -2) return 0;
  if (fd < 0) return -1;
  close(fd);
  return 1;
}

int req_trigger(const struct aqueue *aq, const char *line)
{
  char buf[256];
  size_t n = strlen(line);
  int fd, r;
  if (n >= sizeof buf) { errno = EINVAL; return -1; }
  memcpy(buf, line, n);
  buf[n++] = '\n';
  fd = trigger_open(aq);
  if (fd == -2) return 0;
  if (fd < 0) return -1;
  r = write(fd, buf, n) == (ssize_t)n ? 1 : -1;
  close(fd);
  return r;
}

static int ctl_name(stralloc *name)
{
  static unsigned long seq;
  char num[FMT_ULONG];
  name->len = 0;
  if (!stralloc_catb(name, num, fmt_ulong(num, (unsigned long)time(0))) || !stralloc_append(name, ".")
      || !stralloc_catb(name, num, fmt_ulong(num, (unsigned long)getpid())) || !stralloc_append(name, ".")
      || !stralloc_catb(name, num, fmt_ulong(num, ++seq)) || !stralloc_0(name)) { errno = ENOMEM; return -1; }
  name->len--;
  return 0;
}

static int write_synced(const char *path, const char *text)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), e;
  if (fd < 0) return -1;
  if (write_all(fd, text, strlen(text)) < 0 || write_all(fd, "\n", 1) < 0 || fsync(fd) < 0) {
    e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return close(fd);
}

/* tmp = queue/ctl/.NAME, fin = queue/ctl/NAME */
static int ctl_paths(const struct aqueue *aq, const stralloc *name, stralloc *tmp, stralloc *fin)
{
  stralloc rel = {0};
  int r = -1;
  if (stralloc_copys(&rel, "ctl/.") && stralloc_cat(&rel, name) && stralloc_0(&rel) && aq_path(aq, tmp, rel.s) == 0
      && stralloc_copys(&rel, "ctl/") && stralloc_cat(&rel, name) && stralloc_0(&rel) && aq_path(aq, fin, rel.s) == 0)
    r = 0;
  stralloc_free(&rel);
  if (r < 0) errno = ENOMEM;
  return r;
}

int req_write(const struct aqueue *aq, const char *text, stralloc *name)
{
  stralloc tmp = {0}, fin = {0};
  int r = -1, e;
  if (ctl_name(name) < 0 || ctl_paths(aq, name, &tmp, &fin) < 0) goto done;
  if (write_synced(tmp.s, text) < 0 || rename(tmp.s, fin.s) < 0) {
    e = errno;
    unlink(tmp.s);
    errno = e;
    goto done;
  }
  r = dir_sync_parent(fin.s);
done:
  stralloc_free(&tmp);
  stralloc_free(&fin);
  return r;
}

int req_wait(const struct aqueue *aq, const char *name, unsigned ms)
{
  stralloc p = {0}, rel = {0};
  struct stat st;
  int gone = 0;
  if (!stralloc_copys(&rel, "ctl/") || !stralloc_cats(&rel, name) || !stralloc_0(&rel)
      || aq_path(aq, &p, rel.s) < 0) adm_nomem();
  for (;;) {
    if (lstat(p.s, &st) < 0 && errno == ENOENT) { gone = 1; break; }
    if (ms < WAIT_STEP_MS) break;
    poll(0, 0, WAIT_STEP_MS);
    ms -= WAIT_STEP_MS;
  }
  stralloc_free(&p);
  stralloc_free(&rel);
  return gone;
}

int req_pending(const struct aqueue *aq, unsigned long *n, unsigned long *oldest)
{
  stralloc p = {0};
  DIR *d;
  struct dirent *e;
  *n = 0;
  *oldest = 0;
  if (aq_path(aq, &p, "ctl") < 0) return -1;
  d = opendir(p.s);
  stralloc_free(&p);
  if (!d) return -1;
  while ((e = readdir(d)) != 0) {
    unsigned long t;
    if (e->d_name[0] == '.') continue;
    (*n)++;
    if (scan_ulong(e->d_name, &t) && aq->now > t && aq->now - t > *oldest) *oldest = aq->now - t;
  }
  closedir(d);
  return 0;
}
