/*
 * send_plan.c -- which converted copy each recipient of a message gets
 * (docs/INTERNALS.md section 14), decided when the message is loaded:
 * the inbound profile for a local recipient of mail received over SMTP,
 * the control/domains line of a remote recipient's domain; a profile
 * that would change nothing (lib/convert/need.h) sends the original.
 * Making the copies is the conversion stage's (send_conv.c).  Layer 1 of
 * imc-send (send.h): part of loading a message.
 */
#include <stdlib.h>
#include <string.h>
#include "convert/need.h"
#include "diag.h"
#include "domains.h"
#include "send.h"

static struct domains doms;
static int doms_loaded;

int conv_reload(void)
{
  struct domains fresh;
  memset(&fresh, 0, sizeof fresh);
  if (domains_load(&fresh, config_warn) != 0) {
    domains_free(&fresh);
    warn("control/domains has errors: keeping the old settings");
    if (!doms_loaded) { domains_builtin(&doms.star); doms_loaded = 1; }
    return -1;
  }
  if (doms_loaded) domains_free(&doms);
  doms = fresh;
  doms_loaded = 1;
  return 0;
}

/* a new copy entry for this key: its index, or -1 */
static int cv_add(struct msg *m, const char *key, const char *profile, int needed)
{
  struct cvcopy *v;
  if (m->ncv >= 0xfffe || !(v = realloc(m->cv, (m->ncv + 1) * sizeof *v))) return -1;
  m->cv = v;
  v += m->ncv;
  memset(v, 0, sizeof *v);
  v->fd = -1;
  v->state = needed ? CV_WANTED : CV_SKIP;
  if (!stralloc_copys(&v->key, key) || !stralloc_0(&v->key) || !stralloc_copys(&v->profile, profile)
      || !stralloc_0(&v->profile)) { stralloc_free(&v->key); stralloc_free(&v->profile); return -1; }
  return (int)m->ncv++;
}

/* the profile of recipient i: 0 none, else 1 with its key and settings; the
   domain it is for is a local recipient's address domain, a remote one's target */
static int rcpt_profile(const struct msg *m, unsigned long i, char key[CONV_KEY_MAX],
                        struct domain_settings *s, const char **domain)
{
  const struct qinfo_rcpt *r = &m->q.r[i];
  const char *at = r->address.s ? strrchr(r->address.s, '@') : 0;
  *domain = r->kind != QI_LOCAL ? r->target.s : at ? at + 1 : "*";
  return conv_profile(&doms, r->kind == QI_LOCAL, m->from_net, *domain, key, s);
}

/* a new copy entry for key, made with the profile for domain: its index, or -1 */
static int cv_new(struct msg *m, const char *key, const char *domain, int needed)
{
  stralloc arg = {0};
  int idx = conv_profile_arg(&arg, key, domain) < 0 ? -1 : cv_add(m, key, arg.s, needed);
  stralloc_free(&arg);
  return idx;
}

int conv_plan(struct msg *m, const char *head, size_t len)
{
  unsigned long i;
  if (!(m->rcv = calloc(m->q.n ? m->q.n : 1, sizeof *m->rcv))) return -1;
  for (i = 0; i < m->q.n; i++) {
    const struct qinfo_rcpt *r = &m->q.r[i];
    struct domain_settings s;
    char key[CONV_KEY_MAX];
    const char *domain;
    unsigned k;
    int idx;
    if (r->state != QI_PENDING || !rcpt_profile(m, i, key, &s, &domain)) continue;
    for (k = 0; k < m->ncv && strcmp(m->cv[k].key.s, key); k++) ;
    if (k < m->ncv) idx = (int)k;
    else idx = cv_new(m, key, domain, conv_needed(&s, r->kind == QI_LOCAL, head, len, &m->facts, m->msglen));
    if (idx < 0) return -1;
    if (m->cv[idx].state != CV_SKIP) m->rcv[i] = (unsigned short)(idx + 1);
  }
  return 0;
}

