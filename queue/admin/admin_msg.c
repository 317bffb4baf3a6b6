/*
 * admin_msg.c -- loading one queued message for the administration tools
 * (see admin.h): the queue file (validated), its envelope, and its
 * recipients' state.
 *
 * Recipients come from the state file info/H/ID when there is one.  A
 * message still in its first delivery has none: its envelope recipients
 * are resolved through the directory as imc-send resolves them (lists
 * expanded, contacts followed; an unknown local recipient is failed with
 * 5.1.1), each pending with no attempt.  Without usable control files each
 * envelope recipient stays as it is, remote, by its domain.
 *
 * Failure modes: amsg_load returns 0 when the file is gone or fails
 * validation (*bad set then), -1 on a read error or no memory.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "addr.h"
#include "admin.h"
#include "convert/need.h"
#include "fileio.h"

static const char unknown_reply[] = "5.1.1 unknown recipient: no such mailbox here";

static struct qinfo_rcpt *rcpt_new(struct qinfo *q, char state, char kind, const char *target, size_t tlen,
                                   const char *orig, size_t olen, const char *addr, size_t alen)
{
  struct qinfo_rcpt *r = qinfo_add(q);
  if (!r) return 0;
  r->state = state;
  r->kind = kind;
  if (qinfo_set(&r->target, target, tlen) < 0 || qinfo_set(&r->original, orig, olen) < 0
      || qinfo_set(&r->address, addr, alen) < 0 || qinfo_set(&r->reply, "", 0) < 0) return 0;
  return r;
}

struct rctx { struct qinfo *q; const char *orig; size_t olen; };

static int known(const struct qinfo *q, char kind, const char *target, size_t tlen, const char *a, size_t alen)
{
  unsigned long i;
  for (i = 0; i < q->n; i++) {
    const struct qinfo_rcpt *r = &q->r[i];
    if (r->kind != kind) continue;
    if (kind == QI_LOCAL && r->target.len == tlen && !memcmp(r->target.s, target, tlen)) return 1;
    if (kind == QI_REMOTE && r->address.len == alen && !case_diffb(r->address.s, alen, a)) return 1;
  }
  return 0;
}

static int on_resolved(void *vctx, char kind, const char *target, size_t tlen, const char *addr, size_t alen)
{
  struct rctx *c = vctx;
  if (known(c->q, kind, target, tlen, addr, alen)) return 0;
  return rcpt_new(c->q, QI_PENDING, kind, target, tlen, c->orig, c->olen, addr, alen) ? 0 : -1;
}

/* one envelope recipient as given: remote, to its domain (lower case) */
static int rcpt_plain(struct qinfo *q, const char *a, size_t len)
{
  size_t at = addr_at(a, len);
  struct qinfo_rcpt *r;
  const char *dom = at < len ? a + at + 1 : "";
  size_t dlen = at < len ? len - at - 1 : 0;
  if (!(r = rcpt_new(q, QI_PENDING, QI_REMOTE, dom, dlen, a, len, a, len))) return -1;
  case_lowerb(r->target.s, r->target.len);
  return 0;
}

static int rcpt_resolve(struct aqueue *aq, struct qinfo *q, const char *a, size_t len)
{
  struct rctx c = { q, a, len };
  struct qinfo_rcpt *r;
  int x;
  if (!aq->cfg_ok) return rcpt_plain(q, a, len);
  x = resolve_recipient(&aq->cfg, &aq->dir, a, len, on_resolved, &c);
  if (x < 0) return rcpt_plain(q, a, len);
  if (x > 0) return 0;
  if (!(r = rcpt_new(q, QI_FAILED, QI_LOCAL, "-", 1, a, len, a, len))) return -1;
  return qinfo_set(&r->reply, unknown_reply, sizeof unknown_reply - 1);
}

/* the sender and the recipients of the envelope */
static int from_envelope(struct aqueue *aq, struct amsg *m, int resolve)
{
  size_t pos = 0, len;
  const char *val;
  char type;
  while (env_next(m->env.s, m->env.len, &pos, &type, &val, &len) == 1) {
    if (type == 'F' && !stralloc_copyb(&m->sender, val, len)) return -1;
    if (type == 'I' && len > 5 && !memcmp(val, "peer=", 5)) m->from_net = 1;
    if (type == 'I' && len > 8 && !memcmp(val, "content=", 8)) cfacts_parse(&m->facts, val, len);
    if (type == 'T' && resolve && rcpt_resolve(aq, &m->q, val, len) < 0) return -1;
  }
  return stralloc_0(&m->sender) ? (m->sender.len--, 0) : -1;
}

/* info/H/ID (quarantine/ID.info beside a quarantined file): 1 read, 0 none,
   -2 fails validation, -1 error */
static int info_path(struct aqueue *aq, const struct amsg *m, stralloc *p)
{
  if (m->area != AREA_QUAR) return qpath(p, aq->qdir.s, "info", m->id);
  if (qpath(p, aq->qdir.s, "quarantine", m->id) < 0 || !stralloc_cats(p, ".info") || !stralloc_0(p)) return -1;
  p->len--;
  return 0;
}

static int load_info(struct aqueue *aq, struct amsg *m)
{
  stralloc p = {0}, text = {0};
  int r = info_path(aq, m, &p) < 0 ? -1 : file_read(p.s, &text);
  if (r == 1) {
    r = qinfo_unpack(&m->q, text.s, text.len);
    if (r == 0) r = strcmp(m->q.id, m->id) ? -2 : 1;
    if (r == -2) qinfo_free(&m->q);
  }
  stralloc_free(&p);
  stralloc_free(&text);
  return r;
}

/* the header section's first bytes, as imc-send reads them to plan conversions */
static int read_head(struct amsg *m, int fd)
{
  size_t want = m->msglen < CONV_HEAD ? (size_t)m->msglen : CONV_HEAD;
  ssize_t r;
  if (!stralloc_ready(&m->head, want + 1)) return -1;
  r = pread_full(fd, m->head.s, want, 0);
  m->head.len = r > 0 ? (size_t)r : 0;
  return 1;
}

static int read_file(struct amsg *m, const char *path, int *bad)
{
  struct qfile qf = { -1, { 0, 0, 0 }, { 0, 0, 0 } };
  struct stat st;
  int r = qfile_open(&qf, path);
  if (r == -2) *bad = 1;
  if (r != 1) return r == -2 ? 0 : r;
  m->msglen = qf.t.msglen;
  m->qtime = (unsigned long)qf.t.qtime;
  m->fsize = fstat(qf.fd, &st) == 0 ? (unsigned long long)st.st_size : 0;
  r = stralloc_copy(&m->env, &qf.env) ? 1 : -1;
  if (r == 1) r = read_head(m, qf.fd);
  qfile_close(&qf);
  return r;
}

int amsg_load(struct aqueue *aq, struct amsg *m, const char *id, char area, int *bad)
{
  stralloc p = {0};
  int r;
  memset(m, 0, sizeof *m);
  *bad = 0;
  memcpy(m->id, id, QID_LEN);
  m->area = area;
  if (qpath(&p, aq->qdir.s, area == AREA_NEWQ ? "new" : area == AREA_QUAR ? "quarantine" : "mess", id) < 0)
    return -1;
  r = read_file(m, p.s, bad);
  stralloc_free(&p);
  if (r != 1) { amsg_free(m); return r; }
  m->info = load_info(aq, m);
  if (m->info == -1) { amsg_free(m); return -1; }
  if (m->info != 1) {
    memcpy(m->q.id, id, QID_LEN + 1);
    m->q.qtime = m->qtime;
  }
  if (from_envelope(aq, m, m->info != 1) < 0) { amsg_free(m); errno = ENOMEM; return -1; }
  return 1;
}
