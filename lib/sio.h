/*
 * sio.h -- a session's byte stream, plain or TLS, with timeouts.
 *
 * imc-smtpd and imc-remote do all their network I/O through one struct
 * sio, so that STARTTLS swaps the transport underneath the protocol code
 * and the protocol code never knows.  Reads are buffered (sio_getline
 * hands out whole lines); writes are buffered until sio_flush (or until
 * SIO_BUFSIZE bytes wait).  Every call that may block waits at most
 * `timeout` seconds per step (poll), then fails with errno ETIMEDOUT.
 * Blocking and non-blocking fds both work.  Writes to a socket never
 * raise SIGPIPE (MSG_NOSIGNAL); a pipe whose reader is gone does, unless
 * the program ignores it.
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
  long long deadline;               /* sio_now_ms() no step waits past (ETIMEDOUT); 0: none */
  void (*on_read)(struct sio *s, size_t n);   /* 0, or told of each n > 0 bytes read from rfd */
};

long long sio_now_ms(void);         /* CLOCK_MONOTONIC in milliseconds, the clock of deadline */

void sio_init(struct sio *s, int rfd, int wfd, unsigned timeout);   /* timeout 0: no limit */
/* one line ending in LF.  The LF, and a CR right before it, are removed.
   *crlf (crlf may be 0) is 1 when the line ended with "\r\n", 0 when it
   ended with a lone "\n" (bare LF).  A CR not followed by LF stays in the
   line (bare CR): the caller finds it with memchr.  A LF never appears
   inside a line.  max: the most bytes the line may have without its
   ending; a longer line is consumed up to its LF and -2 is returned (line
   then holds its first max bytes).  0 at EOF: the start of a last line
   without LF (its first max + 1 bytes at most) is left in line for
   logging, never returned as a line.  line never holds more than max + 1
   bytes, whatever the input. */
int sio_getline(struct sio *s, stralloc *line, size_t max, int *crlf);
ssize_t sio_read(struct sio *s, char *buf, size_t len);     /* >0, 0 EOF, -1 */
/* the input as it comes, for a reader that must see every octet (imc-smtpd's DATA):
   the buffered bytes, read from the transport first when there are none.  1: *p and
   *len (> 0) set, the bytes stay buffered until sio_skip takes the n the caller used;
   0 EOF; -1 error (errno) */
int sio_peek(struct sio *s, const char **p, size_t *len);
void sio_skip(struct sio *s, size_t n);
size_t sio_pending(const struct sio *s);                    /* input bytes already buffered (with TLS: decrypted too) */
void sio_discard(struct sio *s);                            /* drop them (tls_*_start does it itself) */
/* sio_put buffers; when more than SIO_BUFSIZE bytes would wait it flushes first, and
   writes a piece of SIO_BUFSIZE or more at once: output memory stays bounded */
int sio_put(struct sio *s, const char *buf, size_t len);
int sio_puts(struct sio *s, const char *str);
int sio_flush(struct sio *s);
/* 1 data waiting (buffered, or the fd is readable: with TLS maybe only part of a record),
   0 none within ms (0: just look), -1 */
int sio_wait_readable(struct sio *s, unsigned ms);

/* the transport: plain fds, or the TLS session when s->tls is set (tls.c) */
ssize_t sio_raw_read(struct sio *s, char *buf, size_t len);
int sio_raw_write(struct sio *s, const char *buf, size_t len);

/* added: the fds alone, one step each, with the timeout (tls.c drives the engine with them) */
ssize_t sio_fd_read(struct sio *s, char *buf, size_t len);        /* >0, 0 EOF, -1 */
ssize_t sio_fd_write(struct sio *s, const char *buf, size_t len); /* >0 bytes written (maybe fewer), -1 */
void sio_free(struct sio *s);    /* frees the output buffer (and a TLS session without close_notify);
                                    the fds stay open */

#endif
