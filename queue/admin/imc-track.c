/*
 * imc-track -- a message's whole history from the tracking log.
 *
 *     imc-track [-x] [-f FROM] [-t TO] [-i ID] [-m MESSAGE-ID] [-s SENDER]
 *               [-r RECIPIENT] [-d DIR] [KEY...]
 *
 * Input: log/track/ of $IMC_HOME (or DIR): the rotated files @SECONDS.s
 * in time order, then current (docs/INTERNALS.md section 6).
 *
 * Selection, in two passes.  First the messages: every event that lies
 * in [FROM, TO] and matches every option given selects its queue id; a
 * KEY selects the events it matches as a queue id, a Message-ID, a
 * sender or a recipient, and several KEYs select what any of them does.
 * Then the history: every event of the selected messages, from all the
 * files, in time order, whatever its time.  With no option and no KEY
 * every event is shown.  Addresses match without case; `@domain` matches
 * every address at that domain; a Message-ID matches with or without its
 * angle brackets.  Times (-f, -t): epoch seconds, 2026-11-28,
 * 2026-11-28T02:38 or 2026-11-28T02:38:56Z (UTC), or an age with a unit
 * (30m, 2h, 7d: that long ago); -t with a date alone means the end of
 * that day.
 *
 * Output: one event per line,
 *     TIME EVENT ID from=<SENDER> to=<RECIPIENT> [msgid=ID] [peer=PEER] [result=TEXT]
 * (result last: it runs to the end of the line); with -x the log lines
 * as they are (TAB-separated).  Events: received, converted, delivered,
 * deferred, bounced, expired, deleted, suppressed, filtered.
 *
 * Exit codes: 0 (also when nothing matched: a line on stderr says so);
 * 100 usage; 111 the tracking log cannot be read.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "addr.h"
#include "admin.h"
#include "control.h"
#include "diag.h"
#include "exitcodes.h"

#define USAGE "[-x] [-f FROM] [-t TO] [-i ID] [-m MESSAGE-ID] [-s SENDER] [-r RECIPIENT] [-d DIR] [KEY...]"

struct query {
  unsigned long from, to;
  const char *id, *msgid, *sender, *rcpt;
  char **keys;                  /* NULL-terminated */
  int raw;
};

static struct query qy = { 0, ~0UL, 0, 0, 0, 0, 0, 0 };
static const char *trackdir;     /* -d, else IMC_HOME/log/track */

/* ---- a set of queue ids (open addressing, grows) */

static char (*set)[QID_LEN + 1];
static size_t setcap, setn;

static size_t slot(const char *id, size_t cap)
{
  size_t h = 5381, i;
  for (i = 0; i < QID_LEN; i++) h = h * 33 + (unsigned char)id[i];
  h %= cap;
  while (set[h][0] && memcmp(set[h], id, QID_LEN)) h = (h + 1) % cap;
  return h;
}

static void set_grow(void)
{
  char (*old)[QID_LEN + 1] = set;
  size_t oldcap = setcap, i;
  setcap = setcap ? setcap * 2 : 1024;
  if (!(set = calloc(setcap, sizeof *set))) adm_nomem();
  for (i = 0; i < oldcap; i++) if (old[i][0]) memcpy(set[slot(old[i], setcap)], old[i], QID_LEN + 1);
  free(old);
}

static void set_add(const char *id)
{
  size_t h;
  if ((setn + 1) * 2 > setcap) set_grow();
  h = slot(id, setcap);
  if (!set[h][0]) { memcpy(set[h], id, QID_LEN); set[h][QID_LEN] = 0; setn++; }
}

static int set_has(const char *id) { return setcap && set[slot(id, setcap)][0]; }

/* ---- matching */

/* an address against ADDRESS or @DOMAIN, without case */
static int addr_match(const char *a, const char *want)
{
  size_t n = strlen(a), w = strlen(want);
  if (a[0] == '<' && n >= 2 && a[n - 1] == '>') { a++; n -= 2; }
  if (want[0] == '@') return n > w && !case_diffb(a + n - w, w, want);
  return n == w && !case_diffb(a, n, want);
}

/* a Message-ID with or without its angle brackets */
static int msgid_match(const char *m, const char *want)
{
  size_t n = strlen(m), w = strlen(want);
  if (m[0] == '<' && n >= 2 && m[n - 1] == '>') { m++; n -= 2; }
  if (want[0] == '<' && w >= 2 && want[w - 1] == '>') { want++; w -= 2; }
  return n == w && !memcmp(m, want, n);
}

static int key_match(const struct trk_event *e, const char *k)
{
  if (qid_valid(k, strlen(k))) return !strcmp(e->id, k);
  return msgid_match(e->msgid, k) || addr_match(e->sender, k) || addr_match(e->rcpt, k);
}

static int selects(const struct trk_event *e)
{
  char **k;
  if (e->t < qy.from || e->t > qy.to || !qid_valid(e->id, strlen(e->id))) return 0;
  if (qy.id && strcmp(e->id, qy.id)) return 0;
  if (qy.msgid && !msgid_match(e->msgid, qy.msgid)) return 0;
  if (qy.sender && !addr_match(e->sender, qy.sender)) return 0;
  if (qy.rcpt && !addr_match(e->rcpt, qy.rcpt)) return 0;
  if (!qy.keys || !*qy.keys) return 1;
  for (k = qy.keys; *k; k++) if (key_match(e, *k)) return 1;
  return 0;
}

static void on_select(struct trk_event *e, void *ctx)
{
  (void)ctx;
  if (selects(e)) set_add(e->id);
}

/* ---- output */

static void field(const char *key, const char *v, int brackets)
{
  size_t n = strlen(v);
  out_puts(" ");
  out_puts(key);
  out_puts("=");
  if (brackets && !(v[0] == '<' && n && v[n - 1] == '>')) { out_puts("<"); adm_putclean(v, n); out_puts(">"); }
  else adm_putclean(v, n);
}

static void put_event(const struct trk_event *e)
{
  out_puts(e->time);
  out_puts(" ");
  adm_pad(e->event, 10);
  out_puts(" ");
  out_puts(e->id);
  field("from", e->sender, 1);
  field("to", e->rcpt, 1);
  if (*e->msgid) field("msgid", e->msgid, 0);
  if (*e->peer) field("peer", e->peer, 0);
  if (*e->result) field("result", e->result, 0);
  out_puts("\n");
}

static void put_raw(const struct trk_event *e)
{
  const char *f[8];
  int i;
  f[0] = e->time; f[1] = e->event; f[2] = e->id; f[3] = e->msgid;
  f[4] = e->sender; f[5] = e->rcpt; f[6] = e->peer; f[7] = e->result;
  for (i = 0; i < 8; i++) {
    if (i) out_puts("\t");
    out_puts(*f[i] ? f[i] : "-");
  }
  out_puts("\n");
}

static unsigned long shown;

static void on_show(struct trk_event *e, void *vall)
{
  if (!*(int *)vall && !set_has(e->id)) return;
  shown++;
  if (qy.raw) put_raw(e); else put_event(e);
}

/* ---- arguments */

static void time_arg(const char *s, unsigned long *t)
{
  unsigned long now = (unsigned long)time(0);
  if (!adm_scan_when(s, now, t)) fatal(EX_PERM, "not a time: ", s, " (epoch seconds, 2026-11-28[T02:38[:56]][Z], or 2h for two hours ago)");
  if (t == &qy.to && strlen(s) == 10 && s[4] == '-') *t += 86399;     /* -t DATE: to the end of that day */
}

static const char *next_arg(int *i, int argc, char **argv)
{
  if (*i + 1 >= argc) usage(USAGE);
  return argv[++*i];
}

static int parse_args(int argc, char **argv)
{
  int i;
  for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    const char *o = argv[i];
    if (!strcmp(o, "--")) { i++; break; }
    if (o[2]) usage(USAGE);
    switch (o[1]) {
      case 'x': qy.raw = 1; break;
      case 'f': time_arg(next_arg(&i, argc, argv), &qy.from); break;
      case 't': time_arg(next_arg(&i, argc, argv), &qy.to); break;
      case 'i': qy.id = next_arg(&i, argc, argv); if (!qid_valid(qy.id, strlen(qy.id))) fatal(EX_PERM, "not a queue id: ", qy.id); break;
      case 'm': qy.msgid = next_arg(&i, argc, argv); break;
      case 's': qy.sender = next_arg(&i, argc, argv); break;
      case 'r': qy.rcpt = next_arg(&i, argc, argv); break;
      case 'd': trackdir = next_arg(&i, argc, argv); break;
      default: usage(USAGE);
    }
  }
  qy.keys = argv + i;
  return qy.id || qy.msgid || qy.sender || qy.rcpt || *qy.keys || qy.from || qy.to != ~0UL;
}

int main(int argc, char **argv)
{
  stralloc dir = {0};
  int selective, all;
  diag_prog = "imc-track";
  selective = parse_args(argc, argv);
  all = !selective;
  if (trackdir) { if (!stralloc_copys(&dir, trackdir) || !stralloc_0(&dir)) adm_nomem(); }
  else if (trk_dir(&dir) < 0) adm_nomem();
  if (selective && trk_scan(dir.s, on_select, 0) < 0) fatalsys(EX_TEMP, "unable to read the tracking log ", dir.s);
  if ((all || setn) && trk_scan(dir.s, on_show, &all) < 0) fatalsys(EX_TEMP, "unable to read the tracking log ", dir.s);
  out_flush();
  if (!shown) info("no matching events in ", dir.s);
  stralloc_free(&dir);
  return EX_OK;
}
