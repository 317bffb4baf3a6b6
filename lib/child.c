/*
 * child.c -- see child.h.
 */
#include <errno.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fileio.h"
#include "child.h"

extern char **environ;

int spawn_prog(pid_t *pid, const char *path, char *const argv[], const struct spawn_fd *fds, size_t n)
{
  posix_spawn_file_actions_t fa;
  size_t i;
  int r;
  if (posix_spawn_file_actions_init(&fa)) return -1;
  for (i = 0; i < n; i++)
    if (posix_spawn_file_actions_adddup2(&fa, fds[i].from, fds[i].to)) {
      posix_spawn_file_actions_destroy(&fa);
      errno = ENOMEM;
      return -1;
    }
  r = posix_spawn(pid, path, &fa, 0, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (r) { errno = r; return -1; }
  return 0;
}

int memfd_text(const char *name, const char *s, size_t len)
{
  int fd = memfd_create(name, MFD_CLOEXEC), e;
  if (fd < 0) return -1;
  if (write_all(fd, s, len) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
    e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int wait_exitcode(pid_t pid)
{
  int st;
  while (waitpid(pid, &st, 0) < 0) if (errno != EINTR) return -1;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

int ids_settle(void)
{
  gid_t g = getegid();
  uid_t u = geteuid();
  if (getgid() != g && setregid(g, g) < 0) return -1;
  if (getuid() != u && setreuid(u, u) < 0) return -1;
  return 0;
}
