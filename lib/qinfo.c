/*
 * qinfo.c -- pack and unpack recipient state files (see qinfo.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "qinfo.h"

struct qinfo_rcpt *qinfo_add(struct qinfo *q)
{
  struct qinfo_rcpt *r;
  if (q->n == q->alloc) {
    unsigned long na = q->alloc ? q->alloc * 2 : 8;
    r = realloc(q->r, na * sizeof *r);
    if (!r) { errno = ENOMEM; return 0; }
    q->r = r;
    q->alloc = na;
  }
  r = &q->r[q->n++];
  memset(r, 0, sizeof *r);
  return r;
}

int qinfo_set(stralloc *field, const char *s, size_t len)
{
  if (!stralloc_copyb(field, s, len) || !stralloc_0(field)) { errno = ENOMEM; return -1; }
  field->len--;
  return 0;
}

void qinfo_free(struct qinfo *q)
{
  unsigned long i;
  for (i = 0; i < q->n; i++) {
    stralloc_free(&q->r[i].target);
    stralloc_free(&q->r[i].original);
    stralloc_free(&q->r[i].address);
    stralloc_free(&q->r[i].reply);
  }
  free(q->r);
  q->r = 0;
  q->n = q->alloc = 0;
}

/* a field: text with TAB, CR, LF (and other controls) replaced by spaces; "-" if empty */
static int cat_field(stralloc *out, const char *s, size_t len)
{
  size_t i, start = out->len;
  if (!len) return stralloc_cats(out, "-") ? 0 : -1;
  if (!stralloc_catb(out, s, len)) return -1;
  for (i = start; i < out->len; i++)
    if ((unsigned char)out->s[i] < 32 || out->s[i] == 127) out->s[i] = ' ';
  return 0;
}

static int pack_rcpt(const struct qinfo_rcpt *r, stralloc *out)
{
  char sk[5] = { 'r', '\t', r->state, '\t', 0 };
  if (!stralloc_cats(out, sk) || !stralloc_catulong(out, (unsigned long)r->attempts) || !stralloc_cats(out, "\t")
      || !stralloc_catulong(out, (unsigned long)r->next) || !stralloc_cats(out, "\t") || !stralloc_catulong(out, (unsigned long)r->last)
      || !stralloc_append(out, "\t") || !stralloc_append(out, &r->kind) || !stralloc_append(out, "\t")
      || cat_field(out, r->target.s, r->target.len) < 0 || !stralloc_append(out, "\t")
      || cat_field(out, r->original.s, r->original.len) < 0 || !stralloc_append(out, "\t")
      || cat_field(out, r->address.s, r->address.len) < 0 || !stralloc_append(out, "\t")
      || cat_field(out, r->reply.s, r->reply.len) < 0 || !stralloc_append(out, "\n")) return -1;
  return 0;
}

int qinfo_pack(const struct qinfo *q, stralloc *out)
{
  unsigned long i;
  out->len = 0;
  if (!stralloc_cats(out, "IMCI1\t") || !stralloc_cats(out, q->id) || !stralloc_cats(out, "\nq\t")
      || !stralloc_catulong(out, (unsigned long)q->qtime) || !stralloc_cats(out, "\t")
      || !stralloc_cats(out, !q->flags ? "-" : q->flags == QI_WARNED ? "w" : q->flags == QI_HELD ? "h" : "wh")
      || !stralloc_cats(out, "\n"))
    goto nomem;
  for (i = 0; i < q->n; i++) if (pack_rcpt(&q->r[i], out) < 0) goto nomem;
  if (!stralloc_cats(out, "end\t") || !stralloc_catulong(out, (unsigned long)q->n) || !stralloc_append(out, "\n")) goto nomem;
  return 0;
nomem:
  errno = ENOMEM;
  return -1;
}

/* split a line into at most max TAB-separated fields; returns the count */
static size_t split_tabs(char *line, char **f, size_t max)
{
  size_t n = 0;
  f[n++] = line;
  for (; *line && n < max; line++)
    if (*line == '\t') { *line = 0; f[n++] = line + 1; }
  return n;
}

static int scan_num(const char *s, unsigned long *v)
{
  size_t n = scan_ulong(s, v);
  return n && s[n] == 0 ? 0 : -1;
}

static int set_field(stralloc *sa, const char *s)
{
  if (!strcmp(s, "-")) s = "";
  return qinfo_set(sa, s, strlen(s));
}

static int unpack_rcpt(struct qinfo *q, char **f)
{
  struct qinfo_rcpt *r;
  if (!f[1][0] || f[1][1] || !strchr("PDFXBS", f[1][0])) return -2;
  if (!f[5][0] || f[5][1] || !strchr("LR", f[5][0])) return -2;
  if (!(r = qinfo_add(q))) return -1;
  r->state = f[1][0];
  r->kind = f[5][0];
  if (scan_num(f[2], &r->attempts) < 0 || scan_num(f[3], &r->next) < 0 || scan_num(f[4], &r->last) < 0)
    return -2;
  if (set_field(&r->target, f[6]) < 0 || set_field(&r->original, f[7]) < 0
      || set_field(&r->address, f[8]) < 0 || set_field(&r->reply, f[9]) < 0) return -1;
  return 0;
}

static int unpack_line(struct qinfo *q, char *line, int lineno, int *ended)
{
  char *f[10];
  size_t n = split_tabs(line, f, 10);
  unsigned long v;
  if (*ended) return -2;
  if (lineno == 0) {
    if (n != 2 || strcmp(f[0], "IMCI1") || !qid_valid(f[1], strlen(f[1]))) return -2;
    memcpy(q->id, f[1], QID_LEN + 1);
    return 0;
  }
  if (lineno == 1) {
    if (n != 3 || strcmp(f[0], "q") || scan_num(f[1], &q->qtime) < 0) return -2;
    q->flags = (strchr(f[2], 'w') ? QI_WARNED : 0) | (strchr(f[2], 'h') ? QI_HELD : 0);
    return 0;
  }
  if (n == 2 && !strcmp(f[0], "end")) {
    *ended = 1;
    return scan_num(f[1], &v) < 0 || v != q->n ? -2 : 0;
  }
  if (n != 10 || strcmp(f[0], "r")) return -2;
  return unpack_rcpt(q, f);
}

int qinfo_unpack(struct qinfo *q, const char *s, size_t len)
{
  stralloc copy = {0};
  size_t pos = 0;
  int lineno = 0, ended = 0, r = 0;
  memset(q, 0, sizeof *q);
  if (!len || s[len - 1] != '\n' || memchr(s, 0, len)) return -2;
  if (!stralloc_copyb(&copy, s, len)) { errno = ENOMEM; return -1; }
  while (pos < copy.len && r == 0) {
    char *line = copy.s + pos, *nl = memchr(line, '\n', copy.len - pos);
    *nl = 0;
    pos = (size_t)(nl - copy.s) + 1;
    r = unpack_line(q, line, lineno++, &ended);
  }
  stralloc_free(&copy);
  if (r == 0 && !ended) r = -2;
  if (r < 0) qinfo_free(q);
  return r;
}
