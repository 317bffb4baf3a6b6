/*
 * dirlookup.c -- lookups in control/directory.cdb and the resolution of
 * envelope recipients into final destinations (see directory.h).
 *
 * Input: the cdb written by directory_compile (key: the lower-case alias;
 * value: a kind byte, then the data) and the loaded configuration (site
 * domains, postmaster).  Output: one call of the caller's resolve_fn per
 * destination, each destination once per recipient.
 *
 * Resolution: outside the site domains an address is remote ('R', its
 * domain in lower case).  Inside, the local part is matched without case:
 * postmaster goes to control/postmaster; a mailbox is delivered locally
 * ('L', the alias); a contact is its address, resolved in turn; a list is
 * its members, resolved in turn, each list expanded at most once per
 * recipient (so a loop stops) and at most DIR_MAXDEPTH lists deep.  A
 * member that resolves to nothing is dropped; imc-ctl check reports the
 * ones it can see.
 *
 * Failure modes: a cdb that cannot be read or is corrupt, or no memory:
 * -1 with errno set (a temporary failure for the caller).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "addr.h"
#include "control.h"
#include "directory.h"

/* ---- the cdb */

static int cdb_path(stralloc *sa) { return imc_path2(sa, "control", "directory.cdb"); }

int directory_open(struct directory *d)
{
  stralloc path = {0};
  struct stat st;
  int fd, e;
  d->fd = -1;
  d->dev = 0;
  d->ino = 0;
  d->mtime = 0;
  if (cdb_path(&path) < 0) return -1;
  fd = open(path.s, O_RDONLY | O_CLOEXEC);
  e = errno;
  stralloc_free(&path);
  if (fd < 0) { errno = e; return e == ENOENT ? 0 : -1; }
  if (fstat(fd, &st) < 0) { e = errno; close(fd); errno = e; return -1; }
  d->fd = fd;
  d->dev = st.st_dev;
  d->ino = st.st_ino;
  d->mtime = st.st_mtime;
  cdb_init(&d->c, fd);
  return 0;
}

void directory_close(struct directory *d)
{
  if (d->fd >= 0) {
    cdb_free(&d->c);
    close(d->fd);
  }
  d->fd = -1;
}

/* a new cdb replaces the old one only once it is open: on failure the old one stays */
int directory_refresh(struct directory *d)
{
  stralloc path = {0};
  struct directory nd;
  struct stat st;
  int r, e;
  if (cdb_path(&path) < 0) return -1;
  r = stat(path.s, &st);
  e = errno;
  stralloc_free(&path);
  if (r < 0 && e != ENOENT) { errno = e; return -1; }
  if (r < 0 && d->fd < 0) return 0;
  if (r == 0 && d->fd >= 0 && st.st_dev == d->dev && st.st_ino == d->ino && st.st_mtime == d->mtime) return 0;
  if (directory_open(&nd) < 0) return -1;
  directory_close(d);
  *d = nd;
  return 0;
}

int directory_find(struct directory *d, const char *alias, size_t len, char *kind, stralloc *data)
{
  char key[64];
  uint32 dlen;
  int r;
  if (d->fd < 0 || len == 0 || len > sizeof key) return 0;
  byte_copy(key, len, alias);
  case_lowerb(key, len);
  r = cdb_find(&d->c, (const unsigned char *)key, len);
  if (r <= 0) return r;
  dlen = cdb_datalen(&d->c);
  if (!stralloc_ready(data, dlen + 1)) { errno = ENOMEM; return -1; }
  if (dlen < 1 || cdb_read(&d->c, (unsigned char *)data->s, dlen, cdb_datapos(&d->c)) < 0) {
    if (dlen < 1) errno = EPROTO;
    return -1;
  }
  *kind = data->s[0];
  if (*kind != DIR_MAILBOX && *kind != DIR_LIST && *kind != DIR_CONTACT) { errno = EPROTO; return -1; }
  memmove(data->s, data->s + 1, dlen - 1);
  data->len = dlen - 1;
  data->s[data->len] = 0;
  return 1;
}

int directory_count(struct directory *d, unsigned long *n)
{
  uint32 pos;
  int r;
  *n = 0;
  if (d->fd < 0) return 0;
  for (r = cdb_firstkey(&d->c, &pos); r == 1; r = cdb_nextkey(&d->c, &pos)) ++*n;
  return r < 0 ? -1 : 0;
}

/* ---- resolution */

struct resolver {
  const struct config *c;
  struct directory *d;
  resolve_fn out;
  void *ctx;
  stralloc seen;             /* "Kname\0" for each list, contact and destination met */
  int in_postmaster;         /* resolving control/postmaster: do not redirect again */
};

static int resolve_addr(struct resolver *r, const char *addr, size_t len, unsigned depth);

/* 1 first time, 0 met before, -1 ENOMEM */
static int seen_add(struct resolver *r, char kind, const char *s, size_t len)
{
  size_t pos = 0;
  while (pos < r->seen.len) {
    const char *k = r->seen.s + pos;
    size_t n = str_len(k);
    if (n == len + 1 && k[0] == kind && byte_equal(k + 1, len, s)) return 0;
    pos += n + 1;
  }
  if (!stralloc_append(&r->seen, &kind) || !stralloc_catb(&r->seen, s, len) || !stralloc_0(&r->seen)) {
    errno = ENOMEM;
    return -1;
  }
  return 1;
}

/* one destination, once: 1, or -1 */
static int emit(struct resolver *r, char kind, const char *target, size_t tlen, const char *addr, size_t alen)
{
  int x = kind == 'L' ? seen_add(r, 'L', target, tlen) : seen_add(r, 'R', addr, alen);
  if (x <= 0) return x < 0 ? -1 : 1;
  return r->out(r->ctx, kind, target, tlen, addr, alen) < 0 ? -1 : 1;
}

/* outside the site domains: the domain and the address with it in lower case */
static int resolve_remote(struct resolver *r, const char *addr, size_t len, size_t at)
{
  stralloc a = {0};
  int x;
  if (!stralloc_copyb(&a, addr, len)) { errno = ENOMEM; return -1; }
  case_lowerb(a.s + at + 1, len - at - 1);
  x = emit(r, 'R', a.s + at + 1, len - at - 1, a.s, a.len);
  stralloc_free(&a);
  return x;
}

static int resolve_local(struct resolver *r, const char *local, size_t llen,
                         const char *addr, size_t alen, unsigned depth);

/* a member alias gets the list's domain (dom: "@domain", or empty) */
static int resolve_member(struct resolver *r, const char *m, size_t mlen,
                          const char *dom, size_t domlen, unsigned depth)
{
  stralloc a = {0};
  int x;
  if (addr_at(m, mlen) < mlen) return resolve_addr(r, m, mlen, depth);
  if (!stralloc_copyb(&a, m, mlen) || !stralloc_catb(&a, dom, domlen)) { errno = ENOMEM; return -1; }
  case_lowerb(a.s, a.len);
  x = resolve_local(r, a.s, mlen, a.s, a.len, depth);
  stralloc_free(&a);
  return x;
}

/* every member; one that resolves to nothing is dropped: 1, or -1 */
static int resolve_list(struct resolver *r, const char *name, size_t nlen, const stralloc *members,
                        const char *addr, size_t alen, unsigned depth)
{
  size_t at = addr_at(addr, alen), pos = 0;
  int x = seen_add(r, 'l', name, nlen);
  if (x <= 0 || depth >= DIR_MAXDEPTH) return x < 0 ? -1 : 1;   /* a loop, or met before */
  while (pos < members->len) {
    size_t end = pos + byte_chr(members->s + pos, members->len - pos, ',');
    x = resolve_member(r, members->s + pos, end - pos, addr + at, alen - at, depth + 1);
    if (x < 0) return -1;
    pos = end + 1;
  }
  return 1;
}

/* a contact is its address; each contact once, so a contact naming itself stops */
static int resolve_contact(struct resolver *r, const char *name, size_t nlen, const stralloc *data, unsigned depth)
{
  int x = seen_add(r, 'c', name, nlen);
  if (x <= 0) return x < 0 ? -1 : 1;
  return resolve_addr(r, data->s, str_len(data->s), depth);
}

/* key: a lower-case alias; 1 resolved, 0 not in the directory, -1 error */
static int resolve_alias(struct resolver *r, const char *key, size_t klen,
                         const char *addr, size_t alen, unsigned depth)
{
  stralloc data = {0};
  char kind;
  int x = directory_find(r->d, key, klen, &kind, &data);
  if (x > 0) {
    if (kind == DIR_MAILBOX) x = emit(r, 'L', key, klen, addr, alen);
    else if (kind == DIR_LIST) x = resolve_list(r, key, klen, &data, addr, alen, depth);
    else x = resolve_contact(r, key, klen, &data, depth);
  }
  stralloc_free(&data);
  return x;
}

/* control/postmaster: an address, or an alias (a mailbox even when the
   directory lacks it); if it leads nowhere, the mailbox postmaster */
static int resolve_postmaster(struct resolver *r, const char *addr, size_t alen, unsigned depth)
{
  const stralloc *pm = &r->c->postmaster;
  char key[64];
  int x = 0;
  r->in_postmaster = 1;
  if (pm->len && addr_at(pm->s, pm->len) < pm->len) x = resolve_addr(r, pm->s, pm->len, depth + 1);
  else if (pm->len && pm->len <= sizeof key) {
    byte_copy(key, pm->len, pm->s);
    case_lowerb(key, pm->len);
    x = resolve_alias(r, key, pm->len, addr, alen, depth + 1);
    if (x == 0) x = emit(r, 'L', key, pm->len, addr, alen);
  }
  if (x == 0) x = emit(r, 'L', "postmaster", 10, addr, alen);
  r->in_postmaster = 0;
  return x;
}

static int resolve_local(struct resolver *r, const char *local, size_t llen,
                         const char *addr, size_t alen, unsigned depth)
{
  char key[64];
  if (llen == 0 || llen > sizeof key) return 0;
  byte_copy(key, llen, local);
  case_lowerb(key, llen);
  if (!mailbox_name_valid(key, llen)) return 0;
  if (llen == 10 && byte_equal(key, 10, "postmaster") && !r->in_postmaster)
    return resolve_postmaster(r, addr, alen, depth);
  return resolve_alias(r, key, llen, addr, alen, depth);
}

static int resolve_addr(struct resolver *r, const char *addr, size_t len, unsigned depth)
{
  size_t at = addr_at(addr, len);
  if (at < len && !config_is_sitedomain(r->c, addr + at + 1, len - at - 1))
    return resolve_remote(r, addr, len, at);
  return resolve_local(r, addr, at, addr, len, depth);
}

int resolve_recipient(const struct config *c, struct directory *d,
                      const char *rcpt, size_t len, resolve_fn out, void *ctx)
{
  struct resolver r;
  int x, e;
  memset(&r, 0, sizeof r);
  r.c = c;
  r.d = d;
  r.out = out;
  r.ctx = ctx;
  x = resolve_addr(&r, rcpt, len, 0);
  e = errno;
  stralloc_free(&r.seen);
  errno = e;
  return x;
}

/* ---- delivery restrictions that name a list */

struct member_probe { const char *box; size_t blen; int found; };

static int member_seen(void *vctx, char kind, const char *target, size_t tlen, const char *a, size_t alen)
{
  struct member_probe *p = vctx;
  (void)a; (void)alen;
  if (kind == 'L' && tlen == p->blen && byte_equal(target, tlen, p->box)) p->found = 1;
  return 0;
}

/* the lower-case alias an entry or a site address names, in key: its length, or 0 */
static size_t alias_key(const struct config *c, const char *s, size_t len, char key[64])
{
  size_t at = addr_at(s, len);
  if (at < len && !config_is_sitedomain(c, s + at + 1, len - at - 1)) return 0;
  if (at == 0 || at > 64) return 0;
  byte_copy(key, at, s);
  case_lowerb(key, at);
  return mailbox_name_valid(key, at) ? at : 0;
}

struct member_ctx { const struct config *c; struct directory *d; };

/* config_member_fn: is the sender's mailbox reached through the list ENTRY names? */
static int list_member(void *vctx, const char *entry, size_t elen, const char *addr, size_t len)
{
  struct member_ctx *m = vctx;
  char lkey[64], skey[64], kind;
  size_t ln = alias_key(m->c, entry, elen, lkey), sn = alias_key(m->c, addr, len, skey);
  stralloc data = {0}, list = {0};
  struct member_probe p = { skey, sn, 0 };
  int x;
  if (!ln || !sn) return 0;
  x = directory_find(m->d, lkey, ln, &kind, &data);
  if (x > 0 && kind != DIR_LIST) x = 0;
  if (x > 0) x = directory_find(m->d, skey, sn, &kind, &data);
  if (x > 0 && kind != DIR_MAILBOX) x = 0;
  if (x > 0 && (!stralloc_copyb(&list, lkey, ln) || !stralloc_catb(&list, addr + sn, len - sn))) {
    errno = ENOMEM;
    x = -1;
  }
  if (x > 0) x = resolve_recipient(m->c, m->d, list.s, list.len, member_seen, &p) < 0 ? -1 : p.found;
  stralloc_free(&data);
  stralloc_free(&list);
  return x;
}

int directory_sender_out(const struct config *c, struct directory *d, const char *sender, size_t len)
{
  struct member_ctx m = { c, d };
  return config_sender_out_by(c, sender, len, list_member, &m);
}
