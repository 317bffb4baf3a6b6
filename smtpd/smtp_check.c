/*
 * smtp_check.c -- SPF, DKIM and DMARC checks of inbound mail in an
 * imc-smtpd session (see smtp_check.h).
 *
 * Who is checked: with control/authpolicy's checks=on (the default), every
 * session whose client neither relays (control/rules) nor authenticated.
 *
 *   MAIL    SPF (lib/spf.h) for MAIL FROM's domain, or postmaster@HELO for
 *           the null sender.  fail: 550 5.7.23 with spffail=reject, else
 *           marked; temperror: 451 4.7.24 with temperror=defer.
 *   DATA    the header section is held until its empty line, or until a
 *           line that is neither a field nor a continuation line (that line
 *           begins the body, as other MTAs read it); then every
 *           DKIM-Signature in it starts a body hash (lib/dkim.h) and the
 *           body is hashed as it streams on to imc-queue.
 *   end     the keys are fetched and the signatures checked; DMARC
 *           (lib/dmarc.h) for From:'s domain with the Public Suffix List
 *           (lib/psl.h, loaded once per process on first use).  A DMARC
 *           fail whose policy (after pct=) is reject: 550 5.7.1 with
 *           dmarcreject=reject (the default), else marked.  temperror=defer:
 *           451 4.4.3 when a DNS temporary error left DMARC short of pass.
 *           Otherwise the message is queued with one Authentication-Results
 *           field on top, above the Received line.
 *
 * Internationalized domains (RFC 6531): MAIL FROM's domain and From:'s
 * are looked up in their A-label form (lib/idna.h), as SPF and DMARC
 * records are published (RFC 8616).
 *
 * DNS: one dnsq cache per session (lib/dnsq.h: a name asked twice is asked
 * once), servers from DNSCACHEIP or /etc/resolv.conf; each phase (MAIL;
 * the end of DATA) has CHECK_DEADLINE_MS in all, each try its own timeout.
 *
 * Every session, checked or not: Authentication-Results fields whose
 * authserv-id is control/me are removed from the header section (RFC 8601
 * section 5), so that nothing from outside can speak in this host's name.
 * The header section is bounded: over CHECK_HEAD_MAX octets or
 * DKIM_FIELDS_MAX fields the message is refused (552 5.3.4).  In a
 * transaction with SMTPUTF8 the header section may hold UTF-8 (RFC 6532),
 * which must be well-formed: else 554 5.6.0.
 *
 * Memory: the verification, the cache and the header are this module's
 * statics and heap; check_forget wipes and frees them after a session.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include "diag.h"
#include "dkim.h"
#include "dmarc.h"
#include "dnsq.h"
#include "idna.h"
#include "log.h"
#include "message.h"
#include "psl.h"
#include "qframe.h"
#include "rules.h"
#include "smtp_check.h"
#include "smtpd.h"
#include "spf.h"
#include "utf8.h"

/* DNS and the PSL: the process's, kept across sessions */
static struct dnsq_servers servers;
static int servers_state;            /* 0 not read, 1 usable, -1 no server */
static struct psl psl;
static int psl_loaded;

/* one session's */
static struct dnsq_cache cache;
static int cache_on;
static int active;                   /* this transaction is checked */
static struct spf_outcome spf;
static int spf_done;

/* one message's */
static stralloc head;                /* the header section as it arrived */
static int in_head, head_over;
static size_t line_at;             /* where the line being read starts in head */
static const char *me;               /* control/me, for the forged-field test */
static struct dkim_verify dv;
static int dv_on, dv_nomem;
static struct dkim_field fields[DKIM_FIELDS_MAX];

static void dns_ready(void)
{
  if (!servers_state) servers_state = dnsq_servers_init(&servers, getenv("DNSCACHEIP")) == 0 ? 1 : -1;
  if (!cache_on) {
    dnsq_cache_init(&cache, &servers, 0);
    cache_on = 1;
  }
  cache.deadline = dnsq_now() + CHECK_DEADLINE_MS;
}

/* ---- MAIL: SPF */

static char reply[400];

/* text for a reply: printable ASCII, at most cap - 1 octets */
static void clean_cat(char *buf, size_t cap, const char *s, size_t n)
{
  size_t o = strlen(buf), i;
  for (i = 0; i < n && o + 1 < cap; i++) buf[o++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
  buf[o] = 0;
}

static const char *mail_reply(const char *code, const char *text, const stralloc *why)
{
  reply[0] = 0;
  clean_cat(reply, sizeof reply, code, strlen(code));
  clean_cat(reply, sizeof reply, text, strlen(text));
  if (why && why->len) {
    clean_cat(reply, sizeof reply, ": ", 2);
    clean_cat(reply, sizeof reply, why->s, why->len);
  }
  return reply;
}

/* addr with a UTF-8 domain as LOCAL@A-LABELS in buf (lib/idna.h), the form
   its DNS records have; addr itself when its domain is ASCII or will not
   convert (the lookup then finds nothing) */
static const char *dns_form(const char *addr, char *buf, size_t cap)
{
  size_t len = str_len(addr), at = str_rchr(addr, '@');
  if (at == len || at + 1 >= cap || !utf8_has8bit(addr + at + 1, len - at - 1)) return addr;
  byte_copy(buf, at + 1, addr);
  return idna_to_ascii(addr + at + 1, len - at - 1, buf + at + 1, cap - at - 1) < 0 ? addr : buf;
}

static void spf_run(struct session *s)
{
  char a[SMTP_ADDR_MAX * 4 + 1];
  struct spf_request q;
  memset(&q, 0, sizeof q);
  spf_outcome_free(&spf);
  memset(&spf, 0, sizeof spf);
  spf_done = 1;
  if (!ip_scan(s->remoteip, q.ip) || servers_state < 0) {
    spf.result = SPF_TEMPERROR;
    stralloc_copys(&spf.problem, servers_state < 0 ? "no DNS server" : "client address unknown");
    return;
  }
  q.helo = s->helo;
  q.receiver = s->cfg.me.s;
  q.now = (unsigned long)time(0);
  q.lookup = dnsq_lookup;
  q.ctx = &cache;
  spf_check_mailfrom(&q, dns_form(s->sender.addr, a, sizeof a), &spf);
}

const char *check_mail(struct session *s)
{
  active = s->cfg.authchecks && !s->relay && !s->authed;
  spf_done = 0;
  if (!active) return 0;
  dns_ready();
  spf_run(s);
  log_event(LOG_SMTP, LEVEL_MAXIMUM, s->remoteip, " spf=", spf_result_name(spf.result), " mail=<",
            s->sender.addr, ">");
  if (spf.result == SPF_FAIL && s->cfg.spffail_reject)
    return mail_reply("550 5.7.23 ", "SPF check failed: the sender's domain does not allow this host",
                      spf.explanation.len ? &spf.explanation : &spf.mechanism);
  if (spf.result == SPF_TEMPERROR && s->cfg.temperror_defer)
    return mail_reply("451 4.7.24 ", "SPF check could not be completed, try again later", &spf.problem);
  return 0;
}

/* ---- DATA: the header section */

/* SMTPUTF8: the header section must be well-formed UTF-8; it was not */
static int head_utf8, head_bad_utf8;

void check_text_begin(struct session *s)
{
  head_utf8 = s->sender.smtputf8;
  head_bad_utf8 = 0;
  head.len = 0;
  in_head = 1;
  head_over = 0;
  line_at = 0;
  me = s->cfg.me.s;
  if (dv_on) dkim_verify_free(&dv);
  dv_on = dv_nomem = 0;
}

/* skips CFWS (RFC 5322: spaces, folding, nested comments) from p */
static size_t skip_cfws(const char *v, size_t n, size_t p)
{
  int depth = 0;
  for (; p < n; p++) {
    char c = v[p];
    if (depth && c == '\\') { p++; continue; }
    if (c == '(') depth++;
    else if (c == ')' && depth) depth--;
    else if (!depth && c != ' ' && c != '\t' && c != '\n') break;
  }
  return p;
}

/* an Authentication-Results field whose authserv-id is this host's name */
static int forged(const struct dkim_field *f)
{
  const char *v;
  size_t n, p, start, len = strlen(me);
  if (!dkim_field_is(f, "authentication-results")) return 0;
  v = memchr(f->s, ':', f->len) + 1;
  n = f->len - (size_t)(v - f->s);
  p = skip_cfws(v, n, 0);
  if (p < n && v[p] == '"') {
    start = ++p;
    while (p < n && v[p] != '"') p++;
  } else {
    start = p;
    while (p < n && v[p] != ';' && v[p] != '(' && v[p] != ' ' && v[p] != '\t' && v[p] != '\n') p++;
  }
  return p - start == len && !strncasecmp(v + start, me, len);
}

/* a line that may be in the header section: a field's first line
   (NAME [WSP] ":", NAME printable ASCII without ':') or, after one, a
   continuation line (starting with WSP); the empty line is neither */
static int field_line(const char *s, size_t n, int first)
{
  size_t i = 0;
  if (n && (s[0] == ' ' || s[0] == '\t')) return !first;
  while (i < n && s[i] > 32 && s[i] < 127 && s[i] != ':') i++;
  if (!i) return 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
  return i < n && s[i] == ':';
}

/* the header section is head[0..hl) (with its empty line, if it had one):
   its fields go on without the forged ones, and what follows in head is the
   body's beginning */
static void head_done(size_t hl, check_emit out)
{
  size_t dummy, from = 0;
  int nf, k;
  in_head = 0;
  if (head_over) return;
  if (head_utf8 && !utf8_wellformed(head.s, hl)) head_bad_utf8 = 1;
  nf = dkim_fields(head.s, hl, fields, DKIM_FIELDS_MAX, &dummy);
  if (nf < 0) { head_over = 1; return; }
  if (active) {
    if (dkim_verify_start(&dv, head.s, hl) == 0) dv_on = 1;
    else dv_nomem = 1;
  }
  for (k = 0; k < nf; k++) {
    size_t at = (size_t)(fields[k].s - head.s), end = at + fields[k].len;
    if (!forged(&fields[k])) continue;
    if (end < hl && head.s[end] == '\r') end++;     /* dkim_fields leaves a CR out */
    if (end < hl && head.s[end] == '\n') end++;
    out(head.s + from, at - from);
    from = end;
  }
  out(head.s + from, hl - from);
  if (hl < head.len) {
    out(head.s + hl, head.len - hl);
    if (dv_on) dkim_verify_body(&dv, head.s + hl, head.len - hl);
  }
}

/* a complete line was added at head[line_at..]: does the header go on? */
static void head_line(check_emit out)
{
  const char *l = head.s + line_at;
  size_t n = head.len - line_at;
  if (n == 1) { head_done(head.len, out); return; }       /* the empty line */
  if (!field_line(l, n, line_at == 0)) { head_done(line_at, out); return; }
  line_at = head.len;
}

void check_text(const char *p, size_t n, check_emit out)
{
  while (n && in_head) {
    const char *nl = memchr(p, '\n', n);
    size_t take = nl ? (size_t)(nl - p) + 1 : n;
    if (!head_over && (head.len + take > CHECK_HEAD_MAX || !stralloc_catb(&head, p, take))) head_over = 1;
    p += take;
    n -= take;
    if (head_over) return;                   /* refused at the end: nothing more goes on */
    if (nl) head_line(out);
  }
  if (!n || head_over) return;
  out(p, n);
  if (dv_on) dkim_verify_body(&dv, p, n);
}

void check_text_end(check_emit out)
{
  if (!in_head) return;
  if (!head.len) { in_head = 0; return; }     /* an empty message */
  if (line_at < head.len && !field_line(head.s + line_at, head.len - line_at, line_at == 0)) head_done(line_at, out);
  else head_done(head.len, out);
}

/* ---- the end: DKIM, DMARC, the header */

/* a property value: as it is when it is a plain token, else a quoted string
   (RFC 8601 pvalue / RFC 2045 value) with anything unprintable as '?' */
static void put_value(stralloc *sa, const char *s)
{
  size_t i, n = strlen(s);
  int plain = n > 0;
  for (i = 0; i < n && plain; i++)
    plain = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')
            || s[i] == '.' || s[i] == '-' || s[i] == '_' || s[i] == '@' || s[i] == '+';
  if (plain) { stralloc_catb(sa, s, n); return; }
  stralloc_append(sa, "\"");
  for (i = 0; i < n && i < 256; i++) {
    char c = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (c == '"' || c == '\\') stralloc_append(sa, "\\");
    stralloc_append(sa, &c);
  }
  stralloc_append(sa, "\"");
}

/* From:'s domain, lower case (a UTF-8 one in A-labels), into d: 1, or 0 with *why */
static int from_domain(char *d, size_t cap, const char **why)
{
  stralloc a = {0};
  const char *at, *first = 0;
  char u[256];                  /* the domain as written, lower case */
  size_t pos = 0;
  int n = msghead_addresses(&head, "From", &a), ok = 0;
  *why = "no From: address";
  if (n > 0) {
    ok = 1;
    for (; pos < a.len; pos += strlen(a.s + pos) + 1) {
      at = strrchr(a.s + pos, '@');
      if (!at || !at[1] || strlen(at + 1) >= cap || strlen(at + 1) >= sizeof u) { ok = 0; *why = "a From: address without a domain"; break; }
      if (first && strcasecmp(first, at + 1)) { ok = 0; *why = "From: addresses of several domains"; break; }
      first = at + 1;
    }
  }
  if (ok) {
    size_t i;
    for (i = 0; first[i]; i++) u[i] = first[i] >= 'A' && first[i] <= 'Z' ? first[i] + 32 : first[i];
    u[i] = 0;
    if (i && u[i - 1] == '.') u[--i] = 0;
    if (!utf8_has8bit(u, i)) byte_copy(d, i + 1, u);
    else if (idna_to_ascii(u, i, d, cap) < 0) { ok = 0; *why = "a From: domain that is not a valid U-label name"; }
  }
  stralloc_free(&a);
  return ok;
}

static void psl_ready(void)
{
  if (psl_loaded) return;
  psl_loaded = 1;
  if (psl_load(&psl, PSL_FILE) == 0) return;
  warnsys("unable to read " PSL_FILE " (Debian package publicsuffix): organizational domains are the last two labels");
  psl_load_text(&psl, "", 0);
}

static unsigned roll(void)
{
  unsigned short r = 0;
  if (getrandom(&r, sizeof r, 0) != sizeof r) r = (unsigned short)dnsq_now();
  return r % 100;
}

struct dmarc_out {
  char from[256];
  const char *why;              /* permerror without a From: domain */
  struct dmarc_found found;
  struct dmarc_verdict v;
};

static void dmarc_run(struct session *s, struct dmarc_out *o)
{
  struct dmarc_input in;
  memset(o, 0, sizeof *o);
  if (!from_domain(o->from, sizeof o->from, &o->why)) { o->v.result = DMARC_PERMERROR; return; }
  psl_ready();
  dmarc_discover(&o->found, o->from, &psl, dnsq_txt, &cache);
  memset(&in, 0, sizeof in);
  in.from = o->from;
  in.spf_pass = spf_done && spf.result == SPF_PASS;
  in.spf_domain = spf.domain.len ? spf.domain.s : s->helo;
  in.dkim = dv.res;
  in.ndkim = dv_on ? dv.nsig : 0;
  dmarc_evaluate(&o->v, &o->found, &in, &psl, roll());
}

static void ar_spf(stralloc *ar, const struct session *s)
{
  stralloc_cats(ar, ";\n\tspf=");
  stralloc_cats(ar, spf_result_name(spf.result));
  if (spf.mechanism.len && stralloc_0(&spf.mechanism)) {
    spf.mechanism.len--;
    stralloc_cats(ar, " reason=");
    put_value(ar, spf.mechanism.s);
  }
  if (s->sender.len) {
    stralloc_cats(ar, " smtp.mailfrom=");
    put_value(ar, s->sender.addr);
  } else {
    stralloc_cats(ar, " smtp.helo=");
    put_value(ar, s->helo);
  }
}

static void ar_dkim(stralloc *ar)
{
  int k;
  if (!dv_on || !dv.nsig) { stralloc_cats(ar, ";\n\tdkim=none"); return; }
  for (k = 0; k < dv.nsig; k++) {
    const struct dkim_check *c = &dv.res[k];
    stralloc_cats(ar, ";\n\tdkim=");
    stralloc_cats(ar, dkim_result_name[c->result]);
    if (c->result != DKIM_PASS && c->why) { stralloc_cats(ar, " reason="); put_value(ar, c->why); }
    if (c->domain[0]) { stralloc_cats(ar, " header.d="); put_value(ar, c->domain); }
    if (c->selector[0]) { stralloc_cats(ar, " header.s="); put_value(ar, c->selector); }
    if (c->bshort[0]) { stralloc_cats(ar, " header.b="); put_value(ar, c->bshort); }
  }
}

static void ar_dmarc(stralloc *ar, const struct dmarc_out *o)
{
  stralloc_cats(ar, ";\n\tdmarc=");
  stralloc_cats(ar, dmarc_result_name[o->v.result]);
  if (o->v.result == DMARC_PERMERROR || o->v.result == DMARC_TEMPERROR) {
    const char *why = o->why ? o->why : o->found.why;
    if (why) { stralloc_cats(ar, " reason="); put_value(ar, why); }
  }
  if (o->found.status == DMARC_PASS) {
    stralloc_cats(ar, " (p=");
    stralloc_cats(ar, dmarc_policy_name[o->found.rec.p]);
    stralloc_cats(ar, " dis=");
    stralloc_cats(ar, o->v.result == DMARC_FAIL ? dmarc_policy_name[o->v.policy] : "none");
    stralloc_cats(ar, ")");
  }
  if (o->from[0]) { stralloc_cats(ar, " header.from="); put_value(ar, o->from); }
}

/* the best DKIM result for the log: pass when one passed, else the first */
static const char *dkim_summary(void)
{
  int k;
  if (!dv_on || !dv.nsig) return "none";
  for (k = 0; k < dv.nsig; k++) if (dv.res[k].result == DKIM_PASS) return "pass";
  return dkim_result_name[dv.res[0].result];
}

static int dkim_temp(void)
{
  int k;
  for (k = 0; dv_on && k < dv.nsig; k++) if (dv.res[k].result == DKIM_TEMPERROR) return 1;
  return 0;
}

static const char *dmarc_refusal(const char *from)
{
  static const char why[] = ": neither SPF nor DKIM passed for an aligned domain";
  mail_reply("550 5.7.1 ", "message refused by the DMARC policy of ", 0);
  clean_cat(reply, sizeof reply, from, strlen(from));
  clean_cat(reply, sizeof reply, why, sizeof why - 1);
  return reply;
}

const char *check_verdict(struct session *s, stralloc *top, stralloc *log)
{
  struct dmarc_out o;
  top->len = log->len = 0;
  if (head_over) return "552 5.3.4 message header section too big (over 1 MB or 1000 fields)";
  if (head_bad_utf8) return "554 5.6.0 the header section is not valid UTF-8 (RFC 6532)";
  if (!active) return 0;
  if (dv_nomem) return "451 4.3.0 out of memory, try again later";
  dns_ready();
  if (dv_on) dkim_verify_finish(&dv, dnsq_txt, &cache, (unsigned long long)time(0));
  dmarc_run(s, &o);
  stralloc_cats(top, "Authentication-Results: ");
  stralloc_cats(top, s->cfg.me.s);
  ar_spf(top, s);
  ar_dkim(top);
  ar_dmarc(top, &o);
  stralloc_cats(top, "\n");
  stralloc_cats(log, " spf=");
  stralloc_cats(log, spf_result_name(spf.result));
  stralloc_cats(log, " dkim=");
  stralloc_cats(log, dkim_summary());
  stralloc_cats(log, " dmarc=");
  stralloc_cats(log, dmarc_result_name[o.v.result]);
  stralloc_0(log);
  if (o.v.result == DMARC_FAIL && o.v.policy == DMARC_P_REJECT && s->cfg.dmarcreject) return dmarc_refusal(o.from);
  if (s->cfg.temperror_defer && o.v.result != DMARC_PASS
      && (spf.result == SPF_TEMPERROR || dkim_temp() || o.v.result == DMARC_TEMPERROR))
    return "451 4.4.3 temporary DNS failure while checking the message, try again later";
  if (top->len > QFRAME_TOP_MAX) top->len = 0;
  return 0;
}

static void wipe_sa(stralloc *sa)
{
  if (sa->s) explicit_bzero(sa->s, sa->a);
  stralloc_free(sa);
}

void check_forget(void)
{
  if (dv_on) dkim_verify_free(&dv);
  explicit_bzero(&dv, sizeof dv);
  dv_on = dv_nomem = 0;
  if (cache_on) dnsq_cache_free(&cache);
  cache_on = 0;
  spf_outcome_free(&spf);
  memset(&spf, 0, sizeof spf);
  spf_done = active = 0;
  wipe_sa(&head);
  in_head = head_over = 0;
}
