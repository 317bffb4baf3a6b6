/*
 * t_queue.c -- the queue formats (lib/queue.c): message ids, the trailer,
 * envelope records, and qfile_validate on good, truncated and overlong
 * files written into a temporary directory; env_restrict, the envelope a
 * local user may give imc-queue.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "fileio.h"
#include "queue.h"

static void test_qid(void)
{
  char id[QID_LEN + 1];
  qid_make(id, 0x6b0a424aUL, 0xabcdeUL, 0x1234UL);
  CHECK_STR(id, "6b0a424aabcde001234");
  CHECK(qid_valid(id, QID_LEN));
  CHECK(qid_hash(id) == 'e');
  CHECK(qid_time(id) == 0x6b0a424aUL);
  /* fields are cut to their widths */
  qid_make(id, 0x1ffffffffUL, 0x123456UL, 0x7654321UL);
  CHECK_STR(id, "ffffffff23456654321");
  CHECK(!qid_valid(id, QID_LEN - 1));
  CHECK(!qid_valid("6b0a424aabcde00123G", QID_LEN));
  CHECK(!qid_valid("6B0A424AABCDE001234", QID_LEN));    /* lower case only */
  CHECK(!qid_valid("6b0a424aabcde0012345", QID_LEN + 1));
  CHECK(qid_time("zzzzzzzzabcde001234") == 0);
}

static void test_trailer(void)
{
  struct qtrailer t = { 0x123456789abcULL, 0xfedcUL, 0x6b0a424aULL }, u;
  char tr[QTRAILER_LEN], bad[QTRAILER_LEN];
  qtrailer_pack(tr, &t);
  CHECK(!memcmp(tr, "IMCQ1 M0000123456789abc E0000fedc T000000006b0a424a END", 55));
  CHECK(tr[QTRAILER_LEN - 1] == '\n' && tr[55] == ' ' && tr[62] == ' ');
  CHECK(qtrailer_unpack(tr, &u) == 0);
  CHECK(u.msglen == t.msglen && u.envlen == t.envlen && u.qtime == t.qtime);

  memcpy(bad, tr, sizeof bad); bad[0] = 'X';
  CHECK(qtrailer_unpack(bad, &u) < 0);
  memcpy(bad, tr, sizeof bad); bad[10] = 'g';
  CHECK(qtrailer_unpack(bad, &u) < 0);
  memcpy(bad, tr, sizeof bad); bad[10] = 'A';                 /* upper-case hex */
  CHECK(qtrailer_unpack(bad, &u) < 0);
  memcpy(bad, tr, sizeof bad); bad[QTRAILER_LEN - 1] = ' ';
  CHECK(qtrailer_unpack(bad, &u) < 0);
  memcpy(bad, tr, sizeof bad); bad[60] = 'x';                 /* padding must be spaces */
  CHECK(qtrailer_unpack(bad, &u) < 0);
  memcpy(bad, tr, sizeof bad); memcpy(bad + 51, " EN!", 4);
  CHECK(qtrailer_unpack(bad, &u) < 0);
}

static void test_envelope(void)
{
  stralloc env = {0};
  size_t pos = 0, len, n = 99;
  const char *val;
  char type;

  CHECK(env_add(&env, 'F', "a@b.test", 8) == 0);
  CHECK(env_add(&env, 'T', "x@y.test", 8) == 0);
  CHECK(env_add(&env, 'I', "via=test", 8) == 0);
  CHECK(env_add(&env, 'T', "z@y.test", 8) == 0);
  CHECK(env_add(&env, 'T', "bad\0nul", 7) < 0);
  CHECK(env_finish(&env) == 0);
  CHECK(env_check(env.s, env.len, &n) == 0 && n == 2);
  CHECK(env_next(env.s, env.len, &pos, &type, &val, &len) == 1 && type == 'F');
  CHECK_MEM(val, len, "a@b.test");
  CHECK(env_next(env.s, env.len, &pos, &type, &val, &len) == 1 && type == 'T');
  CHECK_MEM(val, len, "x@y.test");
  CHECK(env_next(env.s, env.len, &pos, &type, &val, &len) == 1 && type == 'I');
  CHECK(env_next(env.s, env.len, &pos, &type, &val, &len) == 1 && type == 'T');
  CHECK(env_next(env.s, env.len, &pos, &type, &val, &len) == 0);
  val = env_sender(env.s, env.len, &len);
  CHECK_MEM(val, len, "a@b.test");

  /* the null sender */
  CHECK(env_check("F\0Tx@y\0\0", 8, &n) == 0 && n == 1);
  val = env_sender("F\0Tx@y\0\0", 8, &len);
  CHECK(len == 0);
  /* no recipient, missing F, F twice, F not first, unknown type, junk */
  CHECK(env_check("Fa@b\0\0", 6, 0) == -2);
  CHECK(env_check("Tx@y\0\0", 6, 0) == -1);
  CHECK(env_check("Fa@b\0Fa@b\0Tx@y\0\0", 16, 0) == -1);
  CHECK(env_check("Ivia=x\0Fa@b\0Tx@y\0\0", 18, 0) == -1);
  CHECK(env_check("Fa@b\0Qx@y\0\0", 11, 0) == -1);
  CHECK(env_check("Fa@b\0Tx@y\0", 10, 0) == -1);              /* no final NUL */
  CHECK(env_check("Fa@b\0Tx@y\0\0junk", 15, 0) == -1);         /* bytes after the end */
  CHECK(env_check("Fa@b\0Tx@y", 9, 0) == -1);                  /* record cut short */
  CHECK(env_check("", 0, 0) == -1);
  CHECK(env_check("\0", 1, 0) == -1);
  stralloc_free(&env);
}

/* a local user's forged I records are dropped; via=inject is kept; uid= is imc-queue's */
static void test_restrict(void)
{
  static const char forged[] = "Fa@b.test\0Ipeer=203.0.113.9\0Tx@y.test\0Iauth=ceo\0Idsn=double\0"
                               "Ivia=inject\0Iuid=0\0Ifilter=turf\0Icontent=-/10\0Ivia=pickup\0Tz@y.test\0\0";
  static const char want[] = "Fa@b.test\0Tx@y.test\0Ivia=inject\0Tz@y.test\0Iuid=1234\0\0";
  stralloc out = {0};
  size_t n = 0;
  CHECK(env_restrict(&out, forged, sizeof forged - 1, 1234) == 0);
  CHECK(out.len == sizeof want - 1 && !memcmp(out.s, want, out.len));
  CHECK(env_check(out.s, out.len, &n) == 0 && n == 2);
  /* the null sender and no I record at all: uid= still added */
  CHECK(env_restrict(&out, "F\0Tx@y\0\0", 8, 0) == 0);
  CHECK(out.len == 15 && !memcmp(out.s, "F\0Tx@y\0Iuid=0\0\0", 15));
  /* the previous contents are replaced; a malformed envelope is refused */
  CHECK(env_restrict(&out, "Fa@b\0Tx@y", 9, 5) == -1);
  stralloc_free(&out);
}

static char dir[] = "/tmp/t_queue.XXXXXX";

/* a queue file: message, envelope, trailer, plus `extra` junk bytes or minus `cut` bytes */
static int write_qfile(const char *name, size_t cut, size_t extra, stralloc *path)
{
  static const char msg[] = "Subject: t\n\nbody\0with NUL\n";
  static const char env[] = "Fa@b.test\0Tx@y.test\0\0";
  struct qtrailer t = { sizeof msg - 1, sizeof env - 1, 1700000000 };
  char tr[QTRAILER_LEN];
  stralloc all = {0};
  int fd;
  qtrailer_pack(tr, &t);
  stralloc_copyb(&all, msg, sizeof msg - 1);
  stralloc_catb(&all, env, sizeof env - 1);
  stralloc_catb(&all, tr, sizeof tr);
  while (extra--) stralloc_append(&all, "x");
  all.len -= cut;
  stralloc_copys(path, dir);
  stralloc_cats(path, "/");
  stralloc_cats(path, name);
  stralloc_0(path);
  fd = open(path->s, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || write_all(fd, all.s, all.len) < 0) return -1;
  close(fd);
  stralloc_free(&all);
  return 0;
}

static void test_qfile(void)
{
  struct qfile q = { -1, { 0, 0, 0 }, { 0, 0, 0 } };
  stralloc path = {0};
  if (!mkdtemp(dir)) { perror("mkdtemp"); exit(1); }

  CHECK(write_qfile("good", 0, 0, &path) == 0);
  CHECK(qfile_open(&q, path.s) == 1);
  CHECK(q.t.msglen == 26 && q.t.envlen == 21 && q.t.qtime == 1700000000);
  CHECK(q.env.len == 21 && q.env.s[0] == 'F');
  CHECK(qfile_validate(&q) == 1);      /* again on the same fd */
  qfile_close(&q);
  unlink(path.s);

  CHECK(write_qfile("short", 1, 0, &path) == 0);
  CHECK(qfile_open(&q, path.s) == -2);
  CHECK(q.fd == -1);
  unlink(path.s);
  CHECK(write_qfile("shorter", 70, 0, &path) == 0);
  CHECK(qfile_open(&q, path.s) == -2);
  unlink(path.s);
  CHECK(write_qfile("long", 0, 1, &path) == 0);
  CHECK(qfile_open(&q, path.s) == -2);
  unlink(path.s);
  CHECK(write_qfile("empty", 26 + 21 + 64, 0, &path) == 0);
  CHECK(qfile_open(&q, path.s) == -2);
  unlink(path.s);
  stralloc_copys(&path, dir); stralloc_cats(&path, "/missing"); stralloc_0(&path);
  CHECK(qfile_open(&q, path.s) == 0);
  qfile_close(&q);
  stralloc_free(&path);
  rmdir(dir);
}

static void test_qpath(void)
{
  stralloc sa = {0};
  CHECK(qpath(&sa, "queue", "new", "6b0a424aabcde001234") == 0);
  CHECK_STR(sa.s, "queue/new/6b0a424aabcde001234");
  CHECK(qpath(&sa, "q", "mess", "6b0a424aabcde001234") == 0);
  CHECK_STR(sa.s, "q/mess/e/6b0a424aabcde001234");
  CHECK(qpath(&sa, "q", "info", "6b0a424aabcd7001234") == 0);
  CHECK_STR(sa.s, "q/info/7/6b0a424aabcd7001234");
  stralloc_free(&sa);
}

int main(void)
{
  test_qid();
  test_trailer();
  test_envelope();
  test_restrict();
  test_qfile();
  test_qpath();
  return check_done("t_queue");
}
