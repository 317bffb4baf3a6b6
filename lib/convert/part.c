/*
 * part.c -- what an entity's header section says (see conv.h): its type,
 * transfer encoding, charset, boundary, file name and disposition; and the
 * engine's warnings.
 *
 * Input: a parsed header section.  A missing Content-Type is text/plain
 * (message/rfc822 in a digest); one that does not parse makes the part
 * application/octet-stream (ct_bad), which is never converted.  Failure
 * modes: ENOMEM (-1).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "conv.h"
#include "diag.h"

int convert_quiet;

void cwarn(const char *a, const char *b, const char *c)
{
  if (!convert_quiet) warn(a, b, c);
}

void pwarn(const struct part *pt, const char *what)
{
  char num[FMT_ULONG];
  num[fmt_ulong(num, pt->num)] = 0;
  if (!convert_quiet) warn("part ", num, ": ", what);
}

void pwarn3(const struct part *pt, const char *a, const char *b, const char *c, const char *d)
{
  char num[FMT_ULONG];
  num[fmt_ulong(num, pt->num)] = 0;
  if (!convert_quiet) warn("part ", num, ": ", a, b, c, d);
}

void part_init(struct part *pt)
{
  memset(pt, 0, sizeof *pt);
}

void part_free(struct part *pt)
{
  stralloc_free(&pt->boundary);
  stralloc_free(&pt->filename);
}

int part_is(const struct part *pt, const char *type, const char *sub)
{
  return !strcmp(pt->type, type) && (!sub || !strcmp(pt->sub, sub));
}

int part_is_tnef(const struct part *pt)
{
  return part_is(pt, "application", "ms-tnef") || part_is(pt, "application", "vnd.ms-tnef")
    || (pt->filename.len == 11 && !strncasecmp(pt->filename.s, "winmail.dat", 11));
}

int part_is_richtext(const struct part *pt)
{
  return part_is(pt, "text", "html") || part_is(pt, "text", "enriched") || part_is(pt, "text", "richtext")
    || part_is(pt, "multipart", "related");
}

int msg_is_signed(const struct mhdr *h, const struct part *pt)
{
  return part_is(pt, "multipart", "signed") || part_is(pt, "application", "pkcs7-mime")
    || part_is(pt, "application", "x-pkcs7-mime") || mhdr_find(h, "dkim-signature") >= 0;
}

static int ctype_params(struct part *pt, const char *v, size_t n)
{
  stralloc t = {0};
  int rc = 0;
  if ((rc = mime_param(v, n, "charset", &t)) > 0) cs_label(pt->charset, t.s, t.len);
  if (rc >= 0) rc = mime_param(v, n, "boundary", &pt->boundary);
  if (rc >= 0 && (rc = mime_param(v, n, "format", &t)) > 0) pt->flowed = t.len == 6 && !strncasecmp(t.s, "flowed", 6);
  if (rc >= 0 && (rc = mime_param(v, n, "delsp", &t)) > 0) pt->delsp = t.len == 3 && !strncasecmp(t.s, "yes", 3);
  if (rc >= 0 && !pt->filename.len) rc = mime_param(v, n, "name", &pt->filename);
  stralloc_free(&t);
  return rc < 0 ? -1 : 0;
}

static int ctype(struct part *pt, const stralloc *v)
{
  size_t params;
  pt->has_ctype = 1;
  if (!mime_ctype(v->s, v->len, pt->type, pt->sub, &params)) {
    pt->ct_bad = 1;
    strcpy(pt->type, "application");
    strcpy(pt->sub, "octet-stream");
    return 0;
  }
  return ctype_params(pt, v->s, v->len);
}

static int disposition(struct part *pt, const stralloc *v)
{
  size_t i = 0;
  stralloc fn = {0};
  int rc;
  while (i < v->len && (v->s[i] == ' ' || v->s[i] == '\t')) i++;
  if (v->len - i >= 10 && !strncasecmp(v->s + i, "attachment", 10)) pt->attachment = 1;
  rc = mime_param(v->s, v->len, "filename", &fn);
  if (rc > 0 && fn.len) rc = stralloc_copy(&pt->filename, &fn) ? 0 : -1;
  stralloc_free(&fn);
  return rc < 0 ? -1 : 0;
}

int part_classify(struct part *pt, const struct mhdr *h, int digest)
{
  stralloc v = {0};
  int rc;
  strcpy(pt->type, digest ? "message" : "text");
  strcpy(pt->sub, digest ? "rfc822" : "plain");
  pt->cte = CTE_7BIT;
  if ((rc = mhdr_get(h, "Content-Disposition", &v)) > 0) rc = disposition(pt, &v);
  if (rc >= 0 && (rc = mhdr_get(h, "Content-Type", &v)) > 0) rc = ctype(pt, &v);
  if (rc >= 0 && (rc = mhdr_get(h, "Content-Transfer-Encoding", &v)) > 0) {
    pt->has_cte = 1;
    pt->cte = mime_cte(v.s, v.len);
  }
  if (pt->filename.len) pt->attachment = 1;
  stralloc_free(&v);
  if (rc < 0) { errno = ENOMEM; return -1; }
  return 0;
}
