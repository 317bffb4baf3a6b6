/*
 * ready.c -- readiness notification for s6 (see ready.h).
 */
#include <unistd.h>
#include "diag.h"
#include "owfat.h"
#include "ready.h"

int ready_parse(const char *s)
{
  unsigned long fd;
  size_t n;
  if (!s || !*s) return -1;
  n = scan_ulong(s, &fd);
  if (!n || s[n] || n > 5 || fd > 65535) return -2;
  return (int)fd;
}

void ready_signal(int fd)
{
  if (fd < 0) return;
  if (write(fd, "\n", 1) != 1) warnsys("unable to signal readiness");
  close(fd);
}
