/*
 * message.c -- reading a message for injection (see message.h).
 *
 * Input: an fd holding a message with LF or CRLF line ends.  Output: the
 * header section in memory, body pieces, and writes to an fd (the pipe to
 * imc-queue) through a 64 KB buffer.  Failure modes: read errors (-1,
 * errno set), a header section above MSG_HEAD_MAX (-2), ENOMEM; write
 * errors are kept in msgout.err so that the caller can still collect
 * imc-queue's exit code (EPIPE means imc-queue stopped reading).
 */
#include <errno.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include "addrlist.h"
#include "date.h"
#include "fileio.h"
#include "message.h"
#include "queue.h"

/* ---- input */

void msgin_init(struct msgin *m, int fd, int dotend)
{
  m->fd = fd;
  m->dotend = dotend;
  m->bol = 1;
  m->ended = 0;
  m->pos = m->len = 0;
}

static int fill(struct msgin *m)
{
  for (;;) {
    ssize_t r = read(m->fd, m->buf, sizeof m->buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    m->pos = 0;
    m->len = (size_t)r;
    return r > 0;
  }
}

/* appends up to and including the next LF, or what the buffer holds: 1 LF seen, 0 not */
static int take(struct msgin *m, stralloc *piece)
{
  const char *p = m->buf + m->pos;
  size_t n = m->len - m->pos;
  const char *nl = memchr(p, '\n', n);
  if (nl) n = (size_t)(nl - p) + 1;
  if (!stralloc_catb(piece, p, n)) { errno = ENOMEM; return -1; }
  m->pos += n;
  if (!nl) return 0;
  if (piece->len >= 2 && piece->s[piece->len - 2] == '\r') {
    piece->s[piece->len - 2] = '\n';
    piece->len--;
  }
  return 1;
}

static int is_dot_line(const stralloc *p) { return (p->len == 2 && !memcmp(p->s, ".\n", 2)) || (p->len == 1 && p->s[0] == '.'); }

int msgin_piece(struct msgin *m, stralloc *piece, int *bol)
{
  int r = 0;
  piece->len = 0;
  if (m->ended) return 0;
  while (r == 0) {
    if (m->pos == m->len) {
      int f = fill(m);
      if (f < 0) return -1;
      if (f == 0) { m->ended = 1; break; }
    }
    if ((r = take(m, piece)) < 0) return -1;
    /* a piece never ends in CR, so that a CRLF is never split */
    if (r == 0 && piece->len >= MSG_BLOCK && piece->s[piece->len - 1] != '\r') break;
  }
  *bol = m->bol;
  m->bol = r == 1;
  if (m->dotend && *bol && is_dot_line(piece)) m->ended = 1;
  if (m->ended && (piece->len == 0 || (m->dotend && *bol && is_dot_line(piece)))) return 0;
  return 1;
}

/* ---- the header section */

static int is_field_start(const char *s, size_t len)
{
  size_t i = 0;
  while (i < len && s[i] > 32 && s[i] < 127 && s[i] != ':') i++;
  if (i == 0) return 0;
  while (i < len && (s[i] == ' ' || s[i] == '\t')) i++;
  return i < len && s[i] == ':';
}

static int head_line(const struct msghead *h, const stralloc *p)
{
  if (is_field_start(p->s, p->len)) return 1;
  return h->text.len && (p->s[0] == ' ' || p->s[0] == '\t');
}

static int head_finish(struct msghead *h, int end)
{
  h->end = end;
  if (h->text.len && h->text.s[h->text.len - 1] != '\n' && !stralloc_append(&h->text, "\n")) {
    errno = ENOMEM;
    return -1;
  }
  return 0;
}

int msghead_read(struct msgin *m, struct msghead *h)
{
  stralloc piece = {0};
  int r, bol;
  h->text.len = h->first.len = 0;
  for (;;) {
    r = msgin_piece(m, &piece, &bol);
    if (r < 0) break;
    if (r == 0) { r = head_finish(h, HEAD_EOF); break; }
    if (bol && piece.len == 1 && piece.s[0] == '\n') { r = head_finish(h, HEAD_SEP); break; }
    if (bol && !head_line(h, &piece)) {
      if (!stralloc_copy(&h->first, &piece)) { errno = ENOMEM; r = -1; break; }
      r = head_finish(h, HEAD_BODY);
      break;
    }
    if (!stralloc_cat(&h->text, &piece)) { errno = ENOMEM; r = -1; break; }
    if (h->text.len > MSG_HEAD_MAX) { r = -2; break; }
  }
  stralloc_free(&piece);
  return r;
}

void msghead_free(struct msghead *h)
{
  stralloc_free(&h->text);
  stralloc_free(&h->first);
}

int msghead_next(const stralloc *text, size_t *pos, const char **field, size_t *len, size_t *namelen)
{
  const char *s;
  size_t n, i = 0, colon;
  if (*pos >= text->len) return 0;
  s = text->s + *pos;
  n = text->len - *pos;
  for (;;) {
    const char *nl = memchr(s + i, '\n', n - i);
    i = nl ? (size_t)(nl - s) + 1 : n;
    if (i >= n || (s[i] != ' ' && s[i] != '\t')) break;
  }
  colon = byte_chr(s, i, ':');
  while (colon > 0 && (s[colon - 1] == ' ' || s[colon - 1] == '\t')) colon--;
  *field = s;
  *len = i;
  *namelen = colon;
  *pos += i;
  return 1;
}

int msghead_is(const char *field, size_t namelen, const char *name)
{
  return namelen == strlen(name) && !case_diffb(field, namelen, name);
}

int msghead_has(const stralloc *text, const char *name)
{
  size_t pos = 0, len, nl;
  const char *f;
  while (msghead_next(text, &pos, &f, &len, &nl)) if (msghead_is(f, nl, name)) return 1;
  return 0;
}

void msghead_drop(stralloc *text, const char *name)
{
  size_t pos = 0, out = 0, len, nl;
  const char *f;
  while (msghead_next(text, &pos, &f, &len, &nl)) {
    if (msghead_is(f, nl, name)) continue;
    memmove(text->s + out, f, len);
    out += len;
  }
  text->len = out;
}

int msghead_addresses(const stralloc *text, const char *name, stralloc *out)
{
  size_t pos = 0, len, nl;
  const char *f;
  int n = 0;
  while (msghead_next(text, &pos, &f, &len, &nl)) {
    const char *colon;
    int r;
    if (!msghead_is(f, nl, name)) continue;
    colon = memchr(f, ':', len);
    if (!colon) continue;
    r = addrlist_parse(colon + 1, len - (size_t)(colon + 1 - f), out);
    if (r < 0) return -1;
    n += r;
  }
  return n;
}

/* ---- added header lines */

int msg_add_date(stralloc *out, time_t t)
{
  char buf[DATE_MAX];
  size_t n = date_rfc5322(buf, t);
  if (!n) { errno = EINVAL; return -1; }
  if (!stralloc_cats(out, "Date: ") || !stralloc_catb(out, buf, n) || !stralloc_cats(out, "\n")) {
    errno = ENOMEM;
    return -1;
  }
  return 0;
}

int msg_add_msgid(stralloc *out, const char *me)
{
  struct timeval tv;
  char id[QID_LEN + 1];
  gettimeofday(&tv, 0);
  qid_make(id, (unsigned long)tv.tv_sec, (unsigned long)tv.tv_usec, (unsigned long)getpid());
  if (!stralloc_cats(out, "Message-ID: <") || !stralloc_cats(out, id) || !stralloc_cats(out, ".imc@")
      || !stralloc_cats(out, me) || !stralloc_cats(out, ">\n")) { errno = ENOMEM; return -1; }
  return 0;
}

/* "From: addr", or "From: "Full Name" <addr>" with '"' and '\' escaped */
int msg_add_from(stralloc *out, const char *fullname, const char *addr)
{
  const char *p;
  if (!stralloc_cats(out, "From: ")) goto nomem;
  if (fullname && *fullname) {
    if (!stralloc_append(out, "\"")) goto nomem;
    for (p = fullname; *p; p++) {
      if (*p == '\n' || *p == '\r') continue;
      if ((*p == '"' || *p == '\\') && !stralloc_append(out, "\\")) goto nomem;
      if (!stralloc_append(out, p)) goto nomem;
    }
    if (!stralloc_cats(out, "\" <") || !stralloc_cats(out, addr) || !stralloc_cats(out, ">\n")) goto nomem;
  } else if (!stralloc_cats(out, addr) || !stralloc_cats(out, "\n")) goto nomem;
  return 0;
nomem:
  errno = ENOMEM;
  return -1;
}

/* ---- output */

void msgout_init(struct msgout *o, int fd)
{
  o->fd = fd;
  o->err = 0;
  o->len = 0;
}

int msgout_flush(struct msgout *o)
{
  if (!o->err && o->len && write_all(o->fd, o->buf, o->len) < 0) o->err = errno ? errno : EIO;
  o->len = 0;
  return o->err ? -1 : 0;
}

void msgout_put(struct msgout *o, const char *s, size_t len)
{
  if (o->err || !len) return;                 /* an empty stralloc's s may be 0 */
  if (o->len + len > sizeof o->buf) {
    if (msgout_flush(o) < 0) return;
    if (len >= sizeof o->buf) {
      if (write_all(o->fd, s, len) < 0) o->err = errno ? errno : EIO;
      return;
    }
  }
  memcpy(o->buf + o->len, s, len);
  o->len += len;
}

int msg_copy_body(struct msgin *m, const struct msghead *h, struct msgout *o)
{
  stralloc piece = {0};
  int r, bol, lf = 1;
  if (h->end == HEAD_BODY && h->first.len) {
    msgout_put(o, h->first.s, h->first.len);
    lf = h->first.s[h->first.len - 1] == '\n';
  }
  while ((r = msgin_piece(m, &piece, &bol)) == 1 && !o->err) {
    msgout_put(o, piece.s, piece.len);
    lf = piece.s[piece.len - 1] == '\n';
  }
  stralloc_free(&piece);
  if (r < 0) return -1;
  if (!lf) msgout_put(o, "\n", 1);
  return 0;
}
