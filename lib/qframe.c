/*
 * qframe.c -- imc-queue's serial protocol: frame headers, the frame reader
 * and the per-message reply (see qframe.h).
 *
 * Inputs: bytes from the caller of imc-queue (untrusted: any uid may run
 * the setuid imc-queue), or imc-queue's replies.  Output: frames whose
 * type and length are within bounds, or a refusal saying why.  Failure
 * modes: a malformed header (QF_BAD), EOF inside a frame or message
 * (QF_SHORT), a read error (QF_ERR).  Nothing here allocates.
 */
#include <string.h>
#include "fileio.h"
#include "qframe.h"

void qframe_head_pack(char out[QFRAME_HEAD], char type, unsigned long len)
{
  out[0] = type;
  out[1] = (char)(len >> 24 & 255);
  out[2] = (char)(len >> 16 & 255);
  out[3] = (char)(len >> 8 & 255);
  out[4] = (char)(len & 255);
}

int qframe_head_unpack(const char in[QFRAME_HEAD], struct qframe *f, const char **why)
{
  const unsigned char *u = (const unsigned char *)in;
  f->type = in[0];
  f->len = (unsigned long)u[1] << 24 | (unsigned long)u[2] << 16 | (unsigned long)u[3] << 8 | u[4];
  switch (f->type) {
  case QFRAME_DATA:
    if (f->len == 0 || f->len > QFRAME_CHUNK_MAX) { *why = "message frame length not in 1..65536"; return -1; }
    return 0;
  case QFRAME_ENVELOPE:
    if (f->len < 2 || f->len > QFRAME_ENV_MAX) { *why = "envelope frame length not in 2..16777216"; return -1; }
    return 0;
  case QFRAME_CANCEL:
    if (f->len) { *why = "cancel frame with a payload"; return -1; }
    return 0;
  case QFRAME_TOP:
    if (f->len == 0 || f->len > QFRAME_TOP_MAX) { *why = "top frame length not in 1..16384"; return -1; }
    return 0;
  }
  *why = "unknown frame type";
  return -1;
}

void qframe_in_init(struct qframe_in *q, int fd)
{
  q->fd = fd;
  q->inmsg = q->top = 0;
}

int qframe_next(struct qframe_in *q, struct qframe *f, const char **why)
{
  char h[QFRAME_HEAD];
  ssize_t r = read_full(q->fd, h, sizeof h);
  *why = "";
  if (r < 0) return QF_ERR;
  if (r == 0 && !q->inmsg) return QF_END;
  if (r < QFRAME_HEAD) { *why = "truncated frame"; return QF_SHORT; }
  if (qframe_head_unpack(h, f, why) < 0) return QF_BAD;
  if (q->top && (f->type == QFRAME_DATA || f->type == QFRAME_TOP)) { *why = "frame after the top frame"; return QF_BAD; }
  q->top = f->type == QFRAME_TOP;
  q->inmsg = f->type == QFRAME_DATA || f->type == QFRAME_TOP;
  return QF_OK;
}

int qframe_read(struct qframe_in *q, char *buf, size_t len)
{
  ssize_t r = read_full(q->fd, buf, len);
  if (r < 0) return QF_ERR;
  return (size_t)r == len ? QF_OK : QF_SHORT;
}

void qframe_reply_pack(char out[QFRAME_REPLY], int code, const char *id)
{
  code &= 255;
  out[0] = (char)('0' + code / 100);
  out[1] = (char)('0' + code / 10 % 10);
  out[2] = (char)('0' + code % 10);
  out[3] = ' ';
  if (code == 0 && id) memcpy(out + 4, id, QID_LEN);
  else memset(out + 4, '-', QID_LEN);
  out[QFRAME_REPLY - 1] = '\n';
}

int qframe_reply_unpack(const char in[QFRAME_REPLY], int *code, char id[QID_LEN + 1])
{
  int i, c = 0;
  for (i = 0; i < 3; i++) {
    if (in[i] < '0' || in[i] > '9') return -1;
    c = c * 10 + (in[i] - '0');
  }
  if (c > 255 || in[3] != ' ' || in[QFRAME_REPLY - 1] != '\n') return -1;
  id[0] = 0;
  if (c == 0) {
    if (!qid_valid(in + 4, QID_LEN)) return -1;
    memcpy(id, in + 4, QID_LEN);
    id[QID_LEN] = 0;
  } else {
    for (i = 4; i < 4 + QID_LEN; i++) if (in[i] != '-') return -1;
  }
  *code = c;
  return 0;
}
