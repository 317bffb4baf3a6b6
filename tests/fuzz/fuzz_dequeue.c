/*
 * fuzz_dequeue.c -- libFuzzer target for control/dequeue (lib/dequeue.c)
 * and the request lines imc-dequeue reads from its FIFO (HOST[:PORT],
 * route_host_parse): the input parsed as the file, and its first line as a
 * request.  Checks that every kept line has a host with a port in
 * 1..65535, either an every= of at least 1 s or 1..DEQUEUE_AT_MAX at=
 * times below 24:00, at most DEQUEUE_DOMAINS_MAX lower-case valid domains,
 * no two lines with one host and port; that the error count equals the
 * reported errors; and that dequeue_next lies after now for at= (within a
 * day) and is now + every after a run for every=.
 */
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "dequeue.h"

static unsigned reported;
static void count(const char *file, unsigned line, const char *msg)
{
  (void)line;
  if (strcmp(file, "dequeue") || !msg || !*msg) abort();
  reported++;
}

static void check_line(const struct dequeue_line *l, long long now)
{
  unsigned i;
  long long t;
  if (!l->host.name || !l->host.port || l->host.port > 65535) abort();
  if (!l->every == !l->nat || l->nat > DEQUEUE_AT_MAX || l->ndomains > DEQUEUE_DOMAINS_MAX) abort();
  for (i = 0; i < l->nat; i++) if (l->at[i] >= 24 * 60) abort();
  for (i = 0; i < l->ndomains; i++) {
    const char *d = l->domain[i];
    size_t k, n = strlen(d);
    if (!domain_valid(d, n)) abort();
    for (k = 0; k < n; k++) if (d[k] >= 'A' && d[k] <= 'Z') abort();
  }
  t = dequeue_next(l, now, 0);
  if (l->every ? t != now + (long long)l->every : (t <= now || t > now + 86400)) abort();
  if (l->every && dequeue_next(l, now, 1) != now) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  static struct dequeues d;
  struct route_host h;
  char req[300];
  size_t i, j, n = 0;
  long long now = 1796500000LL + (size ? data[0] : 0) * 3607LL;
  int errors;
  reported = 0;
  errors = dequeue_parse_text(&d, (const char *)data, size, count);
  if (errors < 0 || (unsigned)errors != reported) abort();
  for (i = 0; i < d.n; i++) {
    check_line(&d.l[i], now);
    for (j = 0; j < i; j++)
      if (d.l[i].host.port == d.l[j].host.port && !strcmp(d.l[i].host.name, d.l[j].host.name)) abort();
  }
  dequeue_free(&d);
  while (n < size && n < sizeof req - 1 && data[n] != '\n') { req[n] = (char)data[n]; n++; }
  req[n] = 0;
  if (route_host_parse(req, &h) == 0 && (!h.port || h.port > 65535 || !h.name)) abort();
  return 0;
}
