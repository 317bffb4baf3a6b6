/*
 * dest.c -- the addresses imc-remote tries for one destination, in order.
 *
 * Inputs: the destination domain (or address literal), control/routes and
 * control/smarthost (route.h), and DNS through libowfat (DNSCACHEIP or
 * /etc/resolv.conf).  A route or the smart host names hosts: each is
 * looked up by AAAA and A (no MX) in the order given.  Otherwise an
 * address literal is used as it is; a domain's MX records are sorted by
 * preference (random among equals) and each host looked up; without MX
 * records the domain itself is the implicit MX (RFC 5321 5.1).
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

/* hosts of a route or of the smart host, tried in the order written */
static int dest_route(struct dest *d, const struct route *rt, stralloc *why)
{
  unsigned i;
  int temp = 0;
  char ip[16];
  d->tls = rt->tls;
  d->user = rt->user;
  d->passfile = rt->passfile;
  d->insecureauth = rt->insecureauth;
  for (i = 0; i < rt->nhosts; i++) {
    const struct route_host *h = &rt->host[i];
    if (h->literal && route_literal_ip(h->name, strlen(h->name), ip)) add_target(d, h->name, strlen(h->name), ip, h->port, 1, i);
    else if (!h->literal && add_host(d, h->name, h->port, i) < 0) temp = 1;
  }
  if (d->n) return 0;
  if (temp) return why_set(why, 'Z', "4.4.3 DNS temporary failure looking up ", rt->host[0].name, rt->line ? " (a control/routes host)" : " (the smart host)");
  return why_set(why, 'Z', "4.4.4 no address for ", rt->host[0].name, rt->line ? " (a control/routes host)" : " (the smart host)");
}

/* the MX hosts' addresses; temp: some lookup failed temporarily */
static void mx_hosts(struct dest *d, const struct mx *list, int n, int *temp)
{
  int i;
  for (i = 0; i < n && d->n < DEST_MAX; i++)
    if (add_host(d, list[i].name, 25, list[i].pref) < 0) *temp = 1;
}

static int dest_implicit(struct dest *d, const char *domain, stralloc *why)
{
  if (add_host(d, domain, 25, 0) < 0)
    return why_set(why, 'Z', "4.4.3 DNS temporary failure looking up ", domain, "");
  if (d->n) return 0;
  return why_set(why, 'D', "5.1.2 domain ", domain, " not found: no MX or address records");
}

static int dest_mx(struct dest *d, const char *domain, stralloc *why)
{
  static stralloc name, ans;
  static struct mx list[MX_MAX];
  int n, nullmx, temp = 0;
  if (!stralloc_copys(&name, domain)) return why_set(why, 'Z', "4.3.0 out of memory", "", "");
  if (dns_mx(&ans, &name) < 0)
    return why_set(why, 'Z', "4.4.3 DNS temporary failure looking up MX for ", domain, "");
  if (!ans.len) return dest_implicit(d, domain, why);
  n = mx_parse(ans.s, ans.len, list, &nullmx, rnd);
  if (nullmx) return why_set(why, 'D', "5.1.2 null MX: domain ", domain, " accepts no mail");
  if (n < 0) return why_set(why, 'Z', "4.4.3 malformed MX answer for ", domain, "");
  mx_hosts(d, list, n, &temp);
  if (d->n) return 0;
  if (temp) return why_set(why, 'Z', "4.4.3 DNS temporary failure looking up the MX hosts of ", domain, "");
  return why_set(why, 'Z', "4.4.4 no address for any MX host of ", domain, "");
}

int dest_find(struct dest *d, const char *domain, const struct routes *r, stralloc *why)
{
  const struct route *rt = route_find(r, domain);
  char ip[16];
  memset(d, 0, sizeof *d);
  d->tls = ROUTE_TLS_MAY;
  if (rt) return dest_route(d, rt, why);
  if (domain[0] == '[') {
    if (!route_literal_ip(domain, strlen(domain), ip))
      return why_set(why, 'D', "5.1.2 bad address literal ", domain, "");
    add_target(d, domain, strlen(domain), ip, 25, 1, 0);
    return 0;
  }
  return dest_mx(d, domain, why);
}
