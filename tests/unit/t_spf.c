/*
 * t_spf.c -- the SPF evaluator (lib/spf_*.c) against a DNS table in
 * memory: record selection, every mechanism with qualifiers and CIDR
 * lengths, include and redirect, exp= with macros, the macro examples of
 * RFC 7208 section 7.4, the limits (10 DNS-querying terms, 2 void lookups,
 * 10 MX names), temperror from the DNS, the null sender, record syntax.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <strings.h>
#include "check.h"
#include "spf.h"
#include "rules.h"

struct rr { const char *name; unsigned type; int status; const char *recs[14]; };

static const struct rr table[] = {
  { "pass.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 ip4:192.0.2.0/24 -all", "unrelated text", 0 } },
  { "case.test", DNSQ_TXT, DNSQ_OK, { "V=SpF1 IP4:192.0.2.1 -ALL", 0 } },
  { "two.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 -all", "v=spf1 +all", 0 } },
  { "spf10.test", DNSQ_TXT, DNSQ_OK, { "v=spf10 -all", 0 } },
  { "syntax.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 ip4:192.0.2.1 foo:bar -all", 0 } },
  { "cidr.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 ip4:192.0.2.1/33 -all", 0 } },
  { "soft.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 ~all", 0 } },
  { "neutral.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 ?all", 0 } },
  { "nothing.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 ip4:10.0.0.1", 0 } },
  { "a.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 a/24 a:host.a.test//64 -all", 0 } },
  { "a.test", DNSQ_A, DNSQ_OK, { "198.51.100.10", 0 } },
  { "a.test", DNSQ_AAAA, DNSQ_OK, { 0 } },
  { "host.a.test", DNSQ_AAAA, DNSQ_OK, { "2001:db8:1:2::1", 0 } },
  { "mx.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 mx -all", 0 } },
  { "mx.test", DNSQ_MX, DNSQ_OK, { "10 mx1.mx.test", "20 mx2.mx.test", 0 } },
  { "mx1.mx.test", DNSQ_A, DNSQ_OK, { "203.0.113.1", 0 } },
  { "mx2.mx.test", DNSQ_A, DNSQ_OK, { "203.0.113.2", 0 } },
  { "manymx.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 mx -all", 0 } },
  { "manymx.test", DNSQ_MX, DNSQ_OK, { "1 a.x", "2 b.x", "3 c.x", "4 d.x", "5 e.x", "6 f.x", "7 g.x",
                                       "8 h.x", "9 i.x", "10 j.x", "11 k.x", 0 } },
  { "inc.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 include:pass.test include:soft.test -all", 0 } },
  { "incnone.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 include:nx.test -all", 0 } },
  { "nx.test", DNSQ_TXT, DNSQ_NXDOMAIN, { 0 } },
  { "redir.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 ip4:10.1.1.1 redirect=pass.test", 0 } },
  { "redirnone.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 redirect=nx.test", 0 } },
  { "exp.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 -all exp=why.exp.test", 0 } },
  { "why.exp.test", DNSQ_TXT, DNSQ_OK, { "%{i} may not send for %{d} (sender %{s}, %{l}, %{o}, %{v}, %{h}, %{c}, %{r}, %{t})", 0 } },
  { "loop.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 include:loop.test -all", 0 } },
  { "many.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 a:a.test a:a.test a:a.test a:a.test a:a.test a:a.test "
                                      "a:a.test a:a.test a:a.test a:a.test mx:x.a.test -all", 0 } },
  { "voids.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 a:v1.test a:v2.test a:v3.test -all", 0 } },
  { "v1.test", DNSQ_A, DNSQ_NXDOMAIN, { 0 } },
  { "temp.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 a:down.test -all", 0 } },
  { "down.test", DNSQ_A, DNSQ_TEMP, { 0 } },
  { "txtdown.test", DNSQ_TXT, DNSQ_TEMP, { 0 } },
  { "exists.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all", 0 } },
  { "1.2.0.192.someuser._spf.exists.test", DNSQ_A, DNSQ_OK, { "127.0.0.2", 0 } },
  { "ptr.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 ptr -all", 0 } },
  { "1.2.0.192.in-addr.arpa", DNSQ_PTR, DNSQ_OK, { "mail.ptr.test", "liar.ptr.test", 0 } },
  { "mail.ptr.test", DNSQ_A, DNSQ_OK, { "192.0.2.1", 0 } },
  { "ip6.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 ip6:2001:db8::/32 -all", 0 } },
  { "helo.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 exists:%{l}.%{o}.chk.helo.test -all", 0 } },
  { "postmaster.helo.test.chk.helo.test", DNSQ_A, DNSQ_OK, { "127.0.0.2", 0 } },
  { "mod.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 foo=%{d}.bar +all", 0 } },
  { "dup.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 redirect=a.test redirect=b.test", 0 } },
  { "split.test", DNSQ_TXT, DNSQ_OK, { "v=spf1 ip4:192.0.2.1 -al", 0 } },
  { 0, 0, 0, { 0 } }
};

static unsigned long lookups;

static int add(struct dnsq_result *r, const char *d, size_t len)
{
  char l[2] = { (char)(len >> 8), (char)len };
  r->n++;
  return stralloc_catb(&r->recs, l, 2) && stralloc_catb(&r->recs, d, len);
}

static void add_text(struct dnsq_result *r, unsigned type, const char *s)
{
  unsigned char ip[16];
  char buf[300];
  if (type == DNSQ_A) { inet_pton(AF_INET, s, ip); add(r, (char *)ip, 4); }
  else if (type == DNSQ_AAAA) { inet_pton(AF_INET6, s, ip); add(r, (char *)ip, 16); }
  else if (type == DNSQ_MX) {
    unsigned pref = (unsigned)atoi(s);
    const char *n = strchr(s, ' ') + 1;
    buf[0] = (char)(pref >> 8);
    buf[1] = (char)pref;
    strcpy(buf + 2, n);
    add(r, buf, 2 + strlen(n));
  } else add(r, s, strlen(s));
}

static int fake_lookup(void *ctx, const char *name, unsigned type, struct dnsq_result *r)
{
  const struct rr *e;
  int i;
  (void)ctx;
  lookups++;
  r->recs.len = 0;
  r->n = 0;
  for (e = table; e->name; e++) {
    if (e->type != type || strcasecmp(e->name, name)) continue;
    for (i = 0; e->recs[i]; i++) add_text(r, type, e->recs[i]);
    return r->status = e->status;
  }
  return r->status = DNSQ_NXDOMAIN;
}

static struct spf_outcome o;

static const char *spf(const char *ip, const char *mailfrom, const char *helo)
{
  struct spf_request q;
  memset(&q, 0, sizeof q);
  ip_scan(ip, q.ip);
  q.helo = helo;
  q.receiver = "mx.receiver.test";
  q.now = 1700000000;
  q.lookup = fake_lookup;
  return spf_result_name(spf_check_mailfrom(&q, mailfrom, &o));
}

static void test_results(void)
{
  CHECK_STR(spf("192.0.2.7", "user@pass.test", "h.test"), "pass");
  CHECK_STR(o.mechanism.s, "ip4:192.0.2.0/24");
  CHECK_STR(o.where.s, "pass.test");
  CHECK_STR(spf("192.0.3.7", "user@pass.test", "h.test"), "fail");
  CHECK_STR(o.mechanism.s, "-all");
  CHECK_STR(spf("192.0.2.1", "user@case.test", "h.test"), "pass");
  CHECK_STR(spf("192.0.2.1", "user@soft.test", "h.test"), "softfail");
  CHECK_STR(spf("192.0.2.1", "user@neutral.test", "h.test"), "neutral");
  CHECK_STR(spf("192.0.2.1", "user@nothing.test", "h.test"), "neutral");
  CHECK_STR(o.mechanism.s, "default");
  CHECK_STR(spf("192.0.2.1", "user@nx.test", "h.test"), "none");
  CHECK_STR(spf("192.0.2.1", "user@spf10.test", "h.test"), "none");
  CHECK_STR(spf("192.0.2.1", "user@localhost", "h.test"), "none");
  CHECK_STR(spf("192.0.2.1", "user@two.test", "h.test"), "permerror");
  CHECK_STR(spf("192.0.2.1", "user@syntax.test", "h.test"), "permerror");
  CHECK_STR(o.problem.s, "syntax error in the SPF record of syntax.test: foo:bar");
  CHECK_STR(spf("192.0.2.1", "user@cidr.test", "h.test"), "permerror");
  CHECK_STR(spf("192.0.2.1", "user@split.test", "h.test"), "permerror");
  CHECK_STR(spf("192.0.2.1", "user@mod.test", "h.test"), "pass");
  CHECK_STR(spf("192.0.2.1", "user@dup.test", "h.test"), "permerror");
}

static void test_mechanisms(void)
{
  CHECK_STR(spf("198.51.100.200", "u@a.test", "h"), "pass");        /* a/24 */
  CHECK_STR(spf("198.51.101.1", "u@a.test", "h"), "fail");
  CHECK_STR(spf("2001:db8:1:2:ffff::9", "u@a.test", "h"), "pass");  /* a:host//64 */
  CHECK_STR(o.mechanism.s, "a:host.a.test//64");
  CHECK_STR(spf("2001:db8:1:3::1", "u@a.test", "h"), "fail");
  CHECK_STR(spf("203.0.113.2", "u@mx.test", "h"), "pass");
  CHECK_STR(spf("203.0.113.3", "u@mx.test", "h"), "fail");
  CHECK_STR(spf("203.0.113.3", "u@manymx.test", "h"), "permerror");
  CHECK_STR(spf("192.0.2.1", "someuser@exists.test", "h"), "pass");
  CHECK_STR(spf("192.0.2.2", "someuser@exists.test", "h"), "fail");
  CHECK_STR(spf("192.0.2.1", "u@ptr.test", "h"), "pass");
  CHECK_STR(spf("192.0.2.2", "u@ptr.test", "h"), "fail");
  CHECK_STR(spf("2001:db8:ff::1", "u@ip6.test", "h"), "pass");
  CHECK_STR(spf("2001:db9::1", "u@ip6.test", "h"), "fail");
  CHECK_STR(spf("::ffff:192.0.2.9", "u@pass.test", "h"), "pass");  /* a mapped client is IPv4 */
}

static void test_include_redirect(void)
{
  CHECK_STR(spf("192.0.2.9", "u@inc.test", "h"), "pass");
  CHECK_STR(o.mechanism.s, "include:pass.test");
  CHECK_STR(o.where.s, "inc.test");
  CHECK_STR(spf("10.9.9.9", "u@inc.test", "h"), "fail");   /* softfail inside: no match */
  CHECK_STR(o.mechanism.s, "-all");
  CHECK_STR(spf("10.9.9.9", "u@incnone.test", "h"), "permerror");
  CHECK_STR(spf("192.0.2.9", "u@redir.test", "h"), "pass");
  CHECK_STR(o.where.s, "pass.test");
  CHECK_STR(spf("10.1.1.1", "u@redir.test", "h"), "pass");
  CHECK_STR(o.where.s, "redir.test");
  CHECK_STR(spf("10.2.2.2", "u@redir.test", "h"), "fail");
  CHECK_STR(spf("10.2.2.2", "u@redirnone.test", "h"), "permerror");
}

static void test_limits(void)
{
  CHECK_STR(spf("10.2.2.2", "u@loop.test", "h"), "permerror");
  CHECK_STR(o.problem.s, "more than 10 DNS-querying terms");
  CHECK(o.lookups == 11);
  CHECK_STR(spf("10.2.2.2", "u@many.test", "h"), "permerror");
  CHECK_STR(o.mechanism.s, "mx:x.a.test");
  CHECK_STR(spf("10.2.2.2", "u@voids.test", "h"), "permerror");
  CHECK_STR(o.mechanism.s, "a:v3.test");
  CHECK(o.voids == 3);
  CHECK_STR(spf("10.2.2.2", "u@temp.test", "h"), "temperror");
  CHECK_STR(o.problem.s, "DNS temporary failure looking up down.test");
  CHECK_STR(spf("10.2.2.2", "u@txtdown.test", "h"), "temperror");
}

static void test_explanation(void)
{
  CHECK_STR(spf("192.0.2.3", "strong-bad@exp.test", "helo.example"), "fail");
  CHECK_STR(o.explanation.s, "192.0.2.3 may not send for exp.test (sender strong-bad@exp.test, strong-bad, "
                             "exp.test, in-addr, helo.example, 192.0.2.3, mx.receiver.test, 1700000000)");
  CHECK_STR(spf("192.0.2.3", "", "helo.test"), "pass");     /* postmaster@helo.test */
  CHECK_STR(o.sender.s, "postmaster@helo.test");
  CHECK_STR(spf("192.0.2.3", "<>", "helo.test"), "pass");
  CHECK_STR(spf("192.0.2.3", "<@helo.test>", "x"), "pass");
  CHECK_STR(spf("192.0.2.3", "helo.test", "x"), "pass");
}

/* the examples of RFC 7208 section 7.4 */
static const char *expand(const char *ip, const char *s, int exp)
{
  static stralloc out;
  struct spf_macro_vars v;
  unsigned char a[16];
  int nm;
  memset(&v, 0, sizeof v);
  ip_scan(ip, a);
  v.s = "strong-bad@email.example.com";
  v.l = "strong-bad";
  v.o = v.d = "email.example.com";
  v.ip = a;
  v.h = "mx.example.org";
  if (spf_expand(&v, s, strlen(s), exp, &out, &nm) < 0) return "(error)";
  stralloc_0(&out);
  return out.s;
}

static void test_macros(void)
{
  CHECK_STR(expand("192.0.2.3", "%{s}", 0), "strong-bad@email.example.com");
  CHECK_STR(expand("192.0.2.3", "%{o}", 0), "email.example.com");
  CHECK_STR(expand("192.0.2.3", "%{d4}", 0), "email.example.com");
  CHECK_STR(expand("192.0.2.3", "%{d3}", 0), "email.example.com");
  CHECK_STR(expand("192.0.2.3", "%{d2}", 0), "example.com");
  CHECK_STR(expand("192.0.2.3", "%{d1}", 0), "com");
  CHECK_STR(expand("192.0.2.3", "%{dr}", 0), "com.example.email");
  CHECK_STR(expand("192.0.2.3", "%{d2r}", 0), "example.email");
  CHECK_STR(expand("192.0.2.3", "%{l}", 0), "strong-bad");
  CHECK_STR(expand("192.0.2.3", "%{l-}", 0), "strong.bad");
  CHECK_STR(expand("192.0.2.3", "%{lr}", 0), "strong-bad");
  CHECK_STR(expand("192.0.2.3", "%{lr-}", 0), "bad.strong");
  CHECK_STR(expand("192.0.2.3", "%{l1r-}", 0), "strong");
  CHECK_STR(expand("192.0.2.3", "%{ir}.%{v}._spf.%{d2}", 0), "3.2.0.192.in-addr._spf.example.com");
  CHECK_STR(expand("192.0.2.3", "%{lr-}.lp._spf.%{d2}", 0), "bad.strong.lp._spf.example.com");
  CHECK_STR(expand("192.0.2.3", "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", 0),
            "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
  CHECK_STR(expand("192.0.2.3", "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", 0),
            "3.2.0.192.in-addr.strong.lp._spf.example.com");
  CHECK_STR(expand("192.0.2.3", "%{d2}.trusted-domains.example.net", 0), "example.com.trusted-domains.example.net");
  CHECK_STR(expand("2001:db8::cb01", "%{ir}.%{v}._spf.%{d2}", 0),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
  CHECK_STR(expand("192.0.2.3", "%%%_%-%{S}", 0), "% %20strong-bad%40email.example.com");
  CHECK_STR(expand("192.0.2.3", "%{c}", 0), "(error)");     /* c, r, t only in explanations */
  CHECK_STR(expand("192.0.2.3", "%{d0}", 0), "(error)");
  CHECK_STR(expand("192.0.2.3", "%{x}", 0), "(error)");
  CHECK_STR(expand("192.0.2.3", "%{d", 0), "(error)");
  CHECK_STR(expand("192.0.2.3", "50%", 0), "(error)");
  CHECK_STR(expand("192.0.2.3", "%{c}", 1), "192.0.2.3");
}

static int term_ok(const char *t)
{
  char rec[300];
  struct spf_record_info info;
  snprintf(rec, sizeof rec, "v=spf1 %s", t);
  return spf_record_scan(rec, strlen(rec), &info) == 0;
}

static void test_syntax(void)
{
  CHECK(term_ok("a") && term_ok("a/0") && term_ok("a//0") && term_ok("a/32//128") && term_ok("mx:x.test/24"));
  CHECK(term_ok("ip4:0.0.0.0/0") && term_ok("ip6:::/0") && term_ok("ip6:2001:db8::/128"));
  CHECK(term_ok("exists:%{i}.x.test") && term_ok("include:%{d}") && term_ok("ptr") && term_ok("ptr:x.test"));
  CHECK(term_ok("unknown-mod=") && term_ok("x=%%") && term_ok("-all ") && term_ok(""));
  CHECK(!term_ok("a/33") && !term_ok("a//129") && !term_ok("a/024") && !term_ok("ip4:1.2.3.4/") && !term_ok("a:"));
  CHECK(!term_ok("include") && !term_ok("include:x") && !term_ok("include:x.1") && !term_ok("exists:x.test-"));
  CHECK(!term_ok("ip4:1.2.3") && !term_ok("ip6:1.2.3.4") && !term_ok("all:x.test") && !term_ok("ptr/24"));
  CHECK(!term_ok("+x=y") && !term_ok("exp=") && !term_ok("redirect=x") && !term_ok("a:x.test\t-all"));
  CHECK(!term_ok("exp=a.test exp=b.test") && !term_ok("=x") && !term_ok("1a") && !term_ok("-"));
  CHECK(spf_is_record("v=spf1", 6) && spf_is_record("v=spf1 -all", 11) && !spf_is_record("v=spf1-all", 10));
}

int main(void)
{
  test_results();
  test_mechanisms();
  test_include_redirect();
  test_limits();
  test_explanation();
  test_macros();
  test_syntax();
  spf_outcome_free(&o);
  return check_done("t_spf");
}
