/*
 * send_fault.c -- connector faults: the postmaster is told, at most once an
 * hour for each kind, when control/notify has `connector` (the default):
 *   disk     free space in the queue below control/diskfree (imc-queue
 *            refuses mail until it returns);
 *   control  a control file that does not parse (imc-ctl check names them);
 *   backlog  a message has waited longer than control/queuewarn.
 * imc-send looks at start, after each HUP and once a minute.  The notice
 * is queued through imc-queue with IMC_QUEUE_RESERVE=1, which lets the
 * queue manager's own notice in below diskfree (docs/INTERNALS.md section 4).
 * The once-an-hour memory is imc-send's: a restart may repeat a notice.
 */
#include <string.h>
#include "diag.h"
#include "domains.h"
#include "route.h"
#include "send.h"

#define FAULT_EVERY 3600
enum { F_DISK, F_CONTROL, F_BACKLOG, F_N };
static unsigned long last_sent[F_N];
static stralloc first_error;           /* the first bad line found: "routes:3: bad port" */

static void note_error(const char *file, unsigned line, const char *msg)
{
  char num[FMT_ULONG];
  if (first_error.len) return;
  num[fmt_ulong(num, line)] = 0;
  if (stralloc_copys(&first_error, "control/") && stralloc_cats(&first_error, file)
      && (!line || (stralloc_append(&first_error, ":") && stralloc_cats(&first_error, num)))
      && stralloc_cats(&first_error, ": ") && stralloc_cats(&first_error, msg) && stralloc_0(&first_error)) return;
  first_error.len = 0;
}

static void fault(int kind, const char *subject, const char *text, unsigned long now)
{
  if (!(cfg.notify & NOTIFY_CONNECTOR)) return;
  if (last_sent[kind] && now < last_sent[kind] + FAULT_EVERY) return;
  warn(subject, ": ", text);
  if (admin_notice(subject, text) == 0) last_sent[kind] = now;
}

static void check_disk(unsigned long now)
{
  char pct[FMT_ULONG];
  unsigned free_pct;
  stralloc t = {0};
  if (config_disk_low(&cfg, qdir.s, &free_pct) != 1) return;
  pct[fmt_ulong(pct, free_pct)] = 0;
  if (stralloc_copys(&t, "Free space in the queue's file system is below control/diskfree (") && stralloc_cats(&t, pct)
      && stralloc_cats(&t, "% free).\nimc-smtpd answers 452 4.3.1 and imc-queue refuses mail until space returns.\n")
      && stralloc_0(&t))
    fault(F_DISK, "Connector fault: disk space low", t.s, now);
  stralloc_free(&t);
}

static void check_control(unsigned long now)
{
  struct config c;
  struct routes r;
  struct domains d;
  stralloc t = {0};
  int bad;
  first_error.len = 0;
  memset(&r, 0, sizeof r);
  memset(&d, 0, sizeof d);
  bad = config_load(&c, note_error);
  if (bad >= 0) config_free(&c);
  bad = bad != 0;
  bad |= route_load(&r, note_error) != 0;
  bad |= domains_load(&d, note_error) != 0;
  route_free(&r);
  domains_free(&d);
  if (!bad) return;
  if (stralloc_copys(&t, "A control file does not parse: ") && stralloc_cats(&t, first_error.len ? first_error.s : "(unreadable)")
      && stralloc_cats(&t, "\nimc keeps the settings it had; run imc-ctl check to see every error.\n") && stralloc_0(&t))
    fault(F_CONTROL, "Connector fault: bad control file", t.s, now);
  stralloc_free(&t);
}

struct oldest { const struct msg *m; };

static void find_oldest(struct msg *m, void *vctx)
{
  struct oldest *o = vctx;
  unsigned long i;
  if (m->q.flags & QI_HELD) return;                 /* the administrator holds it */
  for (i = 0; i < m->q.n && m->q.r[i].state != QI_PENDING; i++) ;
  if (i < m->q.n && (!o->m || m->q.qtime < o->m->q.qtime)) o->m = m;
}

static void check_backlog(unsigned long now)
{
  struct oldest o = { 0 };
  stralloc t = {0};
  char hours[FMT_ULONG];
  if (!cfg.queuewarn) return;
  msg_foreach(find_oldest, &o);
  if (!o.m || o.m->q.qtime + cfg.queuewarn > now) return;
  hours[fmt_ulong(hours, (now - o.m->q.qtime) / 3600)] = 0;
  if (stralloc_copys(&t, "The oldest message in the queue, ") && stralloc_cats(&t, o.m->id)
      && stralloc_cats(&t, ", has waited ") && stralloc_cats(&t, hours)
      && stralloc_cats(&t, " hours, longer than control/queuewarn.\nimc-qstat shows what waits and why.\n")
      && stralloc_0(&t))
    fault(F_BACKLOG, "Connector fault: queue backlog", t.s, now);
  stralloc_free(&t);
}

void faults_check(unsigned long now)
{
  check_disk(now);
  check_control(now);
  check_backlog(now);
}
