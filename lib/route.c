/*
 * route.c -- control/routes and control/smarthost (see route.h).
 *
 * Each good line becomes one struct route, allocated with a private copy
 * of the line that its strings point into.  A bad line is reported with
 * its number and skipped.  Inputs are control files (not network input),
 * so the number of routes is bounded only by the file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "addr.h"
#include "control.h"
#include "route.h"
#include "rules.h"

static const char *const tls_names[] = { "none", "may", "require", "verify" };

const char *route_tls_name(int tls)
{
  return tls >= 0 && tls <= ROUTE_TLS_VERIFY ? tls_names[tls] : "?";
}

/* "[1.2.3.4]" or "[IPv6:...]": 1 and ip (IPv4 v4-mapped), else 0 */
int route_literal_ip(const char *s, size_t len, char ip[16])
{
  char buf[64], ip4[4];
  size_t n;
  if (len < 3 || len - 2 >= sizeof buf || s[0] != '[' || s[len - 1] != ']') return 0;
  memcpy(buf, s + 1, len - 2);
  buf[len - 2] = 0;
  n = len - 2;
  if (n > 5 && !strncasecmp(buf, "IPv6:", 5)) return scan_ip6(buf + 5, ip) == n - 5 && n > 5;
  if (scan_ip4(buf, ip4) != n) return 0;
  memcpy(ip, "\0\0\0\0\0\0\0\0\0\0\377\377", 12);
  memcpy(ip + 12, ip4, 4);
  return 1;
}

int route_scan_ip(const char *s, size_t len, char ip[16])
{
  char buf[IP6_FMT + 1];
  if (!len || len >= sizeof buf) return 0;
  memcpy(buf, s, len);
  buf[len] = 0;
  return ip_scan(buf, (unsigned char *)ip);        /* the reader of control/rules' addresses */
}

/* ---- one line */

static int lower_valid_domain(char *s)
{
  size_t n = strlen(s);
  if (!domain_valid(s, n)) return 0;
  case_lowerb(s, n);
  return 1;
}

static const char *parse_port(const char *s, unsigned *port)
{
  unsigned long v;
  if (!ctl_scan_ulong(s, &v) || v == 0 || v > 65535) return "bad port";
  *port = (unsigned)v;
  return 0;
}

/* the /PREF at the end of w cut off: 1 and *pref, 0 when there is none, -1 bad */
static int parse_pref(char *w, unsigned *pref)
{
  char *slash = strrchr(w, '/');
  unsigned long v;
  if (!slash) return 0;
  *slash = 0;
  if (!ctl_scan_ulong(slash + 1, &v) || v > ROUTE_PREF_MAX) return -1;
  *pref = (unsigned)v;
  return 1;
}

/* HOST[:PORT] in place */
const char *route_host_parse(char *w, struct route_host *h)
{
  char ip[16], *colon;
  h->port = 25;
  h->name = w;
  h->literal = w[0] == '[';
  if (h->literal) {
    char *close = strchr(w, ']');
    if (!close) return "bad address literal";
    colon = close[1] == ':' ? close + 1 : 0;
    if (close[1] && !colon) return "bad address literal";
    close[1] = 0;
    if (!route_literal_ip(w, strlen(w), ip)) return "bad address literal";
  } else {
    colon = strchr(w, ':');
    if (colon) *colon = 0;
    if (!lower_valid_domain(w)) return "bad host name";
  }
  return colon ? parse_port(colon + 1, &h->port) : 0;
}

/* HOST[:PORT][/PREF][,...] in place; without /PREF a host's preference is its place */
static const char *parse_hosts(char *list, struct route *rt)
{
  const char *e;
  unsigned prefs = 0;
  for (;;) {
    char *comma = strchr(list, ',');
    struct route_host *h = &rt->host[rt->nhosts];
    int k;
    if (comma) *comma = 0;
    if (!*list) return "empty host in the list";
    if (rt->nhosts == ROUTE_MAXHOSTS) return "too many hosts (at most 16)";
    h->pref = rt->nhosts;
    if ((k = parse_pref(list, &h->pref)) < 0) return "bad /PREF (0 to 65535)";
    prefs += (unsigned)k;
    if ((e = route_host_parse(list, h)) != 0) return e;
    rt->nhosts++;
    if (!comma) return prefs && prefs != rt->nhosts ? "give every host a /PREF or none" : 0;
    list = comma + 1;
  }
}

static const char *parse_cost(const char *v, struct route *rt)
{
  unsigned long c;
  if (rt->cost) return "cost= given twice";
  if (!ctl_scan_ulong(v, &c) || c < 1 || c > ROUTE_COST_MAX) return "cost= must be a number from 1 to 100";
  rt->cost = (unsigned)c;
  return 0;
}

static const char *parse_option(char *w, struct route *rt, int *seen_tls)
{
  unsigned i;
  if (!strncmp(w, "tls=", 4)) {
    if ((*seen_tls)++) return "tls= given twice";
    for (i = 0; i <= ROUTE_TLS_VERIFY; i++)
      if (!strcmp(w + 4, tls_names[i])) { rt->tls = (int)i; return 0; }
    return "bad tls= value (none, may, require, verify)";
  }
  if (!strncmp(w, "auth=", 5)) {
    char *colon = strchr(w + 5, ':');
    if (rt->user) return "auth= given twice";
    if (!colon || colon == w + 5 || !colon[1]) return "auth= needs USER:PASSFILE";
    *colon = 0;
    rt->user = w + 5;
    rt->passfile = colon + 1;
    return 0;
  }
  if (!strcmp(w, "insecureauth")) {
    if (rt->insecureauth++) return "insecureauth given twice";
    return 0;
  }
  if (!strncmp(w, "cost=", 5)) return parse_cost(w + 5, rt);
  return "unknown option (tls=, auth=, insecureauth, cost=)";
}

static const char *parse_pattern(char *w)
{
  char ip[16];
  if (!strcmp(w, "*")) return 0;
  if (w[0] == '[') return route_literal_ip(w, strlen(w), ip) ? 0 : "bad pattern";
  if (w[0] == '.') w++;
  return lower_valid_domain(w) ? 0 : "bad pattern";
}

/* the words of rt->text: [PATTERN] HOSTS OPTIONS... */
static const char *parse_route(struct route *rt, int smarthost)
{
  char *p = rt->text, *w;
  const char *e;
  int seen_tls = 0;
  rt->tls = ROUTE_TLS_MAY;
  if (!smarthost) {
    char *pat = ctl_word(&p);
    if (!pat) return "expected PATTERN HOST[:PORT]";
    if ((e = parse_pattern(pat)) != 0) return e;
    rt->pattern = pat;
  }
  if (!(w = ctl_word(&p))) return smarthost ? "expected HOST[:PORT]" : "expected PATTERN HOST[:PORT]";
  if ((e = parse_hosts(w, rt)) != 0) return e;
  while ((w = ctl_word(&p)) != 0)
    if ((e = parse_option(w, rt, &seen_tls)) != 0) return e;
  if (rt->insecureauth && !rt->user) return "insecureauth without auth=";
  if (smarthost && rt->cost) return "cost= is for control/routes lines";
  if (rt->user && !seen_tls) rt->tls = ROUTE_TLS_VERIFY;   /* a password goes only to a verified host */
  return 0;
}

/* ---- the set of routes */

static struct route *route_new(const char *line, size_t len, unsigned lineno)
{
  struct route *rt = calloc(1, sizeof *rt);
  if (!rt) return 0;
  rt->text = malloc(len + 1);
  if (!rt->text) { free(rt); return 0; }
  memcpy(rt->text, line, len);
  rt->text[len] = 0;
  rt->line = lineno;
  return rt;
}

static void route_drop(struct route *rt)
{
  if (!rt) return;
  free(rt->text);
  free(rt);
}

static const struct route *find_exact(const struct routes *r, const char *pattern)
{
  size_t i;
  for (i = 0; i < r->n; i++)
    if (!strcasecmp(r->r[i]->pattern, pattern)) return r->r[i];
  return 0;
}

static int routes_add(struct routes *r, struct route *rt)
{
  if (r->n == r->alloc) {
    size_t n = r->alloc ? 2 * r->alloc : 16;
    struct route **nr = realloc(r->r, n * sizeof *nr);
    if (!nr) return -1;
    r->r = nr;
    r->alloc = n;
  }
  r->r[r->n++] = rt;
  return 0;
}

/* a parsed line: kept, or the reason it is refused */
static const char *route_keep(struct routes *r, struct route *rt, int smarthost)
{
  const struct route *old;
  if (smarthost) {
    if (r->smarthost) return "only one line allowed";
    r->smarthost = rt;
    return 0;
  }
  if ((old = find_exact(r, rt->pattern)) != 0 && (!old->cost || !rt->cost))
    return "pattern listed twice (several lines of one pattern need cost= on each)";
  return routes_add(r, rt) < 0 ? "out of memory" : 0;
}

static int parse_file(struct routes *r, int smarthost, ctl_file *f, config_errfn err)
{
  char *line;
  size_t len;
  int errors = 0;
  while (ctl_next(f, &line, &len)) {
    struct route *rt = route_new(line, len, smarthost ? 0 : f->lineno);
    const char *e = rt ? parse_route(rt, smarthost) : "out of memory";
    if (!e) e = route_keep(r, rt, smarthost);
    if (!e) continue;
    route_drop(rt);
    errors++;
    if (err) err(f->name, f->lineno, e);
  }
  return errors;
}

int route_parse_text(struct routes *r, int smarthost, const char *text, size_t len, config_errfn err)
{
  ctl_file f = {0};
  int errors;
  ctl_openmem(&f, smarthost ? "smarthost" : "routes", text, len);
  errors = parse_file(r, smarthost, &f, err);
  ctl_close(&f);
  return errors;
}

static int load_one(struct routes *r, int smarthost, config_errfn err)
{
  ctl_file f = {0};
  int rc = ctl_open(&f, smarthost ? "smarthost" : "routes"), errors;
  if (rc <= 0) {
    int e = errno;
    if (rc < 0 && err) err(f.name, 0, "unable to read");
    ctl_close(&f);
    errno = e;
    return rc;
  }
  errors = parse_file(r, smarthost, &f, err);
  ctl_close(&f);
  return errors;
}

int route_load(struct routes *r, config_errfn err)
{
  int a, b;
  memset(r, 0, sizeof *r);
  if ((a = load_one(r, 0, err)) < 0 || (b = load_one(r, 1, err)) < 0) {
    int e = errno;
    route_free(r);
    errno = e;
    return -1;
  }
  return a + b;
}

void route_free(struct routes *r)
{
  size_t i;
  for (i = 0; i < r->n; i++) route_drop(r->r[i]);
  free(r->r);
  route_drop(r->smarthost);
  memset(r, 0, sizeof *r);
}

int routes_check(config_errfn err)
{
  struct routes r;
  int rc = route_load(&r, err);
  if (rc >= 0) route_free(&r);
  return rc;
}

/* ---- warnings for imc-ctl check */

/* what is unsafe or useless about a route's AUTH settings, or 0 */
static const char *auth_warning(const struct route *rt)
{
  unsigned i;
  if (!rt->user) return 0;
  if (rt->insecureauth)
    return rt->tls == ROUTE_TLS_VERIFY ? 0
         : "insecureauth: the AUTH password may be sent to a host whose certificate is not verified, or without TLS";
  if (rt->tls != ROUTE_TLS_VERIFY)
    return "auth= without tls=verify: AUTH is never sent without a verified certificate (use tls=verify, or add insecureauth)";
  for (i = 0; i < rt->nhosts; i++)
    if (rt->host[i].literal)
      return "auth= to an address literal: it has no host name to verify, AUTH is never sent to it (name the host, or add insecureauth)";
  return 0;
}

int routes_warn(config_errfn warnfn)
{
  struct routes r;
  const char *w;
  size_t i;
  int n = 0;
  if (route_load(&r, 0) < 0) return -1;
  for (i = 0; i < r.n; i++)
    if ((w = auth_warning(r.r[i])) != 0) { warnfn("routes", r.r[i]->line, w); n++; }
  if (r.smarthost && (w = auth_warning(r.smarthost)) != 0) { warnfn("smarthost", 0, w); n++; }
  route_free(&r);
  return n;
}

/* ---- control/localips */

int localips_load(char ips[][16], size_t max, size_t *n, config_errfn err)
{
  ctl_file f = {0};
  char *line;
  size_t len;
  int rc = ctl_open(&f, "localips"), errors = 0;
  *n = 0;
  if (rc < 0 && err) err(f.name, 0, "unable to read");
  if (rc > 0)
    while (ctl_next(&f, &line, &len)) {
      const char *e = 0;
      if (*n == max) e = "too many addresses (at most 32)";
      else if (!route_scan_ip(line, len, ips[*n])) e = "expected one IPv4 or IPv6 address";
      else (*n)++;
      if (e) { errors++; if (err) err(f.name, f.lineno, e); }
    }
  ctl_close(&f);
  return rc < 0 ? -1 : errors;
}

int localips_check(config_errfn err)
{
  char ips[LOCALIPS_MAX][16];
  size_t n;
  return localips_load(ips, LOCALIPS_MAX, &n, err);
}

/* ---- lookups */

/* does the domain end in ".suffix"? (pattern is ".suffix") */
static int suffix_match(const char *dom, size_t dlen, const char *pattern)
{
  size_t plen = strlen(pattern);
  return dlen > plen && !strcasecmp(dom + dlen - plen, pattern);
}

const struct route *route_find(const struct routes *r, const char *domain)
{
  const struct route *best = 0, *star = 0;
  size_t dlen = strlen(domain), bestlen = 0, i;
  int literal = domain[0] == '[';
  for (i = 0; i < r->n; i++) {
    const char *p = r->r[i]->pattern;
    if (!strcasecmp(p, domain)) return r->r[i];
    if (!strcmp(p, "*")) { if (!star) star = r->r[i]; }
    else if (p[0] == '.' && !literal && strlen(p) > bestlen && suffix_match(domain, dlen, p)) {
      best = r->r[i];
      bestlen = strlen(p);
    }
  }
  if (best) return best;
  return star ? star : r->smarthost;
}

size_t route_alternatives(const struct routes *r, const struct route *first, const struct route **out, size_t max)
{
  size_t i, n = 0;
  if (!first->pattern) { if (max) out[n++] = first; return n; }     /* the smart host */
  for (i = 0; i < r->n && n < max; i++)
    if (r->r[i] == first || (first->cost && !strcasecmp(r->r[i]->pattern, first->pattern))) out[n++] = r->r[i];
  return n;
}

int route_key(const struct routes *r, const char *domain, stralloc *key)
{
  const struct route *rt = route_find(r, domain);
  int ok;
  if (!rt) {
    ok = stralloc_copys(key, domain);
    if (ok) case_lowerb(key->s, key->len);
  } else if (!rt->line) ok = stralloc_copys(key, "smarthost");
  else ok = stralloc_copys(key, "route:") && stralloc_catulong0(key, rt->line, 0);
  if (!ok || !stralloc_0(key)) { errno = ENOMEM; return -1; }
  key->len--;
  return 0;
}
