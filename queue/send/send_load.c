/*
 * send_load.c -- imc-send reading the queue: messages from new/ (resolved
 * through the directory now), messages from mess/ (with their state file),
 * recovery at start, quarantine of files that fail validation, and removal
 * of debris.  Inputs: queue/ files (docs/INTERNALS.md).  A file that cannot
 * be read now is left for the next scan; one that fails validation is
 * quarantined with a log line; nothing here ever stops the daemon.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>         /* rename(2) only */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "addr.h"
#include "control.h"
#include "diag.h"
#include "fileio.h"
#include "header.h"
#include "log.h"
#include "convert/need.h"
#include "send.h"
#include "track.h"

#define HEAD_PEEK CONV_HEAD        /* bytes read to find the Message-ID and plan conversions */

/* sender, info records and the recipients (NUL-separated) from the envelope */
static void load_envelope(struct msg *m, const struct qfile *qf, stralloc *rcpts)
{
  size_t pos = 0, len;
  const char *val;
  char type;
  const char *last = 0;
  size_t lastlen = 0;
  rcpts->len = 0;
  m->dsn_mail.len = m->dsn_rcpts.len = 0;
  while (env_next(qf->env.s, qf->env.len, &pos, &type, &val, &len) == 1) {
    if (type == 'F') stralloc_copyb(&m->sender, val, len);
    else if (type == 'T') { stralloc_catb(rcpts, val, len), stralloc_0(rcpts); last = val; lastlen = len; }
    else if (type == 'D') stralloc_copyb(&m->dsn_mail, val, len);
    else if (type == 'N' && last) {
      stralloc_catb(&m->dsn_rcpts, last, lastlen), stralloc_0(&m->dsn_rcpts);
      stralloc_catb(&m->dsn_rcpts, val, len), stralloc_0(&m->dsn_rcpts);
    }
    else if (len > 5 && !memcmp(val, "peer=", 5)) { stralloc_copyb(&m->peer, val + 5, len - 5); m->from_net = 1; }
    else if (len > 8 && !memcmp(val, "content=", 8)) cfacts_parse(&m->facts, val, len);
    else if (len == 10 && (!memcmp(val, "dsn=double", 10) || !memcmp(val, "dsn=notice", 10))) m->double_bounce = 1;
    else if (len == 11 && !memcmp(val, "filter=drop", 11)) m->filter = 'd';
    else if (len == 11 && !memcmp(val, "filter=turf", 11)) m->filter = 't';
    else if (len == 12 && !memcmp(val, "smtputf8=yes", 12)) m->smtputf8 = 1;
  }
  stralloc_0(&m->sender);
  m->sender.len--;
  stralloc_0(&m->peer);
  m->peer.len--;
}

/* the priority from Priority:, X-Priority: or Importance:, in that order */
static int header_priority(const char *h, size_t len)
{
  stralloc v = {0};
  int p = PRIO_NORMAL;
  if (header_get(h, len, "Priority", &v) == 1 && v.len) {
    if (!case_diffb(v.s, v.len < 6 ? v.len : 6, "urgent")) p = PRIO_URGENT;
    else if (!case_diffb(v.s, v.len < 10 ? v.len : 10, "non-urgent")) p = PRIO_NONURGENT;
  } else if (header_get(h, len, "X-Priority", &v) == 1 && v.len) {
    if (v.s[0] == '1' || v.s[0] == '2') p = PRIO_URGENT;
    else if (v.s[0] == '4' || v.s[0] == '5') p = PRIO_NONURGENT;
  } else if (header_get(h, len, "Importance", &v) == 1 && v.len) {
    if (v.len >= 4 && !case_diffb(v.s, 4, "high")) p = PRIO_URGENT;
    else if (v.len >= 3 && !case_diffb(v.s, 3, "low")) p = PRIO_NONURGENT;
  }
  stralloc_free(&v);
  return p;
}

/* Message-ID (for tracking) and priority (for the lifetime) from the header
   section; the bytes read stay in buf for planning the conversions */
static size_t load_headers(struct msg *m, int fd, char *buf)
{
  size_t want = m->msglen < HEAD_PEEK ? (size_t)m->msglen : HEAD_PEEK;
  ssize_t r = pread_full(fd, buf, want, 0);
  if (r <= 0) return 0;
  if (header_get(buf, (size_t)r, "Message-ID", &m->msgid) == 1 && stralloc_0(&m->msgid)) m->msgid.len--;
  m->prio = header_priority(buf, (size_t)r);
  return (size_t)r;
}

/* ---- resolving recipients through the directory */

struct resolve_ctx { struct msg *m; const char *original; };

static int rcpt_known(const struct qinfo *q, char kind, const char *target, size_t tlen,
                      const char *addr, size_t alen)
{
  unsigned long i;
  for (i = 0; i < q->n; i++) {
    const struct qinfo_rcpt *r = &q->r[i];
    if (r->kind != kind) continue;
    if (kind == QI_LOCAL && r->target.len == tlen && !memcmp(r->target.s, target, tlen)) return 1;
    if (kind == QI_REMOTE && r->address.len == alen && !case_diffb(r->address.s, alen, addr)) return 1;
  }
  return 0;
}

static struct qinfo_rcpt *rcpt_add(struct msg *m, char state, char kind, const char *target,
                                   size_t tlen, const char *original, const char *addr, size_t alen)
{
  struct qinfo_rcpt *r = qinfo_add(&m->q);
  if (!r) return 0;
  r->state = state;
  r->kind = kind;
  if (qinfo_set(&r->target, target, tlen) < 0 || qinfo_set(&r->original, original, str_len(original)) < 0
      || qinfo_set(&r->address, addr, alen) < 0) { m->q.n--; return 0; }
  return r;
}

/* a local submitter's (no peer=) envelope recipient in a domain outside
   control/addressspace, as for an SMTP relay client; a remote address
   reached through a list or contact of the directory is not checked, as
   it is not for SMTP clients either; nor is mail from the null sender
   (bounces and notices) */
static int outside_space(const struct resolve_ctx *c, const char *dom, size_t dlen,
                         const char *addr, size_t alen)
{
  if (c->m->from_net || !c->m->sender.len) return 0;
  if (str_len(c->original) != alen || case_diffb(c->original, alen, addr)) return 0;
  return !config_in_addressspace(&cfg, dom, dlen, 0);
}

static int resolved(void *vctx, char kind, const char *target, size_t tlen, const char *addr, size_t alen)
{
  static const char refused[] = "5.7.1 sender not allowed to send out through the connector";
  static const char outside[] = "5.7.1 relaying denied: the domain is outside the address space";
  struct resolve_ctx *c = vctx;
  struct qinfo_rcpt *r;
  int out = 1;
  if (rcpt_known(&c->m->q, kind, target, tlen, addr, alen)) return 0;
  if (log_enabled(LOG_ADDRESSING, LEVEL_MAXIMUM)) {
    stralloc t = {0};
    if (stralloc_copyb(&t, addr, alen) && stralloc_cats(&t, kind == QI_LOCAL ? " local " : " remote ")
        && stralloc_catb(&t, target, tlen) && stralloc_0(&t))
      log_event(LOG_ADDRESSING, LEVEL_MAXIMUM, c->m->id, " <", c->original, "> is ", t.s);
    stralloc_free(&t);
  }
  if (kind == QI_REMOTE && (out = directory_sender_out(&cfg, &dir, c->m->sender.s, c->m->sender.len)) < 0)
    return -1;
  if (kind == QI_REMOTE && !out) {
    r = rcpt_add(c->m, QI_FAILED, kind, target, tlen, c->original, addr, alen);   /* delivery restriction */
    return r && qinfo_set(&r->reply, refused, sizeof refused - 1) == 0 ? 0 : -1;
  }
  if (kind == QI_REMOTE && outside_space(c, target, tlen, addr, alen)) {
    r = rcpt_add(c->m, QI_FAILED, kind, target, tlen, c->original, addr, alen);
    return r && qinfo_set(&r->reply, outside, sizeof outside - 1) == 0 ? 0 : -1;
  }
  return rcpt_add(c->m, QI_PENDING, kind, target, tlen, c->original, addr, alen) ? 0 : -1;
}

static int resolve_all(struct msg *m, const stralloc *rcpts, unsigned long now)
{
  size_t pos = 0;
  while (pos < rcpts->len) {
    const char *rc = rcpts->s + pos;
    size_t len = str_len(rc);
    struct resolve_ctx c = { m, rc };
    int r = resolve_recipient(&cfg, &dir, rc, len, resolved, &c);
    if (r < 0) return -1;
    if (r == 0) {
      struct qinfo_rcpt *x = rcpt_add(m, QI_FAILED, QI_LOCAL, "-", 1, rc, rc, len);
      if (!x || qinfo_set(&x->reply, "5.1.1 unknown recipient: no such mailbox here", 45) < 0) return -1;
      x->last = now;
    }
    pos += len + 1;
  }
  return 0;
}

/* ---- the state file */

static int load_info(struct msg *m)
{
  stralloc p = {0}, text = {0};
  int r = -1;
  if (qpath(&p, qdir.s, "info", m->id) == 0) r = file_read(p.s, &text);
  if (r == 1) r = qinfo_unpack(&m->q, text.s, text.len) == 0 && !strcmp(m->q.id, m->id) ? 1 : -2;
  stralloc_free(&p);
  stralloc_free(&text);
  return r;
}

/* new/ID whose state file exists: imc-send stopped between the two steps of a move */
static int finish_move(struct msg *m)
{
  stralloc from = {0}, to = {0};
  int r = -1;
  if (qpath(&from, qdir.s, "new", m->id) == 0 && qpath(&to, qdir.s, "mess", m->id) == 0)
    r = rename(from.s, to.s);
  if (r == 0) m->area = AREA_MESS;
  stralloc_free(&from);
  stralloc_free(&to);
  return r;
}

static void track_received(const struct msg *m, const stralloc *rcpts)
{
  size_t pos = 0;
  while (pos < rcpts->len) {
    struct track_event e = { "received", m->id, m->msgid.s, m->sender.s, rcpts->s + pos, m->peer.s, 0 };
    track_log(&e);
    pos += str_len(rcpts->s + pos) + 1;
  }
}

/* control/archive: a link to the queue file (docs/INTERNALS.md section 1) in
   archive/in (the message has a local recipient) or archive/out (a remote
   one), named by its id.  A link costs no copy; a message loaded again after
   a crash finds its link already there.  A failure is logged and the message
   delivered all the same. */
/* when a link is not allowed (another file system; a queue file of another
   user under fs.protected_hardlinks): a copy, written new, fsync'd, renamed */
static int archive_copy(const char *from, const char *to)
{
  stralloc tmp = {0};
  char buf[65536];
  int in = -1, out = -1, r = -1;
  ssize_t n;
  if (!stralloc_copys(&tmp, to) || !stralloc_cats(&tmp, ".tmp") || !stralloc_0(&tmp)) goto done;
  if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0) goto done;
  if ((out = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0) goto done;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write_all(out, buf, (size_t)n) < 0) goto done;
  if (n == 0 && fsync(out) == 0 && close(out) == 0) { out = -1; r = rename(tmp.s, to); }
done:
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  if (r < 0 && tmp.len) unlink(tmp.s);
  stralloc_free(&tmp);
  return r;
}

/* the queue file as sub/ID (archive/in, archive/out, archive/turf): 0, -1 */
static int keep_copy(const struct msg *m, const char *sub)
{
  stralloc from = {0}, to = {0};
  int r = -1;
  if (msg_path(&from, m) == 0 && imc_path2(&to, sub, m->id) == 0) {
    r = link(from.s, to.s);
    if (r < 0 && errno == EEXIST) r = 0;
    if (r < 0 && (errno == EPERM || errno == EXDEV)) r = archive_copy(from.s, to.s);
  }
  stralloc_free(&from);
  stralloc_free(&to);
  return r;
}

static void archive_link(const struct msg *m, const char *sub)
{
  if (keep_copy(m, sub) < 0) warnsys("unable to archive ", m->id, " in ", sub);
  else log_event(LOG_ARCHIVAL, LEVEL_MEDIUM, m->id, " in ", sub);
}

/* control/filter matched the sender at SMTP time: drop, or keep a copy in archive/turf */
static void msg_filter(struct msg *m)
{
  const char *how = "dropped by control/filter";
  unsigned long i;
  if (m->filter == 't') {
    how = "moved to archive/turf by control/filter";
    if (keep_copy(m, "archive/turf") < 0) {
      warnsys("unable to keep ", m->id, " in archive/turf: delivering it");
      return;
    }
  }
  for (i = 0; i < m->q.n; i++) {
    track_rcpt("filtered", m, i, how);
    m->q.r[i].state = QI_DELIVERED;
  }
}

static void msg_archive(const struct msg *m)
{
  unsigned long i;
  int in = 0, out = 0;
  for (i = 0; i < m->q.n; i++) {
    if (m->q.r[i].state != QI_PENDING) continue;          /* unknown or refused: never delivered */
    if (m->q.r[i].kind == QI_LOCAL) in = 1; else out = 1;
  }
  if (in && (cfg.archive & ARCHIVE_IN)) archive_link(m, "archive/in");
  if (out && (cfg.archive & ARCHIVE_OUT)) archive_link(m, "archive/out");
}

/* the recipients' state: from the state file, or resolved now */
static int load_state(struct msg *m, const stralloc *rcpts, unsigned long now)
{
  int r = load_info(m);
  if (r == 1) {
    if (m->area == AREA_NEW && finish_move(m) < 0) return -1;
    m->dirty = 0;
    m->has_info = 1;
    return 0;
  }
  if (r == -2) return -2;
  if (r < 0 && errno != ENOENT) return -1;
  memcpy(m->q.id, m->id, QID_LEN + 1);
  if (resolve_all(m, rcpts, now) < 0) return -1;
  if (log_enabled(LOG_ADDRESSING, LEVEL_MEDIUM)) {
    char n[FMT_ULONG];
    n[fmt_ulong(n, m->q.n)] = 0;
    log_event(LOG_ADDRESSING, LEVEL_MEDIUM, m->id, " from <", m->sender.s, "> to ", n, " recipients");
  }
  m->dirty = 1;
  if (m->area == AREA_NEW) track_received(m, rcpts);
  if (m->filter) msg_filter(m);
  else if (cfg.archive) msg_archive(m);
  return 0;
}

static int msg_load(const char *id, char area, unsigned long now)
{
  static char head[HEAD_PEEK];
  size_t headlen;
  stralloc p = {0}, rcpts = {0};
  struct qfile qf = { -1, { 0, 0, 0 }, { 0, 0, 0 } };
  struct msg *m;
  int r;
  if (qpath(&p, qdir.s, area == AREA_NEW ? "new" : "mess", id) < 0) return -1;
  r = qfile_open(&qf, p.s);
  stralloc_free(&p);
  if (r == 0) return 0;
  if (r == -2) { msg_quarantine(id, area, "queue file fails validation"); return 0; }
  if (r < 0) { warnsys("unable to read queue file ", id); return -1; }
  if (!(m = msg_new(id, area))) { qfile_close(&qf); return -1; }
  m->msglen = qf.t.msglen;
  m->q.qtime = (unsigned long)qf.t.qtime;
  load_envelope(m, &qf, &rcpts);
  headlen = load_headers(m, qf.fd, head);
  r = load_state(m, &rcpts, now);
  if (r == 0) r = conv_plan(m, head, headlen);
  stralloc_free(&rcpts);
  qfile_close(&qf);                    /* reopened when a delivery needs it: 100,000 queued
                                          messages must not hold 100,000 descriptors */
  if (r == 0 && !(m->busy = calloc(m->q.n ? m->q.n : 1, 1))) r = -1;
  if (r < 0) {
    if (r == -2) msg_quarantine(id, area, "state file fails validation");
    else warnsys("unable to load ", id, ", will try again");
    msg_free(m);
    return r == -2 ? 0 : -1;
  }
  heap_set(m, now);                    /* scheduled on the main loop's next turn, after
                                          the administrator's requests at start */
  return 0;
}

/* ---- scanning directories */

typedef void (*entry_fn)(const char *dirpath, const char *name, unsigned long now);

static int scan_dir(const char *path, entry_fn fn, unsigned long now)
{
  DIR *d = opendir(path);
  struct dirent *e;
  if (!d) { warnsys("unable to scan ", path); return -1; }
  while ((e = readdir(d)) != 0)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) fn(path, e->d_name, now);
  closedir(d);
  return 0;
}

static void on_new(const char *dirpath, const char *name, unsigned long now)
{
  (void)dirpath;
  if (qid_valid(name, strlen(name)) && !msg_find(name)) msg_load(name, AREA_NEW, now);
}

static void on_mess(const char *dirpath, const char *name, unsigned long now)
{
  char id[QID_LEN + 1];
  if (qid_valid(name, strlen(name))) { if (!msg_find(name)) msg_load(name, AREA_MESS, now); }
  else if (conv_copy_parse(name, id)) conv_clean(dirpath, name);   /* copies are remade when needed */
}

/* a state file whose message is gone: imc-send stopped while removing it */
static void on_info(const char *dirpath, const char *name, unsigned long now)
{
  stralloc p = {0};
  (void)now;
  if (qid_valid(name, strlen(name)) && !msg_find(name) && stralloc_copys(&p, dirpath)
      && stralloc_append(&p, "/") && stralloc_cats(&p, name) && stralloc_0(&p)) unlink(p.s);
  stralloc_free(&p);
}

static void on_tmp(const char *dirpath, const char *name, unsigned long now)
{
  stralloc p = {0};
  struct stat st;
  if (stralloc_copys(&p, dirpath) && stralloc_append(&p, "/") && stralloc_cats(&p, name) && stralloc_0(&p)
      && lstat(p.s, &st) == 0 && S_ISREG(st.st_mode)
      && (name[0] == '.' || (unsigned long)st.st_mtime + QUEUE_DEBRIS_AGE < now)) {
    if (unlink(p.s) == 0) info("removed debris ", p.s);
  }
  stralloc_free(&p);
}

int queue_scan_new(unsigned long now)
{
  stralloc p = {0};
  int r = -1;
  if (imc_path2(&p, "queue", "new") == 0) r = scan_dir(p.s, on_new, now);
  stralloc_free(&p);
  return r;
}

static void scan_hashed(const char *area, entry_fn fn, unsigned long now)
{
  stralloc p = {0};
  int h;
  for (h = 0; h < QHASH_N; h++) {
    char sub[2] = { "0123456789abcdef"[h], 0 };
    if (!stralloc_copy(&p, &qdir) || !stralloc_append(&p, "/") || !stralloc_cats(&p, area)
        || !stralloc_append(&p, "/") || !stralloc_cats(&p, sub) || !stralloc_0(&p)) break;
    scan_dir(p.s, fn, now);
  }
  stralloc_free(&p);
}

/* state files being written when imc-send stopped (.ID.tmp), and orphans */
static void on_info_tmp(const char *dirpath, const char *name, unsigned long now)
{
  if (name[0] == '.') on_tmp(dirpath, name, now);
  else on_info(dirpath, name, now);
}

/* tmp/ID older than QUEUE_DEBRIS_AGE; imc-queue may still be writing younger ones */
static void on_debris(const char *dirpath, const char *name, unsigned long now)
{
  if (name[0] != '.') on_tmp(dirpath, name, now);
}

int queue_recover(unsigned long now)
{
  scan_hashed("mess", on_mess, now);
  if (queue_scan_new(now) < 0) return -1;
  scan_hashed("info", on_info_tmp, now);
  queue_debris(now);
  return 0;
}

void queue_debris(unsigned long now)
{
  stralloc p = {0};
  if (imc_path2(&p, "queue", "tmp") == 0) scan_dir(p.s, on_debris, now);
  stralloc_free(&p);
}
