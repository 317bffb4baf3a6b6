/*
 * t_dequeue.c -- control/dequeue (lib/dequeue.c): the line syntax, its
 * errors with line numbers, the file read from an instance (missing: no
 * lines), and the schedule (dequeue_next) for every= and at= across
 * midnight.
 */
#include <string.h>
#include "check.h"
#include "control.h"
#include "dequeue.h"
#include "fixture.h"

static void test_parse(void)
{
  static const char text[] =
    "# providers\n"
    "[192.0.2.1]:2525 every=15m etrn=Our.Test,other.test\n"   /* 2 */
    "MX.Provider.Example at=06:00,18:30\n"                     /* 3 */
    "bad.example every=0\n"                                    /* 4 */
    "bad.example at=24:00\n"                                   /* 5 */
    "bad.example at=6:00\n"                                    /* 6 */
    "bad.example every=1m etrn=a.test etrn=b.test\n"           /* 7 */
    "bad.example every=1m etrn=-bad-.test\n"                 /* 8 */
    "bad.example\n"                                            /* 9 */
    "bad.example sometimes\n"                                  /* 10 */
    "bad.example every=1m fast\n"                              /* 11 */
    "mx.provider.example:25 every=1h\n"                        /* 12: listed twice */
    "[192.0.2.300] every=1h\n"                                 /* 13 */
    "mx.provider.example:26 every=90\n";                       /* 14 */
  static const char expect[] =
    "dequeue:4: every= takes a time: 90, 90s, 15m, 4h, 1d (not 0)\n"
    "dequeue:5: at= takes times HH:MM (UTC), separated by commas\n"
    "dequeue:6: at= takes times HH:MM (UTC), separated by commas\n"
    "dequeue:7: etrn= given twice\n"
    "dequeue:8: etrn= takes domain names separated by commas\n"
    "dequeue:9: expected a schedule after the host: every=TIME or at=HH:MM[,HH:MM...]\n"
    "dequeue:10: expected a schedule: every=TIME or at=HH:MM[,HH:MM...]\n"
    "dequeue:11: unknown option (etrn=)\n"
    "dequeue:12: host and port listed twice\n"
    "dequeue:13: bad address literal\n";
  static struct dequeues d;
  errs[0] = 0;
  CHECK(dequeue_parse_text(&d, text, sizeof text - 1, collect) == 10);
  CHECK_STR(errs, expect);
  CHECK(d.n == 3);
  CHECK(d.l[0].line == 2 && d.l[0].host.literal && d.l[0].host.port == 2525 && d.l[0].every == 900);
  CHECK(d.l[0].ndomains == 2);
  CHECK_STR(d.l[0].domain[0], "our.test");
  CHECK_STR(d.l[0].domain[1], "other.test");
  CHECK_STR(d.l[1].host.name, "mx.provider.example");
  CHECK(d.l[1].host.port == 25 && d.l[1].every == 0 && d.l[1].nat == 2 && d.l[1].ndomains == 0);
  CHECK(d.l[1].at[0] == 360 && d.l[1].at[1] == 18 * 60 + 30);
  CHECK(d.l[2].host.port == 26 && d.l[2].every == 90);
  CHECK_STR(d.l[1].key, "MX.Provider.Example at=06:00,18:30");
  dequeue_free(&d);
  CHECK(d.n == 0);
}

/* control/dequeue from an instance: missing is no lines; errors by line */
static void test_load(void)
{
  static struct dequeues d;
  fixture_open("t_dequeue");
  errs[0] = 0;
  CHECK(dequeue_load(&d, collect) == 0 && d.n == 0);
  put("dequeue", "a.test every=1h\nb.test at=99:00\n");
  CHECK(dequeue_load(&d, collect) == 1 && d.n == 1 && d.l[0].every == 3600);
  CHECK_STR(errs, "dequeue:2: at= takes times HH:MM (UTC), separated by commas\n");
  dequeue_free(&d);
  errs[0] = 0;
  CHECK(dequeue_check(collect) == 1);
  fixture_close();
}

static void test_next(void)
{
  static struct dequeues d;
  static const char text[] = "a.test every=15m\nb.test at=18:30,06:00\n";
  long long day = 1796515200LL;                 /* a midnight, UTC */
  CHECK(day % 86400 == 0);
  CHECK(dequeue_parse_text(&d, text, sizeof text - 1, collect) == 0 && d.n == 2);
  CHECK(dequeue_next(&d.l[0], day + 100, 1) == day + 100);          /* every=: at start */
  CHECK(dequeue_next(&d.l[0], day + 100, 0) == day + 100 + 900);    /* then every 15 minutes */
  CHECK(dequeue_next(&d.l[1], day, 1) == day + 6 * 3600);           /* at=: the next listed time */
  CHECK(dequeue_next(&d.l[1], day + 6 * 3600, 0) == day + 18 * 3600 + 1800);   /* strictly after */
  CHECK(dequeue_next(&d.l[1], day + 20 * 3600, 0) == day + 86400 + 6 * 3600);  /* tomorrow */
  dequeue_free(&d);
}

int main(void)
{
  test_parse();
  test_load();
  test_next();
  return check_done("t_dequeue");
}
