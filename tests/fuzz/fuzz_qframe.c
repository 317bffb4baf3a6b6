/*
 * fuzz_qframe.c -- libFuzzer target for imc-queue's serial protocol
 * (lib/qframe.c): the frame reader imc-queue runs on whatever its caller
 * sends, and the reply parser of lib/qclient.
 *
 * The input is the byte stream on imc-queue's fd 0 (through a memfd): the
 * reader is run over it as imc-queue runs it, a header, then the payload,
 * until the end, a refusal or a truncation.  Checks, besides the
 * sanitizers:
 *   - a frame the reader accepts is within its bounds: 'm' 1..65536, 'e'
 *     2..16 MB, 't' 1..16384, 'a' 0; no other type; after a 't' only 'e'
 *     or 'a';
 *   - the reader consumes exactly the headers and payloads it accepted;
 *   - QF_END only where a message may begin (never after an 'm' frame);
 *   - a header that unpacks packs back to the same 5 bytes;
 *   - a reply that unpacks packs back to the same 24 bytes, and a packed
 *     reply of any code unpacks to that code.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "qframe.h"

static int memfd = -1;

static void check_frame(const struct qframe *f)
{
  if (f->type == QFRAME_DATA && (f->len < 1 || f->len > QFRAME_CHUNK_MAX)) abort();
  if (f->type == QFRAME_ENVELOPE && (f->len < 2 || f->len > QFRAME_ENV_MAX)) abort();
  if (f->type == QFRAME_CANCEL && f->len) abort();
  if (f->type == QFRAME_TOP && (f->len < 1 || f->len > QFRAME_TOP_MAX)) abort();
  if (f->type != QFRAME_DATA && f->type != QFRAME_ENVELOPE && f->type != QFRAME_CANCEL && f->type != QFRAME_TOP) abort();
}

static void read_stream(const unsigned char *data, size_t size)
{
  static char buf[QFRAME_CHUNK_MAX];
  struct qframe_in q;
  struct qframe f;
  const char *why;
  size_t used = 0;
  int r, inmsg, top = 0;
  if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size || lseek(memfd, 0, SEEK_SET) < 0) abort();
  qframe_in_init(&q, memfd);
  for (;;) {
    inmsg = q.inmsg;
    r = qframe_next(&q, &f, &why);
    if (r == QF_END) { if (inmsg || used != size) abort(); return; }
    if (r == QF_BAD) { if (!why || !*why) abort(); return; }
    if (r != QF_OK) return;
    used += QFRAME_HEAD;
    check_frame(&f);
    if (top && (f.type == QFRAME_DATA || f.type == QFRAME_TOP)) abort();
    top = f.type == QFRAME_TOP;
    {
      char h[QFRAME_HEAD];
      qframe_head_pack(h, f.type, f.len);
      if (memcmp(h, data + used - QFRAME_HEAD, QFRAME_HEAD)) abort();
    }
    while (f.len) {
      size_t k = f.len < sizeof buf ? f.len : sizeof buf;
      if (qframe_read(&q, buf, k) != QF_OK) { if (used + k <= size) abort(); return; }
      if (memcmp(buf, data + used, k)) abort();
      used += k;
      f.len -= k;
    }
  }
}

static void reply(const unsigned char *data, size_t size)
{
  char back[QFRAME_REPLY], id[QID_LEN + 1], id2[QID_LEN + 1];
  int code, code2;
  if (size >= QFRAME_REPLY && qframe_reply_unpack((const char *)data, &code, id) == 0) {
    qframe_reply_pack(back, code, id);
    if (memcmp(back, data, QFRAME_REPLY)) abort();
  }
  if (size < 1) return;
  qframe_reply_pack(back, data[0], "0123456789abcdef012");
  if (qframe_reply_unpack(back, &code2, id2) < 0 || code2 != data[0]) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  if (memfd < 0 && (memfd = memfd_create("fuzz_qframe", 0)) < 0) abort();
  read_stream(data, size);
  reply(data, size);
  return 0;
}
