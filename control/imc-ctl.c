/*
 * imc-ctl -- check, show, set and compile the control files of an instance.
 *
 *     imc-ctl check              every setting, control/rules, transfermode, routes, smarthost,
 *                                domains, mimetypes
 *                                and control/directory; warns about
 *                                control/tls/cert.pem (ctl_tls.h)
 *     imc-ctl check --dns        the same, then for each site domain whether
 *                                its MX records point at this host (ctl_dns.h)
 *     imc-ctl show               each setting's value, `(default)` when not set
 *     imc-ctl set FILE VALUE...  replace control/FILE (one line per VALUE);
 *                                e.g. imc-ctl set rules 'relay 10.0.0.0/8' 'reject 192.0.2.0/24'
 *     imc-ctl reset FILE         remove control/FILE: its default applies
 *                                (then shown as by show)
 *     imc-ctl compile            control/directory -> control/directory.cdb
 *     imc-ctl spf IP MAILFROM [HELO]
 *                                the SPF check imc-smtpd makes, printed (ctl_spf.h)
 *
 * The instance is $IMC_HOME (default /var/imc).  Errors in control files
 * go to stdout as `control/FILE:LINE: message`; diagnostics to stderr.
 *
 * Exit codes: 0 ok; 100 errors in the control files, a value refused by
 * set, or a usage error; 111 a file that cannot be read or written.
 * spf: 0 whenever a result is printed (the result is in the output).
 * check --dns: CTLX_DNSWARN (1) when a site domain's mail does not reach
 * this host (a warning on stderr says why), else 111 when a DNS lookup
 * failed temporarily, else 0; the DNS is not asked when the control files
 * have errors (100).
 * set validates the value with the setting's own parser and replaces the
 * file atomically (write new, fsync, rename, fsync control/), so a bad
 * value leaves the old file as it was; the new file keeps the owner, group
 * and mode of the old one, and a new secret gets those imc-setup gives it
 * (ctl_write.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "config.h"
#include "control.h"
#include "ctl_dns.h"
#include "ctl_dkim.h"
#include "ctl_spf.h"
#include "ctl_tls.h"
#include "ctl_write.h"
#include "diag.h"
#include "directory.h"
#include "exitcodes.h"
#include "fileio.h"
#include "domains.h"
#include "mimetypes.h"
#include "dequeue.h"
#include "route.h"
#include "rules.h"
#include "stdout.h"

#define USAGE "check [--dns]|show|set FILE VALUE...|compile|reset FILE|spf IP MAILFROM [HELO]|dmarc DOMAIN|dkim-keygen DOMAIN SELECTOR"

static unsigned long nerrors;

static const char *unreadable = "files";

/* `control/FILE:LINE: message` on stdout; LINE 0: FILE cannot be read (errno) */
static void report(const char *file, unsigned line, const char *msg)
{
  if (!line) { unreadable = file; return; }
  out_puts("control/");
  out_puts(file);
  out_puts(":");
  out_putulong(line);
  out_puts(": ");
  out_puts(msg);
  out_puts("\n");
  out_flush();
  nerrors++;
}

/* ---- check */

static int newer(const struct stat *a, const struct stat *b)
{
  if (a->st_mtim.tv_sec != b->st_mtim.tv_sec) return a->st_mtim.tv_sec > b->st_mtim.tv_sec;
  return a->st_mtim.tv_nsec > b->st_mtim.tv_nsec;
}

/* a directory edited since the last compile is not in effect yet */
static void check_compiled(void)
{
  stralloc src = {0}, cdb = {0};
  struct stat s, c;
  if (imc_path2(&src, "control", "directory") < 0 || imc_path2(&cdb, "control", "directory.cdb") < 0)
    fatal(EX_TEMP, "out of memory");
  if (stat(src.s, &s) == 0) {
    if (stat(cdb.s, &c) < 0) warn("control/directory.cdb is missing: run imc-ctl compile");
    else if (newer(&s, &c)) warn("directory.cdb is older than directory: run imc-ctl compile");
  }
  stralloc_free(&src);
  stralloc_free(&cdb);
}

/* control/tls/cert.pem and key.pem are there (imc-smtpd offers STARTTLS) */
static int tls_present(void)
{
  stralloc c = {0}, k = {0};
  struct stat st;
  int ok = imc_path2(&c, "control", "tls/cert.pem") == 0 && imc_path2(&k, "control", "tls/key.pem") == 0
           && stat(c.s, &st) == 0 && stat(k.s, &st) == 0;
  stralloc_free(&c);
  stralloc_free(&k);
  return ok;
}

static int do_check(void)
{
  struct config c;
  struct rules rs = {0, 0, 0, 0};
  int mode;
  if (config_load(&c, report) < 0) fatalsys(EX_TEMP, "unable to read control/", unreadable);
  config_free(&c);
  if (rules_load(&rs, report) < 0) fatalsys(EX_TEMP, "unable to read control/rules");
  rules_warn(&rs, tls_present(), config_warn);   /* a tls rule with no certificate */
  rules_free(&rs);
  if (transfermode_load(&mode, report) < 0) fatalsys(EX_TEMP, "unable to read control/transfermode");
  if (routes_check(report) < 0) fatalsys(EX_TEMP, "unable to read control/routes or control/smarthost");
  routes_warn(config_warn);            /* AUTH settings that leak or never send the password */
  if (localips_check(report) < 0) fatalsys(EX_TEMP, "unable to read control/localips");
  if (dequeue_check(report) < 0) fatalsys(EX_TEMP, "unable to read control/dequeue");
  if (domains_check(report) < 0) fatalsys(EX_TEMP, "unable to read control/domains");
  if (mimetypes_check(report) < 0) fatalsys(EX_TEMP, "unable to read control/mimetypes");
  if (directory_check(report) < 0) fatalsys(EX_TEMP, "unable to read control/directory");
  if (ctl_dkim_check(report) < 0) fatalsys(EX_TEMP, "unable to read control/dkim");
  check_compiled();
  if (ctl_tls_check() < 0) fatalsys(EX_TEMP, "unable to read control/tls/cert.pem");
  if (nerrors) {
    out_putulong(nerrors);
    out_puts(nerrors == 1 ? " error\n" : " errors\n");
    out_flush();
    return EX_PERM;
  }
  out_puts("control: ok\n");
  out_flush();
  return EX_OK;
}

/* ---- check --dns */

static void dns_say(int is_warning, const char *line)
{
  if (is_warning) { out_flush(); warn(line); return; }
  out_puts(line);
  out_puts("\n");
  out_flush();
}

static int do_check_dns(void)
{
  struct config c;
  struct dnscheck_result res;
  int r = do_check();
  if (r != EX_OK) return r;
  if (config_load(&c, 0) != 0) fatalsys(EX_TEMP, "unable to read the control files");
  dnscheck_sites(&c, dns_say, &res);
  config_free(&c);
  if (res.warnings) return CTLX_DNSWARN;
  return res.tempfails ? EX_TEMP : EX_OK;
}

/* ---- show */

static void show_line(const char *file, const char *value, int is_default)
{
  out_puts(file);
  out_puts(" ");
  out_puts(value);
  out_puts(is_default ? " (default)\n" : "\n");
}

static void show_loglevel(void)
{
  struct config c;
  int i;
  if (config_load(&c, 0) < 0) fatalsys(EX_TEMP, "unable to read the control files");
  out_puts("loglevel");
  for (i = 0; i < LOG_NCAT; i++) {
    out_puts(" ");
    out_puts(log_category_name(i));
    out_puts("=");
    out_puts(log_level_name(c.loglevel[i]));
  }
  out_puts("\n");
  config_free(&c);
}

static void show_directory(void)
{
  struct directory d;
  unsigned long n;
  if (directory_open(&d) < 0) fatalsys(EX_TEMP, "unable to open control/directory.cdb");
  if (d.fd >= 0) {
    if (directory_count(&d, &n) < 0) fatalsys(EX_TEMP, "unable to read control/directory.cdb");
    out_puts("directory ");
    out_putulong(n);
    out_puts(n == 1 ? " entry\n" : " entries\n");
  }
  directory_close(&d);
}

/* 1 when control/NAME has a line that is not blank or a comment, 0 not, -1 unreadable */
static int has_lines(const char *name)
{
  ctl_file f = {0};
  char *line;
  size_t len;
  int r = ctl_open(&f, name);
  if (r == 1) r = ctl_next(&f, &line, &len);
  ctl_close(&f);
  return r;
}

/* control/transfermode and control/rules, as imc-tcpd sees them */
static void show_inbound(void)
{
  struct rules rs = {0, 0, 0, 0};
  char buf[RULE_FMT];
  size_t i;
  int mode = XFER_BOTH, given = has_lines("transfermode"), r = 0;
  if (given < 0 || (r = transfermode_load(&mode, 0)) < 0) fatalsys(EX_TEMP, "unable to read control/transfermode");
  if (r > 0) out_puts("transfermode (errors: see imc-ctl check)\n");
  else show_line("transfermode", transfermode_name(mode), given == 0);
  r = rules_load(&rs, 0);
  if (r < 0) fatalsys(EX_TEMP, "unable to read control/rules");
  if (r > 0) out_puts("rules (errors: see imc-ctl check)\n");
  for (i = 0; i < rs.n; i++) {
    rule_format(buf, &rs.r[i]);
    show_line("rules", buf, rs.is_default);
  }
  rules_free(&rs);
}

static int do_show(void)
{
  if (config_show(show_line) < 0) fatalsys(EX_TEMP, "unable to read the control files");
  show_inbound();
  show_loglevel();
  show_directory();
  out_flush();
  return EX_OK;
}

/* ---- set */

static int known_file(const char *file)
{
  size_t i;
  if (!strcmp(file, "rules") || !strcmp(file, "transfermode")) return 1;
  if (!strcmp(file, "routes") || !strcmp(file, "smarthost") || !strcmp(file, "dequeue")) return 1;
  for (i = 0; config_file(i); i++) if (!strcmp(config_file(i), file)) return 1;
  return 0;
}

/* the number of errors in text as control/FILE, each reported; -1 unknown FILE */
static int check_text(const char *file, const char *text, size_t len)
{
  if (!strcmp(file, "rules")) return rules_check_text(text, len, report);
  if (!strcmp(file, "transfermode")) return transfermode_check_text(text, len, report);
  if (!strcmp(file, "routes") || !strcmp(file, "smarthost")) {
    struct routes r;
    int n;
    memset(&r, 0, sizeof r);
    n = route_parse_text(&r, !strcmp(file, "smarthost"), text, len, report);
    route_free(&r);
    return n;
  }
  if (!strcmp(file, "dequeue")) {
    static struct dequeues d;
    int n = dequeue_parse_text(&d, text, len, report);
    dequeue_free(&d);
    return n;
  }
  return config_check_text(file, text, len, report);
}

static int do_set(const char *file, char **values)
{
  stralloc text = {0};
  int r;
  if (!known_file(file)) fatal(EX_PERM, "unknown control file: ", file);
  for (; *values; values++)
    if (!stralloc_cats(&text, *values) || !stralloc_cats(&text, "\n")) fatal(EX_TEMP, "out of memory");
  r = check_text(file, text.s, text.len);
  if (r < 0) fatal(EX_PERM, "unknown control file: ", file);
  if (r > 0) fatal(EX_PERM, "control/", file, " not changed: the new value has errors");
  if (ctl_write(file, text.s, text.len) < 0) fatalsys(EX_TEMP, "unable to write control/", file);
  return EX_OK;
}

/* ---- reset */

static const char *reset_file;

static void show_reset(const char *file, const char *value, int is_default)
{
  if (!strcmp(file, reset_file)) show_line(file, value, is_default);
}

static int do_reset(const char *file)
{
  int r;
  if (!known_file(file)) fatal(EX_PERM, "unknown control file: ", file);
  r = ctl_remove(file);
  if (r < 0) fatalsys(EX_TEMP, "unable to remove control/", file);
  out_puts(r ? "imc-ctl: control/" : "imc-ctl: removed control/");
  out_puts(file);
  out_puts(r ? " was not there: the default applies\n" : ": the default applies\n");
  reset_file = file;
  if (config_show(show_reset) < 0) fatalsys(EX_TEMP, "unable to read control/");
  out_flush();
  return EX_OK;
}

/* ---- compile */

static int do_compile(void)
{
  unsigned long n = 0;
  int r = directory_build(report, &n);
  if (r < 0) fatalsys(EX_TEMP, "unable to compile control/directory");
  if (r > 0) fatal(EX_PERM, "control/directory has errors: nothing compiled");
  out_puts("imc-ctl: compiled ");
  out_putulong(n);
  out_puts(n == 1 ? " entry\n" : " entries\n");
  out_flush();
  return EX_OK;
}

int main(int argc, char **argv)
{
  diag_prog = "imc-ctl";
  if (argc < 2) usage(USAGE);
  if (!strcmp(argv[1], "check") && argc == 2) return do_check();
  if (!strcmp(argv[1], "check") && argc == 3 && !strcmp(argv[2], "--dns")) return do_check_dns();
  if (!strcmp(argv[1], "show") && argc == 2) return do_show();
  if (!strcmp(argv[1], "compile") && argc == 2) return do_compile();
  if (!strcmp(argv[1], "set") && argc >= 4) return do_set(argv[2], argv + 3);
  if (!strcmp(argv[1], "reset") && argc == 3) return do_reset(argv[2]);
  if (!strcmp(argv[1], "spf") && (argc == 4 || argc == 5)) return ctl_spf(argv[2], argv[3], argc == 5 ? argv[4] : 0);
  if (!strcmp(argv[1], "dmarc") && argc == 3) return ctl_dmarc(argv[2], ctl_dnscacheip());
  if (!strcmp(argv[1], "dkim-keygen") && argc == 4) return ctl_dkim_keygen(argv[2], argv[3]);
  usage(USAGE);
}
