/*
 * ctl_spf.c -- imc-ctl spf (see ctl_spf.h).
 *
 * Inputs: the arguments, env/DNSCACHEIP, control/me, DNS through
 * lib/dnsq.  Output: the outcome's lines on stdout.  Failure modes:
 * usage errors (100), an unreadable or empty env/DNSCACHEIP (111); DNS
 * failures are the temperror result, not an error of the command.
 */
#include <stdlib.h>
#include <time.h>
#include "ctl_spf.h"
#include "config.h"
#include "control.h"
#include "diag.h"
#include "exitcodes.h"
#include "fileio.h"
#include "rules.h"
#include "spf.h"
#include "stdout.h"

/* env/DNSCACHEIP of the instance, else the environment's; 0 for resolv.conf */
const char *ctl_dnscacheip(void)
{
  static stralloc path, text;
  int r;
  if (imc_path2(&path, "env", "DNSCACHEIP") < 0) fatal(EX_TEMP, "out of memory");
  r = file_read(path.s, &text);
  if (r < 0) fatalsys(EX_TEMP, "unable to read env/DNSCACHEIP");
  if (r == 0) return getenv("DNSCACHEIP");
  if (!stralloc_0(&text)) fatal(EX_TEMP, "out of memory");
  return text.s;
}

/* control/me, for %{r}; 0 when it cannot be read */
static const char *me(void)
{
  static stralloc name;
  struct config c;
  if (config_load(&c, 0) != 0) return 0;
  if (!stralloc_copy(&name, &c.me) || !stralloc_0(&name)) name.len = 0;
  config_free(&c);
  return name.len ? name.s : 0;
}

static void line(const char *name, const stralloc *v, const char *more, const stralloc *v2, const char *end)
{
  if (!v->len) return;
  out_puts(name);
  out_puts(": ");
  out_putb(v->s, v->len);
  if (more && v2->len) { out_puts(more); out_putb(v2->s, v2->len); out_puts(end); }
  out_puts("\n");
}

int ctl_spf(const char *ip, const char *mailfrom, const char *helo)
{
  static struct dnsq_servers servers;
  static struct dnsq_cache cache;
  struct spf_request q = {{0}, 0, 0, 0, dnsq_lookup, &cache};
  struct spf_outcome o = {0, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, 0, 0};
  const char *dns = ctl_dnscacheip();
  if (!ip_scan(ip, q.ip)) fatal(EX_PERM, "not an IP address: ", ip);
  if ((!*mailfrom || !str_diff(mailfrom, "<>")) && (!helo || !*helo))
    fatal(EX_PERM, "the null sender is checked as postmaster@HELO: give HELO");
  if (dnsq_servers_init(&servers, dns) < 0) fatal(EX_TEMP, "no DNS server address in DNSCACHEIP: ", dns);
  dnsq_cache_init(&cache, &servers, dnsq_now() + SPF_DEADLINE_MS);
  q.helo = helo;
  q.receiver = me();
  q.now = (unsigned long)time(0);
  spf_check_mailfrom(&q, mailfrom, &o);
  out_puts("spf: ");
  out_puts(spf_result_name(o.result));
  out_puts("\n");
  line("sender", &o.sender, 0, 0, 0);
  line("mechanism", &o.mechanism, " (record of ", &o.where, ")");
  line("explanation", &o.explanation, 0, 0, 0);
  line("problem", &o.problem, 0, 0, 0);
  out_puts("lookups: ");
  out_putulong(o.lookups);
  out_puts(" terms, ");
  out_putulong(o.voids);
  out_puts(" void\n");
  out_flush();
  spf_outcome_free(&o);
  dnsq_cache_free(&cache);
  return EX_OK;
}
