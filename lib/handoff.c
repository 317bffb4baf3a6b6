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
#include "fdpass.h"
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
  return fdpass_send(sock, frame, len, &fd, fd >= 0 ? 1 : 0);
}

ssize_t handoff_recv(int sock, char frame[HANDOFF_MAX], int *fd)
{
  size_t n;
  ssize_t r = fdpass_recv(sock, frame, HANDOFF_MAX, fd, &n, 1);
  if (r < 0 || !n) *fd = -1;
  return r;
}
