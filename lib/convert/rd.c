/*
 * rd.c -- the input reader (see rd.h).
 *
 * The buffer holds RD_BUF bytes of data plus one byte of look-behind:
 * when it is compacted, the byte before the read position moves along.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "rd.h"

static int rd_alloc(struct rd *r)
{
  r->buf = malloc(RD_BUF + 1);
  if (!r->buf) { errno = ENOMEM; return -1; }
  r->pos = r->len = r->scan = 0;
  r->eof = 0;
  r->bol = 1;
  r->lastlen = 0;
  r->offset = 0;
  r->last = -1;
  r->limited = 0;
  r->left = 0;
  return 0;
}

int rd_init(struct rd *r, int fd)
{
  r->fd = fd;
  r->mem = 0;
  r->memlen = r->mempos = 0;
  return rd_alloc(r);
}

int rd_init_mem(struct rd *r, const char *p, size_t n)
{
  r->fd = -1;
  r->mem = p;
  r->memlen = n;
  r->mempos = 0;
  return rd_alloc(r);
}

void rd_limit(struct rd *r, unsigned long long n)
{
  r->limited = 1;
  r->left = n;
  r->at = 0;
}

void rd_free(struct rd *r)
{
  free(r->buf);
  r->buf = 0;
}

static ssize_t rd_read(struct rd *r, char *dst, size_t n)
{
  ssize_t got;
  if (r->fd < 0) {
    size_t left = r->memlen - r->mempos;
    if (n > left) n = left;
    memcpy(dst, r->mem + r->mempos, n);
    r->mempos += n;
    return (ssize_t)n;
  }
  if (!r->limited) {
    do got = read(r->fd, dst, n); while (got < 0 && errno == EINTR);
    return got;
  }
  if (n > r->left) n = (size_t)r->left;      /* limited: the file's first bytes, by offset */
  if (!n) return 0;
  do got = pread(r->fd, dst, n, (off_t)r->at); while (got < 0 && errno == EINTR);
  if (got > 0) { r->left -= (unsigned long long)got; r->at += (unsigned long long)got; }
  return got;
}

/* move the unread bytes (and the one before them) to the front, then read once */
static int rd_fill(struct rd *r)
{
  size_t keep = r->pos ? 1 : 0;
  ssize_t got;
  if (r->pos > keep) {
    memmove(r->buf, r->buf + r->pos - keep, r->len - r->pos + keep);
    r->len -= r->pos - keep;
    r->scan -= r->pos - keep;
    r->pos = keep;
  }
  got = rd_read(r, r->buf + r->len, RD_BUF + 1 - r->len);
  if (got < 0) return -1;
  if (got == 0) r->eof = 1;
  r->len += (size_t)got;
  return 0;
}

static void rd_give(struct rd *r, const char **p, size_t *n, int *bol, size_t len)
{
  *p = r->buf + r->pos;
  *n = len;
  *bol = r->bol;
  r->last = (unsigned char)r->buf[r->pos + len - 1];
  r->bol = r->last == '\n';
  r->pos += len;
  r->scan = r->pos;
  r->lastlen = len;
  r->offset += len;
}

int rd_piece(struct rd *r, const char **p, size_t *n, int *bol)
{
  for (;;) {
    char *nl = r->scan < r->len ? memchr(r->buf + r->scan, '\n', r->len - r->scan) : 0;
    if (nl) { rd_give(r, p, n, bol, (size_t)(nl - (r->buf + r->pos)) + 1); return 1; }
    r->scan = r->len;
    if (r->eof || r->len - r->pos >= RD_BUF) {
      if (r->len == r->pos) { r->lastlen = 0; return 0; }
      rd_give(r, p, n, bol, r->len - r->pos);
      return 1;
    }
    if (rd_fill(r) < 0) return -1;
  }
}

void rd_unget(struct rd *r)
{
  r->pos -= r->lastlen;
  r->scan = r->pos;
  r->offset -= r->lastlen;
  r->bol = r->lastlen ? (r->pos == 0 || r->buf[r->pos - 1] == '\n') : r->bol;
  r->lastlen = 0;
}
