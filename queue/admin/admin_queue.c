/*
 * admin_queue.c -- a read-only view of the queue for the administration
 * tools (see admin.h and docs/INTERNALS.md sections 1 and 2).
 *
 * Inputs: queue/new/ID, queue/mess/H/ID (validated with qfile_open),
 * queue/info/H/ID (qinfo_unpack), queue/info/held, and for messages still in
 * their first delivery (no state file) the control files and the
 * directory, through which their envelope recipients are resolved exactly
 * as imc-send resolves them.  Outputs: struct amsg, one message at a time.
 *
 * Failure modes: a file that vanishes while it is read (imc-send finished
 * it) is "gone", never an error; a queue file that fails validation is
 * reported to the caller as bad (imc-send quarantines it); a state file
 * that fails validation leaves the recipients of the envelope, marked
 * info = -2.  Control files with errors leave new messages unresolved
 * (every recipient remote, by its domain) with one warning.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>
#include "addr.h"
#include "admin.h"
#include "convert/need.h"
#include "control.h"
#include "diag.h"
#include "exitcodes.h"
#include "fileio.h"

#define IDREC (QID_LEN + 1)

int aq_path(const struct aqueue *aq, stralloc *sa, const char *rel)
{
  if (!stralloc_copyb(sa, aq->qdir.s, aq->qdir.len) || !stralloc_append(sa, "/")
      || !stralloc_cats(sa, rel) || !stralloc_0(sa)) { errno = ENOMEM; return -1; }
  sa->len--;
  return 0;
}

static void quiet(const char *file, unsigned line, const char *msg) { (void)file; (void)line; (void)msg; }

/* config_load's report of a file it cannot read (line 0) */
static const char *unreadable = "";
static void note_unreadable(const char *file, unsigned line, const char *msg)
{
  (void)msg;
  if (!line) unreadable = file;
}

/* aq->failed = the path under IMC_HOME that could not be read (dir/file, or
   dir alone when file is 0); returns -1, errno kept */
static int failed(struct aqueue *aq, const char *dir, const char *file)
{
  int e = errno;
  int r = file ? imc_path2(&aq->failed, dir, file) : imc_path(&aq->failed, dir);
  if (r < 0 && !stralloc_copys(&aq->failed, "IMC_HOME")) aq->failed.len = 0;
  if (!stralloc_0(&aq->failed)) aq->failed.len = 0;
  errno = e;
  return -1;
}

const char *aq_failed(const struct aqueue *aq)
{
  return aq->failed.len ? aq->failed.s : "the instance (IMC_HOME)";
}

static int held_load(struct aqueue *aq)
{
  stralloc p = {0}, text = {0};
  int r = aq_path(aq, &p, "info/held");
  if (r == 0) r = file_read(p.s, &text);
  if (r > 0) r = held_parse(text.s, text.len, &aq->held);
  stralloc_free(&p);
  stralloc_free(&text);
  return r < 0 ? -1 : 0;
}

int aq_open(struct aqueue *aq)
{
  struct stat st;
  int r;
  memset(aq, 0, sizeof *aq);
  aq->now = (unsigned long)time(0);
  aq->dir.fd = -1;
  if (imc_path(&aq->qdir, "queue") < 0) return -1;
  if (stat(aq->qdir.s, &st) < 0) return failed(aq, "queue", 0);     /* not an instance */
  r = config_load(&aq->cfg, note_unreadable);
  if (r < 0) return failed(aq, "control", unreadable);
  if (r > 0) {
    config_free(&aq->cfg);
    warn("the control files have errors (imc-ctl check): recipients of new messages are shown unresolved");
  } else aq->cfg_ok = 1;
  if (aq->cfg_ok && directory_open(&aq->dir) < 0) return failed(aq, "control", "directory.cdb");
  if (domains_load(&aq->doms, quiet) != 0) {               /* unreadable or bad: the defaults */
    domains_free(&aq->doms);
    memset(&aq->doms, 0, sizeof aq->doms);
    domains_builtin(&aq->doms.star);
  }
  if (held_load(aq) < 0) return failed(aq, "queue", "info/held");
  return 0;
}

void aq_close(struct aqueue *aq)
{
  if (aq->cfg_ok) config_free(&aq->cfg);
  directory_close(&aq->dir);
  stralloc_free(&aq->qdir);
  stralloc_free(&aq->held);
  stralloc_free(&aq->failed);
  domains_free(&aq->doms);
}

/* ---- listing ids */

static int add_ids(const char *path, stralloc *ids)
{
  DIR *d = opendir(path);
  struct dirent *e;
  if (!d) return errno == ENOENT ? 0 : -1;
  while ((e = readdir(d)) != 0)
    if (qid_valid(e->d_name, strlen(e->d_name)) && !stralloc_catb(ids, e->d_name, IDREC)) {
      closedir(d);
      errno = ENOMEM;
      return -1;
    }
  closedir(d);
  return 0;
}

static int cmp_id(const void *a, const void *b) { return memcmp(a, b, QID_LEN); }

/* sorted, duplicates dropped (a message seen in new/ and in mess/ while it moved) */
static void sort_unique(stralloc *ids)
{
  size_t n = ids->len / IDREC, i, k = 0;
  if (!n) return;
  qsort(ids->s, n, IDREC, cmp_id);
  for (i = 1; i < n; i++)
    if (memcmp(ids->s + i * IDREC, ids->s + k * IDREC, QID_LEN))
      memmove(ids->s + ++k * IDREC, ids->s + i * IDREC, IDREC);
  ids->len = (k + 1) * IDREC;
}

int aq_ids(const struct aqueue *aq, stralloc *ids)
{
  stralloc p = {0};
  int h, r;
  ids->len = 0;
  r = aq_path(aq, &p, "new") < 0 ? -1 : add_ids(p.s, ids);
  for (h = 0; h < QHASH_N && r == 0; h++) {
    char sub[8] = "mess/x";
    sub[5] = "0123456789abcdef"[h];
    r = aq_path(aq, &p, sub) < 0 ? -1 : add_ids(p.s, ids);
  }
  stralloc_free(&p);
  if (r == 0) sort_unique(ids);
  return r;
}

static int exists(const struct aqueue *aq, const char *area, const char *id)
{
  stralloc p = {0};
  struct stat st;
  int r = qpath(&p, aq->qdir.s, area, id) == 0 && lstat(p.s, &st) == 0;
  stralloc_free(&p);
  return r;
}

char aq_where(const struct aqueue *aq, const char *id)
{
  if (!qid_valid(id, strlen(id))) return 0;
  if (exists(aq, "mess", id)) return AREA_MESSQ;
  if (exists(aq, "new", id)) return AREA_NEWQ;
  if (exists(aq, "quarantine", id)) return AREA_QUAR;
  return 0;
}

/* ---- held */

int aq_domain_held(const struct aqueue *aq, const char *domain)
{
  size_t pos = 0, n = strlen(domain);
  while (pos < aq->held.len) {
    const char *d = aq->held.s + pos;
    size_t len = strlen(d);
    if (len == n && !case_diffb(d, n, domain)) return 1;
    pos += len + 1;
  }
  return 0;
}

int amsg_rcpt_held(const struct aqueue *aq, const struct amsg *m, const struct qinfo_rcpt *r)
{
  if (r->state != QI_PENDING) return 0;
  if (m->q.flags & QI_HELD) return 1;
  return r->kind == QI_REMOTE && r->target.s && aq_domain_held(aq, r->target.s);
}

const char *amsg_rcpt_state(const struct aqueue *aq, const struct amsg *m, const struct qinfo_rcpt *r)
{
  switch (r->state) {
    case QI_PENDING:
      if (amsg_rcpt_held(aq, m, r)) return "held";
      if (r->attempts) return "deferred";
      return amsg_rcpt_converting(aq, m, r) ? "converting" : "queued";
    case QI_DELIVERED: return "delivered";
    case QI_FAILED: return "failed";
    case QI_EXPIRED: return "expired";
    case QI_BOUNCED: return "bounced";
    case QI_SUCCESS: return "delivered";
  }
  return "unknown";
}

int amsg_rcpt_converting(const struct aqueue *aq, const struct amsg *m, const struct qinfo_rcpt *r)
{
  struct domain_settings s;
  char key[CONV_KEY_MAX];
  const char *at = r->address.s ? strrchr(r->address.s, '@') : 0;
  const char *dom = r->kind != QI_LOCAL ? (r->target.s ? r->target.s : "") : at ? at + 1 : "*";
  stralloc p = {0};
  int missing;
  if (r->state != QI_PENDING || m->area == AREA_QUAR
      || !conv_profile(&aq->doms, r->kind == QI_LOCAL, m->from_net, dom, key, &s)
      || !conv_needed(&s, r->kind == QI_LOCAL, m->head.s, m->head.len, &m->facts, m->msglen)) return 0;
  missing = conv_copy_path(&p, aq->qdir.s, m->id, key, 0) == 0 && access(p.s, F_OK) < 0;
  stralloc_free(&p);
  return missing;
}

void amsg_free(struct amsg *m)
{
  stralloc_free(&m->sender);
  stralloc_free(&m->head);
  stralloc_free(&m->env);
  qinfo_free(&m->q);
}

/* ---- quarantine/ */

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* the names in quarantine/ that are files imc-send put there (ID; not ID.info, not dot files) */
static int quar_names(const char *path, char ***v, size_t *n)
{
  DIR *d = opendir(path);
  struct dirent *e;
  size_t cap = 0;
  *v = 0;
  *n = 0;
  if (!d) return errno == ENOENT ? 0 : -1;
  while ((e = readdir(d)) != 0) {
    size_t len = strlen(e->d_name);
    if (e->d_name[0] == '.' || (len > 5 && !strcmp(e->d_name + len - 5, ".info"))) continue;
    if (*n == cap) {
      char **nv = realloc(*v, (cap = cap ? cap * 2 : 32) * sizeof **v);
      if (!nv) adm_nomem();
      *v = nv;
    }
    if (!((*v)[*n] = strdup(e->d_name))) adm_nomem();
    (*n)++;
  }
  closedir(d);
  if (*n) qsort(*v, *n, sizeof **v, cmp_name);
  return 0;
}

static void quar_one(const char *dir, const char *name, aquar_fn fn, void *ctx)
{
  struct aquar q;
  struct qfile qf = { -1, { 0, 0, 0 }, { 0, 0, 0 } };
  struct stat st;
  stralloc p = {0};
  if (!stralloc_copys(&p, dir) || !stralloc_append(&p, "/") || !stralloc_cats(&p, name) || !stralloc_0(&p))
    adm_nomem();
  if (lstat(p.s, &st) == 0) {
    q.name = name;
    q.size = (unsigned long long)st.st_size;
    q.valid = S_ISREG(st.st_mode) && qfile_open(&qf, p.s) == 1;
    q.time = qid_valid(name, strlen(name)) ? qid_time(name) : (unsigned long)st.st_mtime;
    qfile_close(&qf);
    fn(&q, ctx);
  }
  stralloc_free(&p);
}

int aq_quarantine(const struct aqueue *aq, aquar_fn fn, void *ctx)
{
  stralloc p = {0};
  char **v;
  size_t n, i;
  int r = aq_path(aq, &p, "quarantine") < 0 ? -1 : quar_names(p.s, &v, &n);
  if (r == 0) {
    for (i = 0; i < n; i++) quar_one(p.s, v[i], fn, ctx);
    for (i = 0; i < n; i++) free(v[i]);
    free(v);
  }
  stralloc_free(&p);
  return r;
}

/* every message in the queue, loaded, then every quarantined file; a read
   error is fatal (the tools exit 111 with it) */
void aq_walk(struct aqueue *aq, amsg_fn fn, aquar_fn qfn, void *ctx)
{
  stralloc ids = {0};
  size_t pos;
  if (aq_ids(aq, &ids) < 0) fatalsys(EX_TEMP, "unable to read the queue ", aq->qdir.s);
  for (pos = 0; pos < ids.len; pos += QID_LEN + 1) {
    struct amsg m;
    char area = aq_where(aq, ids.s + pos);
    int bad, r = area ? amsg_load(aq, &m, ids.s + pos, area, &bad) : 0;
    if (r < 0) fatalsys(EX_TEMP, "unable to read message ", ids.s + pos, " in ", aq->qdir.s);
    if (r == 0) continue;
    fn(&m, ctx);
    amsg_free(&m);
  }
  stralloc_free(&ids);
  if (aq_quarantine(aq, qfn, ctx) < 0) fatalsys(EX_TEMP, "unable to read ", aq->qdir.s, "/quarantine");
}
