/*
 * rules.c -- control/rules and control/transfermode (see rules.h).
 *
 * Inputs: the two control files under $IMC_HOME/control, or text given by
 * imc-ctl set.  Outputs: a table of rules matched by longest prefix, and
 * the transfer mode.  Failure modes: an unreadable file (-1, errno set,
 * reported as LINE 0); malformed lines (counted and each reported as
 * FILE:LINE: message); ENOMEM (reported as "out of memory" on the line).
 * Addresses are parsed with inet_pton, so only the standard forms pass:
 * four decimal parts for IPv4, RFC 4291 text for IPv6, no zone ids.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "rules.h"

static const char *const verdict_names[] = { "accept", "reject", "relay", "auth", "tls", "tlsauth" };
static const char *const mode_names[] = { "both", "inbound", "outbound", "none" };
static const unsigned char v4prefix[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };

const char *rule_verdict_name(int v) { return v >= 0 && v <= RULE_LAST ? verdict_names[v] : "?"; }
const char *transfermode_name(int m) { return m >= 0 && m <= XFER_NONE ? mode_names[m] : "?"; }
int transfermode_inbound(int m) { return m == XFER_BOTH || m == XFER_INBOUND; }

static int name_index(const char *s, const char *const *names, int n)
{
  int i;
  for (i = 0; i < n; i++) if (!strcasecmp(s, names[i])) return i;
  return -1;
}

/* ---- addresses */

int ip_is_v4(const unsigned char ip[16]) { return !memcmp(ip, v4prefix, 12); }

int ip_scan(const char *s, unsigned char ip[16])
{
  if (strchr(s, ':')) return inet_pton(AF_INET6, s, ip) == 1;
  memcpy(ip, v4prefix, 12);
  return inet_pton(AF_INET, s, ip + 12) == 1;
}

void ip_format(char buf[IP_FMT], const unsigned char ip[16])
{
  const char *r = ip_is_v4(ip) ? inet_ntop(AF_INET, ip + 12, buf, IP_FMT)
                               : inet_ntop(AF_INET6, ip, buf, IP_FMT);
  if (!r) strcpy(buf, "?");
}

/* do a and b agree in their first `bits` bits? */
int ip_prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
  unsigned full = bits / 8, rest = bits % 8;
  unsigned char mask;
  if (memcmp(a, b, full)) return 0;
  if (!rest) return 1;
  mask = (unsigned char)(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

/* any bit set after the first `bits`? */
static int host_bits(const unsigned char *ip, unsigned bits)
{
  unsigned i;
  for (i = bits; i < 128; i++) if (ip[i / 8] & (0x80 >> (i % 8))) return 1;
  return 0;
}

/* ---- one rule */

/* "MESSAGE: WORD TAIL", in a buffer that the next error overwrites */
static const char *error_word(const char *msg, const char *word, const char *tail)
{
  static char buf[200];
  size_t n = strlen(msg), w = strlen(word), t = strlen(tail);
  if (w > 96) w = 96;
  memcpy(buf, msg, n);
  memcpy(buf + n, ": ", 2);
  memcpy(buf + n + 2, word, w);
  memcpy(buf + n + 2 + w, tail, t + 1);   /* messages and tails are short constants */
  return buf;
}

/* ADDRESS[/PREFIX] into r (w is modified): 0 ok, else the error */
static const char *scan_net(char *w, struct rule *r)
{
  char *slash = strchr(w, '/');
  unsigned long p;
  int v6 = strchr(w, ':') != 0;
  if (slash) *slash++ = 0;
  if (!ip_scan(w, r->ip)) return "bad address";
  if (!slash) p = v6 ? 128 : 32;
  else if (!ctl_scan_ulong(slash, &p) || strlen(slash) > 3) return "bad prefix";
  if (p > (v6 ? 128UL : 32UL)) return "prefix out of range";
  r->bits = (unsigned char)(v6 ? p : 96 + p);
  r->v4 = ip_is_v4(r->ip) && r->bits >= 96;
  if (host_bits(r->ip, r->bits)) return "host bits set";
  return 0;
}

static const char *parse_rule(char *line, struct rule *r)
{
  char *p = line, *v = ctl_word(&p), *net = ctl_word(&p), copy[96];
  const char *e;
  int i;
  if (!net || ctl_word(&p)) return "expected VERDICT ADDRESS[/PREFIX]";
  if ((i = name_index(v, verdict_names, RULE_LAST + 1)) < 0)
    return error_word("unknown verdict", v, " (accept, reject, relay, auth, tls, tlsauth)");
  r->verdict = (unsigned char)i;
  if (strlen(net) >= sizeof copy) return "bad address";
  strcpy(copy, net);
  e = scan_net(net, r);
  return e ? error_word(e, copy, "") : 0;
}

static int rules_add(struct rules *rs, const struct rule *r)
{
  if (rs->n == rs->alloc) {
    size_t a = rs->alloc ? rs->alloc * 2 : 16;
    struct rule *n = realloc(rs->r, a * sizeof *n);
    if (!n) { errno = ENOMEM; return -1; }
    rs->r = n;
    rs->alloc = a;
  }
  rs->r[rs->n++] = *r;
  return 0;
}

/* ---- the table */

void rules_free(struct rules *rs)
{
  free(rs->r);
  rs->r = 0;
  rs->n = rs->alloc = 0;
}

int rules_defaults(struct rules *rs)
{
  static const char *const def[] = { "127.0.0.0/8", "::1", 0 };
  struct rule r;
  char buf[32];
  int i;
  rules_free(rs);
  rs->is_default = 1;
  for (i = 0; def[i]; i++) {
    memset(&r, 0, sizeof r);
    strcpy(buf, def[i]);
    r.verdict = RULE_RELAY;
    if (scan_net(buf, &r) || rules_add(rs, &r) < 0) { rules_free(rs); return -1; }
  }
  return 0;
}

int rules_parse(struct rules *rs, ctl_file *f, config_errfn err)
{
  char *line;
  size_t len;
  int errors = 0;
  rules_free(rs);
  rs->is_default = 0;
  while (ctl_next(f, &line, &len)) {
    struct rule r;
    const char *e;
    memset(&r, 0, sizeof r);
    r.line = f->lineno;
    e = parse_rule(line, &r);
    if (!e && rules_add(rs, &r) < 0) e = "out of memory";
    if (e) { errors++; if (err) err("rules", f->lineno, e); }
  }
  if (errors) rules_free(rs);
  else if (!rs->n && rules_defaults(rs) < 0) { if (err) err("rules", 1, "out of memory"); return 1; }
  return errors;
}

int rules_load(struct rules *rs, config_errfn err)
{
  ctl_file f = {0};
  int r = ctl_open(&f, "rules"), e;
  if (r < 0) {
    e = errno;
    if (err) err("rules", 0, "unable to read");
    ctl_close(&f);
    errno = e;
    return -1;
  }
  if (r == 0) {
    ctl_close(&f);
    if (rules_defaults(rs) < 0) { if (err) err("rules", 0, "unable to read"); return -1; }
    return 0;
  }
  r = rules_parse(rs, &f, err);
  ctl_close(&f);
  return r;
}

int rules_check_text(const char *text, size_t len, config_errfn err)
{
  struct rules rs = {0, 0, 0, 0};
  ctl_file f = {0};
  int r;
  ctl_openmem(&f, "rules", text, len);
  r = rules_parse(&rs, &f, err);
  ctl_close(&f);
  rules_free(&rs);
  return r;
}

int rules_warn(const struct rules *rs, int have_tls, config_errfn warnfn)
{
  size_t i;
  int n = 0;
  if (have_tls) return 0;
  for (i = 0; i < rs->n; i++)
    if (rs->r[i].verdict == RULE_TLS || rs->r[i].verdict == RULE_TLSAUTH) {
      warnfn("rules", rs->r[i].line, "no control/tls/cert.pem and key.pem: STARTTLS is not offered and "
             "clients under this rule can send no mail");
      n++;
    }
  return n;
}

int rules_match(const struct rules *rs, const unsigned char ip[16])
{
  const struct rule *best = 0;
  int v4 = ip_is_v4(ip);
  size_t i;
  for (i = 0; i < rs->n; i++) {
    const struct rule *r = &rs->r[i];
    if (r->v4 != v4 || !ip_prefix_equal(r->ip, ip, r->bits)) continue;
    if (!best || r->bits >= best->bits) best = r;     /* later lines win ties */
  }
  return best ? best->verdict : RULE_ACCEPT;
}

void rule_format(char *buf, const struct rule *r)
{
  char ip[IP_FMT], num[FMT_ULONG];
  unsigned bits = r->v4 ? r->bits - 96u : r->bits;
  ip_format(ip, r->ip);
  num[fmt_ulong(num, bits)] = 0;
  strcpy(buf, rule_verdict_name(r->verdict));
  strcat(buf, " ");
  strcat(buf, ip);
  strcat(buf, "/");
  strcat(buf, num);
}

/* ---- control/transfermode */

int transfermode_parse(int *mode, ctl_file *f, config_errfn err)
{
  char *line, *p, *w;
  size_t len;
  int errors = 0, seen = 0, m = XFER_BOTH, i;
  while (ctl_next(f, &line, &len)) {
    const char *e = 0;
    p = line;
    w = ctl_word(&p);
    if (!w) e = "empty value";                   /* a line of NUL bytes */
    else if (ctl_word(&p)) e = "extra words after the value";
    else if (seen) e = "only one line allowed";
    else if ((i = name_index(w, mode_names, XFER_NONE + 1)) < 0)
      e = error_word("unknown transfer mode", w, " (both, inbound, outbound, none)");
    else m = i;
    seen = 1;
    if (e) { errors++; if (err) err("transfermode", f->lineno, e); }
  }
  if (!errors) *mode = m;
  return errors;
}

int transfermode_load(int *mode, config_errfn err)
{
  ctl_file f = {0};
  int r = ctl_open(&f, "transfermode"), e;
  if (r < 0) {
    e = errno;
    if (err) err("transfermode", 0, "unable to read");
    ctl_close(&f);
    errno = e;
    return -1;
  }
  if (r == 0) { ctl_close(&f); *mode = XFER_BOTH; return 0; }
  r = transfermode_parse(mode, &f, err);
  ctl_close(&f);
  return r;
}

int transfermode_check_text(const char *text, size_t len, config_errfn err)
{
  ctl_file f = {0};
  int m, r;
  ctl_openmem(&f, "transfermode", text, len);
  r = transfermode_parse(&m, &f, err);
  ctl_close(&f);
  return r;
}
