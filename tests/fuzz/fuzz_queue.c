/*
 * fuzz_queue.c -- libFuzzer target for the queue's file formats (lib/queue.c,
 * lib/qinfo.c): queue files (trailer and envelope records) and recipient
 * state files (queue/info/H/ID).
 *
 * The first input byte picks what the rest is (bits 0-1):
 *   0  a whole queue file, validated by qfile_validate on a memfd;
 *   1  a message and an envelope (the next two bytes give the message's
 *      length), to which a correct trailer is appended before validation,
 *      so that random envelopes get past the size check;
 *   2, 3  a recipient state file, for qinfo_unpack.
 * Every input is also tried as a bare envelope and a bare trailer.
 * Checks, besides the sanitizers:
 *   - qfile_validate never reports an I/O error on a memfd: a file it cannot
 *     read as described is invalid (-2), so that imc-send quarantines it;
 *   - a valid file's envelope passes env_check, its first record is the
 *     sender, and rebuilding it with env_add and
 *     env_finish gives the same bytes; a file built with a correct trailer
 *     is valid exactly when its envelope is;
 *   - a trailer that unpacks packs back to the same 64 bytes;
 *   - a state file that unpacks packs to text that unpacks again, to the
 *     same recipients (control characters in a field become spaces), and
 *     packs to the same text once more.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "qinfo.h"
#include "queue.h"

static int memfd = -1;

static void put_file(const char *p, size_t n)
{
  if (ftruncate(memfd, 0) < 0 || pwrite(memfd, p, n, 0) != (ssize_t)n) abort();
}

/* every record again through env_add: the same bytes */
static void envelope_rebuild(const char *env, size_t len)
{
  stralloc again = {0};
  size_t pos = 0, vlen;
  const char *val;
  char type;
  int r;
  while ((r = env_next(env, len, &pos, &type, &val, &vlen)) == 1)
    if (val < env || val + vlen >= env + len || env_add(&again, type, val, vlen) < 0) abort();
  if (r != 0 || env_finish(&again) < 0) abort();
  if (again.len != len || memcmp(again.s, env, len)) abort();
  stralloc_free(&again);
}

static void envelope(const char *env, size_t len)
{
  size_t nrcpt = 0, slen;
  const char *s;
  int r = env_check(env, len, &nrcpt);
  if (r == -1) return;
  if ((r == 0) != (nrcpt > 0) || (r != 0 && r != -2)) abort();
  s = env_sender(env, len, &slen);
  if (s < env + 1 || s + slen >= env + len || s[slen] || env[0] != 'F') abort();
  envelope_rebuild(env, len);
}

static void trailer(const char *p, size_t n)
{
  struct qtrailer t;
  char back[QTRAILER_LEN];
  if (n < QTRAILER_LEN || qtrailer_unpack(p, &t) < 0) return;
  qtrailer_pack(back, &t);
  if (memcmp(back, p, QTRAILER_LEN)) abort();
}

/* 1 valid, 0 invalid; never an error */
static int validate(void)
{
  struct qfile q = { memfd, { 0, 0, 0 }, { 0, 0, 0 } };
  size_t nrcpt;
  int r = qfile_validate(&q);
  if (r != 1 && r != -2) abort();
  if (r == 1) {
    if (q.env.len != q.t.envlen || env_check(q.env.s, q.env.len, &nrcpt) == -1) abort();
    envelope(q.env.s, q.env.len);
  }
  stralloc_free(&q.env);
  return r == 1;
}

static void queue_file(const char *p, size_t n)
{
  put_file(p, n);
  validate();
  if (n >= QTRAILER_LEN) trailer(p + n - QTRAILER_LEN, QTRAILER_LEN);
}

static void built_file(const char *p, size_t n)
{
  struct qtrailer t;
  char *buf;
  size_t msglen;
  if (n < 2) return;
  msglen = ((size_t)(unsigned char)p[0] << 8 | (unsigned char)p[1]) % (n - 1);
  p += 2;
  n -= 2;
  if (msglen > n) msglen = n;
  t.msglen = msglen;
  t.envlen = (unsigned long)(n - msglen);
  t.qtime = 1795834555;
  if (!(buf = malloc(n + QTRAILER_LEN))) return;
  memcpy(buf, p, n);
  qtrailer_pack(buf + n, &t);
  put_file(buf, n + QTRAILER_LEN);
  if (validate() != (env_check(p + msglen, n - msglen, 0) != -1)) abort();
  free(buf);
}

/* b is a packed and unpacked again: control characters became spaces */
static int same_field(const stralloc *a, const stralloc *b)
{
  size_t i;
  if (a->len != b->len || a->s[a->len] || b->s[b->len]) return 0;
  for (i = 0; i < a->len; i++) {
    unsigned char c = (unsigned char)a->s[i];
    if ((c < 32 || c == 127 ? ' ' : a->s[i]) != b->s[i]) return 0;
  }
  return 1;
}

static void same_rcpt(const struct qinfo_rcpt *a, const struct qinfo_rcpt *b)
{
  if (a->state != b->state || a->kind != b->kind || a->attempts != b->attempts || a->next != b->next
      || a->last != b->last || !same_field(&a->target, &b->target) || !same_field(&a->original, &b->original)
      || !same_field(&a->address, &b->address) || !same_field(&a->reply, &b->reply)) abort();
}

static void state_file(const char *p, size_t n)
{
  struct qinfo q, q2;
  stralloc out = {0}, out2 = {0};
  unsigned long i;
  if (qinfo_unpack(&q, p, n) != 0) return;
  if (!qid_valid(q.id, strlen(q.id)) || qinfo_pack(&q, &out) < 0) abort();
  if (qinfo_unpack(&q2, out.s, out.len) != 0 || q2.n != q.n || q2.qtime != q.qtime
      || q2.flags != q.flags || strcmp(q2.id, q.id)) abort();
  if (qinfo_pack(&q2, &out2) < 0 || out2.len != out.len || memcmp(out.s, out2.s, out.len)) abort();
  for (i = 0; i < q.n; i++) same_rcpt(&q.r[i], &q2.r[i]);
  qinfo_free(&q);
  qinfo_free(&q2);
  stralloc_free(&out);
  stralloc_free(&out2);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  const char *p = (const char *)data + 1;
  size_t n = size ? size - 1 : 0;
  if (memfd < 0 && (memfd = memfd_create("fuzz_queue", 0)) < 0) abort();
  if (!size) return 0;
  switch (data[0] & 3) {
  case 0: queue_file(p, n); break;
  case 1: built_file(p, n); break;
  default: state_file(p, n);
  }
  envelope(p, n);
  trailer(p, n);
  if (n >= QID_LEN && qid_valid(p, QID_LEN)) {
    char id[QID_LEN + 1];
    memcpy(id, p, QID_LEN);
    id[QID_LEN] = 0;
    if (!strchr("0123456789abcdef", qid_hash(id)) || !qid_hash(id)) abort();
  }
  return 0;
}
