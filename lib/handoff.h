/*
 * handoff.h -- how imc-tcpd hands an accepted connection to an imc-smtpd
 * worker of its pool (docs/INTERNALS.md section 11).
 *
 * Each worker has a SOCK_SEQPACKET socketpair with imc-tcpd.  One datagram
 * from imc-tcpd is one session: the frame below with the client's socket
 * as its only SCM_RIGHTS descriptor.  One datagram from the worker,
 * "idle", says its session is over and it waits for the next.
 *
 * The frame: "imc1" NUL, then fields "NAME=VALUE" NUL, the names and
 * values of the environment imc-smtpd gets when it runs per connection
 * (TCPREMOTEIP, TCPREMOTEPORT, TCPLOCALIP, TCPLOCALPORT, IMC_RULE,
 * IMC_SUBMISSION, IMC_AUTHFAIL, IMC_ETRNWAIT).  At most HANDOFF_MAX bytes;
 * a value is 1 to HANDOFF_VALUE_MAX printable ASCII bytes without space;
 * a name appears once; a name the reader does not know is skipped (a
 * newer imc-tcpd may send more); TCPREMOTEIP must be there.
 *
 * Failure modes: handoff_parse refuses anything else (-1: the worker
 * closes the socket it came with and serves nobody); handoff_recv refuses
 * (EMSGSIZE, every descriptor closed) a datagram with more than one
 * descriptor or a truncated one (lib/fdpass.c does the passing).
 */
#ifndef IMC_HANDOFF_H
#define IMC_HANDOFF_H

#include <stddef.h>
#include <sys/types.h>

#define HANDOFF_MAX 512
#define HANDOFF_VALUE_MAX 63
#define HANDOFF_MAGIC "imc1"              /* with its NUL: the first 5 bytes */
#define HANDOFF_IDLE "idle"               /* the worker's datagram, 4 bytes */

enum { HF_REMOTEIP, HF_REMOTEPORT, HF_LOCALIP, HF_LOCALPORT, HF_RULE, HF_SUBMISSION,
       HF_AUTHFAIL, HF_ETRNWAIT, HF_N };

struct handoff {
  char value[HF_N][HANDOFF_VALUE_MAX + 1];
  int has[HF_N];
};

/* the field's name ("TCPREMOTEIP"...), its index by name (-1 unknown) */
const char *handoff_name(int field);
int handoff_field(const char *name, size_t len);

/* packing: start the frame, then add each field: the new length, or 0 when
   the field does not fit or its value is not allowed */
size_t handoff_start(char frame[HANDOFF_MAX]);
size_t handoff_add(char frame[HANDOFF_MAX], size_t len, int field, const char *value);
/* 0 a valid frame (h filled), -1 not */
int handoff_parse(struct handoff *h, const char *frame, size_t len);
/* the value of a field by name (the environment's names), 0 when absent */
const char *handoff_get(const struct handoff *h, const char *name);

/* one datagram with fd attached (-1: none), never blocking nor raising SIGPIPE: 0, -1 errno */
int handoff_send(int sock, const char *frame, size_t len, int fd);
/* one datagram, waiting for it: its length (0 at EOF), *fd the descriptor that came
   with it, close-on-exec, or -1; -1 errno (EMSGSIZE: truncated, nothing kept) */
ssize_t handoff_recv(int sock, char frame[HANDOFF_MAX], int *fd);

#endif
