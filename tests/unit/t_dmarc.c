/*
 * t_dmarc.c -- lib/psl.c and lib/dmarc.c: organizational domains from the
 * Public Suffix List (a small list with wildcards and exceptions, and
 * Debian's list when the publicsuffix package is there), DMARC records,
 * discovery at the domain and at its organizational domain, and the
 * evaluation: alignment by SPF or DKIM, relaxed and strict, p=, sp=, pct=.
 */
#include <unistd.h>
#include "check.h"
#include "dmarc.h"

static const char *records[8][2];    /* name, TXT records (separated by '|', 0 temperror) */

static int fake_txt(void *ctx, const char *name, stralloc *out)
{
  int k;
  (void)ctx;
  out->len = 0;
  for (k = 0; records[k][0]; k++) {
    if (strcmp(records[k][0], name)) continue;
    if (!records[k][1]) return -1;
    if (!stralloc_copys(out, records[k][1]) || !stralloc_0(out)) return -1;
    for (k = 0; k < (int)out->len; k++) if (out->s[k] == '|') out->s[k] = 0;   /* '|' separates records */
    return 1;
  }
  return 0;
}

static const char *org(const struct psl *p, const char *d) { return d + psl_org(p, d); }

static void test_psl(void)
{
  static const char list[] = "// comment\ncom\nuk\nco.uk\n*.ck\n!www.ck\n*.kawasaki.jp\n!city.kawasaki.jp\njp\n";
  struct psl p;
  CHECK(psl_load_text(&p, list, sizeof list - 1) == 0 && p.nrule == 8);
  CHECK_STR(org(&p, "example.com"), "example.com");
  CHECK_STR(org(&p, "a.b.example.com"), "example.com");
  CHECK_STR(org(&p, "mail.example.co.uk"), "example.co.uk");
  CHECK_STR(org(&p, "co.uk"), "co.uk");
  CHECK_STR(org(&p, "a.b.foo.ck"), "b.foo.ck");              /* *.ck: foo.ck is a suffix */
  CHECK_STR(org(&p, "a.www.ck"), "www.ck");                  /* !www.ck */
  CHECK_STR(org(&p, "x.city.kawasaki.jp"), "city.kawasaki.jp");
  CHECK_STR(org(&p, "x.y.other.kawasaki.jp"), "y.other.kawasaki.jp");
  CHECK_STR(org(&p, "a.b.example.test"), "example.test");   /* no rule: the default "*" */
  CHECK_STR(org(&p, "test"), "test");
  psl_free(&p);
  if (access(PSL_FILE, R_OK) < 0) { printf("SKIP: Debian's list: %s not installed (package publicsuffix)\n", PSL_FILE); return; }
  CHECK(psl_load(&p, PSL_FILE) == 0 && p.nrule > 5000);
  CHECK_STR(org(&p, "mail.example.co.uk"), "example.co.uk");
  CHECK_STR(org(&p, "a.b.example.com"), "example.com");
  CHECK_STR(org(&p, "www.example.github.io"), "example.github.io");
  psl_free(&p);
  CHECK(psl_load(&p, "/nonexistent/psl") < 0);
}

static void test_parse(void)
{
  struct dmarc_record r;
  const char *why;
  const char *good = "v=DMARC1; p=Quarantine; sp=reject; adkim=s; pct=50; rua=mailto:x@example.org";
  CHECK(dmarc_parse(&r, good, strlen(good), &why) == 0);
  CHECK(r.p == DMARC_P_QUARANTINE && r.sp == DMARC_P_REJECT && r.has_sp && r.adkim_strict && !r.aspf_strict && r.pct == 50);
  CHECK(dmarc_parse(&r, "v=DMARC1; rua=mailto:a@b", 24, &why) == 0 && r.p == DMARC_P_NONE && r.pct == 100);
  CHECK(dmarc_parse(&r, "v=DMARC1", 8, &why) < 0);
  CHECK(dmarc_parse(&r, "p=none; v=DMARC1", 16, &why) < 0);
  CHECK(dmarc_parse(&r, "v=DMARC1; p=maybe", 17, &why) < 0);
  CHECK(dmarc_parse(&r, "v=DMARC1; p=none; pct=101", 26, &why) < 0);
  CHECK(dmarc_parse(&r, "v=DMARC1; p=none; aspf=x", 24, &why) < 0);
  CHECK(dmarc_parse(&r, "v=spf1 -all", 11, &why) < 0);
}

static void test_discover(struct psl *p)
{
  struct dmarc_found f;
  records[0][0] = "_dmarc.example.com"; records[0][1] = "v=spf1 -all|v=DMARC1; p=reject; sp=none";
  records[1][0] = "_dmarc.two.example"; records[1][1] = "v=DMARC1; p=none|v=DMARC1; p=reject";
  records[2][0] = "_dmarc.dead.example"; records[2][1] = 0;
  records[3][0] = "_dmarc.bad.example"; records[3][1] = "v=DMARC1; p=sometimes";
  records[4][0] = 0;
  dmarc_discover(&f, "example.com", p, fake_txt, 0);
  CHECK(f.status == DMARC_PASS && f.rec.p == DMARC_P_REJECT && !strcmp(f.where, "example.com"));
  dmarc_discover(&f, "mail.sub.example.com", p, fake_txt, 0);               /* from the organizational domain */
  CHECK(f.status == DMARC_PASS && !strcmp(f.where, "example.com"));
  dmarc_discover(&f, "other.example", p, fake_txt, 0);
  CHECK(f.status == DMARC_NONE);
  dmarc_discover(&f, "two.example", p, fake_txt, 0);
  CHECK(f.status == DMARC_NONE);
  dmarc_discover(&f, "dead.example", p, fake_txt, 0);
  CHECK(f.status == DMARC_TEMPERROR);
  dmarc_discover(&f, "bad.example", p, fake_txt, 0);
  CHECK(f.status == DMARC_PERMERROR);
}

static void test_evaluate(struct psl *p)
{
  struct dmarc_found f;
  struct dmarc_input in;
  struct dmarc_verdict v;
  struct dkim_check d[2];
  memset(d, 0, sizeof d);
  records[0][0] = "_dmarc.example.com"; records[0][1] = "v=DMARC1; p=reject; sp=quarantine; pct=100";
  records[1][0] = "_dmarc.strict.com"; records[1][1] = "v=DMARC1; p=reject; adkim=s; aspf=s";
  records[2][0] = 0;
  memset(&in, 0, sizeof in);
  in.from = "example.com";
  dmarc_discover(&f, in.from, p, fake_txt, 0);
  in.spf_pass = 1; in.spf_domain = "bounces.example.com";                  /* relaxed SPF alignment */
  dmarc_evaluate(&v, &f, &in, p, 0);
  CHECK(v.result == DMARC_PASS && v.by_spf && !v.by_dkim);
  in.spf_pass = 0;
  d[0].result = DKIM_PASS; strcpy(d[0].domain, "mail.example.com");
  in.dkim = d; in.ndkim = 1;
  dmarc_evaluate(&v, &f, &in, p, 0);
  CHECK(v.result == DMARC_PASS && v.by_dkim && !v.by_spf);
  strcpy(d[0].domain, "example.net");                                      /* passes, not aligned */
  dmarc_evaluate(&v, &f, &in, p, 0);
  CHECK(v.result == DMARC_FAIL && v.policy == DMARC_P_REJECT);
  in.from = "sub.example.com";                                             /* sp= for a subdomain */
  dmarc_discover(&f, in.from, p, fake_txt, 0);
  dmarc_evaluate(&v, &f, &in, p, 0);
  CHECK(v.result == DMARC_FAIL && v.policy == DMARC_P_QUARANTINE);
  in.from = "strict.com";
  dmarc_discover(&f, in.from, p, fake_txt, 0);
  in.spf_pass = 1; in.spf_domain = "mail.strict.com";
  strcpy(d[0].domain, "mail.strict.com");
  dmarc_evaluate(&v, &f, &in, p, 0);
  CHECK(v.result == DMARC_FAIL);                                           /* strict: subdomains do not align */
  in.spf_domain = "STRICT.com";
  dmarc_evaluate(&v, &f, &in, p, 0);
  CHECK(v.result == DMARC_PASS && v.by_spf);
  records[0][1] = "v=DMARC1; p=reject; pct=20";
  in.from = "example.com"; in.spf_pass = 0; strcpy(d[0].domain, "example.net");
  dmarc_discover(&f, in.from, p, fake_txt, 0);
  dmarc_evaluate(&v, &f, &in, p, 19);
  CHECK(v.result == DMARC_FAIL && v.policy == DMARC_P_REJECT);
  dmarc_evaluate(&v, &f, &in, p, 20);
  CHECK(v.result == DMARC_FAIL && v.policy == DMARC_P_QUARANTINE);         /* sampled out: one step down */
  records[0][1] = "v=DMARC1; p=none";
  dmarc_discover(&f, in.from, p, fake_txt, 0);
  dmarc_evaluate(&v, &f, &in, p, 0);
  CHECK(v.result == DMARC_FAIL && v.policy == DMARC_P_NONE);
  in.from = "nodmarc.org";
  dmarc_discover(&f, in.from, p, fake_txt, 0);
  dmarc_evaluate(&v, &f, &in, p, 0);
  CHECK(v.result == DMARC_NONE);
}

int main(void)
{
  static const char list[] = "com\nnet\norg\n";
  struct psl p;
  test_psl();
  test_parse();
  CHECK(psl_load_text(&p, list, sizeof list - 1) == 0);
  test_discover(&p);
  test_evaluate(&p);
  psl_free(&p);
  return check_done("t_dmarc");
}
