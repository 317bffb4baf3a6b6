/*
 * fdpass.c -- see fdpass.h.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fdpass.h"

int fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
  union { char b[CMSG_SPACE(FDPASS_MAX * sizeof(int))]; struct cmsghdr align; } ctl;
  struct iovec iov;
  struct msghdr mh;
  if (nfds > FDPASS_MAX) { errno = EMSGSIZE; return -1; }
  memset(&mh, 0, sizeof mh);
  iov.iov_base = (void *)buf;
  iov.iov_len = len;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  if (nfds) {
    struct cmsghdr *c;
    memset(&ctl, 0, sizeof ctl);
    mh.msg_control = ctl.b;
    mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
    c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
  }
  for (;;) {
    ssize_t r = sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r >= 0) return (size_t)r == len ? 0 : (errno = EMSGSIZE, -1);
    if (errno != EINTR) return -1;
  }
}

/* the descriptors of every SCM_RIGHTS part: into fds while they fit, closed after */
static int take_fds(struct msghdr *mh, int *fds, size_t *nfds, size_t maxfds)
{
  struct cmsghdr *c;
  int over = 0;
  for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
    size_t n, i;
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (i = 0; i < n; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (*nfds < maxfds) fds[(*nfds)++] = fd;
      else { close(fd); over = 1; }
    }
  }
  return over ? -1 : 0;
}

ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fds, size_t *nfds, size_t maxfds)
{
  union { char b[CMSG_SPACE(FDPASS_MAX * sizeof(int))]; struct cmsghdr align; } ctl;
  struct iovec iov;
  struct msghdr mh;
  ssize_t r;
  *nfds = 0;
  memset(&mh, 0, sizeof mh);
  iov.iov_base = buf;
  iov.iov_len = len;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = ctl.b;
  mh.msg_controllen = sizeof ctl.b;
  do r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC); while (r < 0 && errno == EINTR);
  if (r < 0) return -1;
  if (take_fds(&mh, fds, nfds, maxfds) < 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
    while (*nfds) close(fds[--*nfds]);
    errno = EMSGSIZE;
    return -1;
  }
  return r;
}
