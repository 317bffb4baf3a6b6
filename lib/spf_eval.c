/*
 * spf_eval.c -- check_host() of RFC 7208 (see spf.h): the record of a
 * domain, its terms in order, include and redirect, the limits, the
 * explanation of a fail.
 *
 * Inputs: the request (client address, HELO, this host's name, the time,
 * the DNS lookup function) and the domain and sender.  Output: the result
 * and the outcome's texts.  Failure modes: every DNS temporary failure or
 * malformed answer is temperror; a record's syntax, a limit exceeded, an
 * include or redirect without a record are permerror; out of memory is
 * temperror.  Bounded: SPF_LOOKUP_MAX DNS-querying terms in all (so at
 * most that depth of include and redirect), SPF_VOID_MAX void lookups,
 * SPF_MX_MAX and SPF_PTR_MAX names per mx and ptr.
 */
#include <string.h>
#include "spf.h"
#include "rules.h"

#define ERR_TEMP (-1)
#define ERR_PERM (-2)

struct eval {
  const struct spf_request *q;
  struct spf_outcome *o;
  struct spf_macro_vars mv;
  stralloc pname;              /* %{p}, once found */
  int pdone, v4;
};

/* the strings, up to a null pointer, as the outcome's problem */
static void problem(struct eval *e, const char *a, const char *b, const char *c)
{
  stralloc *p = &e->o->problem;
  if (stralloc_copys(p, a) && stralloc_cats(p, b ? b : "") && stralloc_cats(p, c ? c : "") && stralloc_0(p)) p->len--;
}

static int set_text(stralloc *sa, const char *s, size_t len)
{
  if (!stralloc_copyb(sa, s, len) || !stralloc_0(sa)) return 0;
  sa->len--;
  return 1;
}

static int nomem(struct eval *e) { problem(e, "out of memory", 0, 0); return ERR_TEMP; }

/* ---- DNS */

/* a lookup; void ones (no record, no such name, a name that cannot be asked) counted
   when count_void: 0 answered (r->n records), ERR_TEMP, ERR_PERM */
static int ask(struct eval *e, const char *name, unsigned type, struct dnsq_result *r, int count_void)
{
  int s = e->q->lookup(e->q->ctx, name, type, r);
  if (s == DNSQ_TEMP || s == DNSQ_MALFORMED) {
    problem(e, s == DNSQ_TEMP ? "DNS temporary failure looking up " : "malformed DNS answer for ", name, 0);
    return ERR_TEMP;
  }
  if (s != DNSQ_OK) r->n = 0;
  if (r->n || !count_void) return 0;
  if (++e->o->voids > SPF_VOID_MAX) {
    problem(e, "more than 2 void DNS lookups (the last: ", name, ")");
    return ERR_PERM;
  }
  return 0;
}

static int count_lookup(struct eval *e)
{
  if (++e->o->lookups <= SPF_LOOKUP_MAX) return 0;
  problem(e, "more than 10 DNS-querying terms", 0, 0);
  return ERR_PERM;
}

/* does one of name's A (AAAA for an IPv6 client) records hold the client within the CIDR? */
static int addr_match(struct eval *e, const char *name, unsigned c4, unsigned c6, int count_void)
{
  struct dnsq_result r = {0, {0, 0, 0}, 0};
  const char *d;
  size_t pos = 0, len;
  unsigned char ip[16] = {0,0,0,0, 0,0,0,0, 0,0,0xff,0xff};
  int rc = ask(e, name, e->v4 ? DNSQ_A : DNSQ_AAAA, &r, count_void), m = 0;
  while (rc == 0 && !m && dnsq_next(&r, &pos, &d, &len)) {
    if (len != (e->v4 ? 4u : 16u)) continue;
    memcpy(e->v4 ? ip + 12 : ip, d, len);
    m = ip_prefix_equal(ip, e->q->ip, e->v4 ? 96 + c4 : c6);
  }
  dnsq_result_free(&r);
  return rc < 0 ? rc : m;
}

static int mx_match(struct eval *e, const char *name, unsigned c4, unsigned c6)
{
  static stralloc host;
  struct dnsq_result r = {0, {0, 0, 0}, 0};
  const char *d;
  size_t pos = 0, len;
  int rc = ask(e, name, DNSQ_MX, &r, 1);
  if (rc == 0 && r.n > SPF_MX_MAX) { problem(e, "more than 10 MX records at ", name, 0); rc = ERR_PERM; }
  while (rc == 0 && dnsq_next(&r, &pos, &d, &len)) {
    if (len < 3) continue;
    if (!set_text(&host, d + 2, len - 2)) { rc = nomem(e); break; }
    rc = addr_match(e, host.s, c4, c6, 1);
    if (rc == 1) break;
  }
  dnsq_result_free(&r);
  return rc;
}

/* the client's name under in-addr.arpa or ip6.arpa */
static int reverse_name(const unsigned char *ip, int v4, stralloc *out)
{
  static const char hex[] = "0123456789abcdef";
  int i;
  out->len = 0;
  if (v4) {
    for (i = 15; i >= 12; i--) if (!stralloc_catulong0(out, ip[i], 0) || !stralloc_append(out, ".")) return 0;
    return stralloc_cats(out, "in-addr.arpa") && stralloc_0(out);
  }
  for (i = 15; i >= 0; i--) {
    char n[4] = { hex[ip[i] & 15], '.', hex[ip[i] >> 4], '.' };
    if (!stralloc_catb(out, n, 4)) return 0;
  }
  return stralloc_cats(out, "ip6.arpa") && stralloc_0(out);
}

/* the client's validated names (RFC 7208 5.5): NUL-separated into names */
static int validated(struct eval *e, stralloc *names, int count_void)
{
  static stralloc rev, host;
  struct dnsq_result r = {0, {0, 0, 0}, 0};
  const char *d;
  size_t pos = 0, len;
  unsigned n = 0;
  int rc;
  names->len = 0;
  if (!reverse_name(e->q->ip, e->v4, &rev)) return nomem(e);
  rc = ask(e, rev.s, DNSQ_PTR, &r, count_void);
  if (rc == ERR_TEMP) rc = 0;                       /* an error is no match (5.5) */
  while (rc == 0 && n++ < SPF_PTR_MAX && dnsq_next(&r, &pos, &d, &len)) {
    if (!set_text(&host, d, len)) { rc = nomem(e); break; }
    rc = addr_match(e, host.s, 32, 128, count_void);
    if (rc == ERR_TEMP) rc = 0;                     /* that name skipped */
    else if (rc == 1 && !(rc = 0) && !stralloc_catb(names, host.s, host.len + 1)) rc = nomem(e);
  }
  dnsq_result_free(&r);
  return rc;
}

/* name is target or a subdomain of it */
static int within(const char *name, const char *target)
{
  size_t n = str_len(name), t = str_len(target);
  if (n && name[n - 1] == '.') n--;
  if (t && target[t - 1] == '.') t--;
  if (n == t) return !case_diffb(name, n, target);
  return n > t && name[n - t - 1] == '.' && !case_diffb(name + n - t, t, target);
}

static int ptr_match(struct eval *e, const char *target)
{
  static stralloc names;
  size_t i;
  int rc = validated(e, &names, 1);
  if (rc < 0) return rc;
  for (i = 0; i < names.len; i += str_len(names.s + i) + 1)
    if (within(names.s + i, target)) return 1;
  return 0;
}

/* %{p}: a validated name that is the domain, else one within it, else any, else "unknown" */
static int p_value(void *ctx, stralloc *out)
{
  struct eval *e = ctx;
  static stralloc names;
  size_t i, best = 0;
  int rank = 0, k;
  if (!e->pdone) {
    e->pdone = 1;
    e->pname.len = 0;
    if (validated(e, &names, 0) < 0) names.len = 0;
    for (i = 0; i < names.len; i += str_len(names.s + i) + 1) {
      k = !case_diffs(names.s + i, e->mv.d) ? 3 : within(names.s + i, e->mv.d) ? 2 : 1;
      if (k > rank) { rank = k; best = i; }
    }
    if (rank && !stralloc_cats(&e->pname, names.s + best)) return 0;
  }
  return e->pname.len ? stralloc_cat(out, &e->pname) : stralloc_cats(out, "unknown");
}

/* ---- records and terms */

static int check_host(struct eval *e, const char *domain, int in_include);

/* the domain-spec of a term expanded into out, or the current domain */
static int target(struct eval *e, const struct spf_term *t, stralloc *out)
{
  int nm;
  if (!t->arg) return set_text(out, e->mv.d, str_len(e->mv.d)) ? 0 : nomem(e);
  if (spf_expand_domain(&e->mv, t->arg, t->alen, out, &nm) == 0) return 0;
  if (nm) return nomem(e);
  problem(e, "bad macro in ", e->mv.d, "'s record");
  return ERR_PERM;
}

static int include_match(struct eval *e, const char *name)
{
  const char *d = e->mv.d;
  int r = check_host(e, name, 1);
  e->mv.d = d;
  switch (r) {
  case SPF_PASS: return 1;
  case SPF_TEMPERROR: return ERR_TEMP;
  case SPF_PERMERROR: return ERR_PERM;
  case SPF_NONE: problem(e, "include: ", name, " has no SPF record"); return ERR_PERM;
  }
  return 0;
}

static int exists_match(struct eval *e, const char *name)
{
  struct dnsq_result r = {0, {0, 0, 0}, 0};
  int rc = ask(e, name, DNSQ_A, &r, 1);
  if (rc == 0) rc = r.n > 0;
  dnsq_result_free(&r);
  return rc;
}

/* a mechanism: 1 matches, 0 not, ERR_TEMP, ERR_PERM */
static int match(struct eval *e, const struct spf_term *t)
{
  stralloc name = {0, 0, 0};
  int rc;
  switch (t->kind) {
  case SPF_T_ALL: return 1;
  case SPF_T_IP4: return e->v4 && ip_prefix_equal(t->ip, e->q->ip, 96 + t->cidr4);
  case SPF_T_IP6: return !e->v4 && ip_prefix_equal(t->ip, e->q->ip, t->cidr6);
  }
  if ((rc = count_lookup(e)) < 0 || (rc = target(e, t, &name)) < 0) { stralloc_free(&name); return rc; }
  switch (t->kind) {
  case SPF_T_A: rc = addr_match(e, name.s, t->cidr4, t->cidr6, 1); break;
  case SPF_T_MX: rc = mx_match(e, name.s, t->cidr4, t->cidr6); break;
  case SPF_T_PTR: rc = ptr_match(e, name.s); break;
  case SPF_T_EXISTS: rc = exists_match(e, name.s); break;
  case SPF_T_INCLUDE: rc = include_match(e, name.s); break;
  default: rc = 0;
  }
  stralloc_free(&name);
  return rc;
}

/* exp=: the explanation of a fail, when there is exactly one TXT record to expand */
static void explain(struct eval *e, const char *spec, size_t len)
{
  static stralloc name, text;
  struct dnsq_result r = {0, {0, 0, 0}, 0};
  const char *d;
  size_t pos = 0, dlen;
  int nm;
  if (spf_expand_domain(&e->mv, spec, len, &name, &nm) < 0) return;
  if (ask(e, name.s, DNSQ_TXT, &r, 0) == 0 && r.n == 1 && dnsq_next(&r, &pos, &d, &dlen)
      && spf_expand(&e->mv, d, dlen, 1, &text, &nm) == 0)
    set_text(&e->o->explanation, text.s ? text.s : "", text.len);
  dnsq_result_free(&r);
}

static int decided(struct eval *e, const char *term, size_t len, int result)
{
  if (!set_text(&e->o->mechanism, term, len) || !set_text(&e->o->where, e->mv.d, str_len(e->mv.d))) {
    problem(e, "out of memory", 0, 0);
    return SPF_TEMPERROR;
  }
  return result;
}

static int redirect(struct eval *e, const struct spf_record_info *info, int in_include)
{
  struct spf_term t;
  stralloc name = {0, 0, 0};
  int rc;
  memset(&t, 0, sizeof t);
  t.arg = info->redirect;
  t.alen = info->redirect_len;
  if ((rc = count_lookup(e)) == 0 && (rc = target(e, &t, &name)) == 0) {
    rc = check_host(e, name.s, in_include);
    if (rc == SPF_NONE) { problem(e, "redirect=", name.s, " has no SPF record"); rc = SPF_PERMERROR; }
  } else rc = rc == ERR_TEMP ? SPF_TEMPERROR : SPF_PERMERROR;
  stralloc_free(&name);
  return rc;
}

/* the terms of a good record, in order */
static int run_record(struct eval *e, const char *rec, size_t len, int in_include)
{
  struct spf_record_info info;
  struct spf_term t;
  size_t pos = 0;
  int m;
  if (spf_record_scan(rec, len, &info) < 0) {
    stralloc_copys(&e->o->problem, "syntax error in the SPF record of ");
    stralloc_cats(&e->o->problem, e->mv.d);
    stralloc_cats(&e->o->problem, ": ");
    stralloc_catb(&e->o->problem, info.bad, info.bad_len);
    if (stralloc_0(&e->o->problem)) e->o->problem.len--;
    return SPF_PERMERROR;
  }
  while (spf_term_next(rec, len, &pos, &t) == 1) {
    if (t.kind >= SPF_T_REDIRECT) continue;
    m = match(e, &t);
    if (m == 0) continue;
    decided(e, t.text, t.len, 0);
    if (m < 0) return m == ERR_TEMP ? SPF_TEMPERROR : SPF_PERMERROR;
    if (t.result == SPF_FAIL && !in_include && info.exp) explain(e, info.exp, info.exp_len);
    return t.result;
  }
  if (info.redirect) return redirect(e, &info, in_include);
  return decided(e, "default", 7, SPF_NEUTRAL);
}

/* RFC 7208 4.3: labels of 1 to 63 bytes, at least two, 253 bytes in all */
static int valid_domain(const char *d)
{
  size_t n = str_len(d), i, label = 0, labels = 1;
  if (n && d[n - 1] == '.') n--;
  if (!n || n > DNSQ_NAME_MAX) return 0;
  for (i = 0; i < n; i++) {
    if (d[i] != '.') { if (++label > 63) return 0; continue; }
    if (!label) return 0;
    label = 0;
    labels++;
  }
  return label && labels >= 2;
}

/* the one SPF record of domain into rec: -1 found, else a result */
static int fetch(struct eval *e, const char *domain, stralloc *rec)
{
  struct dnsq_result r = {0, {0, 0, 0}, 0};
  const char *d;
  size_t pos = 0, len;
  unsigned n = 0;
  int rc;
  if (!valid_domain(domain)) { problem(e, "not a domain name: ", domain, 0); return SPF_NONE; }
  rc = ask(e, domain, DNSQ_TXT, &r, 1);
  while (rc == 0 && dnsq_next(&r, &pos, &d, &len))
    if (spf_is_record(d, len) && n++ == 0 && !stralloc_copyb(rec, d, len)) rc = nomem(e);
  dnsq_result_free(&r);
  if (rc < 0) return rc == ERR_TEMP ? SPF_TEMPERROR : SPF_PERMERROR;
  if (n > 1) { problem(e, "more than one SPF record at ", domain, 0); return SPF_PERMERROR; }
  if (!n) { problem(e, "no SPF record at ", domain, 0); return SPF_NONE; }
  return -1;
}

static int check_host(struct eval *e, const char *domain, int in_include)
{
  stralloc rec = {0, 0, 0};
  int r = fetch(e, domain, &rec);
  e->mv.d = domain;
  if (r < 0) r = run_record(e, rec.s, rec.len, in_include);
  stralloc_free(&rec);
  return r;
}

/* ---- the interface */

const char *spf_result_name(int r)
{
  static const char *const names[] = { "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror" };
  return r >= SPF_NONE && r <= SPF_PERMERROR ? names[r] : "temperror";
}

static void outcome_reset(struct spf_outcome *o)
{
  o->result = SPF_NONE;
  o->lookups = o->voids = 0;
  set_text(&o->mechanism, "", 0);
  set_text(&o->where, "", 0);
  set_text(&o->explanation, "", 0);
  set_text(&o->problem, "", 0);
}

int spf_check_host(const struct spf_request *q, const char *domain, const char *sender, struct spf_outcome *o)
{
  struct eval e;
  size_t at = str_rchr(sender, '@');
  static stralloc local;
  memset(&e, 0, sizeof e);
  e.q = q;
  e.o = o;
  e.v4 = ip_is_v4(q->ip);
  outcome_reset(o);
  if (!set_text(&local, sender, sender[at] ? at : 0) || !set_text(&o->sender, sender, str_len(sender))
      || !set_text(&o->domain, domain, str_len(domain))) {
    problem(&e, "out of memory", 0, 0);
    return o->result = SPF_TEMPERROR;
  }
  e.mv.s = o->sender.s;
  e.mv.l = local.s;
  e.mv.o = sender[at] ? sender + at + 1 : domain;
  e.mv.d = domain;
  e.mv.h = q->helo;
  e.mv.r = q->receiver;
  e.mv.ip = q->ip;
  e.mv.t = q->now;
  e.mv.p = p_value;
  e.mv.pctx = &e;
  o->result = check_host(&e, domain, 0);
  stralloc_free(&e.pname);
  return o->result;
}

int spf_check_mailfrom(const struct spf_request *q, const char *mailfrom, struct spf_outcome *o)
{
  static stralloc sender;
  size_t len = str_len(mailfrom), at;
  if (len >= 2 && mailfrom[0] == '<' && mailfrom[len - 1] == '>') { mailfrom++; len -= 2; }
  sender.len = 0;
  if (!len) {
    if (!stralloc_copys(&sender, "postmaster@") || !stralloc_cats(&sender, q->helo ? q->helo : "")) goto oom;
  } else {
    at = byte_rchr(mailfrom, len, '@');
    if ((at == len || at == 0) && !stralloc_copys(&sender, "postmaster")) goto oom;
    if (at == len && !stralloc_append(&sender, "@")) goto oom;
    if (!stralloc_catb(&sender, mailfrom, len)) goto oom;
  }
  if (!stralloc_0(&sender)) goto oom;
  return spf_check_host(q, sender.s + str_rchr(sender.s, '@') + 1, sender.s, o);
oom:
  outcome_reset(o);
  set_text(&o->problem, "out of memory", 13);
  return o->result = SPF_TEMPERROR;
}

void spf_outcome_free(struct spf_outcome *o)
{
  stralloc_free(&o->sender);
  stralloc_free(&o->domain);
  stralloc_free(&o->mechanism);
  stralloc_free(&o->where);
  stralloc_free(&o->explanation);
  stralloc_free(&o->problem);
}
