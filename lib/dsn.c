/*
 * dsn.c -- RFC 3461 parameters: xtext, NOTIFY, ORCPT, RET, ENVID (see dsn.h).
 */
#include <string.h>
#include "dsn.h"

static int hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* the byte of xtext at *i (advanced past it), or -1 when it is not xtext */
static int xtext_byte(const char *s, size_t len, size_t *i)
{
  unsigned char c = (unsigned char)s[*i];
  int h, l;
  if (c == '+') {
    if (*i + 2 >= len) return -1;
    h = hexval(s[*i + 1]);
    l = hexval(s[*i + 2]);
    if (h < 0 || l < 0) return -1;
    *i += 3;
    return h * 16 + l;
  }
  if (c < 33 || c > 126 || c == '=') return -1;
  *i += 1;
  return c;
}

int dsn_xtext_valid(const char *s, size_t len)
{
  size_t i = 0;
  while (i < len) {
    int c = xtext_byte(s, len, &i);
    if (c < 32 || c > 126) return 0;
  }
  return 1;
}

int dsn_decode(stralloc *out, const char *s, size_t len)
{
  size_t i = 0;
  while (i < len) {
    int c = xtext_byte(s, len, &i);
    char b = (char)c;
    if (c < 0) return 0;
    if (!stralloc_append(out, &b)) return -1;
  }
  return 0;
}

int dsn_encode(stralloc *out, const char *s, size_t len)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    char e[3] = { '+', hex[c >> 4], hex[c & 15] };
    if (c >= 33 && c <= 126 && c != '+' && c != '=') { if (!stralloc_append(out, (char *)&c)) return -1; }
    else if (!stralloc_catb(out, e, 3)) return -1;
  }
  return 0;
}

static int word_is(const char *s, size_t len, const char *w)
{
  return str_len(w) == len && !case_diffb(s, len, w);
}

/* NOTIFY's value: NEVER alone, or SUCCESS, FAILURE, DELAY each at most once */
static int notify_scan(const char *v, size_t len, unsigned *out)
{
  size_t start = 0, i;
  unsigned bits = 0, b;
  if (word_is(v, len, "NEVER")) { *out = DSN_NEVER; return 0; }
  for (i = 0; i <= len; i++) {
    if (i < len && v[i] != ',') continue;
    if (word_is(v + start, i - start, "SUCCESS")) b = DSN_SUCCESS;
    else if (word_is(v + start, i - start, "FAILURE")) b = DSN_FAILURE;
    else if (word_is(v + start, i - start, "DELAY")) b = DSN_DELAY;
    else return -1;
    if (bits & b) return -1;
    bits |= b;
    start = i + 1;
  }
  *out = bits;
  return 0;
}

/* ORCPT's value: addr-type (letters, digits, '-') ";" xtext, at most DSN_ORCPT_MAX */
static int orcpt_valid(const char *v, size_t len)
{
  size_t i = 0;
  if (len > DSN_ORCPT_MAX) return 0;
  while (i < len && v[i] != ';') {
    char c = v[i++];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return 0;
  }
  return i > 0 && i + 1 < len && dsn_xtext_valid(v + i + 1, len - i - 1);
}

static const char *mail_param(const char *k, size_t klen, const char *v, size_t vlen, int hasv,
                              struct dsn_params *p)
{
  if (word_is(k, klen, "RET")) {
    if (p->ret) return "501 5.5.4 RET given twice";
    if (hasv && word_is(v, vlen, "FULL")) p->ret = DSN_RET_FULL;
    else if (hasv && word_is(v, vlen, "HDRS")) p->ret = DSN_RET_HDRS;
    else return "501 5.5.4 bad RET parameter (FULL or HDRS)";
    return 0;
  }
  if (p->envid) return "501 5.5.4 ENVID given twice";
  if (!hasv || !vlen || vlen > DSN_ENVID_MAX || !dsn_xtext_valid(v, vlen))
    return "501 5.5.4 bad ENVID parameter (xtext of at most 100 characters)";
  p->envid = v;
  p->envidlen = vlen;
  return 0;
}

static const char *rcpt_param(const char *k, size_t klen, const char *v, size_t vlen, int hasv,
                              struct dsn_params *p)
{
  if (word_is(k, klen, "NOTIFY")) {
    if (p->notify) return "501 5.5.4 NOTIFY given twice";
    if (!hasv || notify_scan(v, vlen, &p->notify) < 0)
      return "501 5.5.4 bad NOTIFY parameter (NEVER, or SUCCESS, FAILURE, DELAY separated by commas)";
    return 0;
  }
  if (p->orcpt) return "501 5.5.4 ORCPT given twice";
  if (!hasv || !orcpt_valid(v, vlen))
    return "501 5.5.4 bad ORCPT parameter (type;xtext of at most 500 characters)";
  p->orcpt = v;
  p->orcptlen = vlen;
  return 0;
}

const char *dsn_param(const char *k, size_t klen, const char *v, size_t vlen, int hasv, int mail,
                      struct dsn_params *p)
{
  int m = word_is(k, klen, "RET") || word_is(k, klen, "ENVID");
  int r = word_is(k, klen, "NOTIFY") || word_is(k, klen, "ORCPT");
  if (!m && !r) return DSN_NOT_MINE;
  if (m != mail) return mail ? "555 5.5.4 NOTIFY and ORCPT belong to RCPT TO" : "555 5.5.4 RET and ENVID belong to MAIL FROM";
  return mail ? mail_param(k, klen, v, vlen, hasv, p) : rcpt_param(k, klen, v, vlen, hasv, p);
}

int dsn_unpack(const char *s, size_t len, int mail, struct dsn_params *p)
{
  size_t pos = 0;
  memset(p, 0, sizeof *p);
  while (pos < len) {
    size_t end = pos, eq;
    while (end < len && s[end] != ' ') end++;
    eq = pos;
    while (eq < end && s[eq] != '=') eq++;
    if (eq == end || dsn_param(s + pos, eq - pos, s + eq + 1, end - eq - 1, 1, mail, p) != 0) return -1;
    pos = end + 1;
  }
  return 0;
}

static int notify_pack(stralloc *out, unsigned n)
{
  static const struct { unsigned bit; const char *name; } names[] = {
    { DSN_SUCCESS, "SUCCESS" }, { DSN_FAILURE, "FAILURE" }, { DSN_DELAY, "DELAY" }, { 0, 0 }
  };
  int i, first = 1;
  if (!stralloc_cats(out, "NOTIFY=")) return -1;
  if (n & DSN_NEVER) return stralloc_cats(out, "NEVER") ? 0 : -1;
  for (i = 0; names[i].name; i++) {
    if (!(n & names[i].bit)) continue;
    if ((!first && !stralloc_append(out, ",")) || !stralloc_cats(out, names[i].name)) return -1;
    first = 0;
  }
  return 0;
}

static int sep(stralloc *out, size_t start)
{
  return out->len > start ? (stralloc_append(out, " ") ? 0 : -1) : 0;
}

int dsn_pack(stralloc *out, const struct dsn_params *p, int mail)
{
  size_t start = out->len;
  if (mail) {
    if (p->ret && !stralloc_cats(out, p->ret == DSN_RET_FULL ? "RET=FULL" : "RET=HDRS")) return -1;
    if (p->envid && (sep(out, start) < 0 || !stralloc_cats(out, "ENVID=")
                     || !stralloc_catb(out, p->envid, p->envidlen))) return -1;
    return 0;
  }
  if (p->notify && notify_pack(out, p->notify) < 0) return -1;
  if (p->orcpt && (sep(out, start) < 0 || !stralloc_cats(out, "ORCPT=")
                   || !stralloc_catb(out, p->orcpt, p->orcptlen))) return -1;
  return 0;
}

unsigned dsn_wants(const struct dsn_params *p)
{
  if (!p->notify) return DSN_DEFAULT;
  return p->notify & DSN_NEVER ? 0 : p->notify;
}
