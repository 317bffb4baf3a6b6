/*
 * fileio.c -- see fileio.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>       /* rename(2) only */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fileio.h"

int write_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

ssize_t read_full(int fd, void *buf, size_t len)
{
  char *p = buf;
  size_t got = 0;
  while (got < len) {
    ssize_t r = read(fd, p + got, len - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

ssize_t pread_full(int fd, void *buf, size_t len, off_t off)
{
  char *p = buf;
  size_t got = 0;
  while (got < len) {
    ssize_t r = pread(fd, p + got, len - got, off + (off_t)got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

int fd_read_all(int fd, stralloc *sa, size_t max)
{
  for (;;) {
    ssize_t r;
    if (sa->len >= max) return -2;
    if (!stralloc_readyplus(sa, 65536)) { errno = ENOMEM; return -1; }
    r = read(fd, sa->s + sa->len, 65536);
    if (r == 0) return 0;
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    sa->len += (size_t)r;
  }
}

int file_read_fd(int fd, stralloc *sa)
{
  sa->len = 0;
  return fd_read_all(fd, sa, (size_t)-1) < 0 ? -1 : 0;
}

int file_read(const char *path, stralloc *sa)
{
  return file_read_at(AT_FDCWD, path, sa);
}

int file_read_at(int dirfd, const char *path, stralloc *sa)
{
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  int r, e;
  if (fd < 0) {
    if (errno == ENOENT) { sa->len = 0; return 0; }
    return -1;
  }
  r = file_read_fd(fd, sa);
  e = errno;
  close(fd);
  errno = e;
  return r < 0 ? -1 : 1;
}

int dir_sync(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r, e;
  if (fd < 0) return -1;
  r = fsync(fd);
  e = errno;
  close(fd);
  errno = e;
  return r;
}

int dir_sync_parent(const char *path)
{
  char buf[4096];
  const char *slash = strrchr(path, '/');
  size_t n;
  if (!slash) return dir_sync(".");
  n = (size_t)(slash - path);
  if (n == 0) return dir_sync("/");
  if (n >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
  memcpy(buf, path, n);
  buf[n] = 0;
  return dir_sync(buf);
}

int file_replace(const char *path, const char *data, size_t len, int mode)
{
  return file_replace_owned(path, data, len, mode, (uid_t)-1, (gid_t)-1);
}

/* the new file gets its owner and mode before a byte of it is written */
static int fill_new(int fd, const char *data, size_t len, int mode, uid_t uid, gid_t gid)
{
  if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0) return -1;
  if (fchmod(fd, (mode_t)mode) < 0) return -1;
  return write_all(fd, data, len) < 0 || fsync(fd) < 0 ? -1 : 0;
}

int file_replace_owned(const char *path, const char *data, size_t len, int mode, uid_t uid, gid_t gid)
{
  stralloc tmp = {0};
  char num[FMT_ULONG];
  int fd, e;

  if (!stralloc_copys(&tmp, path) || !stralloc_cats(&tmp, ".tmp.")
      || !stralloc_catb(&tmp, num, fmt_ulong(num, (unsigned long)getpid()))
      || !stralloc_0(&tmp)) { errno = ENOMEM; return -1; }
  fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) goto fail;
  if (fill_new(fd, data, len, mode, uid, gid) < 0) { e = errno; close(fd); errno = e; goto fail_unlink; }
  if (close(fd) < 0) goto fail_unlink;
  if (rename(tmp.s, path) < 0) goto fail_unlink;
  stralloc_free(&tmp);
  return dir_sync_parent(path);
fail_unlink:
  e = errno; unlink(tmp.s); errno = e;
fail:
  e = errno; stralloc_free(&tmp); errno = e;
  return -1;
}

int fd_nonblock(int fd)
{
  int f = fcntl(fd, F_GETFL);
  return f < 0 ? -1 : fcntl(fd, F_SETFL, f | O_NONBLOCK);
}

int fd_blocking(int fd)
{
  int f = fcntl(fd, F_GETFL);
  return f < 0 ? -1 : fcntl(fd, F_SETFL, f & ~O_NONBLOCK);
}

int mkdir_p(const char *path, int mode)
{
  char buf[4096];
  size_t n = strlen(path), i;
  if (n >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
  memcpy(buf, path, n + 1);
  for (i = 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != 0) continue;
    buf[i] = 0;
    if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
    buf[i] = path[i];
  }
  return 0;
}
