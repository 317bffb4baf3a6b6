/*
 * sign.c -- DKIM signing in imc-remote (see remote.h and docs/INTERNALS.md
 * section 17).
 *
 * imc-remote signs because it alone knows the bytes that leave: the queue
 * file or the profile's converted copy imc-send gave it, made 7-bit here
 * first when the next hop lacks 8BITMIME.  A signature made earlier would
 * break on that downgrade.  The signed message is a memfd: the
 * DKIM-Signature field, then the message, sent like any other.
 *
 * Inputs: the message (its fd and length), control/dkim (lib/dkimcfg.h),
 * the key files under control/ (read by imc-remote's user only), the
 * clock for t=.  Keys are loaded once per process and kept.  Failure
 * modes: a key that cannot be loaded or is not RSA, a failed mmap or
 * write: -1 with the reason; the caller defers the recipients.
 */
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "control.h"
#include "dkim.h"
#include "dkimcfg.h"
#include "fileio.h"
#include "message.h"
#include "remote.h"
#include "tls.h"

#define KEYS_MAX 64

static struct { char path[256]; struct tls_creds *c; } keys[KEYS_MAX];

/* the private key of a control/dkim line, loaded once */
static const br_rsa_private_key *key_for(const struct dkim_line *l)
{
  stralloc p = {0};
  int k;
  for (k = 0; k < KEYS_MAX && keys[k].c; k++)
    if (!strcmp(keys[k].path, l->keyfile)) return tls_key_rsa(keys[k].c);
  if (k == KEYS_MAX || imc_path2(&p, "control", l->keyfile) < 0) return 0;
  if (tls_key_load(&keys[k].c, p.s) != 0) keys[k].c = 0;
  stralloc_free(&p);
  if (!keys[k].c) return 0;
  strcpy(keys[k].path, l->keyfile);
  return tls_key_rsa(keys[k].c);
}

/* the domain of From:'s first address (lib/message.h, lib/addrlist.h) into d
   (cap bytes): 1, 0 none or unparsable */
static int from_domain(const char *msg, size_t len, char *d, size_t cap)
{
  static struct dkim_field f[DKIM_FIELDS_MAX];
  stralloc head, addrs = {0};
  size_t hl;
  const char *at;
  int ok = 0;
  if (dkim_fields(msg, len, f, DKIM_FIELDS_MAX, &hl) < 0) return 0;
  head.s = (char *)msg;                 /* read only: msghead_addresses does not write */
  head.len = head.a = hl;
  if (msghead_addresses(&head, "From", &addrs) > 0 && (at = strrchr(addrs.s, '@')) && at[1] && strlen(at + 1) < cap) {
    strcpy(d, at + 1);
    ok = 1;
  }
  stralloc_free(&addrs);
  return ok;
}

/* the signature and the message into a new memfd that m->fd becomes: 0, -1 */
static int replace(struct rmsg *m, const stralloc *sig, const char *msg)
{
  int fd = memfd_create("signed", MFD_CLOEXEC);
  if (fd < 0) return -1;
  if (write_all(fd, sig->s, sig->len) < 0 || write_all(fd, msg, m->len) < 0) { close(fd); return -1; }
  rmsg_release(m);
  m->fd = m->own_fd = fd;
  m->len += sig->len;
  m->scanned = 0;
  return rmsg_scan(m) ? -1 : 0;
}

int rmsg_sign(struct rmsg *m, const struct dkimcfg *c, const char **why)
{
  stralloc sig = {0};
  struct dkim_signer s;
  const struct dkim_line *l;
  char domain[256];
  char *map;
  int r = 0;
  if (m->dkim_done || !c || !c->n || !m->len) return 0;
  m->dkim_done = 1;
  map = mmap(0, m->len, PROT_READ, MAP_PRIVATE, m->fd, 0);
  if (map == MAP_FAILED) { *why = "4.3.0 unable to read the message for its DKIM signature"; return -1; }
  if (from_domain(map, m->len, domain, sizeof domain) && (l = dkimcfg_find(c, domain, strlen(domain))) != 0) {
    s.domain = l->domain;
    s.selector = l->selector;
    s.now = (unsigned long long)time(0);
    if (!(s.key = key_for(l))) { *why = "4.3.5 the DKIM key of control/dkim cannot be loaded (imc-ctl check)"; r = -1; }
    else if (dkim_sign(&sig, map, m->len, &s) < 0 || replace(m, &sig, map) < 0) {
      *why = "4.3.0 unable to sign the message (DKIM)";
      r = -1;
    }
  }
  munmap(map, m->len);
  stralloc_free(&sig);
  return r;
}
