/*
 * t_remote.c -- unit tests for imc-remote's pure parts: SMTP reply and
 * EHLO parsing (remote/smtp_reply.c), control/routes and control/smarthost
 * (lib/route.c: precedence, keys, syntax errors with line numbers), MX
 * ordering and null MX (remote/mx.c), DATA encoding and message scanning
 * (remote/smtp_data.c), base64, and job lines (remote/rjob.c).
 */
#include <stdlib.h>
#include "check.h"
#include "passwd.h"
#include "base64.h"
#include "route.h"
#include "mx.h"
#include "../../remote/rjob.h"
#include "../../remote/data_out.h"
#include "smtp_reply.h"
#include "../../remote/remote.h"

/* ---- replies */

static int feed(struct smtp_reply *r, const char *const *lines)
{
  int rc = 0;
  reply_init(r);
  for (; *lines; lines++) rc = reply_line(r, *lines, strlen(*lines));
  return rc;
}

static const char *summary(const struct smtp_reply *r)
{
  static stralloc out;
  if (reply_summary(r, &out) < 0) return "(enomem)";
  return out.s;
}

static void test_reply_basic(void)
{
  struct smtp_reply r = { 0, 0, 0, "", {0} };
  static const char *const one[] = { "250 ok", 0 };
  static const char *const multi[] = { "250-first", "250-second", "250 third", 0 };
  static const char *const status[] = { "550 5.1.1 <x@y>: user unknown", 0 };
  static const char *const wrongclass[] = { "550 4.1.1 odd", 0 };
  static const char *const bare[] = { "354", 0 };
  static const char *const ctl[] = { "421-a\tb", "421 c\001d", 0 };
  CHECK(feed(&r, one) == 1);
  CHECK(r.code == 250 && r.done && r.status[0] == 0 && reply_class(&r) == 2);
  CHECK_STR(summary(&r), "250 ok");
  CHECK(feed(&r, multi) == 1 && r.lines == 3);
  CHECK_STR(summary(&r), "250 first second third");
  reply_init(&r);
  CHECK(reply_line(&r, "250-first", 9) == 0);
  CHECK(reply_line(&r, "250 last", 8) == 1);
  CHECK(feed(&r, status) == 1 && r.code == 550);
  CHECK_STR(r.status, "5.1.1");
  CHECK_STR(summary(&r), "550 5.1.1 <x@y>: user unknown");
  CHECK(feed(&r, wrongclass) == 1);
  CHECK_STR(r.status, "");
  CHECK(feed(&r, bare) == 1 && r.code == 354);
  CHECK_STR(summary(&r), "354");
  CHECK(feed(&r, ctl) == 1);
  CHECK_STR(summary(&r), "421 a b c d");
  reply_free(&r);
}

static void test_reply_malformed(void)
{
  static const char *const bad[] = { "", "25", "abc", "600 no", "199 no", "2500", "250x", "25a ok", 0 };
  struct smtp_reply r = { 0, 0, 0, "", {0} };
  int i;
  for (i = 0; bad[i]; i++) {
    reply_init(&r);
    CHECK(reply_line(&r, bad[i], strlen(bad[i])) == -1);
  }
  reply_init(&r);
  CHECK(reply_line(&r, "250-a", 5) == 0);
  CHECK(reply_line(&r, "251 b", 5) == -1);             /* the code changed */
  reply_init(&r);
  CHECK(reply_line(&r, "250 a", 5) == 1);
  CHECK(reply_line(&r, "250 b", 5) == -1);             /* after the end */
  reply_init(&r);
  for (i = 0; i < REPLY_LINES_MAX; i++) CHECK(reply_line(&r, "250-x", 5) == 0);
  CHECK(reply_line(&r, "250 x", 5) == -1);             /* too many lines */
  CHECK(r.text.len <= REPLY_KEEP_MAX);
  reply_free(&r);
}

static void test_reply_bounded(void)
{
  struct smtp_reply r = { 0, 0, 0, "", {0} };
  static char line[3000];
  static stralloc out;
  int i;
  memset(line, 'x', sizeof line);
  memcpy(line, "250-", 4);
  reply_init(&r);
  for (i = 0; i < 20; i++) CHECK(reply_line(&r, line, sizeof line) == 0);
  CHECK(r.text.len <= REPLY_KEEP_MAX);
  line[3] = ' ';
  CHECK(reply_line(&r, line, sizeof line) == 1);
  CHECK(reply_summary(&r, &out) == 0 && out.len <= REPLY_SUMMARY_MAX);
  reply_init(&r);
  CHECK(reply_line(&r, "250 a\0b", 7) == 1);            /* a NUL never splits a line */
  CHECK_STR(summary(&r), "250 a b");
  reply_free(&r);
}

/* ---- EHLO */

static void test_ehlo(void)
{
  static const char *const full[] = { "250-mx.example.com hello PIPELINING", "250-pipelining",
    "250-SIZE 10485760", "250-8BITMIME", "250-STARTTLS", "250-AUTH CRAM-MD5 PLAIN LOGIN",
    "250-ENHANCEDSTATUSCODES", "250 SMTPUTF8", 0 };
  static const char *const plain[] = { "250 mx.example.com", 0 };
  static const char *const odd[] = { "250-mx", "250-AUTH=LOGIN", "250-SIZE", "250 8BITMIMEX", 0 };
  static const char *const refused[] = { "502 5.5.2 no EHLO", 0 };
  struct smtp_reply r = { 0, 0, 0, "", {0} };
  struct ehlo e;
  CHECK(feed(&r, full) == 1);
  ehlo_parse(&r, &e);
  CHECK(e.pipelining && e.eightbitmime && e.starttls && e.smtputf8);
  CHECK(e.size && e.sizemax == 10485760UL);
  CHECK(e.auth_plain && e.auth_login);
  CHECK(feed(&r, plain) == 1);
  ehlo_parse(&r, &e);
  CHECK(!e.pipelining && !e.size && !e.starttls && !e.auth_plain && !e.eightbitmime);
  CHECK(feed(&r, odd) == 1);
  ehlo_parse(&r, &e);
  CHECK(e.auth_login && !e.auth_plain);
  CHECK(e.size && e.sizemax == 0);
  CHECK(!e.eightbitmime);
  CHECK(feed(&r, refused) == 1);
  ehlo_parse(&r, &e);
  CHECK(!e.pipelining && !e.size);
  reply_free(&r);
}

/* ---- routes */

static char errbuf[4096];

static void collect(const char *file, unsigned line, const char *msg)
{
  char num[FMT_ULONG];
  num[fmt_ulong(num, line)] = 0;
  strcat(errbuf, file);
  strcat(errbuf, ":");
  strcat(errbuf, num);
  strcat(errbuf, ": ");
  strcat(errbuf, msg);
  strcat(errbuf, "\n");
}

static const char routes_text[] =
  "# routes\n"
  "example.com gw1.example.net\n"
  ".example.com gw2.example.net:2525,GW3.example.net tls=verify\n"
  ".sub.example.com [192.0.2.1]:26 auth=me:secret\n"
  "* catchall.example.net tls=none\n"
  "[192.0.2.7] [IPv6:2001:db8::1]:2525 tls=require\n";

static unsigned line_of(const struct routes *r, const char *dom)
{
  const struct route *rt = route_find(r, dom);
  return rt ? (rt->line ? rt->line : 1000) : 0;
}

static const char *key_of(const struct routes *r, const char *dom)
{
  static stralloc key;
  if (route_key(r, dom, &key) < 0) return "(error)";
  return key.s;
}

static void test_route_find(void)
{
  struct routes r;
  const struct route *rt;
  memset(&r, 0, sizeof r);
  errbuf[0] = 0;
  CHECK(route_parse_text(&r, 0, routes_text, sizeof routes_text - 1, collect) == 0);
  CHECK_STR(errbuf, "");
  CHECK(r.n == 5);
  CHECK(line_of(&r, "example.com") == 2);
  CHECK(line_of(&r, "EXAMPLE.com") == 2);
  CHECK(line_of(&r, "a.example.com") == 3);
  CHECK(line_of(&r, "sub.example.com") == 3);       /* .sub.example.com is for subdomains */
  CHECK(line_of(&r, "x.sub.example.com") == 4);     /* the longest suffix wins */
  CHECK(line_of(&r, "y.x.sub.example.com") == 4);
  CHECK(line_of(&r, "other.org") == 5);
  CHECK(line_of(&r, "notexample.com") == 5);
  CHECK(line_of(&r, "[192.0.2.7]") == 6);
  CHECK(line_of(&r, "[192.0.2.8]") == 5);           /* `*` covers literals too */
  rt = route_find(&r, "a.example.com");
  CHECK(rt && rt->nhosts == 2 && rt->tls == ROUTE_TLS_VERIFY);
  CHECK(rt && !strcmp(rt->host[0].name, "gw2.example.net") && rt->host[0].port == 2525);
  CHECK(rt && !strcmp(rt->host[1].name, "gw3.example.net") && rt->host[1].port == 25);
  rt = route_find(&r, "x.sub.example.com");
  CHECK(rt && rt->host[0].literal && rt->host[0].port == 26 && !strcmp(rt->host[0].name, "[192.0.2.1]"));
  /* auth= without tls=: verify, so that the password goes only to a verified host */
  CHECK(rt && rt->user && !strcmp(rt->user, "me") && !strcmp(rt->passfile, "secret") && rt->tls == ROUTE_TLS_VERIFY);
  CHECK(rt && !rt->insecureauth);
  rt = route_find(&r, "[192.0.2.7]");
  CHECK(rt && rt->host[0].port == 2525 && rt->tls == ROUTE_TLS_REQUIRE);
  CHECK_STR(key_of(&r, "a.example.com"), "route:3");
  CHECK_STR(key_of(&r, "Other.ORG"), "route:5");
  route_free(&r);
}

/* auth= makes tls=verify the default; insecureauth only when written */
static void test_route_insecureauth(void)
{
  static const char text[] =
    "a.test gw.test auth=u:p\n"
    "b.test gw.test tls=may auth=u:p insecureauth\n"
    "c.test gw.test tls=none\n"
    "d.test gw.test auth=u:p tls=require\n";
  struct routes r;
  const struct route *rt;
  memset(&r, 0, sizeof r);
  CHECK(route_parse_text(&r, 0, text, sizeof text - 1, 0) == 0);
  rt = route_find(&r, "a.test");
  CHECK(rt && rt->tls == ROUTE_TLS_VERIFY && !rt->insecureauth);
  rt = route_find(&r, "b.test");
  CHECK(rt && rt->tls == ROUTE_TLS_MAY && rt->insecureauth);
  rt = route_find(&r, "c.test");
  CHECK(rt && rt->tls == ROUTE_TLS_NONE && !rt->user);
  rt = route_find(&r, "d.test");
  CHECK(rt && rt->tls == ROUTE_TLS_REQUIRE && !rt->insecureauth);   /* given: kept, AUTH never sent */
  route_free(&r);
}

/* imc-send's uid from /etc/passwd text (callenv.c) */
static void test_passwd_uid(void)
{
  static const char pw[] =
    "root:x:0:0:root:/root:/bin/bash\n"
    "imcsx:x:998:998::/nonexistent:/usr/sbin/nologin\n"
    "ximcs:x:997:997::/nonexistent:/usr/sbin/nologin\n"
    "imcs:x:996:995::/nonexistent:/usr/sbin/nologin\n"
    "imcr:x:::\n"
    "imcq:x:12a:1::/:/bin/sh";
  unsigned long u = 7;
  CHECK(passwd_uid(pw, sizeof pw - 1, "imcs", 4, &u) == 1 && u == 996);
  CHECK(passwd_uid(pw, sizeof pw - 1, "root", 4, &u) == 1 && u == 0);
  CHECK(passwd_uid(pw, sizeof pw - 1, "imcr", 4, &u) == 0);      /* no uid */
  CHECK(passwd_uid(pw, sizeof pw - 1, "imcq", 4, &u) == 0);      /* not a number */
  CHECK(passwd_uid(pw, sizeof pw - 1, "imc", 3, &u) == 0);
  CHECK(passwd_uid("", 0, "imcs", 4, &u) == 0);
  CHECK(passwd_uid("imcs:x:5:5::/:/bin/sh", 21, "imcs", 4, &u) == 1 && u == 5);   /* no final newline */
}

/* our own addresses (ownaddr.c) and the truncation of a destination */
static void set_target(struct target *t, const char *ip, unsigned port, unsigned pref)
{
  memset(t, 0, sizeof *t);
  CHECK(route_scan_ip(ip, strlen(ip), t->ip));
  t->port = port;
  t->pref = pref;
}

static void test_own(void)
{
  static struct own o;
  static struct dest d;
  char ip[16];
  memset(&o, 0, sizeof o);
  own_add_listen(&o, "127.0.0.1", 9, 2525);
  own_add_listen(&o, "::1", 3, 2525);
  own_add_listen(&o, "not-an-ip", 9, 25);
  CHECK(o.n == 2);
  CHECK(route_scan_ip("127.0.0.1", 9, ip) && own_match(&o, ip, 2525));
  CHECK(!own_match(&o, ip, 25));                     /* another port: another instance */
  CHECK(route_scan_ip("127.0.0.2", 9, ip) && !own_match(&o, ip, 2525));
  CHECK(route_scan_ip("::1", 3, ip) && own_match(&o, ip, 2525));
  own_add_listen(&o, "0.0.0.0", 7, 25);              /* wildcard: loopback and the interfaces */
  memcpy(o.ifs[0], "\0\0\0\0\0\0\0\0\0\0\377\377\300\0\2\7", 16);   /* 192.0.2.7 */
  o.nifs = 1;
  CHECK(route_scan_ip("127.9.9.9", 9, ip) && own_match(&o, ip, 25));
  CHECK(route_scan_ip("192.0.2.7", 9, ip) && own_match(&o, ip, 25) && !own_match(&o, ip, 26));
  CHECK(route_scan_ip("192.0.2.8", 9, ip) && !own_match(&o, ip, 25));
  CHECK(route_scan_ip("::1", 3, ip) && !own_match(&o, ip, 25));       /* 0.0.0.0 is IPv4 only */
  CHECK(route_scan_ip("198.51.100.1", 12, ip));
  own_add(&o, ip, OWN_EXACT, 0);                     /* control/localips: every port */
  CHECK(own_match(&o, ip, 1) && own_match(&o, ip, 65535));
  /* MX 10 other, 20 us, 20 other, 30 other: only the first is left */
  memset(&d, 0, sizeof d);
  set_target(&d.t[0], "192.0.2.9", 25, 10);
  set_target(&d.t[1], "192.0.2.7", 25, 20);
  set_target(&d.t[2], "192.0.2.10", 25, 20);
  set_target(&d.t[3], "192.0.2.11", 25, 30);
  d.n = 4;
  CHECK(own_truncate(&d, &o) == 0 && d.n == 1 && d.t[0].pref == 10);
  CHECK(own_truncate(&d, &o) == 0 && d.n == 1);      /* nothing of ours: unchanged */
  /* we are the best MX: nothing left, a loop */
  set_target(&d.t[0], "127.0.0.5", 25, 5);
  set_target(&d.t[1], "192.0.2.9", 25, 10);
  d.n = 2;
  CHECK(own_truncate(&d, &o) == 1 && d.n == 0);
}

static void test_route_smarthost(void)
{
  static const char text[] = "example.com gw1.example.net\n.example.org gw2.example.net\n";
  static const char smart[] = "smart.example.net:587 tls=require auth=user:pw.txt\n";
  struct routes r;
  const struct route *rt;
  memset(&r, 0, sizeof r);
  CHECK(route_parse_text(&r, 0, text, sizeof text - 1, 0) == 0);
  CHECK(line_of(&r, "other.net") == 0);             /* DNS */
  CHECK_STR(key_of(&r, "Other.NET"), "other.net");
  CHECK_STR(key_of(&r, "[192.0.2.1]"), "[192.0.2.1]");
  CHECK(route_parse_text(&r, 1, smart, sizeof smart - 1, 0) == 0);
  rt = route_find(&r, "other.net");
  CHECK(rt && rt->line == 0 && rt->pattern == 0 && rt->host[0].port == 587 && rt->tls == ROUTE_TLS_REQUIRE);
  CHECK(rt && !strcmp(rt->user, "user") && !strcmp(rt->passfile, "pw.txt") && !rt->insecureauth);
  CHECK(line_of(&r, "example.com") == 1);           /* a route beats the smart host */
  CHECK(line_of(&r, "a.example.org") == 2);
  CHECK(line_of(&r, "[192.0.2.1]") == 1000);
  CHECK_STR(key_of(&r, "other.net"), "smarthost");
  CHECK_STR(key_of(&r, "Example.COM"), "route:1");
  route_free(&r);
}

static void test_route_errors(void)
{
  static const char text[] =
    "example.com gw.example.net:0\n"           /* 1 */
    "a.example.com gw.example.net:65536\n"     /* 2 */
    "b.example.com gw.example.net:x\n"         /* 3 */
    "c.example.com gw.example.net tls=maybe\n" /* 4 */
    "d.example.com gw.example.net auth=user\n" /* 5 */
    "e.example.com gw.example.net fast=yes\n"  /* 6 */
    "-bad-.com gw.example.net\n"               /* 7 */
    "example.com gw2.example.net\n"            /* 8: listed twice? no: line 1 was refused */
    "example.com gw3.example.net\n"            /* 9 */
    "f.example.com\n"                          /* 10 */
    "g.example.com a,,b\n"                     /* 11 */
    "h.example.com [192.0.2.300]\n"            /* 12 */
    "i.example.com [192.0.2.1]x\n"             /* 13 */
    "j.example.com bad_host!\n"                /* 14 */
    "k.example.com h1,h2,h3,h4,h5,h6,h7,h8,h9,h10,h11,h12,h13,h14,h15,h16,h17\n"  /* 15 */
    "l.example.com gw tls=none tls=may\n"      /* 16 */
    "n.example.com gw insecureauth\n"          /* 17 */
    "o.example.com gw auth=u:p insecureauth insecureauth\n"   /* 18 */
    "m.example.com gw.example.net:2525 tls=verify auth=u:p  # fine\n";   /* 19 */
  static const char expect[] =
    "routes:1: bad port\n"
    "routes:2: bad port\n"
    "routes:3: bad port\n"
    "routes:4: bad tls= value (none, may, require, verify)\n"
    "routes:5: auth= needs USER:PASSFILE\n"
    "routes:6: unknown option (tls=, auth=, insecureauth, cost=)\n"
    "routes:7: bad pattern\n"
    "routes:9: pattern listed twice (several lines of one pattern need cost= on each)\n"
    "routes:10: expected PATTERN HOST[:PORT]\n"
    "routes:11: empty host in the list\n"
    "routes:12: bad address literal\n"
    "routes:13: bad address literal\n"
    "routes:14: bad host name\n"
    "routes:15: too many hosts (at most 16)\n"
    "routes:16: tls= given twice\n"
    "routes:17: insecureauth without auth=\n"
    "routes:18: insecureauth given twice\n";
  static const char smart[] = "smart.example.net\nother.example.net\n";
  static const char smartbad[] = "smart.example.net:99999\n";
  struct routes r;
  memset(&r, 0, sizeof r);
  errbuf[0] = 0;
  CHECK(route_parse_text(&r, 0, text, sizeof text - 1, collect) == 17);
  CHECK_STR(errbuf, expect);
  CHECK(r.n == 2 && line_of(&r, "m.example.com") == 19 && line_of(&r, "example.com") == 8);
  errbuf[0] = 0;
  CHECK(route_parse_text(&r, 1, smart, sizeof smart - 1, collect) == 1);
  CHECK_STR(errbuf, "smarthost:2: only one line allowed\n");
  route_free(&r);
  errbuf[0] = 0;
  CHECK(route_parse_text(&r, 1, smartbad, sizeof smartbad - 1, collect) == 1);
  CHECK_STR(errbuf, "smarthost:1: bad port\n");
  CHECK(r.smarthost == 0);
  route_free(&r);
}

/* cost=, /PREF and the lines of one pattern (route_alternatives) */
static void test_route_costs(void)
{
  static const char text[] =
    "a.example h1 cost=10\n"                   /* 1 */
    "a.example h2 cost=10 tls=none\n"          /* 2 */
    "b.example h3/10,h4/10,h5/20\n"            /* 3 */
    "a.example h6 cost=20\n"                   /* 4 */
    "c.example h1 cost=0\n"                    /* 5 */
    "c.example h1 cost=101\n"                  /* 6 */
    "c.example h1 cost=5 cost=6\n"             /* 7 */
    "c.example h1/5,h2\n"                      /* 8 */
    "c.example h1/65536\n"                     /* 9 */
    "b.example h9 cost=1\n"                    /* 10: b.example has a line without cost= */
    "d.example h1\n"                           /* 11 */
    "d.example h2 cost=3\n";                   /* 12 */
  static const char expect[] =
    "routes:5: cost= must be a number from 1 to 100\n"
    "routes:6: cost= must be a number from 1 to 100\n"
    "routes:7: cost= given twice\n"
    "routes:8: give every host a /PREF or none\n"
    "routes:9: bad /PREF (0 to 65535)\n"
    "routes:10: pattern listed twice (several lines of one pattern need cost= on each)\n"
    "routes:12: pattern listed twice (several lines of one pattern need cost= on each)\n";
  const struct route *alt[ROUTE_ALT_MAX], *rt;
  struct routes r;
  memset(&r, 0, sizeof r);
  errbuf[0] = 0;
  CHECK(route_parse_text(&r, 0, text, sizeof text - 1, collect) == 7);
  CHECK_STR(errbuf, expect);
  rt = route_find(&r, "a.example");
  CHECK(rt && rt->line == 1 && rt->cost == 10);
  CHECK(route_alternatives(&r, rt, alt, ROUTE_ALT_MAX) == 3 && alt[1]->line == 2 && alt[2]->line == 4
        && alt[2]->cost == 20 && alt[1]->tls == ROUTE_TLS_NONE);
  CHECK(route_alternatives(&r, rt, alt, 2) == 2);
  rt = route_find(&r, "b.example");
  CHECK(rt && rt->cost == 0 && rt->nhosts == 3 && rt->host[0].pref == 10 && rt->host[1].pref == 10
        && rt->host[2].pref == 20);
  CHECK(route_alternatives(&r, rt, alt, ROUTE_ALT_MAX) == 1 && alt[0] == rt);
  rt = route_find(&r, "d.example");
  CHECK(rt && rt->host[0].pref == 0 && route_alternatives(&r, rt, alt, ROUTE_ALT_MAX) == 1);
  route_free(&r);
  errbuf[0] = 0;
  CHECK(route_parse_text(&r, 1, "smart.example cost=3\n", 21, collect) == 1);
  CHECK_STR(errbuf, "smarthost:1: cost= is for control/routes lines\n");
  route_free(&r);
}

/* dest_find over ways with costs (address literals only, so no DNS; no
   control/addressspace line matches, so DNS is no way): the two cost-10
   lines come first in either order over many runs, the cost-20 line last;
   ranks grow along the list; each target has its own line's tls= */
static void test_dest_ways(void)
{
  static const char text[] =
    "w.example [192.0.2.1]:2525 tls=none cost=10\n"
    "w.example [192.0.2.2]:2525/1,[192.0.2.3]:2525/1 tls=require cost=10\n"
    "w.example [192.0.2.9] cost=20\n";
  struct routes r;
  struct config c;
  static struct dest d;
  static stralloc why;
  int first1 = 0, first2 = 0, first3 = 0, order_ok = 1, i;
  size_t k;
  memset(&r, 0, sizeof r);
  memset(&c, 0, sizeof c);
  CHECK(route_parse_text(&r, 0, text, sizeof text - 1, collect) == 0);
  dest_random_init();
  for (i = 0; i < 200; i++) {
    if (dest_find(&d, "w.example", &r, &c, &why) != 0 || d.n != 4) { order_ok = 0; break; }
    first1 += d.t[0].ip[15] == 1;
    first2 += d.t[0].ip[15] == 2;
    first3 += d.t[0].ip[15] == 3;
    if (d.t[3].ip[15] != 9 || d.t[3].port != 25 || d.t[3].tls != ROUTE_TLS_MAY) order_ok = 0;
    for (k = 0; k < d.n; k++) {
      if (k && d.t[k].pref < d.t[k - 1].pref) order_ok = 0;
      if (d.t[k].ip[15] == 1 && d.t[k].tls != ROUTE_TLS_NONE) order_ok = 0;
      if ((d.t[k].ip[15] == 2 || d.t[k].ip[15] == 3) && d.t[k].tls != ROUTE_TLS_REQUIRE) order_ok = 0;
    }
    dest_select(&d, 0);
    if (d.tls != d.t[0].tls) order_ok = 0;
  }
  CHECK(order_ok);
  CHECK(first1 >= 50 && first2 + first3 >= 50);     /* equal costs: each way first about half the time */
  CHECK(first2 >= 15 && first3 >= 15);              /* equal /PREF inside a way: shared too */
  route_free(&r);
  stralloc_free(&why);
}

static void test_literal(void)
{
  char ip[16];
  static const char v4[16] = { 0,0,0,0,0,0,0,0,0,0,(char)255,(char)255,(char)192,0,2,1 };
  CHECK(route_literal_ip("[192.0.2.1]", 11, ip) && !memcmp(ip, v4, 16));
  CHECK(route_literal_ip("[IPv6:2001:db8::1]", 18, ip) && (unsigned char)ip[0] == 0x20 && ip[15] == 1);
  CHECK(!route_literal_ip("[192.0.2]", 9, ip));
  CHECK(!route_literal_ip("[example.com]", 13, ip));
  CHECK(!route_literal_ip("[IPv6:]", 7, ip));
  CHECK(!route_literal_ip("192.0.2.1", 9, ip));
  CHECK_STR(route_tls_name(ROUTE_TLS_VERIFY), "verify");
}

/* ---- MX */

static unsigned seq[8], nseq;
static unsigned rnd_seq(unsigned n) { return seq[nseq++ % 8] % n; }
static unsigned long lcg = 1;
static unsigned rnd_lcg(unsigned n) { lcg = lcg * 6364136223846793005UL + 1442695040888963407UL; return (unsigned)(lcg >> 33) % n; }

/* a dns_mx answer: "PREF NAME" pairs */
static size_t mk_answer(char *out, const char *const *recs)
{
  size_t o = 0;
  for (; *recs; recs += 2) {
    unsigned p = (unsigned)atoi(recs[0]);
    out[o++] = (char)(p >> 8);
    out[o++] = (char)(p & 255);
    memcpy(out + o, recs[1], strlen(recs[1]) + 1);
    o += strlen(recs[1]) + 1;
  }
  return o;
}

static void test_mx(void)
{
  static const char *const recs[] = { "20", "b.example", "10", "a1.example", "300", "z.example",
                                      "10", "a2.example", 0 };
  static const char *const null1[] = { "0", ".", 0 };
  static const char *const mixed[] = { "0", ".", "10", "mx.example", 0 };
  char ans[4096];
  struct mx list[MX_MAX];
  size_t len = mk_answer(ans, recs);
  int n, nullmx, seen_a2_first = 0, seen_a1_first = 0, i;
  seq[0] = 5; seq[1] = 9; seq[2] = 7; seq[3] = 1; nseq = 0;
  n = mx_parse(ans, len, list, &nullmx, rnd_seq);
  CHECK(n == 4 && !nullmx);
  CHECK(n == 4 && list[0].pref == 10 && list[1].pref == 10 && list[2].pref == 20 && list[3].pref == 300);
  CHECK_STR(list[0].name, "a2.example");            /* tie 1 before tie 5 */
  CHECK_STR(list[1].name, "a1.example");
  CHECK_STR(list[3].name, "z.example");
  for (i = 0; i < 50; i++) {
    n = mx_parse(ans, len, list, &nullmx, rnd_lcg);
    if (!strcmp(list[0].name, "a2.example")) seen_a2_first = 1;
    if (!strcmp(list[0].name, "a1.example")) seen_a1_first = 1;
    CHECK(n == 4 && list[2].pref == 20);
  }
  CHECK(seen_a1_first && seen_a2_first);            /* equal preferences in random order */
  len = mk_answer(ans, null1);
  CHECK(mx_parse(ans, len, list, &nullmx, rnd_lcg) == 0 && nullmx);
  len = mk_answer(ans, mixed);
  CHECK(mx_parse(ans, len, list, &nullmx, rnd_lcg) == 1 && !nullmx);
  CHECK_STR(list[0].name, "mx.example");
  CHECK(mx_parse("\0\012mx", 4, list, &nullmx, rnd_lcg) == -1);   /* name without NUL */
  CHECK(mx_parse("\0", 1, list, &nullmx, rnd_lcg) == -1);
  CHECK(mx_parse("", 0, list, &nullmx, rnd_lcg) == 0 && !nullmx);
}

static void test_mx_many(void)
{
  static char ans[40 * 20];
  struct mx list[MX_MAX];
  size_t o = 0;
  int i, n, nullmx;
  for (i = 0; i < 40; i++) {                        /* preferences 40 down to 1 */
    ans[o++] = 0;
    ans[o++] = (char)(40 - i);
    o += (size_t)(fmt_ulong(ans + o, (unsigned long)i));
    memcpy(ans + o, ".mx", 4);
    o += 4;
  }
  n = mx_parse(ans, o, list, &nullmx, rnd_lcg);
  CHECK(n == MX_MAX);
  CHECK(list[0].pref == 1 && list[MX_MAX - 1].pref == MX_MAX);   /* the best are kept */
  CHECK_STR(list[0].name, "39.mx");
}

/* ---- DATA */

static const char *encode(const char *in, size_t len, size_t chunk)
{
  static char out[4096];
  struct dotstuff d;
  size_t o = 0, i;
  dot_init(&d);
  for (i = 0; i < len; i += chunk)
    o += dot_encode(&d, in + i, len - i < chunk ? len - i : chunk, out + o);
  o += dot_finish(&d, out + o);
  out[o] = 0;
  return out;
}

static unsigned long long scanned(const char *in, size_t len, int *eightbit)
{
  struct msgscan m;
  msgscan_init(&m);
  msgscan_chunk(&m, in, len);
  msgscan_finish(&m);
  *eightbit = m.eightbit;
  return m.size;
}

static void test_dotstuff(void)
{
  static const char *const cases[][2] = {
    { "a\nb\n", "a\r\nb\r\n.\r\n" },
    { ".x\n", "..x\r\n.\r\n" },
    { "..\n.\n", "...\r\n..\r\n.\r\n" },
    { "a\n.\nb", "a\r\n..\r\nb\r\n.\r\n" },
    { "abc", "abc\r\n.\r\n" },
    { "", ".\r\n" },
    { "\n", "\r\n.\r\n" },
    { "a\r\nb\r\n", "a\r\nb\r\n.\r\n" },
    { "a\rb\n", "a\r\nb\r\n.\r\n" },
    { "a\r.b\r", "a\r\n..b\r\n.\r\n" },
    { "x.\n.", "x.\r\n..\r\n.\r\n" },
    { "\r\n\r\n.\r\n", "\r\n\r\n..\r\n.\r\n" },
    { 0, 0 } };
  int i, e8;
  size_t c;
  for (i = 0; cases[i][0]; i++) {
    size_t n = strlen(cases[i][0]), want = strlen(cases[i][1]);
    for (c = 1; c <= n + 1; c++) CHECK_STR(encode(cases[i][0], n, c), cases[i][1]);
    {
      const char *w = cases[i][1];
      size_t dots = 0, k;
      for (k = 0; k + 1 < want; k++) if (w[k] == '.' && (k == 0 || w[k - 1] == '\n')) dots++;
      /* SIZE counts the CR LF form without the doubled dots and the final ".\r\n" */
      CHECK(scanned(cases[i][0], n, &e8) == want - 3 - (dots - 1));
      CHECK(!e8);
    }
  }
  CHECK(scanned("caf\xc3\xa9\n", 6, &e8) == 7 && e8);
  CHECK(scanned("nul\0byte\n", 9, &e8) == 10 && !e8);
}

static void test_b64(void)
{
  static const char *const v[][2] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
    { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" }, { 0, 0 } };
  char out[64];
  int i;
  for (i = 0; v[i][0]; i++) {
    size_t n = base64_encode(out, v[i][0], strlen(v[i][0]));
    out[n] = 0;
    CHECK_STR(out, v[i][1]);
    CHECK(n == B64_LEN(strlen(v[i][0])));
  }
  out[base64_encode(out, "\0user\0pass", 10)] = 0;
  CHECK_STR(out, "AHVzZXIAcGFzcw==");
}

/* ---- job lines */

static void test_rjob(void)
{
  static const char good[] = "3\t120\tnormal\talice@example.com\tb@example.org\tc@example.org";
  struct rjob j;
  size_t pos = 0, len;
  const char *r;
  CHECK(rjob_parse(good, sizeof good - 1, &j) == 2);
  CHECK(!j.err && j.fd == 3 && j.msglen == 120 && j.prio == PRIO_NORMAL);
  CHECK_MEM(j.sender, j.slen, "alice@example.com");
  CHECK(rjob_rcpt_next(&j, &pos, &r, &len) == 1);
  CHECK_MEM(r, len, "b@example.org");
  CHECK(rjob_rcpt_next(&j, &pos, &r, &len) == 1);
  CHECK_MEM(r, len, "c@example.org");
  CHECK(rjob_rcpt_next(&j, &pos, &r, &len) == 0);
  CHECK(rjob_parse("4\t0\turgent\t\tx@y", 15, &j) == 1 && !j.err && j.slen == 0 && j.prio == PRIO_URGENT);
  CHECK(rjob_parse("", 0, &j) == 0);
  CHECK(rjob_parse("x\t1\tnormal\ts@x\ta@b\tc@d", 22, &j) == 2 && j.err);
  CHECK(rjob_parse("3\t1\tsoon\ts@x\ta@b", 16, &j) == 1 && j.err);
  CHECK(rjob_parse("3\t-1\tnormal\ts@x\ta@b", 18, &j) == 1 && j.err);
  CHECK(rjob_parse("3\t1\tnormal\ts@x", 14, &j) == 1 && j.err);
  CHECK(rjob_parse("garbage", 7, &j) == 1 && j.err);
  CHECK(rjob_parse("3\t1\tnonurgent\ts@x\t", 18, &j) == 1 && !j.err && j.prio == PRIO_NONURGENT);
  CHECK(rjob_parse("3\t1\tnormal\ts x@y\ta@b", 19, &j) == 1 && j.err);   /* bad sender */
  CHECK(!j.idlen && !j.id);                                                 /* FD without :ID */
  CHECK(rjob_parse("5:6b0a42108275300043b\t1\tnormal\ts@x\ta@b", 38, &j) == 1 && !j.err && j.fd == 5);
  CHECK_MEM(j.id, j.idlen, "6b0a42108275300043b");
  CHECK(rjob_parse("5:\t1\tnormal\ts@x\ta@b", 19, &j) == 1 && j.err && !j.idlen);    /* empty id */
  CHECK(rjob_parse("5:a-b\t1\tnormal\ts@x\ta@b", 22, &j) == 1 && j.err && !j.idlen); /* not letters and digits */
  /* PRIORITY options: smtputf8 (RFC 6531) noted, an unknown one ignored */
  CHECK(rjob_parse("3\t1\tnormal,smtputf8\ts@x\ta@b", 24, &j) == 1 && !j.err && j.smtputf8 && j.prio == PRIO_NORMAL);
  CHECK(rjob_parse("3\t1\turgent,x,smtputf8\ts@x\ta@b", 26, &j) == 1 && !j.err && j.smtputf8 && j.prio == PRIO_URGENT);
  CHECK(rjob_parse("3\t1\tnormal,other\ts@x\ta@b", 21, &j) == 1 && !j.err && !j.smtputf8);
  CHECK(rjob_parse("3\t1\t,smtputf8\ts@x\ta@b", 18, &j) == 1 && j.err);
  CHECK(rjob_parse("3\t1\tnormal\t\xc3\xa9@x\t\xe4\xbe\x8b@b", 21, &j) == 1 && !j.err && !j.smtputf8);
  CHECK(rjob_addr_ok("a@b", 3));
  CHECK(rjob_addr_ok("\"a b\"@c", 7));
  CHECK(!rjob_addr_ok("a b@c", 5));
  CHECK(!rjob_addr_ok("a>@c", 4));
  CHECK(!rjob_addr_ok("a\r@c", 4));
  CHECK(!rjob_addr_ok("", 0));
}

int main(void)
{
  test_reply_basic();
  test_reply_malformed();
  test_reply_bounded();
  test_ehlo();
  test_route_find();
  test_route_smarthost();
  test_route_insecureauth();
  test_passwd_uid();
  test_own();
  test_route_errors();
  test_route_costs();
  test_dest_ways();
  test_literal();
  test_mx();
  test_mx_many();
  test_dotstuff();
  test_b64();
  test_rjob();
  return check_done("t_remote");
}
