/*
 * dmarc.c -- DMARC records, discovery and evaluation (see dmarc.h).
 */
#include <string.h>
#include <strings.h>
#include "dmarc.h"

const char *const dmarc_policy_name[] = { "none", "quarantine", "reject" };
const char *const dmarc_result_name[] = { "none", "pass", "fail", "temperror", "permerror" };

static int value_is(const struct dkim_tag *t, const char *v)
{
  size_t n = strlen(v), i;
  if (t->vlen != n) return 0;
  for (i = 0; i < n; i++) {
    char c = t->val[i] >= 'A' && t->val[i] <= 'Z' ? t->val[i] + 32 : t->val[i];
    if (c != v[i]) return 0;
  }
  return 1;
}

static int policy(const struct dkim_tag *t, enum dmarc_policy *p)
{
  if (value_is(t, "none")) *p = DMARC_P_NONE;
  else if (value_is(t, "quarantine")) *p = DMARC_P_QUARANTINE;
  else if (value_is(t, "reject")) *p = DMARC_P_REJECT;
  else return -1;
  return 0;
}

static int mode(const struct dkim_tag *t, int *strict)
{
  if (!t) return 0;
  if (value_is(t, "s")) *strict = 1;
  else if (value_is(t, "r")) *strict = 0;
  else return -1;
  return 0;
}

static int percent(const struct dkim_tag *t, unsigned *pct)
{
  size_t i;
  *pct = 100;
  if (!t) return 0;
  if (!t->vlen || t->vlen > 3) return -1;
  for (*pct = 0, i = 0; i < t->vlen; i++) {
    if (t->val[i] < '0' || t->val[i] > '9') return -1;
    *pct = *pct * 10 + (unsigned)(t->val[i] - '0');
  }
  return *pct > 100 ? -1 : 0;
}

int dmarc_parse(struct dmarc_record *r, const char *txt, size_t len, const char **why)
{
  struct dkim_tag t[DKIM_TAGS_MAX];
  const struct dkim_tag *x;
  int n = dkim_tags(txt, len, t, DKIM_TAGS_MAX, why);
  memset(r, 0, sizeof *r);
  if (n < 1 || !value_is(&t[0], "dmarc1") || t[0].nlen != 1 || t[0].name[0] != 'v') {
    if (n >= 0) *why = "not a DMARC1 record";
    return -1;
  }
  if ((x = dkim_tag_get(t, n, "p"))) { if (policy(x, &r->p) < 0) { *why = "bad p="; return -1; } }
  else if (!dkim_tag_get(t, n, "rua")) { *why = "no p="; return -1; }
  r->sp = r->p;
  if ((x = dkim_tag_get(t, n, "sp"))) {
    if (policy(x, &r->sp) < 0) { *why = "bad sp="; return -1; }
    r->has_sp = 1;
  }
  if (mode(dkim_tag_get(t, n, "adkim"), &r->adkim_strict) < 0) { *why = "bad adkim="; return -1; }
  if (mode(dkim_tag_get(t, n, "aspf"), &r->aspf_strict) < 0) { *why = "bad aspf="; return -1; }
  if (percent(dkim_tag_get(t, n, "pct"), &r->pct) < 0) { *why = "bad pct="; return -1; }
  return 0;
}

/* the records at _dmarc.domain: 1 one found (in f), 0 none, -1 (status set) */
static int at(struct dmarc_found *f, const char *domain, dkim_txt_fn *txt, void *ctx)
{
  stralloc name = {0}, recs = {0};
  size_t pos = 0;
  int r, found = 0, bad = 0;
  const char *why = 0;
  if (!stralloc_copys(&name, "_dmarc.") || !stralloc_cats(&name, domain) || !stralloc_0(&name)) r = -1;
  else r = txt(ctx, name.s, &recs);
  while (r > 0 && pos < recs.len) {
    size_t n = strlen(recs.s + pos);
    struct dmarc_record rec;
    const char *w;
    if (n >= 8 && !strncasecmp(recs.s + pos, "v=DMARC1", 8)) {
      if (dmarc_parse(&rec, recs.s + pos, n, &w) == 0) { if (!found++) f->rec = rec; }
      else { bad = 1; why = w; }
    }
    pos += n + 1;
  }
  stralloc_free(&name);
  stralloc_free(&recs);
  if (r < 0) { f->status = DMARC_TEMPERROR; f->why = "DNS lookup failed"; return -1; }
  if (found > 1 || (found && bad)) { f->status = DMARC_NONE; f->why = "more than one DMARC record"; return -1; }
  if (!found && bad) { f->status = DMARC_PERMERROR; f->why = why; return -1; }
  if (!found) return 0;
  f->status = DMARC_PASS;
  strncpy(f->where, domain, sizeof f->where - 1);
  return 1;
}

void dmarc_discover(struct dmarc_found *f, const char *from, const struct psl *psl, dkim_txt_fn *txt, void *ctx)
{
  const char *org = from + psl_org(psl, from);
  memset(f, 0, sizeof *f);
  f->status = DMARC_NONE;
  f->why = "no DMARC record";
  if (at(f, from, txt, ctx) != 0 || org == from) return;
  at(f, org, txt, ctx);
}

static int aligned(const char *a, const char *b, int strict, const struct psl *psl)
{
  if (!a || !b) return 0;
  if (!strcasecmp(a, b)) return 1;
  return !strict && !strcasecmp(a + psl_org(psl, a), b + psl_org(psl, b));
}

void dmarc_evaluate(struct dmarc_verdict *v, const struct dmarc_found *f, const struct dmarc_input *in,
                    const struct psl *psl, unsigned roll)
{
  int k;
  memset(v, 0, sizeof *v);
  if (f->status != DMARC_PASS) { v->result = f->status; return; }
  v->by_spf = in->spf_pass && aligned(in->spf_domain, in->from, f->rec.aspf_strict, psl);
  for (k = 0; k < in->ndkim; k++)
    if (in->dkim[k].result == DKIM_PASS && aligned(in->dkim[k].domain, in->from, f->rec.adkim_strict, psl)) v->by_dkim = 1;
  v->result = v->by_spf || v->by_dkim ? DMARC_PASS : DMARC_FAIL;
  if (v->result == DMARC_PASS) return;
  v->policy = f->rec.has_sp && strcasecmp(f->where, in->from) ? f->rec.sp : f->rec.p;
  if (roll >= f->rec.pct && v->policy != DMARC_P_NONE)
    v->policy = v->policy == DMARC_P_REJECT ? DMARC_P_QUARANTINE : DMARC_P_NONE;   /* RFC 7489 6.6.4 */
}
