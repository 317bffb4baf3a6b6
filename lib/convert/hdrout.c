/*
 * hdrout.c -- writing a header section (see conv.h).
 *
 * Input: the section as read, where the entity stands, and edits (new
 * Content-Type, transfer encoding, MIME-Version).  Fields that no edit or
 * transformation touches are written byte for byte; a rewritten field is
 * folded at white space before column 78 (unfolding gives the value back
 * exactly).  Transformations of message header fields (outbound): bare
 * addresses in From/To/Cc (displaynames=no), RFC 2047 words moved to the
 * profile's charset, and with -8 raw 8-bit text made into RFC 2047 words
 * (RFC 2231 parameters in Content-Type and Content-Disposition).
 *
 * Failure modes: ENOMEM, and the output's.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "addrlist.h"
#include "conv.h"
#include "ew.h"
#include "hdr8.h"

static int nomem(void) { errno = ENOMEM; return -1; }

int hdr_out_raw(struct conv *c, const struct mhdr *h)
{
  if (cw(c, h->raw.s, h->raw.len) < 0) return -1;
  return h->end == HEND_BLANK ? cw(c, "\n", 1) : 0;
}

/* fold before a white space character when the line would pass 78 */
int hdr_fold(stralloc *out, const char *name, size_t namelen, const char *v, size_t n)
{
  size_t col = namelen + 2, i = 0;
  if (!stralloc_catb(out, name, namelen) || !stralloc_cats(out, ": ")) return nomem();
  while (i < n) {
    size_t j = i + 1;
    while (j < n && v[j] != ' ' && v[j] != '\t') j++;       /* [i, j): white space + word */
    if (i > 0 && (v[i] == ' ' || v[i] == '\t') && col + (j - i) > 78 && col > 1) {
      if (!stralloc_append(out, "\n")) return nomem();
      col = 0;
    }
    if (!stralloc_catb(out, v + i, j - i)) return nomem();
    col += j - i;
    i = j;
  }
  return stralloc_append(out, "\n") ? 0 : nomem();
}

static const char *const ew_fields[] = { "subject", "comments", "keywords", "from", "to", "cc", "bcc",
  "reply-to", "sender", "resent-from", "resent-to", "resent-cc", "resent-bcc", "resent-sender",
  "content-description", "thread-topic", "organization", 0 };

static int field_in(const struct mhdr *h, size_t i, const char *const *list)
{
  int k;
  for (k = 0; list[k]; k++) if (mhdr_is(h, i, list[k])) return 1;
  return 0;
}

/* displaynames=no: the bare addresses, or 0 when the list does not parse */
static int bare_addresses(stralloc *v, stralloc *tmp)
{
  size_t pos = 0;
  int n;
  tmp->len = 0;
  n = addrlist_parse(v->s, v->len, tmp);
  if (n <= 0) return n < 0 && errno == ENOMEM ? -1 : 0;
  v->len = 0;
  while (pos < tmp->len) {
    size_t k = strlen(tmp->s + pos);
    if ((v->len && !stralloc_cats(v, ", ")) || !stralloc_catb(v, tmp->s + pos, k)) return nomem();
    pos += k + 1;
  }
  return 1;
}

static int has8(const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) if ((unsigned char)s[i] & 0x80) return 1;
  return 0;
}

/* the outbound message header transformations of field i */
static int msg_transform(struct conv *c, const struct mhdr *h, size_t i, const struct ectx *x, stralloc *v)
{
  stralloc t = {0};
  int changed = 0, r = 0, kept = 0;
  const struct profile *p = c->p;
  if (x->top && !p->d.displaynames && (mhdr_is(h, i, "from") || mhdr_is(h, i, "to") || mhdr_is(h, i, "cc"))) {
    if ((r = bare_addresses(v, &t)) < 0) goto done;
    changed |= r;
  }
  if (field_in(h, i, ew_fields) && ew_next(v->s, v->len, 0, &(struct ew){0})) {
    if ((r = ew_transcode(v->s, v->len, p->d.charset, &t, &kept)) < 0) goto done;
    if (r && !stralloc_copy(v, &t)) { r = nomem(); goto done; }
    changed |= r;
    if (kept) cwarn("header words not representable in ", p->d.charset, ": kept in their charset");
  }
  r = 0;
done:
  stralloc_free(&t);
  return r < 0 ? -1 : changed;
}

int hdr_field_transform(struct conv *c, const struct mhdr *h, size_t i, const struct ectx *x, stralloc *out)
{
  const char *raw = h->raw.s + h->f[i].off;
  int changed = 0, r;
  int eight = c->p->eightbit && has8(raw, h->f[i].len);
  if (!eight && (!x->msghdr || c->p->inbound)) return 0;
  if (mhdr_value(h, i, out) < 0) return -1;
  if (x->msghdr && !c->p->inbound) {
    if ((r = msg_transform(c, h, i, x, out)) < 0) return -1;
    changed |= r;
  }
  if (eight && has8(out->s, out->len)) {
    if ((r = hdr8_field(c, h, i, out)) < 0) return -1;
    changed |= r;
  }
  return changed;
}

static int edit_field(stralloc *o, const struct mhdr *h, size_t i, const char *val)
{
  return hdr_fold(o, h->raw.s + h->f[i].off, h->f[i].namelen, val, strlen(val));
}

static int add_field(stralloc *o, const char *name, const char *val)
{
  return hdr_fold(o, name, strlen(name), val, strlen(val));
}

/* one field of the section into o; *edited set when it is not the original */
static int one_field(struct conv *c, const struct mhdr *h, size_t i, const struct ectx *x,
                     const struct hedit *e, stralloc *o, stralloc *v, int *edited)
{
  int r;
  if (mhdr_is(h, i, "content-type") && e->ctype) { *edited = 1; return edit_field(o, h, i, e->ctype); }
  if (mhdr_is(h, i, "content-transfer-encoding") && e->cte) {
    *edited = 1;
    return *e->cte ? edit_field(o, h, i, e->cte) : 0;
  }
  if (mhdr_is(h, i, "content-disposition") && e->drop_disposition) { *edited = 1; return 0; }
  if ((r = hdr_field_transform(c, h, i, x, v)) < 0) return -1;
  if (r) { *edited = 1; return hdr_fold(o, h->raw.s + h->f[i].off, h->f[i].namelen, v->s, v->len); }
  return stralloc_catb(o, h->raw.s + h->f[i].off, h->f[i].len) ? 0 : nomem();
}

int hdr_out(struct conv *c, const struct mhdr *h, const struct ectx *x, const struct hedit *e)
{
  static const struct hedit none;
  stralloc o = {0}, v = {0};
  size_t i;
  int edited = 0, rc = 0;
  if (!e) e = &none;
  for (i = 0; i < h->n && rc == 0; i++) rc = one_field(c, h, i, x, e, &o, &v, &edited);
  if (rc == 0 && e->mime_version && mhdr_find(h, "mime-version") < 0) {
    edited = 1;
    rc = add_field(&o, "MIME-Version", "1.0");
  }
  if (rc == 0 && e->ctype && mhdr_find(h, "content-type") < 0) { edited = 1; rc = add_field(&o, "Content-Type", e->ctype); }
  if (rc == 0 && e->cte && *e->cte && mhdr_find(h, "content-transfer-encoding") < 0) {
    edited = 1;
    rc = add_field(&o, "Content-Transfer-Encoding", e->cte);
  }
  if (rc == 0 && (edited || h->end == HEND_BLANK) && !stralloc_append(&o, "\n")) rc = nomem();
  if (rc == 0) rc = cw(c, o.s, o.len);
  stralloc_free(&o);
  stralloc_free(&v);
  return rc;
}
