/*
 * send_ctl.c -- the administrator's requests to imc-send, from queue/ctl/
 * (docs/INTERNALS.md section 13): retry, hold and release a message or a
 * destination, delete a message silently or with a bounce, requeue a
 * quarantined file.  Each request file is carried out, then removed; one
 * that cannot be parsed is removed with a log line.  Held destinations are
 * kept in queue/info/held so they stay held across restarts.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>         /* rename(2) only */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "control.h"
#include "diag.h"
#include "fileio.h"
#include "send.h"
#include "track.h"

/* ---- messages */

static void msg_hold(struct msg *m, int on, unsigned long now)
{
  if (on) m->q.flags |= QI_HELD; else m->q.flags &= ~QI_HELD;
  m->dirty = 1;
  if (on) msg_settle(m, now); else msg_retry(m, now);
}

/* every recipient still waiting ends: with a bounce, or silently ("deleted") */
static void msg_delete(struct msg *m, int bounce, unsigned long now)
{
  unsigned long i;
  for (i = 0; i < m->q.n; i++) {
    struct qinfo_rcpt *r = &m->q.r[i];
    if (r->state != QI_PENDING || m->busy[i]) continue;
    qinfo_set(&r->reply, "5.0.0 message deleted by the administrator", 42);
    r->state = bounce ? QI_FAILED : QI_BOUNCED;
    if (!bounce) track_rcpt("deleted", m, i, "by the administrator");
  }
  m->q.flags &= ~QI_HELD;
  m->dirty = 1;
  msg_settle(m, now);
}

static void requeue(const char *id, unsigned long now)
{
  stralloc from = {0}, to = {0};
  if (qpath(&from, qdir.s, "quarantine", id) == 0 && qpath(&to, qdir.s, "new", id) == 0) {
    if (rename(from.s, to.s) < 0) warnsys("unable to requeue ", id);
    else {
      info("requeued ", id);
      if (stralloc_cats(&from, ".info") && stralloc_0(&from)) unlink(from.s);
      queue_scan_new(now);
    }
  }
  stralloc_free(&from);
  stralloc_free(&to);
}

static void on_message(const char *verb, const char *id, unsigned long now)
{
  struct msg *m = msg_find(id);
  if (!strcmp(verb, "requeue")) { requeue(id, now); return; }
  if (!m) { warn("request for unknown message ", id); return; }
  if (!strcmp(verb, "retry")) msg_retry(m, now);
  else if (!strcmp(verb, "hold")) msg_hold(m, 1, now);
  else if (!strcmp(verb, "release")) msg_hold(m, 0, now);
  else if (!strcmp(verb, "delete")) msg_delete(m, 0, now);
  else if (!strcmp(verb, "bounce")) msg_delete(m, 1, now);
  else { warn("unknown request ", verb); return; }
  info(verb, " ", id);
}

static void retry_all(struct msg *m, void *vnow) { msg_retry(m, *(unsigned long *)vnow); }

static void on_domain(const char *verb, const char *d, unsigned long now)
{
  if (!strcmp(verb, "retry")) remote_retry(d, now);
  else if (!strcmp(verb, "hold")) held_set(d, 1);
  else if (!strcmp(verb, "release")) { held_set(d, 0); remote_retry(d, now); }
  else { warn("unknown request ", verb, " @", d); return; }
  info(verb, " @", d);
}

/* one request line: VERB ARG */
static void ctl_request(char *line, unsigned long now)
{
  char *p = line, *verb = ctl_word(&p), *arg = ctl_word(&p);
  if (!verb || !arg || ctl_word(&p)) { warn("bad request in queue/ctl: ", line); return; }
  if (!strcmp(arg, "*") && !strcmp(verb, "retry")) { msg_foreach(retry_all, &now); remote_retry(0, now); info("retry *"); }
  else if (arg[0] == '@' && arg[1]) on_domain(verb, arg + 1, now);
  else if (qid_valid(arg, strlen(arg))) on_message(verb, arg, now);
  else warn("bad request in queue/ctl: ", verb, " ", arg);
}

static void ctl_file_run(const char *dirpath, const char *name, unsigned long now)
{
  stralloc path = {0}, text = {0};
  if (!stralloc_copys(&path, dirpath) || !stralloc_append(&path, "/") || !stralloc_cats(&path, name)
      || !stralloc_0(&path)) return;
  if (file_read(path.s, &text) == 1 && stralloc_0(&text)) {
    char *nl = strchr(text.s, '\n');
    if (nl) *nl = 0;
    ctl_request(text.s, now);
  }
  unlink(path.s);
  stralloc_free(&path);
  stralloc_free(&text);
}

static int not_dot(const struct dirent *e) { return e->d_name[0] != '.'; }

/* in the order they were made: names are SECONDS.PID.N, compared as numbers */
void ctl_scan(unsigned long now)
{
  stralloc dirpath = {0};
  struct dirent **list;
  int n, i;
  if (imc_path(&dirpath, "queue/ctl") < 0) return;
  n = scandir(dirpath.s, &list, not_dot, versionsort);
  for (i = 0; i < n; i++) {
    ctl_file_run(dirpath.s, list[i]->d_name, now);
    free(list[i]);
  }
  if (n >= 0) free(list);
  stralloc_free(&dirpath);
}
