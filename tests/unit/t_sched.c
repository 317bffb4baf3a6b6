/*
 * t_sched.c -- imc-send's scheduler by itself (queue/send, layers 0-4),
 * with fake deliverers and a clock the test moves.
 *
 * The test is its own fake imc-remote and imc-local: IMC_BIN names a
 * folder where both are links to this program, so imc-send's job layer
 * starts real processes with real job lines on fd 0 and reads real
 * reports from fd 1.  Run under another name, main() is the deliverer,
 * a worker that takes batches from its job channel until EOF (each
 * batch's reports end with "."): each recipient gets K, unless the destination domain is listed in
 * $IMC_HOME/down (Z, 4.4.1) or the recipient's local part starts with
 * "perm" (D, 5.1.1); every batch is logged to $IMC_HOME/runs.log as
 * "PROG DOMAIN PRIORITY RECIPIENTS pid=PID", so that a batch given to a
 * waiting worker shows.  Bounces and delay notices are
 * recorded, not queued (the hooks are replaced).  Time is what the test
 * passes as `now`: retries per control/retry, per-destination backoff,
 * maxoutbound and maxperhost (counting workers), cached workers and their
 * idle limit, priorities and their lifetimes, delay warnings and held
 * messages are checked to the second; and a NOTIFY=SUCCESS delivery's
 * state S, kept while its notice cannot be queued.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include "check.h"
#include "fileio.h"
#include "fixture.h"
#include "../../queue/send/send.h"

#define T0 1700000000UL

static char self[4096];
static unsigned long nbounce, ndelay;
static int bounce_fails;          /* the bounce hook fails, as when imc-queue cannot queue the notice */
static char last_bounce[QID_LEN + 1];

/* ---- the fake deliverer */

static const char *field(char **p)
{
  char *s = *p, *t;
  if (!s) return 0;
  t = strchr(s, '\t');
  if (t) { *t = 0; *p = t + 1; } else { char *nl = strchr(s, '\n'); if (nl) *nl = 0; *p = 0; }
  return s;
}

static int domain_down(const char *domain)
{
  char path[256], line[256];
  FILE *f;
  int down = 0;
  snprintf(path, sizeof path, "%s/down", getenv("IMC_HOME"));
  if (!(f = fopen(path, "r"))) return 0;
  while (!down && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    down = !strcmp(line, domain);
  }
  fclose(f);
  return down;
}

/* one batch's job lines: a line in runs.log, a report per recipient */
static void fake_batch(FILE *log, const char *prog, const char *domain, char *in)
{
  int remote = !strcmp(prog, "imc-remote");
  char *line, *next;
  fprintf(log, "%s %s", prog, remote ? domain : "-");
  for (line = in; line && *line; line = next) {
    char *p = line;
    const char *a;
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    field(&p); field(&p);                            /* FD MSGLEN */
    fprintf(log, " %s", remote ? field(&p) : "-");   /* PRIORITY */
    field(&p);                                       /* SENDER */
    while ((a = field(&p)) != 0) {
      if (!remote && !(a = field(&p))) break;       /* MAILBOX, then the recipient */
      fprintf(log, " %s", a);
      if (!strncmp(a, "perm", 4)) printf("D5.1.1 no such user\n");
      else if (remote && domain_down(domain)) printf("Z4.4.1 connection refused\n");
      else printf("Kok\n");
    }
  }
  fprintf(log, " pid=%ld\n", (long)getpid());
}

/* batches on the job channel (or one on fd 0) until EOF, each ended with "." */
static int fake_deliverer(const char *prog, const char *domain)
{
  char path[256];
  struct jobsrc src;
  stralloc in = {0};
  jobsrc_init(&src);
  snprintf(path, sizeof path, "%s/runs.log", getenv("IMC_HOME"));
  while (jobsrc_next(&src, &in, 1 << 24) > 0) {
    FILE *log = fopen(path, "a");
    if (!log || !stralloc_0(&in)) { stralloc_free(&in); return 111; }
    fake_batch(log, prog, domain, in.s);
    fclose(log);
    if (src.chan) printf("%s", JOBCHAN_END);
    fflush(stdout);
    jobsrc_release(&src);
    if (!src.chan) break;
  }
  stralloc_free(&in);
  return 0;
}

/* ---- the instance and the messages */

static void put_file(const char *name, const char *text)
{
  char path[256];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", home, name);
  f = fopen(path, "w");
  CHECK(f != 0);
  if (f) { fputs(text, f); fclose(f); }
}

static void mkdirs(void)
{
  const char *d[] = { "queue", "queue/new", "queue/tmp", "queue/mess", "queue/info", "queue/quarantine",
                      "queue/ctl", "bin", "log", "log/track", 0 };
  char path[256];
  int i, h;
  for (i = 0; d[i]; i++) { snprintf(path, sizeof path, "%s/%s", home, d[i]); mkdir(path, 0755); }
  for (h = 0; h < 16; h++) {
    snprintf(path, sizeof path, "%s/queue/mess/%c", home, "0123456789abcdef"[h]); mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/queue/info/%c", home, "0123456789abcdef"[h]); mkdir(path, 0755);
  }
  put_file("log/track/current", "");               /* the tracking log is appended to, never made */
  snprintf(path, sizeof path, "%s/bin/imc-remote", home);
  CHECK(symlink(self, path) == 0);
  snprintf(path, sizeof path, "%s/bin/imc-local", home);
  CHECK(symlink(self, path) == 0);
  snprintf(path, sizeof path, "%s/bin", home);
  setenv("IMC_BIN", path, 1);
}

static int fake_bounce(struct msg *m, unsigned long now)
{
  unsigned long i;
  (void)now;
  nbounce++;
  if (bounce_fails) return -1;
  for (i = 0; i < m->q.n; i++) {
    if (m->q.r[i].state == QI_FAILED || m->q.r[i].state == QI_EXPIRED) m->q.r[i].state = QI_BOUNCED;
    if (m->q.r[i].state == QI_SUCCESS) m->q.r[i].state = QI_DELIVERED;
  }
  m->dirty = 1;
  memcpy(last_bounce, m->id, sizeof last_bounce);
  return 0;
}

static int fake_delay(struct msg *m, unsigned long now) { (void)m; (void)now; ndelay++; return 0; }

static void setup(const char *retry, const char *extra)
{
  char text[512];
  if (!home[0]) { fixture_open("t_sched"); mkdirs(); }   /* one instance: the tracking log keeps its path */
  put_file("runs.log", "");
  put_file("down", "");
  drop("lifetime");
  snprintf(text, sizeof text, "%s\n", retry);
  put("retry", text);
  put("me", "gw.example.net\n");
  put("maxoutbound", "3\n");
  put("maxperhost", "2\n");
  put("maxlocal", "1\n");
  put("delaywarn", "0\n");
  if (extra) {                                   /* "file=text;file=text" */
    char buf[128], *p = buf, *semi;
    snprintf(buf, sizeof buf, "%s", extra);
    for (; p; p = semi) {
      char *eq = strchr(p, '=');
      if ((semi = strchr(p, ';'))) *semi++ = 0;
      if (!eq) continue;
      *eq = 0;
      snprintf(text, sizeof text, "%s\n", eq + 1);
      put(p, text);
    }
  }
  errs[0] = 0;
  CHECK(config_load(&cfg, collect) == 0);
  if (errs[0]) printf("control errors: %s\n", errs);
  qdir.len = 0;
  CHECK(stralloc_copys(&qdir, home) && stralloc_cats(&qdir, "/queue") && stralloc_0(&qdir));
  qdir.len--;
  CHECK(remote_reload() == 0);
  remote_dest_up(0);                             /* destinations forget the test before */
  sched = stage_hooks;
  sched.bounce = fake_bounce;
  sched.delay = fake_delay;
  nbounce = ndelay = 0;
}

static unsigned long idseq;

/* a queued message (in mess/, with its file) from sender to the recipients, all
   remote unless the address's domain is "local"; due at once */
static struct msg *queue_msg(unsigned long qtime, int prio, const char *const *rcpts)
{
  char id[QID_LEN + 1];
  stralloc p = {0};
  struct msg *m;
  unsigned long i;
  int fd;
  qid_make(id, qtime, ++idseq, 4242);
  m = msg_new(id, AREA_MESS);
  CHECK(m != 0);
  if (!m) exit(1);
  m->q.qtime = qtime;
  memcpy(m->q.id, id, sizeof m->q.id);
  m->prio = prio;
  m->msglen = 12;
  stralloc_copys(&m->sender, "sender@example.org");
  stralloc_0(&m->sender);
  m->sender.len--;
  for (i = 0; rcpts[i]; i++) {
    struct qinfo_rcpt *r = qinfo_add(&m->q);
    const char *at = strchr(rcpts[i], '@');
    int local = !strcmp(at + 1, "local");
    r->state = QI_PENDING;
    r->kind = local ? QI_LOCAL : QI_REMOTE;
    qinfo_set(&r->target, local ? "box" : at + 1, local ? 3 : strlen(at + 1));
    qinfo_set(&r->original, rcpts[i], strlen(rcpts[i]));
    qinfo_set(&r->address, rcpts[i], strlen(rcpts[i]));
    qinfo_set(&r->reply, "", 0);
  }
  m->busy = calloc(m->q.n, 1);
  CHECK(msg_path(&p, m) == 0);
  fd = open(p.s, O_WRONLY | O_CREAT | O_TRUNC, 0640);
  CHECK(fd >= 0 && write(fd, "Subject: x\n\nx\n", 12) == 12);
  close(fd);
  stralloc_free(&p);
  heap_set(m, qtime);
  return m;
}

/* imc-send's loop turn: every due message scheduled, the stages dispatched */
static void dispatch(unsigned long now)
{
  runs_expire(now);
  sched_due(now);
  conv_dispatch(now);
  local_dispatch(now);
  remote_dispatch(now);
}

/* until every batch has ended and been settled, and every closed worker has ended */
static void finish(unsigned long now)
{
  while (runs_busy()) {
    struct pollfd fds[300];
    unsigned n = 0;
    runs_pollfds(fds, &n, 300);
    if (poll(fds, n, 5000) <= 0) { CHECK(!"a fake deliverer hung"); return; }
    runs_events(fds, n, now);
  }
}

static void step(unsigned long now) { dispatch(now); finish(now); }

/* lines of runs.log that start with text (prefix) or hold it */
static int logged(const char *text, int prefix)
{
  char path[256], line[65536];
  FILE *f;
  int n = 0;
  snprintf(path, sizeof path, "%s/runs.log", home);
  if (!(f = fopen(path, "r"))) return 0;
  while (fgets(line, sizeof line, f))
    if (prefix ? !strncmp(line, text, strlen(text)) : strstr(line, text) != 0) n++;
  fclose(f);
  return n;
}

static int runs_logged(const char *prog) { return logged(prog, 1); }

/* the distinct processes (pid=) of the lines of runs.log that start with prefix */
static int pids_logged(const char *prefix)
{
  char path[256], line[65536];
  long pids[64];
  int n = 0, k;
  FILE *f;
  snprintf(path, sizeof path, "%s/runs.log", home);
  if (!(f = fopen(path, "r"))) return 0;
  while (fgets(line, sizeof line, f)) {
    const char *p = strstr(line, " pid=");
    long pid;
    if (strncmp(line, prefix, strlen(prefix)) || !p) continue;
    pid = atol(p + 5);
    for (k = 0; k < n && pids[k] != pid; k++) ;
    if (k == n && n < 64) pids[n++] = pid;
  }
  fclose(f);
  return n;
}
static int log_has(const char *text) { return logged(text, 0); }

static void collect_msg(struct msg *m, void *v)
{
  struct msg ***p = v;
  *(*p)++ = m;
}

static void teardown(void)
{
  struct msg **all, **p;
  runs_close_all();
  finish(T0);
  CHECK(runs_active() == 0);
  all = calloc(msg_count() + 1, sizeof *all);
  p = all;
  msg_foreach(collect_msg, &p);
  while (p > all) msg_free(*--p);
  free(all);
  config_free(&cfg);
}

/* ---- the tests */

/* a recipient deferred again and again waits control/retry's delays, then the last
   one grown by the factor; one delivered leaves the queue with its files */
static void test_retry(void)
{
  const char *rc[] = { "user@down.example", 0 };
  struct msg *m;
  stralloc p = {0};
  char id[QID_LEN + 1];
  setup("1m,5m,1h x2", 0);
  put_file("down", "down.example\n");
  m = queue_msg(T0, PRIO_NORMAL, rc);
  step(T0);
  CHECK(runs_logged("imc-remote") == 1);
  CHECK(m->q.r[0].attempts == 1 && m->q.r[0].state == QI_PENDING);
  CHECK(m->q.r[0].next == T0 + 60 && m->next == T0 + 60);
  CHECK_STR(m->q.r[0].reply.s, "4.4.1 connection refused");
  step(T0 + 59);
  CHECK(runs_logged("imc-remote") == 1);          /* not due yet */
  step(T0 + 60);
  CHECK(runs_logged("imc-remote") == 2 && m->q.r[0].next == T0 + 60 + 300);
  step(T0 + 360);
  CHECK(runs_logged("imc-remote") == 3 && m->q.r[0].next == T0 + 360 + 3600);
  step(T0 + 3960);                                /* past the list: 1h grown by the factor */
  CHECK(runs_logged("imc-remote") == 4);
  CHECK(m->q.r[0].next == T0 + 3960 + 7200);
  CHECK(m->has_info && m->area == AREA_MESS);     /* the state was saved */
  put_file("down", "");
  memcpy(id, m->id, sizeof id);
  CHECK(msg_path(&p, m) == 0 && stralloc_0(&p) && access(p.s, F_OK) == 0);
  step(m->q.r[0].next);
  CHECK(runs_logged("imc-remote") == 5);
  CHECK(msg_find(id) == 0);                       /* delivered: gone from the table */
  CHECK(access(p.s, F_OK) < 0 && errno == ENOENT);   /* and from the queue */
  CHECK(nbounce == 0);
  stralloc_free(&p);
  teardown();
}

/* a destination whose run deferred everything is down as a whole: a later message
   for it waits for the destination's retry, others go at once; when it is up
   again, everything waiting for it goes in one run */
static void test_backoff(void)
{
  const char *down[] = { "a@down.example", 0 }, *up[] = { "b@up.example", 0 };
  struct msg *m1, *m2, *m3;
  char id3[QID_LEN + 1];
  setup("10m", 0);
  put_file("down", "down.example\n");
  m1 = queue_msg(T0, PRIO_NORMAL, down);
  step(T0);
  CHECK(runs_logged("imc-remote down.example") == 1);
  m2 = queue_msg(T0 + 30, PRIO_NORMAL, down);
  m3 = queue_msg(T0 + 30, PRIO_NORMAL, up);
  memcpy(id3, m3->id, sizeof id3);
  step(T0 + 30);
  CHECK(runs_logged("imc-remote down.example") == 1);     /* not tried: down until T0+600 */
  CHECK(runs_logged("imc-remote up.example") == 1);
  CHECK(m2->q.r[0].attempts == 0 && m2->q.r[0].next == T0 + 600);
  CHECK(msg_find(id3) == 0);
  put_file("down", "");
  step(T0 + 600);
  CHECK(runs_logged("imc-remote down.example") == 2);
  CHECK(log_has("imc-remote down.example normal a@down.example normal a@down.example") == 1);
  CHECK(msg_count() == 0);
  (void)m1;
  teardown();
}

/* control/maxperhost runs per destination and control/maxoutbound in all, each
   run up to LOCAL_BATCH messages; control/maxlocal imc-local runs */
static void test_limits(void)
{
  const char *a[] = { "x@a.example", 0 }, *b[] = { "x@b.example", 0 }, *c[] = { "x@c.example", 0 };
  const char *l[] = { "u@local", 0 };
  int k;
  setup("10m", 0);
  for (k = 0; k < 3 * LOCAL_BATCH; k++) { queue_msg(T0, PRIO_NORMAL, a); queue_msg(T0, PRIO_NORMAL, b); }
  for (k = 0; k < 3 * LOCAL_BATCH; k++) { queue_msg(T0, PRIO_NORMAL, c); queue_msg(T0, PRIO_NORMAL, l); }
  dispatch(T0);
  CHECK(runs_active() == 3 + 1);                  /* maxoutbound 3, maxlocal 1 */
  finish(T0);
  CHECK(runs_logged("imc-remote") == 3 && runs_logged("imc-local") == 1);
  dispatch(T0);
  CHECK(runs_active() == 4);
  finish(T0);
  while (msg_count()) step(T0);
  CHECK(runs_logged("imc-remote") == 9 && runs_logged("imc-local") == 3);   /* 96 messages, 32 a run */
  teardown();

  setup("10m", "maxoutbound=10");
  for (k = 0; k < 4 * LOCAL_BATCH; k++) queue_msg(T0, PRIO_NORMAL, a);
  dispatch(T0);
  CHECK(runs_active() == 2);                      /* maxperhost 2, though maxoutbound allows 10 */
  finish(T0);
  dispatch(T0);
  CHECK(runs_active() == 2);
  finish(T0);
  CHECK(runs_logged("imc-remote a.example") == 4 && msg_count() == 0);
  teardown();
}

/* each priority has its lifetime (control/lifetime); a recipient that waits past it
   expires and is bounced; the deliverer hears the priority */
static void test_lifetimes(void)
{
  const char *rc[] = { "user@down.example", 0 };
  struct msg *n, *nu;
  char uid[QID_LEN + 1], nid[QID_LEN + 1], nuid[QID_LEN + 1];
  setup("1h", "lifetime=urgent 2h\nnormal 5h\nnonurgent 3h");
  put_file("down", "down.example\n");
  memcpy(uid, queue_msg(T0, PRIO_URGENT, rc)->id, sizeof uid);
  n = queue_msg(T0, PRIO_NORMAL, rc);
  nu = queue_msg(T0, PRIO_NONURGENT, rc);
  memcpy(nid, n->id, sizeof nid);
  memcpy(nuid, nu->id, sizeof nuid);
  step(T0);
  CHECK(log_has(" urgent user@down.example") == 1 && log_has(" nonurgent user@down.example") == 1);
  CHECK(log_has(" normal user@down.example") == 1);
  step(T0 + 3600);
  CHECK(nbounce == 0);
  step(T0 + 7200);                                  /* the urgent one's 2 hours are over */
  CHECK(nbounce == 1 && !strcmp(last_bounce, uid) && msg_find(last_bounce) == 0);
  CHECK(msg_find(n->id) == n && msg_find(nu->id) == nu);
  CHECK(nu->next == T0 + 3 * 3600);                 /* its next retry is capped at its expiry */
  step(T0 + 3 * 3600);
  CHECK(nbounce == 2 && !strcmp(last_bounce, nuid));
  CHECK(n->q.r[0].state == QI_PENDING);
  step(T0 + 5 * 3600);
  CHECK(nbounce == 3 && !strcmp(last_bounce, nid) && msg_count() == 0);
  teardown();
}

/* a message never tried (its destination held) is not expired untried when imc-send
   was down: it gets one try first; a permanent failure is bounced at once */
static void test_expiry_and_failure(void)
{
  const char *rc[] = { "user@up.example", 0 }, *two[] = { "perm@up.example", "ok@up.example", 0 };
  char id[QID_LEN + 1];
  setup("1h", 0);
  queue_msg(T0, PRIO_NORMAL, rc);
  step(T0 + 30 * 86400);                             /* long past its lifetime, never tried */
  CHECK(runs_logged("imc-remote") == 1 && nbounce == 0 && msg_count() == 0);
  memcpy(id, queue_msg(T0, PRIO_NORMAL, two)->id, sizeof id);
  step(T0 + 10);
  CHECK(nbounce == 1 && !strcmp(last_bounce, id));
  CHECK(msg_count() == 0);
  teardown();
}

/* control/delaywarn: one notice, at qtime + delaywarn, while something still waits */
static void test_delaywarn(void)
{
  const char *rc[] = { "user@down.example", 0 };
  struct msg *m;
  setup("1h", "delaywarn=90m");
  put_file("down", "down.example\n");
  m = queue_msg(T0, PRIO_NORMAL, rc);
  step(T0);
  CHECK(ndelay == 0 && m->next == T0 + 3600);
  step(T0 + 3600);
  CHECK(ndelay == 0 && m->next == T0 + 5400);        /* woken for the warning before the retry */
  step(T0 + 5400);
  CHECK(ndelay == 1 && (m->q.flags & QI_WARNED));
  step(T0 + 7200);
  CHECK(ndelay == 1);
  teardown();
}

/* a held message is not tried; released, it goes */
static void test_held(void)
{
  const char *rc[] = { "user@up.example", 0 };
  struct msg *m;
  setup("1h", 0);
  m = queue_msg(T0, PRIO_NORMAL, rc);
  m->q.flags |= QI_HELD;
  step(T0);
  CHECK(runs_logged("imc-remote") == 0 && msg_find(m->id) == m);
  CHECK(m->next == T0 + cfg.lifetime[PRIO_NORMAL]);   /* wakes only to expire */
  m->q.flags &= ~QI_HELD;
  msg_retry(m, T0 + 100);
  step(T0 + 100);
  CHECK(runs_logged("imc-remote") == 1 && msg_count() == 0);
  teardown();
}

/* an imc-remote stays for its destination's next batch (control/connectioncache),
   is closed when idle longer, and not kept at all with connectioncache 0 */
static void test_cached(void)
{
  const char *a[] = { "x@a.example", 0 };
  setup("10m", "connectioncache=30");
  queue_msg(T0, PRIO_NORMAL, a);
  step(T0);
  CHECK(runs_logged("imc-remote a.example") == 1 && msg_count() == 0);
  CHECK(runs_active() == 1 && runs_busy() == 0);      /* idle, waiting */
  queue_msg(T0 + 10, PRIO_NORMAL, a);
  step(T0 + 10);
  CHECK(runs_logged("imc-remote a.example") == 2 && msg_count() == 0);
  CHECK(pids_logged("imc-remote a.example") == 1);     /* the second batch went to the same process */
  CHECK(runs_wake() == T0 + 40);
  queue_msg(T0 + 40, PRIO_NORMAL, a);
  step(T0 + 40);                                       /* idle 30 s: closed, a new one started */
  CHECK(runs_logged("imc-remote a.example") == 3 && pids_logged("imc-remote a.example") == 2);
  teardown();

  setup("10m", "connectioncache=0");
  queue_msg(T0, PRIO_NORMAL, a);
  step(T0);
  CHECK(runs_active() == 0);                           /* no cache: gone after its batch */
  queue_msg(T0 + 1, PRIO_NORMAL, a);
  step(T0 + 1);
  CHECK(pids_logged("imc-remote a.example") == 2 && msg_count() == 0);
  teardown();
}

/* maxperhost and maxoutbound count workers, idle ones too: the same two take
   every batch; a destination kept waiting by maxoutbound gets the slot of an
   idle worker of another destination, which is closed */
static void test_worker_limits(void)
{
  const char *a[] = { "x@a.example", 0 }, *b[] = { "y@b.example", 0 };
  int k;
  setup("10m", "maxoutbound=2;connectioncache=60");
  for (k = 0; k < 4 * LOCAL_BATCH; k++) queue_msg(T0, PRIO_NORMAL, a);
  dispatch(T0);
  CHECK(runs_active() == 2 && runs_busy() == 2);
  finish(T0);
  CHECK(runs_active() == 2 && runs_busy() == 0);
  dispatch(T0);
  CHECK(runs_active() == 2 && runs_busy() == 2);       /* the idle ones took the next batches */
  finish(T0);
  CHECK(msg_count() == 0 && runs_logged("imc-remote a.example") == 4 && pids_logged("imc-remote a.example") == 2);
  queue_msg(T0 + 1, PRIO_NORMAL, b);
  dispatch(T0 + 1);
  CHECK(runs_active() == 2 && runs_busy() == 1);       /* one a.example worker closed for b */
  CHECK(runs_logged("imc-remote b.example") == 0);
  finish(T0 + 1);
  CHECK(runs_active() == 1);
  step(T0 + 1);
  CHECK(runs_logged("imc-remote b.example") == 1 && msg_count() == 0 && runs_active() == 2);
  teardown();
}

/* imc-local workers stay for the next batch and are closed after LOCAL_IDLE */
/* NOTIFY=SUCCESS (DSN): a local delivery waits in state S for its notice, kept
   in the state file while the notice cannot be queued; a remote one goes with
   its parameters on the job line and, reported K (a next hop with DSN), gets
   no notice of its own */
static void test_success(void)
{
  const char *rc[] = { "u@local", "r@up.example", 0 };
  static const char dsn[] = "u@local\0NOTIFY=SUCCESS\0r@up.example\0NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;r+40x\0";
  stralloc p = {0}, text = {0};
  struct msg *m;
  unsigned long tries;
  setup("1h", 0);
  m = queue_msg(T0, PRIO_NORMAL, rc);
  stralloc_copyb(&m->dsn_rcpts, dsn, sizeof dsn - 1);
  stralloc_copys(&m->dsn_mail, "RET=HDRS ENVID=e1");
  bounce_fails = 1;
  step(T0);
  CHECK(m->q.r[0].state == QI_SUCCESS && m->q.r[1].state == QI_DELIVERED);
  CHECK(nbounce >= 1 && msg_find(m->id) == m && m->next == T0 + 60);   /* a try per settlement */
  tries = nbounce;
  CHECK(log_has("imc-remote up.example normal <r@up.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;r+40x pid="));
  CHECK(qpath(&p, qdir.s, "info", m->id) == 0 && file_read(p.s, &text) == 1 && stralloc_0(&text));
  CHECK(text.s && strstr(text.s, "\nr\tS\t1\t") != 0);          /* kept on disk as S */
  bounce_fails = 0;
  step(T0 + 60);
  CHECK(nbounce == tries + 1 && msg_count() == 0);
  stralloc_free(&p);
  stralloc_free(&text);
  teardown();
}

static void test_local_worker(void)
{
  const char *l[] = { "u@local", 0 };
  setup("10m", 0);
  queue_msg(T0, PRIO_NORMAL, l);
  step(T0);
  queue_msg(T0 + 1, PRIO_NORMAL, l);
  step(T0 + 1);
  CHECK(runs_logged("imc-local") == 2 && pids_logged("imc-local") == 1 && msg_count() == 0);
  step(T0 + 1 + LOCAL_IDLE);
  CHECK(runs_active() == 0);
  teardown();
}

int main(int argc, char **argv)
{
  const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
  if (!strcmp(base, "imc-remote") || !strcmp(base, "imc-local"))
    return fake_deliverer(base, argc > 1 ? argv[1] : "-");
  if (!realpath("/proc/self/exe", self)) { perror("/proc/self/exe"); return 1; }
  test_retry();
  test_backoff();
  test_limits();
  test_lifetimes();
  test_expiry_and_failure();
  test_delaywarn();
  test_held();
  test_cached();
  test_worker_limits();
  test_local_worker();
  test_success();
  fixture_close();
  return check_done("t_sched");
}
