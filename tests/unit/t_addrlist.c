/*
 * t_addrlist.c -- the address-list parser (lib/addrlist.c) and the
 * header helpers built on it (lib/message.c): display names, quoted
 * strings, comments, groups, angle brackets, routes, folding, errors;
 * message reading: CRLF, dot-ending, header section and body pieces.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "addrlist.h"
#include "message.h"

/* the addresses as "a|b|c", or "ERR" */
static const char *parse(const char *s)
{
  static char out[1024];
  stralloc sa = {0};
  size_t pos = 0, o = 0;
  int n = addrlist_parse(s, strlen(s), &sa);
  if (n < 0) { stralloc_free(&sa); return errno == EINVAL ? "ERR" : "NOMEM"; }
  out[0] = 0;
  while (n-- > 0) {
    size_t len = strlen(sa.s + pos);
    if (o) out[o++] = '|';
    memcpy(out + o, sa.s + pos, len);
    o += len;
    pos += len + 1;
  }
  out[o] = 0;
  CHECK(pos == sa.len);
  stralloc_free(&sa);
  return out;
}

static void test_simple(void)
{
  CHECK_STR(parse("a@b.test"), "a@b.test");
  CHECK_STR(parse("  a@b.test  "), "a@b.test");
  CHECK_STR(parse("a@b.test, c@d.test"), "a@b.test|c@d.test");
  CHECK_STR(parse("a@b.test,,c@d.test,"), "a@b.test|c@d.test");
  CHECK_STR(parse(""), "");
  CHECK_STR(parse("   "), "");
  CHECK_STR(parse("joe"), "joe");                           /* caller qualifies */
  CHECK_STR(parse("first.last@sub.example.test"), "first.last@sub.example.test");
  CHECK_STR(parse("a+tag@[192.0.2.1]"), "a+tag@[192.0.2.1]");
  CHECK_STR(parse("a@[IPv6:2001:db8::1]"), "a@[IPv6:2001:db8::1]");
  CHECK_STR(parse("j . doe @ example . test"), "j.doe@example.test");
}

static void test_names(void)
{
  CHECK_STR(parse("Joe User <joe@x.test>"), "joe@x.test");
  CHECK_STR(parse("\"User, Joe\" <joe@x.test>, b@y.test"), "joe@x.test|b@y.test");
  CHECK_STR(parse("\"a <b@c>\" <real@x.test>"), "real@x.test");
  CHECK_STR(parse("<joe@x.test>"), "joe@x.test");
  CHECK_STR(parse("Joe Q. Public <john.q.public@example.test>"), "john.q.public@example.test");
  CHECK_STR(parse("\"John Doe\"@example.test"), "\"John Doe\"@example.test");
  CHECK_STR(parse("\"a\\\"b\"@example.test"), "\"a\\\"b\"@example.test");
  CHECK_STR(parse("J\xc3\xb6rg <j@x.test>"), "j@x.test");  /* raw 8-bit name */
  CHECK_STR(parse("<>"), "");
  CHECK_STR(parse("Someone <@relay.test,@r2.test:joe@x.test>"), "joe@x.test");
}

static void test_comments(void)
{
  CHECK_STR(parse("joe@x.test (Joe User)"), "joe@x.test");
  CHECK_STR(parse("(lead) joe(in)@(more)x.test"), "joe@x.test");
  CHECK_STR(parse("joe@x.test (a (nested) comment), b@y.test"), "joe@x.test|b@y.test");
  CHECK_STR(parse("joe@x.test (with \\) escaped)"), "joe@x.test");
  CHECK_STR(parse("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>"), "pete@silly.test");
}

static void test_groups(void)
{
  CHECK_STR(parse("undisclosed-recipients:;"), "");
  CHECK_STR(parse("undisclosed-recipients: ;"), "");
  CHECK_STR(parse("Friends: a@x.test, Bee <b@y.test>;, c@z.test"), "a@x.test|b@y.test|c@z.test");
  CHECK_STR(parse("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;"),
            "c@a.test|joe@where.test|jdoe@one.test");
  CHECK_STR(parse("Team: a@x.test"), "a@x.test");              /* missing ';' tolerated */
}

static void test_folding(void)
{
  CHECK_STR(parse("a@b.test,\n c@d.test"), "a@b.test|c@d.test");
  CHECK_STR(parse("\"Joe\r\n User\" <joe@x.test>,\r\n\tb@y.test\r\n"), "joe@x.test|b@y.test");
  CHECK_STR(parse(" Joe\n <joe@x.test>\n"), "joe@x.test");
}

static void test_errors(void)
{
  stralloc sa = {0};
  CHECK_STR(parse("Joe User"), "ERR");                        /* a phrase without address */
  CHECK_STR(parse("<joe@x.test"), "ERR");
  CHECK_STR(parse("joe@x.test>"), "ERR");
  CHECK_STR(parse("\"unclosed@x.test"), "ERR");
  CHECK_STR(parse("joe@x.test (unclosed"), "ERR");
  CHECK_STR(parse("joe@[1.2.3.4"), "ERR");
  CHECK_STR(parse("a@b@c"), "ERR");
  CHECK_STR(parse("a..b@c"), "ERR");
  CHECK_STR(parse("a@"), "ERR");
  CHECK_STR(parse("@b.test"), "ERR");
  CHECK_STR(parse("a@b."), "ERR");
  CHECK_STR(parse("a@[1.2.3.4].test"), "ERR");
  CHECK_STR(parse("G1: G2: a@b;;"), "ERR");                   /* a group in a group */
  CHECK_STR(parse("a@b.test;"), "ERR");                       /* ';' without a group */
  CHECK_STR(parse("<a@b.test> junk"), "ERR");
  CHECK_STR(parse("<@relay.test joe@x.test>"), "ERR");        /* route without ':' */
  CHECK(addrlist_parse("a@b\0c", 5, &sa) < 0);               /* NUL outside quotes */
  CHECK(addrlist_parse("\"a\0b\"@c", 7, &sa) < 0);             /* and inside (found by fuzzing) */
  CHECK(addrlist_parse("\"a\\\0b\"@c", 8, &sa) < 0);
  CHECK(addrlist_parse("a@[1\0]", 6, &sa) < 0);
  /* an error leaves out as it was */
  stralloc_copys(&sa, "keep");
  CHECK(addrlist_parse("ok@x.test, Bad Phrase", 21, &sa) < 0);
  CHECK_MEM(sa.s, sa.len, "keep");
  stralloc_free(&sa);
}

/* ---- message reading (message.c) */

static int tmpfile_with(const char *s, size_t len)
{
  char name[] = "/tmp/t_addrlist.XXXXXX";
  int fd = mkstemp(name);
  if (fd < 0) { perror("mkstemp"); exit(1); }
  unlink(name);
  if (write(fd, s, len) != (ssize_t)len) exit(1);
  lseek(fd, 0, SEEK_SET);
  return fd;
}

static struct msgin in;

/* the whole message through the reader, as the injectors see it */
static void read_all(const char *s, size_t len, int dotend, struct msghead *h, stralloc *body)
{
  stralloc piece = {0};
  int fd = tmpfile_with(s, len), bol, r;
  msgin_init(&in, fd, dotend);
  CHECK(msghead_read(&in, h) == 0);
  body->len = 0;
  if (h->end == HEAD_BODY) stralloc_cat(body, &h->first);
  while ((r = msgin_piece(&in, &piece, &bol)) == 1) stralloc_cat(body, &piece);
  CHECK(r == 0);
  stralloc_free(&piece);
  close(fd);
}

static void test_message(void)
{
  struct msghead h = { {0}, {0}, 0 };
  stralloc body = {0}, a = {0};
  static const char m1[] = "To: a@x.test,\r\n b@y.test\r\nBcc: c@z.test\r\nSubject: s\r\n\r\nline\r\n.\r\nmore\r\nlone\rcr\n";

  read_all(m1, sizeof m1 - 1, 0, &h, &body);
  CHECK(h.end == HEAD_SEP);
  CHECK_MEM(h.text.s, h.text.len, "To: a@x.test,\n b@y.test\nBcc: c@z.test\nSubject: s\n");
  CHECK_MEM(body.s, body.len, "line\n.\nmore\nlone\rcr\n");
  CHECK(msghead_has(&h.text, "bcc") && msghead_has(&h.text, "SUBJECT") && !msghead_has(&h.text, "From"));
  CHECK(msghead_addresses(&h.text, "to", &a) == 2);
  CHECK(a.len == 18 && !memcmp(a.s, "a@x.test\0b@y.test\0", 18));
  msghead_drop(&h.text, "Bcc");
  CHECK_MEM(h.text.s, h.text.len, "To: a@x.test,\n b@y.test\nSubject: s\n");

  /* sendmail without -i: a "." line ends it */
  read_all(m1, sizeof m1 - 1, 1, &h, &body);
  CHECK_MEM(body.s, body.len, "line\n");

  /* no blank line: the first non-field line starts the body */
  read_all("Subject: x\nnot a header\nb\n", 26, 0, &h, &body);
  CHECK(h.end == HEAD_BODY);
  CHECK_MEM(h.text.s, h.text.len, "Subject: x\n");
  CHECK_MEM(body.s, body.len, "not a header\nb\n");

  /* only fields, no final LF; then an empty input */
  read_all("Subject: x", 10, 0, &h, &body);
  CHECK(h.end == HEAD_EOF);
  CHECK_MEM(h.text.s, h.text.len, "Subject: x\n");
  read_all("", 0, 1, &h, &body);
  CHECK(h.end == HEAD_EOF && h.text.len == 0 && body.len == 0);
  read_all(".\nafter\n", 8, 1, &h, &body);
  CHECK(h.end == HEAD_EOF && h.text.len == 0 && body.len == 0);

  /* a field name with a space before the colon; a NUL in the body */
  read_all("Subject : x\n\na\0b\n", 17, 0, &h, &body);
  CHECK(msghead_has(&h.text, "Subject"));
  CHECK(body.len == 4 && !memcmp(body.s, "a\0b\n", 4));
  msghead_free(&h);
  stralloc_free(&body);
  stralloc_free(&a);
}

/* a line far longer than the buffer, with CRLF split at every possible place */
static void test_long_line(void)
{
  struct msghead h = { {0}, {0}, 0 };
  stralloc body = {0}, m = {0}, want = {0};
  size_t i, n = 3 * MSG_BLOCK + 17;
  stralloc_copys(&m, "Subject: long\n\n");
  for (i = 0; i < n; i++) stralloc_append(&m, (i % 7) ? "x" : "\r");
  stralloc_cats(&m, "\r\nend\r\n");
  for (i = 0; i < n; i++) stralloc_append(&want, (i % 7) ? "x" : "\r");
  stralloc_cats(&want, "\nend\n");
  read_all(m.s, m.len, 1, &h, &body);
  CHECK(body.len == want.len && !memcmp(body.s, want.s, want.len));
  msghead_free(&h);
  stralloc_free(&body);
  stralloc_free(&m);
  stralloc_free(&want);
}

static void test_added(void)
{
  stralloc sa = {0};
  CHECK(msg_add_from(&sa, "Full \"N\" \\x", "a@b.test") == 0);
  CHECK_STR((stralloc_0(&sa), sa.s), "From: \"Full \\\"N\\\" \\\\x\" <a@b.test>\n");
  sa.len = 0;
  CHECK(msg_add_from(&sa, 0, "a@b.test") == 0);
  CHECK_MEM(sa.s, sa.len, "From: a@b.test\n");
  sa.len = 0;
  CHECK(msg_add_date(&sa, 0) == 0);
  CHECK(sa.len > 30 && !memcmp(sa.s, "Date: ", 6) && sa.s[sa.len - 1] == '\n');
  sa.len = 0;
  CHECK(msg_add_msgid(&sa, "me.test") == 0);
  CHECK(sa.len == 13 + 19 + 5 + 7 + 2 && !memcmp(sa.s, "Message-ID: <", 13));
  stralloc_free(&sa);
}

int main(void)
{
  test_simple();
  test_names();
  test_comments();
  test_groups();
  test_folding();
  test_errors();
  test_message();
  test_long_line();
  test_added();
  return check_done("t_addrlist");
}
