/*
 * dnsq.c -- the stub resolver's transport: the servers, one question over
 * UDP (and TCP when the UDP answer is truncated), tries and deadlines
 * (see dnsq.h).
 *
 * Each try opens a socket of its own, binds it to a random port (the
 * kernel's choice after DNSQ_BIND_TRIES ports in use), connects it to the
 * server (so the kernel hands it only datagrams from that address and
 * port) and sends the question with a random id from getrandom(2).  A
 * datagram that is not an answer to it (dnsq_parse) is dropped and the
 * wait goes on until the try's end.  A server that refuses (ICMP port
 * unreachable), fails (SERVFAIL, REFUSED) or stays silent passes the
 * question to the next one.  Failure modes: everything that is not an
 * answer by the deadline is DNSQ_TEMP.  No stdio; no signals.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "dnsq.h"
#include "rules.h"

#define DNSQ_BIND_TRIES 8
#define QMAX (12 + 255 + 4)

unsigned long long dnsq_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

static unsigned random16(void)
{
  unsigned char b[2];
  if (getrandom(b, 2, 0) != 2) {              /* never on Linux >= 3.17; still not a constant */
    unsigned long long t = dnsq_now() ^ ((unsigned long long)getpid() << 16);
    b[0] = (unsigned char)(t >> 3);
    b[1] = (unsigned char)(t >> 11);
  }
  return (unsigned)b[0] << 8 | b[1];
}

/* ---- addresses */

static int to_sockaddr(const unsigned char ip[16], unsigned port, struct sockaddr_storage *ss, socklen_t *sl)
{
  memset(ss, 0, sizeof *ss);
  if (ip_is_v4(ip)) {
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((unsigned short)port);
    memcpy(&s4->sin_addr, ip + 12, 4);
    *sl = sizeof *s4;
    return AF_INET;
  }
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
  s6->sin6_family = AF_INET6;
  s6->sin6_port = htons((unsigned short)port);
  memcpy(&s6->sin6_addr, ip, 16);
  *sl = sizeof *s6;
  return AF_INET6;
}

/* a socket of type to ip port 53, from a random local port; -1 on failure */
static int open_to(const unsigned char ip[16], int type)
{
  static const unsigned char any4[16] = {0,0,0,0, 0,0,0,0, 0,0,0xff,0xff, 0,0,0,0};
  static const unsigned char any6[16] = {0};
  struct sockaddr_storage ss;
  socklen_t sl;
  int fam = to_sockaddr(ip, 53, &ss, &sl), fd, i;
  fd = socket(fam, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  for (i = 0; i <= DNSQ_BIND_TRIES; i++) {
    struct sockaddr_storage me;
    socklen_t ml;
    unsigned port = i < DNSQ_BIND_TRIES ? 1024 + random16() % 64512 : 0;
    to_sockaddr(fam == AF_INET ? any4 : any6, port, &me, &ml);
    if (bind(fd, (struct sockaddr *)&me, ml) == 0) break;
    if (errno != EADDRINUSE && errno != EACCES) break;
  }
  if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) { close(fd); return -1; }
  return fd;
}

/* wait for ev on fd until the time `until`: 1 ready, 0 time is up */
static int wait_fd(int fd, short ev, unsigned long long until)
{
  struct pollfd p;
  unsigned long long now;
  int r;
  for (;;) {
    now = dnsq_now();
    if (now >= until) return 0;
    p.fd = fd;
    p.events = ev;
    r = poll(&p, 1, (int)(until - now > 60000 ? 60000 : until - now));
    if (r > 0) return 1;
    if (r < 0 && errno != EINTR) return 0;
  }
}

/* ---- one try */

static size_t make_query(unsigned char *q, const unsigned char *wire, size_t wlen, unsigned type)
{
  unsigned id = random16();
  memset(q, 0, 12);
  q[0] = (unsigned char)(id >> 8);
  q[1] = (unsigned char)id;
  q[2] = 0x01;                               /* RD */
  q[5] = 1;                                  /* QDCOUNT */
  memcpy(q + 12, wire, wlen);
  q[12 + wlen] = (unsigned char)(type >> 8);
  q[13 + wlen] = (unsigned char)type;
  q[14 + wlen] = 0;
  q[15 + wlen] = 1;                          /* class IN */
  return 16 + wlen;
}

/* over UDP: 1 answered (r->status), 2 truncated, 0 no answer by `until` */
static int try_udp(const unsigned char ip[16], const unsigned char *q, size_t qlen,
                   unsigned long long until, struct dnsq_result *r)
{
  static unsigned char buf[4096];
  ssize_t n;
  int fd = open_to(ip, SOCK_DGRAM), rc = 0;
  if (fd < 0) return 0;
  if (send(fd, q, qlen, 0) != (ssize_t)qlen) { close(fd); return 0; }
  while (wait_fd(fd, POLLIN, until)) {
    n = recv(fd, buf, sizeof buf, MSG_TRUNC);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) break;                        /* refused: the next server */
    if ((size_t)n > sizeof buf) { rc = 2; break; }
    if ((rc = dnsq_parse(buf, (size_t)n, q, qlen, r)) != 0) break;
  }
  close(fd);
  return rc;
}

/* all of len bytes to or from fd by `until`: 0 done, -1 not */
static int tcp_io(int fd, unsigned char *b, size_t len, int out, unsigned long long until)
{
  ssize_t n;
  while (len) {
    if (!wait_fd(fd, out ? POLLOUT : POLLIN, until)) return -1;
    n = out ? write(fd, b, len) : read(fd, b, len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return -1;
    b += n;
    len -= (size_t)n;
  }
  return 0;
}

/* over TCP: 1 answered (r->status), 0 no answer by `until` */
static int try_tcp(const unsigned char ip[16], const unsigned char *q, size_t qlen,
                   unsigned long long until, struct dnsq_result *r)
{
  static stralloc buf;
  unsigned char out[2 + QMAX], l[2];
  size_t n;
  int fd = open_to(ip, SOCK_STREAM), rc = 0;
  if (fd < 0) return 0;
  out[0] = (unsigned char)(qlen >> 8);
  out[1] = (unsigned char)qlen;
  memcpy(out + 2, q, qlen);
  if (tcp_io(fd, out, qlen + 2, 1, until) == 0 && tcp_io(fd, l, 2, 0, until) == 0) {
    n = (size_t)l[0] << 8 | l[1];
    if (stralloc_ready(&buf, n + 1) && tcp_io(fd, (unsigned char *)buf.s, n, 0, until) == 0)
      rc = dnsq_parse((unsigned char *)buf.s, n, q, qlen, r) == 1;
  }
  close(fd);
  return rc;
}

int dnsq_query(const struct dnsq_servers *s, const char *name, unsigned type,
               unsigned long long deadline, struct dnsq_result *r)
{
  unsigned char wire[256], q[QMAX];
  size_t wlen = dnsq_name_wire(name, wire), qlen;
  unsigned round, i, try_ms = s->try_ms ? s->try_ms : DNSQ_TRY_MS;
  unsigned long long now, until;
  int rc;
  r->recs.len = 0;
  r->n = 0;
  if (!wlen) return r->status = DNSQ_BADNAME;
  for (round = 0; round < DNSQ_ROUNDS; round++)
    for (i = 0; i < s->n; i++) {
      now = dnsq_now();
      if (now >= deadline) return r->status = DNSQ_TEMP;
      until = now + try_ms < deadline ? now + try_ms : deadline;
      qlen = make_query(q, wire, wlen, type);
      rc = try_udp(s->ip[i], q, qlen, until, r);
      if (rc == 2) rc = try_tcp(s->ip[i], q, qlen, until, r);
      if (rc == 1 && r->status != DNSQ_TEMP) return r->status;
    }
  r->recs.len = 0;
  r->n = 0;
  return r->status = DNSQ_TEMP;
}
