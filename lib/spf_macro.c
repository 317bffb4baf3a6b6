/*
 * spf_macro.c -- SPF macro expansion (RFC 7208 section 7; see spf.h).
 *
 * Input: a macro-string, already checked or not (it is checked again
 * here), and the values of the macro letters.  Output: the expanded text;
 * a domain-spec is then cut from the left to 253 bytes.  Each letter's
 * value is split at its delimiters (default "."), reversed for "r", cut
 * to its rightmost N parts for a digit N, joined with "."; an upper-case
 * letter's value is URL-escaped.  Failure modes: a syntax error (-1), out
 * of memory (-1, *nomem).  Bounded: the output stops growing at
 * SPF_EXPAND_MAX bytes, whatever the record repeats.
 */
#include <arpa/inet.h>
#include <string.h>
#include "spf.h"

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* %{i}: dotted quad, or 32 dot-separated nibbles for IPv6 */
static int cat_ip_dotted(stralloc *sa, const unsigned char *ip)
{
  static const char hex[] = "0123456789abcdef";
  char buf[64];
  unsigned i, o = 0;
  if (!memcmp(ip, "\0\0\0\0\0\0\0\0\0\0\377\377", 12)) {
    inet_ntop(AF_INET, ip + 12, buf, sizeof buf);
    return stralloc_cats(sa, buf);
  }
  for (i = 0; i < 16; i++) {
    buf[o++] = hex[ip[i] >> 4];
    buf[o++] = '.';
    buf[o++] = hex[ip[i] & 15];
    if (i < 15) buf[o++] = '.';
  }
  return stralloc_catb(sa, buf, o);
}

static int cat_ip_text(stralloc *sa, const unsigned char *ip)
{
  char buf[64];
  if (!memcmp(ip, "\0\0\0\0\0\0\0\0\0\0\377\377", 12)) inet_ntop(AF_INET, ip + 12, buf, sizeof buf);
  else inet_ntop(AF_INET6, ip, buf, sizeof buf);
  return stralloc_cats(sa, buf);
}

static const char *or_unknown(const char *s) { return s && *s ? s : "unknown"; }

/* the value of a macro letter into val */
static int letter_value(const struct spf_macro_vars *v, int c, stralloc *val)
{
  val->len = 0;
  switch (c) {
  case 's': return stralloc_cats(val, v->s);
  case 'l': return stralloc_cats(val, v->l);
  case 'o': return stralloc_cats(val, v->o);
  case 'd': return stralloc_cats(val, v->d);
  case 'h': return stralloc_cats(val, or_unknown(v->h));
  case 'r': return stralloc_cats(val, or_unknown(v->r));
  case 'i': return cat_ip_dotted(val, v->ip);
  case 'c': return cat_ip_text(val, v->ip);
  case 'v': return stralloc_cats(val, memcmp(v->ip, "\0\0\0\0\0\0\0\0\0\0\377\377", 12) ? "ip6" : "in-addr");
  case 't': return stralloc_catulong0(val, v->t, 0);
  case 'p': return v->p ? v->p(v->pctx, val) : stralloc_cats(val, "unknown");
  }
  return 0;
}

/* val split at delims, reversed when rev, its rightmost `keep` parts (0: all), joined by "." */
static int transform(const stralloc *val, const char *delims, size_t ndelims, int rev, unsigned keep,
                     stralloc *out)
{
  static size_t starts[SPF_EXPAND_MAX + 1], ends[SPF_EXPAND_MAX + 1];
  size_t n = 0, i, b = 0, first, k;
  const char *d = ndelims ? delims : ".";
  size_t nd = ndelims ? ndelims : 1;
  for (i = 0; i <= val->len && n < sizeof starts / sizeof *starts; i++)
    if (i == val->len || memchr(d, val->s[i], nd)) { starts[n] = b; ends[n++] = i; b = i + 1; }
  first = keep && keep < n ? n - keep : 0;
  for (i = first; i < n; i++) {
    k = rev ? n - 1 - i : i;
    if (i > first && !stralloc_append(out, ".")) return 0;
    if (!stralloc_catb(out, val->s + starts[k], ends[k] - starts[k])) return 0;
  }
  return 1;
}

static int url_escape(stralloc *out, size_t from)
{
  static const char hex[] = "0123456789ABCDEF";
  static stralloc tmp;
  size_t i;
  tmp.len = 0;
  for (i = from; i < out->len; i++) {
    unsigned char c = (unsigned char)out->s[i];
    char e[3] = { '%', hex[c >> 4], hex[c & 15] };
    int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '-' || c == '.' || c == '_' || c == '~';
    if (!stralloc_catb(&tmp, plain ? (const char *)&out->s[i] : e, plain ? 1 : 3)) return 0;
  }
  out->len = from;
  return stralloc_catb(out, tmp.s ? tmp.s : "", tmp.len);
}

/* one "%{...}" at s (after "%{"), already known good: appended; 0 out of memory */
static int expand_one(const struct spf_macro_vars *v, const char *s, size_t len, stralloc *out)
{
  static stralloc val;
  size_t i = 1, d0, from = out->len;
  unsigned keep = 0;
  int rev = 0, c = s[0];
  while (i < len && s[i] >= '0' && s[i] <= '9') { if (keep < 1000) keep = keep * 10 + (unsigned)(s[i] - '0'); i++; }
  if (i < len && lower(s[i]) == 'r') { rev = 1; i++; }
  d0 = i;
  while (i < len && s[i] != '}') i++;
  if (!letter_value(v, lower(c), &val)) return 0;
  if (val.len > SPF_EXPAND_MAX) val.len = SPF_EXPAND_MAX;
  if (!transform(&val, s + d0, i - d0, rev, keep, out)) return 0;
  return c == lower(c) || url_escape(out, from);
}

int spf_expand(const struct spf_macro_vars *v, const char *s, size_t len, int exp, stralloc *out, int *nomem)
{
  size_t i = 0, n;
  int macro;
  *nomem = 0;
  out->len = 0;
  if (spf_macro_scan(s, len, exp, &macro) < 0) return -1;
  while (i < len && out->len < SPF_EXPAND_MAX) {
    int ok;
    if (s[i] != '%') { ok = stralloc_append(out, s + i); i++; }
    else if (s[i + 1] == '%') { ok = stralloc_append(out, "%"); i += 2; }
    else if (s[i + 1] == '_') { ok = stralloc_append(out, " "); i += 2; }
    else if (s[i + 1] == '-') { ok = stralloc_cats(out, "%20"); i += 2; }
    else {
      for (n = i + 2; s[n] != '}'; n++) ;
      ok = expand_one(v, s + i + 2, n - i - 2, out);
      i = n + 1;
    }
    if (!ok) { *nomem = 1; return -1; }
  }
  if (out->len > SPF_EXPAND_MAX) out->len = SPF_EXPAND_MAX;
  return 0;
}

int spf_expand_domain(const struct spf_macro_vars *v, const char *s, size_t len, stralloc *out, int *nomem)
{
  size_t cut = 0;
  if (spf_expand(v, s, len, 0, out, nomem) < 0) return -1;
  if (out->len && out->s[out->len - 1] == '.') out->len--;
  while (out->len - cut > DNSQ_NAME_MAX) {
    while (cut < out->len && out->s[cut] != '.') cut++;
    if (cut < out->len) cut++;
  }
  if (cut) memmove(out->s, out->s + cut, out->len - cut);
  out->len -= cut;
  if (!stralloc_0(out)) { *nomem = 1; return -1; }
  out->len--;
  return 0;
}
