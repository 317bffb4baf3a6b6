/*
 * tcpconn.c -- an outbound TCP connection with a time limit (see tcpconn.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "tcpconn.h"
#include "rules.h"

static socklen_t make_addr(struct sockaddr_storage *ss, const char ip[16], unsigned port)
{
  memset(ss, 0, sizeof *ss);
  if (ip_is_v4((const unsigned char *)ip)) {
    struct sockaddr_in *sa = (struct sockaddr_in *)ss;
    sa->sin_family = AF_INET;
    sa->sin_port = htons((unsigned short)port);
    memcpy(&sa->sin_addr, ip + 12, 4);
    return sizeof *sa;
  } else {
    struct sockaddr_in6 *sa = (struct sockaddr_in6 *)ss;
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons((unsigned short)port);
    memcpy(&sa->sin6_addr, ip, 16);
    return sizeof *sa;
  }
}

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait for the connect to finish: 0, or -1 with errno */
static int connect_wait(int fd, unsigned timeout)
{
  long long deadline = now_ms() + (long long)timeout * 1000;
  struct pollfd p;
  int err = 0, r;
  socklen_t len = sizeof err;
  for (;;) {
    long long left = timeout ? deadline - now_ms() : -1;     /* 0: the kernel's own limit */
    if (timeout && left <= 0) { errno = ETIMEDOUT; return -1; }
    if (left > 1000000) left = 1000000;
    p.fd = fd;
    p.events = POLLOUT;
    r = poll(&p, 1, (int)left);
    if (r > 0) break;
    if (r < 0 && errno != EINTR) return -1;
  }
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return -1;
  if (err) { errno = err; return -1; }
  return 0;
}

int tcp_connect(const char ip[16], unsigned port, unsigned timeout)
{
  struct sockaddr_storage ss;
  socklen_t len = make_addr(&ss, ip, port);
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), e;
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&ss, len) == 0) return fd;
  if (errno == EINPROGRESS && connect_wait(fd, timeout) == 0) return fd;
  e = errno;
  close(fd);
  errno = e;
  return -1;
}
