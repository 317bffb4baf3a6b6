/*
 * imc-qctl -- control the queue through imc-send.
 *
 *     imc-qctl [-w SECONDS] retry ID...|@DOMAIN...|all
 *     imc-qctl [-w SECONDS] hold ID...|@DOMAIN...
 *     imc-qctl [-w SECONDS] release ID...|@DOMAIN...
 *     imc-qctl [-w SECONDS] delete [--bounce] ID...
 *     imc-qctl [-w SECONDS] bounce ID...          (delete --bounce)
 *     imc-qctl [-w SECONDS] requeue ID...|all
 *     imc-qctl check
 *     imc-qctl [-w SECONDS] repair
 *     imc-qctl dequeue [HOST[:PORT]...]
 *
 * imc-qctl never changes a queue file: it asks imc-send (docs/INTERNALS.md
 * sections 9 and 13).  retry, while imc-send runs, is an R line on the
 * trigger and takes effect at once.  Everything else, and retry while
 * imc-send is down, is a request file in queue/ctl/ followed by `C` on the
 * trigger; imc-qctl then waits up to SECONDS (default 10, 0: not at all)
 * for imc-send to carry it out and remove it.  When imc-send is not
 * running the request waits in queue/ctl/ and is carried out when it
 * starts.  Each target gets one line on stdout saying which happened.
 * Every target is checked before anything is asked: an ID must be in the
 * queue (requeue: in quarantine/, and valid again), a DOMAIN a host name.
 *
 * check reports every problem of the queue's structure (admin_check.c),
 * one line each: `error: PATH: what; what to do` or `note: ...`.  repair
 * does what can be done without touching a queue file -- requeue requests
 * for quarantined files that are valid again, a poke of the trigger for
 * files in new/ that imc-send should quarantine -- and lists the rest as
 * `cannot repair: PATH: what; what to do`.
 *
 * dequeue asks imc-dequeue (not imc-send) to run the control/dequeue lines
 * of the HOSTs now, every line without a HOST: one line `HOST[:PORT]` or
 * `*` each, written to its FIFO dequeue/trigger (docs/INTERNALS.md section
 * 20).  It does not wait for the runs; imc-dequeue's log has their replies.
 *
 * Exit codes: 0 done or requested; 100 usage, a bad or unknown target,
 * check found errors, repair left errors; 111 the queue cannot be read or
 * a request cannot be written.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "addr.h"
#include "control.h"
#include "admin.h"
#include "diag.h"
#include "exitcodes.h"
#include "route.h"

#define USAGE "[-w SECONDS] retry|hold|release|delete [--bounce]|bounce|requeue TARGET... | check | repair | dequeue [HOST[:PORT]...]"

static struct aqueue aq;
static unsigned long waitsecs = 10;
static int running;

static void line3(const char *a, const char *b, const char *c)
{
  out_puts(a);
  out_puts(b);
  out_puts(c);
  out_puts("\n");
  out_flush();
}

/* ---- targets */

/* quarantine/ID passes validation now: 1, else 0 after a diagnostic */
static int requeue_valid(const char *id)
{
  struct amsg m;
  int bad, r = amsg_load(&aq, &m, id, AREA_QUAR, &bad);
  if (r < 0) fatalsys(EX_TEMP, "unable to read ", aq.qdir.s, "/quarantine/", id);
  if (r == 0) {
    warn("queue/quarantine/", id, bad ? " still fails validation: repair it first" : " is gone");
    return 0;
  }
  amsg_free(&m);
  return 1;
}

static int domain_line(const char *verb, const char *arg, stralloc *line)
{
  if (strcmp(verb, "retry") && strcmp(verb, "hold") && strcmp(verb, "release")) {
    warn(verb, " takes message ids, not ", arg);
    return 0;
  }
  if (!domain_valid(arg + 1, strlen(arg + 1))) { warn(arg + 1, ": not a domain"); return 0; }
  if (!stralloc_cats(line, arg)) adm_nomem();
  case_lowerb(line->s, line->len);
  return 1;
}

static int id_line(const char *verb, const char *arg, stralloc *line)
{
  int requeue = !strcmp(verb, "requeue");
  char where;
  if (!qid_valid(arg, strlen(arg))) { warn(arg, ": not a queue id"); return 0; }
  where = aq_where(&aq, arg);
  if (requeue && where != AREA_QUAR) { warn(arg, ": not in queue/quarantine/"); return 0; }
  if (!requeue && where != AREA_NEWQ && where != AREA_MESSQ) { warn(arg, ": not in the queue"); return 0; }
  if (requeue && !requeue_valid(arg)) return 0;
  if (!stralloc_cats(line, arg)) adm_nomem();
  return 1;
}

/* appends the request line "VERB ARG" and a NUL to lines: 1, or 0 after a diagnostic */
static int target_line(const char *verb, const char *arg, stralloc *lines)
{
  stralloc line = {0};
  int ok;
  if (!stralloc_copys(&line, verb) || !stralloc_append(&line, " ")) adm_nomem();
  if (arg[0] == '@') ok = domain_line(verb, arg, &line);
  else if (!strcmp(arg, "all") && !strcmp(verb, "retry")) ok = stralloc_cats(&line, "*") ? 1 : (adm_nomem(), 0);
  else ok = id_line(verb, arg, &line);
  if (ok && (!stralloc_cat(lines, &line) || !stralloc_0(lines))) adm_nomem();
  stralloc_free(&line);
  return ok;
}

struct collect { stralloc *lines; };

static void on_quarantined(const struct aquar *q, void *vctx)
{
  struct collect *c = vctx;
  if (!qid_valid(q->name, strlen(q->name))) return;
  if (!q->valid) { line3("requeue ", q->name, ": skipped, it still fails validation"); return; }
  if (!stralloc_cats(c->lines, "requeue ") || !stralloc_cats(c->lines, q->name) || !stralloc_0(c->lines)) adm_nomem();
}

/* the request lines for every argument; the number of bad ones */
static int targets(const char *verb, char **args, stralloc *lines)
{
  int bad = 0;
  for (; *args; args++) {
    if (!strcmp(verb, "requeue") && !strcmp(*args, "all")) {
      struct collect c = { lines };
      if (aq_quarantine(&aq, on_quarantined, &c) < 0) fatalsys(EX_TEMP, "unable to read ", aq.qdir.s, "/quarantine");
    } else if (!target_line(verb, *args, lines)) bad++;
  }
  return bad;
}

/* ---- asking imc-send */

/* retry while imc-send runs: an R line on the trigger; 1 done, 0 use a request */
static int retry_now(const char *line)
{
  stralloc t = {0};
  int r;
  if (!running || strncmp(line, "retry ", 6)) return 0;
  if (!stralloc_copys(&t, "R") || !stralloc_cats(&t, line + 6) || !stralloc_0(&t)) adm_nomem();
  r = req_trigger(&aq, t.s);
  stralloc_free(&t);
  if (r == 1) line3(line, ": ", "imc-send retries it now");
  return r == 1;
}

/* writes the request; names gets "NAME\0LINE\0" */
static void request(const char *line, stralloc *names)
{
  stralloc name = {0};
  if (req_write(&aq, line, &name) < 0) {
    if (errno == ENOENT) fatal(EX_TEMP, aq.qdir.s, "/ctl/ is missing: run imc-setup on the instance to add it");
    fatalsys(EX_TEMP, "unable to write a request into ", aq.qdir.s, "/ctl/");
  }
  if (!stralloc_cat(names, &name) || !stralloc_0(names) || !stralloc_cats(names, line) || !stralloc_0(names))
    adm_nomem();
  stralloc_free(&name);
}

static void outcome(const char *name, const char *line)
{
  if (!running) {
    out_puts(line);
    out_puts(": imc-send is not running: the request waits in queue/ctl/");
    line3(name, "", " and is carried out when it starts");
  } else if (req_wait(&aq, name, (unsigned)waitsecs * 1000)) line3(line, ": ", "done by imc-send");
  else {
    out_puts(line);
    out_puts(": requested (queue/ctl/");
    line3(name, ")", "; imc-send has not carried it out yet");
  }
}

/* every request line: retries at once, the rest as request files; then wait for imc-send */
static void ask(const stralloc *lines)
{
  stralloc names = {0};
  size_t pos;
  int r = req_sender_running(&aq);
  if (r < 0 && errno == EINVAL) warn("queue/trigger is not a FIFO (imc-qctl check): imc-send cannot be told");
  running = r == 1;
  for (pos = 0; pos < lines->len; pos += strlen(lines->s + pos) + 1)
    if (!retry_now(lines->s + pos)) request(lines->s + pos, &names);
  if (names.len && running && req_trigger(&aq, "C") != 1) running = 0;
  for (pos = 0; pos < names.len;) {
    const char *name = names.s + pos, *line = name + strlen(name) + 1;
    outcome(name, line);
    pos = (size_t)(line - names.s) + strlen(line) + 1;
  }
  stralloc_free(&names);
}

static int do_requests(const char *verb, char **args)
{
  stralloc lines = {0};
  if (!*args) usage(USAGE);
  if (targets(verb, args, &lines)) fatal(EX_PERM, "nothing asked: fix the targets above");
  if (!lines.len) line3(verb, ": ", "nothing to do");
  else ask(&lines);
  stralloc_free(&lines);
  return EX_OK;
}

/* ---- check and repair */

static const char *advice(const struct finding *f)
{
  switch (f->fix) {
    case FIX_REQUEUE: return "; imc-qctl requeue (or repair) puts it back";
    case FIX_TRIGGER: return "; imc-send quarantines it when it reads it (repair pokes the trigger)";
    case FIX_RESTART: return "; imc-send quarantines it at its next start (s6-svc -r service/send)";
    case FIX_SETUP: return "; run imc-setup on the instance to recreate it";
  }
  return "";
}

static void put_finding(const char *prefix, const struct finding *f, int with_advice)
{
  out_puts(prefix);
  out_puts("queue/");
  if (strcmp(f->rel, ".")) out_puts(f->rel);
  if (f->id) { out_puts("/"); adm_putclean(f->id, strlen(f->id)); }
  out_puts(": ");
  out_puts(f->what);
  if (with_advice) out_puts(advice(f));
  out_puts("\n");
}

struct tally { unsigned long errors, notes, left; int poke; stralloc lines; };

static void on_check(const struct finding *f, void *vctx)
{
  struct tally *t = vctx;
  if (f->sev == ADM_ERROR) t->errors++; else t->notes++;
  put_finding(f->sev == ADM_ERROR ? "error: " : "note: ", f, 1);
}

static int summary(const char *what, unsigned long nmsgs, const struct tally *t)
{
  out_puts(what);
  out_putulong(nmsgs);
  out_puts(nmsgs == 1 ? " message, " : " messages, ");
  out_putulong(t->errors);
  out_puts(t->errors == 1 ? " error, " : " errors, ");
  out_putulong(t->notes);
  out_puts(t->notes == 1 ? " note\n" : " notes\n");
  out_flush();
  return t->errors ? EX_PERM : EX_OK;
}

static int do_check(void)
{
  struct tally t;
  unsigned long nmsgs;
  memset(&t, 0, sizeof t);
  if (queue_check(&aq, on_check, &t, &nmsgs) < 0) fatal(EX_TEMP, aq.qdir.s, " is missing: is IMC_HOME an instance?");
  return summary("queue: ", nmsgs, &t);
}

static void on_repair(const struct finding *f, void *vctx)
{
  struct tally *t = vctx;
  if (f->sev == ADM_ERROR) t->errors++; else t->notes++;
  if (f->fix == FIX_REQUEUE) {
    if (!stralloc_cats(&t->lines, "requeue ") || !stralloc_cats(&t->lines, f->id) || !stralloc_0(&t->lines))
      adm_nomem();
  } else if (f->fix == FIX_TRIGGER) {
    t->poke = 1;
    put_finding("for imc-send to quarantine: ", f, 0);
  } else if (f->fix == FIX_NONE) put_finding("left to imc-send: ", f, 0);
  else {
    put_finding("cannot repair: ", f, 1);
    if (f->sev == ADM_ERROR) t->left++;
  }
}

static int do_repair(void)
{
  struct tally t;
  unsigned long nmsgs;
  memset(&t, 0, sizeof t);
  if (queue_check(&aq, on_repair, &t, &nmsgs) < 0) fatal(EX_TEMP, aq.qdir.s, " is missing: is IMC_HOME an instance?");
  out_flush();
  if (t.lines.len) ask(&t.lines);
  if (t.poke)
    out_puts(req_trigger(&aq, "") == 1 ? "poked the trigger: imc-send reads queue/new/ now\n"
                                        : "imc-send is not running: it reads queue/new/ when it starts\n");
  summary("repair: found ", nmsgs, &t);
  if (t.left) {
    out_putulong(t.left);
    out_puts(t.left == 1 ? " error is left for the administrator\n" : " errors are left for the administrator\n");
  }
  out_flush();
  stralloc_free(&t.lines);
  return t.left ? EX_PERM : EX_OK;
}

/* ---- dequeue: requests to imc-dequeue's FIFO */

static int do_dequeue(char **args)
{
  static char *all[] = { "*", 0 };
  stralloc path = {0}, req = {0};
  int fd;
  char **a;
  if (!*args) args = all;
  for (a = args; *a; a++) {
    struct route_host h;
    char copy[ROUTE_NAME_MAX + 8];
    if (!strcmp(*a, "*")) continue;
    if (strlen(*a) >= sizeof copy) { warn(*a, ": not a HOST[:PORT]"); return EX_PERM; }
    strcpy(copy, *a);
    if (route_host_parse(copy, &h) != 0) { warn(*a, ": not a HOST[:PORT]"); return EX_PERM; }
  }
  for (a = args; *a; a++)
    if (!stralloc_cats(&req, *a) || !stralloc_cats(&req, "\n")) fatal(EX_TEMP, "out of memory");
  if (req.len > 4096) fatal(EX_PERM, "too many hosts in one request");
  if (imc_path2(&path, "dequeue", "trigger") < 0) fatal(EX_TEMP, "out of memory");
  fd = open(path.s, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 && errno == ENXIO) fatal(EX_TEMP, "imc-dequeue is not running (service dequeue): nothing asked");
  if (fd < 0) fatalsys(EX_TEMP, "unable to open ", path.s);
  if (write(fd, req.s, req.len) != (ssize_t)req.len) fatalsys(EX_TEMP, "unable to write to ", path.s);
  close(fd);
  for (a = args; *a; a++) line3("dequeue ", *a, ": asked imc-dequeue");
  stralloc_free(&path);
  stralloc_free(&req);
  return EX_OK;
}

int main(int argc, char **argv)
{
  int i = 1, ex;
  diag_prog = "imc-qctl";
  if (i + 1 < argc && !strcmp(argv[i], "-w")) {
    if (!ctl_scan_ulong(argv[i + 1], &waitsecs) || waitsecs > 3600) usage(USAGE);
    i += 2;
  }
  if (i >= argc) usage(USAGE);
  if (!strcmp(argv[i], "dequeue")) return do_dequeue(argv + i + 1);
  if (aq_open(&aq) < 0) fatalsys(EX_TEMP, "unable to read ", aq_failed(&aq));
  if (!strcmp(argv[i], "check") && i + 1 == argc) ex = do_check();
  else if (!strcmp(argv[i], "repair") && i + 1 == argc) ex = do_repair();
  else if (!strcmp(argv[i], "delete") && i + 1 < argc && !strcmp(argv[i + 1], "--bounce"))
    ex = do_requests("bounce", argv + i + 2);
  else if (!strcmp(argv[i], "retry") || !strcmp(argv[i], "hold") || !strcmp(argv[i], "release")
           || !strcmp(argv[i], "delete") || !strcmp(argv[i], "bounce") || !strcmp(argv[i], "requeue"))
    ex = do_requests(argv[i], argv + i + 1);
  else usage(USAGE);
  out_flush();
  aq_close(&aq);
  return ex;
}
