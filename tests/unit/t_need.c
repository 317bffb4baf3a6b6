/*
 * t_need.c -- imc-queue's content note (lib/cscan.c) and imc-send's
 * question "would this profile change the message?" (lib/convert/need.c).
 *
 * The answer may say "convert" too often but never "leave it" wrongly: for
 * every message of the conversion corpus (tests/convert/corpus) and every
 * profile below, when conv_needed says 0, imc-convert's engine must give
 * back the message byte for byte and deliver it.
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "convert/convert.h"
#include "convert/need.h"
#include "check.h"
#include "exitcodes.h"
#include "fileio.h"

static void facts_of(const char *msg, size_t len, struct cfacts *f)
{
  struct cscan c;
  stralloc env = {0};
  size_t i;
  cscan_init(&c);
  for (i = 0; i < len; i += 7) cscan_feed(&c, msg + i, len - i < 7 ? len - i : 7);   /* odd pieces */
  CHECK(cscan_record(&c, &env) == 0);
  CHECK(env.len > 1 && env.s[0] == 'I');
  CHECK(cfacts_parse(f, env.s + 1, env.len - 2) == 1);
  stralloc_free(&env);
}

static void test_cscan(void)
{
  struct cfacts f;
  facts_of("Subject: x\n\nplain\n", 18, &f);
  CHECK(f.known && !f.eightbit && !f.uu && f.maxline == 10);
  facts_of("a\nbegin 644 x\nM\xc3\xa9\n", 17, &f);
  CHECK(f.eightbit && f.uu && f.maxline == 11);
  facts_of("xbegin 644\n begin\nbegi", 22, &f);
  CHECK(!f.uu && f.maxline == 10);
  CHECK(cfacts_parse(&f, "content=8/12", 12) == 1 && f.eightbit && f.maxline == 12);
  CHECK(cfacts_parse(&f, "content=-/", 10) == 0);
  CHECK(cfacts_parse(&f, "content=x/1", 11) == 0);
  CHECK(cfacts_parse(&f, "content=-/1x", 12) == 0);
  CHECK(cfacts_parse(&f, "peer=1", 6) == 0);
}

/* the engine's output for a message under a profile */
static int convert_to(const struct profile *p, const stralloc *msg, stralloc *out)
{
  int fd = memfd_create("out", 0), rc;
  off_t n;
  rc = convert_mem(p, msg->s, msg->len, fd);
  n = lseek(fd, 0, SEEK_END);
  out->len = 0;
  if (n > 0 && stralloc_ready(out, (size_t)n) && pread(fd, out->s, (size_t)n, 0) == n) out->len = (size_t)n;
  close(fd);
  return rc;
}

static unsigned skipped, converted;

static void profile_case(struct profile *p, const char *name, const stralloc *msg)
{
  struct cfacts f;
  stralloc out = {0};
  facts_of(msg->s, msg->len, &f);
  if (conv_needed(&p->d, p->inbound, msg->s, msg->len < 16384 ? msg->len : 16384, &f, msg->len)) {
    converted++;
    return;
  }
  skipped++;
  if (convert_to(p, msg, &out) != CX_OK || out.len != msg->len || memcmp(out.s, msg->s, out.len)) {
    printf("FAIL: %s: conv_needed said 0 but the conversion changes it (inbound %d wrap %lu displaynames %d "
           "attachments %d charset %s autoreplies %d)\n", name, p->inbound, p->d.wrap, p->d.displaynames,
           p->d.attachments, p->d.charset, p->d.autoreplies);
    check_failures++;
  }
  check_count++;
  stralloc_free(&out);
}

static void corpus_message(const char *path, const stralloc *msg)
{
  struct profile p;
  convert_quiet = 1;
  CHECK(profile_builtin(&p, 1, 0) == 0);
  profile_case(&p, path, msg);                                  /* inbound */
  profile_free(&p);
  CHECK(profile_builtin(&p, 0, 0) == 0);
  profile_case(&p, path, msg);                                  /* the defaults */
  p.d.autoreplies = p.d.oof = 1;
  profile_case(&p, path, msg);
  p.d.wrap = 76;
  profile_case(&p, path, msg);
  p.d.displaynames = 0;
  profile_case(&p, path, msg);
  p.d.attachments = ATT_UUENCODE;
  strcpy(p.d.charset, "iso-8859-1");
  p.d.richtext = RICH_NEVER;
  profile_case(&p, path, msg);
  p.d.maxsize = 100;
  profile_case(&p, path, msg);
  profile_free(&p);
}

static void test_corpus(void)
{
  const char *dir = "tests/convert/corpus";
  DIR *d = opendir(dir);
  struct dirent *e;
  CHECK(d != 0);
  if (!d) return;
  while ((e = readdir(d)) != 0) {
    char path[512];
    stralloc msg = {0};
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (file_read(path, &msg) == 1) corpus_message(path, &msg);
    stralloc_free(&msg);
  }
  closedir(d);
  CHECK(skipped > 0 && converted > 0);
}

/* answers that must be "convert" */
static void test_must_convert(void)
{
  struct profile p;
  struct cfacts f;
  static const char plain[] = "From: Alice <a@b.test>\nSubject: x\n\nhello\n";
  static const char autorep[] = "From: a@b.test\nAuto-Submitted: auto-replied\nSubject: x\n\nhello\n";
  static const char html[] = "MIME-Version: 1.0\nContent-Type: text/html\n\n<p>x</p>\n";
  static const char latin[] = "Content-Type: text/plain; charset=iso-8859-1\n\nx\n";
  static const char ew[] = "Subject: =?iso-8859-1?q?caf=E9?=\n\nx\n";
  CHECK(profile_builtin(&p, 0, 0) == 0);
  facts_of(plain, sizeof plain - 1, &f);
  CHECK(conv_needed(&p.d, 0, plain, sizeof plain - 1, &f, sizeof plain - 1) == 0);
  p.d.displaynames = 0;
  CHECK(conv_needed(&p.d, 0, plain, sizeof plain - 1, &f, sizeof plain - 1) == 1);
  p.d.displaynames = 1;
  p.d.maxsize = 10;
  CHECK(conv_needed(&p.d, 0, plain, sizeof plain - 1, &f, sizeof plain - 1) == 1);
  p.d.maxsize = 0;
  facts_of(autorep, sizeof autorep - 1, &f);
  CHECK(conv_needed(&p.d, 0, autorep, sizeof autorep - 1, &f, sizeof autorep - 1) == 1);
  p.d.autoreplies = p.d.oof = 1;
  CHECK(conv_needed(&p.d, 0, autorep, sizeof autorep - 1, &f, sizeof autorep - 1) == 0);
  facts_of(html, sizeof html - 1, &f);
  CHECK(conv_needed(&p.d, 0, html, sizeof html - 1, &f, sizeof html - 1) == 1);
  facts_of(latin, sizeof latin - 1, &f);
  CHECK(conv_needed(&p.d, 0, latin, sizeof latin - 1, &f, sizeof latin - 1) == 1);
  facts_of(ew, sizeof ew - 1, &f);
  CHECK(conv_needed(&p.d, 0, ew, sizeof ew - 1, &f, sizeof ew - 1) == 1);
  f.known = 0;                                           /* no content note: always convert */
  CHECK(conv_needed(&p.d, 0, plain, sizeof plain - 1, &f, sizeof plain - 1) == 1);
  CHECK(conv_needed(&p.d, 1, plain, sizeof plain - 1, &f, sizeof plain - 1) == 1);
  profile_free(&p);
}

/* signed=keep: a signed message needs nothing (and the engine gives it back
   unchanged) under a profile that converts its unsigned twin; signed=convert,
   maxsize and suppression still count */
static void test_signed(void)
{
  static const char smime[] = "From: Alice <a@b.test>\nMIME-Version: 1.0\n"
    "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"S\"\n\n"
    "--S\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nK\xc3\xb6ln caf\xc3\xa9\n"
    "--S\nContent-Type: application/pkcs7-signature\nContent-Transfer-Encoding: base64\n\nMIIB\n--S--\n";
  static const char dkim[] = "DKIM-Signature: v=1; d=b.test; s=s; h=from; bh=x; b=y\nFrom: Alice <a@b.test>\n"
    "Auto-Submitted: auto-replied\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nK\xc3\xb6ln\n";
  stralloc m = {0};
  struct profile p;
  struct cfacts f;
  convert_quiet = 1;
  CHECK(profile_builtin(&p, 0, 0) == 0);
  strcpy(p.d.charset, "iso-8859-1");
  p.d.wrap = 72;
  p.d.displaynames = 0;
  p.d.autoreplies = 1;
  CHECK(p.d.signed_keep == 1);
  CHECK(stralloc_copyb(&m, smime, sizeof smime - 1));
  facts_of(m.s, m.len, &f);
  CHECK(conv_needed(&p.d, 0, m.s, m.len, &f, m.len) == 0);
  profile_case(&p, "multipart/signed", &m);                 /* the engine leaves it as it is */
  p.d.maxsize = 100;
  CHECK(conv_needed(&p.d, 0, m.s, m.len, &f, m.len) == 1);
  p.d.maxsize = 0;
  p.d.signed_keep = 0;
  CHECK(conv_needed(&p.d, 0, m.s, m.len, &f, m.len) == 1);
  p.d.signed_keep = 1;
  CHECK(stralloc_copyb(&m, dkim, sizeof dkim - 1));
  facts_of(m.s, m.len, &f);
  CHECK(conv_needed(&p.d, 0, m.s, m.len, &f, m.len) == 0);
  profile_case(&p, "DKIM-Signature", &m);
  p.d.autoreplies = 0;                                      /* suppressed all the same */
  CHECK(conv_needed(&p.d, 0, m.s, m.len, &f, m.len) == 1);
  profile_free(&p);
  stralloc_free(&m);
}

/* inbound: 8-bit text without MIME headers is labelled when nonmimecharset is not US-ASCII */
static void test_nonmime(void)
{
  static const char raw[] = "From: a@b.test\nSubject: x\n\nCaf\xe9 au lait\n";
  static const char mime[] = "MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\n\nCaf\xe9\n";
  struct profile p;
  struct cfacts f;
  stralloc m = {0}, out = {0};
  convert_quiet = 1;
  CHECK(profile_builtin(&p, 1, 0) == 0);
  facts_of(raw, sizeof raw - 1, &f);
  CHECK(conv_needed(&p.d, 1, raw, sizeof raw - 1, &f, sizeof raw - 1) == 0);   /* us-ascii: as before */
  strcpy(p.d.nonmimecharset, "iso-8859-1");
  CHECK(conv_needed(&p.d, 1, raw, sizeof raw - 1, &f, sizeof raw - 1) == 1);
  CHECK(stralloc_copyb(&m, raw, sizeof raw - 1));
  CHECK(convert_to(&p, &m, &out) == CX_OK);
  CHECK(out.len > m.len && stralloc_0(&out));
  CHECK(out.s && strstr(out.s, "\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\n"
                        "Content-Transfer-Encoding: 8bit\n\nCaf\xe9 au lait\n"));
  facts_of(mime, sizeof mime - 1, &f);
  CHECK(conv_needed(&p.d, 1, mime, sizeof mime - 1, &f, sizeof mime - 1) == 0);
  profile_free(&p);
  stralloc_free(&m);
  stralloc_free(&out);
}

/* the keys and imc-convert arguments of local and remote recipients */
static void test_keys(void)
{
  struct domains d;
  struct domain_settings s;
  char key[CONV_KEY_MAX];
  stralloc a = {0};
  static const char text[] = "example.com nonmimecharset=iso-8859-1\n.example.org signed=convert\n";
  CHECK(domains_parse_text(&d, text, sizeof text - 1, 0) == 0);
  CHECK(conv_profile(&d, 1, 0, "example.com", key, &s) == 0);          /* local, not from outside */
  CHECK(conv_profile(&d, 1, 1, "example.com", key, &s) == 1);
  CHECK_STR(key, "inbound@example.com");
  CHECK_STR(s.nonmimecharset, "iso-8859-1");
  CHECK(s.wrap == 0 && s.signed_keep == 1);
  CHECK(conv_profile_arg(&a, key, "example.com") == 0);
  CHECK_STR(a.s, "inbound@example.com");
  CHECK(conv_profile(&d, 1, 1, "x.example.org", key, &s) == 1);
  CHECK_STR(key, "inbound@.example.org");
  CHECK(s.signed_keep == 0);
  CHECK(conv_profile_arg(&a, key, "x.example.org") == 0);
  CHECK_STR(a.s, "inbound@x.example.org");
  CHECK(conv_profile(&d, 1, 1, "other.test", key, &s) == 1);
  CHECK_STR(key, "inbound");
  CHECK_STR(s.nonmimecharset, "us-ascii");
  CHECK(conv_profile_arg(&a, key, "other.test") == 0);
  CHECK_STR(a.s, "inbound");
  CHECK(conv_profile(&d, 0, 1, "x.example.org", key, &s) == 1);
  CHECK_STR(key, ".example.org");
  CHECK(conv_profile_arg(&a, key, "x.example.org") == 0);
  CHECK_STR(a.s, "x.example.org");
  domains_free(&d);
  stralloc_free(&a);
}

static void test_names(void)
{
  stralloc sa = {0};
  char id[QID_LEN + 1];
  CHECK(conv_copy_name(&sa, "6b0a661e280ba0069af", "*", 0) == 0);
  CHECK_STR(sa.s, "6b0a661e280ba0069af.default");
  CHECK(conv_copy_parse(sa.s, id) == 1);
  CHECK_STR(id, "6b0a661e280ba0069af");
  sa.len = 0;
  CHECK(conv_copy_name(&sa, "6b0a661e280ba0069af", ".example.com", 1) == 0);
  CHECK_STR(sa.s, ".6b0a661e280ba0069af..example.com.tmp");
  CHECK(conv_copy_parse(sa.s, id) == 1);
  CHECK(conv_copy_parse("6b0a661e280ba0069af", id) == 0);
  CHECK(conv_copy_parse("6b0a661e280ba0069af.", id) == 0);
  CHECK(conv_copy_parse(".6b0a661e280ba0069af.tmp", id) == 0);
  CHECK(conv_copy_parse(".tmp", id) == 0);
  CHECK(conv_copy_parse("6b0a661e280ba0069ag.inbound", id) == 0);
  stralloc_free(&sa);
}

int main(void)
{
  test_names();
  test_cscan();
  test_must_convert();
  test_signed();
  test_nonmime();
  test_keys();
  test_corpus();
  printf("corpus: %u profile runs skipped as unchanged (each verified), %u converted\n", skipped, converted);
  return check_done("t_need");
}
