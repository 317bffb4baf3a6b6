/*
 * dest.c -- the addresses imc-remote tries for one destination, in order.
 *
 * Inputs: the destination domain (or address literal), control/routes and
 * control/smarthost (route.h), control/addressspace, and DNS through
 * libowfat (DNSCACHEIP or /etc/resolv.conf).  A route or the smart host
 * names hosts: each is looked up by AAAA and A (no MX), by preference
 * (the order given, or /PREF; random among equals).  Otherwise an address
 * literal is used as it is; a domain's MX records are sorted by
 * preference (random among equals) and each host looked up; without MX
 * records the domain itself is the implicit MX (RFC 5321 5.1).
 *
 * Ways with costs: when the domain's route lines carry cost=, each line is
 * a way, and so is DNS at the cost of the domain's control/addressspace
 * line; the ways are laid end to end by cost, equal costs in random order,
 * so imc-remote, which tries the targets in order, uses the cheapest way
 * that answers, shares the load between equal costs and fails over to a
 * dearer way.  Each target carries its way's TLS mode and credentials.
 *
 * Output: struct dest with at most DEST_MAX addresses.  Failure modes: a
 * null MX (RFC 7505) or a domain with neither MX nor address records is
 * permanent ('D', 5.1.2); a DNS temporary failure that leaves no address
 * is temporary ('Z', 4.4.3); MX or route hosts none of which has an
 * address are temporary too (4.4.4: often a passing DNS fault, and for a
 * route the administrator's to fix).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include "remote.h"
#include "mx.h"
#include "rules.h"

int dest_loopback(const char ip[16])
{
  static const char v6lo[16] = { 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1 };
  if (ip_is_v4((const unsigned char *)ip)) return (unsigned char)ip[12] == 127;
  return !memcmp(ip, v6lo, 16);
}

void dest_random_init(void)
{
  char seed[128];
  if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) memset(seed, 0, sizeof seed);
  dns_random_init(seed);
}

static unsigned rnd(unsigned n) { return dns_random(n); }

static void add_target(struct dest *d, const char *host, size_t hlen, const char *ip, unsigned port, int literal,
                       unsigned pref)
{
  struct target *t;
  if (d->n == DEST_MAX || hlen > HOST_MAX) return;
  t = &d->t[d->n++];
  memcpy(t->host, host, hlen);
  t->host[hlen] = 0;
  memcpy(t->ip, ip, 16);
  t->port = port;
  t->literal = literal;
  t->pref = pref;
  t->tls = d->tls;
  t->user = d->user;
  t->passfile = d->passfile;
  t->insecureauth = d->insecureauth;
}

void dest_select(struct dest *d, size_t i)
{
  d->tls = d->t[i].tls;
  d->user = d->t[i].user;
  d->passfile = d->t[i].passfile;
  d->insecureauth = d->t[i].insecureauth;
}

/* the way's TLS mode and credentials for the targets added next (rt 0: DNS) */
static void set_policy(struct dest *d, const struct route *rt)
{
  d->tls = rt ? rt->tls : ROUTE_TLS_MAY;
  d->user = rt ? rt->user : 0;
  d->passfile = rt ? rt->passfile : 0;
  d->insecureauth = rt ? rt->insecureauth : 0;
}

/* the host's addresses appended: 0 (maybe none), -1 DNS temporary failure */
static int add_host(struct dest *d, const char *host, unsigned port, unsigned pref)
{
  static stralloc name, ips;
  size_t i;
  if (!stralloc_copys(&name, host)) return -1;
  if (dns_ip6(&ips, &name) < 0) return -1;
  for (i = 0; i + 16 <= ips.len; i += 16) add_target(d, host, strlen(host), ips.s + i, port, 0, pref);
  return 0;
}

static int why_set(stralloc *why, int kind, const char *a, const char *b, const char *c)
{
  if (!stralloc_copys(why, a) || !stralloc_cats(why, b) || !stralloc_cats(why, c)
      || !stralloc_0(why)) { why->len = 0; return 'Z'; }
  why->len--;
  return kind;
}

/* a route's hosts into idx by preference, equal preferences in random order */
static void host_order(const struct route *rt, unsigned idx[ROUTE_MAXHOSTS])
{
  unsigned tie[ROUTE_MAXHOSTS], i, k;
  for (i = 0; i < rt->nhosts; i++) {
    unsigned t = rnd(65536);
    for (k = i; k > 0; k--) {
      const struct route_host *o = &rt->host[idx[k - 1]];
      if (o->pref < rt->host[i].pref || (o->pref == rt->host[i].pref && tie[k - 1] <= t)) break;
      idx[k] = idx[k - 1];
      tie[k] = tie[k - 1];
    }
    idx[k] = i;
    tie[k] = t;
  }
}

/* hosts of a route or of the smart host, by preference, ranked from base */
static int dest_route(struct dest *d, const struct route *rt, unsigned base, stralloc *why)
{
  unsigned idx[ROUTE_MAXHOSTS], i;
  size_t n0 = d->n;
  int temp = 0;
  char ip[16];
  set_policy(d, rt);
  host_order(rt, idx);
  for (i = 0; i < rt->nhosts; i++) {
    const struct route_host *h = &rt->host[idx[i]];
    if (h->literal && route_literal_ip(h->name, strlen(h->name), ip))
      add_target(d, h->name, strlen(h->name), ip, h->port, 1, base + h->pref);
    else if (!h->literal && add_host(d, h->name, h->port, base + h->pref) < 0) temp = 1;
  }
  if (d->n > n0) return 0;
  if (temp) return why_set(why, 'Z', "4.4.3 DNS temporary failure looking up ", rt->host[0].name, rt->line ? " (a control/routes host)" : " (the smart host)");
  return why_set(why, 'Z', "4.4.4 no address for ", rt->host[0].name, rt->line ? " (a control/routes host)" : " (the smart host)");
}

/* the MX hosts' addresses; temp: some lookup failed temporarily */
static void mx_hosts(struct dest *d, const struct mx *list, int n, unsigned base, int *temp)
{
  int i;
  for (i = 0; i < n && d->n < DEST_MAX; i++)
    if (add_host(d, list[i].name, 25, base + list[i].pref) < 0) *temp = 1;
}

static int dest_implicit(struct dest *d, const char *domain, unsigned base, stralloc *why)
{
  size_t n0 = d->n;
  if (add_host(d, domain, 25, base) < 0)
    return why_set(why, 'Z', "4.4.3 DNS temporary failure looking up ", domain, "");
  if (d->n > n0) return 0;
  return why_set(why, 'D', "5.1.2 domain ", domain, " not found: no MX or address records");
}

static int dest_mx(struct dest *d, const char *domain, unsigned base, stralloc *why)
{
  static stralloc name, ans;
  static struct mx list[MX_MAX];
  size_t n0 = d->n;
  int n, nullmx, temp = 0;
  set_policy(d, 0);
  if (!stralloc_copys(&name, domain)) return why_set(why, 'Z', "4.3.0 out of memory", "", "");
  if (dns_mx(&ans, &name) < 0)
    return why_set(why, 'Z', "4.4.3 DNS temporary failure looking up MX for ", domain, "");
  if (!ans.len) return dest_implicit(d, domain, base, why);
  n = mx_parse(ans.s, ans.len, list, &nullmx, rnd);
  if (nullmx) return why_set(why, 'D', "5.1.2 null MX: domain ", domain, " accepts no mail");
  if (n < 0) return why_set(why, 'Z', "4.4.3 malformed MX answer for ", domain, "");
  mx_hosts(d, list, n, base, &temp);
  if (d->n > n0) return 0;
  if (temp) return why_set(why, 'Z', "4.4.3 DNS temporary failure looking up the MX hosts of ", domain, "");
  return why_set(why, 'Z', "4.4.4 no address for any MX host of ", domain, "");
}

/* ---- ways with costs */

struct way {
  const struct route *rt;          /* 0: DNS */
  unsigned cost, tie;
};

/* into w (k of them), kept sorted by cost, equal costs in random order */
static void way_add(struct way *w, size_t *k, const struct route *rt, unsigned cost)
{
  size_t i = (*k)++;
  unsigned tie = rnd(65536);
  for (; i > 0 && (w[i - 1].cost > cost || (w[i - 1].cost == cost && w[i - 1].tie > tie)); i--) w[i] = w[i - 1];
  w[i].rt = rt;
  w[i].cost = cost;
  w[i].tie = tie;
}

/* every way's targets, cheapest first; the first way's failure when none has any
   ('D' only when every way failed permanently) */
static int dest_ways(struct dest *d, const char *domain, const struct routes *r, const struct route *first,
                     const struct config *c, stralloc *why)
{
  static stralloc keep;
  const struct route *alt[ROUTE_ALT_MAX];
  struct way w[ROUTE_ALT_MAX + 1];
  size_t n = route_alternatives(r, first, alt, ROUTE_ALT_MAX), k = 0, i;
  unsigned long dnscost = 0;
  int kind = 0, rc;
  for (i = 0; i < n; i++) way_add(w, &k, alt[i], alt[i]->cost);
  if (domain[0] != '[' && config_in_addressspace(c, domain, strlen(domain), &dnscost))
    way_add(w, &k, 0, (unsigned)dnscost);
  for (i = 0; i < k; i++) {
    unsigned base = (unsigned)i << 16;
    rc = w[i].rt ? dest_route(d, w[i].rt, base, why) : dest_mx(d, domain, base, why);
    if (!rc) continue;
    if (!kind && !stralloc_copy(&keep, why)) keep.len = 0;
    if (!kind || rc == 'Z') kind = rc;
  }
  if (d->n) return 0;
  if (!stralloc_copy(why, &keep) || !stralloc_0(why)) why->len = 0;
  else why->len--;
  return kind ? kind : 'Z';
}

int dest_find(struct dest *d, const char *domain, const struct routes *r, const struct config *c, stralloc *why)
{
  const struct route *rt = route_find(r, domain);
  char ip[16];
  memset(d, 0, sizeof *d);
  d->tls = ROUTE_TLS_MAY;
  if (rt && rt->cost) return dest_ways(d, domain, r, rt, c, why);
  if (rt) return dest_route(d, rt, 0, why);
  if (domain[0] == '[') {
    if (!route_literal_ip(domain, strlen(domain), ip))
      return why_set(why, 'D', "5.1.2 bad address literal ", domain, "");
    add_target(d, domain, strlen(domain), ip, 25, 1, 0);
    return 0;
  }
  return dest_mx(d, domain, 0, why);
}
