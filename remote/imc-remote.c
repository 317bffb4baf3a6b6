/*
 * imc-remote.c -- outbound SMTP delivery (docs/INTERNALS.md section 8).
 *
 *     imc-remote DOMAIN      (jobs on fd 0, reports on fd 1; IMC_HOME set)
 *
 * Inputs: batches of job lines on fd 0, each read whole before it is
 * delivered:
 *     FD[:ID] TAB MSGLEN TAB PRIORITY TAB SENDER TAB RECIPIENT [TAB RECIPIENT ...]
 * (ID the message's queue id, for the log lines).  Two forms (lib/jobchan.h): fd 0 a job channel from imc-send (a
 * SOCK_SEQPACKET socket; each batch one record with its queue files
 * passed along, FD the file's place in the record), or anything else
 * read to EOF as one batch (FD a descriptor number).  The message is the
 * first MSGLEN bytes of its queue file, read with pread only.  imc-remote
 * opens nothing under queue/ and never writes it.  DOMAIN names the destination (the first recipient's
 * domain, or an address literal); control/routes, control/smarthost, DNS
 * and the other control files (config.h) decide the rest.
 *
 * A batch: find the addresses (dest.c); connect to the first that answers
 * with 2xx and completes EHLO/HELO, STARTTLS and AUTH as the destination
 * asks (session.c, sess_tls.c); deliver the jobs in order over it
 * (transfer.c), at most control/msgsperconn per connection (0: no limit),
 * then QUIT and connect again for the rest.  A connection that breaks
 * makes the unreported recipients of the message in progress Z (4.4.2
 * connection lost); the jobs after it get one more connection to the same
 * hosts, and when that breaks too they are all Z.
 *
 * The connection cache (job channel only): after a batch's reports and
 * the line ".", the connection stays open (after RSET) while imc-remote
 * waits for the next batch, for as long as imc-send keeps the channel
 * open (control/connectioncache seconds; 0: QUIT at once).  A server that
 * closes the idle connection (or says anything on it) is noticed: the
 * connection is dropped, and the next batch reads the control files,
 * finds the addresses and connects anew.  A cached connection found
 * closed when a batch uses it (before the server answered MAIL) is
 * replaced without a report and without counting as a break.  EOF on
 * the channel: QUIT and exit.
 *
 * Outputs: one report per recipient on fd 1, in input order (report.c):
 * K delivered, Z temporary failure, D permanent failure; the text starts
 * with "host [address]: " when a host was reached.  Diagnostics on fd 2:
 * errors always; `imc-remote: transfer: ...` lines by loglevel transfer:
 * at minimum none (imc-send logs each result), at medium each recipient's
 * result ("ID delivered to <RCPT>: TEXT", deferred, failed; "ID deferred:
 * TEXT" for a message no host took), each connection, connection lost,
 * TLS, AUTH and host tried in vain, at maximum also the addresses found;
 * the SMTP transcript (`imc-remote: protocol: ...`) at protocol maximum.
 *
 * Mail loops: the addresses of this gateway (its listener and
 * control/localips, ownaddr.c) are dropped from the destination with the
 * less preferred ones; when nothing is left, or a host greets with
 * control/me, every recipient fails with "5.4.6 mail for DOMAIN loops back
 * to myself" before anything is sent.
 *
 * Installed setuid imcr, it takes IMC_HOME, IMC_BIN, IMC_TLS_CAFILE and
 * DNSCACHEIP only from root or imc-send's user, and from the latter only
 * paths of root's (callenv.c); anyone else setting them is refused (100).
 *
 * Failure modes: a malformed job line gets Z for each recipient it names
 * (one when it names none); jobs beyond REMOTE_MAXJOBS and recipients
 * beyond REMOTE_MAXRCPT get Z without being tried; unreadable or malformed
 * control files make every recipient Z (4.3.5).  Exit 0 when every
 * recipient got its report, 111 otherwise (fd 0 unreadable, a batch larger
 * than REMOTE_INPUT_MAX, a channel record that is not a batch, fd 1
 * unwritable), 100 for a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "addr.h"
#include "child.h"
#include "diag.h"
#include "exitcodes.h"
#include "fileio.h"
#include "idna.h"
#include "jobchan.h"
#include "control.h"
#include "dkimcfg.h"
#include "remote.h"
#include "rules.h"
#include "rjob.h"
#include "utf8.h"

#define REMOTE_MAXJOBS 1000
#define REMOTE_MAXRCPT 10000
#define REMOTE_INPUT_MAX (16UL << 20)

static struct config cfg;
static struct dkimcfg dkim;
static struct routes routes;
static struct dest dest;
static struct session sess;
static struct rmsg *msgs;
static size_t nmsgs, nslots;
static unsigned long excess;          /* recipients past the limits: a suffix of the input */
static char domain[HOST_MAX + 1];
static int bad_domain;
static struct jobsrc src;

/* ---- the jobs */

/* the next batch into in: 1, or 0 when there is no more */
static int read_jobs(stralloc *in)
{
  int r = jobsrc_next(&src, in, REMOTE_INPUT_MAX);
  if (r == -2) fatal(EX_TEMP, "unable to read jobs: more than 16 MB of input");
  if (r < 0) fatalsys(EX_TEMP, "unable to read jobs");
  return r;
}

/* the recipients of a good job and their DSN parameters, NUL-terminated in
   place (a field whose parameters do not parse gets the address "<", which
   rjob_addr_ok refuses) */
static int job_rcpts(char *line, const struct rjob *j, struct rmsg *m)
{
  size_t pos = 0, rlen, k = 0;
  const char *r;
  char *a, *p;
  m->rcpt = malloc(j->nrcpt * sizeof *m->rcpt);
  m->rdsn = malloc(j->nrcpt * sizeof *m->rdsn);
  if (!m->rcpt || !m->rdsn) return -1;
  while (k < j->nrcpt && rjob_rcpt_next(j, &pos, &r, &rlen)) {
    if (rjob_field_split(line + (r - line), rlen, 0, &a, &p) < 0) a = "<";
    m->rdsn[k] = p;
    m->rcpt[k++] = a;
  }
  m->nrcpt = k;
  return 0;
}

static void job_add(char *line, const struct rjob *j, size_t first)
{
  struct rmsg *m = &msgs[nmsgs];
  size_t i;
  char *a, *p;
  memset(m, 0, sizeof *m);
  m->own_fd = -1;
  m->fd = jobsrc_file(&src, j->fd);
  m->len = j->msglen;
  m->prio = j->prio;
  m->first = first;
  if (rjob_field_split(line + (j->sender - line), j->slen, 1, &a, &p) < 0) {
    for (i = 0; i < j->nrcpt; i++) rep_set(first + i, 'Z', "4.3.0 malformed DSN parameters of the sender in job line");
    return;
  }
  m->sender = a;
  m->mdsn = p;
  m->id = "";
  if (j->idlen) { line[j->id - line + j->idlen] = 0; m->id = j->id; }
  if (job_rcpts(line, j, m) < 0) { for (i = 0; i < j->nrcpt; i++) rep_set(first + i, 'Z', "4.3.0 out of memory"); return; }
  m->smtputf8 = j->smtputf8 || utf8_has8bit(m->sender, j->slen);
  for (i = 0; i < m->nrcpt; i++) {
    if (!rjob_addr_ok(m->rcpt[i], strlen(m->rcpt[i]))) rep_set(first + i, 'Z', "4.3.0 malformed recipient in job line");
    if (utf8_has8bit(m->rcpt[i], strlen(m->rcpt[i]))) m->smtputf8 = 1;
  }
  nmsgs++;
}

/* one line; terminated: it ended with LF */
static void job_line(char *line, size_t len, int terminated, unsigned long *njobs)
{
  struct rjob j;
  size_t n = rjob_parse(line, len, &j), i;
  if (!n) return;
  if (!terminated) { n = j.nrcpt ? j.nrcpt : 1; j.err = "job line without newline"; }
  if (excess || ++*njobs > REMOTE_MAXJOBS || nslots + n > REMOTE_MAXRCPT) { excess += n; return; }
  if (j.err) {
    warn("malformed job line: ", j.err);
    for (i = 0; i < n; i++) rep_set(nslots + i, 'Z', "4.3.0 malformed job line");
  } else job_add(line, &j, nslots);
  nslots += n;
}

/* the slots are counted first, so that reports can be set while parsing */
static size_t count_slots(const stralloc *in)
{
  size_t pos = 0, total = 0;
  unsigned long njobs = 0;
  while (pos < in->len) {
    struct rjob j;
    const char *s = in->s + pos, *nl = memchr(s, '\n', in->len - pos);
    size_t n = nl ? (size_t)(nl - s) : in->len - pos, k = rjob_parse(s, n, &j);
    if (k && (++njobs > REMOTE_MAXJOBS || total + k > REMOTE_MAXRCPT)) break;   /* the rest is excess */
    total += k;
    pos += n + 1;
  }
  return total;
}

static void parse_jobs(stralloc *in)
{
  size_t pos = 0;
  unsigned long njobs = 0;
  if (rep_init(count_slots(in)) < 0) fatal(EX_TEMP, "out of memory");
  while (pos < in->len) {
    char *s = in->s + pos, *nl = memchr(s, '\n', in->len - pos);
    size_t n = nl ? (size_t)(nl - s) : in->len - pos;
    job_line(s, n, nl != 0, &njobs);
    pos += n + 1;
  }
}

/* ---- results for many recipients at once */

static int msg_pending(const struct rmsg *m)
{
  size_t i;
  for (i = 0; i < m->nrcpt; i++) if (!rep_done(m->first + i)) return 1;
  return 0;
}

static size_t next_pending(size_t i)
{
  while (i < nmsgs && !msg_pending(&msgs[i])) i++;
  return i;
}

/* every recipient of m without a result gets kind and text; one line at medium */
static void fail_msg(const struct rmsg *m, char kind, const char *text)
{
  size_t i;
  if (!msg_pending(m)) return;
  rlog(&cfg, LEVEL_MEDIUM, m->id, m->id[0] ? " " : "", kind == 'D' ? "failed: " : "deferred: ", text, (const char *)0);
  for (i = 0; i < m->nrcpt; i++) rep_set(m->first + i, kind, text);
}

static void fail_from(size_t i, char kind, const char *text)
{
  for (; i < nmsgs; i++) fail_msg(&msgs[i], kind, text);
}

/* ---- connections */

/* the reason when no host could be used */
static void no_host_reason(stralloc *last, int reached, int all_refused)
{
  int ok;
  if (reached) return;
  if (all_refused) ok = stralloc_copys(last, "4.4.1 connection refused by all hosts");
  else ok = stralloc_copys(last, "4.4.1 no host reachable (last: ") && stralloc_cat(last, &sess.why)
            && stralloc_cats(last, ")");
  if (ok && stralloc_0(last)) last->len--;
  else last->len = 0;                  /* deliver_all has a fallback text */
}

/* a ready session to the first host that takes us: SESS_OK, SESS_PERM, or another
   code with the reason in last */
static int open_any(stralloc *last)
{
  int reached = 0, all_refused = 1, rc = SESS_NOCONN;
  size_t i;
  for (i = 0; i < dest.n; i++) {
    dest_select(&dest, i);
    rc = sess_open(&sess, &dest.t[i], 0);
    if (rc == SESS_TLSFAIL) {
      rlog(&cfg, LEVEL_MEDIUM, sess.why.s, "; trying again without TLS", (const char *)0);
      rc = sess_open(&sess, &dest.t[i], 1);
    }
    if (rc == SESS_OK || rc == SESS_PERM || rc == SESS_LOOP) return rc;
    rlog(&cfg, LEVEL_MEDIUM, sess.why.s, (const char *)0);
    if (rc == SESS_NOCONN && sess.connerr != ECONNREFUSED) all_refused = 0;
    if (rc != SESS_NOCONN) {
      reached = 1;
      if (stralloc_copy(last, &sess.why) && stralloc_0(last)) last->len--;
      else last->len = 0;
    }
  }
  no_host_reason(last, reached, all_refused);
  return rc;
}

/* jobs from *next over the open session, at most control/msgsperconn transactions
   on it (then QUIT); 1 when the connection was lost.  reused: the session was
   kept from an earlier batch, and a loss before the server answered the first
   MAIL is the server having closed it meanwhile, not a break */
static int run_connection(size_t *next, int reused)
{
  int started;
  while ((*next = next_pending(*next)) < nmsgs) {
    if (cfg.msgsperconn && sess.msgs >= cfg.msgsperconn) { sess_close(&sess); return 0; }
    if (xfer_message(&sess, &msgs[*next], &started) == SESS_LOST) {
      rlog(&cfg, LEVEL_MEDIUM, sess.why.s, reused && !started ? " (a cached connection: connecting again)" : "",
           (const char *)0);
      if (started) { fail_msg(&msgs[*next], 'Z', sess.why.s); rmsg_release(&msgs[*next]); (*next)++; }
      sess_abort(&sess);
      return reused && !started ? 0 : 1;
    }
    reused = 0;
    rmsg_release(&msgs[*next]);
    (*next)++;
  }
  return 0;
}

/* every pending job, over the kept connection when it is still there; the
   connection is left open for the next batch */
static void deliver_all(void)
{
  static stralloc last;
  size_t next = 0;
  int drops = 0, rc, reused;
  while ((next = next_pending(next)) < nmsgs) {
    if (drops > 1) { fail_from(next, 'Z', sess.why.s); return; }
    reused = sess.fd >= 0 && sess_usable(&sess);
    if (!reused) {
      rc = open_any(&last);
      if (rc == SESS_PERM || rc == SESS_LOOP) { fail_from(next, 'D', sess.why.s); return; }
      if (rc != SESS_OK) { fail_from(next, 'Z', last.len ? last.s : "4.4.1 no host reachable"); return; }
    }
    drops += run_connection(&next, reused);
  }
}

/* ---- setup */

static int config_errors;

static void config_err(const char *file, unsigned line, const char *msg)
{
  config_errors++;
  config_warn(file, line, msg);
}

/* the settings imc-remote reads: an error in any other control file is not its concern */
static const char *const settings_used[] = { "me", "msgsperconn", "timeoutconnect", "timeoutremote",
                                             "transfertimeout", "loglevel", "connectioncache", "addressspace", 0 };

/* control/dkim as it was when last read (inode, size, change time; all 0: missing) */
static struct stat dkim_seen;

static void dkim_stat(struct stat *st)
{
  stralloc p = {0};
  if (imc_path2(&p, "control", "dkim") < 0 || stat(p.s, st) < 0) memset(st, 0, sizeof *st);
  stralloc_free(&p);
}

/* control files: 0, or -1 with every recipient deferred */
static int load_settings(void)
{
  int a, b;
  config_free(&cfg);
  route_free(&routes);
  dkimcfg_free(&dkim);
  a = config_load_only(&cfg, settings_used, config_err);
  if (a < 0) { fail_from(0, 'Z', "4.3.5 unable to read the control files"); return -1; }
  b = route_load(&routes, config_err);
  if (b < 0) { fail_from(0, 'Z', "4.3.5 unable to read control/routes or control/smarthost"); return -1; }
  dkim_stat(&dkim_seen);
  if (!a && !b && (a = dkimcfg_load(&dkim, config_err)) < 0) { fail_from(0, 'Z', "4.3.5 unable to read control/dkim"); return -1; }
  if (a || b) { fail_from(0, 'Z', "4.3.5 errors in the control files (imc-ctl check shows them)"); return -1; }
  return 0;
}

/* a kept connection's next batch: control/dkim again when it changed, so that a
   new signing domain or key is used at once: 0, -1 every recipient deferred */
static int dkim_refresh(void)
{
  struct stat st;
  int r;
  dkim_stat(&st);
  if (st.st_ino == dkim_seen.st_ino && st.st_size == dkim_seen.st_size
      && st.st_ctim.tv_sec == dkim_seen.st_ctim.tv_sec && st.st_ctim.tv_nsec == dkim_seen.st_ctim.tv_nsec) return 0;
  dkim_seen = st;
  dkimcfg_free(&dkim);
  r = dkimcfg_load(&dkim, config_err);
  if (r < 0) { fail_from(0, 'Z', "4.3.5 unable to read control/dkim"); return -1; }
  if (r) { fail_from(0, 'Z', "4.3.5 errors in the control files (imc-ctl check shows them)"); return -1; }
  return 0;
}

/* DOMAIN: a domain (kept in lower case) or an address literal; a domain with
   UTF-8 labels (RFC 6531) in its A-label form (lib/idna.h), which routes, DNS
   and TLS name checks use */
static int set_domain(const char *d)
{
  size_t n = strlen(d);
  if (utf8_has8bit(d, n)) {
    if (!domain_utf8_valid(d, n) || idna_to_ascii(d, n, domain, sizeof domain) <= 0) return -1;
    n = strlen(domain);
    case_lowerb(domain, n);
    return domain_valid(domain, n) ? 0 : -1;
  }
  if (n > HOST_MAX || !(domain_valid(d, n) || domain_literal(d, n))) return -1;
  memcpy(domain, d, n + 1);
  if (d[0] != '[') case_lowerb(domain, n);
  return 0;
}

/* fds 0 and 1 are the protocol; a closed fd 2 is filled */
static void check_fds(void)
{
  if (fcntl(1, F_GETFD) < 0) fatalsys(EX_TEMP, "fd 1 (reports) is not open");
  if (fcntl(0, F_GETFD) < 0) fatalsys(EX_TEMP, "fd 0 (jobs) is not open");
  if (fcntl(2, F_GETFD) < 0 && open("/dev/null", O_WRONLY) < 0) fatalsys(EX_TEMP, "unable to open /dev/null");
}

/* at transfer maximum, one line per address found, in the order tried */
static void log_dest(void)
{
  char ip[IP_FMT], port[FMT_ULONG];
  size_t i;
  for (i = 0; i < dest.n; i++) {
    ip_format(ip, (const unsigned char *)dest.t[i].ip);
    port[fmt_ulong(port, dest.t[i].port)] = 0;
    rlog(&cfg, LEVEL_MAXIMUM, domain, ": address ", dest.t[i].literal ? "" : dest.t[i].host,
         dest.t[i].literal ? "" : " ", "[", ip, "]:", port, (const char *)0);
  }
}

/* our own addresses out of dest (ownaddr.c): -1 when nothing else is left,
   every recipient then failed with 5.4.6 */
static int drop_own(void)
{
  static struct own own;
  static stralloc why;
  if (own_load(&own) < 0) warnsys("unable to read all of env/IMC_LISTEN, env/IMC_PORT, control/localips");
  if (!own_truncate(&dest, &own)) return 0;
  if (!stralloc_copys(&why, "5.4.6 mail for ") || !stralloc_cats(&why, domain)
      || !stralloc_cats(&why, " loops back to myself") || !stralloc_0(&why))
    fail_from(0, 'D', "5.4.6 mail loops back to myself");
  else fail_from(0, 'D', why.s);
  return -1;
}

/* one batch: the settings and the addresses are read again unless a kept
   connection still holds them */
static void run(void)
{
  static stralloc why;
  int rc;
  if (!nmsgs || next_pending(0) == nmsgs) return;
  if (bad_domain) { fail_from(0, 'Z', "4.3.0 imc-remote was given a bad destination domain"); return; }
  if (sess.fd < 0) {
    if (load_settings() < 0) return;
    rc = dest_find(&dest, domain, &routes, &cfg, &why);
    if (rc) { fail_from(0, (char)rc, why.len ? why.s : "4.3.0 out of memory"); return; }
    if (drop_own() < 0) return;
    log_dest();
  } else if (dkim_refresh() < 0) return;
  deliver_all();
}

static void report_excess(void)
{
  static const char over[] = "Z4.3.0 too many recipients in one run\n";
  char num[FMT_ULONG];
  unsigned long k;
  if (!excess) return;
  num[fmt_ulong(num, excess)] = 0;
  warn(num, " recipients past the limits of one run (1000 jobs, 10000 recipients) not tried");
  for (k = 0; k < excess; k++)
    if (write_all(1, over, sizeof over - 1) < 0) fatalsys(EX_TEMP, "unable to write reports");
}

/* the jobs of one batch, then their reports */
static void batch(stralloc *in)
{
  size_t i;
  for (i = 0; i < nmsgs; i++) { free(msgs[i].rcpt); free(msgs[i].rdsn); rmsg_release(&msgs[i]); }
  nmsgs = nslots = 0;
  excess = 0;
  parse_jobs(in);
  run();
  rep_flush();
  report_excess();
  if (rep_missing()) fatal(EX_TEMP, "some recipients got no report");
}

/* after a batch: keep the connection (RSET) for the next one, or QUIT when
   the cache is off or the connection has carried control/msgsperconn */
static void park(void)
{
  if (sess.fd < 0) return;
  if (!cfg.connectioncache || (cfg.msgsperconn && sess.msgs >= cfg.msgsperconn)) { sess_close(&sess); return; }
  if (!sess.msgs || sess.reset) return;
  sess.deadline = 0;
  if (sess_rset(&sess) < 0) {
    rlog(&cfg, LEVEL_MEDIUM, sess.why.s, " (not kept)", (const char *)0);
    sess_abort(&sess);
    return;
  }
  sess.reset = 1;
}

/* until fd 0 has the next batch or EOF; a server that closes the kept
   connection meanwhile (or sends anything on it) loses it */
static void idle_wait(void)
{
  for (;;) {
    struct pollfd p[2];
    nfds_t n = 1;
    p[0].fd = 0; p[0].events = POLLIN; p[0].revents = 0;
    if (sess.fd >= 0) { p[1].fd = sess.fd; p[1].events = POLLIN; p[1].revents = 0; n = 2; }
    if (poll(p, n, -1) < 0) {
      if (errno == EINTR) continue;
      fatalsys(EX_TEMP, "unable to wait for jobs");
    }
    if (n == 2 && p[1].revents) {
      rlog(&cfg, LEVEL_MEDIUM, sess.desc, ": the server closed the kept connection", (const char *)0);
      sess_abort(&sess);
    }
    if (p[0].revents) return;
  }
}

int main(int argc, char **argv)
{
  stralloc in = {0};
  diag_prog = "imc-remote";
  callenv_check();                    /* while the real uid is still the caller's */
  if (ids_settle() < 0) fatalsys(EX_TEMP, "unable to set the real user and group ids");   /* setuid imcr */
  check_fds();
  signal(SIGPIPE, SIG_IGN);
  if (argc != 2) usage("DOMAIN (jobs on fd 0, reports on fd 1)");
  jobsrc_init(&src);
  msgs = calloc(REMOTE_MAXJOBS, sizeof *msgs);
  if (!msgs) fatal(EX_TEMP, "out of memory");
  bad_domain = set_domain(argv[1]) < 0;
  dest_random_init();
  sess.cfg = &cfg;
  sess.dkim = &dkim;
  sess.dest = &dest;
  sess.domain = domain;
  sess.fd = -1;
  while (read_jobs(&in)) {
    batch(&in);
    if (!src.chan) break;
    park();
    if (write_all(1, JOBCHAN_END, sizeof JOBCHAN_END - 1) < 0) fatalsys(EX_TEMP, "unable to write reports");
    jobsrc_release(&src);
    idle_wait();
  }
  sess_close(&sess);
  jobsrc_release(&src);
  stralloc_free(&in);
  return EX_OK;
}
