/*
 * rd.h -- imc-convert's input: the message on an fd (a file or a pipe,
 * never assumed seekable) or in memory, read through one fixed buffer and
 * handed out as pieces of lines.
 *
 * A piece is a whole line with its LF, or, for a line longer than the
 * buffer (RD_BUF), a part of it; *bol says whether the piece starts a line.
 * The byte just before a piece is always still in the buffer (p[-1] is
 * valid when the piece does not start the input), so a caller that held a
 * line's LF back can hand it out together with the next piece.  Memory is
 * RD_BUF whatever the input.
 *
 * Failure modes: rd_piece returns -1 with errno from read(2).
 */
#ifndef IMC_CONVERT_RD_H
#define IMC_CONVERT_RD_H

#include <stddef.h>

#define RD_BUF 65536

struct rd {
  int fd;                    /* -1: reading from mem */
  const char *mem;
  size_t memlen, mempos;
  char *buf;                 /* RD_BUF + 1 bytes */
  size_t pos, len, scan;     /* unread bytes are [pos, len); no LF in [pos, scan) */
  int eof, bol;
  size_t lastlen;            /* length of the last piece, for rd_unget */
  int last;                  /* the last byte handed out, -1 none */
  unsigned long long offset; /* bytes handed out (less those put back) */
  unsigned long long left;   /* with `limited`: bytes still to read from fd, with pread at `at` */
  unsigned long long at;
  int limited;
};

int rd_init(struct rd *r, int fd);                       /* 0, -1 ENOMEM */
int rd_init_mem(struct rd *r, const char *p, size_t n);  /* the same, from memory */
void rd_limit(struct rd *r, unsigned long long n);        /* read the fd's first n bytes, by offset */
void rd_free(struct rd *r);
int rd_piece(struct rd *r, const char **p, size_t *n, int *bol);   /* 1 piece, 0 end, -1 error */
void rd_unget(struct rd *r);        /* put back the piece just read (before any other call) */

#endif
