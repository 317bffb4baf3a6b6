/*
 * t_admin.c -- the queue tools' parsers and formatters (queue/admin/admin*.c):
 * ages and ISO times, time arguments, tracking log lines and file order,
 * queue/info/held, and a small queue read back through the read-only
 * view (ids, where a message is, a state file's recipients, held ones).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "../../queue/admin/admin.h"
#include "fileio.h"
#include "queue.h"

static void ages(void)
{
  char b[ADM_AGE];
  adm_age(b, 0); CHECK_STR(b, "0s");
  adm_age(b, 59); CHECK_STR(b, "59s");
  adm_age(b, 60); CHECK_STR(b, "1m");
  adm_age(b, 3599); CHECK_STR(b, "59m");
  adm_age(b, 3600); CHECK_STR(b, "1h");
  adm_age(b, 2 * 3600 + 13 * 60 + 5); CHECK_STR(b, "2h13m");
  adm_age(b, 86400 * 3 + 4 * 3600 + 59); CHECK_STR(b, "3d4h");
  adm_age(b, 86400 * 400); CHECK_STR(b, "400d");
}

static void times(void)
{
  char b[ADM_TIME];
  unsigned long t;
  adm_iso(b, 1795834555);
  CHECK_STR(b, "2026-11-28T02:55:55Z");
  CHECK(adm_scan_iso("2026-11-28T02:55:55Z", &t) && t == 1795834555);
  CHECK(!adm_scan_iso("2026-11-28T02:55:55", &t));
  CHECK(!adm_scan_iso("2026-13-28T02:55:55Z", &t));
  CHECK(!adm_scan_iso("2026-11-28 02:55:55Z", &t));
  CHECK(!adm_scan_iso("", &t));
  CHECK(!adm_scan_iso("2026-02-30T00:00:00Z", &t));
  CHECK(!adm_scan_iso("2026-11-28T02:55:60Z", &t));
  CHECK(adm_scan_iso("2028-02-29T00:00:00Z", &t));
  CHECK(adm_scan_when("1795834555", 0, &t) && t == 1795834555);
  CHECK(adm_scan_when("2026-11-28", 0, &t) && t == 1795824000);
  CHECK(adm_scan_when("2026-11-28T02:55", 0, &t) && t == 1795834500);
  CHECK(adm_scan_when("2026-11-28T02:55:55Z", 0, &t) && t == 1795834555);
  CHECK(adm_scan_when("2h", 10000, &t) && t == 10000 - 7200);
  CHECK(adm_scan_when("3d", 100, &t) && t == 0);
  CHECK(!adm_scan_when("yesterday", 0, &t));
  CHECK(!adm_scan_when("2026-11", 0, &t));
  CHECK(!adm_scan_when("-5", 0, &t));
  CHECK(!adm_scan_when("", 0, &t));
}

static int parse(const char *s, struct trk_event *e)
{
  static char buf[512];
  size_t n = strlen(s);
  memcpy(buf, s, n + 1);
  return trk_parse(buf, n, e);
}

static void track_lines(void)
{
  struct trk_event e;
  CHECK(parse("2026-11-28T02:55:55Z\tdeferred\t6b0a4210827530043b1\t<a@b>\talice@x.test\tu@slow.test\t-\t451 4.3.0 try later", &e));
  CHECK(e.t == 1795834555);
  CHECK_STR(e.event, "deferred");
  CHECK_STR(e.id, "6b0a4210827530043b1");
  CHECK_STR(e.msgid, "<a@b>");
  CHECK_STR(e.sender, "alice@x.test");
  CHECK_STR(e.rcpt, "u@slow.test");
  CHECK_STR(e.peer, "");
  CHECK_STR(e.result, "451 4.3.0 try later");
  CHECK(parse("2026-11-28T02:55:55Z\treceived\tid\t-\t<>\tu@x\t127.0.0.1\t-", &e));
  CHECK_STR(e.sender, "<>");
  CHECK_STR(e.result, "");
  CHECK(!parse("2026-11-28T02:55:55Z\treceived\tid\t-\t<>\tu@x\t127.0.0.1", &e));        /* 7 fields */
  CHECK(!parse("yesterday\treceived\tid\t-\t<>\tu@x\t-\t-", &e));
  CHECK(!parse("2026-11-28T02:55:55Z\t-\tid\t-\t<>\tu@x\t-\t-", &e));
  CHECK(!parse("", &e));
  CHECK(parse("2026-11-28T02:55:55Z\tdelivered\tid\t-\ta\tb\t-\ttext\twith a tab", &e));
  CHECK_STR(e.result, "text\twith a tab");
}

static void held(void)
{
  stralloc out = {0};
  const char text[] = "Slow.Test\n\n# comment\n  @other.test  \nthird.test";
  CHECK(held_parse(text, sizeof text - 1, &out) == 0);
  CHECK(out.len == 32 && !memcmp(out.s, "slow.test\0other.test\0third.test\0", 32));
  CHECK(held_parse("", 0, &out) == 0 && out.len == 0);
  CHECK(held_parse("a\0b\nc\n", 6, &out) == 0 && out.len == 2 && !memcmp(out.s, "c\0", 2));
  stralloc_free(&out);
}

static char tmpdir[] = "/tmp/t_admin.XXXXXX";

static void put(const char *rel, const char *text, size_t len)
{
  stralloc p = {0};
  int fd;
  stralloc_copys(&p, tmpdir); stralloc_cats(&p, "/"); stralloc_cats(&p, rel); stralloc_0(&p);
  fd = open(p.s, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  CHECK(fd >= 0 && write_all(fd, text, len) == 0);
  close(fd);
  stralloc_free(&p);
}

static void track_files(void)
{
  stralloc names = {0};
  CHECK(mkdir_p(tmpdir, 0755) == 0);
  put("current", "", 0);
  put("@1795834555.s", "", 0);
  put("@999999999.s", "", 0);
  put("@17958345x5.s", "", 0);
  put("other", "", 0);
  CHECK(trk_files(tmpdir, &names) == 0);
  CHECK(names.len == 35 && !memcmp(names.s, "@999999999.s\0@1795834555.s\0current", 35));
  stralloc_free(&names);
}

/* a queue file: message, envelope, trailer */
static void queue_file(const char *rel, const char *msg, const char *env, size_t envlen)
{
  struct qtrailer t = { strlen(msg), envlen, 1795834555 };
  char tr[QTRAILER_LEN];
  stralloc f = {0};
  qtrailer_pack(tr, &t);
  stralloc_copys(&f, msg); stralloc_catb(&f, env, envlen); stralloc_catb(&f, tr, QTRAILER_LEN);
  put(rel, f.s, f.len);
  stralloc_free(&f);
}

static void view(void)
{
  static const char env[] = "Falice@site.test\0Tu@slow.test\0Tv@other.test\0";
  static const char envnote[] = "Falice@site.test\0Tu@slow.test\0Tv@other.test\0Icontent=-/10\0";
  static const char info[] = "IMCI1\t6b0a4210827530043b1\nq\t1795834555\th\n"
                             "r\tP\t2\t1795840000\t1795834600\tR\tslow.test\tu@slow.test\tu@slow.test\t451 later\n"
                             "r\tD\t1\t0\t1795834600\tR\tother.test\tv@other.test\tv@other.test\t250 ok\nend\t2\n";
  struct aqueue aq;
  struct amsg m;
  stralloc ids = {0};
  int bad;
  const char *dirs[] = { "queue", "queue/new", "queue/mess", "queue/mess/3", "queue/info", "queue/info/3",
                         "queue/quarantine", 0 };
  int i;
  for (i = 0; dirs[i]; i++) {
    stralloc p = {0};
    stralloc_copys(&p, tmpdir); stralloc_cats(&p, "/"); stralloc_cats(&p, dirs[i]); stralloc_0(&p);
    CHECK(mkdir_p(p.s, 0755) == 0);
    stralloc_free(&p);
  }
  setenv("IMC_HOME", tmpdir, 1);
  queue_file("queue/mess/3/6b0a4210827530043b1", "Subject: x\n\nbody\n", env, sizeof env);
  put("queue/info/3/6b0a4210827530043b1", info, sizeof info - 1);
  queue_file("queue/new/6b0a4210827530044b2", "Subject: y\n\n", envnote, sizeof envnote);
  put("queue/quarantine/6b0a4210827530045b3", "junk", 4);
  put("queue/info/held", "other.test\n", 11);
  CHECK(aq_open(&aq) == 0);
  CHECK(aq_ids(&aq, &ids) == 0 && ids.len == 40);
  CHECK(!strcmp(ids.s, "6b0a4210827530043b1") && !strcmp(ids.s + 20, "6b0a4210827530044b2"));
  CHECK(aq_where(&aq, "6b0a4210827530043b1") == AREA_MESSQ);
  CHECK(aq_where(&aq, "6b0a4210827530044b2") == AREA_NEWQ);
  CHECK(aq_where(&aq, "6b0a4210827530045b3") == AREA_QUAR);
  CHECK(aq_where(&aq, "6b0a4210827530046b4") == 0);
  CHECK(aq_domain_held(&aq, "OTHER.test") && !aq_domain_held(&aq, "slow.test"));
  CHECK(amsg_load(&aq, &m, "6b0a4210827530043b1", AREA_MESSQ, &bad) == 1);
  CHECK(m.info == 1 && m.q.n == 2 && (m.q.flags & QI_HELD) && m.msglen == 17);
  CHECK_STR(m.sender.s, "alice@site.test");
  CHECK_STR(amsg_rcpt_state(&aq, &m, &m.q.r[0]), "held");
  CHECK_STR(amsg_rcpt_state(&aq, &m, &m.q.r[1]), "delivered");
  amsg_free(&m);
  CHECK(amsg_load(&aq, &m, "6b0a4210827530044b2", AREA_NEWQ, &bad) == 1);
  CHECK(m.info == 0 && m.q.n == 2 && m.q.r[0].state == QI_PENDING && m.q.r[0].kind == QI_REMOTE);
  CHECK_STR(m.q.r[0].target.s, "slow.test");
  CHECK_STR(amsg_rcpt_state(&aq, &m, &m.q.r[0]), "queued");     /* plain text: no conversion */
  CHECK_STR(amsg_rcpt_state(&aq, &m, &m.q.r[1]), "held");       /* other.test is a held destination */
  m.facts.known = 0;                                             /* no content note: a copy is needed */
  CHECK_STR(amsg_rcpt_state(&aq, &m, &m.q.r[0]), "converting");
  put("queue/mess/3/6b0a4210827530044b2.default", "Subject: y\n\n", 11);
  CHECK_STR(amsg_rcpt_state(&aq, &m, &m.q.r[0]), "queued");     /* the copy is made */
  amsg_free(&m);
  CHECK(amsg_load(&aq, &m, "6b0a4210827530045b3", AREA_QUAR, &bad) == 0 && bad == 1);
  CHECK(amsg_load(&aq, &m, "6b0a4210827530046b4", AREA_NEWQ, &bad) == 0 && bad == 0);
  aq_close(&aq);
  stralloc_free(&ids);
}

int main(void)
{
  if (!mkdtemp(tmpdir)) return 111;
  ages();
  times();
  track_lines();
  held();
  track_files();
  view();
  {
    char cmd[64] = "rm -rf ";
    strcat(cmd, tmpdir);
    if (system(cmd)) { }
  }
  return check_done("t_admin");
}
