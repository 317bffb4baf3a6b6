/*
 * selfpipe.c -- see selfpipe.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "selfpipe.h"

static int pfd[2] = { -1, -1 };

static void on_signal(int sig)
{
  char c = (char)sig;
  int e = errno;
  if (write(pfd[1], &c, 1) < 0) { /* the pipe is full: a wake-up is pending anyway */ }
  errno = e;
}

int selfpipe_init(void)
{
  if (pfd[0] < 0 && pipe2(pfd, O_CLOEXEC | O_NONBLOCK) < 0) return -1;
  return pfd[0];
}

int selfpipe_catch(int sig, int flags)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | flags;
  return sigaction(sig, &sa, 0);
}

int selfpipe_next(void)
{
  char c;
  return read(pfd[0], &c, 1) == 1 ? (unsigned char)c : 0;
}
