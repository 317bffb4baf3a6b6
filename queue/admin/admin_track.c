/*
 * admin_track.c -- reading the tracking log (docs/INTERNALS.md section 6)
 * for imc-track and imc-qread.
 *
 * Input: log/track/current and the rotated files log/track/@SECONDS.s,
 * read in time order (the archives by SECONDS, then current), each line
 *     TIME TAB EVENT TAB ID TAB MESSAGE-ID TAB SENDER TAB RECIPIENT TAB PEER TAB RESULT
 * with TIME as 2026-11-28T02:38:56Z and `-` for a field that does not
 * apply.  Output: one struct trk_event per line, fields split in place.
 *
 * Failure modes: a line that does not parse (cut by a crash, foreign) is
 * skipped; a file that disappears between listing and reading (rotated
 * away) is skipped; an unreadable directory is an error (-1, errno).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "admin.h"
#include "control.h"
#include "fileio.h"

int trk_dir(stralloc *sa) { return imc_path(sa, "log/track"); }

static char *dash(char *s) { return strcmp(s, "-") ? s : s + 1; }

int trk_parse(char *line, size_t len, struct trk_event *e)
{
  char *f[8];
  size_t n = 0, i;
  if (memchr(line, 0, len)) return 0;
  line[len] = 0;
  f[n++] = line;
  for (i = 0; i < len && n < 8; i++)
    if (line[i] == '\t') { line[i] = 0; f[n++] = line + i + 1; }
  if (n != 8 || !adm_scan_iso(f[0], &e->t) || !f[1][0] || !strcmp(f[1], "-")) return 0;
  e->time = f[0];
  e->event = f[1];
  e->id = dash(f[2]);
  e->msgid = dash(f[3]);
  e->sender = dash(f[4]);
  e->rcpt = dash(f[5]);
  e->peer = dash(f[6]);
  e->result = dash(f[7]);
  return 1;
}

/* @DIGITS.s */
static int is_archive(const char *name)
{
  size_t n = strlen(name), i;
  if (n < 4 || name[0] != '@' || strcmp(name + n - 2, ".s")) return 0;
  for (i = 1; i < n - 2; i++) if (name[i] < '0' || name[i] > '9') return 0;
  return 1;
}

/* by the number: a shorter run of digits is a smaller number */
static int cmp_archive(const void *a, const void *b)
{
  const char *x = *(char *const *)a, *y = *(char *const *)b;
  size_t nx = strlen(x), ny = strlen(y);
  return nx != ny ? (nx < ny ? -1 : 1) : strcmp(x, y);
}

static int names_out(char **v, size_t n, int current, stralloc *names)
{
  size_t i;
  if (n) qsort(v, n, sizeof *v, cmp_archive);      /* v is 0 when there is none */
  for (i = 0; i < n; i++) if (!stralloc_cats(names, v[i]) || !stralloc_0(names)) return -1;
  if (current && (!stralloc_cats(names, "current") || !stralloc_0(names))) return -1;
  return 0;
}

int trk_files(const char *dir, stralloc *names)
{
  DIR *d = opendir(dir);
  struct dirent *de;
  char **v = 0;
  size_t n = 0, cap = 0, i;
  int current = 0, r = 0;
  names->len = 0;
  if (!d) return -1;
  while (r == 0 && (de = readdir(d)) != 0) {
    if (!strcmp(de->d_name, "current")) { current = 1; continue; }
    if (!is_archive(de->d_name)) continue;
    if (n == cap) {
      char **nv = realloc(v, (cap = cap ? cap * 2 : 32) * sizeof *v);
      if (!nv) { r = -1; break; }
      v = nv;
    }
    if (!(v[n] = strdup(de->d_name))) r = -1; else n++;
  }
  closedir(d);
  if (r == 0) r = names_out(v, n, current, names);
  for (i = 0; i < n; i++) free(v[i]);
  free(v);
  if (r < 0) errno = ENOMEM;
  return r;
}

static void scan_text(stralloc *text, trk_fn fn, void *ctx)
{
  size_t pos = 0;
  struct trk_event e;
  if (!stralloc_0(text)) return;
  text->len--;
  while (pos < text->len) {
    char *line = text->s + pos, *nl = memchr(line, '\n', text->len - pos);
    size_t n = nl ? (size_t)(nl - line) : text->len - pos;
    if (trk_parse(line, n, &e)) fn(&e, ctx);
    pos += n + 1;
  }
}

/* every file of the list opened, so that a rotation after the listing loses nothing:
   1 all open, 0 one vanished (list again), -1 error */
static int open_all(const char *dir, const stralloc *names, int *fds, size_t *n)
{
  stralloc path = {0};
  size_t pos = 0;
  int r = 1;
  *n = 0;
  while (r == 1 && pos < names->len) {
    const char *name = names->s + pos;
    pos += strlen(name) + 1;
    if (!stralloc_copys(&path, dir) || !stralloc_append(&path, "/") || !stralloc_cats(&path, name)
        || !stralloc_0(&path)) { errno = ENOMEM; r = -1; break; }
    fds[*n] = open(path.s, O_RDONLY | O_CLOEXEC);
    if (fds[*n] >= 0) (*n)++;
    else r = errno == ENOENT ? 0 : -1;
  }
  stralloc_free(&path);
  return r;
}

static void close_all(int *fds, size_t n)
{
  while (n) close(fds[--n]);
}

static int read_all(int *fds, size_t n, trk_fn fn, void *ctx)
{
  stralloc text = {0};
  size_t i;
  int r = 0;
  for (i = 0; i < n && r == 0; i++) {
    if (file_read_fd(fds[i], &text) < 0) r = -1;
    else scan_text(&text, fn, ctx);
  }
  stralloc_free(&text);
  return r;
}

int trk_scan(const char *dir, trk_fn fn, void *ctx)
{
  stralloc names = {0};
  int *fds = 0, r = 0, tries;
  size_t n = 0;
  for (tries = 0; tries < 5 && r == 0; tries++) {
    if (trk_files(dir, &names) < 0) { r = -1; break; }
    free(fds);
    if (!(fds = malloc((names.len / 2 + 1) * sizeof *fds))) { errno = ENOMEM; r = -1; break; }
    r = open_all(dir, &names, fds, &n);
    if (r == 0) { close_all(fds, n); n = 0; }
  }
  if (r == 1) r = read_all(fds, n, fn, ctx);
  else if (r == 0) { errno = EAGAIN; r = -1; }
  if (fds) close_all(fds, n);
  free(fds);
  stralloc_free(&names);
  return r;
}
