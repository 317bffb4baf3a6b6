/*
 * fuzz_control.c -- libFuzzer target for the control files: the shared
 * reader (lib/control.c), the settings table (lib/config.c), control/domains
 * (lib/domains.c), control/mimetypes (lib/mimetypes.c) and control/directory
 * with its cdb and recipient resolution (lib/directory.c, lib/dirlookup.c).
 * control/rules, transfermode, routes and smarthost have their own targets.
 *
 * The first input byte picks what the rest is (bits 0-2):
 *   0  any control file, read line by line, split into words, each word
 *      scanned as a number, size, time and boolean;
 *   1  the text of every file of the settings table (config_check_text);
 *   2  control/domains (domains_parse_text);
 *   3  control/mimetypes (mimetypes_parse_text);
 *   4-7  an instance: lines "@@NAME" start control/NAME (a setting, domains,
 *      mimetypes or directory), "@@probe" a list of addresses; the files are
 *      written to a private IMC_HOME under $TMPDIR, loaded with config_load,
 *      domains_load, mimetypes_load and directory_build, and every probe is
 *      looked up in all of them and resolved through the directory's cdb.
 * Checks, besides the sanitizers:
 *   - the reader's lines are NUL-terminated, non-empty, trimmed and free of
 *     '#' and LF (a NUL byte inside stays: every parser must cope with a
 *     line that has no first word); a number scanned as a size or time
 *     without a unit is the same number, and prints back as the word
 *     without leading zeros;
 *   - every error is reported with a message and counted;
 *   - each domains line kept formats to text that parses back to the same
 *     settings; an exact pattern finds its own line;
 *   - each mimetypes pair is lower case; a file name with a listed extension
 *     gets the first type listed for it, and that type has an extension;
 *   - the list settings are NUL-terminated lines; costs are 1..100;
 *   - directory_build writes a cdb exactly when directory_check finds no
 *     error, with every entry in it; resolution never fails on that cdb and
 *     names each destination once: a valid lower-case mailbox (L), or the
 *     lower-case domain of the address delivered to (R).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "addr.h"
#include "config.h"
#include "control.h"
#include "directory.h"
#include "domains.h"
#include "fileio.h"
#include "mimetypes.h"

static unsigned long nerrors;

static void count_error(const char *file, unsigned line, const char *msg)
{
  (void)line;
  if (!file || !*file || !msg || !*msg) abort();
  nerrors++;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

/* ---- 0: the reader and the scanners */

static void scan_word(const char *w)
{
  unsigned long v, v2;
  char num[FMT_ULONG];
  const char *digits = w;
  int b;
  if (ctl_scan_ulong(w, &v) && strlen(w) < 32) {     /* sizes and times: at most 31 characters */
    while (digits[0] == '0' && digits[1]) digits++;
    num[fmt_ulong(num, v)] = 0;
    if (strcmp(num, digits)) abort();
    if (!ctl_scan_size(w, &v2) || v2 != v || !ctl_scan_time(w, &v2) || v2 != v) abort();
  }
  ctl_scan_size(w, &v);
  ctl_scan_time(w, &v);
  if (ctl_scan_bool(w, &b) && b != 0 && b != 1) abort();
}

static void reader(const char *p, size_t n)
{
  ctl_file f = {0};
  char *line, *w;
  size_t len, i, nl = 0;
  unsigned last = 0;
  for (i = 0; i < n; i++) nl += p[i] == '\n';
  ctl_openmem(&f, "any", p, n);
  while (ctl_next(&f, &line, &len)) {
    if (!len || line[len] || is_space(line[0]) || is_space(line[len - 1])) abort();
    if (memchr(line, '#', len) || memchr(line, '\n', len)) abort();
    if (f.lineno <= last || f.lineno > nl + 1) abort();
    last = f.lineno;
    while ((w = ctl_word(&line)) != 0) {
      if (!*w) abort();
      for (i = 0; w[i]; i++) if (is_space(w[i])) abort();
      scan_word(w);
    }
  }
  ctl_close(&f);
}

/* ---- 1: the settings table */

static void settings(const char *p, size_t n)
{
  const char *file;
  size_t i;
  int r;
  for (i = 0; (file = config_file(i)) != 0; i++) {
    nerrors = 0;
    r = config_check_text(file, p, n, count_error);
    if (r < 0 || (unsigned long)r != nerrors) abort();
  }
  if (config_check_text("no-such-setting", p, n, count_error) != -1) abort();
}

/* ---- 2: control/domains */

static int same_settings(const struct domain_settings *a, const struct domain_settings *b)
{
  return a->attachments == b->attachments && !strcmp(a->charset, b->charset)
         && !strcmp(a->nonmimecharset, b->nonmimecharset) && a->wrap == b->wrap
         && a->richtext == b->richtext && a->displaynames == b->displaynames && a->oof == b->oof
         && a->autoreplies == b->autoreplies && a->maxsize == b->maxsize;
}

static void check_settings(const struct domain_settings *s)
{
  if (s->attachments != ATT_MIME && s->attachments != ATT_UUENCODE) abort();
  if (s->richtext < RICH_USER || s->richtext > RICH_NEVER) abort();
  if (s->wrap && (s->wrap < 10 || s->wrap > 998)) abort();
  if (!memchr(s->charset, 0, sizeof s->charset) || !memchr(s->nonmimecharset, 0, sizeof s->nonmimecharset)) abort();
  if (!s->charset[0] || !s->nonmimecharset[0]) abort();
}

/* "PATTERN formatted-settings" parses back to the same settings */
static void domains_roundtrip(const char *pattern, const struct domain_settings *s)
{
  stralloc f = {0}, line = {0};
  struct domains d;
  struct domain_settings got;
  if (domains_format(s, &f) < 0) abort();
  if (!stralloc_copys(&line, pattern) || !stralloc_cats(&line, " ") || !stralloc_cat(&line, &f)) abort();
  if (domains_parse_text(&d, line.s, line.len, 0) != 0 || d.n != 1) abort();
  domains_find(&d, strcmp(pattern, "*") ? pattern : "-", &got);
  if (pattern[0] != '.' && !same_settings(&got, s)) abort();
  if (!same_settings(&d.e[0].s, s)) abort();
  domains_free(&d);
  stralloc_free(&f);
  stralloc_free(&line);
}

static void domains_text(const char *p, size_t n)
{
  struct domains d;
  struct domain_settings s;
  size_t i, k;
  nerrors = 0;
  if (domains_parse_text(&d, p, n, count_error) != (int)nerrors) abort();
  check_settings(&d.star);
  for (i = 0; i < d.n; i++) {
    const char *pat = d.e[i].pattern;
    check_settings(&d.e[i].s);
    for (k = 0; pat[k]; k++) if ((pat[k] >= 'A' && pat[k] <= 'Z') || is_space(pat[k])) abort();
    if (strcmp(pat, "*") && pat[0] != '.') {
      domains_find(&d, pat, &s);
      if (!same_settings(&s, &d.e[i].s)) abort();
    }
    if (i < 2) domains_roundtrip(pat, &d.e[i].s);     /* iconv_open is slow: a few suffice */
  }
  domains_roundtrip("*", &d.star);
  domains_free(&d);
}

/* ---- 3: control/mimetypes */

static void mimetypes_checks(const struct mimetypes *mt)
{
  char name[80];
  size_t i, k, first;
  for (i = 0; i < mt->n; i++) {
    const char *t = mt->m[i].type, *e = mt->m[i].ext;
    if (!strchr(t, '/') || !*e || *e == '.') abort();
    for (k = 0; t[k]; k++) if (t[k] >= 'A' && t[k] <= 'Z') abort();
    for (k = 0; e[k]; k++) if (e[k] >= 'A' && e[k] <= 'Z') abort();
    if (!mimetypes_ext(mt, t)) abort();
    if (strlen(e) + 3 > sizeof name) continue;
    for (first = 0; strcasecmp(mt->m[first].ext, e); first++) ;
    name[0] = 'f';
    name[1] = '.';
    strcpy(name + 2, e);
    if (strcmp(mimetypes_type(mt, name), mt->m[first].type)) abort();
  }
}

static void mimetypes_text(const char *p, size_t n)
{
  struct mimetypes mt;
  nerrors = 0;
  if (mimetypes_parse_text(&mt, p, n, count_error) != (int)nerrors) abort();
  mimetypes_checks(&mt);
  mimetypes_free(&mt);
}

/* ---- 4-7: an instance */

#define MAXFILES 40
static stralloc home, path;
static const char *written[MAXFILES];
static size_t nwritten;

static void instance_home(void)
{
  struct stat st;
  const char *tmp = getenv("TMPDIR");
  if (home.len) return;
  if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode)) tmp = "/dev/shm";   /* fsync costs nothing there */
  if (!stralloc_copys(&home, tmp && *tmp ? tmp : "/tmp") || !stralloc_cats(&home, "/fuzz_control.XXXXXX")
      || !stralloc_0(&home) || !mkdtemp(home.s)) abort();
  if (setenv("IMC_HOME", home.s, 1) < 0 || imc_path(&path, "control") < 0 || mkdir(path.s, 0700) < 0) abort();
}

static void control_path(const char *name)
{
  if (imc_path2(&path, "control", name) < 0) abort();
}

static void remove_files(void)
{
  while (nwritten) {
    control_path(written[--nwritten]);
    unlink(path.s);
  }
  control_path("directory.cdb");
  unlink(path.s);
}

static void remove_home(void)
{
  remove_files();
  if (imc_path(&path, "control") == 0) rmdir(path.s);
  if (home.len) rmdir(home.s);
}

/* the name of a control file the instance may hold, or 0 */
static const char *known_file(const char *s, size_t n)
{
  static const char *const extra[] = { "domains", "mimetypes", "directory", 0 };
  const char *f;
  size_t i;
  for (i = 0; (f = config_file(i)) != 0; i++) if (strlen(f) == n && !memcmp(f, s, n)) return f;
  for (i = 0; extra[i]; i++) if (strlen(extra[i]) == n && !memcmp(extra[i], s, n)) return extra[i];
  return 0;
}

static void write_file(const char *name, const char *text, size_t len)
{
  size_t i;
  for (i = 0; i < nwritten; i++) if (written[i] == name) return;   /* the first section wins */
  if (nwritten == MAXFILES) return;
  control_path(name);
  if (file_replace(path.s, text, len, 0600) < 0) abort();
  written[nwritten++] = name;
}

/* the sections of the input: files written, probes collected into probes */
static void sections(const char *p, size_t n, stralloc *probes)
{
  const char *name = 0;
  size_t pos = 0, start = 0;
  int probing = 0;
  while (pos <= n) {
    const char *nl = pos < n ? memchr(p + pos, '\n', n - pos) : 0;
    size_t len = nl ? (size_t)(nl - (p + pos)) : n - pos;
    int header = len >= 2 && p[pos] == '@' && p[pos + 1] == '@';
    if (header || pos + len >= n) {
      size_t end = header ? pos : n;
      if (name) write_file(name, p + start, end - start);
      else if (probing && !stralloc_catb(probes, p + start, end - start)) abort();
      if (!header) break;
      name = known_file(p + pos + 2, len - 2);
      probing = len == 7 && !memcmp(p + pos + 2, "probe", 5);
      start = pos + len + 1;
      if (start > n) start = n;
    }
    pos += len + 1;
  }
}

struct resolved { stralloc seen; unsigned long n; int strict; };

static int on_resolved(void *vctx, char kind, const char *target, size_t tlen, const char *addr, size_t alen)
{
  struct resolved *r = vctx;
  const char *key = kind == 'L' ? target : addr;
  size_t klen = kind == 'L' ? tlen : alen, pos = 0, i, at;
  if (kind == 'L') {
    if (r->strict && !mailbox_name_valid(target, tlen)) abort();
    for (i = 0; i < tlen; i++) if (target[i] >= 'A' && target[i] <= 'Z') abort();
  } else if (kind == 'R') {
    at = addr_at(addr, alen);
    if (at == alen || tlen != alen - at - 1 || memcmp(target, addr + at + 1, tlen)) abort();
    for (i = 0; i < tlen; i++) if (target[i] >= 'A' && target[i] <= 'Z') abort();
  } else abort();
  while (pos < r->seen.len) {                 /* each destination once */
    size_t m = strlen(r->seen.s + pos);
    if (m == klen + 1 && r->seen.s[pos] == kind && !memcmp(r->seen.s + pos + 1, key, klen)) abort();
    pos += m + 1;
  }
  if (!stralloc_append(&r->seen, &kind) || !stralloc_catb(&r->seen, key, klen) || !stralloc_0(&r->seen)) abort();
  r->n++;
  return 0;
}

static void check_list(const stralloc *list, int two_words)
{
  size_t pos = 0;
  const char *l;
  if (list->len && list->s[list->len - 1]) abort();
  while ((l = config_list_next(list, &pos)) != 0)
    if (!*l || (two_words && !strchr(l, ' '))) abort();
  if (pos != list->len) abort();
}

static void probe_config(const struct config *c, const char *a, size_t n)
{
  size_t at = addr_at(a, n);
  unsigned long cost = 0;
  const char *h;
  int f;
  if (config_in_addressspace(c, a + at + (at < n), n - at - (at < n), &cost) && (cost < 1 || cost > 100)) abort();
  f = config_filter(c, a, n);
  if (f != FILTER_NONE && f != FILTER_DROP && f != FILTER_TURF) abort();
  if ((unsigned)config_sender_out(c, a, n) > 1) abort();
  if ((h = config_auth_hash(c, a, at)) != 0 && !*h) abort();
  config_is_sitedomain(c, a + at + (at < n), n - at - (at < n));
}

/* a: one probe line, NUL-terminated (it may hold NULs too); strict: the
   configuration loaded without errors, so control/postmaster is a valid name */
static void probe(const struct config *c, struct directory *dir, const struct domains *d,
                  const struct mimetypes *mt, const char *a, size_t n, int strict)
{
  struct resolved r = { {0}, 0, 0 };
  struct domain_settings s;
  size_t at = addr_at(a, n);
  int x;
  r.strict = strict;
  probe_config(c, a, n);
  x = resolve_recipient(c, dir, a, n, on_resolved, &r);
  if (x < 0 || x > 1) abort();
  stralloc_free(&r.seen);
  x = directory_sender_out(c, dir, a, n);                /* lists in senders.allow/deny */
  if (x < 0 || x > 1 || (x && !config_sender_out_by(c, a, n, 0, 0) && !c->senders_allow.len)) abort();
  domains_find(d, a + at + (at < n), &s);
  check_settings(&s);
  mimetypes_type(mt, a);
  mimetypes_ext(mt, a);
}

static void check_config(const struct config *c)
{
  int i;
  check_list(&c->addressspace, 1);
  check_list(&c->filter, 1);
  check_list(&c->senders_allow, 0);
  check_list(&c->senders_deny, 0);
  check_list(&c->auth, 0);
  check_list(&c->sitedomains, 0);
  for (i = 0; i < LOG_NCAT; i++) if (c->loglevel[i] > LEVEL_MAXIMUM) abort();
  if (c->nretry > RETRY_MAX) abort();
  for (i = 1; i < 40; i++) config_retry_delay(c, (unsigned)i);
}

/* directory_build writes the cdb exactly when directory_check finds nothing */
static void build_directory(struct directory *dir)
{
  unsigned long entries = 0, count;
  struct stat st;
  int checked, built;
  size_t i;
  for (i = 0; i < nwritten && strcmp(written[i], "directory"); i++) ;
  if (i == nwritten) { dir->fd = -1; return; }     /* no directory: no cdb to write (it costs fsyncs) */
  nerrors = 0;
  checked = directory_check(count_error);
  if (checked < 0 || (unsigned long)checked != nerrors) abort();
  built = directory_build(0, &entries);
  if (built != checked) abort();
  control_path("directory.cdb");
  if ((stat(path.s, &st) == 0) != (built == 0)) abort();
  if (directory_open(dir) < 0 || directory_count(dir, &count) < 0) abort();
  if (built == 0 && count != entries) abort();
}

static void instance(const char *p, size_t n)
{
  struct config c;
  struct domains d;
  struct mimetypes mt;
  struct directory dir;
  stralloc probes = {0}, one = {0};
  size_t pos = 0;
  int strict;
  instance_home();
  sections(p, n, &probes);
  nerrors = 0;
  if (config_load(&c, count_error) < 0) abort();
  strict = nerrors == 0;
  if (domains_load(&d, count_error) < 0 || mimetypes_load(&mt, count_error) < 0) abort();
  check_config(&c);
  mimetypes_checks(&mt);
  build_directory(&dir);
  while (pos < probes.len) {
    const char *s = probes.s + pos, *nl = memchr(s, '\n', probes.len - pos);
    size_t len = nl ? (size_t)(nl - s) : probes.len - pos;
    if (!stralloc_copyb(&one, s, len) || !stralloc_0(&one)) abort();
    probe(&c, &dir, &d, &mt, one.s, len, strict);
    pos += len + 1;
  }
  stralloc_free(&one);
  directory_close(&dir);
  config_free(&c);
  domains_free(&d);
  mimetypes_free(&mt);
  stralloc_free(&probes);
  remove_files();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  static int registered;
  const char *p = (const char *)data + 1;
  size_t n = size ? size - 1 : 0;
  if (!registered) { registered = 1; atexit(remove_home); }
  if (!size) return 0;
  switch (data[0] & 7) {
  case 0: reader(p, n); break;
  case 1: settings(p, n); break;
  case 2: domains_text(p, n); break;
  case 3: mimetypes_text(p, n); break;
  default: instance(p, n);
  }
  return 0;
}
