/*
 * send_state.c -- the files of a queued message as imc-send keeps them:
 * the queue file's path and descriptor, the recipient state file
 * (queue/info/H/ID: written new, fsync'd, renamed; then new/ID moves to
 * mess/H/ID), removal (message file first, then its state), quarantine,
 * the converted copies' files (docs/INTERNALS.md section 14) and the
 * tracking log's recipient events.  Layer 1 of imc-send (send.h): it calls
 * only the table below it and lib/.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>         /* rename(2) only */
#include <string.h>
#include <unistd.h>
#include "convert/need.h"
#include "diag.h"
#include "fileio.h"
#include "send.h"
#include "track.h"

struct config cfg;
struct directory dir;
stralloc qdir;

int msg_path(stralloc *sa, const struct msg *m)
{
  return qpath(sa, qdir.s, m->area == AREA_NEW ? "new" : "mess", m->id);
}

void msg_dsn_mail(const struct msg *m, struct dsn_params *p)
{
  if (!m->dsn_mail.len || dsn_unpack(m->dsn_mail.s, m->dsn_mail.len, 1, p) < 0) byte_zero(p, sizeof *p);
}

/* the N record of the envelope recipient `original` */
void msg_dsn_rcpt(const struct msg *m, unsigned long i, struct dsn_params *p)
{
  const stralloc *o = &m->q.r[i].original;
  size_t pos = 0;
  byte_zero(p, sizeof *p);
  while (pos < m->dsn_rcpts.len) {
    const char *t = m->dsn_rcpts.s + pos, *v = t + str_len(t) + 1;
    pos = (size_t)(v - m->dsn_rcpts.s) + str_len(v) + 1;
    if (str_len(t) == o->len && !case_diffb(t, o->len, o->s)) {
      if (dsn_unpack(v, str_len(v), 0, p) < 0) byte_zero(p, sizeof *p);
      return;
    }
  }
}

unsigned msg_dsn_wants(const struct msg *m, unsigned long i)
{
  struct dsn_params p;
  msg_dsn_rcpt(m, i, &p);
  return dsn_wants(&p);
}

int msg_open(struct msg *m)
{
  stralloc p = {0};
  if (m->fd >= 0) return 0;
  if (msg_path(&p, m) == 0) m->fd = open(p.s, O_RDONLY | O_CLOEXEC);
  stralloc_free(&p);
  return m->fd < 0 ? -1 : 0;
}

void msg_quarantine(const char *id, char area, const char *why)
{
  stralloc from = {0}, to = {0};
  if (qpath(&from, qdir.s, area == AREA_NEW ? "new" : "mess", id) == 0
      && qpath(&to, qdir.s, "quarantine", id) == 0 && rename(from.s, to.s) == 0) {
    warn("quarantined ", id, ": ", why);
    if (qpath(&from, qdir.s, "info", id) == 0 && stralloc_cats(&to, ".info") && stralloc_0(&to))
      rename(from.s, to.s);
  } else warnsys("unable to quarantine ", id);
  stralloc_free(&from);
  stralloc_free(&to);
}

void track_rcpt(const char *event, const struct msg *m, unsigned long i, const char *result)
{
  const struct qinfo_rcpt *r = &m->q.r[i];
  struct track_event e = { event, m->id, m->msgid.s, m->sender.s, r->address.s, 0, result };
  track_log(&e);
}

static int info_write(struct msg *m)
{
  stralloc text = {0}, tmp = {0}, fin = {0};
  int fd = -1, r = -1;
  char h[2] = { qid_hash(m->id), 0 };
  if (qinfo_pack(&m->q, &text) < 0 || qpath(&fin, qdir.s, "info", m->id) < 0) goto done;
  if (!stralloc_copy(&tmp, &qdir) || !stralloc_cats(&tmp, "/info/") || !stralloc_cats(&tmp, h)
      || !stralloc_cats(&tmp, "/.") || !stralloc_cats(&tmp, m->id) || !stralloc_cats(&tmp, ".tmp")
      || !stralloc_0(&tmp)) goto done;
  if ((fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0) goto done;
  if (write_all(fd, text.s, text.len) < 0 || fsync(fd) < 0) goto done;
  if (close(fd) < 0) { fd = -1; goto done; }
  fd = -1;
  if (rename(tmp.s, fin.s) < 0) goto done;
  m->has_info = 1;
  if (dir_sync_parent(fin.s) < 0) goto done;
  r = 0;
done:
  if (r < 0) { warnsys("unable to write state of ", m->id); if (tmp.len) unlink(tmp.s); }
  if (fd >= 0) close(fd);
  stralloc_free(&text);
  stralloc_free(&tmp);
  stralloc_free(&fin);
  return r;
}

int msg_save(struct msg *m)
{
  stralloc from = {0}, to = {0};
  int r = info_write(m);
  if (r == 0 && m->area == AREA_NEW) {
    r = -1;
    if (qpath(&from, qdir.s, "new", m->id) == 0 && qpath(&to, qdir.s, "mess", m->id) == 0)
      r = rename(from.s, to.s);
    if (r == 0) m->area = AREA_MESS;
    else warnsys("unable to move ", m->id, " to mess/");
  }
  if (r == 0) m->dirty = 0;
  stralloc_free(&from);
  stralloc_free(&to);
  return r;
}

/* message file first, then its state: a crash between leaves an orphan state
   file that the next start removes, never a message without its state */
void msg_remove(struct msg *m)
{
  stralloc p = {0};
  if (msg_path(&p, m) == 0 && unlink(p.s) < 0 && errno != ENOENT) warnsys("unable to remove ", p.s);
  if (m->has_info && qpath(&p, qdir.s, "info", m->id) == 0) unlink(p.s);
  conv_remove(m);
  stralloc_free(&p);
  msg_free(m);
}

int conv_path(stralloc *sa, const struct msg *m, unsigned cvi, int tmp)
{
  return conv_copy_path(sa, qdir.s, m->id, m->cv[cvi].key.s, tmp);
}

int conv_open(struct msg *m, unsigned cvi)
{
  stralloc p = {0};
  struct cvcopy *v = &m->cv[cvi];
  if (v->fd >= 0) return 0;
  if (conv_path(&p, m, cvi, 0) == 0) v->fd = open(p.s, O_RDONLY | O_CLOEXEC);
  stralloc_free(&p);
  return v->fd < 0 ? -1 : 0;
}

void conv_remove(struct msg *m)
{
  stralloc p = {0};
  unsigned k;
  for (k = 0; k < m->ncv; k++)
    if (m->cv[k].state == CV_READY && conv_path(&p, m, k, 0) == 0 && unlink(p.s) < 0 && errno != ENOENT)
      warnsys("unable to remove ", p.s);
  stralloc_free(&p);
}

/* mess/H/ID.KEY or .ID.KEY.tmp: a copy made before imc-send (re)started */
void conv_clean(const char *dirpath, const char *name)
{
  stralloc p = {0};
  if (stralloc_copys(&p, dirpath) && stralloc_append(&p, "/") && stralloc_cats(&p, name) && stralloc_0(&p))
    unlink(p.s);
  stralloc_free(&p);
}

