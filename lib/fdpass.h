/*
 * fdpass.h -- passing open file descriptors over a Unix socket
 * (SCM_RIGHTS).  One call sends one record: a few bytes of data with up
 * to FDPASS_MAX descriptors.  On a SOCK_SEQPACKET socket a record arrives
 * whole, its descriptors with it.  What is received is close-on-exec;
 * a record whose descriptors did not all fit is refused whole (the ones
 * that came are closed).
 */
#ifndef IMC_FDPASS_H
#define IMC_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

#define FDPASS_MAX 253                 /* the kernel's SCM_MAX_FD */

/* one record; never blocks (EAGAIN) and never raises SIGPIPE (EPIPE): 0, -1 */
int fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds);
/* one record: its length (0 at EOF) with its descriptors in fds[0 .. *nfds), or -1
   with errno (EMSGSIZE: the data or the descriptors did not fit, nothing kept) */
ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fds, size_t *nfds, size_t maxfds);

#endif
