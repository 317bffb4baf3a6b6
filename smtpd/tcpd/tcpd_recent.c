/*
 * tcpd_recent.c -- what imc-tcpd remembers of its clients between their
 * connections (see tcpd.h): AUTH failures and accepted ETRNs, which the
 * imc-smtpd children report on the report pipe (docs/INTERNALS.md 11).
 *
 * Inputs: report lines "authfail ADDRESS" and "etrn ADDRESS", the clock.
 * Outputs: for a new connection, its client's AUTH failures in the current
 * window and the seconds until it may ETRN again (tcpd_child.c passes them
 * on as IMC_AUTHFAIL and IMC_ETRNWAIT).  The window of AUTH failures opens
 * with the first failure and lasts TCPD_AUTH_WINDOW seconds; a failure
 * after it opens a new one.  Failure modes: none; the table is bounded
 * (TCPD_RECENT clients): when it is full, a client whose records have
 * expired, or else the one with the oldest record, makes room.
 */
#include <string.h>
#include "rules.h"
#include "tcpd.h"

void recent_init(struct tcpd_recent *r)
{
  memset(r, 0, sizeof *r);
}

static int auth_live(const struct tcpd_client *c, long long now)
{
  return c->auth_start && now - c->auth_start < TCPD_AUTH_WINDOW;
}

static int etrn_live(const struct tcpd_client *c, long long now)
{
  return c->etrn_at && now - c->etrn_at < TCPD_ETRN_INTERVAL;
}

static const struct tcpd_client *find(const struct tcpd_recent *r, const unsigned char key[16])
{
  unsigned i;
  for (i = 0; i < r->n; i++) if (!memcmp(r->c[i].key, key, 16)) return &r->c[i];
  return 0;
}

static long long newest(const struct tcpd_client *c)
{
  return c->auth_start > c->etrn_at ? c->auth_start : c->etrn_at;
}

/* the client's entry, made when missing: a free one, an expired one, the oldest */
static struct tcpd_client *entry(struct tcpd_recent *r, const unsigned char key[16], long long now)
{
  struct tcpd_client *c = (struct tcpd_client *)find(r, key), *old = 0;
  unsigned i;
  if (c) return c;
  if (r->n < TCPD_RECENT) c = &r->c[r->n++];
  for (i = 0; !c && i < r->n; i++) {
    if (!auth_live(&r->c[i], now) && !etrn_live(&r->c[i], now)) c = &r->c[i];
    else if (!old || newest(&r->c[i]) < newest(old)) old = &r->c[i];
  }
  if (!c) c = old;
  memset(c, 0, sizeof *c);
  memcpy(c->key, key, 16);
  return c;
}

int recent_report(struct tcpd_recent *r, const char *line, size_t len, unsigned prefix, long long now)
{
  char addr[64];
  unsigned char ip[16], key[16];
  struct tcpd_client *c;
  size_t k = len > 9 && !memcmp(line, "authfail ", 9) ? 9 : len > 5 && !memcmp(line, "etrn ", 5) ? 5 : 0;
  if (!k || len - k >= sizeof addr) return 0;
  memcpy(addr, line + k, len - k);
  addr[len - k] = 0;
  if (!ip_scan(addr, ip)) return 0;
  tcpd_client_key(key, ip, prefix);
  c = entry(r, key, now);
  if (k == 5) { c->etrn_at = now; return 1; }
  if (!auth_live(c, now)) { c->auth_start = now; c->auth_count = 0; }
  c->auth_count++;
  return 1;
}

unsigned recent_authfail(const struct tcpd_recent *r, const unsigned char key[16], long long now)
{
  const struct tcpd_client *c = find(r, key);
  return c && auth_live(c, now) ? c->auth_count : 0;
}

unsigned recent_etrnwait(const struct tcpd_recent *r, const unsigned char key[16], long long now)
{
  const struct tcpd_client *c = find(r, key);
  return c && etrn_live(c, now) ? (unsigned)(TCPD_ETRN_INTERVAL - (now - c->etrn_at)) : 0;
}
