/*
 * t_smtp.c -- imc-smtpd's parsers and policies: command lines, MAIL/RCPT
 * paths and parameters, the DATA state machine (end, dot-unstuffing, bare
 * CR/LF, long lines, size), base64 and AUTH PLAIN/LOGIN decoding with the
 * crypt(3) check, the new control files (addressspace, filter,
 * senders.allow/deny, auth, greetdelay) and the recipient, sender and ETRN
 * policies.  Control files live in a temporary IMC_HOME.
 */
#include <crypt.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"
#include "fixture.h"
#include "base64.h"
#include "config.h"
#include "control.h"
#include "diag.h"
#include "directory.h"
#include "log.h"
#include "sio.h"
#include "../../smtpd/smtp_auth.h"
#include "../../smtpd/smtp_cmd.h"
#include "../../smtpd/smtp_data.h"
#include "../../smtpd/smtp_policy.h"
#include "../../remote/rjob.h"
#include "addr.h"
#include "utf8.h"
#include "idna.h"

/* ---- command lines */

static void test_cmd(void)
{
  struct smtp_cmd c;
  CHECK(smtp_cmd_parse("ehlo client.example", 19, &c) == 0 && c.verb == V_EHLO);
  CHECK_MEM(c.arg, c.arglen, "client.example");
  CHECK(smtp_cmd_parse("QUIT", 4, &c) == 0 && c.verb == V_QUIT && c.arglen == 0);
  CHECK(smtp_cmd_parse("quit   ", 7, &c) == 0 && c.verb == V_QUIT && c.arglen == 0);
  CHECK(smtp_cmd_parse("StartTLS", 8, &c) == 0 && c.verb == V_STARTTLS);
  CHECK(smtp_cmd_parse("NOOPX", 5, &c) == 0 && c.verb == V_UNKNOWN);
  CHECK(smtp_cmd_parse("", 0, &c) == 0 && c.verb == V_UNKNOWN);
  CHECK(smtp_cmd_parse("MAIL  FROM:<a@b.c>  ", 20, &c) == 0 && c.verb == V_MAIL);
  CHECK_MEM(c.arg, c.arglen, "FROM:<a@b.c>");
  CHECK_STR(smtp_cmd_parse("NO\0OP", 5, &c), "500 5.5.2 NUL byte in command");
  CHECK_STR(smtp_cmd_parse("NOOP\r", 5, &c), "500 5.5.2 control character in command");
  CHECK_STR(smtp_verb_name(V_ETRN), "ETRN");
  CHECK(smtp_helo_valid("mx.example", 10));
  CHECK(smtp_helo_valid("[192.0.2.1]", 11));
  CHECK(!smtp_helo_valid("", 0));
  CHECK(!smtp_helo_valid("a b", 3));
  CHECK(!smtp_helo_valid("a\x80", 2));
}

static const char *path(const char *arg, int mail, struct smtp_path *p)
{
  return smtp_path_parse(arg, strlen(arg), mail, p);
}

static void test_paths(void)
{
  struct smtp_path p;
  CHECK(path("FROM:<Alice@Example.COM>", 1, &p) == 0);
  CHECK_STR(p.addr, "Alice@example.com");
  CHECK(p.at == 5 && p.len == 17 && !p.route && !p.quoted && !p.has_size);
  CHECK(path("from: <>", 1, &p) == 0 && p.len == 0 && p.addr[0] == 0);
  CHECK_STR(path("TO:<>", 0, &p), "501 5.1.3 bad recipient address syntax");
  CHECK(path("TO:<@relay.example,@b.example:bob@example.com>", 0, &p) == 0 && p.route);
  CHECK_STR(p.addr, "bob@example.com");
  CHECK(path("TO:<\"bob\"@example.com>", 0, &p) == 0 && !p.quoted);
  CHECK_STR(p.addr, "bob@example.com");
  CHECK(path("TO:<\"b o\\\"b\"@example.com>", 0, &p) == 0 && p.quoted);
  CHECK_STR(p.addr, "\"b o\\\"b\"@example.com");
  CHECK(path("TO:<\"x@y\"@example.com>", 0, &p) == 0 && p.quoted && p.at == 5);
  CHECK(path("TO:<bob@example.com.>", 0, &p) == 0 && p.trailing_dot);
  CHECK_STR(p.addr, "bob@example.com");
  CHECK(path("TO:<bob@[192.0.2.1]>", 0, &p) == 0 && p.literal);
  CHECK(path("TO:<Postmaster>", 0, &p) == 0 && p.at == p.len && p.len == 10);
  CHECK_STR(path("TO:<bob>", 0, &p), "501 5.1.3 bad recipient address syntax");
  CHECK_STR(path("FROM:<postmaster>", 1, &p), "501 5.1.7 bad sender address syntax");
  CHECK_STR(path("FROM:a@b.c", 1, &p), "501 5.1.7 bad sender address syntax");
  CHECK_STR(path("FROM:<a@b.c", 1, &p), "501 5.1.7 bad sender address syntax");
  CHECK_STR(path("FROM:<a..b@b.c>", 1, &p), "501 5.1.7 bad sender address syntax");
  CHECK_STR(path("FROM:<a@b..c>", 1, &p), "501 5.1.7 bad sender address syntax");
  CHECK_STR(path("FROM:<a@-b.c>", 1, &p), "501 5.1.7 bad sender address syntax");
  /* UTF-8 (RFC 6531): parsed and flagged, SMTPUTF8 or not (the caller says 553 5.6.7);
     ill-formed UTF-8 and C1 controls are syntax errors */
  CHECK(path("FROM:<\xc3\xa9@b.c>", 1, &p) == 0 && p.utf8 && !p.smtputf8);
  CHECK(path("FROM:<a@b.c>", 1, &p) == 0 && !p.utf8);
  CHECK(path("TO:<J\xc3\xb6rg@B\xc3\xbc" "cher.Example>", 0, &p) == 0 && p.utf8);
  CHECK_STR(p.addr, "J\xc3\xb6rg@b\xc3\xbc" "cher.example");             /* ASCII lower-cased only */
  CHECK(path("TO:<\"\xe7\x94\xa8 \xe6\x88\xb7\"@b.c>", 0, &p) == 0 && p.utf8 && p.quoted);
  CHECK(path("TO:<\xf0\x9f\x98\x80@\xe4\xbe\x8b.example>", 0, &p) == 0 && p.utf8);
  CHECK_STR(path("FROM:<\xe9@b.c>", 1, &p), "501 5.1.7 bad sender address syntax");          /* Latin-1 */
  CHECK_STR(path("FROM:<\xc0\xaf@b.c>", 1, &p), "501 5.1.7 bad sender address syntax");      /* overlong */
  CHECK_STR(path("FROM:<\xed\xa0\x80@b.c>", 1, &p), "501 5.1.7 bad sender address syntax");  /* surrogate */
  CHECK_STR(path("FROM:<\xc2\x85@b.c>", 1, &p), "501 5.1.7 bad sender address syntax");      /* C1 NEL */
  CHECK_STR(path("TO:<a@\xc3.example>", 0, &p), "501 5.1.3 bad recipient address syntax");    /* cut short */
  CHECK_STR(path("TO:<a@b\xf4\x90\x80\x80.example>", 0, &p), "501 5.1.3 bad recipient address syntax"); /* > U+10FFFF */
  CHECK_STR(path("FROM:<\"unterminated@b.c>", 1, &p), "501 5.1.7 bad sender address syntax");
  CHECK_STR(path("TO <a@b.c>", 0, &p), "501 5.5.4 syntax: RCPT TO:<address>");
  CHECK_STR(path("", 1, &p), "501 5.5.4 syntax: MAIL FROM:<address>");
  CHECK_STR(path("FROM:<a@b.c>x", 1, &p), "501 5.5.4 syntax error after the address");
}

static void test_long_paths(void)
{
  struct smtp_path p;
  char buf[1200];
  memset(buf, 'a', sizeof buf);
  memcpy(buf, "TO:<", 4);
  memcpy(buf + 4 + 64, "@example.com>", 14);
  CHECK(path(buf, 0, &p) == 0 && p.len == 64 + 12);
  memcpy(buf + 4 + 65, "@example.com>", 14);
  CHECK(path(buf, 0, &p) != 0);                           /* local part of 65 */
  memset(buf, 'a', sizeof buf);
  memcpy(buf, "TO:<b@", 6);
  buf[sizeof buf - 2] = '>';
  buf[sizeof buf - 1] = 0;
  CHECK(path(buf, 0, &p) != 0);                           /* domain far too long */
  memset(buf, '"', sizeof buf);                           /* quotes and escapes: bounded */
  memcpy(buf, "TO:<", 4);
  buf[sizeof buf - 1] = 0;
  CHECK(path(buf, 0, &p) != 0);
}

/* lib/utf8.c: what log and tracking lines are made of */
static void test_utf8(void)
{
  char out[16];
  unsigned long cp;
  CHECK(utf8_char("\xe2\x82\xac", 3, &cp) == 3 && cp == 0x20ac);
  CHECK(utf8_char("\xf0\x9f\x98\x80", 4, &cp) == 4 && cp == 0x1f600);
  CHECK(utf8_char("\xe2\x82", 2, &cp) == 0);
  CHECK(utf8_char("\xe0\x80\x80", 3, &cp) == 0);                    /* overlong */
  CHECK(utf8_printable("\xc3\xa9t\xc3\xa9", 5) && !utf8_printable("a\tb", 3) && !utf8_printable("\xc2\x9b", 2));
  CHECK_MEM(out, utf8_clean(out, sizeof out, "a\x1b[1m\xc2\x9b\xe9\xc3\xa9", 10, '?'), "a?[1m??\xc3\xa9");
  CHECK_MEM(out, utf8_clean(out, 4, "abc\xc3\xa9", 5, '?'), "abc");  /* never half a character */
  CHECK_MEM(out, utf8_clean(out, sizeof out, "x\x7fy\n", 4, ' '), "x y ");
  CHECK(utf8_wellformed("a\tb\r\n\xc3\xa9", 7) && !utf8_wellformed("caf\xe9", 4));
  /* lib/addr.c: UTF-8 aliases, domains and addresses (RFC 6531) */
  CHECK(mailbox_name_valid("j\xc3\xb6rg", 5) && !mailbox_name_valid("j\xf6rg", 4));
  CHECK(!mailbox_name_valid("a\xc2\x85", 3) && !mailbox_name_valid("a/\xc3\xb6", 4));
  CHECK(domain_utf8_valid("b\xc3\xbc" "cher.example", 14) && !domain_valid("b\xc3\xbc" "cher.example", 14));
  CHECK(!domain_utf8_valid("b\xfc" "cher.example", 13) && !domain_utf8_valid("\xc3\xbc-.example", 11));
  CHECK(addr_valid("\xe7\x94\xa8@\xe4\xbe\x8b.example", 15) && !addr_valid("\xe7\x94@b.example", 12));
}

/* lib/idna.c against Python's punycode codec (RFC 3492), label by label */
static void test_idna(void)
{
  char out[256];
  static const char *const vec[][2] = {   /* UTF-8 source text: U-labels as written */
    { "bücher.example", "xn--bcher-kva.example" },
    { "例子.test", "xn--fsqu00a.test" },
    { "münchen.de", "xn--mnchen-3ya.de" },
    { "ελληνικά.gr", "xn--hxargifdar.gr" },
    { "mail.xn--ok.test", "mail.xn--ok.test" },
    { "日本語.jp", "xn--wgv71a119e.jp" },
    { "Ⅸ-ß-ç.example", "xn-----gia7a7875a.example" },
    { "😀.example", "xn--e28h.example" },
    { "a.ü.b", "a.xn--tda.b" },
    { "правительство.рф", "xn--80aealotwbjpid2k.xn--p1ai" },
  };
  size_t i;
  for (i = 0; i < sizeof vec / sizeof vec[0]; i++) {
    CHECK(idna_to_ascii(vec[i][0], strlen(vec[i][0]), out, sizeof out) == (long)strlen(vec[i][1]));
    CHECK_STR(out, vec[i][1]);
  }
  CHECK(idna_to_ascii("a..b", 4, out, sizeof out) == -1);                 /* an empty label */
  CHECK(idna_to_ascii("\xc3.b", 3, out, sizeof out) == -1);              /* not UTF-8 */
  CHECK(idna_to_ascii("b\xc3\xbc" "cher.example", 14, out, 12) == -1);    /* no room */
  {
    char big[64 * 3];
    for (i = 0; i < 21; i++) memcpy(big + 3 * i, "\xe4\xbe\x8b", 3);  /* 21 times U+4F8B */
    CHECK(idna_to_ascii(big, 63, out, sizeof out) == 27);
    CHECK_STR(out, "xn--fsqaaaaaaaaaaaaaaaaaaaa");
    memset(big, 'a', 58);
    memcpy(big + 58, "\xc3\xbc", 2);                                     /* 58 a, then u-umlaut: 66 */
    CHECK(idna_to_ascii(big, 60, out, sizeof out) == -1);
    CHECK(idna_to_ascii(big + 3, 57, out, sizeof out) == 63);                /* 55 a: 63, the most */
    CHECK_STR(out + 59, "-8yf");
    for (i = 0; i < 64; i++) big[i] = 'a';
    CHECK(idna_to_ascii(big, 64, out, sizeof out) == -1);                /* a 64-octet label */
  }
}

static void test_params(void)
{
  struct smtp_path p;
  CHECK(path("FROM:<a@b.c> SIZE=12345 BODY=8BITMIME", 1, &p) == 0);
  CHECK(p.has_size && p.size == 12345 && p.body == BODY_8BITMIME);
  CHECK(path("FROM:<a@b.c>  body=7bit  AUTH=<>", 1, &p) == 0 && p.body == BODY_7BIT && !p.has_size);
  CHECK(path("FROM:<a@b.c> SIZE=99999999999999999999999999", 1, &p) == 0 && p.size == (unsigned long)-1);
  CHECK_STR(path("FROM:<a@b.c> SIZE=12x", 1, &p), "501 5.5.4 bad SIZE parameter");
  CHECK_STR(path("FROM:<a@b.c> SIZE", 1, &p), "501 5.5.4 bad SIZE parameter");
  CHECK_STR(path("FROM:<a@b.c> BODY=BINARYMIME", 1, &p), "501 5.5.4 bad BODY parameter (7BIT or 8BITMIME)");
  CHECK_STR(path("TO:<a@b.c> XFOO=1", 0, &p), "555 5.5.4 unsupported parameter");
  /* DSN (RFC 3461): kept packed, checked strictly */
  CHECK(path("TO:<a@b.c> orcpt=rfc822;A+2Bb@c.d notify=delay,failure", 0, &p) == 0);
  CHECK_STR(p.dsn, "NOTIFY=FAILURE,DELAY ORCPT=rfc822;A+2Bb@c.d");
  CHECK(path("FROM:<a@b.c> SIZE=10 ENVID=QQ+2B1 RET=hdrs", 1, &p) == 0 && p.has_size);
  CHECK_STR(p.dsn, "RET=HDRS ENVID=QQ+2B1");
  CHECK(path("FROM:<a@b.c> SIZE=10", 1, &p) == 0 && p.dsnlen == 0 && p.dsn[0] == 0);
  CHECK_STR(path("TO:<a@b.c> NOTIFY=NEVER,DELAY", 0, &p), "501 5.5.4 bad NOTIFY parameter (NEVER, or SUCCESS, FAILURE, DELAY separated by commas)");
  CHECK_STR(path("FROM:<a@b.c> NOTIFY=NEVER", 1, &p), "555 5.5.4 NOTIFY and ORCPT belong to RCPT TO");
  CHECK(path("FROM:<a@b.c> SMTPUTF8", 1, &p) == 0 && p.smtputf8 && !p.utf8);
  CHECK(path("FROM:<\xc3\xa9@b.c> smtputf8 BODY=8BITMIME", 1, &p) == 0 && p.smtputf8 && p.utf8);
  CHECK_STR(path("FROM:<a@b.c> SMTPUTF8=yes", 1, &p), "501 5.5.4 SMTPUTF8 takes no value");
  CHECK_STR(path("TO:<a@b.c> SMTPUTF8", 0, &p), "555 5.5.4 unsupported parameter");
}

static void test_etrn(void)
{
  char dom[256];
  CHECK(smtp_etrn_parse("Remote.Example", 14, dom) == 0);
  CHECK_STR(dom, "remote.example");
  CHECK(smtp_etrn_parse("@remote.example.", 16, dom) == 0);
  CHECK_STR(dom, "remote.example");
  CHECK_STR(smtp_etrn_parse("#queue", 6, dom), "458 4.5.4 queue names are not supported: give a domain");
  CHECK_STR(smtp_etrn_parse("", 0, dom), "501 5.5.4 syntax: ETRN domain");
  CHECK_STR(smtp_etrn_parse("bad..domain", 11, dom), "501 5.5.4 syntax: ETRN domain");
}

/* ---- DATA */

/* feeds in pieces of `step` bytes; returns the stored text in out */
static size_t data_run(struct smtp_data *d, const char *in, size_t len, size_t step, char *out, size_t *consumed)
{
  size_t pos = 0, total = 0;
  while (pos < len && !d->done) {
    size_t n = len - pos < step ? len - pos : step, olen;
    size_t used = smtp_data_feed(d, in + pos, n, out + total, &olen);
    total += olen;
    pos += used;
  }
  *consumed = pos;
  out[total] = 0;
  return total;
}

static void check_data(const char *in, size_t max, const char *want, int errors, size_t want_used)
{
  size_t step, len = strlen(in);
  for (step = 1; step <= len; step = step < 4 ? step + 1 : step * 3) {
    struct smtp_data d;
    char out[4096];
    size_t used, n;
    smtp_data_init(&d, max, 0);
    n = data_run(&d, in, len, step, out, &used);
    CHECK(d.errors == errors);
    if (want) { CHECK(d.done); CHECK_MEM(out, n, want); CHECK(d.bytes == strlen(want)); }
    CHECK(used == want_used);
  }
}

static void test_data(void)
{
  const char *m = "Subject: x\r\n\r\nbody\r\n..dot\r\n.x\r\n.\r\nQUIT\r\n";
  check_data(m, 0, "Subject: x\n\nbody\n.dot\nx\n", 0, strlen(m) - 6);
  check_data(".\r\n", 0, "", 0, 3);
  check_data("a\r\n.\r\n", 0, "a\n", 0, 6);
  /* a bare CR or LF stops the machine at once (done, DATA_BARE): the byte after a
     bare LF, or after the byte that shows a CR bare, is never consumed */
  check_data("a\n.\r\n", 0, 0, DATA_BARE, 2);                 /* bare LF */
  check_data("\n.\r\n", 0, 0, DATA_BARE, 1);                  /* at the very start */
  check_data("a\rb\r\n.\r\n", 0, 0, DATA_BARE, 3);            /* bare CR */
  check_data("a\r\n.\n.\r\n", 0, 0, DATA_BARE, 5);            /* ".\n" does not end it */
  check_data("a\n.\n\r\n.\r\n", 0, 0, DATA_BARE, 2);
  check_data("a\r\n.\r.\r\n", 0, 0, DATA_BARE, 6);            /* ".\r." is not the end either */
  check_data("a\r\r\n.\r\n", 0, 0, DATA_BARE, 3);
  check_data("a\r\n\r.\r\n", 0, 0, DATA_BARE, 5);             /* CR "." at the start of a line */
  check_data("12345\r\n.\r\n", 6, "12345\n", 0, 10);          /* exactly the limit */
  check_data("123456\r\n.\r\n", 6, 0, DATA_TOOBIG, 11);
}

/* BDAT: the chunks of in, split at each '|', fed in pieces of every size; last: BDAT LAST */
static void check_chunks(const char *in, size_t max, const char *want, int errors)
{
  size_t step;
  for (step = 1; step <= 8; step++) {
    struct smtp_data d;
    char out[4096], chunk[4096];
    size_t n = 0, used, olen;
    const char *p = in;
    smtp_data_init_chunks(&d, max, 0);
    for (;;) {
      size_t k = strcspn(p, "|");
      memcpy(chunk, p, k);
      n += data_run(&d, chunk, k, step, out + n, &used);
      if (!p[k] || d.done) break;
      p += k + 1;
    }
    smtp_data_last(&d, out + n, &olen);
    n += olen;
    CHECK(d.errors == errors && d.done);
    if (want) { CHECK_MEM(out, n, want); CHECK(d.bytes == strlen(want)); }
  }
}

static void test_bdat(void)
{
  struct smtp_cmd c;
  unsigned long long size;
  int last;
  CHECK(smtp_cmd_parse("bdat 10 last", 12, &c) == 0 && c.verb == V_BDAT);
  CHECK(smtp_bdat_parse("0", 1, &size, &last) == 0 && size == 0 && !last);
  CHECK(smtp_bdat_parse("123 LAST", 8, &size, &last) == 0 && size == 123 && last);
  CHECK(smtp_bdat_parse("123 last", 8, &size, &last) == 0 && last);
  CHECK(smtp_bdat_parse("999999999999999999", 18, &size, &last) == 0 && size == 999999999999999999ULL);
  CHECK_STR(smtp_bdat_parse("1000000000000000000", 19, &size, &last), "501 5.5.4 BDAT chunk size too large");
  CHECK_STR(smtp_bdat_parse("", 0, &size, &last), "501 5.5.4 syntax: BDAT chunk-size [LAST]");
  CHECK_STR(smtp_bdat_parse("12x", 3, &size, &last), "501 5.5.4 syntax: BDAT chunk-size [LAST]");
  CHECK_STR(smtp_bdat_parse("12  LAST", 8, &size, &last), "501 5.5.4 syntax: BDAT chunk-size [LAST]");
  CHECK_STR(smtp_bdat_parse("12 LASTX", 8, &size, &last), "501 5.5.4 syntax: BDAT chunk-size [LAST]");
  CHECK_STR(smtp_bdat_parse("+1", 2, &size, &last), "501 5.5.4 syntax: BDAT chunk-size [LAST]");
  check_chunks("a\r\n.\r\n..b\r\n", 0, "a\n.\n..b\n", 0);       /* no dot stuffing, no end */
  check_chunks("a\r|\nb\r\n", 0, "a\nb\n", 0);                   /* CR LF split */
  check_chunks("a\r\n||b\r\n|", 0, "a\nb\n", 0);                 /* empty chunks */
  check_chunks("a\r\nno end", 0, "a\nno end\n", 0);               /* the last LF added */
  check_chunks("", 0, "", 0);                                        /* an empty message */
  check_chunks("a\nb\r\n", 0, 0, DATA_BARE);
  check_chunks("a\rb\r\n", 0, 0, DATA_BARE);
  check_chunks("a\r|b\r\n", 0, 0, DATA_BARE);                      /* bare across chunks */
  check_chunks("a\r\nb\r", 0, 0, DATA_BARE);                       /* CR at the very end */
  check_chunks("12345\r\n", 6, "12345\n", 0);
  check_chunks("12345\r|\n", 6, "12345\n", 0);
  check_chunks("12345\r|\n6", 6, 0, DATA_TOOBIG);
  check_chunks("123456", 6, 0, DATA_TOOBIG);                        /* the added LF counts too */
}

static void test_data_lines(void)
{
  char buf[3000];
  struct smtp_data d;
  char out[3000];
  size_t used, n;
  memset(buf, 'x', 998);
  strcpy(buf + 998, "\r\n.\r\n");                             /* 1000 octets with CR LF: fine */
  smtp_data_init(&d, 0, 0);
  n = data_run(&d, buf, strlen(buf), 7, out, &used);
  CHECK(d.done && !d.errors && n == 999);
  memset(buf, 'x', 999);
  strcpy(buf + 999, "\r\n.\r\n");                             /* 1001: too long */
  smtp_data_init(&d, 0, 0);
  data_run(&d, buf, strlen(buf), 100, out, &used);
  CHECK(d.done && d.errors == DATA_LONGLINE);
  memset(buf, 'x', 1200);                                     /* a long line ends only at CR LF */
  strcpy(buf + 1200, "\r\nmore\r\n.\r\nQUIT\r\n");
  smtp_data_init(&d, 0, 0);
  data_run(&d, buf, strlen(buf), 1, out, &used);
  CHECK(d.done && d.errors == DATA_LONGLINE && used == 1200 + 11);
  smtp_data_init(&d, 0, 0);
  data_run(&d, buf, strlen(buf), sizeof buf, out, &used);
  CHECK(d.done && d.errors == DATA_LONGLINE && used == 1200 + 11);
  CHECK_STR(smtp_data_reply(&d), "500 5.5.2 line too long in the message text (the limit is 1000 octets)");
  smtp_data_init(&d, 10, 11);                                 /* the Received line alone is too big */
  CHECK(d.errors == DATA_TOOBIG);
  CHECK_STR(smtp_data_reply(&d), "552 5.3.4 message too big");
  d.errors = DATA_BARE | DATA_TOOBIG;
  CHECK_STR(smtp_data_reply(&d), "550 5.6.11 bare CR or LF in the message text is not allowed");
  d.errors = 0;
  CHECK(smtp_data_reply(&d) == 0);
}

/* ---- SMTP smuggling: every look-alike of the end of data, each with a whole
   second transaction behind it, fed in one buffer and byte by byte, also after a
   1,200-octet line.  The machine must stop at the bare CR or LF (done, DATA_BARE)
   having consumed at most the byte that showed it: the session then closes, so
   nothing of the second transaction is ever read as a command. */

static const struct { const char *seq; size_t stop; } lookalikes[] = {
  /* stop: octets of seq (and what follows) consumed when the machine stops */
  { "\n.\n", 1 }, { "\r.\r", 2 }, { "\r\n.\n", 4 }, { "\n.\r\n", 1 },
  { "\r.\n", 2 }, { "\r.\r\n", 2 }, { "\r\n.\r", 5 }, { 0, 0 }
};
static const char forged[] = "MAIL FROM:<ceo@bank.test>\r\nRCPT TO:<alice@site.test>\r\n"
                             "DATA\r\nSubject: forged\r\n\r\nforged\r\n.\r\nQUIT\r\n";

static void check_smuggle(const char *head, size_t headlen, int i, int more_errors)
{
  static char in[4096], out[4096];
  size_t len, step, used;
  memcpy(in, head, headlen);
  strcpy(in + headlen, lookalikes[i].seq);
  strcat(in + headlen, forged);
  len = strlen(in);
  for (step = 1; step <= len; step = step == 1 ? len : len + 1) {
    struct smtp_data d;
    smtp_data_init(&d, 0, 0);
    data_run(&d, in, len, step, out, &used);
    CHECK(d.done && d.errors == (DATA_BARE | more_errors));
    CHECK(used == headlen + lookalikes[i].stop);
    if (used != headlen + lookalikes[i].stop)
      printf("  sequence %d after %zu octets, step %zu: consumed %zu\n", i, headlen, step, used);
    CHECK(!strstr(out, "forged") && !strstr(out, "MAIL"));
    CHECK_STR(smtp_data_reply(&d), "550 5.6.11 bare CR or LF in the message text is not allowed");
  }
}

/* command lines as sio_getline hands them out: a bare LF at the end (crlf 0) or a CR
   anywhere in the line is bare */
static void test_line_bare(void)
{
  CHECK(smtp_line_bare("EHLO x", 6, 1) == 0);
  CHECK(smtp_line_bare("", 0, 1) == 0);
  CHECK(smtp_line_bare("EHLO x", 6, 0) == 1);                 /* "EHLO x\n" */
  CHECK(smtp_line_bare("MAIL FROM:<a@b>", 15, 0) == 1);       /* "MAIL FROM:<a@b>\n" */
  CHECK(smtp_line_bare("", 0, 0) == 1);                       /* "\n" */
  CHECK(smtp_line_bare("NOOP\rQUIT", 9, 1) == 1);             /* bare CR inside */
  CHECK(smtp_line_bare("NOOP\r", 5, 1) == 1);                 /* "NOOP\r\r\n" */
  CHECK(smtp_line_bare("NOOP\r", 5, 0) == 1);
}

static void test_smuggle(void)
{
  static char head[1300];
  size_t n;
  int i;
  strcpy(head, "Subject: smuggle\r\n\r\ntext");
  n = strlen(head);
  for (i = 0; lookalikes[i].seq; i++) check_smuggle(head, n, i, 0);
  memset(head + n, 'y', 1200);                               /* the sequence after an overlong line */
  for (i = 0; lookalikes[i].seq; i++) check_smuggle(head, n + 1200, i, DATA_LONGLINE);
}

/* ---- AUTH */

static void test_base64(void)
{
  char out[64], enc[64];
  size_t n;
  CHECK(base64_decode("AGFsaWNlAHNlY3JldA==", 20, out, sizeof out, &n) == 0);
  CHECK(n == 13 && !memcmp(out, "\0alice\0secret", 13));
  CHECK(base64_decode("YQ==", 4, out, sizeof out, &n) == 0 && n == 1 && out[0] == 'a');
  CHECK(base64_decode("YWI=", 4, out, sizeof out, &n) == 0 && n == 2);
  CHECK(base64_decode("YWJj", 4, out, sizeof out, &n) == 0 && n == 3);
  CHECK(base64_decode("", 0, out, sizeof out, &n) == 0 && n == 0);
  CHECK(base64_decode("YWJ", 3, out, sizeof out, &n) < 0);
  CHECK(base64_decode("Y=Jj", 4, out, sizeof out, &n) < 0);
  CHECK(base64_decode("YQ==YWJj", 8, out, sizeof out, &n) < 0);
  CHECK(base64_decode("YW J", 4, out, sizeof out, &n) < 0);
  CHECK(base64_decode("YWJjYWJj", 8, out, 5, &n) < 0);          /* over the cap */
  CHECK(base64_decode("Y===", 4, out, sizeof out, &n) < 0);      /* no octet at all */
  CHECK(base64_decode("YR==", 4, out, sizeof out, &n) < 0);      /* not canonical: stray bits */
  CHECK(base64_decode("YQ=A", 4, out, sizeof out, &n) < 0);
  CHECK(base64_decode("YQ==YQ==", 8, out, sizeof out, &n) < 0);  /* padding before the end */
  CHECK(base64_decode("YWJjYWJj", 8, out, 6, &n) == 0 && n == 6); /* exactly the cap */
  n = base64_encode(enc, "\0alice\0secret", 13);
  CHECK_MEM(enc, n, "AGFsaWNlAHNlY3JldA==");
  n = base64_encode(enc, "ab", 2);
  CHECK_MEM(enc, n, "YWI=");
}

static void test_plain(void)
{
  const char *u, *p;
  size_t ul, pl;
  CHECK(auth_plain_split("\0alice\0secret", 13, &u, &ul, &p, &pl) == 0);
  CHECK_MEM(u, ul, "alice");
  CHECK_MEM(p, pl, "secret");
  CHECK(auth_plain_split("alice\0alice\0pw", 14, &u, &ul, &p, &pl) == 0);
  CHECK(auth_plain_split("bob\0alice\0pw", 12, &u, &ul, &p, &pl) < 0);   /* acting as another */
  CHECK(auth_plain_split("\0alice\0", 7, &u, &ul, &p, &pl) < 0);
  CHECK(auth_plain_split("\0\0pw", 4, &u, &ul, &p, &pl) < 0);
  CHECK(auth_plain_split("alice", 5, &u, &ul, &p, &pl) < 0);
  CHECK(auth_plain_split("\0alice\0pw\0x", 11, &u, &ul, &p, &pl) < 0);
}

/* crypt_rn, not crypt: the sanitizers intercept crypt(), which breaks with a static libcrypt */
static void hash(const char *pw, const char *setting, char *out, size_t cap)
{
  static struct crypt_data cd;
  const char *h = crypt_rn(pw, setting, &cd, sizeof cd);
  snprintf(out, cap, "%s", h ? h : "*");
}

static void test_auth_check(void)
{
  struct config c;
  char text[1024], h6[256], hy[256], salt[CRYPT_GENSALT_OUTPUT_SIZE];
  hash("secret", "$6$saltsaltsalt", h6, sizeof h6);
  CHECK(h6[0] == '$');
  CHECK(crypt_gensalt_rn("$y$", 0, "0123456789abcdef", 16, salt, sizeof salt) != 0);
  hash("other", salt, hy, sizeof hy);
  CHECK(hy[0] == '$');
  snprintf(text, sizeof text, "# users\nAlice:%s\nbob@example.com:%s\n", h6, hy);
  put("auth", text);
  errs[0] = 0;
  CHECK(config_load(&c, collect) == 0);
  CHECK_STR(errs, "");
  CHECK(auth_check(&c, "alice", 5, "secret", 6) == 1);
  CHECK(auth_check(&c, "ALICE", 5, "secret", 6) == 1);
  CHECK(auth_check(&c, "alice", 5, "Secret", 6) == 0);
  CHECK(auth_check(&c, "alice", 5, "secre", 5) == 0);
  CHECK(auth_check(&c, "carol", 5, "secret", 6) == 0);
  CHECK(auth_check(&c, "bob@example.com", 15, "other", 5) == 1);
  CHECK(auth_check(&c, "alice", 5, "sec\0ret", 7) == 0);
  config_free(&c);
  put("auth", "");
}

/* ---- control files */

static void test_config_files(void)
{
  struct config c;
  unsigned long cost = 0;
  put("addressspace", "example.net 5\n.sub.example 010\n");
  put("filter", "spam@bad.example\n@turf.example TURF\n");
  put("senders.allow", "alice\nCarol@Example.com\n");
  put("senders.deny", "bob\n");
  put("greetdelay", "2s\n");
  put("auth", "");
  CHECK(config_load(&c, 0) == 0);
  CHECK(c.greetdelay == 2);
  CHECK(config_in_addressspace(&c, "Example.NET", 11, &cost) && cost == 5);
  CHECK(config_in_addressspace(&c, "a.sub.example", 13, &cost) && cost == 10);
  CHECK(!config_in_addressspace(&c, "sub.example", 11, 0));      /* subdomains only */
  CHECK(!config_in_addressspace(&c, "other.example", 13, 0));
  CHECK(config_filter(&c, "SPAM@bad.example", 16) == FILTER_DROP);
  CHECK(config_filter(&c, "x@turf.example", 14) == FILTER_TURF);
  CHECK(config_filter(&c, "x@bad.example", 13) == FILTER_NONE);
  CHECK(config_filter(&c, "", 0) == FILTER_NONE);
  CHECK(config_sender_listed(&c, &c.senders_allow, "Alice@example.com", 17));
  CHECK(!config_sender_listed(&c, &c.senders_allow, "alice@remote.example", 20));
  CHECK(config_sender_listed(&c, &c.senders_allow, "carol@example.com", 17));
  CHECK(!config_sender_listed(&c, &c.senders_allow, "carol@example.org", 17));
  config_free(&c);
  put("addressspace", "");
  put("filter", "");
  put("senders.allow", "");
  put("senders.deny", "");
  put("greetdelay", "");
  CHECK(config_load(&c, 0) == 0);
  CHECK(c.greetdelay == 0 && !c.filter.len && !c.auth.len);
  CHECK(config_in_addressspace(&c, "anything.example", 16, 0));   /* default * */
  config_free(&c);
}

static void test_config_errors(void)
{
  struct config c;
  put("addressspace", "example.net 0\nbad..domain\n* 1 2\n");
  put("filter", "user@\n@example.com burn\nnot-an-address\n");
  put("senders.allow", "al ice\nalice\nALICE\n");
  put("auth", "alice\nbob:plain\nalice:$6$salt$hash\nALICE:$6$salt$hash\n!x:$6$a$b\n");
  put("greetdelay", "soon\n");
  errs[0] = 0;
  CHECK(config_load(&c, collect) == 13);
  CHECK_STR(errs,
    "addressspace:1: cost must be a number from 1 to 100\n"
    "addressspace:2: not a domain pattern (example.com, .example.com or *)\n"
    "addressspace:3: expected PATTERN [COST]\n"
    "filter:1: not an address or @domain\n"
    "filter:2: action must be drop or turf\n"
    "filter:3: not an address or @domain\n"
    "senders.allow:1: extra words after the value\n"
    "senders.allow:3: listed twice\n"
    "auth:1: expected user:crypt-hash\n"
    "auth:2: not a crypt(3) hash (make one with: openssl passwd -6)\n"
    "auth:4: user listed twice\n"
    "auth:5: user is not an alias or an address\n"
    "greetdelay:1: not a number\n");
  config_free(&c);
  CHECK(config_check_text("auth", "x:$6$a$b\n", 9, 0) == 0);
  CHECK(config_check_text("filter", "@a.example turf\n", 16, 0) == 0);
  put("addressspace", "");
  put("filter", "");
  put("senders.allow", "");
  put("auth", "");
  put("greetdelay", "");
}

/* ---- the session limits' settings (issue 11 item 3) */

static void test_limit_settings(void)
{
  struct config c;
  CHECK(config_load(&c, 0) == 0);
  CHECK(c.timeoutsession == 3600 && c.mindatarate == 500 && c.mindatagrace == 30);
  CHECK(c.ipv6prefix == 64 && c.authfailures == 5);
  config_free(&c);
  CHECK(config_check_text("timeoutsession", "2h\n", 3, 0) == 0);
  CHECK(config_check_text("mindatarate", "0\n", 2, 0) == 0);
  CHECK(config_check_text("mindatarate", "fast\n", 5, 0) == 1);
  CHECK(config_check_text("ipv6prefix", "48\n", 3, 0) == 0);
  CHECK(config_check_text("ipv6prefix", "16\n", 3, 0) == 1);
  CHECK(config_check_text("ipv6prefix", "129\n", 4, 0) == 1);
  CHECK(config_check_text("authfailures", "-1\n", 3, 0) == 1);
}

/* the sio's deadline bounds a whole line, whatever the per-step timeout */
static size_t heard;
static void hear(struct sio *io, size_t n) { (void)io; heard += n; }

static void test_sio_deadline(void)
{
  static struct sio io;
  stralloc line = {0};
  int sv[2], crlf;
  long long t0;
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  sio_init(&io, sv[0], sv[0], 5);
  CHECK(io.deadline == 0 && io.on_read == 0);
  io.on_read = hear;
  CHECK(write(sv[1], "abc", 3) == 3);                   /* a line that never ends */
  t0 = sio_now_ms();
  io.deadline = t0 + 300;
  errno = 0;
  CHECK(sio_getline(&io, &line, 100, &crlf) == -1 && errno == ETIMEDOUT);
  CHECK(sio_now_ms() - t0 >= 250 && sio_now_ms() - t0 < 2000);
  CHECK(heard == 3);
  io.deadline = sio_now_ms() - 1;                        /* already past: no wait at all */
  CHECK(sio_flush(&io) == 0);
  CHECK(sio_put(&io, "x", 1) == 0 && sio_flush(&io) == -1 && errno == ETIMEDOUT);
  sio_free(&io);
  stralloc_free(&line);
  close(sv[0]);
  close(sv[1]);
}

/* ---- addresses imc-remote's job line can carry (issue 11 item 4) */

static int carried(const char *arg)
{
  static struct smtp_path p;
  const char *e = smtp_path_parse(arg, strlen(arg), 1, &p);
  return !e && p.len && addr_carried(p.addr, p.len);
}

static void test_carried(void)
{
  static const char *const a[] = { "a@b", "\"a b\"@c", "a b@c", "a>@c", "\"a>b\"@c", "\"a\\\"b c\"@c",
    "\"a<\"@c", "\"\"@c", "x\ty@c", "\"a\\\\b\"@c", 0 };
  int i;
  for (i = 0; a[i]; i++) CHECK(addr_carried(a[i], strlen(a[i])) == rjob_addr_ok(a[i], strlen(a[i])));
  CHECK(carried("FROM:<alice@example.org>"));
  CHECK(carried("FROM:<\"a b\"@example.org>"));
  CHECK(carried("FROM:<\"a.b\"@example.org>"));        /* unquoted: a.b@example.org */
  CHECK(!carried("FROM:<\"a>b\"@example.org>"));
  CHECK(!carried("FROM:<\"a<b\"@example.org>"));
  CHECK(!carried("FROM:<\"a\\\"b c\"@example.org>"));  /* the escaped quote ends the quoting for rjob */
  CHECK(!addr_carried("", 0));
}

/* ---- policies */

static const char *rcpt(const struct config *c, struct directory *d, int relay, const char *arg,
                        const char *sender, int *remote)
{
  static struct smtp_path p;
  const char *e = smtp_path_parse(arg, strlen(arg), 0, &p);
  if (e) return e;
  e = policy_rcpt(c, d, relay, &p, sender, strlen(sender), remote);
  return e ? e : p.addr;
}

static void test_policy_rcpt(struct config *c, struct directory *d)
{
  const char *denied = "550 5.7.1 relaying denied";
  int remote = -1;
  CHECK_STR(rcpt(c, d, 0, "TO:<Alice@Example.COM>", "x@remote.example", &remote), "Alice@example.com");
  CHECK(remote == 0);
  CHECK_STR(rcpt(c, d, 0, "TO:<team@example.org>", "", &remote), "team@example.org");
  CHECK_STR(rcpt(c, d, 0, "TO:<nobody@example.com>", "", &remote), "550 5.1.1 no such user here");
  CHECK_STR(rcpt(c, d, 0, "TO:<postmaster>", "", &remote), "postmaster@example.com");
  CHECK_STR(rcpt(c, d, 0, "TO:<POSTMASTER@example.org>", "", &remote), "POSTMASTER@example.org");
  CHECK_STR(rcpt(c, d, 0, "TO:<x@remote.example>", "", &remote), denied);
  CHECK(remote == 1);
  CHECK_STR(rcpt(c, d, 0, "TO:<alice@example.com.>", "", &remote), denied);
  CHECK_STR(rcpt(c, d, 0, "TO:<alice@[192.0.2.1]>", "", &remote), denied);
  CHECK_STR(rcpt(c, d, 0, "TO:<x%remote.example@example.com>", "", &remote), denied);
  CHECK_STR(rcpt(c, d, 0, "TO:<remote.example!x@example.com>", "", &remote), denied);
  CHECK_STR(rcpt(c, d, 0, "TO:<\"x@remote.example\"@example.com>", "", &remote), denied);
  CHECK_STR(rcpt(c, d, 0, "TO:<@example.com:alice@example.com>", "", &remote), "alice@example.com");
  CHECK_STR(rcpt(c, d, 0, "TO:<@example.com:nobody@example.com>", "", &remote), denied);
  CHECK_STR(rcpt(c, d, 0, "TO:<@example.com:x@remote.example>", "", &remote), denied);
  /* a relay client */
  CHECK_STR(rcpt(c, d, 1, "TO:<x@remote.example>", "alice@example.com", &remote), "x@remote.example");
  CHECK(remote == 1);
  CHECK_STR(rcpt(c, d, 1, "TO:<x%y@example.com>", "", &remote), "550 5.1.1 no such user here");
  CHECK_STR(rcpt(c, d, 1, "TO:<alice@example.com.>", "", &remote), "alice@example.com");
  CHECK_STR(rcpt(c, d, 1, "TO:<x@[192.0.2.1]>", "", &remote), "x@[192.0.2.1]");
}

static void test_policy_relay_limits(struct config *c, struct directory *d)
{
  int remote;
  put("addressspace", "partner.example\n.partner.example\n");
  put("senders.allow", "alice\nbob\n");
  put("senders.deny", "bob\n");
  config_free(c);
  CHECK(config_load(c, 0) == 0);
  CHECK_STR(rcpt(c, d, 1, "TO:<x@remote.example>", "alice@example.com", &remote),
            "550 5.7.1 relaying denied: the domain is outside the address space");
  CHECK_STR(rcpt(c, d, 1, "TO:<x@partner.example>", "alice@example.com", &remote), "x@partner.example");
  CHECK_STR(rcpt(c, d, 1, "TO:<x@a.partner.example>", "ALICE@Example.org", &remote), "x@a.partner.example");
  CHECK_STR(rcpt(c, d, 1, "TO:<x@partner.example>", "bob@example.com", &remote),
            "550 5.7.1 sender not allowed to send out");
  CHECK_STR(rcpt(c, d, 1, "TO:<x@partner.example>", "carol@example.com", &remote),
            "550 5.7.1 sender not allowed to send out");
  CHECK_STR(rcpt(c, d, 1, "TO:<x@partner.example>", "alice@remote.example", &remote),
            "550 5.7.1 sender not allowed to send out");
  CHECK_STR(rcpt(c, d, 1, "TO:<x@partner.example>", "", &remote), "x@partner.example");
  CHECK_STR(rcpt(c, d, 1, "TO:<bob@example.com>", "carol@remote.example", &remote), "bob@example.com");
  CHECK(config_sender_out(c, "alice@example.com", 17));
  CHECK(!config_sender_out(c, "bob@example.com", 15));
  CHECK(policy_etrn(c, "partner.example") == 0);
  CHECK_STR(policy_etrn(c, "example.com"), "459 4.7.1 node not allowed: it is a local domain");
  CHECK_STR(policy_etrn(c, "remote.example"), "459 4.7.1 node not allowed: outside the address space");
  put("addressspace", "");
  put("senders.allow", "");
  put("senders.deny", "");
  config_free(c);
  CHECK(config_load(c, 0) == 0);
  CHECK(config_sender_out(c, "anyone@remote.example", 21));     /* no lists: all allowed */
}

static void test_policy_auth(struct config *c)
{
  CHECK(policy_auth_sender(c, "alice", "alice@example.com", 17));
  CHECK(policy_auth_sender(c, "alice", "ALICE@EXAMPLE.ORG", 17));
  CHECK(policy_auth_sender(c, "alice", "", 0));
  CHECK(!policy_auth_sender(c, "alice", "bob@example.com", 15));
  CHECK(!policy_auth_sender(c, "alice", "alice@remote.example", 20));
  CHECK(!policy_auth_sender(c, "alice", "alicex@example.com", 18));
  CHECK(policy_auth_sender(c, "dave@remote.example", "Dave@Remote.Example", 19));
  CHECK(!policy_auth_sender(c, "dave@remote.example", "dave@example.com", 16));
}

/* fd 2 into a file while a test writes diagnostics: the saved fd 2 */
static int stderr_to(const char *name, int *fd)
{
  char path[256];
  int save;
  snprintf(path, sizeof path, "%s/%s", home, name);
  *fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  save = dup(2);
  CHECK(*fd >= 0 && save >= 0 && dup2(*fd, 2) == 2);
  return save;
}

/* fd 2 back; what was written, in buf */
static void stderr_back(int fd, int save, char *buf, size_t cap)
{
  ssize_t n;
  dup2(save, 2);
  close(save);
  n = pread(fd, buf, cap - 1, 0);
  buf[n > 0 ? n : 0] = 0;
  close(fd);
}

/* ---- lib/log.c: levels, one line per event, control characters made harmless */
static void test_log(struct config *c)
{
  char buf[512];
  int fd, save = stderr_to("log.out", &fd);
  c->loglevel[LOG_SMTP] = LEVEL_MEDIUM;
  c->loglevel[LOG_PROTOCOL] = LEVEL_MINIMUM;
  log_init(c);
  log_event(LOG_SMTP, LEVEL_MEDIUM, "a\nb", "\001c");
  log_event(LOG_SMTP, LEVEL_MAXIMUM, "not logged");
  log_outb(LOG_PROTOCOL, LEVEL_MINIMUM, "p ", "x\0y\r", 4);
  log_outb(LOG_PROTOCOL, LEVEL_MEDIUM, "p ", "not logged", 10);
  CHECK(log_enabled(LOG_SMTP, LEVEL_MEDIUM) && !log_enabled(LOG_SMTP, LEVEL_MAXIMUM));
  stderr_back(fd, save, buf, sizeof buf);
  CHECK_STR(buf, "imc: smtp: a b?c\nimc: protocol: p x?y\n");
  log_init(0);
}

/* ---- lib/diag.c: a notice of several lines is one line, line breaks folded;
   diag_subject heads the text */
static void test_diag_fold(void)
{
  char buf[512];
  int fd, save = stderr_to("diag.out", &fd);
  warn("subject: ", "first line.\n", "second\r\n\r\nthird \n\tfourth\n");
  info("451-one\r\n451 two\r\n");
  diag_subject = "6b0a42108275300043b";
  warn("part 2: ", "no boundary");
  diag_subject = 0;
  stderr_back(fd, save, buf, sizeof buf);
  CHECK_STR(buf, "imc: warning: subject: first line. second third ?fourth\nimc: info: 451-one 451 two\n"
                 "imc: warning: 6b0a42108275300043b part 2: no boundary\n");
}

int main(void)
{
  struct config c;
  struct directory d;
  fixture_open("t_smtp");
  put("me", "mx.example.com\n");
  put("sitedomains", "example.com\nExample.ORG\n");
  put("directory", "mailbox alice \"Alice\"\nmailbox bob \"Bob\"\nlist team alice,bob\n");
  test_diag_fold();
  test_cmd();
  test_paths();
  test_long_paths();
  test_params();
  test_utf8();
  test_idna();
  test_etrn();
  test_data();
  test_data_lines();
  test_bdat();
  test_smuggle();
  test_line_bare();
  test_base64();
  test_plain();
  test_auth_check();
  test_config_files();
  test_config_errors();
  test_limit_settings();
  test_carried();
  test_sio_deadline();
  CHECK(directory_compile(0) == 0);
  CHECK(config_load(&c, 0) == 0);
  CHECK(directory_open(&d) == 0);
  test_policy_rcpt(&c, &d);
  test_policy_relay_limits(&c, &d);
  test_policy_auth(&c);
  test_log(&c);
  directory_close(&d);
  config_free(&c);
  fixture_close();
  return check_done("t_smtp");
}
