/*
 * t_convert.c -- unit tests of imc-convert's modules (convert/) and of
 * control/domains and control/mimetypes (lib/domains.c, lib/mimetypes.c):
 * the streaming codecs (base64, quoted-printable, uuencode) fed in every
 * chunking, charsets, wrapping, the MIME header and parameter parsers,
 * RFC 2047 words, the input reader, and whole conversions in memory
 * (convert_mem into a memfd) for the cases the golden tests do not reach.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "check.h"
#include "convert/conv.h"
#include "convert/ew.h"
#include "convert/uu.h"
#include "domains.h"
#include "exitcodes.h"
#include "mimetypes.h"

/* ---- a sink into a buffer */

struct buf { struct sink s; char b[1 << 20]; size_t n; };
static int buf_put(struct sink *s, const char *p, size_t n)
{
  struct buf *b = (struct buf *)s;
  if (b->n + n > sizeof b->b) return -1;
  memcpy(b->b + b->n, p, n);
  b->n += n;
  return 0;
}
static struct buf *buf_new(void)
{
  struct buf *b = calloc(1, sizeof *b);
  b->s.put = buf_put;
  return b;
}

/* push data through a stage in pieces of `step` bytes, then end it */
static void push(struct sink *s, const char *p, size_t n, size_t step)
{
  size_t i;
  for (i = 0; i < n; i += step) CHECK(sink_put(s, p + i, n - i < step ? n - i : step) == 0);
  CHECK(sink_end(s) == 0);
}

static void test_b64(void)
{
  static const size_t steps[] = { 1, 2, 3, 7, 57, 1000 };
  unsigned char data[3000];
  size_t i, k;
  for (i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 131 + 7);
  for (k = 0; k < 6; k++) {
    struct buf *enc = buf_new(), *dec = buf_new();
    struct b64enc e;
    struct b64dec d;
    b64enc_init(&e, &enc->s);
    push(&e.s, (char *)data, sizeof data, steps[k]);
    CHECK(enc->n == 4000 + 52);                          /* 52 full lines of 76, 53 lines */
    CHECK(enc->b[76] == '\n' && enc->b[enc->n - 1] != '\n');
    b64dec_init(&d, &dec->s);
    push(&d.s, enc->b, enc->n, steps[5 - k]);
    CHECK(dec->n == sizeof data && !memcmp(dec->b, data, sizeof data));
    CHECK(d.bad == 0);
    free(enc);
    free(dec);
  }
  {
    struct buf *dec = buf_new();
    struct b64dec d;
    b64dec_init(&d, &dec->s);
    push(&d.s, "SGVs\nbG8=\n!!V29y bGQ", 20, 4);   /* garbage skipped, padding ends a group */
    CHECK_MEM(dec->b, dec->n, "HelloWorld");
    CHECK(d.bad == 2);
    free(dec);
  }
}

static void qp_dec(const char *in, const char *want)
{
  struct buf *b = buf_new();
  struct qpdec d;
  qpdec_init(&d, &b->s);
  push(&d.s, in, strlen(in), 1);
  CHECK_MEM(b->b, b->n, want);
  free(b);
}

static void test_qp(void)
{
  unsigned char data[2000];
  size_t i, k, col = 0, maxcol = 0;
  struct buf *enc = buf_new(), *dec = buf_new();
  struct qpenc e;
  struct qpdec d;
  for (i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 37 + i / 5);
  qpenc_init(&e, &enc->s, 1);                           /* binary: every byte survives */
  push(&e.s, (char *)data, sizeof data, 3);
  for (i = 0; i < enc->n; i++) {
    if (enc->b[i] == '\n') { if (col > maxcol) maxcol = col; col = 0; } else col++;
    CHECK((unsigned char)enc->b[i] < 127);
  }
  CHECK(maxcol <= 76);
  qpdec_init(&d, &dec->s);
  push(&d.s, enc->b, enc->n, 5);
  CHECK(dec->n == sizeof data && !memcmp(dec->b, data, sizeof data));
  free(enc);
  free(dec);
  enc = buf_new();
  qpenc_init(&e, &enc->s, 0);                           /* text: trailing white space escaped */
  push(&e.s, "caf\xe9 ok \nend\t", 13, 1);
  CHECK_MEM(enc->b, enc->n, "caf=E9 ok=20\nend=09");
  free(enc);
  enc = buf_new();
  qpenc_init(&e, &enc->s, 0);
  for (k = 0; k < 100; k++) CHECK(sink_put(&e.s, "=", 1) == 0);
  CHECK(sink_end(&e.s) == 0);
  CHECK(enc->n == 300 + 2 * 3 && enc->b[75] == '=' && enc->b[76] == '\n');   /* no escape split */
  free(enc);
  qp_dec("a=3Db=\nc==d=4\n=4x=zz=\r\nq=", "a=bc=d=4\n=4x=zzq");
  qp_dec("x = y\n", "x = y\n");
  qp_dec("=e9=E9", "\xe9\xe9");
}

static void test_uu(void)
{
  unsigned char data[100], out[64];
  size_t i, got, pos = 0, n = 0;
  const char *name;
  size_t namelen;
  unsigned mode;
  struct buf *b = buf_new();
  struct uuenc e;
  for (i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 3);
  uuenc_init(&e, &b->s);
  push(&e.s, (char *)data, sizeof data, 7);
  CHECK(b->b[0] == 'M' && b->b[61] == '\n');
  CHECK(b->n > 6 && !memcmp(b->b + b->n - 6, "`\nend\n", 6));
  while (pos < b->n) {                                  /* decode it back line by line */
    char *nl = memchr(b->b + pos, '\n', b->n - pos);
    size_t len = (size_t)(nl - (b->b + pos)) + 1;
    if (uu_is_end(b->b + pos, len)) break;
    CHECK(uu_decode_line(b->b + pos, len, out, &got));
    CHECK(n + got <= sizeof data && !memcmp(out, data + n, got));
    n += got;
    pos += len;
  }
  CHECK(n == sizeof data);
  free(b);
  CHECK(uu_decode_line("%:&5L;&\\`\n", 10, out, &got) && got == 5 && !memcmp(out, "hello", 5));
  CHECK(uu_decode_line("%:&5L;&\\\n", 9, out, &got) && got == 5);   /* a stripped trailing char */
  CHECK(!uu_decode_line("Hello there\n", 12, out, &got));
  CHECK(!uu_decode_line("Mhello\n", 7, out, &got));
  CHECK(uu_begin("begin 644 my file.bin\n", 22, &mode, &name, &namelen) == UU_BEGIN);
  CHECK(mode == 0644 && namelen == 11 && !memcmp(name, "my file.bin", 11));
  CHECK(uu_begin("begin-base64 600 x\n", 19, &mode, &name, &namelen) == UU_BEGIN_B64);
  CHECK(!uu_begin("begin the meeting\n", 18, &mode, &name, &namelen));
  CHECK(!uu_begin("begin 99 x\n", 11, &mode, &name, &namelen));
  CHECK(uu_is_end("end \n", 5) && !uu_is_end("ending\n", 7));
}

static void test_charset(void)
{
  char l[CS_NAME_MAX];
  stralloc sa = {0};
  cs_label(l, " \"ISO-8859-1\" ", 14);
  CHECK_STR(l, "iso-8859-1");
  cs_label(l, "bad name", 8);
  CHECK_STR(l, "");
  CHECK(cs_same("latin1", "ISO_8859-1") && cs_same("utf8", "UTF-8") && cs_same("", "us-ascii"));
  CHECK(!cs_same("utf-8", "iso-8859-1"));
  CHECK(cs_ascii_compatible("windows-1252") && !cs_ascii_compatible("UTF-16LE") && !cs_ascii_compatible("iso-2022-jp"));
  CHECK(cs_known("gb2312") && cs_known("ks_c_5601-1987") && !cs_known("x-no-such"));
  CHECK(cs_convert("UTF-8", "iso-8859-1", "caf\xe9", 4, &sa) == 0);
  CHECK_MEM(sa.s, sa.len, "caf\xc3\xa9");
  CHECK(cs_convert("iso-8859-1", "UTF-8", "\xe2\x82\xac", 3, &sa) == 1);      /* the euro sign */
  CHECK(cs_convert("UTF-8", "x-no-such", "a", 1, &sa) == 2);
  CHECK(utf8_valid("a\xc3\xa9", 3) && !utf8_valid("\xe9t\xe9", 3));
  {
    struct buf *b = buf_new();
    struct ics c;
    const char *jp = "\xe5\xb1\xb1\xe7\x94\xb0\n";                              /* cut anywhere */
    CHECK(ics_open(&c, "iso-2022-jp", "UTF-8", &b->s) == 0);
    push(&c.s, jp, strlen(jp), 1);
    CHECK(!c.bad && b->n > 6 && b->b[0] == 27 && b->b[b->n - 1] == '\n');
    ics_close(&c);
    free(b);
  }
  stralloc_free(&sa);
}

static void wrapped(unsigned width, int flowed, const char *in, const char *want)
{
  struct buf *b = buf_new();
  struct wrap w;
  wrap_init(&w, &b->s, width, flowed, 0);
  push(&w.s, in, strlen(in), 3);
  CHECK_MEM(b->b, b->n, want);
  free(b);
}

static void test_wrap(void)
{
  wrapped(10, 0, "aaa bbb ccc ddd\n", "aaa bbb\nccc ddd\n");
  wrapped(10, 0, "short\n", "short\n");
  wrapped(10, 0, "x https://example.com/long/url y\n", "x\nhttps://example.com/long/url\ny\n");
  wrapped(10, 0, "> aa bb cc dd\n", "> aa bb cc\n> dd\n");
  wrapped(10, 1, "aaa bbb ccc ddd\n", "aaa bbb \nccc ddd\n");
  wrapped(6, 0, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x80\x82\n",   /* 日本語。: no break before 。 */
          "\xe6\x97\xa5\xe6\x9c\xac\n\xe8\xaa\x9e\xe3\x80\x82\n");
  wrapped(12, 0, "a\tb c d e f g h\n", "a\tb c\nd e f g h\n");      /* the TAB takes 7 */
  wrapped(10, 0, "   indented text here\n", "   indented\ntext here\n");
}

static void test_header(void)
{
  static const char h[] = "Subject: a\n b\nContent-Type: text/plain;\n\tcharset=\"ISO-8859-1\"; format=flowed\n"
                          "X-Empty:\n\nbody";
  struct mhdr m;
  stralloc v = {0};
  char type[MIME_TYPE_MAX], sub[MIME_TYPE_MAX];
  size_t used, params;
  mhdr_init(&m);
  used = mhdr_parse(&m, h, sizeof h - 1);
  CHECK(used == sizeof h - 5 && m.n == 3 && m.end == HEND_BLANK);
  CHECK(mhdr_get(&m, "subject", &v) == 1);
  CHECK_MEM(v.s, v.len, "a b");
  CHECK(mhdr_get(&m, "x-empty", &v) == 1 && v.len == 0);
  CHECK(mhdr_get(&m, "content-type", &v) == 1);
  CHECK(mime_ctype(v.s, v.len, type, sub, &params) == 1);
  CHECK_STR(type, "text");
  CHECK_STR(sub, "plain");
  CHECK(mime_param(v.s, v.len, "charset", &v) == 1);
  CHECK_MEM(v.s, v.len, "ISO-8859-1");
  CHECK(mhdr_parse(&m, "From x\nTo: y\n\n", 14) == 0 && m.end == HEND_BODY);
  CHECK(!mime_ctype("text", 4, type, sub, &params) && !mime_ctype("text/ plain x", 13, type, sub, &params));
  CHECK(mime_cte(" Base64 ", 8) == CTE_B64 && mime_cte("", 0) == CTE_7BIT && mime_cte("x-uue", 5) == CTE_OTHER);
  CHECK(mime_delim("--abc\n", 6, "abc", 3) == 1 && mime_delim("--abc-- \r\n", 10, "abc", 3) == 2);
  CHECK(!mime_delim("--abcd\n", 7, "abc", 3) && !mime_delim("-abc\n", 5, "abc", 3));
  mhdr_free(&m);
  stralloc_free(&v);
}

static void param_is(const char *v, const char *name, const char *want)
{
  stralloc out = {0};
  CHECK(mime_param(v, strlen(v), name, &out) == (want != 0));
  if (want) CHECK_MEM(out.s, out.len, want);
  stralloc_free(&out);
}

static void test_params(void)
{
  stralloc out = {0};
  static const char ct[] = "text/plain; charset=us-ascii; name=\"a b.txt\"";
  param_is("attachment; filename=\"a \\\"q\\\".txt\"", "filename", "a \"q\".txt");
  param_is("attachment; filename*=iso-8859-1'fr'caf%E9.txt", "filename", "caf\xc3\xa9.txt");
  param_is("attachment; filename*0*=utf-8''%C3%A9t; filename*1=\"e.pdf\"", "filename", "\xc3\xa9te.pdf");
  param_is("attachment; filename=\"=?utf-8?q?=C3=A9.txt?=\"", "filename", "\xc3\xa9.txt");
  param_is("attachment; filename=my file.pdf ; size=3", "filename", "my file.pdf");
  param_is("attachment; broken; filename=x", "filename", "x");
  param_is("text/plain", "charset", 0);
  CHECK(mime_param_set(ct, sizeof ct - 1, "charset", "utf-8", &out) == 0);
  CHECK_MEM(out.s, out.len, "text/plain; name=\"a b.txt\"; charset=utf-8");
  out.len = 0;
  CHECK(mime_param_cat(&out, "filename", "\xc3\xa9 x", 4, "utf-8") == 0);
  CHECK_MEM(out.s, out.len, "; filename*=utf-8''%C3%A9%20x");
  stralloc_free(&out);
}

static void test_ew(void)
{
  stralloc out = {0};
  int kept = 0;
  size_t i, col = 0;
  static const char longtext[] = "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xe2\x82\xac a long subject "
                                 "that needs more than one encoded word to hold it all \xf0\x9f\x8e\x89";
  CHECK(ew_decode("=?iso-8859-1?q?caf=E9?= =?utf-8?B?w6k=?= x", 42, &out) == 1);   /* one run */
  CHECK_MEM(out.s, out.len, "caf\xc3\xa9\xc3\xa9 x");
  CHECK(ew_decode("=?utf-8?q?=C3?= =?utf-8?q?=A9?=", 31, &out) == 1);    /* a character cut in two */
  CHECK_MEM(out.s, out.len, "\xc3\xa9");
  CHECK(ew_decode("=?x-none?q?a?= plain", 20, &out) == 0);
  CHECK_MEM(out.s, out.len, "=?x-none?q?a?= plain");
  out.len = 0;
  CHECK(ew_encode(longtext, sizeof longtext - 1, "utf-8", &out) == 0);
  for (i = 0; i < out.len; i++) {
    if (out.s[i] == ' ') { CHECK(col <= 75); col = 0; } else col++;
    CHECK((unsigned char)out.s[i] < 127 && out.s[i] != '"' && out.s[i] != ',');
  }
  {
    stralloc back = {0};
    CHECK(ew_decode(out.s, out.len, &back) == 1);
    CHECK(back.len == sizeof longtext - 1 && !memcmp(back.s, longtext, back.len));
    stralloc_free(&back);
  }
  out.len = 0;
  CHECK(ew_encode("\xe2\x82\xac", 3, "iso-8859-1", &out) == 1 && out.len == 0);
  CHECK(ew_transcode("Re: =?iso-8859-1?q?caf=E9?= ok", 30, "utf-8", &out, &kept) == 1 && !kept);
  CHECK_MEM(out.s, out.len, "Re: =?utf-8?B?Y2Fmw6k=?= ok");
  CHECK(ew_transcode("=?utf-8?q?=E2=82=AC?=", 21, "iso-8859-1", &out, &kept) == 0 && kept);
  stralloc_free(&out);
}

static void test_rd(void)
{
  size_t n = RD_BUF * 2 + 100, got = 0, k;
  char *msg = malloc(n + 10);
  const char *p;
  int bol, pieces = 0;
  struct rd r;
  memset(msg, 'x', n);
  memcpy(msg + n, "\nab\n", 4);
  CHECK(rd_init_mem(&r, msg, n + 4) == 0);
  while (rd_piece(&r, &p, &k, &bol) == 1) {
    if (pieces == 0) CHECK(bol);
    if (pieces == 1) CHECK(!bol && p[-1] == 'x');         /* the byte before a piece stays */
    if (got == n + 1) {
      CHECK(bol && k == 3 && p[-1] == '\n');
      rd_unget(&r);
      CHECK(rd_piece(&r, &p, &k, &bol) == 1 && bol && k == 3);
    }
    got += k;
    pieces++;
  }
  CHECK(got == n + 4 && pieces == 4 && r.last == '\n');
  rd_free(&r);
  free(msg);
}

static void test_domains(void)
{
  static const char text[] = "# comment\n.example.com wrap=72\n* charset=iso-8859-1 richtext=never\n"
                             "mail.example.com attachments=uuencode maxsize=10k\nbad.example colour=red\n"
                             "x.example wrap=5\ny.example charset=x-no-such\nz.example oof=maybe\n";
  struct domains d;
  struct domain_settings s;
  stralloc f = {0};
  int n = domains_parse_text(&d, text, sizeof text - 1, 0);
  CHECK(n == 4 && d.n == 3);
  domains_find(&d, "Mail.Example.COM", &s);
  CHECK(s.attachments == ATT_UUENCODE && s.maxsize == 10240 && s.wrap == 0 && !strcmp(s.charset, "iso-8859-1"));
  domains_find(&d, "a.example.com", &s);
  CHECK(s.wrap == 72 && s.richtext == RICH_NEVER && s.attachments == ATT_MIME);
  domains_find(&d, "example.com", &s);                   /* .suffix does not match the domain itself */
  CHECK(s.wrap == 0 && s.richtext == RICH_NEVER);
  domains_find(&d, "*", &s);
  CHECK(domains_format(&s, &f) == 0);
  CHECK_STR(f.s, "attachments=mime charset=iso-8859-1 nonmimecharset=us-ascii wrap=0 richtext=never "
                 "displaynames=yes oof=no autoreplies=no maxsize=0 signed=keep");
  domains_free(&d);
  CHECK(domains_parse_text(&d, "", 0, 0) == 0);
  domains_find(&d, "any.example", &s);
  CHECK(s.displaynames == 1 && !strcmp(s.charset, "utf-8") && !strcmp(s.nonmimecharset, "us-ascii"));
  domains_free(&d);
  CHECK(domains_parse_text(&d, "a.example wrap=70 wrap=72\nb.example\nb.example\n", 46, 0) == 2);
  domains_free(&d);
  stralloc_free(&f);
}

static void test_mimetypes(void)
{
  struct mimetypes mt;
  CHECK(mimetypes_parse_text(&mt, MIMETYPES_BUILTIN, strlen(MIMETYPES_BUILTIN), 0) == 0);
  CHECK_STR(mimetypes_type(&mt, "Report.PDF"), "application/pdf");
  CHECK_STR(mimetypes_type(&mt, "x.docx"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
  CHECK_STR(mimetypes_type(&mt, "noext"), "application/octet-stream");
  CHECK_STR(mimetypes_ext(&mt, "image/jpeg"), "jpg");
  CHECK_STR(mimetypes_ext(&mt, "application/ms-tnef"), "dat");
  CHECK(mimetypes_ext(&mt, "x/unknown") == 0);
  mimetypes_free(&mt);
  CHECK(mimetypes_parse_text(&mt, "image/png .PNG\nbadtype png\ntext/x y/z\napplication/x\n", 51, 0) == 3);
  CHECK(mt.n == 1 && !strcmp(mt.m[0].ext, "png"));
  mimetypes_free(&mt);
}

/* ---- whole conversions */

static int conv(const struct profile *p, const char *msg, char *out, size_t cap, size_t *outlen)
{
  int fd = memfd_create("out", 0), rc;
  ssize_t r;
  rc = convert_mem(p, msg, strlen(msg), fd);
  lseek(fd, 0, SEEK_SET);
  r = read(fd, out, cap - 1);
  *outlen = r > 0 ? (size_t)r : 0;
  out[*outlen] = 0;
  close(fd);
  return rc;
}

static const char alt_msg[] =
  "From: \"A B\" <a@example.org>\nTo: c@example.com\nMIME-Version: 1.0\n"
  "Content-Type: multipart/alternative; boundary=x\n\n--x\nContent-Type: text/plain\n\nplain\n"
  "--x\nContent-Type: text/html\n\n<p>html</p>\n--x--\n";

static void test_convert(void)
{
  static char out[1 << 16];
  struct profile p;
  size_t n;
  CHECK(profile_builtin(&p, 0, 0) == 0);
  convert_quiet = 1;
  CHECK(conv(&p, alt_msg, out, sizeof out, &n) == CX_OK);       /* nothing to do: unchanged */
  CHECK_MEM(out, n, alt_msg);
  p.d.richtext = RICH_NEVER;
  p.d.displaynames = 0;
  CHECK(conv(&p, alt_msg, out, sizeof out, &n) == CX_OK);
  CHECK(strstr(out, "plain\n--x--\n") && !strstr(out, "html") && strstr(out, "\nFrom: a@example.org\n") == 0
        && !strncmp(out, "From: a@example.org\n", 20));
  p.d.maxsize = 50;
  CHECK(conv(&p, alt_msg, out, sizeof out, &n) == CX_TOOBIG);
  p.d.maxsize = 0;
  CHECK(conv(&p, "Subject: x\nAuto-Submitted: auto-replied\n\nhi\n", out, sizeof out, &n) == CX_SUPPRESSED && n == 0);
  CHECK(conv(&p, "Subject: x\nAuto-Submitted: auto-generated\n\nhi\n", out, sizeof out, &n) == CX_OK);
  p.d.autoreplies = 1;
  CHECK(conv(&p, "Subject: Out of Office: x\nAuto-Submitted: auto-replied\n\nhi\n", out, sizeof out, &n) == CX_SUPPRESSED);
  CHECK(conv(&p, "Subject: Re: x\nPrecedence: auto_reply\n\nhi\n", out, sizeof out, &n) == CX_OK);
  CHECK(conv(&p, "Subject: x\n\n--no\nContent-Type: multipart/mixed; boundary=\"\"\n", out, sizeof out, &n) == CX_OK);
  profile_free(&p);
}

static void test_convert_8bit(void)
{
  static char out[1 << 16];
  static const char msg[] = "From: J\xc3\xb6rg <j@example.org>\nSubject: caf\xc3\xa9\n\nGr\xc3\xbc\xc3\x9f" "e\n";
  struct profile p;
  size_t n, i;
  CHECK(profile_builtin(&p, 0, 1) == 0);
  CHECK(conv(&p, msg, out, sizeof out, &n) == CX_OK);
  for (i = 0; i < n; i++) CHECK((unsigned char)out[i] < 128);
  CHECK(strstr(out, "Subject: =?utf-8?") && strstr(out, "Content-Type: text/plain; charset=utf-8\n")
        && strstr(out, "MIME-Version: 1.0\n"));
  profile_free(&p);
  CHECK(profile_builtin(&p, 1, 0) == 0);                        /* inbound: text left alone */
  CHECK(conv(&p, msg, out, sizeof out, &n) == CX_OK);
  CHECK_MEM(out, n, msg);
  CHECK(conv(&p, "Subject: f\n\nhere:\nbegin 644 a.png\n%:&5L;&\\`\n`\nend\nbye\n", out, sizeof out, &n) == CX_OK);
  CHECK(strstr(out, "Content-Type: image/png; name=a.png\n") && strstr(out, "aGVsbG8=") && strstr(out, "\nbye\n"));
  profile_free(&p);
}

static const char epilogue_msg[] =
  "Subject: e\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=out\n\n--out\n"
  "Content-Type: multipart/mixed; boundary=in\n\n--in\n\ninner text\n--in--\nepilogue\n--in\nstill epilogue\n"
  "--out\nContent-Type: application/octet-stream; name=\"f.bin\"\nContent-Transfer-Encoding: base64\n\naGVsbG8=\n"
  "--out--\nlast words\n--out\nmore\n";

/* a delimiter of a multipart's own boundary in its epilogue is only text (found by fuzz_mime) */
static void test_epilogue(void)
{
  static char out[1 << 16];
  struct profile p;
  size_t n;
  CHECK(profile_builtin(&p, 1, 0) == 0);
  CHECK(conv(&p, epilogue_msg, out, sizeof out, &n) == CX_OK);
  CHECK_MEM(out, n, epilogue_msg);
  profile_free(&p);
  CHECK(profile_builtin(&p, 0, 0) == 0);
  p.d.attachments = ATT_UUENCODE;
  CHECK(conv(&p, epilogue_msg, out, sizeof out, &n) == CX_OK);
  CHECK(strstr(out, "inner text\n") && strstr(out, "begin 644 f.bin\n%:&5L;&\\`\n`\nend\n") && !strstr(out, "epilogue"));
  profile_free(&p);
}

static void test_long_lines(void)
{
  /* a line longer than the reader's buffer, then a delimiter right after it */
  size_t n = RD_BUF + 5000, len;
  char *msg = malloc(n + 300), *out = malloc(n * 4 + 1000);
  struct profile p;
  int fd;
  strcpy(msg, "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/octet-stream\n\n");
  len = strlen(msg);
  memset(msg + len, 'y', n);
  strcpy(msg + len + n, "\n--b--\n");
  CHECK(profile_builtin(&p, 0, 0) == 0);
  fd = memfd_create("out", 0);
  CHECK(convert_mem(&p, msg, strlen(msg), fd) == CX_OK);
  lseek(fd, 0, SEEK_SET);
  CHECK(read(fd, out, n * 4 + 1000) == (ssize_t)strlen(msg));
  CHECK(!memcmp(out, msg, strlen(msg)));
  close(fd);
  profile_free(&p);
  free(msg);
  free(out);
}

int main(void)
{
  test_b64();
  test_qp();
  test_uu();
  test_charset();
  test_wrap();
  test_header();
  test_params();
  test_ew();
  test_rd();
  test_domains();
  test_mimetypes();
  test_convert();
  test_convert_8bit();
  test_long_lines();
  test_epilogue();
  return check_done("t_convert");
}
