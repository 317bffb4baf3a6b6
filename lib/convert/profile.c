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

int profile_load(struct profile *p, const char *name, int eightbit, config_errfn err)
{
  struct domains d;
  int errors = 0, rc;
  memset(p, 0, sizeof *p);
  set_name(p, name);
  p->eightbit = eightbit;
  p->keep = !strcmp(name, "keep");
  p->inbound = p->keep || !strcmp(name, "inbound");
  domains_builtin(&p->d);
  if (!p->inbound) {
    rc = domains_load(&d, err);
    if (rc < 0) { int e = errno; domains_free(&d); errno = e; return -1; }
    errors += rc;
    domains_find(&d, strcmp(name, "-") ? name : "*", &p->d);
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
