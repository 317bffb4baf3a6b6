/*
 * imc-smtpd -- inbound ESMTP sessions (RFC 5321).  Two ways to run:
 *
 *   a worker of imc-tcpd's pool (IMC_WORKER=1): fd 0 is a socket to
 *   imc-tcpd that hands it one connection at a time, with the variables
 *   below in a frame (lib/handoff.h, docs/INTERNALS.md section 11); it
 *   serves the session, forgets it, says "idle", and waits for the next;
 *   it exits 0 when imc-tcpd closes the socket (smtp_worker.c);
 *
 *   one session on fd 0 (from the client) and fd 1 (to the client), the
 *   variables in the environment: inetd style, or imc-tcpd with
 *   IMC_SMTPD_UCSPI=1;
 *
 *   imc-smtpd -l: one session of a local submitter on fds 0 and 1, run by
 *   the caller (sendmail -bs execs it, imc-inject.c).  The caller is no
 *   network peer: it may relay like a relay rule, STARTTLS and AUTH are not
 *   offered, the early-talker check and greetdelay are skipped (a script
 *   may pipe its commands), and the envelope gets via=inject and uid=N (the
 *   caller's real uid) instead of peer=.  The policy is otherwise the same.
 *   imc-smtpd is not setuid: the messages go through the setuid imc-queue,
 *   which keeps only via=inject from a user that is not imc's own and
 *   writes uid= itself (docs/INTERNALS.md section 10).
 *
 * Variables: TCPREMOTEIP, TCPLOCALIP (UCSPI style); IMC_RULE, the
 * connection rule's verdict: accept (the default), relay (may send to any
 * domain in control/addressspace), auth (must authenticate before MAIL),
 * tls (must use STARTTLS before MAIL: 530 5.7.0) or tlsauth (both);
 * without IMC_RULE a loopback client relays.  IMC_SUBMISSION=1 on the
 * submission port: authentication required.  IMC_HOME names the instance.
 * From imc-tcpd (smtp_limits.c): IMC_REPORT_FD, the pipe on which AUTH
 * failures and ETRNs are reported; IMC_AUTHFAIL, the client's AUTH
 * failures in the current 10-minute window; IMC_ETRNWAIT, seconds until
 * the client may ETRN again.
 *
 * Control files: those of smtpd_config_files below (lib/config.c's
 * table), directory (the cdb), tls/cert.pem and tls/key.pem (without them
 * STARTTLS is not offered); no other file of the table is read, so an
 * error in one (retry, lifetime) never stops it.  A worker reads them at
 * its start and again before a session when one of them changed
 * (smtp_worker.c).
 *
 * It never writes the queue: each message goes to imc-queue (smtp_msg.c).
 * Logging on fd 2 by control/loglevel: smtp at minimum (one line per
 * session), medium (each message, refusal, AUTH, TLS), protocol at maximum
 * (the transcript, AUTH secrets masked).
 *
 * Exit codes: 0 the session ended (whatever the client did), or the
 * worker was told to go; 111 the control files cannot be read or have
 * errors (the client got 421 4.3.5; a worker answers so and stays).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "control.h"
#include "diag.h"
#include "exitcodes.h"
#include "log.h"
#include "smtpd.h"
#include "tls.h"

static struct session S;           /* one session: wiped as a whole between two (smtp_worker.c) */
static struct smtpd_base B;        /* what a worker keeps */

/* ---- the base: control files, directory, TLS */

static void config_err(const char *file, unsigned line, const char *msg)
{
  char n[FMT_ULONG];
  n[fmt_ulong(n, line)] = 0;
  if (line) warn("control/", file, ":", n, ": ", msg);
  else warnsys("unable to read control/", file);
}

/* the settings imc-smtpd uses, and what uses them: the greeting and replies
   (me), local domains and recipients (sitedomains, postmaster, through the
   directory), limits (databytes, maxrcpt, greetdelay, timeoutsmtpd,
   timeoutsession, mindatarate, mindatagrace, authfailures), relaying and
   ETRN (addressspace, senders.allow, senders.deny), MAIL (filter), AUTH
   (auth), SPF, DKIM and DMARC (authpolicy), logging (loglevel) */
const char *const smtpd_config_files[] = {
  "me", "sitedomains", "postmaster", "databytes", "maxrcpt", "greetdelay", "timeoutsmtpd",
  "timeoutsession", "mindatarate", "mindatagrace", "authfailures", "addressspace",
  "senders.allow", "senders.deny", "filter", "auth", "authpolicy", "loglevel", 0
};

/* the control files into b->cfg, replacing what was there only when they load */
static void load_config(struct smtpd_base *b)
{
  struct config fresh;
  int r;
  memset(&fresh, 0, sizeof fresh);
  r = config_load_only(&fresh, smtpd_config_files, config_err);
  if (r == 0 && stralloc_0(&fresh.me)) {
    fresh.me.len--;
    if (b->cfg_ok) config_free(&b->cfg);
    b->cfg = fresh;
    b->cfg_ok = 1;
    log_init(&b->cfg);
    return;
  }
  if (r >= 0) config_free(&fresh);
  if (r > 0) warn("control files have errors: refusing connections until they are fixed");
  if (b->cfg_ok) config_free(&b->cfg);
  b->cfg_ok = 0;
}

static void load_tls(struct smtpd_base *b)
{
  stralloc cert = {0}, key = {0};
  int r = -1;
  if (b->creds) tls_creds_free(b->creds);
  b->creds = 0;
  if (imc_path2(&cert, "control", "tls/cert.pem") == 0 && imc_path2(&key, "control", "tls/key.pem") == 0)
    r = tls_creds_load(&b->creds, cert.s, key.s);
  if (r == -1 && errno != ENOENT) warnsys("unable to read control/tls/cert.pem and key.pem: STARTTLS not offered");
  if (r == -2) warn("control/tls/cert.pem or key.pem does not parse: STARTTLS not offered");
  if (r < 0) b->creds = 0;
  stralloc_free(&cert);
  stralloc_free(&key);
}

void smtpd_base_load(struct smtpd_base *b)
{
  load_config(b);
  if (!b->local) load_tls(b);
  if (b->dir_ok) directory_close(&b->dir);
  b->dir_ok = directory_open(&b->dir) == 0;
  if (!b->dir_ok) warnsys("unable to open control/directory.cdb");
}

/* ---- one session */

/* an address from the environment, printable and short, for logs and the envelope */
static const char *clean_ip(char *buf, size_t cap, const char *ip)
{
  size_t i;
  if (!ip || !*ip) ip = "unknown";
  for (i = 0; ip[i] && i + 1 < cap; i++) {
    char c = ip[i];
    buf[i] = ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
              || c == '.' || c == ':' || (c >= 'g' && c <= 'z')) ? c : '?';
  }
  buf[i] = 0;
  return buf;
}

static int is_loopback(const char *ip)
{
  return !strncmp(ip, "127.", 4) || !strcmp(ip, "::1") || !strncmp(ip, "::ffff:127.", 11);
}

/* "PID " at the head of protocol log lines */
static void set_tag(struct session *s)
{
  s->tag[fmt_ulong(s->tag, (unsigned long)getpid())] = 0;
  s->tag[str_len(s->tag) + 1] = 0;
  s->tag[str_len(s->tag)] = ' ';
}

/* -l: the caller is a local submitter, not a peer */
static void local_environment(struct session *s)
{
  s->remoteip = s->localip = "local";
  s->relay = 1;
  set_tag(s);
}

static void environment(struct session *s, smtpd_getvar get)
{
  if (s->local) { local_environment(s); return; }
  const char *rule = get("IMC_RULE"), *sub = get("IMC_SUBMISSION");
  s->remoteip = clean_ip(s->rip, sizeof s->rip, get("TCPREMOTEIP"));
  s->localip = clean_ip(s->lip, sizeof s->lip, get("TCPLOCALIP"));
  s->loopback = is_loopback(s->remoteip);
  if (!rule || !*rule) s->relay = s->loopback;
  else if (!strcmp(rule, "relay")) s->relay = 1;
  else if (!strcmp(rule, "auth")) s->must_auth = 1;
  else if (!strcmp(rule, "tls")) s->must_tls = 1;
  else if (!strcmp(rule, "tlsauth")) s->must_tls = s->must_auth = 1;
  else if (strcmp(rule, "accept")) warn("unknown IMC_RULE ", rule, ": treated as accept");
  if (sub && !strcmp(sub, "1")) s->must_auth = 1;
  set_tag(s);
}

void smtpd_session(struct session *s, const struct smtpd_base *b, int rfd, int wfd, smtpd_getvar get)
{
  sio_init(&s->sio, rfd, wfd, 300);
  s->local = b->local;
  environment(s, get);
  if (!b->cfg_ok) {
    sio_puts(&s->sio, "421 4.3.5 service not available: configuration problem, try again later\r\n");
    sio_flush(&s->sio);
    smtpd_leave(EX_TEMP);
  }
  s->cfg = b->cfg;
  s->sio.timeout = !s->cfg.timeoutsmtpd ? 300 : s->cfg.timeoutsmtpd > 86400 ? 86400 : (unsigned)s->cfg.timeoutsmtpd;
  limits_init(s, get, b->report_fd);
  s->dir = b->dir;
  s->dir_ok = b->dir_ok;
  s->creds = b->creds;
  smtpd_run(s);
}

static const char *env_var(const char *name) { return getenv(name); }

int main(int argc, char **argv)
{
  const char *w = getenv("IMC_WORKER");
  diag_prog = "imc-smtpd";
  if (argc == 2 && !strcmp(argv[1], "-l")) B.local = 1;
  else if (argc > 1) usage("[-l] (fds 0 and 1 are the connection; -l: a local submitter)");
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_DFL);     /* an inherited SIG_IGN would reap imc-queue before we see its code */
  B.report_fd = limits_report_fd();
  if (w && !strcmp(w, "1") && !B.local) smtpd_worker(&S, &B);
  smtpd_base_load(&B);
  smtpd_session(&S, &B, 0, 1, env_var);
}
