/*
 * imc-qstat -- the state of the queue at a glance.
 *
 *     imc-qstat        a table for people
 *     imc-qstat -m     stable key=value lines for scripts (man imc-qstat)
 *
 * Input: the queue of $IMC_HOME (default /var/imc), read only: new/,
 * mess/H/, info/H/ (state files), info/held, quarantine/, ctl/.
 *
 * Output: the IMC's four queues -- inbound awaiting conversion, inbound
 * awaiting delivery, outbound awaiting conversion, outbound awaiting
 * delivery -- then deferred, held, quarantined and the total, each with
 * messages, recipients, bytes (the message sizes) and the age of the
 * oldest; then the outbound destinations, each with its pending
 * recipients, next retry, whether it is held and the last error.
 *
 * Counting: a message is counted by its pending recipients.  Inbound
 * means local recipients (delivered to a Maildir here), outbound remote
 * ones; a message with both is counted once in each.  Deferred: pending
 * recipients tried at least once and not held; held: pending recipients of
 * a held message or a held destination.  Both are parts of the two
 * delivery queues.  Awaiting conversion: pending recipients whose content
 * profile needs a converted copy that imc-send has not made yet
 * (docs/INTERNALS.md section 14); they are not in the delivery queues.
 *
 * Exit codes: 0; 100 usage; 111 the queue cannot be read.
 */
#include <stdlib.h>
#include <string.h>
#include "admin.h"
#include "diag.h"
#include "exitcodes.h"

enum { Q_INCONV, Q_IN, Q_OUTCONV, Q_OUT, Q_DEFERRED, Q_HELD, Q_QUAR, Q_TOTAL, Q_N };

static const char *const qkey[Q_N] = { "inbound-conversion", "inbound-delivery", "outbound-conversion",
  "outbound-delivery", "deferred", "held", "quarantine", "total" };
static const char *const qname[Q_N] = { "inbound awaiting conversion", "inbound awaiting delivery",
  "outbound awaiting conversion", "outbound awaiting delivery", "deferred", "held", "quarantined", "total" };

struct count { unsigned long msgs, rcpts; unsigned long long bytes; unsigned long oldest; };

#define DEST_HASH 1024
struct dest {
  char *domain;
  unsigned long rcpts, msgs, next, last, attempts;
  unsigned long lastmsg;        /* the message last counted (its sequence number), so each counts once */
  char *error;
  struct dest *hnext;
};

static struct count counts[Q_N];
static struct dest *dests[DEST_HASH];
static unsigned long ndests;
static struct aqueue aq;
static unsigned long msgseq;    /* numbers the messages as they are read, from 1 */

static void count_add(int q, unsigned long rcpts, const struct amsg *m)
{
  struct count *c = &counts[q];
  unsigned long age = aq.now > m->qtime ? aq.now - m->qtime : 0;
  c->msgs++;
  c->rcpts += rcpts;
  c->bytes += m->msglen;
  if (age > c->oldest) c->oldest = age;
}

static struct dest *dest_get(const char *domain)
{
  unsigned h = 5381;
  const char *s;
  struct dest *d;
  for (s = domain; *s; s++) h = h * 33 + (unsigned char)*s;
  h %= DEST_HASH;
  for (d = dests[h]; d; d = d->hnext) if (!strcmp(d->domain, domain)) return d;
  if (!(d = calloc(1, sizeof *d)) || !(d->domain = strdup(domain))) adm_nomem();
  d->next = ~0UL;
  d->hnext = dests[h];
  dests[h] = d;
  ndests++;
  return d;
}

/* one pending remote recipient into its destination */
static void dest_add(const struct amsg *m, const struct qinfo_rcpt *r, int held)
{
  struct dest *d = dest_get(r->target.s);
  unsigned long next = r->next > m->qtime ? r->next : m->qtime;
  d->rcpts++;
  if (d->lastmsg != msgseq) { d->msgs++; d->lastmsg = msgseq; }
  if (!held && next < d->next) d->next = next;
  if (r->attempts > d->attempts) d->attempts = r->attempts;
  if (r->reply.len && (r->last >= d->last || !d->error)) {
    free(d->error);
    if (!(d->error = strdup(r->reply.s))) adm_nomem();
    d->last = r->last;
  }
}

struct tally { unsigned long in, out, inconv, outconv, deferred, held, pending; };

static void tally_rcpt(const struct amsg *m, const struct qinfo_rcpt *r, struct tally *t)
{
  int held = amsg_rcpt_held(&aq, m, r);
  if (r->state != QI_PENDING) return;
  t->pending++;
  if (!held && !r->attempts && amsg_rcpt_converting(&aq, m, r)) {
    if (r->kind == QI_LOCAL) t->inconv++; else t->outconv++;
    return;
  }
  if (r->kind == QI_LOCAL) t->in++;
  else { t->out++; dest_add(m, r, held); }
  if (held) t->held++;
  else if (r->attempts) t->deferred++;
}

static void on_message(struct amsg *m, void *ctx)
{
  struct tally t = { 0, 0, 0, 0, 0, 0, 0 };
  (void)ctx;
  unsigned long i;
  msgseq++;
  for (i = 0; i < m->q.n; i++) tally_rcpt(m, &m->q.r[i], &t);
  count_add(Q_TOTAL, t.pending, m);
  if (t.inconv) count_add(Q_INCONV, t.inconv, m);
  if (t.outconv) count_add(Q_OUTCONV, t.outconv, m);
  if (t.in) count_add(Q_IN, t.in, m);
  if (t.out) count_add(Q_OUT, t.out, m);
  if (t.deferred) count_add(Q_DEFERRED, t.deferred, m);
  if (t.held) count_add(Q_HELD, t.held, m);
}

static void on_quarantined(const struct aquar *q, void *ctx)
{
  struct count *c = &counts[Q_QUAR];
  (void)ctx;
  c->msgs++;
  c->bytes += q->size;
  if (aq.now > q->time && aq.now - q->time > c->oldest) c->oldest = aq.now - q->time;
}

static void scan(void)
{
  aq_walk(&aq, on_message, on_quarantined, 0);
}

/* held destinations without pending recipients are shown too: they are paused */
static void held_dests(void)
{
  size_t pos = 0;
  while (pos < aq.held.len) {
    dest_get(aq.held.s + pos);
    pos += strlen(aq.held.s + pos) + 1;
  }
}

static int cmp_dest(const void *a, const void *b)
{
  return strcmp((*(struct dest *const *)a)->domain, (*(struct dest *const *)b)->domain);
}

static struct dest **dest_list(void)
{
  struct dest **v = malloc((ndests + 1) * sizeof *v), *d;
  size_t n = 0, h;
  if (!v) adm_nomem();
  for (h = 0; h < DEST_HASH; h++)
    for (d = dests[h]; d; d = d->hnext) v[n++] = d;
  qsort(v, n, sizeof *v, cmp_dest);
  v[n] = 0;
  return v;
}

/* ---- -m: key=value */

static void kv(const char *key, unsigned long v)
{
  out_puts(" ");
  out_puts(key);
  out_puts("=");
  out_putulong(v);
}

static void machine_queues(int running, unsigned long nreq)
{
  int q;
  out_puts(running ? "imc-send=running\n" : "imc-send=stopped\n");
  for (q = 0; q < Q_N; q++) {
    out_puts("queue=");
    out_puts(qkey[q]);
    kv("messages", counts[q].msgs);
    kv("recipients", counts[q].rcpts);
    kv("bytes", (unsigned long)counts[q].bytes);
    kv("oldest", counts[q].oldest);
    out_puts("\n");
  }
  out_puts("requests=");
  out_putulong(nreq);
  out_puts("\n");
}

static void machine_dests(struct dest **v)
{
  for (; *v; v++) {
    struct dest *d = *v;
    out_puts("dest=");
    out_puts(d->domain);
    kv("recipients", d->rcpts);
    kv("messages", d->msgs);
    kv("next", d->next == ~0UL ? 0 : d->next);
    kv("attempts", d->attempts);
    kv("held", (unsigned long)aq_domain_held(&aq, d->domain));
    out_puts(" error=");
    if (d->error) adm_putclean(d->error, strlen(d->error));
    out_puts("\n");
  }
}

/* ---- the table */

static void human_count(int q)
{
  char age[ADM_AGE];
  adm_pad(qname[q], 30);
  adm_rnum(counts[q].msgs, 9);
  if (q == Q_QUAR) adm_rpad("-", 12); else adm_rnum(counts[q].rcpts, 12);
  adm_rnum((unsigned long)counts[q].bytes, 12);
  if (counts[q].msgs) adm_age(age, counts[q].oldest); else strcpy(age, "-");
  out_puts("  ");
  out_puts(age);
  out_puts("\n");
}

static void human_queues(int running, unsigned long nreq)
{
  int q;
  out_puts(running ? "imc-send is running" : "imc-send is not running");
  if (nreq) {
    out_puts("; ");
    out_putulong(nreq);
    out_puts(nreq == 1 ? " request waits in queue/ctl/" : " requests wait in queue/ctl/");
  }
  out_puts("\n\n");
  adm_pad("queue", 30);
  out_puts(" messages  recipients       bytes  oldest\n");
  for (q = 0; q < Q_N; q++) human_count(q);
}

static void human_next(const struct dest *d)
{
  char buf[ADM_AGE + 8] = "in ";
  if (aq_domain_held(&aq, d->domain)) strcpy(buf, "held");
  else if (d->next == ~0UL) strcpy(buf, "-");
  else if (d->next <= aq.now) strcpy(buf, "now");
  else adm_age(buf + 3, d->next - aq.now);
  adm_pad(buf, 12);
}

static void human_dests(struct dest **v)
{
  out_puts("\noutbound by destination\n");
  if (!*v) { out_puts("(none)\n"); return; }
  adm_pad("destination", 30);
  out_puts("recipients  next retry  last error\n");
  for (; *v; v++) {
    adm_pad((*v)->domain, 29);
    out_puts(" ");
    adm_rnum((*v)->rcpts, 10);
    out_puts("  ");
    human_next(*v);
    if ((*v)->error) adm_putclean((*v)->error, strlen((*v)->error)); else out_puts("-");
    out_puts("\n");
  }
}

int main(int argc, char **argv)
{
  int machine = 0, running;
  unsigned long nreq = 0, oldest;
  struct dest **v;
  diag_prog = "imc-qstat";
  if (argc == 2 && !strcmp(argv[1], "-m")) machine = 1;
  else if (argc != 1) usage("[-m]");
  if (aq_open(&aq) < 0) fatalsys(EX_TEMP, "unable to read ", aq_failed(&aq));
  scan();
  held_dests();
  running = req_sender_running(&aq) == 1;
  if (req_pending(&aq, &nreq, &oldest) < 0) nreq = 0;
  v = dest_list();
  if (machine) { machine_queues(running, nreq); machine_dests(v); }
  else { human_queues(running, nreq); human_dests(v); }
  out_flush();
  free(v);
  aq_close(&aq);
  return EX_OK;
}
