/*
 * ownaddr.c -- is the next hop this gateway itself?  (docs/SECURITY.md
 * 11.4f; Postfix's inet_interfaces and proxy_interfaces.)
 *
 * "Ours" is what a mail administrator configured this instance to be
 * reached at:
 *   - the listener imc-tcpd binds: each address of env/IMC_LISTEN (default
 *     "0.0.0.0 ::") at env/IMC_PORT (default 25) and env/IMC_SUBMISSION_PORT,
 *     the s6-envdir files imc-setup writes; read only when IMC_HOME/env/
 *     exists.  A wildcard address stands for every address of the local
 *     interfaces (getifaddrs) and for loopback (127.0.0.0/8, ::1), all at
 *     that port; "::" for IPv4 too (Linux binds both).  A specific address
 *     is ours at its port only, so that two instances on 127.0.0.1 with
 *     different ports are not each other;
 *   - control/localips: more addresses this host is reached at (a NAT's
 *     public address, a proxy), one a line (route.h), ours at every port;
 *     a bad line is skipped here and shown by imc-ctl check.
 * Nothing else is: another 127.x address or another port is another host,
 * as it is in the tests.
 *
 * own_truncate drops our own targets from a destination and, as Postfix
 * does for MX hosts, every target no more preferred than the best of ours
 * (the others would only hand the mail back); when nothing is left the
 * mail loops.  Failure modes: unreadable files make own_load return -1
 * with what was read kept (the caller logs it and goes on); a bad address
 * is skipped.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>
#include "control.h"
#include "fileio.h"
#include "remote.h"
#include "rules.h"

static const char v4mapped[12] = { 0,0,0,0,0,0,0,0,0,0,(char)0xff,(char)0xff };

static int is_v4(const char ip[16]) { return ip_is_v4((const unsigned char *)ip); }

void own_add(struct own *o, const char ip[16], int kind, unsigned port)
{
  struct own_addr *a;
  if (o->n == OWN_MAX) return;
  a = &o->a[o->n++];
  memcpy(a->ip, ip, 16);
  a->kind = kind;
  a->port = port;
}

static int wildcard(const char ip[16])
{
  static const char zero[16];
  if (is_v4(ip)) return !memcmp(ip + 12, zero, 4) ? OWN_ANY4 : 0;
  return !memcmp(ip, zero, 16) ? OWN_ANY6 : 0;
}

/* a listen address (text) at port */
void own_add_listen(struct own *o, const char *addr, size_t len, unsigned port)
{
  char ip[16];
  int w;
  if (!port || !route_scan_ip(addr, len, ip)) return;
  w = wildcard(ip);
  own_add(o, ip, w ? w : OWN_EXACT, port);
}

static int local_if(const struct own *o, const char ip[16])
{
  size_t i;
  for (i = 0; i < o->nifs; i++) if (!memcmp(o->ifs[i], ip, 16)) return 1;
  return 0;
}

int own_match(const struct own *o, const char ip[16], unsigned port)
{
  size_t i;
  for (i = 0; i < o->n; i++) {
    const struct own_addr *a = &o->a[i];
    if (a->port && a->port != port) continue;
    if (a->kind == OWN_EXACT && !memcmp(a->ip, ip, 16)) return 1;
    if (a->kind == OWN_ANY4 && is_v4(ip) && (dest_loopback(ip) || local_if(o, ip))) return 1;
    if (a->kind == OWN_ANY6 && (dest_loopback(ip) || local_if(o, ip))) return 1;
  }
  return 0;
}

int own_truncate(struct dest *d, const struct own *o)
{
  size_t i, k = 0;
  unsigned best = ~0U;
  int found = 0;
  for (i = 0; i < d->n; i++)
    if (own_match(o, d->t[i].ip, d->t[i].port) && (!found++ || d->t[i].pref < best)) best = d->t[i].pref;
  if (!found) return 0;
  for (i = 0; i < d->n; i++)
    if (d->t[i].pref < best) d->t[k++] = d->t[i];
  d->n = k;
  return k == 0;
}

/* ---- loading */

static void load_ifs(struct own *o)
{
  struct ifaddrs *list, *p;
  if (getifaddrs(&list) < 0) return;
  for (p = list; p && o->nifs < OWN_MAX; p = p->ifa_next) {
    char *ip = o->ifs[o->nifs];
    if (!p->ifa_addr) continue;
    if (p->ifa_addr->sa_family == AF_INET) {
      memcpy(ip, v4mapped, 12);
      memcpy(ip + 12, &((struct sockaddr_in *)(void *)p->ifa_addr)->sin_addr, 4);
    } else if (p->ifa_addr->sa_family == AF_INET6) {
      memcpy(ip, &((struct sockaddr_in6 *)(void *)p->ifa_addr)->sin6_addr, 16);
    } else continue;
    o->nifs++;
  }
  freeifaddrs(list);
}

/* env/NAME's first line: 1 and the text in sa (NUL-terminated), 0 missing, -1 error */
static int env_file(const char *name, stralloc *sa)
{
  stralloc p = {0};
  int r = imc_path2(&p, "env", name);
  size_t n;
  if (r == 0) r = file_read(p.s, sa);
  stralloc_free(&p);
  if (r != 1) return r;
  for (n = 0; n < sa->len && sa->s[n] != '\n'; n++) ;
  sa->len = n;
  if (!stralloc_0(sa)) return -1;
  sa->len--;
  return 1;
}

static unsigned env_port(const char *name, unsigned dflt, int *err)
{
  stralloc v = {0};
  unsigned long p = 0;
  int r = env_file(name, &v);
  if (r < 0) *err = 1;
  if (r != 1) p = dflt;
  else if (!ctl_scan_ulong(v.s, &p) || p > 65535) p = 0;
  stralloc_free(&v);
  return (unsigned)p;
}

/* env/IMC_LISTEN x (env/IMC_PORT, env/IMC_SUBMISSION_PORT), as imc-tcpd binds them */
static int load_listener(struct own *o)
{
  static const char dflt[] = "0.0.0.0 ::";
  stralloc list = {0}, envdir = {0};
  struct stat st;
  unsigned ports[2];
  int err = 0, r;
  char *p, *w;
  size_t i;
  if (imc_path(&envdir, "env") < 0) return -1;
  r = stat(envdir.s, &st);
  stralloc_free(&envdir);
  if (r < 0) return errno == ENOENT ? 0 : -1;
  ports[0] = env_port("IMC_PORT", 25, &err);
  ports[1] = env_port("IMC_SUBMISSION_PORT", 0, &err);
  r = env_file("IMC_LISTEN", &list);
  if (r < 0) err = 1;
  if (r != 1 && !stralloc_copyb(&list, dflt, sizeof dflt)) return -1;
  for (p = list.s; (w = ctl_word(&p)) != 0; )
    for (i = 0; i < 2; i++) own_add_listen(o, w, strlen(w), ports[i]);
  stralloc_free(&list);
  return err ? -1 : 0;
}

/* control/localips (route.h): ours at every port */
static int load_localips(struct own *o)
{
  char ips[LOCALIPS_MAX][16];
  size_t n, i;
  int r = localips_load(ips, LOCALIPS_MAX, &n, 0);
  for (i = 0; i < n; i++) own_add(o, ips[i], OWN_EXACT, 0);
  return r < 0 ? -1 : 0;
}

int own_load(struct own *o)
{
  int a, b;
  memset(o, 0, sizeof *o);
  load_ifs(o);
  a = load_listener(o);
  b = load_localips(o);
  return a < 0 || b < 0 ? -1 : 0;
}
