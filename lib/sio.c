/*
 * sio.c -- a session's byte stream with timeouts (see sio.h).
 *
 * Input: s->rfd, or the TLS engine when s->tls is set; output: s->wfd, or
 * the engine.  Every step that may block first polls the fd for at most
 * s->timeout seconds (0: no limit) and never past s->deadline (0: none);
 * the deadline survives EINTR.  s->on_read, when set, hears of every
 * read from the fd (imc-smtpd's DATA rate moves the deadline with it).  Reads
 * fill s->in; sio_getline copies lines out of it, bounded by the caller's
 * max, so input never grows memory beyond max + 1 bytes per line;
 * sio_peek lends it out as it is and sio_skip takes what was used.  Writes
 * collect in s->out up to SIO_BUFSIZE and leave through sio_raw_write,
 * which retries short writes, EINTR and EAGAIN.
 *
 * Failure modes: -1 with errno (ETIMEDOUT when a step waited too long,
 * EBADF for a closed fd, ENOMEM, or whatever read/write said); -2 from
 * sio_getline for an overlong line, which is consumed and the stream
 * stays usable.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "sio.h"
#include "tls.h"

void sio_init(struct sio *s, int rfd, int wfd, unsigned timeout)
{
  s->rfd = rfd;
  s->wfd = wfd;
  s->timeout = timeout;
  s->inpos = s->inlen = 0;
  s->out.s = 0;
  s->out.len = s->out.a = 0;
  s->tls = 0;
  s->deadline = 0;
  s->on_read = 0;
}

void sio_free(struct sio *s)
{
  if (s->tls) tls_abort(s);
  stralloc_free(&s->out);
  s->out.s = 0;
  s->out.len = s->out.a = 0;
  s->inpos = s->inlen = 0;
}

long long sio_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait until fd is ready for events within secs (0: forever) and before the
   stream's deadline (0: none): 0, or -1 (ETIMEDOUT, EBADF...) */
static int fd_wait(const struct sio *s, int fd, short events, unsigned secs)
{
  long long deadline = secs ? sio_now_ms() + (long long)secs * 1000 : 0;   /* 0: none */
  struct pollfd p;
  if (s->deadline && (!deadline || s->deadline < deadline)) deadline = s->deadline;
  for (;;) {
    long long left = deadline ? deadline - sio_now_ms() : -1;
    int r;
    if (deadline && left <= 0) { errno = ETIMEDOUT; return -1; }
    if (left > INT_MAX) left = INT_MAX;
    p.fd = fd;
    p.events = events;
    p.revents = 0;
    r = poll(&p, 1, (int)left);
    if (r > 0) {
      if (p.revents & POLLNVAL) { errno = EBADF; return -1; }
      return 0;                 /* ready, or POLLHUP/POLLERR: the syscall tells */
    }
    if (r == 0) {
      if (deadline && sio_now_ms() >= deadline) { errno = ETIMEDOUT; return -1; }
      continue;                 /* INT_MAX ms passed on a very long timeout */
    }
    if (errno != EINTR) return -1;
  }
}

ssize_t sio_fd_read(struct sio *s, char *buf, size_t len)
{
  for (;;) {
    ssize_t r;
    if (fd_wait(s, s->rfd, POLLIN, s->timeout) < 0) return -1;
    r = read(s->rfd, buf, len);
    if (r > 0 && s->on_read) s->on_read(s, (size_t)r);
    if (r >= 0) return r;
    if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
  }
}

/* one write that never blocks beyond POLLOUT: sockets without waiting, pipes
   at most PIPE_BUF bytes (a blocking pipe with room takes that much at once) */
static ssize_t write_some(int fd, const char *buf, size_t len)
{
  ssize_t w = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (w >= 0 || errno != ENOTSOCK) return w;
  return write(fd, buf, len < PIPE_BUF ? len : PIPE_BUF);
}

ssize_t sio_fd_write(struct sio *s, const char *buf, size_t len)
{
  for (;;) {
    ssize_t w;
    if (fd_wait(s, s->wfd, POLLOUT, s->timeout) < 0) return -1;
    w = write_some(s->wfd, buf, len);
    if (w > 0) return w;
    if (w < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
  }
}

ssize_t sio_raw_read(struct sio *s, char *buf, size_t len)
{
  if (s->tls) return tls_read(s, buf, len);
  return sio_fd_read(s, buf, len);
}

int sio_raw_write(struct sio *s, const char *buf, size_t len)
{
  if (s->tls) return tls_write(s, buf, len);
  while (len) {
    ssize_t w = sio_fd_write(s, buf, len);
    if (w < 0) return -1;
    buf += w;
    len -= (size_t)w;
  }
  return 0;
}

/* refill an empty input buffer: 1, 0 EOF, -1 */
static int fill(struct sio *s)
{
  ssize_t r;
  s->inpos = s->inlen = 0;
  r = sio_raw_read(s, s->in, sizeof s->in);
  if (r <= 0) return (int)r;
  s->inlen = (size_t)r;
  return 1;
}

/* append to line what fits in limit bytes; *over when something did not: 0 or -1 */
static int keep(stralloc *line, const char *p, size_t n, size_t limit, int *over)
{
  size_t room = limit - line->len;
  if (n > room) { n = room; *over = 1; }
  if (n && !stralloc_catb(line, p, n)) { errno = ENOMEM; return -1; }
  return 0;
}

/* after the LF: strip the CR, set *crlf, judge the length */
static int line_end(stralloc *line, size_t max, int over, char last, int *crlf)
{
  if (crlf) *crlf = last == '\r';
  if (!over && last == '\r') line->len--;
  if (line->len > max) over = 1;
  if (over && line->len > max) line->len = max;
  return over ? -2 : 1;
}

int sio_getline(struct sio *s, stralloc *line, size_t max, int *crlf)
{
  int over = 0;
  char last = 0;                /* the byte before the LF, kept or not */
  line->len = 0;
  if (crlf) *crlf = 0;
  for (;;) {
    const char *p, *nl;
    size_t n, take;
    if (s->inpos == s->inlen) {
      int r = fill(s);
      if (r <= 0) return r;
    }
    p = s->in + s->inpos;
    n = s->inlen - s->inpos;
    nl = memchr(p, '\n', n);
    take = nl ? (size_t)(nl - p) : n;
    if (take) {
      last = p[take - 1];
      if (!over && keep(line, p, take, max + 1, &over) < 0) return -1;
    }
    s->inpos += take + (nl ? 1 : 0);
    if (nl) return line_end(line, max, over, last, crlf);
  }
}

ssize_t sio_read(struct sio *s, char *buf, size_t len)
{
  size_t n = s->inlen - s->inpos;
  if (!n) return sio_raw_read(s, buf, len);
  if (n > len) n = len;
  memcpy(buf, s->in + s->inpos, n);
  s->inpos += n;
  return (ssize_t)n;
}

int sio_peek(struct sio *s, const char **p, size_t *len)
{
  if (s->inpos == s->inlen) {
    int r = fill(s);
    if (r <= 0) return r;
  }
  *p = s->in + s->inpos;
  *len = s->inlen - s->inpos;
  return 1;
}

void sio_skip(struct sio *s, size_t n)
{
  size_t have = s->inlen - s->inpos;
  s->inpos += n < have ? n : have;
}

size_t sio_pending(const struct sio *s)
{
  return s->inlen - s->inpos + (s->tls ? tls_pending(s) : 0);
}

void sio_discard(struct sio *s)
{
  s->inpos = s->inlen = 0;
  if (s->tls) tls_discard(s);
}

int sio_flush(struct sio *s)
{
  int r;
  if (!s->out.len) return 0;
  r = sio_raw_write(s, s->out.s, s->out.len);
  s->out.len = 0;
  return r;
}

int sio_put(struct sio *s, const char *buf, size_t len)
{
  if (s->out.len && s->out.len + len > SIO_BUFSIZE && sio_flush(s) < 0) return -1;
  if (len >= SIO_BUFSIZE) return sio_raw_write(s, buf, len);
  if (!stralloc_catb(&s->out, buf, len)) { errno = ENOMEM; return -1; }
  return 0;
}

int sio_puts(struct sio *s, const char *str)
{
  return sio_put(s, str, strlen(str));
}

int sio_wait_readable(struct sio *s, unsigned ms)
{
  struct pollfd p;
  int r;
  if (sio_pending(s)) return 1;
  p.fd = s->rfd;
  p.events = POLLIN;
  p.revents = 0;
  do r = poll(&p, 1, ms > INT_MAX ? INT_MAX : (int)ms);
  while (r < 0 && errno == EINTR);
  if (r < 0) return -1;
  if (r > 0 && (p.revents & POLLNVAL)) { errno = EBADF; return -1; }
  return r > 0;
}
