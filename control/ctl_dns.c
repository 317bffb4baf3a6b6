/*
 * ctl_dns.c -- imc-ctl check --dns (see ctl_dns.h).
 *
 * Inputs: the loaded configuration (me, sitedomains) and DNS through
 * libowfat (dns_mx, dns_ip6: AAAA then A, the A answers v4-mapped), the
 * same lookups imc-remote makes; MX records are put in preference order by
 * imc-remote's own mx_parse (lib/mx.h), ties kept in the answer's order
 * so that the output is stable.  Nothing is written but the lines given to
 * the caller's function.
 */
#include <stdarg.h>
#include <string.h>
#include "ctl_dns.h"
#include "owfat.h"
#include "mx.h"
#include "rules.h"

static stralloc me_ips;     /* control/me's addresses, 16 bytes each */
static int me_temp;         /* looking them up failed temporarily */
static int me_known;        /* they were looked up (once, when first needed) */

/* the strings, ended by a null pointer, appended to sa; 0 out of memory */
static int cat_all(stralloc *sa, ...)
{
  const char *s;
  int ok = 1;
  va_list ap;
  va_start(ap, sa);
  while ((s = va_arg(ap, const char *)) != 0) if (ok && !stralloc_cats(sa, s)) ok = 0;
  va_end(ap);
  return ok;
}
#define CAT(sa, ...) cat_all((sa), __VA_ARGS__, (const char *)0)

/* the line to the caller; out of memory becomes a warning of its own */
static void say_line(dnscheck_fn say, int is_warning, stralloc *line, int ok)
{
  if (ok && stralloc_0(line)) say(is_warning, line->s);
  else say(1, "out of memory");
  line->len = 0;
}

static unsigned no_tie(unsigned n) { (void)n; return 0; }

/* a.example and A.example. name the same host */
static int same_host(const char *a, const char *b, size_t blen)
{
  size_t alen = str_len(a);
  if (alen && a[alen - 1] == '.') alen--;
  if (blen && b[blen - 1] == '.') blen--;
  return alen == blen && !case_diffb(a, alen, b);
}

static int is_me_addr(const char *ip)
{
  size_t i;
  for (i = 0; i + 16 <= me_ips.len; i += 16) if (!memcmp(me_ips.s + i, ip, 16)) return 1;
  return 0;
}

/* a host and its addresses: 0, or -1 on a DNS temporary failure */
static int host_addrs(const char *host, stralloc *ips)
{
  static stralloc name;
  if (!stralloc_copys(&name, host)) return -1;
  return dns_ip6(ips, &name) < 0 ? -1 : 0;
}

/* the first of ips that is this host's, or 0 */
static const char *my_addr(const stralloc *ips)
{
  size_t i;
  for (i = 0; i + 16 <= ips->len; i += 16) if (is_me_addr(ips->s + i)) return ips->s + i;
  return 0;
}

/* "host [ip] [ip]", "host [no address]" or "host [DNS temporary failure]" appended */
static int cat_host(stralloc *sa, const char *host, const stralloc *ips, int temp)
{
  char text[IP_FMT];
  size_t i;
  if (!CAT(sa, host)) return 0;
  if (temp) return CAT(sa, " [DNS temporary failure]");
  if (!ips->len) return CAT(sa, " [no address]");
  for (i = 0; i + 16 <= ips->len; i += 16) {
    ip_format(text, (const unsigned char *)ips->s + i);
    if (!CAT(sa, " [", text, "]")) return 0;
  }
  return 1;
}

/* "[ip]" of the matching address, or of the first, or "[no address]" */
static int cat_one(stralloc *sa, const stralloc *ips)
{
  char text[IP_FMT];
  const char *ip = my_addr(ips);
  if (!ip && !ips->len) return CAT(sa, "[no address]");
  ip_format(text, (const unsigned char *)(ip ? ip : ips->s));
  return CAT(sa, "[", text, "]");
}

static int cat_me_note(stralloc *sa, const struct config *c)
{
  if (me_ips.len || me_temp) return 1;
  return CAT(sa, "; control/me ") && stralloc_cat(sa, &c->me) && CAT(sa, " has no address records");
}

/* the domain itself as its implicit MX */
static void check_implicit(const struct config *c, const char *dom, dnscheck_fn say, struct dnscheck_result *res)
{
  static stralloc ips, line;
  int ok;
  if (host_addrs(dom, &ips) < 0) {
    say_line(say, 1, &line, CAT(&line, dom, ": DNS temporary failure looking up its address records"));
    res->tempfails++;
    return;
  }
  if (same_host(dom, c->me.s, c->me.len) || my_addr(&ips)) {
    ok = CAT(&line, dom, ": no MX record; the domain's own address ") && cat_one(&line, &ips)
         && CAT(&line, " is this host (implicit MX)");
    say_line(say, 0, &line, ok);
    return;
  }
  res->warnings++;
  if (!ips.len) ok = CAT(&line, dom, ": no MX and no address records: mail to it cannot be delivered");
  else ok = CAT(&line, dom, ": no MX record points at this host (implicit MX ") && cat_host(&line, dom, &ips, 0)
            && CAT(&line, ")") && cat_me_note(&line, c);
  say_line(say, 1, &line, ok);
}

/* the MX hosts in order: the first that is this host makes the domain fine */
static void check_mxlist(const struct config *c, const char *dom, const struct mx *list, int n,
                         dnscheck_fn say, struct dnscheck_result *res)
{
  static stralloc ips, line, others;
  int i, temp = 0, t, ok = 1;
  others.len = 0;
  for (i = 0; i < n; i++) {
    t = host_addrs(list[i].name, &ips) < 0;
    if (t) ips.len = 0;
    if (same_host(list[i].name, c->me.s, c->me.len) || my_addr(&ips)) {
      ok = CAT(&line, dom, ": MX ", list[i].name, " ") && cat_one(&line, &ips) && CAT(&line, " is this host");
      say_line(say, 0, &line, ok);
      return;
    }
    temp |= t;
    if (ok && i) ok = CAT(&others, ", ");
    if (ok) ok = cat_host(&others, list[i].name, &ips, t);
  }
  if (temp) res->tempfails++;
  else res->warnings++;
  ok = ok && stralloc_0(&others)
       && CAT(&line, dom, temp ? ": no MX record found to point at this host, and some could not be looked up ("
                               : ": no MX record points at this host (", others.s, ")")
       && cat_me_note(&line, c);
  say_line(say, 1, &line, ok);
}

static void load_me(const struct config *c, dnscheck_fn say, struct dnscheck_result *res);

static void check_domain(const struct config *c, const char *dom, dnscheck_fn say, struct dnscheck_result *res)
{
  static stralloc name, ans, line;
  static struct mx list[MX_MAX];
  int n, nullmx;
  if (!stralloc_copys(&name, dom)) { say(1, "out of memory"); res->tempfails++; return; }
  if (dns_mx(&ans, &name) < 0) {
    say_line(say, 1, &line, CAT(&line, dom, ": DNS temporary failure looking up its MX records"));
    res->tempfails++;
    return;
  }
  load_me(c, say, res);
  if (!ans.len) { check_implicit(c, dom, say, res); return; }
  n = mx_parse(ans.s, ans.len, list, &nullmx, no_tie);
  res->warnings++;
  if (nullmx) say_line(say, 1, &line, CAT(&line, dom, ": null MX: the domain accepts no mail"));
  else if (n < 0) say_line(say, 1, &line, CAT(&line, dom, ": malformed MX answer"));
  else { res->warnings--; check_mxlist(c, dom, list, n, say, res); }
}

/* control/me's addresses, once: after the first MX answer, so that a DNS
   server that does not answer costs one timeout, not three */
static void load_me(const struct config *c, dnscheck_fn say, struct dnscheck_result *res)
{
  static stralloc name, line;
  if (me_known) return;
  me_known = 1;
  me_ips.len = 0;
  me_temp = 0;
  if (!stralloc_copyb(&name, c->me.s, c->me.len) || !stralloc_0(&name)) { me_temp = 1; return; }
  if (host_addrs(name.s, &me_ips) == 0) return;
  me_ips.len = 0;
  me_temp = 1;
  res->tempfails++;
  say_line(say, 1, &line, CAT(&line, "control/me ", name.s, ": DNS temporary failure looking up its addresses"));
}

void dnscheck_sites(const struct config *c, dnscheck_fn say, struct dnscheck_result *res)
{
  size_t pos = 0;
  const char *dom;
  res->warnings = res->tempfails = 0;
  me_known = 0;
  while ((dom = config_list_next(&c->sitedomains, &pos)) != 0) check_domain(c, dom, say, res);
}
