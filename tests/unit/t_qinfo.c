/*
 * t_qinfo.c -- the recipient state file: pack/unpack round trip, and every
 * kind of damage refused; the header reader; the tracking line format.
 */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "header.h"
#include "qinfo.h"
#include "track.h"

static void fill(struct qinfo *q)
{
  struct qinfo_rcpt *r;
  memset(q, 0, sizeof *q);
  memcpy(q->id, "6b0a4210827530043b1", QID_LEN + 1);
  q->qtime = 1795834555;
  q->flags = QI_WARNED;
  r = qinfo_add(q);
  r->state = QI_PENDING; r->kind = QI_LOCAL; r->attempts = 3; r->next = 1795840000; r->last = 1795830000;
  stralloc_copys(&r->target, "alice");
  stralloc_copys(&r->original, "team@example.com");
  stralloc_copys(&r->address, "alice@example.com");
  stralloc_copys(&r->reply, "4.2.2 mailbox full\tsecond\nline");
  r = qinfo_add(q);
  r->state = QI_BOUNCED; r->kind = QI_REMOTE;
  stralloc_copys(&r->target, "remote.example");
  stralloc_copys(&r->original, "dave@example.com");
  stralloc_copys(&r->address, "dave@remote.example");
}

static void round_trip(void)
{
  struct qinfo q, u;
  stralloc text = {0};
  fill(&q);
  CHECK(qinfo_pack(&q, &text) == 0);
  CHECK(qinfo_unpack(&u, text.s, text.len) == 0);
  CHECK_STR(u.id, q.id);
  CHECK(u.qtime == q.qtime && u.flags == QI_WARNED && u.n == 2);
  CHECK(u.r[0].state == 'P' && u.r[0].kind == 'L' && u.r[0].attempts == 3);
  CHECK(u.r[0].next == 1795840000 && u.r[0].last == 1795830000);
  CHECK_MEM(u.r[0].target.s, u.r[0].target.len, "alice");
  CHECK_MEM(u.r[0].original.s, u.r[0].original.len, "team@example.com");
  CHECK_MEM(u.r[0].reply.s, u.r[0].reply.len, "4.2.2 mailbox full second line");
  CHECK(u.r[1].state == 'B' && u.r[1].kind == 'R' && u.r[1].reply.len == 0);
  qinfo_free(&u);
  qinfo_free(&q);
  stralloc_free(&text);
}

static int unpack_text(const char *s)
{
  struct qinfo u;
  int r = qinfo_unpack(&u, s, strlen(s));
  if (r == 0) qinfo_free(&u);
  return r;
}

static void damage(void)
{
  struct qinfo q;
  stralloc text = {0};
  size_t cut;
  fill(&q);
  qinfo_pack(&q, &text);
  stralloc_0(&text);
  CHECK(unpack_text(text.s) == 0);
  for (cut = 1; cut + 1 < text.len - 1; cut++) {   /* every truncation is refused */
    char save = text.s[cut];
    text.s[cut] = 0;
    if (unpack_text(text.s) != -2) { CHECK(!"truncated state file accepted"); break; }
    text.s[cut] = save;
  }
  CHECK(unpack_text("IMCI1\t6b0a4210827530043b1\nq\t1\t-\nend\t1\n") == -2);        /* wrong count */
  CHECK(unpack_text("IMCI2\t6b0a4210827530043b1\nq\t1\t-\nend\t0\n") == -2);        /* version */
  CHECK(unpack_text("IMCI1\tnot-an-id\nq\t1\t-\nend\t0\n") == -2);
  CHECK(unpack_text("IMCI1\t6b0a4210827530043b1\nq\t1\t-\nend\t0\n") == 0);
  CHECK(unpack_text("IMCI1\t6b0a4210827530043b1\nq\t1\t-\nr\tQ\t0\t0\t0\tL\ta\tb\tc\t-\nend\t1\n") == -2);
  CHECK(unpack_text("IMCI1\t6b0a4210827530043b1\nq\t1\t-\nr\t\t0\t0\t0\tL\ta\tb\tc\t-\nend\t1\n") == -2);
  CHECK(unpack_text("IMCI1\t6b0a4210827530043b1\nq\t1\t-\nr\tP\tx\t0\t0\tL\ta\tb\tc\t-\nend\t1\n") == -2);
  CHECK(unpack_text("IMCI1\t6b0a4210827530043b1\nq\t1\t-\nr\tP\t0\t0\t0\tL\ta\tb\tc\t-\nend\t1\n") == 0);
  /* S: delivered, a success notice (NOTIFY=SUCCESS) still to be sent */
  CHECK(unpack_text("IMCI1\t6b0a4210827530043b1\nq\t1\t-\nr\tS\t1\t0\t9\tL\ta\tb\tc\t2.0.0 ok\nend\t1\n") == 0);
  CHECK(unpack_text("IMCI1\t6b0a4210827530043b1\nq\t1\t-\nend\t0\nr\tP\t0\t0\t0\tL\ta\tb\tc\t-\n") == -2);
  qinfo_free(&q);
  stralloc_free(&text);
}

static void headers(void)
{
  const char *m = "Subject: hi\nMessage-ID:\n <a@b>\n\t(c)\nTo: x\n\nMessage-ID: <body@x>\n";
  stralloc v = {0};
  CHECK(header_end(m, strlen(m)) == (size_t)(strstr(m, "\n\n") - m) + 2);
  CHECK(header_get(m, strlen(m), "message-id", &v) == 1);
  CHECK_MEM(v.s, v.len, "<a@b>\t(c)");
  CHECK(header_get(m, strlen(m), "Subject", &v) == 1);
  CHECK_MEM(v.s, v.len, "hi");
  CHECK(header_get(m, strlen(m), "From", &v) == 0);
  CHECK(header_get("To: a\r\n\r\nFrom: b\r\n", 18, "From", &v) == 0);
  CHECK(header_end("no blank line", 13) == 13);
  stralloc_free(&v);
}

static void tracking(void)
{
  char buf[512];
  size_t len;
  struct track_event e = { "delivered", "6b0a4210827530043b1", "<a@b>", "", "bob@x", 0, "2.0.0 ok\tfine" };
  track_format(buf, &len, sizeof buf, 1795834555, &e);
  CHECK_MEM(buf, len, "2026-11-28T02:55:55Z\tdelivered\t6b0a4210827530043b1\t<a@b>\t<>\tbob@x\t-\t2.0.0 ok fine\n");
  track_format(buf, &len, 40, 1795834555, &e);
  CHECK(len == 40 && buf[39] == '\n');
}

int main(void)
{
  round_trip();
  damage();
  headers();
  tracking();
  return check_done("t_qinfo");
}
