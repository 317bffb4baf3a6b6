/*
 * dnsq_cache.c -- the answers of one session, kept so that a name asked
 * twice is asked once (see dnsq.h).
 *
 * DNSQ_CACHE_MAX entries, replaced oldest first; a temporary failure is
 * not kept (the next lookup asks again, within the same deadline).  The
 * memory is that of the answers kept: each at most one DNS message.
 */
#include <string.h>
#include "dnsq.h"

void dnsq_cache_init(struct dnsq_cache *c, const struct dnsq_servers *s, unsigned long long deadline)
{
  memset(c, 0, sizeof *c);
  c->servers = s;
  c->deadline = deadline;
}

void dnsq_cache_free(struct dnsq_cache *c)
{
  unsigned i;
  for (i = 0; i < DNSQ_CACHE_MAX; i++) stralloc_free(&c->e[i].recs);
  c->used = c->next = 0;
}

static struct dnsq_cache_entry *find(struct dnsq_cache *c, const char *name, unsigned type)
{
  size_t len = str_len(name);
  unsigned i;
  for (i = 0; i < c->used; i++)
    if (c->e[i].type == type && str_len(c->e[i].name) == len && !case_diffb(c->e[i].name, len, name))
      return &c->e[i];
  return 0;
}

static int copy_out(const struct dnsq_cache_entry *e, struct dnsq_result *r)
{
  r->recs.len = 0;
  r->n = e->n;
  r->status = e->status;
  if (e->recs.len && !stralloc_copy(&r->recs, &e->recs)) { r->n = 0; return r->status = DNSQ_TEMP; }
  return r->status;
}

static void keep(struct dnsq_cache *c, const char *name, unsigned type, const struct dnsq_result *r)
{
  struct dnsq_cache_entry *e;
  if (r->status == DNSQ_TEMP || str_len(name) > DNSQ_NAME_MAX) return;
  e = &c->e[c->next];
  c->next = (c->next + 1) % DNSQ_CACHE_MAX;
  if (c->used < DNSQ_CACHE_MAX) c->used++;
  e->recs.len = 0;
  if (r->recs.len && !stralloc_copy(&e->recs, &r->recs)) { e->name[0] = 0; e->type = 0; return; }
  memcpy(e->name, name, str_len(name) + 1);
  e->type = type;
  e->status = r->status;
  e->n = r->n;
}

int dnsq_lookup(void *ctx, const char *name, unsigned type, struct dnsq_result *r)
{
  struct dnsq_cache *c = ctx;
  struct dnsq_cache_entry *e = find(c, name, type);
  if (e) { c->hits++; return copy_out(e, r); }
  if (dnsq_query(c->servers, name, type, c->deadline, r) != DNSQ_BADNAME) c->queries++;
  keep(c, name, type, r);
  return r->status;
}

/* TXT records through the cache, in the form lib/dkim.h's and lib/dmarc.h's
   lookups take: each record's strings joined, NUL-separated in out */
int dnsq_txt(void *ctx, const char *name, stralloc *out)
{
  struct dnsq_result r = {0, {0, 0, 0}, 0};
  const char *d;
  size_t pos = 0, len;
  int st = dnsq_lookup(ctx, name, DNSQ_TXT, &r), found = 0;
  out->len = 0;
  while (st == DNSQ_OK && dnsq_next(&r, &pos, &d, &len)) {
    if (!stralloc_catb(out, d, len) || !stralloc_0(out)) { st = DNSQ_TEMP; break; }
    found = 1;
  }
  dnsq_result_free(&r);
  if (st == DNSQ_TEMP || st == DNSQ_MALFORMED) return -1;
  return found;
}
