/*
 * imc-qread -- the queued messages, one line each, or one message in full.
 *
 *     imc-qread              one line per message:
 *                            ID AGE SIZE <SENDER> RECIPIENT=STATE ...
 *     imc-qread ID...        each message in full: where it is, the envelope,
 *                            every recipient's state (attempts, last reply,
 *                            next retry), its history from the tracking log,
 *                            and the header section
 *
 * Input: the queue of $IMC_HOME (default /var/imc), read only, and the
 * tracking log (log/track/, the rotated files too) for the history.
 * Recipient states: queued (pending, not tried yet), deferred (tried,
 * waiting for its next retry), held, delivered, failed and expired (a
 * bounce is being sent), bounced.  Quarantined files are listed last with
 * the state quarantined; imc-qread ID shows them too.
 *
 * Exit codes: 0; 100 usage, or an ID that is not in the queue; 111 the
 * queue cannot be read.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "admin.h"
#include "diag.h"
#include "exitcodes.h"
#include "fileio.h"
#include "header.h"

#define HEADER_MAX 65536       /* the most of a header section shown */

static struct aqueue aq;

static void put_sender(const char *s)
{
  out_puts("<");
  adm_putclean(s, strlen(s));
  out_puts(">");
}

/* ---- the list */

static void list_head(const char *id, unsigned long t, unsigned long long size)
{
  char age[ADM_AGE];
  adm_age(age, aq.now > t ? aq.now - t : 0);
  out_puts(id);
  adm_rpad(age, 7);
  adm_rnum((unsigned long)size, 10);
  out_puts("  ");
}

static void list_one(struct amsg *m)
{
  unsigned long i;
  list_head(m->id, m->qtime, m->msglen);
  put_sender(m->sender.s);
  for (i = 0; i < m->q.n; i++) {
    const struct qinfo_rcpt *r = &m->q.r[i];
    out_puts(" ");
    adm_putclean(r->address.s, r->address.len);
    out_puts("=");
    out_puts(amsg_rcpt_state(&aq, m, r));
  }
  if (m->info == -2) out_puts(" (state file fails validation)");
  out_puts("\n");
}

static void list_quarantined(const struct aquar *q, void *ctx)
{
  (void)ctx;
  list_head(q->name, q->time, q->size);
  out_puts(q->valid ? "- quarantined (valid now: imc-qctl requeue)\n" : "- quarantined\n");
}

static void list_message(struct amsg *m, void *ctx)
{
  (void)ctx;
  list_one(m);
  out_flush();
}

static int do_list(void)
{
  aq_walk(&aq, list_message, list_quarantined, 0);
  out_flush();
  return EX_OK;
}

/* ---- one message */

static void label(const char *l)
{
  out_puts("  ");
  adm_pad(l, 14);
}

static void put_time(unsigned long t)
{
  char iso[ADM_TIME], age[ADM_AGE];
  adm_iso(iso, t);
  out_puts(iso);
  if (t <= aq.now) { adm_age(age, aq.now - t); out_puts(" ("); out_puts(age); out_puts(" ago)"); }
  else { adm_age(age, t - aq.now); out_puts(" (in "); out_puts(age); out_puts(")"); }
}

static void show_where(const struct amsg *m)
{
  char h[2] = { qid_hash(m->id), 0 };
  label("where:");
  if (m->area == AREA_QUAR) out_puts("queue/quarantine/");
  else if (m->area == AREA_NEWQ) out_puts("queue/new/");
  else { out_puts("queue/mess/"); out_puts(h); out_puts("/"); }
  out_puts(m->id);
  if (m->info == 1) out_puts(m->area == AREA_QUAR ? ", state in ID.info beside it" : ", with its state file");
  else if (m->info == -2) out_puts(", its state file fails validation");
  else if (m->area == AREA_NEWQ) out_puts(" (first delivery: no state file yet)");
  out_puts("\n");
}

static void show_envelope(const struct amsg *m)
{
  size_t pos = 0, len;
  const char *val;
  char type;
  label("sender:");
  put_sender(m->sender.s);
  out_puts("\n");
  while (env_next(m->env.s, m->env.len, &pos, &type, &val, &len) == 1) {
    if (type == 'F') continue;
    label(type == 'T' ? "envelope to:" : type == 'D' || type == 'N' ? "dsn:" : "info:");
    adm_putclean(val, len);
    out_puts("\n");
  }
}

static void show_summary(const struct amsg *m)
{
  out_puts("message ");
  out_puts(m->id);
  out_puts("\n");
  show_where(m);
  label("queued:");
  put_time(m->qtime);
  out_puts("\n");
  label("size:");
  out_putulong((unsigned long)m->msglen);
  out_puts(" bytes\n");
  label("flags:");
  if (!m->q.flags) out_puts("-");
  if (m->q.flags & QI_HELD) out_puts("held ");
  if (m->q.flags & QI_WARNED) out_puts("delay-warning-sent");
  out_puts("\n");
  show_envelope(m);
}

static void show_rcpt(const struct amsg *m, const struct qinfo_rcpt *r)
{
  out_puts("recipient ");
  adm_putclean(r->address.s, r->address.len);
  out_puts("\n");
  label("state:");
  out_puts(amsg_rcpt_state(&aq, m, r));
  out_puts(r->kind == QI_LOCAL ? ", local, mailbox " : ", remote, destination ");
  adm_putclean(r->target.s, r->target.len);
  out_puts("\n");
  if (r->original.len && (r->original.len != r->address.len || memcmp(r->original.s, r->address.s, r->address.len))) {
    label("original:");
    adm_putclean(r->original.s, r->original.len);
    out_puts("\n");
  }
  label("attempts:");
  out_putulong(r->attempts);
  if (r->last) { out_puts(", the last "); put_time(r->last); }
  out_puts("\n");
  if (r->state == QI_PENDING && r->attempts && !amsg_rcpt_held(&aq, m, r)) {
    label("next retry:");
    put_time(r->next);
    out_puts("\n");
  }
  if (r->reply.len) { label("last reply:"); adm_putclean(r->reply.s, r->reply.len); out_puts("\n"); }
}

struct hist { const char *id; unsigned long n; };

static void on_event(struct trk_event *e, void *vctx)
{
  struct hist *h = vctx;
  if (strcmp(e->id, h->id)) return;
  h->n++;
  out_puts("  ");
  out_puts(e->time);
  out_puts(" ");
  adm_pad(e->event, 10);
  out_puts(" ");
  adm_putclean(e->rcpt, strlen(e->rcpt));
  if (*e->peer) { out_puts(" peer="); adm_putclean(e->peer, strlen(e->peer)); }
  if (*e->result) { out_puts(": "); adm_putclean(e->result, strlen(e->result)); }
  out_puts("\n");
}

static void show_history(const char *id)
{
  stralloc dir = {0};
  struct hist h = { id, 0 };
  out_puts("history (tracking log)\n");
  if (trk_dir(&dir) < 0) adm_nomem();
  if (trk_scan(dir.s, on_event, &h) < 0) warnsys("unable to read the tracking log ", dir.s);
  else if (!h.n) out_puts("  (no events)\n");
  stralloc_free(&dir);
}

/* the header section, each line indented */
static void show_headers(struct aqueue *q, const struct amsg *m)
{
  stralloc p = {0};
  char buf[HEADER_MAX];
  size_t want = m->msglen < sizeof buf ? (size_t)m->msglen : sizeof buf, n, pos = 0;
  ssize_t got = -1;
  int fd;
  out_puts("headers\n");
  if (qpath(&p, q->qdir.s, m->area == AREA_NEWQ ? "new" : m->area == AREA_QUAR ? "quarantine" : "mess", m->id) < 0)
    adm_nomem();
  if ((fd = open(p.s, O_RDONLY | O_CLOEXEC)) >= 0) { got = pread_full(fd, buf, want, 0); close(fd); }
  stralloc_free(&p);
  if (got < 0) { out_puts("  (unable to read the message)\n"); return; }
  n = header_end(buf, (size_t)got);
  while (pos < n) {
    char *nl = memchr(buf + pos, '\n', n - pos);
    size_t len = nl ? (size_t)(nl - buf) - pos : n - pos;
    if (len || pos + 1 < n) { out_puts("  "); adm_putclean(buf + pos, len); out_puts("\n"); }
    pos += len + 1;
  }
  if (n == (size_t)got && got == (ssize_t)sizeof buf) out_puts("  (cut)\n");
}

/* a file that fails validation: where it is, and what the tracking log knows */
static void show_bad(const char *id, char area)
{
  char h[2] = { qid_hash(id), 0 };
  out_puts("message ");
  out_puts(id);
  out_puts("\n");
  label("where:");
  out_puts(area == AREA_QUAR ? "queue/quarantine/" : area == AREA_NEWQ ? "queue/new/" : "queue/mess/");
  if (area == AREA_MESSQ) { out_puts(h); out_puts("/"); }
  out_puts(id);
  out_puts(" (fails validation: its size, trailer or envelope is wrong)\n");
  show_history(id);
}

static int do_show(const char *id)
{
  struct amsg m;
  unsigned long i;
  char area = aq_where(&aq, id);
  int bad = 0, r = area ? amsg_load(&aq, &m, id, area, &bad) : 0;
  if (r < 0) fatalsys(EX_TEMP, "unable to read message ", id);
  if (r == 0 && bad) { show_bad(id, area); return EX_OK; }
  if (r == 0) { warn(id, ": not in the queue"); return EX_PERM; }
  show_summary(&m);
  for (i = 0; i < m.q.n; i++) show_rcpt(&m, &m.q.r[i]);
  show_history(id);
  show_headers(&aq, &m);
  amsg_free(&m);
  return EX_OK;
}

int main(int argc, char **argv)
{
  int i, ex = EX_OK;
  diag_prog = "imc-qread";
  for (i = 1; i < argc; i++)
    if (!qid_valid(argv[i], strlen(argv[i]))) usage("[ID...]");
  if (aq_open(&aq) < 0) fatalsys(EX_TEMP, "unable to read ", aq_failed(&aq));
  if (argc == 1) ex = do_list();
  for (i = 1; i < argc; i++) {
    if (i > 1) out_puts("\n");
    if (do_show(argv[i]) != EX_OK) ex = EX_PERM;
    out_flush();
  }
  aq_close(&aq);
  return ex;
}
