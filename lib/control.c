/*
 * control.c -- reading control files (see control.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "control.h"
#include "fileio.h"

static int ctl_dirfd = -1;      /* ctl_use_dir */

const char *imc_home(void)
{
  const char *h = getenv("IMC_HOME");
  return (h && *h) ? h : "/var/imc";
}

int imc_path(stralloc *sa, const char *rel)
{
  if (!stralloc_copys(sa, imc_home()) || !stralloc_append(sa, "/")
      || !stralloc_cats(sa, rel) || !stralloc_0(sa)) { errno = ENOMEM; return -1; }
  sa->len--;
  return 0;
}

int imc_path2(stralloc *sa, const char *rel, const char *name)
{
  if (imc_path(sa, rel) < 0 || !stralloc_append(sa, "/")
      || !stralloc_cats(sa, name) || !stralloc_0(sa)) { errno = ENOMEM; return -1; }
  sa->len--;
  return 0;
}

/* every line, the last one too, ends with '\n', which ctl_next may overwrite */
static int ctl_terminate(ctl_file *f)
{
  if (f->raw.len && f->raw.s[f->raw.len - 1] == '\n') return 0;
  if (!stralloc_append(&f->raw, "\n")) { errno = ENOMEM; return -1; }
  return 0;
}

void ctl_use_dir(int dirfd) { ctl_dirfd = dirfd; }

/* control/NAME relative to the directory of ctl_use_dir: 1 read, 0 missing, -1 error */
static int read_at(const char *name, stralloc *sa)
{
  return file_read_at(ctl_dirfd, name, sa);
}

int ctl_open(ctl_file *f, const char *name)
{
  stralloc path = {0};
  int r;
  f->pos = 0;
  f->lineno = 0;
  f->name = name;
  if (ctl_dirfd >= 0) r = read_at(name, &f->raw);
  else {
    if (imc_path2(&path, "control", name) < 0) return -1;
    r = file_read(path.s, &f->raw);
    stralloc_free(&path);
  }
  if (r == 1 && ctl_terminate(f) < 0) return -1;
  return r;
}

void ctl_openmem(ctl_file *f, const char *name, const char *text, size_t len)
{
  f->pos = 0;
  f->lineno = 0;
  f->name = name;
  if (!stralloc_copyb(&f->raw, text, len) || ctl_terminate(f) < 0) f->raw.len = 0;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

int ctl_next(ctl_file *f, char **line, size_t *len)
{
  while (f->pos < f->raw.len) {
    char *s = f->raw.s + f->pos;
    size_t n = f->raw.len - f->pos, i, end;
    char *nl = memchr(s, '\n', n);
    size_t linelen = nl ? (size_t)(nl - s) : n;
    f->pos += linelen + (nl ? 1 : 0);
    f->lineno++;
    end = linelen;
    for (i = 0; i < linelen; i++) if (s[i] == '#') { end = i; break; }
    while (end > 0 && is_space(s[end - 1])) end--;
    i = 0;
    while (i < end && is_space(s[i])) i++;
    if (i == end) continue;
    s[end] = 0;       /* overwrites '#', white space or '\n' (ctl_terminate) */
    *line = s + i;
    *len = end - i;
    return 1;
  }
  return 0;
}

void ctl_close(ctl_file *f)
{
  stralloc_free(&f->raw);
}

char *ctl_word(char **p)
{
  char *s = *p, *w;
  while (*s && is_space(*s)) s++;
  if (!*s) { *p = s; return 0; }
  w = s;
  while (*s && !is_space(*s)) s++;
  if (*s) *s++ = 0;
  *p = s;
  return w;
}

int ctl_scan_ulong(const char *s, unsigned long *out)
{
  unsigned long v = 0;
  if (!*s) return 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return 0;
    if (v > (~0UL - 9) / 10) return 0;
    v = v * 10 + (unsigned long)(*s - '0');
  }
  *out = v;
  return 1;
}

static int scan_unit(const char *s, unsigned long *out, const char *units, const unsigned long *mult)
{
  char buf[32];
  size_t n = strlen(s);
  const char *u;
  unsigned long v, m = 1;
  if (n == 0 || n >= sizeof buf) return 0;
  memcpy(buf, s, n + 1);
  if ((u = strchr(units, buf[n - 1])) != 0 && buf[n - 1]) {
    m = mult[u - units];
    buf[n - 1] = 0;
  }
  if (!ctl_scan_ulong(buf, &v)) return 0;
  if (m && v > ~0UL / m) return 0;
  *out = v * m;
  return 1;
}

int ctl_scan_size(const char *s, unsigned long *out)
{
  static const unsigned long mult[] = { 1024, 1024, 1048576, 1048576, 1073741824, 1073741824 };
  return scan_unit(s, out, "kKmMgG", mult);
}

int ctl_scan_time(const char *s, unsigned long *out)
{
  static const unsigned long mult[] = { 1, 60, 3600, 86400 };
  return scan_unit(s, out, "smhd", mult);
}

int ctl_scan_bool(const char *s, int *out)
{
  static const char *yes[] = { "on", "yes", "1", "true", 0 };
  static const char *no[] = { "off", "no", "0", "false", 0 };
  int i;
  for (i = 0; yes[i]; i++) if (!strcasecmp(s, yes[i])) { *out = 1; return 1; }
  for (i = 0; no[i]; i++) if (!strcasecmp(s, no[i])) { *out = 0; return 1; }
  return 0;
}
