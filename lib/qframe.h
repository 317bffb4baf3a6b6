/*
 * qframe.h -- imc-queue's serial protocol (imc-queue -s, docs/INTERNALS.md
 * section 4): the frames a caller sends on imc-queue's fd 0 and the reply
 * imc-queue writes on its fd 1 for each message.  Pack and unpack only
 * through these functions.
 *
 * A frame is a 5-byte header, a type byte and the payload's length as 4
 * bytes big-endian, then the payload:
 *     'm' LEN  message bytes, 1..QFRAME_CHUNK_MAX of them (a message is
 *              any number of these, in order)
 *     'e' LEN  the envelope, 2..QFRAME_ENV_MAX bytes: ends the message
 *     't' LEN  header fields to put at the top of the message, 1..QFRAME_TOP_MAX
 *              bytes, whole lines (at most one, after the 'm' frames: the
 *              checks of a message end with it, Authentication-Results)
 *     'a' 0    cancel: the message ends and nothing is queued
 * Anything else (another type, a length out of its bounds) is malformed.
 * The reply is QFRAME_REPLY bytes of text: "CCC ID\n", CCC imc-queue's code
 * (lib/exitcodes.h) in three digits, ID the queue id for 000, else
 * QID_LEN dashes.
 *
 * The reader (qframe_next, qframe_read) reads one frame at a time from an
 * fd and knows where a message begins and ends; its results:
 *     QF_OK     a frame's header was read (or its payload)
 *     QF_END    EOF where a message could begin: the caller is done
 *     QF_BAD    a malformed header (*why says what is wrong)
 *     QF_SHORT  EOF inside a frame or inside a message: truncated
 *     QF_ERR    read failed (errno)
 */
#ifndef IMC_QFRAME_H
#define IMC_QFRAME_H

#include <stddef.h>
#include "queue.h"

#define QFRAME_HEAD 5
#define QFRAME_CHUNK_MAX 65536UL
#define QFRAME_ENV_MAX (16UL * 1024 * 1024)
#define QFRAME_REPLY (3 + 1 + QID_LEN + 1)

#define QFRAME_DATA 'm'
#define QFRAME_ENVELOPE 'e'
#define QFRAME_CANCEL 'a'
#define QFRAME_TOP 't'
#define QFRAME_TOP_MAX 16384UL

#define QF_OK 1
#define QF_END 0
#define QF_BAD (-1)
#define QF_SHORT (-2)
#define QF_ERR (-3)

struct qframe {
  char type;
  unsigned long len;
};

struct qframe_in {
  int fd;
  int inmsg;            /* 1 between a message's first frame and its last */
  int top;              /* the message had its 't' frame: only 'e' or 'a' may follow */
};

void qframe_head_pack(char out[QFRAME_HEAD], char type, unsigned long len);
int qframe_head_unpack(const char in[QFRAME_HEAD], struct qframe *f, const char **why);   /* 0, -1 */

void qframe_in_init(struct qframe_in *q, int fd);
int qframe_next(struct qframe_in *q, struct qframe *f, const char **why);
int qframe_read(struct qframe_in *q, char *buf, size_t len);   /* a payload's bytes: QF_OK, QF_SHORT, QF_ERR */

/* id: QID_LEN characters when code is 0, else ignored (may be 0) */
void qframe_reply_pack(char out[QFRAME_REPLY], int code, const char *id);
/* 0 with *code (0..255) and id (NUL-terminated, "" unless code is 0), or -1: not a reply */
int qframe_reply_unpack(const char in[QFRAME_REPLY], int *code, char id[QID_LEN + 1]);

#endif
