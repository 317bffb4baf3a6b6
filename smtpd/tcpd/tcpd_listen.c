/*
 * tcpd_listen.c -- imc-tcpd's listening sockets (see tcpd.h).
 *
 * Inputs: the addresses of IMC_LISTEN (space separated, IPv4 or IPv6
 * text) and the ports of IMC_PORT and IMC_SUBMISSION_PORT.  Outputs: one
 * non-blocking, close-on-exec socket per address and port, bound with
 * SO_REUSEADDR (so a restart does not wait for TIME_WAIT) and never
 * SO_REUSEPORT (so a second listener on the same port fails with
 * EADDRINUSE instead of sharing it); IPv6 sockets are IPV6_V6ONLY, so
 * `0.0.0.0` and `::` can both be bound.  Failure modes: -1 with errno from
 * socket, setsockopt, bind or listen; the caller decides what is fatal.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "rules.h"
#include "tcpd.h"

int tcpd_scan_port(const char *s, unsigned *port)
{
  unsigned long v;
  if (!s || s[0] == '0' || strlen(s) > 5 || !ctl_scan_ulong(s, &v) || v > 65535) return 0;
  *port = (unsigned)v;
  return 1;
}

int tcpd_next_addr(const char **p, unsigned char ip[16], char *buf, size_t cap, const char **word)
{
  const char *s = *p, *w;
  size_t n;
  while (*s == ' ' || *s == '\t' || *s == '\n') s++;
  if (!*s) { *p = s; return 0; }
  w = s;
  while (*s && *s != ' ' && *s != '\t' && *s != '\n') s++;
  *p = s;
  n = (size_t)(s - w);
  if (n >= cap) n = cap - 1;
  memcpy(buf, w, n);
  buf[n] = 0;
  *word = buf;
  return ip_scan(buf, ip) ? 1 : -1;
}

static int sock_bind(int fd, const unsigned char ip[16], unsigned port)
{
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0) return -1;
  if (ip_is_v4(ip)) {
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    memcpy(&sa.sin_addr, ip + 12, 4);
    return bind(fd, (struct sockaddr *)&sa, sizeof sa);
  } else {
    struct sockaddr_in6 sa;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) < 0) return -1;
    memset(&sa, 0, sizeof sa);
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons((unsigned short)port);
    memcpy(&sa.sin6_addr, ip, 16);
    return bind(fd, (struct sockaddr *)&sa, sizeof sa);
  }
}

int tcpd_listen(struct tcpd_listener *l, const unsigned char ip[16], unsigned port, int submission)
{
  int fd = socket(ip_is_v4(ip) ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), e;
  if (fd < 0) return -1;
  if (sock_bind(fd, ip, port) < 0 || listen(fd, TCPD_BACKLOG) < 0) {
    e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  l->fd = fd;
  l->submission = submission;
  memcpy(l->ip, ip, 16);
  l->port = port;
  return 0;
}
