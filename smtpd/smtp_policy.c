/*
 * smtp_policy.c -- recipient, sender and ETRN policy (see smtp_policy.h).
 *
 * Inputs: the loaded configuration, the open directory, parsed paths.
 * Outputs: a verdict.  Failure modes: a directory that cannot be read
 * (451 4.3.0, a temporary refusal; the client retries).
 */
#include <string.h>
#include "addr.h"
#include "smtp_policy.h"

static const char *denied = "550 5.7.1 relaying denied";

static int ignore(void *ctx, char kind, const char *t, size_t tlen, const char *a, size_t alen)
{
  (void)ctx; (void)kind; (void)t; (void)tlen; (void)a; (void)alen;
  return 0;
}

/* local parts that route elsewhere: %-hack, bang paths, quoted @ or quotes at all */
static int odd_local(const struct smtp_path *p)
{
  return p->quoted || byte_chr(p->addr, p->at, '%') < p->at || byte_chr(p->addr, p->at, '!') < p->at
         || byte_chr(p->addr, p->at, '@') < p->at;
}

/* <postmaster> without a domain: postmaster@ the first site domain (or me) */
static void qualify_postmaster(const struct config *c, struct smtp_path *p)
{
  const char *dom = c->sitedomains.len ? c->sitedomains.s : c->me.s;
  size_t n = dom ? str_len(dom) : 0;
  if (!n || p->len + 1 + n > SMTP_ADDR_MAX) n = 9, dom = "localhost";
  p->addr[p->len] = '@';
  byte_copy(p->addr + p->len + 1, n, dom);
  p->len += 1 + n;
  p->addr[p->len] = 0;
}

static const char *site_rcpt(const struct config *c, struct directory *d, int relay, const struct smtp_path *p)
{
  int r = resolve_recipient(c, d, p->addr, p->len, ignore, 0);
  if (r < 0) return "451 4.3.0 unable to read the directory, try again later";
  if (r > 0) return 0;
  if (!relay && (odd_local(p) || p->route)) return denied;
  return "550 5.1.1 no such user here";
}

static const char *remote_rcpt(const struct config *c, struct directory *d, int relay,
                               const struct smtp_path *p, const char *sender, size_t slen)
{
  int out;
  if (!relay) return denied;
  if (!config_in_addressspace(c, p->addr + p->at + 1, p->len - p->at - 1, 0))
    return "550 5.7.1 relaying denied: the domain is outside the address space";
  out = directory_sender_out(c, d, sender, slen);
  if (out < 0) return "451 4.3.0 unable to read the directory, try again later";
  if (!out) return "550 5.7.1 sender not allowed to send out";
  return 0;
}

const char *policy_rcpt(const struct config *c, struct directory *d, int relay,
                        struct smtp_path *p, const char *sender, size_t slen, int *remote)
{
  *remote = 0;
  if (p->at == p->len) qualify_postmaster(c, p);
  if (!relay && (p->trailing_dot || p->literal)) return denied;
  if (!p->literal && config_is_sitedomain(c, p->addr + p->at + 1, p->len - p->at - 1))
    return site_rcpt(c, d, relay, p);
  *remote = 1;
  return remote_rcpt(c, d, relay, p, sender, slen);
}


int policy_auth_sender(const struct config *c, const char *user, const char *sender, size_t len)
{
  size_t ulen = str_len(user), at;
  if (len == 0) return 1;
  if (addr_at(user, ulen) < ulen) return ulen == len && !case_diffb(user, len, sender);
  at = addr_at(sender, len);
  if (at == len || at != ulen || case_diffb(sender, at, user)) return 0;
  return config_is_sitedomain(c, sender + at + 1, len - at - 1);
}

const char *policy_etrn(const struct config *c, const char *dom)
{
  size_t n = str_len(dom);
  if (config_is_sitedomain(c, dom, n)) return "459 4.7.1 node not allowed: it is a local domain";
  if (!config_in_addressspace(c, dom, n, 0)) return "459 4.7.1 node not allowed: outside the address space";
  return 0;
}
