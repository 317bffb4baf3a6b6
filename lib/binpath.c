/*
 * binpath.c -- see binpath.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "binpath.h"

int bin_path(stralloc *sa, const char *prog)
{
  const char *dir = getenv("IMC_BIN");
  char exe[4096];
  if (dir && *dir) {
    if (!stralloc_copys(sa, dir)) goto nomem;
  } else {
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash;
    if (n < 0) return -1;
    exe[n] = 0;
    slash = strrchr(exe, '/');
    if (!slash) { errno = ENOENT; return -1; }
    if (!stralloc_copyb(sa, exe, (size_t)(slash - exe))) goto nomem;
  }
  if (!stralloc_append(sa, "/") || !stralloc_cats(sa, prog) || !stralloc_0(sa)) goto nomem;
  sa->len--;
  return 0;
nomem:
  errno = ENOMEM;
  return -1;
}
