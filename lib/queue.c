/*
 * queue.c -- queue file formats (see queue.h and docs/INTERNALS.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dsn.h"
#include "fileio.h"
#include "queue.h"

static const char hexdigits[] = "0123456789abcdef";

static void put_hex(char *out, unsigned long long v, int width)
{
  int i;
  for (i = width - 1; i >= 0; i--) { out[i] = hexdigits[v & 15]; v >>= 4; }
}

static int get_hex(const char *in, int width, unsigned long long *v)
{
  int i;
  *v = 0;
  for (i = 0; i < width; i++) {
    char c = in[i];
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return -1;
    *v = (*v << 4) | (unsigned long long)d;
  }
  return 0;
}

void qid_make(char id[QID_LEN + 1], unsigned long sec, unsigned long usec, unsigned long pid)
{
  put_hex(id, sec & 0xffffffffUL, 8);
  put_hex(id + 8, usec & 0xfffffUL, 5);
  put_hex(id + 13, pid & 0xffffffUL, 6);
  id[QID_LEN] = 0;
}

int qid_valid(const char *s, size_t len)
{
  unsigned long long v;
  return len == QID_LEN && get_hex(s, QID_LEN > 16 ? 16 : QID_LEN, &v) == 0
         && get_hex(s + 16, QID_LEN - 16, &v) == 0;
}

char qid_hash(const char *id) { return id[12]; }

unsigned long qid_time(const char *id)
{
  unsigned long long v;
  return get_hex(id, 8, &v) < 0 ? 0 : (unsigned long)v;
}

/* "IMCQ1 M" 16 " E" 8 " T" 16 " END" spaces "\n" */
void qtrailer_pack(char out[QTRAILER_LEN], const struct qtrailer *t)
{
  memset(out, ' ', QTRAILER_LEN);
  memcpy(out, "IMCQ1 M", 7);
  put_hex(out + 7, t->msglen, 16);
  memcpy(out + 23, " E", 2);
  put_hex(out + 25, t->envlen, 8);
  memcpy(out + 33, " T", 2);
  put_hex(out + 35, t->qtime, 16);
  memcpy(out + 51, " END", 4);
  out[QTRAILER_LEN - 1] = '\n';
}

int qtrailer_unpack(const char *in, struct qtrailer *t)
{
  unsigned long long v;
  int i;
  if (memcmp(in, "IMCQ1 M", 7) || memcmp(in + 23, " E", 2) || memcmp(in + 33, " T", 2)
      || memcmp(in + 51, " END", 4) || in[QTRAILER_LEN - 1] != '\n') return -1;
  for (i = 55; i < QTRAILER_LEN - 1; i++) if (in[i] != ' ') return -1;
  if (get_hex(in + 7, 16, &t->msglen) < 0 || get_hex(in + 25, 8, &v) < 0
      || get_hex(in + 35, 16, &t->qtime) < 0) return -1;
  t->envlen = (unsigned long)v;
  return 0;
}

int env_add(stralloc *env, char type, const char *s, size_t len)
{
  if (memchr(s, 0, len)) { errno = EINVAL; return -1; }
  if (!stralloc_append(env, &type) || !stralloc_catb(env, s, len) || !stralloc_0(env)) {
    errno = ENOMEM;
    return -1;
  }
  return 0;
}

int env_finish(stralloc *env)
{
  if (!stralloc_0(env)) { errno = ENOMEM; return -1; }
  return 0;
}

/* 1 record, 0 at the final NUL, -1 malformed */
int env_next(const char *env, size_t envlen, size_t *pos, char *type, const char **val, size_t *len)
{
  const char *nul;
  if (*pos >= envlen) return -1;
  if (env[*pos] == 0) return *pos + 1 == envlen ? 0 : -1;
  nul = memchr(env + *pos, 0, envlen - *pos);
  if (!nul) return -1;
  *type = env[*pos];
  *val = env + *pos + 1;
  *len = (size_t)(nul - *val);
  *pos = (size_t)(nul - env) + 1;
  return 1;
}

/* a D or N record: in its place (N right after a T, one D) and canonical (lib/dsn.h) */
static int dsn_record_ok(char type, const char *val, size_t len, char prev, int *seen_d)
{
  struct dsn_params p;
  if (type == 'D' && (*seen_d)++) return 0;
  if (type == 'N' && prev != 'T') return 0;
  if (!len || dsn_unpack(val, len, type == 'D', &p) < 0) return 0;
  return 1;
}

int env_check(const char *env, size_t envlen, size_t *nrcpt)
{
  size_t pos = 0, n = 0, len;
  const char *val;
  char type, prev = 0;
  int r, first = 1, seen_d = 0;
  while ((r = env_next(env, envlen, &pos, &type, &val, &len)) == 1) {
    if (first != (type == 'F')) return -1;
    first = 0;
    if (type == 'T') n++;
    else if (type == 'D' || type == 'N') { if (!dsn_record_ok(type, val, len, prev, &seen_d)) return -1; }
    else if (type != 'F' && type != 'I') return -1;
    prev = type;
  }
  if (r < 0 || first) return -1;
  if (nrcpt) *nrcpt = n;
  return n ? 0 : -2;
}

const char *env_sender(const char *env, size_t envlen, size_t *len)
{
  size_t pos = 0;
  const char *val;
  char type;
  if (env_next(env, envlen, &pos, &type, &val, len) != 1 || type != 'F') { *len = 0; return ""; }
  return val;
}

/* the I records a local user may give: imc-inject's own, but for uid=,
   which imc-queue writes itself */
static int info_for_user(const char *val, size_t len)
{
  return len == 10 && !memcmp(val, "via=inject", 10);
}

int env_restrict(stralloc *out, const char *env, size_t envlen, unsigned long uid)
{
  char num[5 + FMT_ULONG];
  size_t pos = 0, len;
  const char *val;
  char type;
  int r;
  out->len = 0;
  while ((r = env_next(env, envlen, &pos, &type, &val, &len)) == 1)
    if ((type != 'I' || info_for_user(val, len)) && env_add(out, type, val, len) < 0) return -1;
  if (r < 0) { errno = EINVAL; return -1; }
  memcpy(num, "uid=", 4);
  len = 4 + fmt_ulong(num + 4, uid);
  if (env_add(out, 'I', num, len) < 0 || env_finish(out) < 0) return -1;
  return 0;
}

int qfile_validate(struct qfile *q)
{
  struct stat st;
  char tr[QTRAILER_LEN];
  unsigned long long total;
  if (fstat(q->fd, &st) < 0) return -1;
  if (st.st_size < QTRAILER_LEN) return -2;
  if (pread_full(q->fd, tr, QTRAILER_LEN, st.st_size - QTRAILER_LEN) != QTRAILER_LEN) return -1;
  if (qtrailer_unpack(tr, &q->t) < 0) return -2;
  /* both bounded first, so that the sum cannot wrap around to the file's size */
  if (q->t.msglen > (unsigned long long)st.st_size || q->t.envlen > 16 * 1024 * 1024) return -2;
  total = q->t.msglen + q->t.envlen + QTRAILER_LEN;
  if (total != (unsigned long long)st.st_size) return -2;
  if (!stralloc_ready(&q->env, q->t.envlen + 1)) { errno = ENOMEM; return -1; }
  if (pread_full(q->fd, q->env.s, q->t.envlen, (off_t)q->t.msglen) != (ssize_t)q->t.envlen) return -1;
  q->env.len = q->t.envlen;
  return env_check(q->env.s, q->env.len, 0) == -1 ? -2 : 1;
}

int qfile_open(struct qfile *q, const char *path)
{
  int r, e;
  q->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (q->fd < 0) return errno == ENOENT ? 0 : -1;
  r = qfile_validate(q);
  if (r != 1) { e = errno; close(q->fd); q->fd = -1; errno = e; }
  return r;
}

void qfile_close(struct qfile *q)
{
  if (q->fd >= 0) close(q->fd);
  q->fd = -1;
  stralloc_free(&q->env);
}

int qpath(stralloc *sa, const char *queuedir, const char *area, const char *id)
{
  char h[2];
  h[0] = qid_hash(id);
  h[1] = 0;
  if (!stralloc_copys(sa, queuedir) || !stralloc_append(sa, "/") || !stralloc_cats(sa, area)
      || !stralloc_append(sa, "/")) goto nomem;
  if ((!strcmp(area, "mess") || !strcmp(area, "info")) && (!stralloc_cats(sa, h) || !stralloc_append(sa, "/")))
    goto nomem;
  if (!stralloc_cats(sa, id) || !stralloc_0(sa)) goto nomem;
  sa->len--;
  return 0;
nomem:
  errno = ENOMEM;
  return -1;
}
