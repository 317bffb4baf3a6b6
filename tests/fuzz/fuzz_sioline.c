/*
 * fuzz_sioline.c -- libFuzzer target for sio_getline (lib/sio.c), the
 * first reader of every byte imc-smtpd and imc-remote get from the network.
 * The first two input bytes choose the line limit (0..511); the rest is
 * read through a memfd, line by line, to EOF.
 *
 * Checks against the input itself: each line is exactly the bytes before
 * its LF, minus one CR right before the LF, and *crlf says whether that CR
 * was there; a line never holds a LF and never exceeds the limit; -2 comes
 * exactly when the line (without its ending) is longer than the limit, and
 * line then holds the first max bytes, and the next line starts after its
 * LF; at EOF the start of the unended rest is in line (max + 1 bytes at
 * most); the line buffer never grows much beyond the limit.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "sio.h"

static struct sio s;

/* check one sio_getline result r against in[*pos..len); advance *pos */
static void check(int r, const stralloc *line, int crlf, size_t max, const char *in, size_t len, size_t *pos)
{
  const char *p = in + *pos, *nl = memchr(p, '\n', len - *pos);
  size_t body, n = nl ? (size_t)(nl - p) : len - *pos;
  int cr = nl && n && p[n - 1] == '\r';
  body = n - (size_t)cr;
  if (line->len > max + 1 || (line->len && memchr(line->s, '\n', line->len))) abort();
  if (r == 0) {
    size_t k = n < max + 1 ? n : max + 1;        /* the start of the unended line */
    if (nl || line->len != k || (k && memcmp(line->s, p, k))) abort();
    *pos = len;
    return;
  }
  if (!nl || crlf != cr) abort();
  if (r == 1 && (body > max || line->len != body || (body && memcmp(line->s, p, body)))) abort();
  if (r == -2 && (body <= max || line->len != max || (max && memcmp(line->s, p, max)))) abort();
  if (r != 1 && r != -2) abort();
  *pos += n + 1;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  stralloc line = { 0, 0, 0 };
  size_t max, pos = 0;
  int fd, r, crlf;
  if (size < 2) return 0;
  max = ((size_t)data[0] << 8 | data[1]) % 512;
  data += 2;
  size -= 2;
  fd = memfd_create("fuzz", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) { close(fd); return 0; }
  sio_init(&s, fd, fd, 5);
  do {
    crlf = -1;
    r = sio_getline(&s, &line, max, &crlf);
    if (r == -1) abort();
    check(r, &line, crlf, max, (const char *)data, size, &pos);
    if (line.a > 2 * max + 64) abort();
  } while (r != 0);
  if (pos != size) abort();
  sio_free(&s);
  stralloc_free(&line);
  close(fd);
  return 0;
}
