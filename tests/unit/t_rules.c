/*
 * t_rules.c -- control/rules and control/transfermode (lib/rules.c):
 * parsing, errors with their line numbers, the defaults, matching by the
 * longest prefix (later lines win ties), IPv4-mapped clients, formatting.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "fixture.h"
#include "rules.h"


static int parse(struct rules *rs, const char *text)
{
  ctl_file f = {0};
  int r;
  errs[0] = 0;
  ctl_openmem(&f, "rules", text, strlen(text));
  r = rules_parse(rs, &f, collect);
  ctl_close(&f);
  return r;
}

/* the verdict for a client address given as text */
static const char *verdict(const struct rules *rs, const char *addr)
{
  unsigned char ip[16];
  if (!ip_scan(addr, ip)) return "bad-test-address";
  return rule_verdict_name(rules_match(rs, ip));
}

static void test_addresses(void)
{
  unsigned char ip[16];
  char buf[IP_FMT];
  CHECK(ip_scan("192.0.2.1", ip) && ip_is_v4(ip));
  ip_format(buf, ip);
  CHECK_STR(buf, "192.0.2.1");
  CHECK(ip_scan("::ffff:192.0.2.1", ip) && ip_is_v4(ip));
  ip_format(buf, ip);
  CHECK_STR(buf, "192.0.2.1");                      /* mapped: shown as plain IPv4 */
  CHECK(ip_scan("2001:DB8:0:0::1", ip) && !ip_is_v4(ip));
  ip_format(buf, ip);
  CHECK_STR(buf, "2001:db8::1");                    /* standard text form */
  CHECK(ip_scan("::1", ip) && !ip_is_v4(ip));
  CHECK(!ip_scan("1.2.3", ip));
  CHECK(!ip_scan("1.2.3.256", ip));
  CHECK(!ip_scan("", ip));
  CHECK(!ip_scan("fe80::1%lo", ip));
  CHECK(!ip_scan("example.com", ip));
}

static void test_match(void)
{
  struct rules rs = {0, 0, 0, 0};
  CHECK(parse(&rs, "# comment\naccept 0.0.0.0/0\nreject 192.0.2.0/24\nrelay 192.0.2.128/25\n"
                   "auth 192.0.2.7\nauth 2001:db8::/32\nrelay 2001:db8:1::/48\nreject ::/0\n") == 0);
  CHECK(rs.n == 7 && !rs.is_default);
  CHECK_STR(verdict(&rs, "198.51.100.1"), "accept");
  CHECK_STR(verdict(&rs, "192.0.2.1"), "reject");
  CHECK_STR(verdict(&rs, "192.0.2.200"), "relay");     /* /25 beats /24 */
  CHECK_STR(verdict(&rs, "192.0.2.7"), "auth");        /* /32 beats both */
  CHECK_STR(verdict(&rs, "::ffff:192.0.2.7"), "auth"); /* v4-mapped matches IPv4 rules */
  CHECK_STR(verdict(&rs, "::ffff:192.0.2.1"), "reject");
  CHECK_STR(verdict(&rs, "2001:db8:5::1"), "auth");
  CHECK_STR(verdict(&rs, "2001:db8:1:2::3"), "relay");
  CHECK_STR(verdict(&rs, "2001:db9::1"), "reject");    /* ::/0 covers IPv6 only */
  CHECK_STR(verdict(&rs, "10.1.2.3"), "accept");       /* ... not IPv4 */
  CHECK(rs.r[2].line == 4);
  rules_free(&rs);

  /* equal prefixes: the later line wins */
  CHECK(parse(&rs, "relay 10.0.0.0/8\nreject 10.0.0.0/8\n") == 0);
  CHECK_STR(verdict(&rs, "10.9.9.9"), "reject");
  CHECK(parse(&rs, "reject 10.0.0.0/8\nrelay 10.0.0.0/8\n") == 0);
  CHECK_STR(verdict(&rs, "10.9.9.9"), "relay");
  /* no match: accept; odd prefixes */
  CHECK(parse(&rs, "reject 10.0.0.0/9\nrelay 2001:db8:8000::/33\n") == 0);
  CHECK_STR(verdict(&rs, "10.127.0.1"), "reject");
  CHECK_STR(verdict(&rs, "10.128.0.1"), "accept");
  CHECK_STR(verdict(&rs, "2001:db8:8000::1"), "relay");
  CHECK_STR(verdict(&rs, "2001:db8:7fff::1"), "accept");
  /* an IPv4 rule written in mapped form; a verdict in capitals */
  CHECK(parse(&rs, "RELAY ::ffff:10.0.0.0/104\n") == 0);
  CHECK_STR(verdict(&rs, "10.1.1.1"), "relay");
  CHECK_STR(verdict(&rs, "11.1.1.1"), "accept");
  rules_free(&rs);
}

static void test_defaults(void)
{
  struct rules rs = {0, 0, 0, 0};
  char buf[RULE_FMT];
  CHECK(rules_defaults(&rs) == 0 && rs.is_default && rs.n == 2);
  CHECK_STR(verdict(&rs, "127.0.0.1"), "relay");
  CHECK_STR(verdict(&rs, "127.200.0.1"), "relay");
  CHECK_STR(verdict(&rs, "::1"), "relay");
  CHECK_STR(verdict(&rs, "::ffff:127.0.0.1"), "relay");
  CHECK_STR(verdict(&rs, "192.0.2.1"), "accept");
  CHECK_STR(verdict(&rs, "::2"), "accept");
  rule_format(buf, &rs.r[0]);
  CHECK_STR(buf, "relay 127.0.0.0/8");
  rule_format(buf, &rs.r[1]);
  CHECK_STR(buf, "relay ::1/128");
  /* a file with no rule lines means the defaults too */
  CHECK(parse(&rs, "# nothing\n\n") == 0 && rs.is_default && rs.n == 2);
  rules_free(&rs);
  /* from the instance: missing, then written */
  drop("rules");
  CHECK(rules_load(&rs, collect) == 0 && rs.is_default);
  put("rules", "reject 127.0.0.0/8\n");
  CHECK(rules_load(&rs, collect) == 0 && !rs.is_default && rs.n == 1);
  CHECK_STR(verdict(&rs, "127.0.0.1"), "reject");
  CHECK_STR(verdict(&rs, "::1"), "accept");
  put("rules", "bogus\n");
  errs[0] = 0;
  CHECK(rules_load(&rs, collect) == 1 && rs.n == 0);
  CHECK_STR(errs, "rules:1: expected VERDICT ADDRESS[/PREFIX]\n");
  drop("rules");
  rules_free(&rs);
}

static void test_errors(void)
{
  struct rules rs = {0, 0, 0, 0};
  CHECK(parse(&rs, "relay 127.0.0.1\n"
                   "allow 10.0.0.0/8\n"
                   "\n# comment\n"
                   "reject 10.0.0.0/33\n"
                   "reject 2001:db8::/129\n"
                   "reject 10.0.0.1/8\n"
                   "auth 2001:db8::1/32\n"
                   "relay 10.0.0.256\n"
                   "relay 10.0.0.0/x\n"
                   "relay 10.0.0.0/\n"
                   "relay\n"
                   "relay 1.2.3.4 extra\n"
                   "accept 0.0.0.0/0\n") == 10);
  CHECK_STR(errs,
    "rules:2: unknown verdict: allow (accept, reject, relay, auth, tls, tlsauth)\n"
    "rules:5: prefix out of range: 10.0.0.0/33\n"
    "rules:6: prefix out of range: 2001:db8::/129\n"
    "rules:7: host bits set: 10.0.0.1/8\n"
    "rules:8: host bits set: 2001:db8::1/32\n"
    "rules:9: bad address: 10.0.0.256\n"
    "rules:10: bad prefix: 10.0.0.0/x\n"
    "rules:11: bad prefix: 10.0.0.0/\n"
    "rules:12: expected VERDICT ADDRESS[/PREFIX]\n"
    "rules:13: expected VERDICT ADDRESS[/PREFIX]\n");
  CHECK(rs.n == 0 && rs.r == 0);                   /* nothing usable after errors */
  errs[0] = 0;
  CHECK(rules_check_text("relay 10.0.0.0/8\nreject 1.2.3.4/0\n", 34, collect) == 1);
  CHECK_STR(errs, "rules:2: host bits set: 1.2.3.4/0\n");
  errs[0] = 0;
  CHECK(rules_check_text("accept 0.0.0.0/0\naccept ::/0\n", 29, collect) == 0);
  CHECK_STR(errs, "");
}

/* tls and tlsauth: parsed, matched, formatted, and warned about without a certificate */
static void test_tls(void)
{
  struct rules rs = {0, 0, 0, 0};
  char buf[RULE_FMT];
  CHECK(parse(&rs, "accept 0.0.0.0/0\ntls 192.0.2.0/24\ntlsauth 192.0.2.9\nTLS 2001:db8::/32\n") == 0);
  CHECK_STR(verdict(&rs, "192.0.2.1"), "tls");
  CHECK_STR(verdict(&rs, "192.0.2.9"), "tlsauth");
  CHECK_STR(verdict(&rs, "2001:db8::5"), "tls");
  CHECK_STR(verdict(&rs, "198.51.100.1"), "accept");
  rule_format(buf, &rs.r[2]);
  CHECK_STR(buf, "tlsauth 192.0.2.9/32");
  errs[0] = 0;
  CHECK(rules_warn(&rs, 1, collect) == 0);
  CHECK_STR(errs, "");
  CHECK(rules_warn(&rs, 0, collect) == 3);
  CHECK(strstr(errs, "rules:2: no control/tls/cert.pem and key.pem") == errs);
  CHECK(strstr(errs, "\nrules:4: ") != 0);
  rules_free(&rs);
  CHECK(parse(&rs, "tls-auth 192.0.2.1\n") == 1);
  CHECK_STR(errs, "rules:1: unknown verdict: tls-auth (accept, reject, relay, auth, tls, tlsauth)\n");
}

static void test_transfermode(void)
{
  int m = -1;
  CHECK(!strcmp(transfermode_name(XFER_BOTH), "both") && !strcmp(transfermode_name(XFER_NONE), "none"));
  CHECK(transfermode_inbound(XFER_BOTH) && transfermode_inbound(XFER_INBOUND));
  CHECK(!transfermode_inbound(XFER_OUTBOUND) && !transfermode_inbound(XFER_NONE));
  drop("transfermode");
  CHECK(transfermode_load(&m, collect) == 0 && m == XFER_BOTH);
  put("transfermode", "# stop all\nnone\n");
  CHECK(transfermode_load(&m, collect) == 0 && m == XFER_NONE);
  put("transfermode", "Outbound\n");
  CHECK(transfermode_load(&m, collect) == 0 && m == XFER_OUTBOUND);
  put("transfermode", "\n");
  CHECK(transfermode_load(&m, collect) == 0 && m == XFER_BOTH);
  put("transfermode", "inbound\nnone\n");
  errs[0] = 0;
  m = -1;
  CHECK(transfermode_load(&m, collect) == 1 && m == -1);
  CHECK_STR(errs, "transfermode:2: only one line allowed\n");
  errs[0] = 0;
  CHECK(transfermode_check_text("sometimes\n", 10, collect) == 1);
  CHECK_STR(errs, "transfermode:1: unknown transfer mode: sometimes (both, inbound, outbound, none)\n");
  errs[0] = 0;
  CHECK(transfermode_check_text("both now\n", 9, collect) == 1);
  CHECK_STR(errs, "transfermode:1: extra words after the value\n");
  errs[0] = 0;
  CHECK(transfermode_check_text("\0\0\0\n", 4, collect) == 1);   /* found by fuzz_rules */
  CHECK_STR(errs, "transfermode:1: empty value\n");
  errs[0] = 0;
  CHECK(rules_check_text("\0 x\n", 4, collect) == 1);
  drop("transfermode");
}

static void test_unreadable(void)
{
  struct rules rs = {0, 0, 0, 0};
  int m;
  char path[256];
  put("rules", "relay 10.0.0.0/8\n");
  put("transfermode", "none\n");
  snprintf(path, sizeof path, "%s/control/rules", home);
  chmod(path, 0);
  snprintf(path, sizeof path, "%s/control/transfermode", home);
  chmod(path, 0);
  CHECK(rules_load(&rs, collect) == -1);
  CHECK(transfermode_load(&m, collect) == -1);
  drop("rules");
  drop("transfermode");
}

int main(void)
{
  fixture_open("t_rules");
  test_addresses();
  test_match();
  test_defaults();
  test_errors();
  test_tls();
  test_transfermode();
  fixture_unprivileged(test_unreadable);
  fixture_close();
  return check_done("t_rules");
}
