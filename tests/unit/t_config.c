/*
 * t_config.c -- the control file reader (lib/control.c), the settings
 * table (lib/config.c) and libowfat's number formatting through owfat.h.
 * Files are written into a temporary instance named by IMC_HOME.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "fixture.h"
#include "config.h"
#include "control.h"


static void test_reader(void)
{
  ctl_file f = {0};
  char *line;
  size_t len;
  put("sample", "# a comment\n\nfoo  \t\r\n  bar # trailing\r\n\n   \t\nlast");
  CHECK(ctl_open(&f, "sample") == 1);
  CHECK(ctl_next(&f, &line, &len) == 1);
  CHECK_STR(line, "foo");
  CHECK(len == 3 && f.lineno == 3);
  CHECK(ctl_next(&f, &line, &len) == 1);
  CHECK_STR(line, "bar");
  CHECK(f.lineno == 4);
  CHECK(ctl_next(&f, &line, &len) == 1);
  CHECK_STR(line, "last");                        /* no newline at the end */
  CHECK(f.lineno == 7);
  CHECK(ctl_next(&f, &line, &len) == 0);
  ctl_close(&f);
  CHECK(ctl_open(&f, "absent") == 0);             /* missing: use the default */
  ctl_close(&f);
  ctl_openmem(&f, "mem", "a b\n#x\nc", 8);
  CHECK(ctl_next(&f, &line, &len) == 1 && !strcmp(line, "a b"));
  CHECK(ctl_next(&f, &line, &len) == 1 && !strcmp(line, "c") && f.lineno == 3);
  CHECK(ctl_next(&f, &line, &len) == 0);
  ctl_close(&f);
  drop("sample");
}

static void test_words(void)
{
  char buf[] = "  one\ttwo   three ";
  char *p = buf;
  CHECK_STR(ctl_word(&p), "one");
  CHECK_STR(ctl_word(&p), "two");
  CHECK_STR(ctl_word(&p), "three");
  CHECK(ctl_word(&p) == 0);
}

static void test_scan(void)
{
  unsigned long v = 0;
  int b = -1;
  CHECK(ctl_scan_size("123", &v) && v == 123);
  CHECK(ctl_scan_size("64k", &v) && v == 65536);
  CHECK(ctl_scan_size("25M", &v) && v == 26214400);
  CHECK(ctl_scan_size("1G", &v) && v == 1073741824UL);
  CHECK(!ctl_scan_size("", &v));
  CHECK(!ctl_scan_size("k", &v));
  CHECK(!ctl_scan_size("12x", &v));
  CHECK(!ctl_scan_size("-1", &v));
  CHECK(!ctl_scan_size("99999999999999999999999", &v));
  CHECK(ctl_scan_time("90", &v) && v == 90);
  CHECK(ctl_scan_time("90s", &v) && v == 90);
  CHECK(ctl_scan_time("15m", &v) && v == 900);
  CHECK(ctl_scan_time("4h", &v) && v == 14400);
  CHECK(ctl_scan_time("3d", &v) && v == 259200);
  CHECK(!ctl_scan_time("3w", &v));
  CHECK(!ctl_scan_time("m", &v));
  CHECK(ctl_scan_bool("on", &b) && b == 1);
  CHECK(ctl_scan_bool("Yes", &b) && b == 1);
  CHECK(ctl_scan_bool("true", &b) && b == 1);
  CHECK(ctl_scan_bool("1", &b) && b == 1);
  CHECK(ctl_scan_bool("off", &b) && b == 0);
  CHECK(ctl_scan_bool("NO", &b) && b == 0);
  CHECK(ctl_scan_bool("false", &b) && b == 0);
  CHECK(ctl_scan_bool("0", &b) && b == 0);
  CHECK(!ctl_scan_bool("maybe", &b));
}

/* TOOLKIT: libowfat 0.32's fmt_ulong0 drops its digits; owfat.h routes around it */
static void test_numbers(void)
{
  stralloc sa = {0};
  char buf[FMT_ULONG + 8];
  buf[fmt_ulong(buf, 42)] = 0;
  CHECK_STR(buf, "42");
  buf[fmt_ulong(buf, 0)] = 0;
  CHECK_STR(buf, "0");
  CHECK(fmt_ulong(0, 4294967295UL) == 10);
  buf[fmt_ulong0(buf, 7, 3)] = 0;
  CHECK_STR(buf, "007");
  buf[fmt_ulong0(buf, 1234, 2)] = 0;
  CHECK_STR(buf, "1234");
  CHECK(stralloc_catulong(&sa, 42) && stralloc_0(&sa));
  CHECK_STR(sa.s, "42");
  sa.len = 0;
  CHECK(stralloc_catulong0(&sa, 42, 0) && stralloc_0(&sa));
  CHECK_STR(sa.s, "42");
  sa.len = 0;
  CHECK(stralloc_cats(&sa, "n=") && stralloc_catulong0(&sa, 5, 4) && stralloc_0(&sa));
  CHECK_STR(sa.s, "n=0005");
  sa.len = 0;
  CHECK(stralloc_catlong(&sa, -42) && stralloc_catuint(&sa, 0u) && stralloc_catint(&sa, 7) && stralloc_0(&sa));
  CHECK_STR(sa.s, "-4207");
  sa.len = 0;
  CHECK(stralloc_catlong0(&sa, -10, 4) && stralloc_0(&sa));
  CHECK_STR(sa.s, "-0010");
  stralloc_free(&sa);
}

static void test_defaults(void)
{
  struct config c;
  char host[256];
  errs[0] = 0;
  CHECK(config_load(&c, collect) == 0);
  CHECK_STR(errs, "");
  if (gethostname(host, sizeof host) == 0) { CHECK(c.me.len == strlen(host)); }
  CHECK(config_is_sitedomain(&c, c.me.s, c.me.len));   /* sitedomains defaults to me */
  CHECK(c.postmaster.len == 10 && !memcmp(c.postmaster.s, "postmaster", 10));
  CHECK(c.databytes == 26214400);
  CHECK(c.maxrcpt == 1000);
  CHECK(c.diskfree == 5 && c.diskfree_pct);
  CHECK(c.tracking == 1);
  CHECK(c.nretry == 4 && c.retry_factor == 1000);
  CHECK(config_retry_delay(&c, 1) == 900);
  CHECK(config_retry_delay(&c, 2) == 1800);
  CHECK(config_retry_delay(&c, 3) == 3600);
  CHECK(config_retry_delay(&c, 4) == 14400);
  CHECK(config_retry_delay(&c, 9) == 14400);            /* the last one repeats */
  CHECK(c.lifetime[PRIO_URGENT] == 86400 && c.lifetime[PRIO_NORMAL] == 172800);
  CHECK(c.lifetime[PRIO_NONURGENT] == 259200);
  CHECK(c.delaywarn == 14400);
  CHECK(c.maxinbound == 30 && c.maxperip == 10 && c.maxoutbound == 30 && c.maxperhost == 10);
  CHECK(c.msgsperconn == 20 && c.timeoutsmtpd == 300 && c.timeoutremote == 300 && c.timeoutconnect == 60);
  CHECK(c.transfertimeout[PRIO_URGENT] == 600 && c.transfertimeout[PRIO_NONURGENT] == 1800);
  CHECK(c.loglevel[LOG_INIT] == LEVEL_MINIMUM && c.loglevel[LOG_ARCHIVAL] == LEVEL_MINIMUM);
  CHECK(config_logging(&c, LOG_SMTP, LEVEL_MINIMUM));
  CHECK(!config_logging(&c, LOG_SMTP, LEVEL_MEDIUM));
  config_free(&c);
}

static void test_retry(void)
{
  struct config c;
  put("retry", "60m x1.5\n");
  CHECK(config_load(&c, 0) == 0);
  CHECK(c.nretry == 1 && c.retry[0] == 3600 && c.retry_factor == 1500);
  CHECK(config_retry_delay(&c, 1) == 3600);
  CHECK(config_retry_delay(&c, 2) == 5400);
  CHECK(config_retry_delay(&c, 3) == 8100);
  CHECK(config_retry_delay(&c, 200) >= 86400UL * 7);    /* grows, but stops growing */
  CHECK(config_retry_delay(&c, 200) < 86400UL * 11);
  config_free(&c);
  put("retry", "10s,20s\n");
  CHECK(config_load(&c, 0) == 0);
  CHECK(config_retry_delay(&c, 1) == 10 && config_retry_delay(&c, 2) == 20 && config_retry_delay(&c, 5) == 20);
  config_free(&c);
  errs[0] = 0;
  put("retry", "15m x0.5\n");
  CHECK(config_load(&c, collect) == 1);
  CHECK_STR(errs, "retry:1: factor below x1\n");
  config_free(&c);
  errs[0] = 0;
  put("retry", "# schedule\n15m,0,1h\n");
  CHECK(config_load(&c, collect) == 1);
  CHECK_STR(errs, "retry:2: bad interval\n");
  config_free(&c);
  drop("retry");
}

static void test_loglevel(void)
{
  struct config c;
  put("loglevel", "maximum\n");
  CHECK(config_load(&c, 0) == 0);
  CHECK(c.loglevel[LOG_INIT] == LEVEL_MAXIMUM && c.loglevel[LOG_PROTOCOL] == LEVEL_MAXIMUM);
  config_free(&c);
  put("loglevel", "none\nsmtp medium\ntransfer maximum\n");
  CHECK(config_load(&c, 0) == 0);
  CHECK(c.loglevel[LOG_INIT] == LEVEL_NONE);
  CHECK(c.loglevel[LOG_SMTP] == LEVEL_MEDIUM);
  CHECK(c.loglevel[LOG_TRANSFER] == LEVEL_MAXIMUM);
  CHECK(!config_logging(&c, LOG_INIT, LEVEL_MINIMUM));
  CHECK(config_logging(&c, LOG_SMTP, LEVEL_MEDIUM) && !config_logging(&c, LOG_SMTP, LEVEL_MAXIMUM));
  config_free(&c);
  put("loglevel", "* medium\n");
  CHECK(config_load(&c, 0) == 0);
  CHECK(c.loglevel[LOG_ARCHIVAL] == LEVEL_MEDIUM);
  config_free(&c);
  errs[0] = 0;
  put("loglevel", "loud\nsmtp loud\nnosuch medium\na b c\n");
  CHECK(config_load(&c, collect) == 4);
  CHECK_STR(errs, "loglevel:1: unknown level (none, minimum, medium, maximum)\n"
                  "loglevel:2: unknown level (none, minimum, medium, maximum)\n"
                  "loglevel:3: unknown category\n"
                  "loglevel:4: expected CATEGORY LEVEL\n");
  config_free(&c);
  CHECK_STR(log_category_name(LOG_ADDRESSING), "addressing");
  CHECK_STR(log_level_name(LEVEL_MAXIMUM), "maximum");
  drop("loglevel");
}

static void test_sitedomains(void)
{
  struct config c;
  put("me", "mx.Example.COM\n");
  put("sitedomains", "Example.COM\nexample.org\r\nEXAMPLE.com\n");
  errs[0] = 0;
  CHECK(config_load(&c, collect) == 1);
  CHECK_STR(errs, "sitedomains:3: domain listed twice\n");
  CHECK(c.sitedomains.len == sizeof "example.com" + sizeof "example.org");
  CHECK(!memcmp(c.sitedomains.s, "example.com\0example.org", c.sitedomains.len));
  CHECK(config_is_sitedomain(&c, "EXAMPLE.ORG", 11));
  CHECK(config_is_sitedomain(&c, "example.com", 11));
  CHECK(!config_is_sitedomain(&c, "example.net", 11));
  CHECK(!config_is_sitedomain(&c, "example.co", 10));
  CHECK(!config_is_sitedomain(&c, "mx.example.com", 14));
  config_free(&c);
  drop("sitedomains");
  CHECK(config_load(&c, 0) == 0);                      /* defaults to me */
  CHECK(config_is_sitedomain(&c, "mx.example.com", 14));
  config_free(&c);
  drop("me");
}

static void test_errors(void)
{
  struct config c;
  put("databytes", "lots\n");
  put("postmaster", "not valid!\n");
  put("tracking", "\n# off\nperhaps\n");
  errs[0] = 0;
  CHECK(config_load(&c, collect) == 3);
  CHECK_STR(errs, "postmaster:1: extra words after the value\n"
                  "databytes:1: not a number\n"
                  "tracking:3: expected on or off\n");
  config_free(&c);
  drop("databytes");
  drop("postmaster");
  drop("tracking");
}

/* a program loads only what it uses: the others are defaults, their files never read */
static void test_only(void)
{
  static const char *const only[] = { "databytes", 0 };
  struct config c;
  stralloc me = {0};
  char dir[128];
  put("databytes", "1M\n");
  put("maxrcpt", "many\n");
  put("me", "only.example\n");
  snprintf(dir, sizeof dir, "%s/control/lifetime", home);
  CHECK(mkdir(dir, 0755) == 0);                     /* unreadable, even for root */
  errs[0] = 0;
  CHECK(config_load(&c, collect) == -1);
  CHECK_STR(errs, "maxrcpt:1: not a number\nlifetime:0: unable to read\n");
  errs[0] = 0;
  CHECK(config_load_only(&c, only, collect) == 0);
  CHECK_STR(errs, "");
  CHECK(c.databytes == 1024 * 1024);
  CHECK(c.maxrcpt == 1000);                          /* the default, the file not read */
  CHECK(c.lifetime[PRIO_NORMAL] == 48 * 3600);
  CHECK(c.me.len > 0 && strncmp(c.me.s, "only.example", c.me.len));   /* the host name */
  config_free(&c);
  CHECK(config_me(&me) == 0);
  CHECK_STR(me.s, "only.example");
  CHECK(me.len == strlen("only.example"));
  stralloc_free(&me);
  rmdir(dir);
  drop("databytes");
  drop("maxrcpt");
  drop("me");
}

/* a program's list naming a file that is not a setting, or sitedomains
   without me (whose default it is), is refused before any file is read */
static void test_only_bad(void)
{
  static const char *const typo[] = { "databytes", "databyte", 0 };
  static const char *const nome[] = { "sitedomains", "loglevel", 0 };
  static const char *const good[] = { "loglevel", "sitedomains", "me", 0 };
  struct config c;
  put("me", "mx.example.net\n");
  errs[0] = 0;
  errno = 0;
  CHECK(config_load_only(&c, typo, collect) == -1);
  CHECK(errno == EINVAL);
  CHECK_STR(errs, "databyte:0: not a setting, or sitedomains without me\n");
  errs[0] = 0;
  CHECK(config_load_only(&c, nome, collect) == -1);
  CHECK_STR(errs, "sitedomains:0: not a setting, or sitedomains without me\n");
  errs[0] = 0;
  CHECK(config_load_only(&c, good, collect) == 0);
  CHECK_STR(errs, "");
  CHECK(config_is_sitedomain(&c, "mx.example.net", 14));    /* the default from control/me */
  config_free(&c);
  drop("me");
}

static void test_check_text(void)
{
  errs[0] = 0;
  CHECK(config_check_text("databytes", "10M\n", 4, collect) == 0);
  CHECK(config_check_text("databytes", "ten\n", 4, collect) == 1);
  CHECK(config_check_text("me", "a.example\nb.example\n", 20, collect) == 1);
  CHECK(config_check_text("lifetime", "urgent 1h\nnormal 2d\n", 20, collect) == 0);
  CHECK_STR(errs, "databytes:1: not a number\nme:2: only one line allowed\n");
  CHECK(config_check_text("nosuchfile", "x\n", 2, collect) == -1);
}

int main(void)
{
  fixture_open("t_config");
  test_reader();
  test_words();
  test_scan();
  test_numbers();
  test_defaults();
  test_retry();
  test_loglevel();
  test_sitedomains();
  test_errors();
  test_only();
  test_only_bad();
  test_check_text();
  fixture_close();
  return check_done("t_config");
}
