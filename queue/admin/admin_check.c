/*
 * admin_check.c -- imc-qctl check: the queue's structure against
 * docs/INTERNALS.md sections 1, 2 and 13, read only.
 *
 * What is checked: every directory exists (tmp new mess info quarantine
 * ctl, mess/0..f, info/0..f); queue/trigger is a FIFO and queue/lock a
 * file; each file in new/ and mess/H/ has an id for a name (or, in
 * mess/H/, is a converted copy ID.KEY of a message still queued), passes
 * qfile_validate, sits in the right hash directory and in one place only;
 * each state file info/H/ID parses, names its own id and has its message;
 * tmp/ holds no debris older than 36 hours; info/ and the hash
 * directories hold nothing else (info/held aside); quarantined files and
 * waiting requests are listed.
 *
 * Output: one finding per problem through the caller's function, with a
 * severity (ADM_ERROR: the structure is wrong; ADM_NOTE: a state that
 * needs the administrator or that imc-send clears by itself) and the fix:
 * a request imc-qctl can make (requeue), a poke of the trigger, or what
 * the administrator must do.  A file that vanishes during the check
 * (imc-send finished it) is no finding.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "admin.h"
#include "convert/need.h"
#include "fileio.h"

#define STALE_TMP 60               /* a state file being written takes less than this */
#define STALE_REQUEST 120          /* imc-send takes a request within its safety scan (60 s) */

struct cctx {
  const struct aqueue *aq;
  finding_fn fn;
  void *ctx;
  stralloc path;                   /* scratch: a full path */
  unsigned long nmsgs;
  int running;
};

static void report(struct cctx *c, int sev, int fix, const char *rel, const char *id, const char *what)
{
  struct finding f;
  f.sev = sev;
  f.fix = fix;
  f.rel = rel;
  f.id = id;
  f.what = what;
  c->fn(&f, c->ctx);
}

/* c->path = queue/REL[/NAME] */
static const char *full(struct cctx *c, const char *rel, const char *name)
{
  if (aq_path(c->aq, &c->path, rel) < 0) adm_nomem();
  if (name && (!stralloc_append(&c->path, "/") || !stralloc_cats(&c->path, name) || !stralloc_0(&c->path)))
    adm_nomem();
  return c->path.s;
}

/* 1 a directory, 0 missing (reported), -1 something else (reported) */
static int check_dir(struct cctx *c, const char *rel)
{
  struct stat st;
  if (lstat(full(c, rel, 0), &st) == 0 && S_ISDIR(st.st_mode)) return 1;
  if (errno == ENOENT) report(c, ADM_ERROR, FIX_SETUP, rel, 0, "directory missing");
  else report(c, ADM_ERROR, FIX_SETUP, rel, 0, "not a directory");
  return 0;
}

static void check_special(struct cctx *c)
{
  struct stat st;
  if (lstat(full(c, "trigger", 0), &st) < 0) report(c, ADM_ERROR, FIX_SETUP, "trigger", 0, "the trigger FIFO is missing");
  else if (!S_ISFIFO(st.st_mode)) report(c, ADM_ERROR, FIX_SETUP, "trigger", 0, "not a FIFO");
  if (lstat(full(c, "lock", 0), &st) == 0 && !S_ISREG(st.st_mode)) report(c, ADM_ERROR, FIX_SETUP, "lock", 0, "not a file");
}

typedef void (*entry_fn)(struct cctx *c, const char *rel, const char *name);

static void each_entry(struct cctx *c, const char *rel, entry_fn fn)
{
  stralloc dirpath = {0};
  DIR *d;
  struct dirent *e;
  if (!stralloc_copys(&dirpath, full(c, rel, 0)) || !stralloc_0(&dirpath)) adm_nomem();
  if ((d = opendir(dirpath.s)) != 0) {
    while ((e = readdir(d)) != 0)
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) fn(c, rel, e->d_name);
    closedir(d);
  } else if (errno != ENOENT) report(c, ADM_ERROR, FIX_MANUAL, rel, 0, "cannot be read: check its owner and mode");
  stralloc_free(&dirpath);
}

/* a file at queue/REL/NAME: 1 a regular file (st filled), 0 gone, -1 reported as not a file */
static int file_stat(struct cctx *c, const char *rel, const char *name, struct stat *st)
{
  if (lstat(full(c, rel, name), st) < 0) return 0;
  if (S_ISREG(st->st_mode)) return 1;
  report(c, ADM_ERROR, FIX_MANUAL, rel, name, "not a regular file: move it out of the queue");
  return -1;
}

/* "in the wrong hash directory: move it to AREA/H/ while imc-send is stopped" */
static void wrong_hash(struct cctx *c, const char *rel, const char *name)
{
  static char what[96];
  char h[2] = { qid_hash(name), 0 };
  strcpy(what, "in the wrong hash directory: move it to ");
  strncat(what, rel, 4);
  strcat(what, "/");
  strcat(what, h);
  strcat(what, "/ while imc-send is stopped");
  report(c, ADM_ERROR, FIX_MANUAL, rel, name, what);
}

static int exists_in(struct cctx *c, const char *area, const char *id)
{
  struct stat st;
  stralloc p = {0};
  int r = qpath(&p, c->aq->qdir.s, area, id) == 0 && lstat(p.s, &st) == 0;
  stralloc_free(&p);
  return r;
}

/* ---- messages */

static void check_qfile(struct cctx *c, const char *rel, const char *name, int fix)
{
  struct qfile qf = { -1, { 0, 0, 0 }, { 0, 0, 0 } };
  int r = qfile_open(&qf, full(c, rel, name));
  qfile_close(&qf);
  if (r == -2) report(c, ADM_ERROR, fix, rel, name, "fails validation (size, trailer or envelope)");
  else if (r < 0) report(c, ADM_ERROR, FIX_MANUAL, rel, name, "cannot be read: check its owner and mode");
  else if (r == 1) c->nmsgs++;
}

static void on_new(struct cctx *c, const char *rel, const char *name, struct stat *st)
{
  (void)st;
  if (exists_in(c, "mess", name)) {
    report(c, ADM_ERROR, FIX_MANUAL, rel, name, "also in mess/: one message in two places; stop imc-send and keep one");
    return;
  }
  check_qfile(c, rel, name, FIX_TRIGGER);
}

static void on_mess(struct cctx *c, const char *rel, const char *name, struct stat *st)
{
  (void)st;
  if (rel[5] != qid_hash(name)) { wrong_hash(c, rel, name); return; }
  check_qfile(c, rel, name, FIX_RESTART);
  if (!exists_in(c, "info", name))
    report(c, ADM_NOTE, FIX_NONE, rel, name, "no state file: imc-send tries every recipient again at its next start");
}

typedef void (*msg_fn)(struct cctx *c, const char *rel, const char *name, struct stat *st);

static void on_message_entry(struct cctx *c, const char *rel, const char *name, msg_fn fn)
{
  struct stat st;
  if (!qid_valid(name, strlen(name))) {
    report(c, ADM_ERROR, FIX_MANUAL, rel, name, "a stray file (not a queue id): move it out of the queue");
    return;
  }
  if (file_stat(c, rel, name, &st) == 1) fn(c, rel, name, &st);
}

static void new_entry(struct cctx *c, const char *rel, const char *name) { on_message_entry(c, rel, name, on_new); }
/* mess/H/ID.KEY (.ID.KEY.tmp): imc-send's converted copies, a cache it rebuilds */
static void mess_entry(struct cctx *c, const char *rel, const char *name)
{
  char id[QID_LEN + 1];
  if (!conv_copy_parse(name, id)) { on_message_entry(c, rel, name, on_mess); return; }
  if (!exists_in(c, "mess", id) && !exists_in(c, "new", id))
    report(c, ADM_NOTE, FIX_NONE, rel, name, "a converted copy without its message: imc-send removes it at its next start");
}

/* ---- state files */

static void check_info(struct cctx *c, const char *rel, const char *name)
{
  stralloc text = {0};
  struct qinfo q;
  int r = file_read(full(c, rel, name), &text);
  if (r == 1) {
    r = qinfo_unpack(&q, text.s, text.len);
    if (r == 0 && strcmp(q.id, name)) r = -2;
    if (r == 0) qinfo_free(&q);
    if (r == -1) adm_nomem();
    if (!exists_in(c, "mess", name) && !exists_in(c, "new", name))
      report(c, ADM_NOTE, FIX_NONE, rel, name, "a state file without its message: imc-send removes it at its next start");
    else if (r == -2) report(c, ADM_ERROR, FIX_RESTART, rel, name, "state file fails validation");
  } else if (r < 0) report(c, ADM_ERROR, FIX_MANUAL, rel, name, "cannot be read: check its owner and mode");
  stralloc_free(&text);
}

static void info_entry(struct cctx *c, const char *rel, const char *name)
{
  struct stat st;
  size_t n = strlen(name);
  if (name[0] == '.' && n == QID_LEN + 5 && qid_valid(name + 1, QID_LEN) && !strcmp(name + 1 + QID_LEN, ".tmp")) {
    if (file_stat(c, rel, name, &st) == 1 && (unsigned long)st.st_mtime + STALE_TMP < c->aq->now)
      report(c, ADM_NOTE, FIX_NONE, rel, name, "a state file left half-written: imc-send removes it at its next start");
    return;
  }
  if (!qid_valid(name, n)) { report(c, ADM_ERROR, FIX_MANUAL, rel, name, "a stray file (not a queue id): move it out of the queue"); return; }
  if (rel[5] != qid_hash(name)) { wrong_hash(c, rel, name); return; }
  if (file_stat(c, rel, name, &st) == 1) check_info(c, rel, name);
}

/* info/ itself: the hash directories, held, and file_replace's held.tmp.PID */
static void info_top_entry(struct cctx *c, const char *rel, const char *name)
{
  if (name[0] && !name[1] && strchr("0123456789abcdef", name[0])) return;
  if (!strcmp(name, "held") || !strncmp(name, "held.tmp.", 9)) return;
  report(c, ADM_ERROR, FIX_MANUAL, rel, name, "a stray file: move it out of the queue");
}

static void mess_top_entry(struct cctx *c, const char *rel, const char *name)
{
  if (name[0] && !name[1] && strchr("0123456789abcdef", name[0])) return;
  report(c, ADM_ERROR, FIX_MANUAL, rel, name, "a stray file: move it out of the queue");
}

/* ---- tmp/, quarantine/, ctl/ */

static void tmp_entry(struct cctx *c, const char *rel, const char *name)
{
  struct stat st;
  if (lstat(full(c, rel, name), &st) == 0 && (unsigned long)st.st_mtime + QUEUE_DEBRIS_AGE < c->aq->now)
    report(c, ADM_NOTE, FIX_NONE, rel, name, "debris older than 36 hours: imc-send removes it within the hour");
}

static void quar_entry(struct cctx *c, const char *rel, const char *name)
{
  struct qfile qf = { -1, { 0, 0, 0 }, { 0, 0, 0 } };
  size_t n = strlen(name);
  int r;
  if (n > 5 && !strcmp(name + n - 5, ".info")) return;
  if (!qid_valid(name, n)) { report(c, ADM_NOTE, FIX_MANUAL, rel, name, "quarantined, not a queue id: remove it when it is of no use"); return; }
  r = qfile_open(&qf, full(c, rel, name));
  qfile_close(&qf);
  if (r == 1) report(c, ADM_NOTE, FIX_REQUEUE, rel, name, "quarantined, and valid now: it can be requeued");
  else if (r != 0) report(c, ADM_NOTE, FIX_MANUAL, rel, name, "quarantined, fails validation: repair it and imc-qctl requeue it, or remove it");
}

static void ctl_entry(struct cctx *c, const char *rel, const char *name)
{
  unsigned long t;
  struct stat st;
  if (lstat(full(c, rel, name), &st) < 0) return;
  t = (unsigned long)st.st_mtime;
  if (name[0] == '.') {
    if (t + 3600 < c->aq->now) report(c, ADM_NOTE, FIX_MANUAL, rel, name, "a request left half-written: remove it");
  } else if (!c->running)
    report(c, ADM_NOTE, FIX_NONE, rel, name, "a request waiting for imc-send, which is not running");
  else if (t + STALE_REQUEST < c->aq->now)
    report(c, ADM_NOTE, FIX_NONE, rel, name, "a request imc-send has not carried out yet");
}

static void check_hashed(struct cctx *c, const char *area, entry_fn fn)
{
  char rel[8];
  int h;
  for (h = 0; h < QHASH_N; h++) {
    memcpy(rel, area, 4);
    rel[4] = '/';
    rel[5] = "0123456789abcdef"[h];
    rel[6] = 0;
    if (check_dir(c, rel)) each_entry(c, rel, fn);
  }
}

int queue_check(const struct aqueue *aq, finding_fn fn, void *ctx, unsigned long *nmsgs)
{
  struct cctx c;
  memset(&c, 0, sizeof c);
  c.aq = aq;
  c.fn = fn;
  c.ctx = ctx;
  c.running = req_sender_running(aq) == 1;
  if (!check_dir(&c, ".")) return -1;
  check_special(&c);
  if (check_dir(&c, "tmp")) each_entry(&c, "tmp", tmp_entry);
  if (check_dir(&c, "new")) each_entry(&c, "new", new_entry);
  if (check_dir(&c, "mess")) { each_entry(&c, "mess", mess_top_entry); check_hashed(&c, "mess", mess_entry); }
  if (check_dir(&c, "info")) { each_entry(&c, "info", info_top_entry); check_hashed(&c, "info", info_entry); }
  if (check_dir(&c, "quarantine")) each_entry(&c, "quarantine", quar_entry);
  if (check_dir(&c, "ctl")) each_entry(&c, "ctl", ctl_entry);
  stralloc_free(&c.path);
  *nmsgs = c.nmsgs;
  return 0;
}
