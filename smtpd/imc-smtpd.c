/*
 * imc-smtpd -- one inbound ESMTP session (RFC 5321) on fd 0 (from the
 * client) and fd 1 (to the client); imc-tcpd runs one per connection.
 *
 * Environment: TCPREMOTEIP, TCPLOCALIP (UCSPI style); IMC_RULE, the
 * connection rule's verdict: accept (the default), relay (may send to any
 * domain in control/addressspace) or auth (must authenticate before MAIL);
 * without IMC_RULE a loopback client relays.  IMC_SUBMISSION=1 on the
 * submission port: authentication required.  IMC_HOME names the instance.
 * From imc-tcpd (smtp_limits.c): IMC_REPORT_FD, the pipe on which AUTH
 * failures and ETRNs are reported; IMC_AUTHFAIL, the client's AUTH
 * failures in the current 10-minute window; IMC_ETRNWAIT, seconds until
 * the client may ETRN again.
 *
 * Control files: me, sitedomains, directory (the cdb), postmaster,
 * databytes, maxrcpt, timeoutsmtpd, timeoutsession, mindatarate,
 * mindatagrace, authfailures, greetdelay, addressspace, filter,
 * senders.allow, senders.deny, auth, loglevel, tls/cert.pem and
 * tls/key.pem (without them STARTTLS is not offered).
 *
 * It never writes the queue: each message goes to imc-queue (smtp_msg.c).
 * Logging on fd 2 by control/loglevel: smtp at minimum (one line per
 * session), medium (each message, refusal, AUTH, TLS), protocol at maximum
 * (the transcript, AUTH secrets masked).
 *
 * Exit codes: 0 the session ended (whatever the client did); 111 the
 * control files cannot be read or have errors (the client got 421 4.3.5).
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

static struct session S;

static void config_err(const char *file, unsigned line, const char *msg)
{
  char n[FMT_ULONG];
  n[fmt_ulong(n, line)] = 0;
  if (line) warn("control/", file, ":", n, ": ", msg);
  else warnsys("unable to read control/", file);
}

static void load_config(struct session *s)
{
  int r = config_load(&s->cfg, config_err);
  if (r == 0 && stralloc_0(&s->cfg.me)) { s->cfg.me.len--; return; }
  if (r > 0) warn("control files have errors: refusing connections until they are fixed");
  sio_puts(&s->sio, "421 4.3.5 service not available: configuration problem, try again later\r\n");
  sio_flush(&s->sio);
  _exit(EX_TEMP);
}

static void load_tls(struct session *s)
{
  stralloc cert = {0}, key = {0};
  int r = -1;
  if (imc_path2(&cert, "control", "tls/cert.pem") == 0 && imc_path2(&key, "control", "tls/key.pem") == 0)
    r = tls_creds_load(&s->creds, cert.s, key.s);
  if (r == -1 && errno != ENOENT) warnsys("unable to read control/tls/cert.pem and key.pem: STARTTLS not offered");
  if (r == -2) warn("control/tls/cert.pem or key.pem does not parse: STARTTLS not offered");
  if (r < 0) s->creds = 0;
  stralloc_free(&cert);
  stralloc_free(&key);
}

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

static void environment(struct session *s)
{
  static char rip[64], lip[64];
  const char *rule = getenv("IMC_RULE"), *sub = getenv("IMC_SUBMISSION");
  s->remoteip = clean_ip(rip, sizeof rip, getenv("TCPREMOTEIP"));
  s->localip = clean_ip(lip, sizeof lip, getenv("TCPLOCALIP"));
  s->loopback = is_loopback(s->remoteip);
  if (!rule || !*rule) s->relay = s->loopback;
  else if (!strcmp(rule, "relay")) s->relay = 1;
  else if (!strcmp(rule, "auth")) s->must_auth = 1;
  else if (strcmp(rule, "accept")) warn("unknown IMC_RULE ", rule, ": treated as accept");
  if (sub && !strcmp(sub, "1")) s->must_auth = 1;
  s->tag[fmt_ulong(s->tag, (unsigned long)getpid())] = 0;
  s->tag[str_len(s->tag) + 1] = 0;
  s->tag[str_len(s->tag)] = ' ';
}

int main(int argc, char **argv)
{
  struct session *s = &S;
  (void)argv;
  diag_prog = "imc-smtpd";
  if (argc > 1) usage("(no arguments; fds 0 and 1 are the connection)");
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_DFL);     /* an inherited SIG_IGN would reap imc-queue before we see its code */
  sio_init(&s->sio, 0, 1, 300);
  environment(s);
  load_config(s);
  log_init(&s->cfg);
  s->sio.timeout = !s->cfg.timeoutsmtpd ? 300 : s->cfg.timeoutsmtpd > 86400 ? 86400 : (unsigned)s->cfg.timeoutsmtpd;
  limits_init(s);
  s->dir_ok = directory_open(&s->dir) == 0;
  if (!s->dir_ok) warnsys("unable to open control/directory.cdb");
  load_tls(s);
  smtpd_run(s);
}
