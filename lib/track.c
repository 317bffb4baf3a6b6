/*
 * track.c -- the tracking log writer (see track.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>        /* rename(2) only */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "control.h"
#include "diag.h"
#include "fileio.h"
#include "track.h"
#include "utf8.h"

static int enabled = 1;

void track_enable(int on) { enabled = on; }

/* a field as printable UTF-8: controls (TAB and LF among them) and stray octets
   become spaces (lib/utf8.h), so internationalized addresses stay readable */
static size_t put(char *buf, size_t pos, size_t cap, const char *s)
{
  if (!s || !*s) s = "-";
  if (pos >= cap) return pos;
  return pos + utf8_clean(buf + pos, cap - pos, s, strlen(s), ' ');
}

static size_t put_time(char *buf, size_t pos, size_t cap, unsigned long now)
{
  struct tm tm;
  time_t t = (time_t)now;
  char tbuf[32];
  gmtime_r(&t, &tm);
  strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return put(buf, pos, cap, tbuf);
}

void track_format(char *buf, size_t *len, size_t cap, unsigned long now, const struct track_event *e)
{
  size_t pos = 0;
  const char *fields[7];
  int i;
  fields[0] = e->event; fields[1] = e->id; fields[2] = e->msgid; fields[3] = e->sender;
  fields[4] = e->rcpt; fields[5] = e->peer; fields[6] = e->result;
  cap--;                              /* room for the newline */
  pos = put_time(buf, pos, cap, now);
  for (i = 0; i < 7; i++) {
    if (pos < cap) buf[pos++] = '\t';
    if (i == 3 && e->sender && !*e->sender) pos = put(buf, pos, cap, "<>");
    else pos = put(buf, pos, cap, fields[i]);
  }
  buf[pos++] = '\n';
  *len = pos;
}

static int is_archive(const char *name)
{
  size_t n = strlen(name);
  return name[0] == '@' && n > 3 && !strcmp(name + n - 2, ".s");
}

static int cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* remove the oldest archives beyond TRACK_KEEP; names sort by time */
static void track_prune(const char *dir)
{
  char *names[256];
  size_t n = 0, i;
  struct dirent *d;
  DIR *dh = opendir(dir);
  if (!dh) return;
  while ((d = readdir(dh)) != 0 && n < 256)
    if (is_archive(d->d_name) && (names[n] = strdup(d->d_name)) != 0) n++;
  closedir(dh);
  qsort(names, n, sizeof names[0], cmp_names);
  for (i = 0; i < n; i++) {
    if (i + TRACK_KEEP < n) {
      stralloc p = {0};
      if (stralloc_copys(&p, dir) && stralloc_append(&p, "/") && stralloc_cats(&p, names[i])
          && stralloc_0(&p)) unlink(p.s);
      stralloc_free(&p);
    }
    free(names[i]);
  }
}

static void track_rotate(const char *cur, unsigned long now)
{
  stralloc dir = {0}, arch = {0};
  char num[FMT_ULONG];
  if (imc_path(&dir, "log/track") < 0 || !stralloc_copy(&arch, &dir)
      || !stralloc_cats(&arch, "/@") || !stralloc_catb(&arch, num, fmt_ulong(num, now))
      || !stralloc_cats(&arch, ".s") || !stralloc_0(&arch)) goto done;
  if (rename(cur, arch.s) < 0) warnsys("unable to rotate ", cur);
  else track_prune(dir.s);
done:
  stralloc_free(&dir);
  stralloc_free(&arch);
}

/* the log stays open between events and is reopened after a rotation */
void track_log(const struct track_event *e)
{
  static stralloc path;
  static int fd = -1;
  char buf[4096];
  size_t len;
  struct stat st;
  unsigned long now = (unsigned long)time(0);
  if (!enabled) return;
  if (!path.len && imc_path(&path, "log/track/current") < 0) return;
  if (fd < 0 && (fd = open(path.s, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0) {
    warnsys("unable to open ", path.s);
    return;
  }
  track_format(buf, &len, sizeof buf, now, e);
  if (write_all(fd, buf, len) < 0) warnsys("unable to write ", path.s);
  if (fstat(fd, &st) == 0 && (st.st_size > TRACK_ROTATE_SIZE || st.st_nlink == 0)) {
    if (st.st_nlink) track_rotate(path.s, now);
    close(fd);
    fd = -1;
  }
}
