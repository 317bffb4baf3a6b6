/*
 * need.c -- would a profile change this message? (see need.h)
 *
 * A signed message under signed=keep changes not at all (only an outbound
 * profile's suppression or size limit can still act on it).  Inbound
 * changes only uuencoded blocks and the label of 8-bit text without MIME
 * headers, so the content note and the header section decide.  An
 * outbound profile leaves a message alone when all of these hold: the
 * header section is complete; attachments are MIME (the uuencode
 * flattener labels every message it writes); the message is plain
 * US-ASCII text (no 8-bit byte, no encoded word, no Content-Type but
 * text/plain with no charset, us-ascii or the profile's own, no transfer
 * encoding but 7bit); no line is longer than the wrap width; no display
 * name is to be dropped; it is not an automatic reply the profile
 * suppresses; and it is within maxsize.  Anything else is converted.
 */
#include <string.h>
#include <strings.h>
#include "conv.h"
#include "need.h"

/* the charset can label plain ASCII text unchanged */
static int ascii_superset(const char *cs)
{
  return strncasecmp(cs, "utf-16", 6) && strncasecmp(cs, "utf-32", 6) && strncasecmp(cs, "ucs", 3)
         && strncasecmp(cs, "utf-7", 5);
}

/* the top-level Content-Type leaves the body as plain text in an acceptable charset */
static int plain_text(const struct mhdr *h, const struct domain_settings *s)
{
  struct part pt;
  int ok;
  part_init(&pt);
  if (part_classify(&pt, h, 0) < 0) { part_free(&pt); return 0; }
  ok = !pt.ct_bad && part_is(&pt, "text", "plain") && (!pt.has_cte || pt.cte == CTE_7BIT)
       && (!pt.charset[0] || !strcasecmp(pt.charset, "us-ascii") || !strcasecmp(pt.charset, s->charset))
       && ascii_superset(s->charset);
  part_free(&pt);
  return ok;
}

static int has_display_name(const struct mhdr *h)
{
  static const char *const names[] = { "from", "to", "cc", "reply-to", "sender", 0 };
  stralloc v = {0};
  size_t i;
  int k, found = 0;
  for (i = 0; i < h->n && !found; i++)
    for (k = 0; names[k]; k++)
      if (mhdr_is(h, i, names[k])) {
        if (mhdr_value(h, i, &v) < 0 || (v.len && (memchr(v.s, '<', v.len) || memchr(v.s, '(', v.len)
            || memchr(v.s, '"', v.len)))) found = 1;
        break;
      }
  stralloc_free(&v);
  return found;
}

static int suppressed(const struct mhdr *h, const struct domain_settings *s)
{
  int kind = autoreply_kind(h);
  return (kind == AR_OOF && !s->oof) || (kind == AR_AUTO && !s->autoreplies);
}

static int outbound_needed(const struct domain_settings *s, const struct mhdr *h,
                           const struct cfacts *f, unsigned long long msglen)
{
  if (h->end != HEND_BLANK && h->end != HEND_BODY) return 1;
  if (s->attachments == ATT_UUENCODE) return 1;      /* the flattener labels every message it writes */
  if (f->eightbit || (h->raw.len && memmem(h->raw.s, h->raw.len, "=?", 2))) return 1;
  if (s->maxsize && msglen > s->maxsize) return 1;
  if (s->wrap && f->maxline > s->wrap) return 1;
  if (!s->displaynames && has_display_name(h)) return 1;
  if (!plain_text(h, s)) return 1;
  return suppressed(h, s);
}

static int is_signed(const struct mhdr *h)
{
  struct part pt;
  int r;
  part_init(&pt);
  r = part_classify(&pt, h, 0) == 0 && msg_is_signed(h, &pt);
  part_free(&pt);
  return r;
}

/* inbound 8-bit text without MIME headers, and a charset to label it with */
static int nonmime_labelled(const struct domain_settings *s, const struct mhdr *h, const struct cfacts *f)
{
  return f->eightbit && !cs_is_ascii(s->nonmimecharset) && mhdr_find(h, "mime-version") < 0
         && mhdr_find(h, "content-type") < 0;
}

int conv_needed(const struct domain_settings *s, int inbound, const char *head, size_t len,
                const struct cfacts *f, unsigned long long msglen)
{
  struct mhdr h;
  int r;
  if (!f->known) return 1;
  mhdr_init(&h);
  mhdr_parse(&h, head, len);
  if (s->signed_keep && h.end != HEND_BIG && is_signed(&h))
    r = !inbound && ((s->maxsize && msglen > s->maxsize) || suppressed(&h, s));
  else if (inbound) r = f->uu || nonmime_labelled(s, &h, f);
  else r = outbound_needed(s, &h, f, msglen);
  mhdr_free(&h);
  return r;
}

/* KEY from a pattern, with a prefix */
static void key_set(char key[CONV_KEY_MAX], const char *prefix, const char *pattern)
{
  size_t n = strlen(prefix), m = strlen(pattern);
  if (n + m >= CONV_KEY_MAX) m = CONV_KEY_MAX - 1 - n;    /* patterns are domains: never so long */
  memcpy(key, prefix, n);
  memcpy(key + n, pattern, m);
  key[n + m] = 0;
}

int conv_profile(const struct domains *d, int local, int from_net, const char *domain,
                 char key[CONV_KEY_MAX], struct domain_settings *s)
{
  struct domain_settings line;
  const char *pat;
  if (local && !from_net) return 0;
  pat = domains_match(d, domain, local ? &line : s);
  if (!local) { key_set(key, "", pat); return 1; }
  domains_builtin(s);                                       /* as imc-convert's inbound profile */
  memcpy(s->nonmimecharset, line.nonmimecharset, sizeof s->nonmimecharset);
  s->signed_keep = line.signed_keep;
  if (!strcmp(pat, "*")) key_set(key, "inbound", "");
  else key_set(key, "inbound@", pat);
  return 1;
}

int conv_profile_arg(stralloc *sa, const char *key, const char *domain)
{
  if (!strcmp(key, "inbound")) return stralloc_copys(sa, key) && stralloc_0(sa) ? 0 : -1;
  if (!strncmp(key, "inbound@", 8))
    return stralloc_copys(sa, "inbound@") && stralloc_cats(sa, domain) && stralloc_0(sa) ? 0 : -1;
  return stralloc_copys(sa, domain) && stralloc_0(sa) ? 0 : -1;
}

int conv_copy_name(stralloc *sa, const char *id, const char *key, int tmp)
{
  return stralloc_cats(sa, tmp ? "." : "") && stralloc_cats(sa, id) && stralloc_append(sa, ".")
         && stralloc_cats(sa, strcmp(key, "*") ? key : "default") && stralloc_cats(sa, tmp ? ".tmp" : "")
         && stralloc_0(sa) ? 0 : -1;
}

int conv_copy_path(stralloc *sa, const char *qdir, const char *id, const char *key, int tmp)
{
  char h[2] = { qid_hash(id), 0 };
  return stralloc_copys(sa, qdir) && stralloc_cats(sa, "/mess/") && stralloc_cats(sa, h) && stralloc_append(sa, "/")
         && conv_copy_name(sa, id, key, tmp) == 0 ? 0 : -1;
}

int conv_copy_parse(const char *name, char id[QID_LEN + 1])
{
  size_t n = strlen(name);
  if (name[0] == '.') {
    name++;
    n--;
    if (n < 5 || strcmp(name + n - 4, ".tmp")) return 0;
    n -= 4;
  }
  if (n < QID_LEN + 2 || name[QID_LEN] != '.' || !qid_valid(name, QID_LEN)) return 0;
  memcpy(id, name, QID_LEN);
  id[QID_LEN] = 0;
  return 1;
}
