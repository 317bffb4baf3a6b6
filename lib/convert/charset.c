/*
 * charset.c -- charset names and iconv conversion (see charset.h).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "charset.h"

/* ---- names */

struct alias { const char *label, *iconv; };

/* labels seen in mail that glibc's iconv does not know, or knows narrower */
static const struct alias fixes[] = {
  { "gb2312", "GBK" }, { "x-gbk", "GBK" }, { "ks_c_5601-1987", "CP949" },
  { "ks_c_5601", "CP949" }, { "iso-8859-8-i", "ISO-8859-8" }, { "x-sjis", "SHIFT_JIS" },
  { "shift-jis", "SHIFT_JIS" }, { "x-mac-roman", "MACINTOSH" }, { "unicode-1-1-utf-7", "UTF-7" },
  { "x-unicode20utf8", "UTF-8" }, { "utf8", "UTF-8" }, { "ascii", "US-ASCII" },
  { "windows-874", "CP874" }, { "x-cp1250", "CP1250" }, { "x-cp1251", "CP1251" }, { 0, 0 }
};

void cs_label(char *buf, const char *s, size_t n)
{
  size_t i = 0, o = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '"')) i++;
  while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '"')) n--;
  for (; i < n && o < CS_NAME_MAX - 1; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= ' ' || c >= 127 || c == '?' || c == '/' || c == '\\') { o = 0; break; }
    buf[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  if (i < n) o = 0;
  buf[o] = 0;
}

const char *cs_iconv(const char *label)
{
  int i;
  if (!*label) return "US-ASCII";
  for (i = 0; fixes[i].label; i++) if (!strcasecmp(fixes[i].label, label)) return fixes[i].iconv;
  return label;
}

/* a label squeezed for comparing: lower case, no '-', '_', '.', ' ' */
static void squeeze(char *d, const char *s)
{
  size_t o = 0;
  for (; *s && o < CS_NAME_MAX - 1; s++)
    if (!strchr("-_. ", *s)) d[o++] = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
  d[o] = 0;
}

static const char *canon(const char *sq)
{
  static const char *const ascii[] = { "usascii", "ascii", "ansix341968", "iso646us", "us", 0 };
  static const char *const latin1[] = { "latin1", "iso88591", "l1", "iso885911987", 0 };
  int i;
  if (!*sq) return "usascii";
  for (i = 0; ascii[i]; i++) if (!strcmp(sq, ascii[i])) return "usascii";
  for (i = 0; latin1[i]; i++) if (!strcmp(sq, latin1[i])) return "iso88591";
  return sq;
}

int cs_same(const char *a, const char *b)
{
  char x[CS_NAME_MAX], y[CS_NAME_MAX];
  squeeze(x, a);
  squeeze(y, b);
  return !strcmp(canon(x), canon(y));
}

int cs_is_ascii(const char *label) { return cs_same(label, "us-ascii"); }
int cs_is_utf8(const char *label) { return cs_same(label, "utf-8"); }

int cs_ascii_compatible(const char *label)
{
  static const char *const no[] = { "utf16", "utf32", "ucs2", "ucs4", "utf7", "unicode", "iso2022",
                                     "hz", "ebcdic", "cp037", "cp500", "ibm037", "ibm500", "csiso2022", 0 };
  char x[CS_NAME_MAX];
  int i;
  squeeze(x, label);
  for (i = 0; no[i]; i++) if (!strncmp(x, no[i], strlen(no[i]))) return 0;
  return 1;
}

int cs_known(const char *label)
{
  iconv_t a = iconv_open("UTF-8", cs_iconv(label)), b;
  if (a == (iconv_t)-1) return 0;
  iconv_close(a);
  b = iconv_open(cs_iconv(label), "UTF-8");
  if (b == (iconv_t)-1) return 0;
  iconv_close(b);
  return 1;
}

/* ---- the stage */

/* convert in[0..*inlen) into out; returns what iconv returned */
static size_t ics_step(struct ics *c, char **in, size_t *inlen, char *out, size_t *outlen)
{
  size_t room = *outlen, r = iconv(c->cd, in, inlen, &out, &room);
  *outlen -= room;
  return r;
}

/* run iconv over in, passing the output on; an incomplete tail goes to carry */
static int ics_feed(struct ics *c, char *in, size_t n)
{
  char buf[8192];
  while (n && !c->bad) {
    size_t got = sizeof buf, r = ics_step(c, &in, &n, buf, &got);
    int e = errno;
    if (sink_put(c->next, buf, got) < 0) return -1;
    if (r != (size_t)-1 || e == E2BIG) continue;
    if (e == EINVAL && n < sizeof c->carry) {
      memcpy(c->carry, in, n);
      c->ncarry = n;
      return 0;
    }
    c->bad = 1;
  }
  return 0;
}

static int ics_put(struct sink *s, const char *p, size_t n)
{
  struct ics *c = (struct ics *)s;
  char join[64];
  while (c->ncarry && n && !c->bad) {            /* finish the cut sequence a byte at a time */
    size_t k = c->ncarry;
    memcpy(join, c->carry, k);
    join[k++] = *p++;
    n--;
    c->ncarry = 0;
    if (ics_feed(c, join, k) < 0) return -1;
  }
  if (c->bad) return 0;
  return ics_feed(c, (char *)p, n);
}

static int ics_end(struct sink *s)
{
  struct ics *c = (struct ics *)s;
  char buf[64], *o = buf;
  size_t room = sizeof buf;
  if (c->ncarry) c->bad = 1;
  c->ncarry = 0;
  if (c->bad) return 0;
  iconv(c->cd, 0, 0, &o, &room);                  /* back to the initial shift state */
  return sink_put(c->next, buf, sizeof buf - room);
}

int ics_open(struct ics *c, const char *to, const char *from, struct sink *next)
{
  memset(c, 0, sizeof *c);
  c->cd = iconv_open(cs_iconv(to), cs_iconv(from));
  if (c->cd == (iconv_t)-1) return -1;
  c->s.put = ics_put;
  c->s.end = ics_end;
  c->next = next;
  return 0;
}

void ics_close(struct ics *c)
{
  if (c->cd != (iconv_t)-1 && c->cd) iconv_close(c->cd);
  c->cd = 0;
}

/* ---- whole buffers */

struct sa_sink { struct sink s; stralloc *sa; };

static int sa_put(struct sink *s, const char *p, size_t n)
{
  if (stralloc_catb(((struct sa_sink *)s)->sa, p, n)) return 0;
  errno = ENOMEM;
  return -1;
}

int cs_convert(const char *to, const char *from, const char *s, size_t n, stralloc *out)
{
  struct sa_sink z;
  struct ics c;
  int rc;
  z.s.put = sa_put;
  z.s.end = 0;
  z.sa = out;
  out->len = 0;
  if (ics_open(&c, to, from, &z.s) < 0) return 2;
  rc = sink_put(&c.s, s, n) < 0 || sink_end(&c.s) < 0 ? -1 : c.bad;
  ics_close(&c);
  return rc;
}

size_t utf8_seqlen(unsigned char c)
{
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return 2;
  if (c >= 0xe0 && c <= 0xef) return 3;
  if (c >= 0xf0 && c <= 0xf4) return 4;
  return 1;
}

int utf8_valid(const char *s, size_t n)
{
  stralloc tmp = {0};
  int rc;
  size_t i;
  for (i = 0; i < n && !((unsigned char)s[i] & 0x80); i++) ;
  if (i == n) return 1;
  rc = cs_convert("UTF-8", "UTF-8", s, n, &tmp);
  stralloc_free(&tmp);
  return rc == 0;
}
