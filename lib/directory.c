/*
 * directory.c -- control/directory: parsing, checking, and compiling it
 * into control/directory.cdb (see directory.h).  Lookups and recipient
 * resolution are in dirlookup.c.
 *
 * Input: control/directory through the shared control reader, so `#`
 * comments and blank lines work.  A display name is written in double
 * quotes and cannot hold `"` or `#` (the reader ends the line at `#`).
 * List members are separated by commas, with optional white space.
 *
 * Output: each error through the caller's config_errfn as ("directory",
 * LINE, message), in line order; for compile, control/directory.cdb
 * written to a temporary name, fsynced, renamed, and control/ fsynced.
 *
 * Failure modes: the file cannot be read or the cdb cannot be written
 * (-1, errno set, the old cdb untouched); malformed entries (their count,
 * nothing written).  A missing control/directory is an empty directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>       /* rename(2) only */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "addr.h"
#include "control.h"
#include "directory.h"
#include "fileio.h"

#define NONE ((size_t)-1)

struct dentry {
  char kind;
  unsigned line;
  size_t alias, alen;        /* in dtable.pool, as written */
  size_t val, vlen;          /* in dtable.pool: the cdb value after the kind byte */
  unsigned char mark;        /* loop search: 0 unseen, 1 on the path, 2 done */
  unsigned char deep_parent; /* a list holding this one is nested too deeply */
  unsigned height;           /* longest chain of nested lists starting here */
};

struct derror { unsigned line; size_t msg; };   /* msg: offset in dtable.msgs */

struct dtable {
  stralloc pool;
  struct dentry *e;
  size_t n, cap;
  size_t *byname;            /* indexes into e, sorted by alias, then line */
  struct derror *err;
  size_t nerr, errcap;
  stralloc msgs;
  int nomem;
};

/* ---- small helpers */

/* room for want elements of size: the (maybe moved) array, or 0 (old one kept) */
static void *grow(void *p, size_t *cap, size_t want, size_t size)
{
  size_t ncap = *cap ? *cap : 64;
  if (want <= *cap) return p;
  while (ncap < want) ncap *= 2;
  p = realloc(p, ncap * size);
  if (p) *cap = ncap;
  return p;
}

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

static int alias_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
  size_t i;
  for (i = 0; i < alen && i < blen; i++) {
    char x = lower(a[i]), y = lower(b[i]);
    if (x != y) return (unsigned char)x < (unsigned char)y ? -1 : 1;
  }
  return alen < blen ? -1 : alen > blen;
}

static void dt_errorb(struct dtable *t, unsigned line, const char *msg, const char *name, size_t nlen)
{
  struct derror *e = grow(t->err, &t->errcap, t->nerr + 1, sizeof *t->err);
  if (!e) { t->nomem = 1; return; }
  t->err = e;
  e[t->nerr].line = line;
  e[t->nerr].msg = t->msgs.len;
  if (!stralloc_cats(&t->msgs, msg) || (name && !stralloc_catb(&t->msgs, name, nlen))
      || !stralloc_0(&t->msgs)) { t->nomem = 1; return; }
  t->nerr++;
}

static void dt_error(struct dtable *t, unsigned line, const char *msg, const char *name)
{
  dt_errorb(t, line, msg, name, name ? strlen(name) : 0);
}

/* the next comma-separated member of a stored list: 1 and (*m, *len), or 0 at the end */
static int next_member(const char *list, size_t len, size_t *pos, const char **m, size_t *mlen)
{
  size_t i;
  if (*pos >= len) return 0;
  *m = list + *pos;
  for (i = *pos; i < len && list[i] != ','; i++) ;
  *mlen = i - *pos;
  *pos = i + 1;
  return 1;
}

/* ---- parsing one line */

/* `"Display Name"` at *p: 0 and the name (NUL-terminated), or the error */
static const char *quoted(char **p, char **name, size_t *len)
{
  char *s = *p, *end;
  while (*s == ' ' || *s == '\t') s++;
  if (*s != '"') return "missing quoted display name";
  end = strchr(s + 1, '"');
  if (!end) return "unterminated display name";
  *end = 0;
  *name = s + 1;
  *len = (size_t)(end - s - 1);
  *p = end + 1;
  return 0;
}

static char *trim(char *s, size_t *len)
{
  size_t n;
  while (*s == ' ' || *s == '\t') s++;
  n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
  s[n] = 0;
  *len = n;
  return s;
}

static void check_member(struct dtable *t, unsigned line, const char *m, size_t n, stralloc *out)
{
  if (!n) { dt_error(t, line, "empty list member", 0); return; }
  if (strpbrk(m, " \t")) { dt_error(t, line, "bad list member: ", m); return; }
  if (addr_at(m, n) < n) {
    if (!addr_valid(m, n)) { dt_error(t, line, "bad address in list: ", m); return; }
  } else if (!mailbox_name_valid(m, n)) { dt_error(t, line, "bad list member: ", m); return; }
  if ((out->len && !stralloc_append(out, ",")) || !stralloc_catb(out, m, n)) t->nomem = 1;
}

/* `a, b,c@example.com`: each member checked, the good ones joined by ',' into out */
static void parse_members(struct dtable *t, unsigned line, char *s, stralloc *out)
{
  size_t n;
  out->len = 0;
  if (!*trim(s, &n)) return;                 /* an empty list */
  for (;;) {
    char *comma = strchr(s, ','), *m;
    if (comma) *comma = 0;
    m = trim(s, &n);
    check_member(t, line, m, n, out);
    if (!comma) return;
    s = comma + 1;
  }
}

static void parse_contact(struct dtable *t, unsigned line, char *p, stralloc *val)
{
  char *name, *a;
  size_t nlen, alen;
  const char *e = quoted(&p, &name, &nlen);
  if (e) { dt_error(t, line, e, 0); return; }
  a = ctl_word(&p);
  if (!a) { dt_error(t, line, "missing contact address", 0); return; }
  alen = strlen(a);
  if (alen > 2 && a[0] == '<' && a[alen - 1] == '>') { a++; alen -= 2; a[alen] = 0; }
  if (!addr_valid(a, alen)) { dt_error(t, line, "bad address: ", a); return; }
  if (ctl_word(&p)) dt_error(t, line, "extra words after the address", 0);
  if (!stralloc_copyb(val, a, alen + 1) || !stralloc_catb(val, name, nlen)) t->nomem = 1;
}

static void parse_mailbox(struct dtable *t, unsigned line, char *p, stralloc *val)
{
  char *name;
  size_t nlen;
  const char *e = quoted(&p, &name, &nlen);
  if (e) { dt_error(t, line, e, 0); return; }
  if (ctl_word(&p)) dt_error(t, line, "extra words after the display name", 0);
  if (!stralloc_copyb(val, name, nlen)) t->nomem = 1;
}

static void add_entry(struct dtable *t, char kind, unsigned line, const char *alias, const stralloc *val)
{
  struct dentry *e = grow(t->e, &t->cap, t->n + 1, sizeof *t->e);
  if (!e) { t->nomem = 1; return; }
  t->e = e;
  e += t->n;
  memset(e, 0, sizeof *e);
  e->kind = kind;
  e->line = line;
  e->alias = t->pool.len;
  e->alen = strlen(alias);
  e->val = e->alias + e->alen;
  e->vlen = val->len;
  if (!stralloc_catb(&t->pool, alias, e->alen) || !stralloc_catb(&t->pool, val->s ? val->s : "", val->len)) {
    t->nomem = 1;
    return;
  }
  t->n++;
}

/* one line; an entry with a good alias is kept even when the rest is bad,
   so that lists naming it do not report it unknown as well */
static void parse_line(struct dtable *t, char *line, unsigned lineno)
{
  char *p = line, *kw = ctl_word(&p), *alias = ctl_word(&p);
  stralloc val = {0};
  char kind;
  if (!kw) { dt_error(t, lineno, "missing keyword", 0); return; }    /* a line of NUL bytes */
  if (!strcmp(kw, "mailbox")) kind = DIR_MAILBOX;
  else if (!strcmp(kw, "list")) kind = DIR_LIST;
  else if (!strcmp(kw, "contact")) kind = DIR_CONTACT;
  else { dt_error(t, lineno, "unknown keyword: ", kw); return; }
  if (!alias) { dt_error(t, lineno, "missing alias", 0); return; }
  if (!mailbox_name_valid(alias, strlen(alias))) { dt_error(t, lineno, "bad alias: ", alias); return; }
  if (kind == DIR_MAILBOX) parse_mailbox(t, lineno, p, &val);
  else if (kind == DIR_LIST) parse_members(t, lineno, p, &val);
  else parse_contact(t, lineno, p, &val);
  add_entry(t, kind, lineno, alias, &val);
  stralloc_free(&val);
}

/* 1 read, 0 missing, -1 unreadable (errno) */
static int dt_load(struct dtable *t)
{
  ctl_file f = {0};
  char *line;
  size_t len;
  int r = ctl_open(&f, "directory"), e = errno;
  if (r == 1) while (ctl_next(&f, &line, &len)) parse_line(t, line, f.lineno);
  ctl_close(&f);
  errno = e;
  return r;
}

/* ---- checks across entries */

static int by_alias(const void *a, const void *b, void *arg)
{
  const struct dtable *t = arg;
  const struct dentry *x = &t->e[*(const size_t *)a], *y = &t->e[*(const size_t *)b];
  int r = alias_cmp(t->pool.s + x->alias, x->alen, t->pool.s + y->alias, y->alen);
  if (r) return r;
  return x->line < y->line ? -1 : x->line > y->line;
}

static size_t dt_find(const struct dtable *t, const char *name, size_t len)
{
  size_t lo = 0, hi = t->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const struct dentry *e = &t->e[t->byname[mid]];
    int r = alias_cmp(t->pool.s + e->alias, e->alen, name, len);
    if (r == 0) return t->byname[mid];
    if (r < 0) lo = mid + 1; else hi = mid;
  }
  return NONE;
}

/* "PREFIX NAME (first at line N)" at line */
static void dt_error_at(struct dtable *t, unsigned line, const char *prefix, const char *name, size_t nlen,
                        const char *mid, unsigned long n, const char *suffix)
{
  stralloc m = {0};
  char num[FMT_ULONG];
  if (!stralloc_copys(&m, prefix) || !stralloc_catb(&m, name, nlen) || !stralloc_cats(&m, mid)
      || !stralloc_catb(&m, num, fmt_ulong(num, n)) || !stralloc_cats(&m, suffix) || !stralloc_0(&m))
    t->nomem = 1;
  else dt_error(t, line, m.s, 0);
  stralloc_free(&m);
}

static void check_duplicates(struct dtable *t)
{
  size_t i;
  for (i = 1; i < t->n; i++) {
    const struct dentry *a = &t->e[t->byname[i - 1]], *b = &t->e[t->byname[i]];
    if (alias_cmp(t->pool.s + a->alias, a->alen, t->pool.s + b->alias, b->alen)) continue;
    dt_error_at(t, b->line, "duplicate alias: ", t->pool.s + b->alias, b->alen, " (first at line ", a->line, ")");
  }
}

static int is_postmaster(const char *m, size_t len) { return !alias_cmp(m, len, "postmaster", 10); }

/* every member alias must be defined; postmaster always exists */
static void check_members(struct dtable *t)
{
  size_t i, pos;
  const char *m;
  size_t mlen;
  for (i = 0; i < t->n; i++) {
    const struct dentry *e = &t->e[i];
    if (e->kind != DIR_LIST) continue;
    for (pos = 0; next_member(t->pool.s + e->val, e->vlen, &pos, &m, &mlen); ) {
      if (addr_at(m, mlen) < mlen || is_postmaster(m, mlen) || dt_find(t, m, mlen) != NONE) continue;
      dt_errorb(t, e->line, "unknown list member: ", m, mlen);
    }
  }
}

/* ---- list loops and nesting depth: a depth-first walk over the lists */

struct walk {
  struct dtable *t;
  size_t path[DIR_MAXDEPTH + 1];
  size_t depth;
};

static void report_loop(struct walk *w, size_t to, unsigned line)
{
  struct dtable *t = w->t;
  stralloc m = {0};
  size_t k = 0;
  int ok = stralloc_copys(&m, "list loop:");
  while (w->path[k] != to) k++;
  for (; ok && k < w->depth; k++) {
    const struct dentry *e = &t->e[w->path[k]];
    ok = stralloc_cats(&m, " ") && stralloc_catb(&m, t->pool.s + e->alias, e->alen) && stralloc_cats(&m, " ->");
  }
  ok = ok && stralloc_cats(&m, " ") && stralloc_catb(&m, t->pool.s + t->e[to].alias, t->e[to].alen)
       && stralloc_0(&m);
  if (ok) dt_error(t, line, m.s, 0); else t->nomem = 1;
  stralloc_free(&m);
}

/* the list member j of the list on top of the path: its height (loops count 0) */
static unsigned walk_member(struct walk *w, size_t j, unsigned line);

static unsigned walk_list(struct walk *w, size_t i)
{
  struct dentry *e = &w->t->e[i];
  unsigned h = 0, sub;
  size_t pos = 0, mlen, j;
  const char *m;
  e->mark = 1;
  w->path[w->depth++] = i;
  while (next_member(w->t->pool.s + e->val, e->vlen, &pos, &m, &mlen)) {
    if (addr_at(m, mlen) < mlen || (j = dt_find(w->t, m, mlen)) == NONE || w->t->e[j].kind != DIR_LIST) continue;
    sub = walk_member(w, j, e->line);
    if (sub > h) h = sub;
  }
  w->depth--;
  e->mark = 2;
  e->height = h < DIR_MAXDEPTH ? h + 1 : DIR_MAXDEPTH + 1;
  return e->height;
}

static unsigned walk_member(struct walk *w, size_t j, unsigned line)
{
  const struct dentry *e = &w->t->e[j];
  if (e->mark == 1) { report_loop(w, j, line); return 0; }
  if (e->mark == 2) return e->height;
  if (w->depth > DIR_MAXDEPTH) return DIR_MAXDEPTH + 1;   /* too deep already: stop here */
  return walk_list(w, j);
}

/* report the outermost lists whose nesting is deeper than resolution follows */
static void check_depth(struct dtable *t)
{
  size_t i, pos, mlen, j;
  const char *m;
  for (i = 0; i < t->n; i++) {
    const struct dentry *e = &t->e[i];
    if (e->kind != DIR_LIST || e->height <= DIR_MAXDEPTH) continue;
    for (pos = 0; next_member(t->pool.s + e->val, e->vlen, &pos, &m, &mlen); )
      if (addr_at(m, mlen) == mlen && (j = dt_find(t, m, mlen)) != NONE) t->e[j].deep_parent = 1;
  }
  for (i = 0; i < t->n; i++)
    if (t->e[i].kind == DIR_LIST && t->e[i].height > DIR_MAXDEPTH && !t->e[i].deep_parent)
      dt_error_at(t, t->e[i].line, "list ", t->pool.s + t->e[i].alias, t->e[i].alen,
                  ": lists nested more than ", DIR_MAXDEPTH, " deep");
}

static void check_loops(struct dtable *t)
{
  struct walk w;
  size_t i;
  w.t = t;
  w.depth = 0;
  for (i = 0; i < t->n; i++) if (t->e[i].kind == DIR_LIST && !t->e[i].mark) walk_list(&w, i);
  check_depth(t);
}

static void dt_check(struct dtable *t)
{
  size_t i;
  if (t->nomem || !t->n) return;
  t->byname = malloc(t->n * sizeof *t->byname);
  if (!t->byname) { t->nomem = 1; return; }
  for (i = 0; i < t->n; i++) t->byname[i] = i;
  qsort_r(t->byname, t->n, sizeof *t->byname, by_alias, t);
  check_duplicates(t);
  check_members(t);
  check_loops(t);
}

/* ---- reporting, in line order */

static int by_line(const void *a, const void *b)
{
  const struct derror *x = a, *y = b;
  if (x->line != y->line) return x->line < y->line ? -1 : 1;
  return x->msg < y->msg ? -1 : x->msg > y->msg;
}

static int dt_report(struct dtable *t, config_errfn err)
{
  size_t i;
  if (t->nerr) qsort(t->err, t->nerr, sizeof *t->err, by_line);
  for (i = 0; err && i < t->nerr; i++) err("directory", t->err[i].line, t->msgs.s + t->err[i].msg);
  return (int)t->nerr;
}

static void dt_free(struct dtable *t)
{
  stralloc_free(&t->pool);
  stralloc_free(&t->msgs);
  free(t->e);
  free(t->byname);
  free(t->err);
}

/* load and check: the number of errors, or -1 (errno) */
static int dt_build(struct dtable *t, config_errfn err)
{
  memset(t, 0, sizeof *t);
  if (dt_load(t) < 0) return -1;
  dt_check(t);
  if (t->nomem) { errno = ENOMEM; return -1; }
  return dt_report(t, err);
}

int directory_check(config_errfn err)
{
  struct dtable t;
  int r = dt_build(&t, err), e = errno;
  dt_free(&t);
  errno = e;
  return r;
}

/* ---- writing the cdb */

/* libowfat's cdb_make never frees its hash lists: do it here */
static void cdb_make_release(struct cdb_make *cm)
{
  struct cdb_hplist *x;
  while ((x = cm->head) != 0) {
    cm->head = x->next;
    free(x);
  }
  free(cm->split);
  cm->split = 0;
}

static int cdb_fill(const struct dtable *t, int fd)
{
  static struct cdb_make cm;      /* 12 KB: not on the stack */
  stralloc key = {0}, val = {0};
  size_t i;
  int r = cdb_make_start(&cm, fd) < 0 ? -1 : 0;    /* libowfat returns the offset, 2048 */
  for (i = 0; r == 0 && i < t->n; i++) {
    const struct dentry *e = &t->e[i];
    if (!stralloc_copyb(&key, t->pool.s + e->alias, e->alen) || !stralloc_copyb(&val, &e->kind, 1)
        || !stralloc_catb(&val, t->pool.s + e->val, e->vlen)) { errno = ENOMEM; r = -1; break; }
    case_lowerb(key.s, key.len);
    r = cdb_make_add(&cm, (const unsigned char *)key.s, key.len, (const unsigned char *)val.s, val.len);
  }
  if (r == 0) r = cdb_make_finish(&cm);
  cdb_make_release(&cm);
  stralloc_free(&key);
  stralloc_free(&val);
  return r < 0 ? -1 : 0;
}

/* control/directory.cdb.tmp.PID, filled, fsynced, renamed, control/ fsynced */
static int dt_write(const struct dtable *t)
{
  stralloc path = {0}, tmp = {0};
  char num[FMT_ULONG];
  int fd = -1, r = -1, e;
  if (imc_path2(&path, "control", "directory.cdb") < 0 || !stralloc_copy(&tmp, &path)
      || !stralloc_cats(&tmp, ".tmp.") || !stralloc_catb(&tmp, num, fmt_ulong(num, (unsigned long)getpid()))
      || !stralloc_0(&tmp)) { errno = ENOMEM; goto done; }
  fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) goto done;
  if (cdb_fill(t, fd) < 0 || fsync(fd) < 0) goto unlink_tmp;
  r = close(fd);
  fd = -1;
  if (r < 0 || rename(tmp.s, path.s) < 0) { r = -1; goto unlink_tmp; }
  r = dir_sync_parent(path.s);
  goto done;
unlink_tmp:
  e = errno; unlink(tmp.s); errno = e;
done:
  e = errno;
  if (fd >= 0) close(fd);
  stralloc_free(&path);
  stralloc_free(&tmp);
  errno = e;
  return r;
}

int directory_build(config_errfn err, unsigned long *entries)
{
  struct dtable t;
  int r = dt_build(&t, err), e;
  if (r == 0) r = dt_write(&t);
  if (r == 0 && entries) *entries = t.n;
  e = errno;
  dt_free(&t);
  errno = e;
  return r;
}

int directory_compile(config_errfn err)
{
  return directory_build(err, 0);
}
