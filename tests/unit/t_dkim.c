/*
 * t_dkim.c -- lib/dkim*: tag lists, canonical forms (RFC 6376's own
 * examples), key records and DER, and signing and verifying checked
 * against an independent implementation, Debian's python3-dkim (dkimpy):
 * what imc signs dkimpy verifies, what dkimpy signs (every
 * canonicalization, l=, Ed25519) imc verifies, and alterations fail.
 * Without dkimpy or openssl those checks print SKIP with the reason.
 */
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "dkim.h"
#include "tls.h"

static char dir[64];
static char txt_record[2048];       /* what the test's DNS answers for sel._domainkey.example.org */
static int txt_mode;                /* 0 the record, 1 none, -1 temporary failure */

static int fake_txt(void *ctx, const char *name, stralloc *out)
{
  (void)ctx;
  out->len = 0;
  if (txt_mode) return txt_mode < 0 ? -1 : 0;
  if (strcmp(name, "sel._domainkey.example.org")) return 0;
  return stralloc_copys(out, txt_record) && stralloc_0(out) ? 1 : -1;
}

/* ---- pure parts */

static void test_tags(void)
{
  struct dkim_tag t[DKIM_TAGS_MAX];
  const char *why;
  const char *list = " a = 1 ; b=two words;\r\n\tc=";
  CHECK(dkim_tags(list, strlen(list), t, DKIM_TAGS_MAX, &why) == 3);
  CHECK_MEM(t[1].val, t[1].vlen, "two words");
  CHECK(t[2].vlen == 0);
  CHECK(dkim_tags("a=1;a=2", 7, t, DKIM_TAGS_MAX, &why) < 0);
  CHECK(dkim_tags("a=1;;", 5, t, DKIM_TAGS_MAX, &why) < 0);
  CHECK(dkim_tags("1a=x", 4, t, DKIM_TAGS_MAX, &why) < 0);
  CHECK(dkim_tags("a", 1, t, DKIM_TAGS_MAX, &why) < 0);
  CHECK(dkim_tags("a=\x01", 3, t, DKIM_TAGS_MAX, &why) < 0);
  CHECK(dkim_tags("a=1;b=2;", 8, t, 1, &why) < 0);
  CHECK(dkim_tags("", 0, t, DKIM_TAGS_MAX, &why) == 0);
}

static void sha(const char *s, size_t n, unsigned char out[32])
{
  br_sha256_context c;
  br_sha256_init(&c);
  br_sha256_update(&c, s, n);
  br_sha256_out(&c, out);
}

/* body fed one byte at a time, then whole: both hash to the canonical text */
static void body_is(const char *body, int relaxed, const char *canon)
{
  struct dkim_body b;
  unsigned char h1[32], h2[32], want[32];
  size_t i, n = strlen(body);
  sha(canon, strlen(canon), want);
  dkim_body_init(&b, relaxed, -1);
  for (i = 0; i < n; i++) dkim_body_put(&b, body + i, 1);
  dkim_body_end(&b, h1);
  dkim_body_init(&b, relaxed, -1);
  dkim_body_put(&b, body, n);
  dkim_body_end(&b, h2);
  CHECK(!memcmp(h1, want, 32) && !memcmp(h2, want, 32));
  if (memcmp(h1, want, 32)) printf("  body %s relaxed=%d\n", body, relaxed);
}

static void test_canon(void)
{
  stralloc c = {0};
  /* RFC 6376 section 3.4.5 */
  body_is(" C \r\nD \t E\r\n\r\n\r\n", 1, " C\r\nD E\r\n");
  body_is(" C \r\nD \t E\r\n\r\n\r\n", 0, " C \r\nD \t E\r\n");
  body_is(" C \nD \t E\n\n\n", 1, " C\r\nD E\r\n");          /* as imc keeps it: LF */
  body_is("", 0, "\r\n");
  body_is("", 1, "");
  body_is("\n\n", 0, "\r\n");
  body_is(" \n\t\n", 1, "");
  body_is("a\rb\nc", 0, "a\rb\r\nc\r\n");                   /* a bare CR is content; a last line gets CRLF */
  body_is("x\r", 0, "x\r\r\n");
  CHECK(dkim_header_canon(&c, "A: X", 4, 1) == 0 && dkim_header_canon(&c, "B : Y\t\r\n\tZ  ", 12, 1) == 0);
  CHECK_MEM(c.s, c.len, "a:X\r\nb:Y Z\r\n");
  c.len = 0;
  CHECK(dkim_header_canon(&c, "B : Y\t\n\tZ  ", 11, 0) == 0);
  CHECK_MEM(c.s, c.len, "B : Y\t\r\n\tZ  \r\n");
  {
    struct dkim_body b;
    unsigned char h[32], want[32];
    dkim_body_init(&b, 0, 5);
    dkim_body_put(&b, "abc\ndef\n", 8);
    dkim_body_end(&b, h);
    sha("abc\r\n", 5, want);
    CHECK(!memcmp(h, want, 32) && b.total == 10);
  }
  stralloc_free(&c);
}

static void test_fields(void)
{
  struct dkim_field f[8];
  size_t hl;
  const char *m = "From: a@b\nSubject: x\n y\nTo: c\n\nbody\n";
  CHECK(dkim_fields(m, strlen(m), f, 8, &hl) == 3);
  CHECK_MEM(f[1].s, f[1].len, "Subject: x\n y");
  CHECK(hl == strlen("From: a@b\nSubject: x\n y\nTo: c\n\n"));
  CHECK(dkim_field_is(&f[0], "from") && !dkim_field_is(&f[0], "fro") && dkim_field_is(&f[2], "to"));
  CHECK(dkim_fields(m, strlen(m), f, 2, &hl) < 0);
}

static void test_sig_parse(void)
{
  struct dkim_sig s;
  const char *why;
  const char *good = "v=1; a=rsa-sha256; d=Example.ORG; s=sel; c=relaxed; h=From:To;"
                     " bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA";
  CHECK(dkim_sig_parse(&s, good, strlen(good), &why) == 0);
  CHECK_STR(s.domain, "example.org");
  CHECK_STR(s.h, "from:to");
  CHECK_STR(s.ident, "@example.org");
  CHECK(s.hcanon == DKIM_RELAXED && s.bcanon == DKIM_SIMPLE && s.length == -1);
  {
    const char *bad[] = {
      "v=1; a=rsa-sha1; d=e.org; s=s; h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA",
      "v=1; a=rsa-sha256; d=e.org; s=s; h=to; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA",
      "v=1; a=rsa-sha256; d=e.org; s=s; h=from; i=x@other.org; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA",
      "v=1; a=rsa-sha256; d=e.org; s=s; h=from; bh=AAAA; b=AAAA",
      "v=2; a=rsa-sha256; d=e.org; s=s; h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA",
      "a=rsa-sha256; d=e.org; s=s; h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA",
      "v=1; a=rsa-sha256; d=e.org; s=s; h=from; l=x; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA",
      "v=1; a=rsa-sha256; d=e.org; s=s; h=from; t=20; x=10; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA",
      0 };
    int k;
    for (k = 0; bad[k]; k++) {
      CHECK(dkim_sig_parse(&s, bad[k], strlen(bad[k]), &why) < 0);
    }
  }
  {
    const char *sub = "v=1; a=rsa-sha256; d=e.org; s=s; h=from; i=u@mail.e.org; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA";
    CHECK(dkim_sig_parse(&s, sub, strlen(sub), &why) == 0);
  }
}

static void test_key_parse(void)
{
  struct dkim_key k;
  const char *why;
  CHECK(dkim_key_parse(&k, "v=DKIM1; p=", 11, &why) < 0 && !strcmp(why, "key revoked"));
  CHECK(dkim_key_parse(&k, "k=rsa; v=DKIM1; p=AAAA", 22, &why) < 0);       /* v= not first */
  CHECK(dkim_key_parse(&k, "v=DKIM1; h=sha1; p=AAAA", 23, &why) < 0);
  CHECK(dkim_key_parse(&k, "v=DKIM1; k=dsa; p=AAAA", 22, &why) < 0);
  CHECK(dkim_key_parse(&k, "v=DKIM1; p=AAAA", 15, &why) < 0);              /* not DER */
  {
    /* RSAPublicKey alone: SEQUENCE { INTEGER 0x00C5 (n), INTEGER 3 } */
    unsigned char der[] = { 0x30, 0x07, 0x02, 0x02, 0x00, 0xc5, 0x02, 0x01, 0x03 };
    CHECK(dkim_der_rsa(&k, der, sizeof der) == 0 && k.nlen == 1 && k.n[0] == 0xc5 && k.bits == 8);
    der[1] = 0x08;
    CHECK(dkim_der_rsa(&k, der, sizeof der) < 0);                        /* length past the end */
    der[1] = 0x07; der[3] = 0x7f;
    CHECK(dkim_der_rsa(&k, der, sizeof der) < 0);
  }
}

/* ---- against dkimpy */

static int run(const char *cmd)
{
  int r = system(cmd);
  return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static int have_peers(void)
{
  if (run("/usr/bin/python3 -c 'import dkim, nacl' 2>/dev/null") != 0) { printf("SKIP: dkimpy checks: python3-dkim (and python3-nacl) not installed\n"); return 0; }
  if (run("command -v openssl >/dev/null") != 0) { printf("SKIP: dkimpy checks: openssl not installed\n"); return 0; }
  return 1;
}

static void put_file(const char *name, const char *text, size_t len)
{
  char path[128];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "w");
  CHECK(f && fwrite(text, 1, len, f) == len);
  if (f) fclose(f);
}

static int read_file(const char *name, stralloc *sa)
{
  char path[128], buf[4096];
  FILE *f;
  size_t n;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  sa->len = 0;
  if (!(f = fopen(path, "r"))) return -1;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) stralloc_catb(sa, buf, n);
  fclose(f);
  return 0;
}

static const char msg[] =
  "From: Alice <alice@example.org>\nTo: bob@example.net\nSubject: a test\n  folded\n"
  "Date: Sat, 05 Dec 2026 14:00:00 +0000\nMessage-ID: <1@example.org>\nX-Other: not signed\n\n"
  "Hello  Bob,\n\tthis is the body.  \n\n\n";

/* the verification helper: dkimpy verifies FILE with the record in dir/txt */
static const char py_verify[] =
  "import dkim,sys\n"
  "rec=open(sys.argv[2],'rb').read().strip()\n"
  "m=open(sys.argv[1],'rb').read()\n"
  "print(dkim.verify(m, dnsfunc=lambda n, timeout=5: rec))\n";

static void test_imc_signs(void)
{
  struct tls_creds *c;
  struct dkim_signer s;
  stralloc out = {0}, res = {0}, full = {0};
  char cmd[512];
  CHECK(tls_key_load(&c, "/dev/null") != 0);
  snprintf(cmd, sizeof cmd, "%s/key.pem", dir);
  CHECK(tls_key_load(&c, cmd) == 0 && tls_key_rsa(c) != 0);
  if (!c) return;
  s.domain = "example.org"; s.selector = "sel"; s.key = tls_key_rsa(c); s.now = 1796000000ULL;
  CHECK(dkim_sign(&out, msg, sizeof msg - 1, &s) == 0);
  CHECK(out.len > 300 && out.s[out.len - 1] == '\n');
  CHECK(memmem(out.s, out.len, "h=from:from:to:subject:date:message-id;", 39) != 0);
  stralloc_copy(&full, &out);
  stralloc_catb(&full, msg, sizeof msg - 1);
  put_file("signed.eml", full.s, full.len);
  put_file("verify.py", py_verify, sizeof py_verify - 1);
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/verify.py %s/signed.eml %s/txt > %s/out", dir, dir, dir, dir);
  CHECK(run(cmd) == 0 && read_file("out", &res) == 0);
  CHECK_MEM(res.s, res.len, "True\n");
  /* an added From: above does not verify (From is signed once more than it occurs) */
  full.len = 0;
  stralloc_cats(&full, "From: mallory@evil.example\n");
  stralloc_cat(&full, &out);
  stralloc_catb(&full, msg, sizeof msg - 1);
  put_file("signed.eml", full.s, full.len);
  CHECK(run(cmd) == 0 && read_file("out", &res) == 0);
  CHECK_MEM(res.s, res.len, "False\n");
  /* and imc verifies its own */
  {
    struct dkim_verify v;
    size_t hl;
    struct dkim_field f[32];
    full.len = 0;
    stralloc_cat(&full, &out);
    stralloc_catb(&full, msg, sizeof msg - 1);
    dkim_fields(full.s, full.len, f, 32, &hl);
    txt_mode = 0;
    CHECK(dkim_verify_start(&v, full.s, hl) == 0 && v.nsig == 1);
    dkim_verify_body(&v, full.s + hl, full.len - hl);
    dkim_verify_finish(&v, fake_txt, 0, 1796000000ULL);
    CHECK(v.res[0].result == DKIM_PASS);
    dkim_verify_free(&v);
  }
  tls_creds_free(c);
  stralloc_free(&out);
  stralloc_free(&res);
  stralloc_free(&full);
}

/* dkimpy signs msg with canon c (e.g. "relaxed/simple"), l= if len: the signed message in out */
static int py_sign(const char *canon, int len, const char *alg, stralloc *out)
{
  char cmd[640];
  static const char py[] =
    "import dkim,sys\n"
    "m=open(sys.argv[1],'rb').read()\n"
    "h,b=sys.argv[2].encode().split(b'/')\n"
    "alg=sys.argv[4].encode()\n"
    "key=open(sys.argv[5],'rb').read()\n"
    "sig=dkim.sign(m,b'sel',b'example.org',key,canonicalize=(h,b),length=sys.argv[3]=='1',signature_algorithm=alg,\n"
    "  include_headers=[b'from',b'to',b'subject'],linesep=b'\\n')\n"
    "sys.stdout.buffer.write(sig+m)\n";
  put_file("sign.py", py, sizeof py - 1);
  put_file("msg.eml", msg, sizeof msg - 1);
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/sign.py %s/msg.eml %s %d %s %s/%s > %s/psigned.eml", dir, dir, canon,
           len, alg, dir, strcmp(alg, "ed25519-sha256") ? "key.pem" : "ed.key", dir);
  return run(cmd) == 0 && read_file("psigned.eml", out) == 0 ? 0 : -1;
}

static enum dkim_result verify(const char *m, size_t len, const char **why)
{
  struct dkim_verify v;
  struct dkim_field f[64];
  size_t hl;
  enum dkim_result r;
  dkim_fields(m, len, f, 64, &hl);
  if (dkim_verify_start(&v, m, hl) < 0 || v.nsig != 1) return DKIM_NONE;
  dkim_verify_body(&v, m + hl, len - hl);
  dkim_verify_finish(&v, fake_txt, 0, 1796000000ULL);
  r = v.res[0].result;
  *why = v.res[0].why;
  dkim_verify_free(&v);
  return r;
}

static void test_peer_signs(void)
{
  static const char *const canons[] = { "simple/simple", "relaxed/simple", "simple/relaxed", "relaxed/relaxed", 0 };
  stralloc m = {0};
  const char *why;
  char *p;
  int k;
  txt_mode = 0;
  for (k = 0; canons[k]; k++) {
    CHECK(py_sign(canons[k], 0, "rsa-sha256", &m) == 0);
    CHECK(verify(m.s, m.len, &why) == DKIM_PASS);
    if (verify(m.s, m.len, &why) != DKIM_PASS) printf("  %s: %s\n", canons[k], why ? why : "?");
  }
  CHECK(py_sign("relaxed/relaxed", 1, "rsa-sha256", &m) == 0);              /* l= */
  CHECK(verify(m.s, m.len, &why) == DKIM_PASS);
  stralloc_cats(&m, "appended after l= by a list\n");
  CHECK(verify(m.s, m.len, &why) == DKIM_PASS);
  CHECK(py_sign("relaxed/relaxed", 0, "rsa-sha256", &m) == 0);
  p = memmem(m.s, m.len, "this is", 7);
  if (p) p[0] = 'T';                                                        /* body altered */
  CHECK(p && verify(m.s, m.len, &why) == DKIM_FAIL && !strcmp(why, "body hash did not verify"));
  CHECK(py_sign("relaxed/relaxed", 0, "rsa-sha256", &m) == 0);
  p = memmem(m.s, m.len, "a test", 6);
  if (p) p[0] = 'A';                                                        /* header altered */
  CHECK(p && verify(m.s, m.len, &why) == DKIM_FAIL && !strcmp(why, "signature did not verify"));
  CHECK(py_sign("relaxed/relaxed", 0, "rsa-sha256", &m) == 0);
  p = memmem(m.s, m.len, "X-Other", 7);
  if (p) p[0] = 'Y';                                                        /* an unsigned header: still fine */
  CHECK(p && verify(m.s, m.len, &why) == DKIM_PASS);
  txt_mode = 1;
  CHECK(verify(m.s, m.len, &why) == DKIM_PERMERROR);                       /* key missing */
  txt_mode = -1;
  CHECK(verify(m.s, m.len, &why) == DKIM_TEMPERROR);
  txt_mode = 0;
  {
    char saved[sizeof txt_record];
    memcpy(saved, txt_record, sizeof saved);
    strcpy(txt_record, "v=DKIM1; k=rsa; p=");
    CHECK(verify(m.s, m.len, &why) == DKIM_PERMERROR && !strcmp(why, "key revoked"));
    memcpy(txt_record, saved, sizeof saved);
  }
  {
    char saved[sizeof txt_record];
    stralloc ed = {0};
    memcpy(saved, txt_record, sizeof saved);
    CHECK(read_file("ed.txt", &ed) == 0 && stralloc_0(&ed));
    if (ed.s) { snprintf(txt_record, sizeof txt_record, "v=DKIM1; k=ed25519; p=%s", ed.s); }
    CHECK(py_sign("relaxed/relaxed", 0, "ed25519-sha256", &m) == 0);
    CHECK(verify(m.s, m.len, &why) == DKIM_PASS);
    p = memmem(m.s, m.len, "a test", 6);
    if (p) p[0] = 'A';
    CHECK(p && verify(m.s, m.len, &why) == DKIM_FAIL);
    memcpy(txt_record, saved, sizeof saved);
    stralloc_free(&ed);
  }
  stralloc_free(&m);
}

static int make_keys(void)
{
  char cmd[512];
  stralloc pub = {0};
  snprintf(cmd, sizeof cmd, "cd %s && openssl genrsa -out key.pem 2048 2>/dev/null"
           " && openssl rsa -in key.pem -pubout -outform DER 2>/dev/null | base64 -w0 > pub.b64", dir);
  if (run(cmd) != 0 || read_file("pub.b64", &pub) < 0 || !stralloc_0(&pub)) return -1;
  snprintf(txt_record, sizeof txt_record, "v=DKIM1; k=rsa; p=%s", pub.s);
  put_file("txt", txt_record, strlen(txt_record));
  stralloc_free(&pub);
  snprintf(cmd, sizeof cmd, "cd %s && /usr/bin/python3 -c \"import nacl.signing,base64;"
           "k=nacl.signing.SigningKey.generate();open('ed.key','wb').write(base64.b64encode(bytes(k)));"
           "open('ed.txt','wb').write(base64.b64encode(bytes(k.verify_key)))\"", dir);
  return run(cmd) == 0 ? 0 : -1;
}

int main(void)
{
  test_tags();
  test_canon();
  test_fields();
  test_sig_parse();
  test_key_parse();
  snprintf(dir, sizeof dir, "/tmp/t_dkim.XXXXXX");
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
  if (have_peers()) {
    CHECK(make_keys() == 0);
    test_imc_signs();
    test_peer_signs();
  }
  {
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("note: %s left behind\n", dir);
  }
  return check_done("t_dkim");
}
