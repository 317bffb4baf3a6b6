/*
 * child.h -- running one of imc's programs with chosen file descriptors,
 * without fork(): posix_spawn (vfork-like), so a daemon with a large
 * memory image pays nothing for its size.  Each (from, to) pair becomes fd
 * `to` in the child; from == to passes an fd unchanged (its close-on-exec
 * flag is cleared in the child only).
 */
#ifndef IMC_CHILD_H
#define IMC_CHILD_H

#include <stddef.h>
#include <sys/types.h>

struct spawn_fd { int from, to; };

int spawn_prog(pid_t *pid, const char *path, char *const argv[], const struct spawn_fd *fds, size_t n);
int memfd_text(const char *name, const char *s, size_t len);   /* readable from offset 0; -1 error */
int wait_exitcode(pid_t pid);    /* its exit code; 128+signal if killed; -1 if waitpid failed */
/* a program installed setuid and setgid (imc-remote, imc-convert in system
   mode) makes its real ids its effective ones, so that nothing in it can
   switch back to its caller's: 0, -1 (errno) */
int ids_settle(void);

#endif
