/*
 * t_sio.c -- lib/sio.c over socketpairs and pipes: line endings (CR LF,
 * bare LF, CR inside a line), overlong lines, a line dribbled in one byte
 * at a time, EOF with a partial line, read and write timeouts, discarding
 * pipelined input, bulk reads, peeking at the buffered input, and large writes through a small pipe with
 * a slow reader (short writes, EAGAIN on a non-blocking fd, PIPE_BUF
 * steps on a blocking one).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "sio.h"

static void pair(int fd[2])
{
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fd) < 0) { perror("socketpair"); exit(111); }
}

static void put(int fd, const char *s)
{
  if (write(fd, s, strlen(s)) != (ssize_t)strlen(s)) { perror("write"); exit(111); }
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int child_exit(pid_t pid)
{
  int st;
  if (waitpid(pid, &st, 0) < 0) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_endings(void)
{
  struct sio s;
  stralloc line = { 0, 0, 0 };
  int fd[2], crlf = -1;
  pair(fd);
  sio_init(&s, fd[0], fd[0], 5);
  put(fd[1], "HELO a\r\nbare\nmid\rdle\r\n\r\nx\r\r\nlast\r");
  CHECK(sio_getline(&s, &line, 100, &crlf) == 1);
  CHECK_MEM(line.s, line.len, "HELO a");
  CHECK(crlf == 1);
  CHECK(sio_getline(&s, &line, 100, &crlf) == 1);
  CHECK_MEM(line.s, line.len, "bare");
  CHECK(crlf == 0);
  CHECK(sio_getline(&s, &line, 100, &crlf) == 1);
  CHECK_MEM(line.s, line.len, "mid\rdle");              /* the bare CR stays */
  CHECK(crlf == 1);
  CHECK(sio_getline(&s, &line, 100, &crlf) == 1);
  CHECK(line.len == 0 && crlf == 1);
  CHECK(sio_getline(&s, &line, 100, &crlf) == 1);
  CHECK_MEM(line.s, line.len, "x\r");
  CHECK(crlf == 1);
  close(fd[1]);
  CHECK(sio_getline(&s, &line, 100, 0) == 0);            /* EOF: the partial line is kept */
  CHECK_MEM(line.s, line.len, "last\r");
  CHECK(sio_getline(&s, &line, 100, &crlf) == 0);
  CHECK(line.len == 0);
  sio_free(&s);
  close(fd[0]);
  stralloc_free(&line);
}

static void test_overlong(void)
{
  struct sio s;
  stralloc line = { 0, 0, 0 };
  char *big;
  int fd[2], crlf = -1;
  pid_t pid;
  pair(fd);
  sio_init(&s, fd[0], fd[0], 5);
  put(fd[1], "0123456789\r\n0123456789A\r\nnext\r\n0123456789\n01234567890\n");
  CHECK(sio_getline(&s, &line, 10, &crlf) == 1);        /* exactly max bytes, CR LF */
  CHECK(line.len == 10 && crlf == 1);
  CHECK(sio_getline(&s, &line, 10, &crlf) == -2);
  CHECK_MEM(line.s, line.len, "0123456789");             /* its first max bytes */
  CHECK(sio_getline(&s, &line, 10, &crlf) == 1);
  CHECK_MEM(line.s, line.len, "next");
  CHECK(sio_getline(&s, &line, 10, &crlf) == 1);        /* exactly max bytes, bare LF */
  CHECK(line.len == 10 && crlf == 0);
  CHECK(sio_getline(&s, &line, 10, &crlf) == -2);       /* max + 1 bytes, bare LF */
  /* a 1 MB line through a 16 KB buffer: consumed, memory stays small */
  big = malloc(1 << 20);
  memset(big, 'a', 1 << 20);
  big[(1 << 20) - 2] = '\r';
  big[(1 << 20) - 1] = '\n';
  pid = fork();
  if (pid == 0) {
    ssize_t w = write(fd[1], big, 1 << 20);
    put(fd[1], "after\r\n");
    _exit(w == 1 << 20 ? 0 : 1);
  }
  CHECK(sio_getline(&s, &line, 1000, &crlf) == -2);
  CHECK(crlf == 1);
  CHECK(line.a < 2100);
  CHECK(sio_getline(&s, &line, 1000, &crlf) == 1);
  CHECK_MEM(line.s, line.len, "after");
  CHECK(child_exit(pid) == 0);
  free(big);
  sio_free(&s);
  close(fd[0]);
  close(fd[1]);
  stralloc_free(&line);
}

static void test_dribble(void)
{
  const char *msg = "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\n";
  struct sio s;
  stralloc line = { 0, 0, 0 };
  int fd[2], crlf = -1;
  pid_t pid;
  pair(fd);
  pid = fork();
  if (pid == 0) {
    const char *p;
    for (p = msg; *p; p++) {
      if (write(fd[1], p, 1) != 1) _exit(1);
      usleep(2000);
    }
    _exit(0);
  }
  sio_init(&s, fd[0], fd[0], 5);
  CHECK(sio_getline(&s, &line, 512, &crlf) == 1);
  CHECK_MEM(line.s, line.len, "MAIL FROM:<a@b.example>");
  CHECK(crlf == 1);
  CHECK(sio_getline(&s, &line, 512, &crlf) == 1);
  CHECK_MEM(line.s, line.len, "RCPT TO:<c@d.example>");
  CHECK(crlf == 0);
  CHECK(child_exit(pid) == 0);
  sio_free(&s);
  close(fd[0]);
  close(fd[1]);
  stralloc_free(&line);
}

static void test_timeout(void)
{
  struct sio s;
  stralloc line = { 0, 0, 0 };
  char buf[10];
  int fd[2];
  double t0;
  pair(fd);
  sio_init(&s, fd[0], fd[0], 1);
  put(fd[1], "partial");
  t0 = now();
  errno = 0;
  CHECK(sio_getline(&s, &line, 100, 0) == -1);
  CHECK(errno == ETIMEDOUT);
  CHECK(now() - t0 >= 0.95 && now() - t0 < 3);
  errno = 0;
  CHECK(sio_read(&s, buf, sizeof buf) == -1 && errno == ETIMEDOUT);
  sio_free(&s);
  close(fd[0]);
  close(fd[1]);
  stralloc_free(&line);
}

static void test_discard_and_read(void)
{
  struct sio s;
  stralloc line = { 0, 0, 0 };
  char buf[64];
  int fd[2];
  pair(fd);
  sio_init(&s, fd[0], fd[0], 5);
  CHECK(sio_wait_readable(&s, 50) == 0);
  put(fd[1], "STARTTLS\r\nRCPT TO:<evil@example>\r\n");
  CHECK(sio_wait_readable(&s, 1000) == 1);
  CHECK(sio_getline(&s, &line, 100, 0) == 1);
  CHECK_MEM(line.s, line.len, "STARTTLS");
  CHECK(sio_pending(&s) == 24);
  CHECK(sio_wait_readable(&s, 0) == 1);                  /* buffered counts */
  sio_discard(&s);
  CHECK(sio_pending(&s) == 0);
  CHECK(sio_wait_readable(&s, 0) == 0);
  put(fd[1], "EHLO x\r\nDATA BYTES");
  CHECK(sio_getline(&s, &line, 100, 0) == 1);
  CHECK_MEM(line.s, line.len, "EHLO x");
  CHECK(sio_read(&s, buf, 4) == 4);                      /* from the buffer */
  CHECK_MEM(buf, 4, "DATA");
  CHECK(sio_read(&s, buf, sizeof buf) == 6);
  CHECK_MEM(buf, 6, " BYTES");
  put(fd[1], "direct");
  CHECK(sio_read(&s, buf, sizeof buf) == 6);             /* straight from the fd */
  CHECK_MEM(buf, 6, "direct");
  close(fd[1]);
  CHECK(sio_read(&s, buf, sizeof buf) == 0);
  sio_free(&s);
  close(fd[0]);
  stralloc_free(&line);
}

/* sio_peek lends the buffered input (reading when there is none), sio_skip takes
   what was used; the rest stays for sio_getline (imc-smtpd's DATA, then commands) */
static void test_peek_skip(void)
{
  struct sio s;
  stralloc line = { 0, 0, 0 };
  const char *p;
  size_t n;
  int fd[2];
  pair(fd);
  sio_init(&s, fd[0], fd[0], 5);
  put(fd[1], "text\r\n.\r\nQUIT\r\n");
  CHECK(sio_peek(&s, &p, &n) == 1);
  CHECK_MEM(p, n, "text\r\n.\r\nQUIT\r\n");
  sio_skip(&s, 9);
  CHECK(sio_pending(&s) == 6);
  CHECK(sio_peek(&s, &p, &n) == 1 && n == 6);            /* the same bytes again */
  CHECK(sio_getline(&s, &line, 100, 0) == 1);
  CHECK_MEM(line.s, line.len, "QUIT");
  put(fd[1], "more");
  CHECK(sio_peek(&s, &p, &n) == 1);                      /* empty: read from the fd */
  CHECK_MEM(p, n, "more");
  sio_skip(&s, 100);                                     /* never past what is buffered */
  CHECK(sio_pending(&s) == 0);
  close(fd[1]);
  CHECK(sio_peek(&s, &p, &n) == 0);                      /* EOF */
  sio_free(&s);
  close(fd[0]);
  stralloc_free(&line);
}

static void test_put_flush(void)
{
  struct sio s;
  char buf[64];
  int fd[2];
  pair(fd);
  sio_init(&s, fd[0], fd[0], 5);
  CHECK(sio_puts(&s, "250-first\r\n") == 0);
  CHECK(sio_put(&s, "250 second\r\n", 12) == 0);
  CHECK(sio_wait_readable(&(struct sio){ .rfd = fd[1] }, 0) == 0);   /* nothing sent yet */
  CHECK(sio_flush(&s) == 0);
  CHECK(s.out.len == 0);
  CHECK(read(fd[1], buf, sizeof buf) == 23);
  CHECK_MEM(buf, 23, "250-first\r\n250 second\r\n");
  CHECK(sio_flush(&s) == 0);                             /* nothing to do */
  sio_free(&s);
  close(fd[0]);
  close(fd[1]);
}

/* the child reads slowly and checks the pattern: exit 0 when all of it came */
static void slow_reader(int rfd, size_t total)
{
  char buf[1000];
  size_t got = 0;
  int n = 0;
  for (;;) {
    ssize_t r = read(rfd, buf, sizeof buf), i;
    if (r < 0) _exit(2);
    if (r == 0) break;
    for (i = 0; i < r; i++) if (buf[i] != (char)('a' + (got + (size_t)i) % 26)) _exit(3);
    got += (size_t)r;
    if (++n % 16 == 0) usleep(3000);
  }
  _exit(got == total ? 0 : 4);
}

#define TOTAL ((size_t)1 << 20)

static void big_write(int nonblock)
{
  size_t total = 0, sizes[] = { 1, 7000, 3, 20000, 100000, 500, 16384, 16385 };
  char *data = malloc(200000);
  struct sio s;
  int p[2];
  size_t i, k;
  pid_t pid;
  if (pipe(p) < 0) { perror("pipe"); exit(111); }
  fcntl(p[1], F_SETPIPE_SZ, 4096);
  pid = fork();
  if (pid == 0) { close(p[1]); slow_reader(p[0], TOTAL); }
  close(p[0]);
  if (nonblock) fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
  sio_init(&s, -1, p[1], 5);
  for (k = 0; total < TOTAL; k++) {
    size_t n = sizes[k % 8];
    if (n > TOTAL - total) n = TOTAL - total;
    for (i = 0; i < n; i++) data[i] = (char)('a' + (total + i) % 26);
    if (sio_put(&s, data, n) < 0) break;
    total += n;
  }
  CHECK(total == TOTAL);
  CHECK(sio_flush(&s) == 0);
  CHECK(s.out.a < 3 * SIO_BUFSIZE);                      /* output memory stayed bounded */
  close(p[1]);
  CHECK(child_exit(pid) == 0);
  sio_free(&s);
  free(data);
}

static void test_write_timeout(void)
{
  char buf[8192];
  struct sio s;
  int p[2];
  double t0;
  if (pipe(p) < 0) { perror("pipe"); exit(111); }
  fcntl(p[1], F_SETPIPE_SZ, 4096);
  memset(buf, 'x', sizeof buf);
  sio_init(&s, -1, p[1], 1);
  t0 = now();
  errno = 0;
  CHECK(sio_put(&s, buf, sizeof buf) == 0);
  CHECK(sio_flush(&s) == -1);                            /* nobody reads: full pipe */
  CHECK(errno == ETIMEDOUT);
  CHECK(now() - t0 >= 0.95 && now() - t0 < 3);
  sio_free(&s);
  close(p[0]);
  close(p[1]);
}

static void test_closed_peer(void)
{
  struct sio s;
  int fd[2];
  pair(fd);
  close(fd[1]);
  sio_init(&s, fd[0], fd[0], 2);
  CHECK(sio_puts(&s, "221 bye\r\n") == 0);
  errno = 0;
  CHECK(sio_flush(&s) == -1);                            /* EPIPE, and no SIGPIPE */
  CHECK(errno == EPIPE);
  sio_free(&s);
  close(fd[0]);
  sio_init(&s, 99, 99, 1);                               /* not open */
  CHECK(sio_wait_readable(&s, 10) == -1);
  CHECK(sio_read(&s, (char[4]){ 0 }, 4) == -1 && errno == EBADF);
}

int main(void)
{
  test_endings();
  test_overlong();
  test_dribble();
  test_timeout();
  test_discard_and_read();
  test_peek_skip();
  test_put_flush();
  big_write(1);
  big_write(0);
  test_write_timeout();
  test_closed_peer();
  return check_done("t_sio");
}
