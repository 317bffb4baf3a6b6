/*
 * fuzz_route.c -- libFuzzer target for control/routes and control/smarthost
 * (lib/route.c): the input parsed as both files, then looked up with the
 * input's first line as a domain.  Checks that every kept route has 1 to
 * ROUTE_MAXHOSTS hosts with ports in 1..65535 and preferences in
 * 0..65535, a cost in 0..100 (insecureauth only with auth=), that
 * route_find returns a kept route whose alternatives (route_alternatives)
 * all share its pattern and have costs when there are several, and that
 * route_key gives a NUL-terminated key.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "route.h"

static void check_route(const struct route *rt)
{
  unsigned i;
  if (!rt->nhosts || rt->nhosts > ROUTE_MAXHOSTS || rt->tls < 0 || rt->tls > ROUTE_TLS_VERIFY) abort();
  if (rt->cost > ROUTE_COST_MAX) abort();
  for (i = 0; i < rt->nhosts; i++)
    if (!rt->host[i].name || !rt->host[i].port || rt->host[i].port > 65535 || rt->host[i].pref > ROUTE_PREF_MAX) abort();
  if ((rt->user == 0) != (rt->passfile == 0)) abort();
  if (rt->insecureauth && !rt->user) abort();        /* insecureauth only with auth= */
}

static void check_alternatives(const struct routes *r, const struct route *rt)
{
  const struct route *alt[ROUTE_ALT_MAX];
  size_t n = route_alternatives(r, rt, alt, ROUTE_ALT_MAX), i;
  check_route(rt);
  if (n < 1 || alt[0] != rt) abort();               /* the first line of its pattern comes first */
  for (i = 1; i < n; i++)
    if (!alt[i]->cost || !rt->cost || strcasecmp(alt[i]->pattern, rt->pattern)) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  struct routes r;
  const struct route *rt;
  stralloc key = {0};
  char dom[256];
  size_t i, n = 0;
  memset(&r, 0, sizeof r);
  route_parse_text(&r, 0, (const char *)data, size, 0);
  route_parse_text(&r, 1, (const char *)data, size, 0);
  for (i = 0; i < r.n; i++) check_route(r.r[i]);
  if (r.smarthost) check_route(r.smarthost);
  while (n < size && n < sizeof dom - 1 && data[n] != '\n' && data[n]) { dom[n] = (char)data[n]; n++; }
  dom[n] = 0;
  rt = route_find(&r, dom);
  if (rt) check_alternatives(&r, rt);
  if (route_key(&r, dom, &key) == 0 && (key.s[key.len] || strlen(key.s) != key.len)) abort();
  stralloc_free(&key);
  route_free(&r);
  return 0;
}
