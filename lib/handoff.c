/*
 * handoff.c -- the frame imc-tcpd sends a worker with each connection, and
 * the sending and receiving of a descriptor with it (handoff.h).
 *
 * Inputs: a datagram from the socketpair (parse: any bytes).  Outputs: the
 * fields, or a refusal.  Failure modes: -1 with errno from sendmsg and
 * recvmsg; a datagram carrying more descriptors than one has the others
 * closed at once, so a confused peer cannot make the worker hold them.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "handoff.h"

static const char *const names[HF_N] = { "TCPREMOTEIP", "TCPREMOTEPORT", "TCPLOCALIP",
  "TCPLOCALPORT", "IMC_RULE", "IMC_SUBMISSION", "IMC_AUTHFAIL", "IMC_ETRNWAIT" };

const char *handoff_name(int field)
{
  return field >= 0 && field < HF_N ? names[field] : 0;
}

int handoff_field(const char *name, size_t len)
{
  int i;
  for (i = 0; i < HF_N; i++)
    if (strlen(names[i]) == len && !memcmp(names[i], name, len)) return i;
  return -1;
}

static int value_ok(const char *v, size_t len)
{
  size_t i;
  if (!len || len > HANDOFF_VALUE_MAX) return 0;
  for (i = 0; i < len; i++) if (v[i] <= ' ' || v[i] > '~') return 0;
  return 1;
}

size_t handoff_start(char frame[HANDOFF_MAX])
{
  memcpy(frame, HANDOFF_MAGIC, sizeof HANDOFF_MAGIC);
  return sizeof HANDOFF_MAGIC;
}

size_t handoff_add(char frame[HANDOFF_MAX], size_t len, int field, const char *value)
{
  const char *n = handoff_name(field);
  size_t nl, vl = value ? strlen(value) : 0;
  if (!n || !value_ok(value, vl)) return 0;
  nl = strlen(n);
  if (len + nl + 1 + vl + 1 > HANDOFF_MAX) return 0;
  memcpy(frame + len, n, nl);
  frame[len + nl] = '=';
  memcpy(frame + len + nl + 1, value, vl);
  frame[len + nl + 1 + vl] = 0;
  return len + nl + 1 + vl + 1;
}

/* one "NAME=VALUE" of length len (its NUL not counted): 0, -1 */
static int parse_field(struct handoff *h, const char *f, size_t len)
{
  const char *eq = memchr(f, '=', len);
  size_t vl;
  int i;
  if (!eq || eq == f) return -1;
  vl = len - (size_t)(eq + 1 - f);
  if (!value_ok(eq + 1, vl)) return -1;
  i = handoff_field(f, (size_t)(eq - f));
  if (i < 0) return 0;                              /* a newer imc-tcpd's field */
  if (h->has[i]) return -1;
  memcpy(h->value[i], eq + 1, vl);
  h->value[i][vl] = 0;
  h->has[i] = 1;
  return 0;
}

int handoff_parse(struct handoff *h, const char *frame, size_t len)
{
  size_t pos = sizeof HANDOFF_MAGIC;
  memset(h, 0, sizeof *h);
  if (len > HANDOFF_MAX || len < pos || memcmp(frame, HANDOFF_MAGIC, pos)) return -1;
  while (pos < len) {
    const char *nul = memchr(frame + pos, 0, len - pos);
    if (!nul || parse_field(h, frame + pos, (size_t)(nul - (frame + pos))) < 0) goto bad;
    pos = (size_t)(nul - frame) + 1;
  }
  if (h->has[HF_REMOTEIP]) return 0;
bad:
  memset(h, 0, sizeof *h);
  return -1;
}

const char *handoff_get(const struct handoff *h, const char *name)
{
  int i = handoff_field(name, strlen(name));
  return i >= 0 && h->has[i] ? h->value[i] : 0;
}

int handoff_send(int sock, const char *frame, size_t len, int fd)
{
  union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } ctl;
  struct iovec iov;
  struct msghdr m;
  memset(&m, 0, sizeof m);
  memset(&ctl, 0, sizeof ctl);
  iov.iov_base = (void *)frame;
  iov.iov_len = len;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  if (fd >= 0) {
    struct cmsghdr *c;
    m.msg_control = ctl.b;
    m.msg_controllen = sizeof ctl.b;
    c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  if (sendmsg(sock, &m, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len) return -1;
  return 0;
}

/* the descriptors of m: the first into *fd, the others closed */
static void take_fds(struct msghdr *m, int *fd)
{
  struct cmsghdr *c;
  for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
    size_t n, i;
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (i = 0; i < n; i++) {
      int got;
      memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
      if (*fd < 0) *fd = got;
      else close(got);
    }
  }
}

ssize_t handoff_recv(int sock, char frame[HANDOFF_MAX], int *fd)
{
  union { struct cmsghdr h; char b[CMSG_SPACE(4 * sizeof(int))]; } ctl;
  struct iovec iov;
  struct msghdr m;
  ssize_t r;
  *fd = -1;
  memset(&m, 0, sizeof m);
  iov.iov_base = frame;
  iov.iov_len = HANDOFF_MAX;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl.b;
  m.msg_controllen = sizeof ctl.b;
  do r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r < 0) return -1;
  take_fds(&m, fd);
  if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
    errno = EMSGSIZE;
    return -1;
  }
  return r;
}
