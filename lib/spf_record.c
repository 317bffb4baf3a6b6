/*
 * spf_record.c -- the SPF record's syntax (RFC 7208 section 12): the
 * version, terms separated by spaces, each a directive (qualifier,
 * mechanism, domain-spec, CIDR lengths) or a modifier (name=value), and
 * the macro-strings in them (see spf.h).
 *
 * Input: a TXT record's text, any bytes.  Output: one term at a time, its
 * parts pointing into the text.  Failure modes: a term that is not in the
 * grammar, an unknown mechanism, a CIDR length out of range, a second
 * redirect= or exp=: -1 (the record is a permerror).  Nothing is
 * allocated; the work is linear in the length.
 */
#include <arpa/inet.h>
#include <string.h>
#include "spf.h"

static const char *const mechs[] = { "all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists" };

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alnum(int c) { return is_alpha(c) || is_digit(c); }
static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

int spf_is_record(const char *txt, size_t len)
{
  if (len < 6 || case_diffb(txt, 6, "v=spf1")) return 0;
  return len == 6 || txt[6] == ' ';
}

/* ---- macro-strings */

/* "%{" letter digits ["r"] delimiters "}" at s (after the "%{"): its length, 0 bad */
static size_t macro_expand_len(const char *s, size_t len, int exp)
{
  static const char *letters = "slodiphv", *exp_letters = "slodiphvcrt", *delims = ".-+,/_=";
  size_t i = 0, digits = 0, value = 0;
  if (i >= len || !s[i] || !strchr(exp ? exp_letters : letters, lower(s[i]))) return 0;
  i++;
  while (i < len && is_digit(s[i])) {
    if (value < 1000) value = value * 10 + (size_t)(s[i] - '0');
    digits++;
    i++;
  }
  if (digits && !value) return 0;
  if (i < len && lower(s[i]) == 'r') i++;
  while (i < len && s[i] && strchr(delims, s[i])) i++;
  if (i >= len || s[i] != '}') return 0;
  return i + 1;
}

int spf_macro_scan(const char *s, size_t len, int exp, int *ends_macro)
{
  size_t i = 0, n;
  *ends_macro = 0;
  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    if (c == '%') {
      if (i + 1 >= len) return -1;
      if (s[i + 1] == '%' || s[i + 1] == '_' || s[i + 1] == '-') n = 2;
      else if (s[i + 1] != '{' || !(n = macro_expand_len(s + i + 2, len - i - 2, exp))) return -1;
      else n += 2;
      i += n;
      *ends_macro = 1;
      continue;
    }
    if ((c < 0x21 && !(exp && c == ' ')) || c > 0x7e) return -1;   /* explain-string: SP too */
    *ends_macro = 0;
    i++;
  }
  return 0;
}

/* toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static int toplabel(const char *s, size_t len)
{
  size_t i;
  int alpha = 0, hyphen = 0;
  if (!len || s[0] == '-' || s[len - 1] == '-') return 0;
  for (i = 0; i < len; i++) {
    if (s[i] == '-') hyphen = 1;
    else if (is_alpha(s[i])) alpha = 1;
    else if (!is_digit(s[i])) return 0;
  }
  return alpha || hyphen;
}

int spf_domain_spec_check(const char *s, size_t len)
{
  size_t end = len, b;
  int macro;
  if (!len || spf_macro_scan(s, len, 0, &macro) < 0) return -1;
  if (macro) return 0;
  if (s[end - 1] == '.') end--;
  for (b = end; b > 0 && s[b - 1] != '.'; b--) ;
  if (b == 0) return -1;                      /* domain-end starts with "." */
  return toplabel(s + b, end - b) ? 0 : -1;
}

/* ---- CIDR lengths */

/* "/" ("0" / %x31-39 0*2DIGIT) at the end of s[0..*len) up to max: stripped, 1; 0 none; -1 bad */
static int cidr_suffix(const char *s, size_t *len, unsigned max, unsigned *out)
{
  size_t e = *len, b = e;
  unsigned v = 0;
  while (b > 0 && is_digit(s[b - 1]) && e - b < 4) b--;
  if (b == e || b == 0 || s[b - 1] != '/') return 0;
  if (e - b > 3 || (s[b] == '0' && e - b > 1)) return -1;
  for (size_t i = b; i < e; i++) v = v * 10 + (unsigned)(s[i] - '0');
  if (v > max) return -1;
  *out = v;
  *len = b - 1;
  return 1;
}

/* dual-cidr-length at the end of s[0..*len): stripped; -1 bad */
static int dual_cidr(const char *s, size_t *len, struct spf_term *t)
{
  size_t l = *len;
  unsigned v;
  int r = cidr_suffix(s, &l, 128, &v);
  if (r < 0) return -1;
  if (r == 1 && l && s[l - 1] == '/') {      /* "//" before an IPv6 length */
    t->cidr6 = v;
    l--;
  } else l = *len;
  if (cidr_suffix(s, &l, 32, &t->cidr4) < 0) return -1;
  *len = l;
  return 0;
}

/* ---- mechanisms */

static int ip_network(struct spf_term *t, const char *s, size_t len, int v6)
{
  char text[64];
  size_t l = len;
  if (cidr_suffix(s, &l, v6 ? 128 : 32, v6 ? &t->cidr6 : &t->cidr4) < 0) return -1;
  if (!l || l >= sizeof text) return -1;
  memcpy(text, s, l);
  text[l] = 0;
  if (v6) return inet_pton(AF_INET6, text, t->ip) == 1 ? 0 : -1;
  memset(t->ip, 0, 10);
  t->ip[10] = t->ip[11] = 0xff;
  return inet_pton(AF_INET, text, t->ip + 12) == 1 ? 0 : -1;
}

/* what follows a mechanism's name: s[0..len) */
static int mech_rest(struct spf_term *t, const char *s, size_t len)
{
  size_t l = len;
  switch (t->kind) {
  case SPF_T_ALL: return len ? -1 : 0;
  case SPF_T_IP4: case SPF_T_IP6:
    if (!len || s[0] != ':') return -1;
    return ip_network(t, s + 1, len - 1, t->kind == SPF_T_IP6);
  case SPF_T_INCLUDE: case SPF_T_EXISTS:
    if (!len || s[0] != ':') return -1;
    break;
  case SPF_T_A: case SPF_T_MX:
    if (dual_cidr(s, &l, t) < 0) return -1;
    /* fall through */
  case SPF_T_PTR:
    if (!l) return 0;
    if (s[0] != ':') return -1;
    break;
  }
  t->arg = s + 1;
  t->alen = l - 1;
  return spf_domain_spec_check(t->arg, t->alen);
}

static int qualifier(int c)
{
  switch (c) {
  case '+': return SPF_PASS;
  case '-': return SPF_FAIL;
  case '~': return SPF_SOFTFAIL;
  case '?': return SPF_NEUTRAL;
  }
  return -1;
}

static int modifier(struct spf_term *t, const char *name, size_t nlen, const char *v, size_t vlen)
{
  int macro;
  t->arg = v;
  t->alen = vlen;
  if (nlen == 8 && !case_diffb(name, 8, "redirect")) t->kind = SPF_T_REDIRECT;
  else if (nlen == 3 && !case_diffb(name, 3, "exp")) t->kind = SPF_T_EXP;
  else {
    t->kind = SPF_T_UNKNOWN;
    return spf_macro_scan(v, vlen, 1, &macro);
  }
  return spf_domain_spec_check(v, vlen);
}

/* one term s[0..len) */
static int term(struct spf_term *t, const char *s, size_t len)
{
  size_t i = 0, n;
  unsigned k;
  t->result = qualifier(s[0]);
  if (t->result >= 0) i = 1;
  if (i >= len || !is_alpha(s[i])) return -1;
  for (n = i; n < len && (is_alnum(s[n]) || s[n] == '-' || s[n] == '_' || s[n] == '.'); n++) ;
  if (n < len && s[n] == '=' && i == 0) return modifier(t, s, n, s + n + 1, len - n - 1);
  if (t->result < 0) t->result = SPF_PASS;
  for (k = 0; k < sizeof mechs / sizeof *mechs; k++)
    if (str_len(mechs[k]) == n - i && !case_diffb(s + i, n - i, mechs[k])) break;
  if (k == sizeof mechs / sizeof *mechs) return -1;
  t->kind = (int)k;
  return mech_rest(t, s + n, len - n);
}

int spf_term_next(const char *rec, size_t len, size_t *pos, struct spf_term *t)
{
  size_t p = *pos, e;
  if (p == 0) {
    if (!spf_is_record(rec, len)) return -1;
    p = 6;
  }
  while (p < len && rec[p] == ' ') p++;
  if (p >= len) { *pos = p; return 0; }
  for (e = p; e < len && rec[e] != ' '; e++) ;
  memset(t, 0, sizeof *t);
  t->cidr4 = 32;
  t->cidr6 = 128;
  t->text = rec + p;
  t->len = e - p;
  *pos = e;
  return term(t, rec + p, e - p) < 0 ? -1 : 1;
}

int spf_record_scan(const char *rec, size_t len, struct spf_record_info *info)
{
  struct spf_term t;
  size_t pos = 0;
  int r;
  memset(info, 0, sizeof *info);
  memset(&t, 0, sizeof t);
  while ((r = spf_term_next(rec, len, &pos, &t)) == 1) {
    if (t.kind == SPF_T_REDIRECT || t.kind == SPF_T_EXP) {
      const char **a = t.kind == SPF_T_REDIRECT ? &info->redirect : &info->exp;
      if (*a) break;                                  /* a second one */
      *a = t.arg;
      *(t.kind == SPF_T_REDIRECT ? &info->redirect_len : &info->exp_len) = t.alen;
    }
  }
  if (r == 0) return 0;
  info->bad = pos == 0 || !t.text ? rec : t.text;
  info->bad_len = pos == 0 || !t.text ? (len < 6 ? len : 6) : t.len;
  return -1;
}
