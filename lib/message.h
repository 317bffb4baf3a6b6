/*
 * message.h -- reading a message for injection (imc-inject, imc-pickup):
 * CRLF to LF, the header section in memory, the body streamed in pieces,
 * and a buffered writer for the pipe to imc-queue.
 *
 * The header section is the run of lines at the top that start a field
 * ("Name:") or continue one (start with space or tab); it ends at a blank
 * line (consumed) or at the first other line (which starts the body).  It
 * is kept with LF line ends and without the blank line.  Header sections
 * above MSG_HEAD_MAX are refused; lines in the body may be any length.
 */
#ifndef IMC_MESSAGE_H
#define IMC_MESSAGE_H

#include <stddef.h>
#include <time.h>
#include "owfat.h"

#define MSG_BLOCK 65536
#define MSG_HEAD_MAX (4UL * 1024 * 1024)

/* ---- input: pieces of lines, CRLF turned into LF */
struct msgin {
  int fd;
  int dotend;        /* a line holding only "." ends the message (sendmail without -i) */
  int bol;           /* the next piece starts a line */
  int ended;
  size_t pos, len;
  char buf[MSG_BLOCK];
};

void msgin_init(struct msgin *m, int fd, int dotend);
/* the next piece: a whole line (ending in LF) or at most about MSG_BLOCK bytes of
   one; *bol tells whether it starts a line.  1 piece, 0 end, -1 read error */
int msgin_piece(struct msgin *m, stralloc *piece, int *bol);

/* ---- the header section */
enum { HEAD_SEP, HEAD_BODY, HEAD_EOF };
struct msghead {
  stralloc text;     /* the fields, each line ending in LF */
  stralloc first;    /* with HEAD_BODY: the body's first line (or its first piece) */
  int end;           /* HEAD_SEP blank line, HEAD_BODY other line, HEAD_EOF end of input */
};

int msghead_read(struct msgin *m, struct msghead *h);   /* 0, -1 read error, -2 too large */
void msghead_free(struct msghead *h);
/* the field at *pos: 1 with the field (through its final LF, folded lines
   included) and the length of its name; 0 at the end */
int msghead_next(const stralloc *text, size_t *pos, const char **field, size_t *len, size_t *namelen);
int msghead_is(const char *field, size_t namelen, const char *name);  /* case-insensitive */
int msghead_has(const stralloc *text, const char *name);
void msghead_drop(stralloc *text, const char *name);                  /* removes every such field */
/* addresses of every field called name, appended NUL-terminated: count, or -1 (errno EINVAL, ENOMEM) */
int msghead_addresses(const stralloc *text, const char *name, stralloc *out);

/* header lines to add, each appended with its LF */
int msg_add_date(stralloc *out, time_t t);                            /* "Date: ..." local time, numeric zone */
int msg_add_msgid(stralloc *out, const char *me);                     /* "Message-ID: <...@me>" */
int msg_add_from(stralloc *out, const char *fullname, const char *addr);

/* ---- output: a buffered writer that remembers its first error */
struct msgout {
  int fd;
  int err;           /* errno of the first failed write, 0 if none */
  size_t len;
  char buf[MSG_BLOCK];
};

void msgout_init(struct msgout *o, int fd);
void msgout_put(struct msgout *o, const char *s, size_t len);
int msgout_flush(struct msgout *o);                                   /* 0, or -1 (o->err set) */

/* writes the rest of the message (h->first, then the pieces left in m),
   ending it with LF if it lacked one: 0, -1 read error */
int msg_copy_body(struct msgin *m, const struct msghead *h, struct msgout *o);

#endif
