/*
 * profile.c -- the content profile a conversion runs under (see
 * convert.h): the inbound profile, or a destination domain's settings
 * from control/domains, and the types of control/mimetypes.
 *
 * Failure modes: a control file that cannot be read (-1, errno); bad
 * lines (the count, each reported through err); the profile is usable
 * only when the result is 0.
 */
#include <errno.h>
#include <string.h>
#include "convert.h"

static void set_name(struct profile *p, const char *name)
{
  size_t n = strlen(name);
  if (n >= sizeof p->name) n = sizeof p->name - 1;
  memcpy(p->name, name, n);
  p->name[n] = 0;
}

/* the inbound profile takes only nonmimecharset and signed from DOMAIN's line */
static void inbound_settings(const struct domains *d, const char *domain, struct domain_settings *s)
{
  struct domain_settings line;
  domains_find(d, domain, &line);
  memcpy(s->nonmimecharset, line.nonmimecharset, sizeof s->nonmimecharset);
  s->signed_keep = line.signed_keep;
}

int profile_load(struct profile *p, const char *name, int eightbit, config_errfn err)
{
  struct domains d;
  int errors = 0, rc;
  memset(p, 0, sizeof *p);
  set_name(p, name);
  p->eightbit = eightbit;
  p->keep = !strcmp(name, "keep");
  p->inbound = p->keep || !strcmp(name, "inbound") || !strncmp(name, "inbound@", 8);
  domains_builtin(&p->d);
  if (!p->keep) {
    rc = domains_load(&d, err);
    if (rc < 0) { int e = errno; domains_free(&d); errno = e; return -1; }
    errors += rc;
    if (p->inbound) inbound_settings(&d, name[7] ? name + 8 : "*", &p->d);
    else domains_find(&d, strcmp(name, "-") ? name : "*", &p->d);
    domains_free(&d);
  }
  rc = mimetypes_load(&p->mt, err);
  if (rc < 0) return -1;
  return errors + rc;
}

int profile_builtin(struct profile *p, int inbound, int eightbit)
{
  memset(p, 0, sizeof *p);
  set_name(p, inbound ? "inbound" : "-");
  p->inbound = inbound;
  p->eightbit = eightbit;
  domains_builtin(&p->d);
  return mimetypes_parse_text(&p->mt, MIMETYPES_BUILTIN, strlen(MIMETYPES_BUILTIN), 0) ? -1 : 0;
}

void profile_free(struct profile *p)
{
  mimetypes_free(&p->mt);
}
