/*
 * route.h -- where outbound mail goes: control/routes and control/smarthost.
 *
 *   control/routes, one route per line:
 *       PATTERN HOST[:PORT][/PREF][,HOST[:PORT][/PREF]...] [tls=none|may|require|verify]
 *               [auth=USER:PASSFILE [insecureauth]] [cost=N]
 *   PATTERN is a domain (`example.com`), `.example.com` (every subdomain of
 *   example.com, not example.com itself), `*` (every domain), or an address
 *   literal (`[192.0.2.1]`).  HOST is a host name or an address literal
 *   (`[192.0.2.1]`, `[IPv6:2001:db8::1]`); the hosts are tried in order,
 *   like MX preferences, or by /PREF (0..65535, given on every host of the
 *   line or on none; equal preferences in random order, sharing the load).
 *   PORT defaults to 25, tls= to may, and to verify
 *   when auth= is given.  PASSFILE holds the password on its first line; a
 *   relative path is under control/.  AUTH is sent only over TLS with a
 *   verified certificate (tls=verify), unless `insecureauth` allows it over
 *   any TLS (tls=may, require) or in plain text (tls=none, or may without
 *   STARTTLS).
 *
 *   cost=N (1..100) makes the line one of several ways to the pattern's
 *   domains: a pattern may have several lines when every one has a cost.
 *   imc-remote tries them by cost, equal costs in random order (sharing the
 *   load), a higher cost when every host of the lower ones failed; direct
 *   delivery through DNS joins them at the cost of the domain's
 *   control/addressspace line, when there is one.  A line without cost=
 *   is the only way to its domains (DNS is never tried).
 *
 *   control/smarthost, one line: HOST[:PORT][,HOST[:PORT]...] [tls=...] [auth=...]
 *
 * route_find: an exact pattern beats a `.suffix` (the longest suffix
 * wins), which beats `*`; the smart host applies to every domain that no
 * route names; otherwise 0: the caller uses DNS (MX records, or the
 * address literal itself).  `.suffix` patterns never match an address
 * literal; an exact `[...]` pattern, `*` and the smart host do.
 *
 * route_alternatives lists every line of the pattern route_find chose (one,
 * unless the lines have costs).  route_key gives imc-send the grouping key of a domain: "route:LINE" for
 * a route, "smarthost" for the smart host, else the domain in lower case.
 * Recipients with equal keys can share one imc-remote run (section 8 of
 * docs/INTERNALS.md).
 *
 * Failure modes: route_load returns -1 (errno) when a file cannot be read,
 * else the number of malformed lines, each reported through err as
 * ("routes" or "smarthost", LINE, MESSAGE); the routes of good lines are
 * kept either way.
 */
#ifndef IMC_ROUTE_H
#define IMC_ROUTE_H

#include <stddef.h>
#include "config.h"
#include "owfat.h"

#define ROUTE_TLS_NONE    0   /* never STARTTLS */
#define ROUTE_TLS_MAY     1   /* STARTTLS when offered, any certificate (the default without auth=) */
#define ROUTE_TLS_REQUIRE 2   /* no TLS: temporary failure */
#define ROUTE_TLS_VERIFY  3   /* TLS, chain checked against the trust anchors, host name matched
                                 (the default with auth=) */

#define ROUTE_MAXHOSTS 16
#define ROUTE_COST_MAX 100
#define ROUTE_PREF_MAX 65535
#define ROUTE_ALT_MAX 16      /* lines of one pattern that imc-remote tries */
#define ROUTE_NAME_MAX 255    /* longest host name or pattern */

struct route_host {
  const char *name;       /* host name (lower case), or the literal with its brackets */
  unsigned port;
  int literal;            /* name is an address literal */
  unsigned pref;          /* /PREF, or the place in the list */
};

struct route {
  unsigned line;          /* line in control/routes; 0: control/smarthost */
  const char *pattern;    /* lower case; 0 for the smart host */
  int tls;                /* ROUTE_TLS_* */
  const char *user;       /* 0: no auth= */
  const char *passfile;   /* as written (relative: under control/) */
  int insecureauth;       /* AUTH also without a verified certificate */
  unsigned cost;          /* cost=N; 0: none, the only way to its domains */
  unsigned nhosts;
  struct route_host host[ROUTE_MAXHOSTS];
  char *text;             /* storage for the strings above */
};

struct routes {
  struct route **r;       /* from control/routes, in file order */
  size_t n, alloc;
  struct route *smarthost;    /* 0: none */
};

int route_load(struct routes *r, config_errfn err);  /* 0 ok, >0 errors, -1 unreadable */
void route_free(struct routes *r);
int routes_check(config_errfn err);                  /* for imc-ctl check: the same counts */
/* for imc-ctl check: each route whose auth= is unsafe (insecureauth without
   tls=verify) or never used (no tls=verify, no insecureauth) reported through
   warnfn; the number of such lines, -1 unreadable */
int routes_warn(config_errfn warnfn);

/* parse text as control/routes (smarthost 0) or control/smarthost (1) into r */
int route_parse_text(struct routes *r, int smarthost, const char *text, size_t len, config_errfn err);

/* HOST[:PORT] (a host name, lower-cased, or an address literal) parsed in place
   into h (port 25 when none is given): 0, or what is wrong with it */
const char *route_host_parse(char *w, struct route_host *h);

const struct route *route_find(const struct routes *r, const char *domain);
/* the lines with first's pattern, in file order, into out (at most max): their count */
size_t route_alternatives(const struct routes *r, const struct route *first, const struct route **out, size_t max);
int route_key(const struct routes *r, const char *domain, stralloc *key);  /* 0; -1 ENOMEM.
                                                   key->s NUL-terminated, len without the NUL */
const char *route_tls_name(int tls);
/* "[192.0.2.1]" or "[IPv6:2001:db8::1]" (len bytes): 1 and the address in ip
   (IPv4 as v4-mapped IPv6), 0 if it is not one */
int route_literal_ip(const char *s, size_t len, char ip[16]);

/* "192.0.2.1" or "2001:db8::1" (len bytes): 1 and the address in ip (IPv4
   v4-mapped), 0 if it is not one */
int route_scan_ip(const char *s, size_t len, char ip[16]);

/* control/localips: the addresses this host is also reached at (a NAT's
   public address, a proxy), one IPv4 or IPv6 address a line, for imc-remote's
   loop detection.  Up to max into ips (*n of them); returns 0, the number of
   bad lines (each reported through err as ("localips", LINE, MESSAGE)), or
   -1 unreadable (errno) */
#define LOCALIPS_MAX 32
int localips_load(char ips[][16], size_t max, size_t *n, config_errfn err);
int localips_check(config_errfn err);              /* for imc-ctl check */

#endif
