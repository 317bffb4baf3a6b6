/*
 * fileio.h -- small wrappers around POSIX file calls, each with one return
 * convention: 0 (or a count) on success, -1 with errno set on failure.
 * Helpers that are not atomic say so in their names.
 */
#ifndef IMC_FILEIO_H
#define IMC_FILEIO_H

#include <stddef.h>
#include <sys/types.h>
#include "owfat.h"

int write_all(int fd, const void *buf, size_t len);         /* retries short writes and EINTR */
ssize_t read_full(int fd, void *buf, size_t len);           /* until len or EOF; returns bytes read */
ssize_t pread_full(int fd, void *buf, size_t len, off_t off);
int file_read(const char *path, stralloc *sa);              /* 1 read, 0 missing, -1 error */
int file_read_at(int dirfd, const char *path, stralloc *sa);   /* the same, path relative to dirfd */
int file_read_fd(int fd, stralloc *sa);                     /* whole file from its current offset */
/* appends all of fd (to EOF) to sa: 0, -1 error (errno), -2 more than max bytes */
int fd_read_all(int fd, stralloc *sa, size_t max);
int dir_sync(const char *dir);                              /* fsync a directory */
int dir_sync_parent(const char *path);                      /* fsync the directory holding path */
/* write path.tmp, fsync, rename onto path, fsync the directory: atomic and durable */
int file_replace(const char *path, const char *data, size_t len, int mode);
/* the same with the new file's owner and group set (-1: unchanged) as well as its
   mode, both before any data is written: a secret is never readable by more */
int file_replace_owned(const char *path, const char *data, size_t len, int mode, uid_t uid, gid_t gid);
int fd_nonblock(int fd);
int fd_blocking(int fd);
int mkdir_p(const char *path, int mode);                    /* like mkdir -p; not atomic */

#endif
