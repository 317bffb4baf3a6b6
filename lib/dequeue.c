/*
 * dequeue.c -- control/dequeue (see dequeue.h).
 *
 * Each good line is kept with a private copy of its text that the host
 * name and the domains point into; a bad line is reported with its number
 * and skipped.  The file is the administrator's, not network input; at most
 * DEQUEUE_LINES_MAX lines are kept.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "control.h"
#include "dequeue.h"

/* "HH:MM": minutes after midnight, or -1 */
static int scan_hhmm(const char *s)
{
  unsigned h, m;
  if (strlen(s) != 5 || s[2] != ':') return -1;
  if (s[0] < '0' || s[0] > '2' || s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
    return -1;
  h = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
  m = (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
  return h < 24 ? (int)(h * 60 + m) : -1;
}

/* at=HH:MM[,HH:MM...] in place */
static const char *parse_at(char *list, struct dequeue_line *l)
{
  for (;;) {
    char *comma = strchr(list, ',');
    int m;
    if (comma) *comma = 0;
    if ((m = scan_hhmm(list)) < 0) return "at= takes times HH:MM (UTC), separated by commas";
    if (l->nat == DEQUEUE_AT_MAX) return "too many at= times (at most 48)";
    l->at[l->nat++] = (unsigned)m;
    if (!comma) return 0;
    list = comma + 1;
  }
}

static const char *parse_schedule(char *w, struct dequeue_line *l)
{
  if (!strncmp(w, "every=", 6)) {
    if (!ctl_scan_time(w + 6, &l->every) || !l->every) return "every= takes a time: 90, 90s, 15m, 4h, 1d (not 0)";
    return 0;
  }
  if (!strncmp(w, "at=", 3)) return parse_at(w + 3, l);
  return "expected a schedule: every=TIME or at=HH:MM[,HH:MM...]";
}

/* etrn=DOMAIN[,DOMAIN...] in place */
static const char *parse_etrn(char *list, struct dequeue_line *l)
{
  if (l->ndomains) return "etrn= given twice";
  for (;;) {
    char *comma = strchr(list, ',');
    if (comma) *comma = 0;
    if (!domain_valid(list, strlen(list))) return "etrn= takes domain names separated by commas";
    if (l->ndomains == DEQUEUE_DOMAINS_MAX) return "too many etrn= domains (at most 16)";
    case_lowers(list);
    l->domain[l->ndomains++] = list;
    if (!comma) return 0;
    list = comma + 1;
  }
}

/* the words of l->text: HOST[:PORT] SCHEDULE [etrn=...] */
static const char *parse_line(struct dequeue_line *l)
{
  char *p = l->text, *w;
  const char *e;
  if (!(w = ctl_word(&p))) return "expected HOST[:PORT] SCHEDULE [etrn=DOMAIN,...]";
  if ((e = route_host_parse(w, &l->host)) != 0) return e;
  if (!(w = ctl_word(&p))) return "expected a schedule after the host: every=TIME or at=HH:MM[,HH:MM...]";
  if ((e = parse_schedule(w, l)) != 0) return e;
  while ((w = ctl_word(&p)) != 0) {
    if (strncmp(w, "etrn=", 5)) return "unknown option (etrn=)";
    if ((e = parse_etrn(w + 5, l)) != 0) return e;
  }
  return 0;
}

static void line_drop(struct dequeue_line *l)
{
  free(l->text);
  free(l->key);
  memset(l, 0, sizeof *l);
}

/* the host and port of l already on an earlier line? */
static int listed(const struct dequeues *d, const struct dequeue_line *l)
{
  size_t i;
  for (i = 0; i < d->n; i++)
    if (d->l[i].host.port == l->host.port && !strcmp(d->l[i].host.name, l->host.name)) return 1;
  return 0;
}

/* one line into d->l[d->n]: 0 kept, or why not */
static const char *keep_line(struct dequeues *d, const char *line, size_t len, unsigned lineno)
{
  struct dequeue_line *l;
  const char *e;
  if (d->n == DEQUEUE_LINES_MAX) return "too many lines (at most 64)";
  l = &d->l[d->n];
  memset(l, 0, sizeof *l);
  l->line = lineno;
  l->text = malloc(len + 1);
  l->key = malloc(len + 1);
  if (!l->text || !l->key) { line_drop(l); return "out of memory"; }
  memcpy(l->text, line, len);
  memcpy(l->key, line, len);
  l->text[len] = l->key[len] = 0;
  e = parse_line(l);
  if (!e && listed(d, l)) e = "host and port listed twice";
  if (e) { line_drop(l); return e; }
  d->n++;
  return 0;
}

static int parse_file(struct dequeues *d, ctl_file *f, config_errfn err)
{
  char *line;
  size_t len;
  int errors = 0;
  while (ctl_next(f, &line, &len)) {
    const char *e = keep_line(d, line, len, f->lineno);
    if (!e) continue;
    errors++;
    if (err) err(f->name, f->lineno, e);
  }
  return errors;
}

int dequeue_parse_text(struct dequeues *d, const char *text, size_t len, config_errfn err)
{
  ctl_file f = {0};
  int errors;
  ctl_openmem(&f, "dequeue", text, len);
  errors = parse_file(d, &f, err);
  ctl_close(&f);
  return errors;
}

int dequeue_load(struct dequeues *d, config_errfn err)
{
  ctl_file f = {0};
  int rc = ctl_open(&f, "dequeue"), errors;
  d->n = 0;
  if (rc <= 0) {
    int e = errno;
    if (rc < 0 && err) err(f.name, 0, "unable to read");
    ctl_close(&f);
    errno = e;
    return rc;
  }
  errors = parse_file(d, &f, err);
  ctl_close(&f);
  return errors;
}

void dequeue_free(struct dequeues *d)
{
  size_t i;
  for (i = 0; i < d->n; i++) line_drop(&d->l[i]);
  d->n = 0;
}

int dequeue_check(config_errfn err)
{
  static struct dequeues d;
  int rc = dequeue_load(&d, err);
  dequeue_free(&d);
  return rc;
}

long long dequeue_next(const struct dequeue_line *l, long long now, int first)
{
  long long day = now - now % 86400, best = -1;
  unsigned i, k;
  if (l->every) return first ? now : now + (long long)l->every;
  for (k = 0; k < 2; k++)
    for (i = 0; i < l->nat; i++) {
      long long t = day + (long long)k * 86400 + (long long)l->at[i] * 60;
      if (t > now && (best < 0 || t < best)) best = t;
    }
  return best;
}
