/*
 * send_dsn.c -- bounces: one RFC 3464 multipart/report per settlement,
 * covering every recipient that failed or expired and whose NOTIFY (RFC
 * 3461) did not leave failures out, and every one delivered (state S)
 * that asked NOTIFY=SUCCESS (Action: delivered, or relayed to a next hop
 * without DSN); delay warnings likewise go only to NOTIFY=DELAY (or no
 * NOTIFY).  ENVID and ORCPT come back as Original-Envelope-Id and
 * Original-Recipient; a notice of failure returns the message whole for
 * RET=FULL up to control/dsnfullmax, every other notice its header section.  It goes from
 * MAILER-DAEMON to the envelope sender, with the null sender so it is never bounced back.
 * A bounce of a message from the null sender goes to the postmaster once
 * (a "double bounce", marked dsn=double in its envelope); a double bounce
 * that fails is dropped with a log line.  The bounce enters the queue
 * through imc-queue like any other message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "date.h"
#include "diag.h"
#include "exitcodes.h"
#include "fileio.h"
#include "header.h"
#include "qclient.h"
#include "send.h"

#define DSN_HEADERS_MAX 65536

static int cats(stralloc *sa, const char *s) { return stralloc_cats(sa, s) ? 0 : -1; }

/* notice kinds: a delay warning, or the final notice (failures and, where
   NOTIFY=SUCCESS asked, deliveries) */
#define N_DELAY 1
#define N_FINAL 0

/* a failed recipient's reply past imc-remote's "HOST [IP]: " (section 8 of
   docs/INTERNALS.md) and a server's reply code, where its status code is */
static void past_host(const char **s, size_t *len)
{
  const char *p = *s;
  size_t n = *len, k = 0;
  while (k + 2 < n && k < 300 && !(p[k] == ']' && p[k + 1] == ':' && p[k + 2] == ' ')) k++;
  if (k + 2 < n && k < 300) { p += k + 3; n -= k + 3; }
  if (n > 4 && p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9'
      && p[3] == ' ') { p += 4; n -= 4; }
  *s = p;
  *len = n;
}

static int is_bouncing(const struct qinfo_rcpt *r, int delayed)
{
  return delayed ? r->state == QI_PENDING : r->state == QI_FAILED || r->state == QI_EXPIRED;
}

/* recipient i belongs in the notice: its state, and its NOTIFY (RFC 3461) asked for it */
static int in_notice(const struct msg *m, unsigned long i, int delayed)
{
  const struct qinfo_rcpt *r = &m->q.r[i];
  unsigned wants = msg_dsn_wants(m, i);
  if (delayed) return r->state == QI_PENDING && (wants & DSN_DELAY);
  if (r->state == QI_SUCCESS) return 1;
  return is_bouncing(r, 0) && (wants & DSN_FAILURE);
}

static unsigned long notice_count(const struct msg *m, int delayed, char state)
{
  unsigned long i, n = 0;
  for (i = 0; i < m->q.n; i++)
    if (in_notice(m, i, delayed) && (!state || m->q.r[i].state == state)) n++;
  return n;
}

/* "5.1.1" from a reply that starts with a status code (for a failed recipient,
   also past imc-remote's host and the server's code), else a default by state */
static void dsn_status(const struct qinfo_rcpt *r, char out[16])
{
  const char *s = r->reply.s ? r->reply.s : "";
  size_t len = r->reply.len, i = 0;
  char cls = r->state == QI_SUCCESS ? '2' : 0;
  if (r->state == QI_FAILED) past_host(&s, &len);
  while (i < len && i < 15 && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) i++;
  if (i >= 5 && (s[0] == '4' || s[0] == '5' || s[0] == '2') && s[1] == '.' && (!cls || s[0] == cls)) {
    memcpy(out, s, i);
    out[i] = 0;
    if (r->state == QI_FAILED && s[0] != '5') out[0] = '5';
    return;
  }
  strcpy(out, cls ? "2.0.0" : r->state == QI_EXPIRED ? "4.4.7" : "5.0.0");
}

static const char *dsn_action(const struct qinfo_rcpt *r, int delayed)
{
  if (delayed) return "delayed";
  if (r->state != QI_SUCCESS) return "failed";
  return r->kind == QI_LOCAL ? "delivered" : "relayed";
}

static int dsn_rcpt_text(stralloc *b, const struct qinfo_rcpt *r, int delayed)
{
  return cats(b, "<") || stralloc_cat(b, &r->address) == 0 || cats(b, ">: ") || cats(b, dsn_action(r, delayed))
      || cats(b, ": ") || stralloc_catb(b, r->reply.s, r->reply.len) == 0 || cats(b, "\n") ? -1 : 0;
}

/* Original-Recipient: the ORCPT given, its xtext decoded; none without ORCPT
   (RFC 3461 6.3 (d)); a list member has its list's */
static int dsn_orcpt(stralloc *b, const struct msg *m, unsigned long i)
{
  struct dsn_params p;
  size_t semi;
  msg_dsn_rcpt(m, i, &p);
  if (!p.orcpt) return 0;
  semi = byte_chr(p.orcpt, p.orcptlen, ';');
  return cats(b, "\nOriginal-Recipient: ") || !stralloc_catb(b, p.orcpt, semi + 1)
      || dsn_decode(b, p.orcpt + semi + 1, p.orcptlen - semi - 1) < 0 ? -1 : 0;
}

static int dsn_rcpt_report(stralloc *b, const struct msg *m, unsigned long i, const char *date, int delayed)
{
  const struct qinfo_rcpt *r = &m->q.r[i];
  char st[16];
  dsn_status(r, st);
  if (delayed && st[0] != '4') strcpy(st, "4.4.7");
  if (dsn_orcpt(b, m, i) < 0 || cats(b, "\nFinal-Recipient: rfc822; ") || !stralloc_cat(b, &r->address)) return -1;
  return cats(b, "\nAction: ") || cats(b, dsn_action(r, delayed)) || cats(b, "\nStatus: ") || cats(b, st)
      || cats(b, "\nDiagnostic-Code: x-imc; ") || !stralloc_catb(b, r->reply.s, r->reply.len) || cats(b, "\nLast-Attempt-Date: ") || cats(b, date)
      || cats(b, "\n") ? -1 : 0;
}

static const char *dsn_subject(const struct msg *m, int delayed, int failures)
{
  if (delayed) return "Delayed mail (still being retried)";
  if (!failures) return "Successful mail delivery report";
  return m->sender.len ? "Undelivered mail returned to sender" : "Undeliverable bounce";
}

static const char *dsn_intro(int delayed, int failures)
{
  if (delayed) return ".\n\nYour message has not been delivered yet to the recipients below.\n"
                      "The mail system will keep trying; you need not send it again.\n"
                      "The last error was:\n\n";
  if (failures) return ".\n\nYour message could not be delivered to one or more recipients.\n"
                       "The mail system said:\n\n";
  return ".\n\nYour message was delivered to the recipients below, or relayed to a mail\n"
         "system that does not report deliveries (as you asked with NOTIFY=SUCCESS):\n\n";
}

static int dsn_head(stralloc *b, const struct msg *m, const char *to, const char *boundary, const char *date,
                    int delayed)
{
  int failures = notice_count(m, delayed, QI_FAILED) + notice_count(m, delayed, QI_EXPIRED) > 0;
  return cats(b, "From: Mail Delivery System <MAILER-DAEMON@") || !stralloc_cat(b, &cfg.me)
      || cats(b, ">\nTo: <") || cats(b, to) || cats(b, ">\nSubject: ") || cats(b, dsn_subject(m, delayed, failures))
      || cats(b, "\nDate: ") || cats(b, date) || cats(b, "\nMessage-ID: <") || cats(b, m->id)
      || cats(b, ".dsn.") || cats(b, boundary + QID_LEN + 1) || cats(b, "@") || !stralloc_cat(b, &cfg.me)
      || cats(b, ">\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
                 "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"")
      || cats(b, boundary) || cats(b, "\"\n\nThis is a MIME-encapsulated message.\n\n--") || cats(b, boundary)
      || cats(b, "\nContent-Type: text/plain; charset=us-ascii\nContent-Description: Notification\n\n"
                 "This is the mail system at host ") || !stralloc_cat(b, &cfg.me)
      || cats(b, dsn_intro(delayed, failures)) ? -1 : 0;
}

/* RET=FULL (RFC 3461 4.3: for a notice of failure), at most control/dsnfullmax:
   the whole message; delay warnings and success notices return the headers */
static int return_full(const struct msg *m, int delayed)
{
  struct dsn_params p;
  if (delayed || !(notice_count(m, N_FINAL, QI_FAILED) + notice_count(m, N_FINAL, QI_EXPIRED))) return 0;
  msg_dsn_mail(m, &p);
  return p.ret == DSN_RET_FULL && cfg.dsnfullmax && m->msglen <= cfg.dsnfullmax;
}

/* the returned part: its header and the message's header section, or the whole message */
static int dsn_returned(stralloc *b, struct msg *m, int delayed)
{
  int full = return_full(m, delayed);
  size_t want = full ? (size_t)m->msglen : m->msglen < DSN_HEADERS_MAX ? (size_t)m->msglen : DSN_HEADERS_MAX;
  char *buf;
  ssize_t r;
  int ret = 0;
  if (cats(b, full ? "\nContent-Type: message/rfc822\nContent-Description: Undelivered message\n\n"
                   : "\nContent-Type: text/rfc822-headers\nContent-Description: Undelivered message headers\n\n"))
    return -1;
  if (msg_open(m) < 0) return cats(b, "(the message could not be read)\n");
  if (!(buf = malloc(want ? want : 1))) return -1;
  r = pread_full(m->fd, buf, want, 0);
  if (r < 0) ret = cats(b, "(the message could not be read)\n");
  else if (!stralloc_catb(b, buf, full ? (size_t)r : header_end(buf, (size_t)r))) ret = -1;
  free(buf);
  return ret;
}

/* the per-message fields: Original-Envelope-Id (ENVID, decoded) first */
static int dsn_message_fields(stralloc *b, const struct msg *m, const char *adate)
{
  struct dsn_params p;
  msg_dsn_mail(m, &p);
  if (p.envid && (cats(b, "Original-Envelope-Id: ") || dsn_decode(b, p.envid, p.envidlen) < 0 || cats(b, "\n")))
    return -1;
  return cats(b, "Reporting-MTA: dns; ") || !stralloc_cat(b, &cfg.me) || cats(b, "\nX-IMC-Queue-ID: ")
      || cats(b, m->id) || cats(b, "\nArrival-Date: ") || cats(b, adate) || cats(b, "\n") ? -1 : 0;
}

static int dsn_compose(stralloc *b, struct msg *m, const char *to, unsigned long now, int delayed)
{
  char date[DATE_MAX], adate[DATE_MAX], boundary[64];
  unsigned long i;
  char num[FMT_ULONG];
  date_rfc5322(date, (time_t)now);
  date_rfc5322(adate, (time_t)m->q.qtime);
  memcpy(boundary, m->id, QID_LEN);
  boundary[QID_LEN] = '/';
  boundary[QID_LEN + 1 + fmt_ulong(num, now)] = 0;
  memcpy(boundary + QID_LEN + 1, num, fmt_ulong(num, now));
  b->len = 0;
  if (dsn_head(b, m, to, boundary, date, delayed) < 0) return -1;
  for (i = 0; i < m->q.n; i++) if (in_notice(m, i, delayed) && dsn_rcpt_text(b, &m->q.r[i], delayed) < 0) return -1;
  if (cats(b, "\n--") || cats(b, boundary) || cats(b, "\nContent-Type: message/delivery-status\n"
      "Content-Description: Delivery report\n\n") || dsn_message_fields(b, m, adate) < 0) return -1;
  for (i = 0; i < m->q.n; i++) if (in_notice(m, i, delayed) && dsn_rcpt_report(b, m, i, date, delayed) < 0) return -1;
  if (cats(b, "\n--") || cats(b, boundary) || dsn_returned(b, m, delayed) < 0
      || cats(b, "\n--") || cats(b, boundary) || cats(b, "--\n")) return -1;
  return 0;
}

/* the postmaster's address: control/postmaster if it is one, else postmaster@ the first site domain */
static int postmaster_addr(stralloc *sa)
{
  if (byte_chr(cfg.postmaster.s, cfg.postmaster.len, '@') < cfg.postmaster.len)
    return stralloc_copy(sa, &cfg.postmaster) && stralloc_0(sa) ? 0 : -1;
  return stralloc_copys(sa, "postmaster@") && stralloc_cats(sa, cfg.sitedomains.s) && stralloc_0(sa) ? 0 : -1;
}

/* runs imc-queue (lib/qclient.h) on the composed bounce; its id goes into qid;
   imc-queue's exit code, or -1 when it could not be started */
static int dsn_queue(const stralloc *text, const stralloc *env, char qid[QID_LEN + 1])
{
  struct qrun q;
  qid[0] = 0;
  if (qrun_start(&q) < 0) return -1;
  write_all(q.msgfd, text->s, text->len);      /* EPIPE: imc-queue's exit code tells why */
  return qrun_finish(&q, env, qid);
}

/* the notice is out (or not wanted): failed recipients become B, delivered ones D */
static void mark_bounced(struct msg *m, const char *how)
{
  unsigned long i;
  for (i = 0; i < m->q.n; i++) {
    struct qinfo_rcpt *r = &m->q.r[i];
    if (r->state == QI_SUCCESS) r->state = QI_DELIVERED;
    if (!is_bouncing(r, 0)) continue;
    track_rcpt("bounced", m, i, in_notice(m, i, N_FINAL) ? how : "no notice: the sender asked for none (NOTIFY)");
    r->state = QI_BOUNCED;
  }
  m->dirty = 1;
}

/* does control/notify want the postmaster to get a copy of this bounce? */
static int notify_copy(const struct msg *m)
{
  unsigned long i;
  int any = 0;
  for (i = 0; i < m->q.n; i++) {
    const struct qinfo_rcpt *r = &m->q.r[i];
    const char *t = r->reply.s ? r->reply.s : "";
    if (!is_bouncing(r, 0) || !in_notice(m, i, N_FINAL)) continue;
    any = 1;
    if ((cfg.notify & NOTIFY_EXPIRED) && r->state == QI_EXPIRED) return 1;
    if ((cfg.notify & NOTIFY_UNKNOWN) && !strncmp(t, "5.1.1", 5)) return 1;
    if ((cfg.notify & NOTIFY_HOSTNOTFOUND) && (strstr(t, "5.1.2") || strstr(t, "5.4.4"))) return 1;
  }
  return any && (cfg.notify & NOTIFY_NDR);
}

/* runs compose + imc-queue for the notice to `to` (and a copy to `cc` unless it is 0);
   imc-queue's exit code, -1 if it could not run */
static int notice_queue(struct msg *m, const char *to, const char *cc, const char *dsnkind,
                        unsigned long now, char qid[QID_LEN + 1])
{
  stralloc text = {0}, env = {0};
  int code = -1;
  if (dsn_compose(&text, m, to, now, !strcmp(dsnkind, "dsn=delay")) == 0 && env_add(&env, 'F', "", 0) == 0
      && env_add(&env, 'T', to, str_len(to)) == 0 && (!cc || env_add(&env, 'T', cc, str_len(cc)) == 0)
      && env_add(&env, 'I', dsnkind, str_len(dsnkind)) == 0 && env_finish(&env) == 0)
    code = dsn_queue(&text, &env, qid);
  stralloc_free(&text);
  stralloc_free(&env);
  return code;
}

/* the delay warning, to the recipients whose NOTIFY asks for one (none: none is sent) */
int delay_send(struct msg *m, unsigned long now)
{
  stralloc to = {0};
  char qid[QID_LEN + 1];
  int code = -1;
  if (!notice_count(m, N_DELAY, 0)) return 0;
  if (stralloc_copy(&to, &m->sender) && stralloc_0(&to)) code = notice_queue(m, to.s, 0, "dsn=delay", now, qid);
  stralloc_free(&to);
  if (code != 0 && !QX_IS_PERM(code)) { warn("unable to queue the delay warning for ", m->id); return -1; }
  return 0;
}

int bounce_send(struct msg *m, unsigned long now)
{
  stralloc to = {0}, pm = {0};
  char qid[QID_LEN + 1], how[QID_LEN + 40];
  int code = -1;
  if (m->double_bounce) {
    warn("dropping the failed double bounce ", m->id);
    mark_bounced(m, "double bounce dropped");
    return 0;
  }
  if (!notice_count(m, N_FINAL, 0)) { mark_bounced(m, "no notice"); return 0; }
  if (m->sender.len ? !stralloc_copy(&to, &m->sender) || !stralloc_0(&to) : postmaster_addr(&to) < 0) goto done;
  if (m->sender.len && notify_copy(m) && postmaster_addr(&pm) < 0) goto done;
  code = notice_queue(m, to.s, pm.len ? pm.s : 0, m->sender.len ? "dsn=bounce" : "dsn=double", now, qid);
  if (code == 0) {
    strcpy(how, "bounce queued as ");
    strcat(how, qid);
    if (!notice_count(m, N_FINAL, QI_FAILED) && !notice_count(m, N_FINAL, QI_EXPIRED)) info("success notice of ", m->id, " queued as ", qid);
    mark_bounced(m, how);
  } else if (QX_IS_PERM(code)) {
    warn("bounce of ", m->id, " refused by imc-queue: dropped");
    mark_bounced(m, "bounce refused by imc-queue");
    code = 0;
  } else warn("unable to queue the bounce of ", m->id, ": will try again");
done:
  stralloc_free(&to);
  stralloc_free(&pm);
  return code == 0 ? 0 : -1;
}

/* a short plain note to the postmaster from MAILER-DAEMON (control/notify's
   conversion-failed and connector kinds); marked dsn=notice, so that it is
   never bounced */
int admin_notice(const char *subject, const char *text)
{
  stralloc msg = {0}, env = {0}, pm = {0};
  static unsigned long seq;
  char date[DATE_MAX], qid[QID_LEN + 1], num[FMT_ULONG];
  unsigned long now = (unsigned long)time(0);
  int code = -1;
  date_rfc5322(date, (time_t)now);
  num[fmt_ulong(num, now)] = 0;
  seq++;
  if (postmaster_addr(&pm) == 0
      && !cats(&msg, "From: Mail Delivery System <MAILER-DAEMON@") && stralloc_cat(&msg, &cfg.me)
      && !cats(&msg, ">\nTo: <") && !cats(&msg, pm.s) && !cats(&msg, ">\nSubject: ") && !cats(&msg, subject)
      && !cats(&msg, "\nDate: ") && !cats(&msg, date) && !cats(&msg, "\nMessage-ID: <notice.") && !cats(&msg, num)
      && stralloc_append(&msg, ".") && stralloc_catulong(&msg, (unsigned long)getpid()) && stralloc_append(&msg, ".")
      && stralloc_catulong(&msg, seq) && !cats(&msg, "@")
      && stralloc_cat(&msg, &cfg.me) && !cats(&msg, ">\nAuto-Submitted: auto-generated\n\n") && !cats(&msg, text)
      && env_add(&env, 'F', "", 0) == 0 && env_add(&env, 'T', pm.s, str_len(pm.s)) == 0
      && env_add(&env, 'I', "dsn=notice", 10) == 0 && env_finish(&env) == 0)
  {
    setenv("IMC_QUEUE_RESERVE", "1", 1);        /* the notice may say that the disk is low */
    code = dsn_queue(&msg, &env, qid);
    unsetenv("IMC_QUEUE_RESERVE");
  }
  if (code == 0) info("notified the postmaster (", qid, "): ", subject);
  else warn("unable to notify the postmaster: ", subject);
  stralloc_free(&msg);
  stralloc_free(&env);
  stralloc_free(&pm);
  return code == 0 ? 0 : -1;
}
