/*
 * ready.h -- telling the supervisor that a daemon is ready (s6's readiness
 * notification): one newline written to the notification fd, which is
 * then closed.  imc-send, imc-tcpd and imc-pickup name the fd in
 * IMC_READY_FD (imc-pickup also as its argument).
 *
 * Failure modes: a write that fails is a warning (the daemon runs on; s6
 * then never sees it ready, which its logs show).
 */
#ifndef IMC_READY_H
#define IMC_READY_H

/* the fd that s names ("3"): the fd; -1 when s is null or empty; -2 when s is
   not a decimal number up to 65535 */
int ready_parse(const char *s);
/* the newline on fd, then close(fd); nothing when fd < 0 */
void ready_signal(int fd);

#endif
