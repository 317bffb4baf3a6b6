/*
 * sio.h -- a session's byte stream, plain or TLS, with timeouts.
 *
 * imc-smtpd and imc-remote do all their network I/O through one struct
 * sio, so that STARTTLS swaps the transport underneath the protocol code
 * and the protocol code never knows.  Reads are buffered (sio_getline
 * hands out whole lines); writes are buffered until sio_flush.  Every call
 * that may block waits at most `timeout` seconds (poll), then fails with
 * errno ETIMEDOUT.
 *
 * Return conventions: sio_getline 1 a line, 0 EOF, -1 error (errno);
 * -2 the line was longer than the limit (it is consumed up to its end, so
 * the caller may answer 500 and go on).  The others 0 or -1.
 */
#ifndef IMC_SIO_H
#define IMC_SIO_H

#include <stddef.h>
#include "owfat.h"

#define SIO_BUFSIZE 16384

struct tls_session;                 /* tls.h */

struct sio {
  int rfd, wfd;
  unsigned timeout;                 /* seconds, for every blocking step */
  char in[SIO_BUFSIZE];
  size_t inpos, inlen;              /* unread bytes are in[inpos..inlen) */
  stralloc out;                     /* waiting for sio_flush */
  struct tls_session *tls;          /* 0: plain */
};

void sio_init(struct sio *s, int rfd, int wfd, unsigned timeout);
/* a line ending in LF (the LF and a CR before it are removed; *crlf tells whether CR LF ended
   it, *bare whether a bare CR or LF appeared inside); max: the longest line accepted */
int sio_getline(struct sio *s, stralloc *line, size_t max, int *crlf);
ssize_t sio_read(struct sio *s, char *buf, size_t len);     /* >0, 0 EOF, -1 */
size_t sio_pending(const struct sio *s);                    /* bytes already buffered */
void sio_discard(struct sio *s);                            /* drop buffered input (after STARTTLS) */
int sio_put(struct sio *s, const char *buf, size_t len);
int sio_puts(struct sio *s, const char *str);
int sio_flush(struct sio *s);
int sio_wait_readable(struct sio *s, unsigned ms);          /* 1 data waiting, 0 none within ms, -1 */

/* the transport: plain fds, or the TLS session when s->tls is set (tls.c) */
ssize_t sio_raw_read(struct sio *s, char *buf, size_t len);
int sio_raw_write(struct sio *s, const char *buf, size_t len);

#endif
