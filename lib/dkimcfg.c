/*
 * dkimcfg.c -- control/dkim (see dkimcfg.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "control.h"
#include "dkimcfg.h"

static int label_ok(const char *s, size_t n)
{
  size_t i;
  if (!n || n > 63 || s[0] == '-' || s[n - 1] == '-') return 0;
  for (i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_')) return 0;
  return 1;
}

static int domain_ok(const char *d)
{
  size_t n = strlen(d);
  if (!n || n > 253) return 0;
  while (*d) {
    const char *dot = strchr(d, '.');
    size_t l = dot ? (size_t)(dot - d) : strlen(d);
    if (!label_ok(d, l)) return 0;
    d += l + (dot != 0);
    if (dot && !*d) return 0;
  }
  return 1;
}

static int keyfile_ok(const char *k)
{
  return k[0] != '/' && !strstr(k, "..") && strlen(k) < 256;
}

/* one line into *out: 0, or the reason */
const char *dkimcfg_parse_line(char *p, struct dkim_line *out)
{
  char *d = ctl_word(&p), *s = ctl_word(&p), *k = ctl_word(&p), *c;
  if (!d || !s || !k || ctl_word(&p)) return "expected DOMAIN SELECTOR KEYFILE";
  for (c = d; *c; c++) if (*c >= 'A' && *c <= 'Z') *c += 32;
  for (c = s; *c; c++) if (*c >= 'A' && *c <= 'Z') *c += 32;
  if (!domain_ok(d)) return "bad domain";
  if (!label_ok(s, strlen(s)) || strchr(s, '.')) return "bad selector";
  if (!keyfile_ok(k)) return "KEYFILE must be a path under control/";
  strcpy(out->domain, d);
  strcpy(out->selector, s);
  strcpy(out->keyfile, k);
  return 0;
}

static int known(const struct dkimcfg *c, const char *d)
{
  unsigned i;
  for (i = 0; i < c->n; i++) if (!strcmp(c->l[i].domain, d)) return 1;
  return 0;
}

int dkimcfg_load(struct dkimcfg *c, config_errfn err)
{
  ctl_file f;
  memset(&f, 0, sizeof f);
  char *line;
  size_t len;
  int r = ctl_open(&f, "dkim"), errors = 0;
  memset(c, 0, sizeof *c);
  if (r <= 0) return r;
  while (ctl_next(&f, &line, &len)) {
    struct dkim_line l, *v;
    const char *why = dkimcfg_parse_line(line, &l);
    if (!why && known(c, l.domain)) why = "domain given twice";
    if (why) { if (err) err("dkim", f.lineno, why); errors++; continue; }
    if (!(v = realloc(c->l, (c->n + 1) * sizeof *v))) { ctl_close(&f); dkimcfg_free(c); errno = ENOMEM; return -1; }
    c->l = v;
    l.line = f.lineno;
    c->l[c->n++] = l;
  }
  ctl_close(&f);
  return errors;
}

void dkimcfg_free(struct dkimcfg *c)
{
  free(c->l);
  memset(c, 0, sizeof *c);
}

const struct dkim_line *dkimcfg_find(const struct dkimcfg *c, const char *domain, size_t len)
{
  const struct dkim_line *best = 0;
  unsigned i;
  for (i = 0; i < c->n; i++) {
    size_t n = strlen(c->l[i].domain);
    if (n > len || strncasecmp(domain + len - n, c->l[i].domain, n)) continue;
    if (n < len && domain[len - n - 1] != '.') continue;
    if (!best || n > strlen(best->domain)) best = &c->l[i];
  }
  return best;
}
