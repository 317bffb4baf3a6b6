/*
 * domains.c -- control/domains (see domains.h).
 *
 * Input: the file's lines, `PATTERN key=value ...`.  Each good line becomes
 * one entry holding the keys it gave (a bit per key); after the whole file
 * is read the `*` line is laid over the built-in defaults and every other
 * line's missing keys are filled from it.  Output: the entries and the
 * resolved defaults.  Failure modes: see domains.h; out of memory counts
 * as an error on that line.
 */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "addr.h"
#include "control.h"
#include "domains.h"

enum { K_ATTACHMENTS, K_CHARSET, K_NONMIMECHARSET, K_WRAP, K_RICHTEXT,
       K_DISPLAYNAMES, K_OOF, K_AUTOREPLIES, K_MAXSIZE, K_SIGNED, K_N };

static const char *const key_names[K_N] = {
  "attachments", "charset", "nonmimecharset", "wrap", "richtext",
  "displaynames", "oof", "autoreplies", "maxsize", "signed"
};
static const char *const rich_names[] = { "user", "always", "never" };

int domains_charset_known(const char *cs)
{
  iconv_t a, b;
  if (!*cs || strlen(cs) > DOM_CHARSET_MAX) return 0;
  a = iconv_open(cs, "UTF-8");
  if (a == (iconv_t)-1) return 0;
  iconv_close(a);
  b = iconv_open("UTF-8", cs);
  if (b == (iconv_t)-1) return 0;
  iconv_close(b);
  return 1;
}

static int key_index(const char *k, size_t n)
{
  int i;
  for (i = 0; i < K_N; i++)
    if (strlen(key_names[i]) == n && !strncmp(key_names[i], k, n)) return i;
  return -1;
}

static const char *set_charset(char *dst, const char *v)
{
  if (!domains_charset_known(v)) return "unknown charset";
  strcpy(dst, v);
  case_lowerb(dst, strlen(dst));
  return 0;
}

static const char *set_bool(int *dst, const char *v, const char *msg)
{
  return ctl_scan_bool(v, dst) ? 0 : msg;
}

/* one key=value; 0 or the reason it is refused */
static const char *set_key(struct domain_settings *s, int k, const char *v)
{
  unsigned long n;
  int i;
  switch (k) {
  case K_ATTACHMENTS:
    if (!strcmp(v, "mime")) s->attachments = ATT_MIME;
    else if (!strcmp(v, "uuencode")) s->attachments = ATT_UUENCODE;
    else return "bad value for attachments (mime, uuencode)";
    return 0;
  case K_CHARSET: return set_charset(s->charset, v);
  case K_NONMIMECHARSET: return set_charset(s->nonmimecharset, v);
  case K_WRAP:
    if (!ctl_scan_ulong(v, &n) || (n && (n < 10 || n > 998))) return "bad value for wrap (0, or 10 to 998)";
    s->wrap = n;
    return 0;
  case K_RICHTEXT:
    for (i = 0; i < 3; i++) if (!strcmp(v, rich_names[i])) { s->richtext = i; return 0; }
    return "bad value for richtext (user, always, never)";
  case K_DISPLAYNAMES: return set_bool(&s->displaynames, v, "bad value for displaynames (yes, no)");
  case K_OOF: return set_bool(&s->oof, v, "bad value for oof (yes, no)");
  case K_AUTOREPLIES: return set_bool(&s->autoreplies, v, "bad value for autoreplies (yes, no)");
  case K_SIGNED:
    if (!strcmp(v, "keep")) s->signed_keep = 1;
    else if (!strcmp(v, "convert")) s->signed_keep = 0;
    else return "bad value for signed (keep, convert)";
    return 0;
  default:
    if (!ctl_scan_size(v, &n)) return "bad value for maxsize";
    s->maxsize = n;
    return 0;
  }
}

/* why = a b, cut to fit */
static const char *why2(char *why, size_t whylen, const char *a, const char *b)
{
  size_t n = 0;
  while (*a && n + 1 < whylen) why[n++] = *a++;
  while (*b && n + 1 < whylen) why[n++] = *b++;
  why[n] = 0;
  return why;
}

/* the words after the pattern; `why` gets a message naming the key */
static const char *parse_keys(struct domain_entry *de, char *p, char *why, size_t whylen)
{
  char *w;
  const char *e;
  while ((w = ctl_word(&p)) != 0) {
    char *eq = strchr(w, '=');
    int k = eq ? key_index(w, (size_t)(eq - w)) : -1;
    if (k < 0) {
      if (eq) *eq = 0;
      return why2(why, whylen, "unknown key ", w);
    }
    if (de->set & (1u << k)) return why2(why, whylen, key_names[k], " given twice");
    if ((e = set_key(&de->s, k, eq + 1)) != 0) {
      if (strcmp(e, "unknown charset")) return e;
      return why2(why, whylen, "unknown charset ", eq + 1);
    }
    de->set |= 1u << k;
  }
  return 0;
}

static const char *parse_pattern(char *w)
{
  size_t n = strlen(w);
  case_lowerb(w, n);
  if (!strcmp(w, "*")) return 0;
  if (w[0] == '.') { w++; n--; }
  if (domain_valid(w, n) || domain_literal(w, n)) return 0;
  return "bad pattern";
}

static const struct domain_entry *find_pattern(const struct domains *d, const char *pat)
{
  size_t i;
  for (i = 0; i < d->n; i++) if (!strcmp(d->e[i].pattern, pat)) return &d->e[i];
  return 0;
}

static int entries_add(struct domains *d, const struct domain_entry *de)
{
  if (d->n == d->alloc) {
    size_t n = d->alloc ? 2 * d->alloc : 8;
    struct domain_entry *ne = realloc(d->e, n * sizeof *ne);
    if (!ne) return -1;
    d->e = ne;
    d->alloc = n;
  }
  d->e[d->n++] = *de;
  return 0;
}

/* one line: 0 kept, or the reason */
static const char *parse_line(struct domains *d, char *line, unsigned lineno, char *why, size_t whylen)
{
  struct domain_entry de;
  char *p = line, *pat = ctl_word(&p);
  const char *e;
  memset(&de, 0, sizeof de);
  if (!pat) return "expected PATTERN key=value ...";
  if ((e = parse_pattern(pat)) != 0) return e;
  if (find_pattern(d, pat)) return "pattern listed twice";
  if ((e = parse_keys(&de, p, why, whylen)) != 0) return e;
  de.line = lineno;
  if (!(de.pattern = strdup(pat))) return "out of memory";
  if (entries_add(d, &de) < 0) { free(de.pattern); return "out of memory"; }
  return 0;
}

static void copy_key(struct domain_settings *to, const struct domain_settings *from, int k)
{
  switch (k) {
  case K_ATTACHMENTS: to->attachments = from->attachments; break;
  case K_CHARSET: memcpy(to->charset, from->charset, sizeof to->charset); break;
  case K_NONMIMECHARSET: memcpy(to->nonmimecharset, from->nonmimecharset, sizeof to->nonmimecharset); break;
  case K_WRAP: to->wrap = from->wrap; break;
  case K_RICHTEXT: to->richtext = from->richtext; break;
  case K_DISPLAYNAMES: to->displaynames = from->displaynames; break;
  case K_OOF: to->oof = from->oof; break;
  case K_AUTOREPLIES: to->autoreplies = from->autoreplies; break;
  case K_SIGNED: to->signed_keep = from->signed_keep; break;
  default: to->maxsize = from->maxsize;
  }
}

/* the `*` line over the built-ins, then every line over the `*` line */
static void resolve(struct domains *d)
{
  const struct domain_entry *star = find_pattern(d, "*");
  size_t i;
  int k;
  domains_builtin(&d->star);
  if (star) for (k = 0; k < K_N; k++) if (star->set & (1u << k)) copy_key(&d->star, &star->s, k);
  for (i = 0; i < d->n; i++)
    for (k = 0; k < K_N; k++)
      if (!(d->e[i].set & (1u << k))) copy_key(&d->e[i].s, &d->star, k);
}

static int parse_file(struct domains *d, ctl_file *f, config_errfn err)
{
  char *line, why[160];
  size_t len;
  int errors = 0;
  while (ctl_next(f, &line, &len)) {
    const char *e = parse_line(d, line, f->lineno, why, sizeof why);
    if (!e) continue;
    errors++;
    if (err) err(f->name, f->lineno, e);
  }
  resolve(d);
  return errors;
}

int domains_parse_text(struct domains *d, const char *text, size_t len, config_errfn err)
{
  ctl_file f = {0};
  int errors;
  memset(d, 0, sizeof *d);
  ctl_openmem(&f, "domains", text, len);
  errors = parse_file(d, &f, err);
  ctl_close(&f);
  return errors;
}

int domains_load(struct domains *d, config_errfn err)
{
  ctl_file f = {0};
  int rc, e;
  memset(d, 0, sizeof *d);
  rc = ctl_open(&f, "domains");
  if (rc <= 0) {
    e = errno;
    ctl_close(&f);
    if (rc < 0 && err) err("domains", 0, "unable to read");
    resolve(d);
    errno = e;
    return rc;
  }
  rc = parse_file(d, &f, err);
  ctl_close(&f);
  return rc;
}

void domains_free(struct domains *d)
{
  size_t i;
  for (i = 0; i < d->n; i++) free(d->e[i].pattern);
  free(d->e);
  memset(d, 0, sizeof *d);
}

int domains_check(config_errfn err)
{
  struct domains d;
  int rc = domains_load(&d, err);
  domains_free(&d);
  return rc;
}

static int suffix_match(const char *dom, size_t dlen, const char *pattern)
{
  size_t plen = strlen(pattern);
  return dlen > plen && !strcasecmp(dom + dlen - plen, pattern);
}

const char *domains_match(const struct domains *d, const char *domain, struct domain_settings *out)
{
  const struct domain_entry *best = 0;
  size_t dlen = strlen(domain), bestlen = 0, i;
  for (i = 0; i < d->n; i++) {
    const char *p = d->e[i].pattern;
    if (!strcmp(p, "*")) continue;
    if (!strcasecmp(p, domain)) { *out = d->e[i].s; return p; }
    if (p[0] == '.' && strlen(p) > bestlen && suffix_match(domain, dlen, p)) {
      best = &d->e[i];
      bestlen = strlen(p);
    }
  }
  *out = best ? best->s : d->star;
  return best ? best->pattern : "*";
}

void domains_find(const struct domains *d, const char *domain, struct domain_settings *out)
{
  domains_match(d, domain, out);
}

void domains_builtin(struct domain_settings *s)
{
  memset(s, 0, sizeof *s);
  s->attachments = ATT_MIME;
  strcpy(s->charset, "utf-8");
  strcpy(s->nonmimecharset, "us-ascii");
  s->wrap = 0;
  s->richtext = RICH_USER;
  s->displaynames = 1;
  s->oof = 0;
  s->autoreplies = 0;
  s->maxsize = 0;
  s->signed_keep = 1;
}

int domains_format(const struct domain_settings *s, stralloc *out)
{
  int ok = stralloc_copys(out, "attachments=")
    && stralloc_cats(out, s->attachments == ATT_UUENCODE ? "uuencode" : "mime")
    && stralloc_cats(out, " charset=") && stralloc_cats(out, s->charset)
    && stralloc_cats(out, " nonmimecharset=") && stralloc_cats(out, s->nonmimecharset)
    && stralloc_cats(out, " wrap=") && stralloc_catulong0(out, s->wrap, 0)
    && stralloc_cats(out, " richtext=") && stralloc_cats(out, rich_names[s->richtext])
    && stralloc_cats(out, " displaynames=") && stralloc_cats(out, s->displaynames ? "yes" : "no")
    && stralloc_cats(out, " oof=") && stralloc_cats(out, s->oof ? "yes" : "no")
    && stralloc_cats(out, " autoreplies=") && stralloc_cats(out, s->autoreplies ? "yes" : "no")
    && stralloc_cats(out, " maxsize=") && stralloc_catulong0(out, s->maxsize, 0)
    && stralloc_cats(out, " signed=") && stralloc_cats(out, s->signed_keep ? "keep" : "convert")
    && stralloc_0(out);
  if (!ok) { errno = ENOMEM; return -1; }
  out->len--;
  return 0;
}
