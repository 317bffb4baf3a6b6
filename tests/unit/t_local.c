/*
 * t_local.c -- the pure parts of imc-local (queue/local/maildir.c): job-line
 * parsing, Maildir names, the delivery header lines, loop detection.
 */
#include <stdlib.h>
#include "check.h"
#include "../../queue/local/maildir.h"

#define S(lit) lit, sizeof lit - 1

static void test_job_ok(void)
{
  struct job j;
  struct job_pair p;
  size_t pos = 0;
  CHECK(job_parse(S("3\t120\talice@example.com\tbob\tbob@example.org\tcarol\tc@example.org"), &j) == 2);
  CHECK(j.err == 0);
  CHECK(j.fd == 3);
  CHECK(j.msglen == 120);
  CHECK_MEM(j.sender, j.slen, "alice@example.com");
  CHECK(job_pair_next(&j, &pos, &p) == 1);
  CHECK_MEM(p.mailbox, p.mlen, "bob");
  CHECK_MEM(p.rcpt, p.rlen, "bob@example.org");
  CHECK(job_pair_next(&j, &pos, &p) == 1);
  CHECK_MEM(p.mailbox, p.mlen, "carol");
  CHECK_MEM(p.rcpt, p.rlen, "c@example.org");
  CHECK(job_pair_next(&j, &pos, &p) == 0);
}

static void test_job_null_sender(void)
{
  struct job j;
  CHECK(job_parse(S("17\t0\t\tbob\tbob@x.org"), &j) == 1);
  CHECK(j.err == 0);
  CHECK(j.fd == 17);
  CHECK(j.msglen == 0);
  CHECK(j.slen == 0);
}

static void test_job_bad(void)
{
  struct job j;
  char longsender[1100];
  CHECK(job_parse(S(""), &j) == 0);
  CHECK(j.err == 0);
  CHECK(job_parse(S("3\t10\ts"), &j) == 1 && j.err);                  /* no pair */
  CHECK(job_parse(S("3\t10\ts\tbob"), &j) == 1 && j.err);             /* half a pair */
  CHECK(job_parse(S("3\t10\ts\tbob\tb@x\tcarol"), &j) == 1 && j.err); /* odd fields */
  CHECK(job_parse(S("garbage"), &j) == 1 && j.err);
  CHECK(job_parse(S("x\t10\ts\tbob\tb@x\tc\tc@x"), &j) == 2 && j.err); /* fd not a number */
  CHECK(job_parse(S("3:\t10\ts\tbob\tb@x"), &j) == 1 && j.err);       /* FD: with no id */
  CHECK(job_parse(S("3:0123456789abcdef0123456789abcdef0\t10\ts\tbob\tb@x"), &j) == 1 && j.err);  /* id too long */
  CHECK(job_parse(S("3:6b0a42108275300043b\t10\ts\tbob\tb@x"), &j) == 1 && !j.err && j.fd == 3);
  CHECK_MEM(j.id, j.idlen, "6b0a42108275300043b");
  CHECK(job_parse(S("2\t10\ts\tbob\tb@x"), &j) == 1 && j.err);        /* stdin..stderr */
  CHECK(job_parse(S("-3\t10\ts\tbob\tb@x"), &j) == 1 && j.err);
  CHECK(job_parse(S("+3\t10\ts\tbob\tb@x"), &j) == 1 && j.err);
  CHECK(job_parse(S("9999999999\t10\ts\tbob\tb@x"), &j) == 1 && j.err);
  CHECK(job_parse(S("3\t1x\ts\tbob\tb@x"), &j) == 1 && j.err);
  CHECK(job_parse(S("3\t\ts\tbob\tb@x"), &j) == 1 && j.err);
  CHECK(job_parse(S("3\t1234567890123456789\ts\tbob\tb@x"), &j) == 1 && j.err);
  CHECK(job_parse(S("3\t10\ta\rb\tbob\tb@x"), &j) == 1 && j.err);     /* control character */
  memset(longsender, 'a', sizeof longsender);
  memcpy(longsender, "3\t10\t", 5);
  memcpy(longsender + sizeof longsender - 6, "\tb\tb@x", 6);
  CHECK(job_parse(longsender, sizeof longsender, &j) == 1 && j.err);
}

/* empty fields still make pairs, and pairs never run past the line */
static void test_job_empty_fields(void)
{
  struct job j;
  struct job_pair p;
  size_t pos = 0, n = 0;
  CHECK(job_parse(S("3\t5\ts\ta\tb\t\t"), &j) == 2);
  CHECK(j.err == 0);
  while (job_pair_next(&j, &pos, &p)) n++;
  CHECK(n == 2);
  CHECK(p.mlen == 0 && p.rlen == 0);
}

/* random lines: job_pair_next yields exactly the pairs job_parse counted */
static void test_job_random(void)
{
  static const char alphabet[] = "\t\t\t0123456789ab@.\r";
  char line[64];
  int k;
  srand(1);
  for (k = 0; k < 20000; k++) {
    struct job j;
    struct job_pair p;
    size_t len = (size_t)(rand() % (int)sizeof line), i, pos = 0, n = 0, np;
    for (i = 0; i < len; i++) line[i] = alphabet[rand() % (int)(sizeof alphabet - 1)];
    np = job_parse(line, len, &j);
    if (j.err) continue;
    while (job_pair_next(&j, &pos, &p)) {
      n++;
      if (p.mailbox < line || p.mailbox + p.mlen > line + len) break;
      if (p.rcpt < line || p.rcpt + p.rlen > line + len) break;
    }
    if (n != np) { CHECK(n == np); return; }
  }
}

static void test_rcpt_valid(void)
{
  char big[1001];
  CHECK(rcpt_valid(S("bob@example.org")));
  CHECK(!rcpt_valid(S("")));
  CHECK(!rcpt_valid(S("bob\r@x")));
  CHECK(!rcpt_valid(S("bob\0@x")));
  CHECK(!rcpt_valid(S("bob\177@x")));
  memset(big, 'a', sizeof big);
  CHECK(rcpt_valid(big, 1000));
  CHECK(!rcpt_valid(big, 1001));
}

static void test_host(void)
{
  char out[MAILDIR_HOST_MAX + 1], in[400];
  size_t n;
  n = maildir_host(out, S("mx.example.org"));
  CHECK_MEM(out, n, "mx.example.org");
  n = maildir_host(out, S("a/b:c"));
  CHECK_MEM(out, n, "a\\057b\\072c");
  memset(in, 'x', sizeof in);
  n = maildir_host(out, in, sizeof in);
  CHECK(n == MAILDIR_HOST_MAX);
  in[254] = '/';                          /* the escape would not fit: cut before it */
  n = maildir_host(out, in, sizeof in);
  CHECK(n == 254);
}

static void test_name(void)
{
  char out[MAILDIR_NAME_MAX + 1], host[MAILDIR_HOST_MAX];
  size_t n;
  n = maildir_name(out, 1767225600, 42, 31337, 7, "mx", 2);
  CHECK_STR(out, "1767225600.M42P31337Q7.mx");
  CHECK(n == strlen(out));
  n = maildir_name(out, 0, 0, 0, 0, "h", 1);
  CHECK_STR(out, "0.M0P0Q0.h");
  memset(host, 'h', sizeof host);
  n = maildir_name(out, ~0UL, 999999, ~0UL, ~0UL, host, sizeof host);
  CHECK(n <= MAILDIR_NAME_MAX && n == strlen(out));
}

static void test_header(void)
{
  char out[JOB_HDR_MAX], big[JOB_ADDR_MAX];
  size_t n = deliv_header(out, S("alice@example.com"), S("bob@example.org"));
  CHECK_MEM(out, n, "Return-Path: <alice@example.com>\nDelivered-To: bob@example.org\n");
  n = deliv_header(out, "", 0, S("b@x"));
  CHECK_MEM(out, n, "Return-Path: <>\nDelivered-To: b@x\n");
  memset(big, 'a', sizeof big);
  n = deliv_header(out, big, sizeof big, big, sizeof big);
  CHECK(n <= JOB_HDR_MAX);
}

static void test_loop(void)
{
  const char *m1 = "Received: x\nDelivered-To: Bob@Example.org \nSubject: hi\n\nDelivered-To: carol@x\n";
  CHECK(hdr_delivered_to(m1, strlen(m1), 1, S("bob@example.org")));
  CHECK(hdr_delivered_to(m1, strlen(m1), 1, S("BOB@EXAMPLE.ORG")));
  CHECK(!hdr_delivered_to(m1, strlen(m1), 1, S("carol@x")));      /* in the body */
  CHECK(!hdr_delivered_to(m1, strlen(m1), 1, S("bob@example.or")));
  CHECK(!hdr_delivered_to(m1, strlen(m1), 1, S("ob@example.org")));
  CHECK(hdr_delivered_to(S("delivered-to:\tb@x\r\n\r\n"), 1, S("b@x")));
  CHECK(!hdr_delivered_to(S("Subject: x\r\n\r\nDelivered-To: b@x\r\n"), 1, S("b@x")));
  CHECK(!hdr_delivered_to(S("X-Delivered-To: b@x\n"), 1, S("b@x")));
  CHECK(!hdr_delivered_to(S("Delivered-To: b@xy\n"), 1, S("b@x")));
  /* a last line without LF counts only when it is the end of the message */
  CHECK(hdr_delivered_to(S("Subject: x\nDelivered-To: b@x"), 1, S("b@x")));
  CHECK(!hdr_delivered_to(S("Subject: x\nDelivered-To: b@x"), 0, S("b@x")));
  CHECK(!hdr_delivered_to(S("\nDelivered-To: b@x\n"), 1, S("b@x")));  /* empty header section */
  CHECK(!hdr_delivered_to("", 0, 1, S("b@x")));
  CHECK(!hdr_delivered_to(S("Delivered-To:"), 1, S("b@x")));
}

static void test_fmt(void)
{
  char out[MAILDIR_NAME_MAX + 1];
  maildir_name(out, 42, 1, 2, 3, "h", 1);     /* libowfat's fmt_ulong through owfat.h */
  CHECK_STR(out, "42.M1P2Q3.h");
}

int main(void)
{
  test_job_ok();
  test_job_null_sender();
  test_job_bad();
  test_job_empty_fields();
  test_job_random();
  test_rcpt_valid();
  test_host();
  test_name();
  test_header();
  test_loop();
  test_fmt();
  return check_done("t_local");
}
