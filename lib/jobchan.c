/*
 * jobchan.c -- see jobchan.h.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fileio.h"
#include "jobchan.h"

size_t jobchan_field_id(const char *f, size_t n, const char **id, size_t *idlen)
{
  const char *colon = memchr(f, ':', n);
  size_t len;
  *id = 0;
  *idlen = 0;
  if (!colon) return n;
  len = n - (size_t)(colon - f) - 1;
  if (!qid_valid(colon + 1, len)) return n;
  *id = colon + 1;
  *idlen = len;
  return (size_t)(colon - f);
}

int jobchan_pair(int *mine, int *theirs)
{
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -1;
  shutdown(sv[0], SHUT_RD);            /* the deliverer can send imc-send nothing this way */
  shutdown(sv[1], SHUT_WR);
  *mine = sv[0];
  *theirs = sv[1];
  return 0;
}

int jobchan_send(int chan, int jobs, const int *files, size_t nfiles)
{
  int fds[FDPASS_MAX];
  size_t i;
  if (nfiles > JOBCHAN_MAXFILES) { errno = EMSGSIZE; return -1; }
  fds[0] = jobs;
  for (i = 0; i < nfiles; i++) fds[i + 1] = files[i];
  return fdpass_send(chan, "B", 1, fds, nfiles + 1);
}

void jobsrc_init(struct jobsrc *s)
{
  int type = 0;
  socklen_t len = sizeof type;
  s->chan = getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET;
  s->ended = 0;
  s->nfiles = 0;
}

/* one record from the channel: its files kept, its job lines into in */
static int chan_next(struct jobsrc *s, stralloc *in, size_t max)
{
  int fds[FDPASS_MAX], r, e;
  size_t n, i;
  char b;
  ssize_t got = fdpass_recv(0, &b, 1, fds, &n, FDPASS_MAX);
  if (got <= 0) return (int)got;
  if (b != 'B' || n < 1) {
    for (i = 0; i < n; i++) close(fds[i]);
    errno = EPROTO;
    return -1;
  }
  r = fd_read_all(fds[0], in, max);
  e = errno;
  close(fds[0]);
  for (i = 1; i < n; i++) s->files[s->nfiles++] = fds[i];
  errno = e;
  return r < 0 ? r : 1;
}

int jobsrc_next(struct jobsrc *s, stralloc *in, size_t max)
{
  int r;
  in->len = 0;
  jobsrc_release(s);
  if (s->chan) return chan_next(s, in, max);
  if (s->ended) return 0;
  s->ended = 1;
  r = fd_read_all(0, in, max);
  return r < 0 ? r : 1;
}

int jobsrc_file(const struct jobsrc *s, int field)
{
  if (!s->chan) return field;
  return field >= JOBCHAN_FIRST && (size_t)(field - JOBCHAN_FIRST) < s->nfiles ? s->files[field - JOBCHAN_FIRST] : -1;
}

void jobsrc_release(struct jobsrc *s)
{
  while (s->nfiles) close(s->files[--s->nfiles]);
}
