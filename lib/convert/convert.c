/*
 * convert.c -- one message through the engine (see convert.h).
 *
 * Reads the top header section, stops an automatic reply the profile does
 * not send (CX_SUPPRESSED, nothing written), then hands the message to the
 * uuencode flattener (attachments=uuencode) or the MIME tree walker
 * (attachments=mime, inbound).  When the input ended with LF and the output
 * does not, an LF is added.  Errors are reported on fd 2 and mapped to an
 * exit code: EFBIG from the output is CX_TOOBIG, everything else EX_TEMP.
 */
#include <errno.h>
#include <string.h>
#include "conv.h"
#include "diag.h"
#include "exitcodes.h"

static int suppressed(const struct conv *c, const struct mhdr *h)
{
  int kind;
  if (c->p->inbound) return 0;
  kind = autoreply_kind(h);
  if (kind == AR_OOF && !c->p->d.oof) {
    if (!convert_quiet) info("out-of-office reply suppressed (oof=no for ", c->p->name, ")");
    return 1;
  }
  if (kind == AR_AUTO && !c->p->d.autoreplies) {
    if (!convert_quiet) info("automatic reply suppressed (autoreplies=no for ", c->p->name, ")");
    return 1;
  }
  return 0;
}

/* signed=keep and a signed message: the keep profile from here on, so that
   nothing but what -8 must downgrade changes (suppression was decided
   before, and maxsize stays as the output was set up) */
static void keep_signed(struct conv *c, const struct mhdr *h, const struct part *pt)
{
  if (c->p->keep || !c->p->d.signed_keep || !msg_is_signed(h, pt)) return;
  c->kept = *c->p;
  c->kept.keep = c->kept.inbound = 1;
  c->p = &c->kept;
  if (!convert_quiet) info("signed message left unconverted (signed=keep for ", c->p->name, ")");
}

static int run(struct conv *c, int *code)
{
  struct mhdr h;
  struct part pt;
  struct ectx x;
  int rc;
  mhdr_init(&h);
  part_init(&pt);
  memset(&x, 0, sizeof x);
  x.top = x.msghdr = 1;
  pt.num = ++c->nparts;
  rc = hdr_read(c, &h);
  if (rc == 0) rc = part_classify(&pt, &h, 0);
  if (rc == 0 && suppressed(c, &h)) *code = CX_SUPPRESSED;
  else if (rc == 0) {
    keep_signed(c, &h, &pt);
    if (!c->p->inbound && c->p->d.attachments == ATT_UUENCODE) rc = flat_top(c, &h, &pt);
    else rc = entity_with_header(c, &h, &pt, &x);
  }
  mhdr_free(&h);
  part_free(&pt);
  return rc;
}

static int finish(struct conv *c)
{
  if (c->in.last == '\n' && c->out.total && c->out.last != '\n' && sink_put(&c->out.s, "\n", 1) < 0) return -1;
  return out_flush(&c->out);
}

static int report(const struct conv *c, int e)
{
  errno = e;
  if (e == EFBIG) {
    if (!convert_quiet) info("converted message larger than maxsize for ", c->p->name);
    return CX_TOOBIG;
  }
  if (c->read_failed) diag_out("fatal", 1, "unable to read the message", (const char *)0);
  else if (e == ENOMEM) diag_out("fatal", 0, "out of memory", (const char *)0);
  else diag_out("fatal", 1, "unable to write the converted message", (const char *)0);
  return EX_TEMP;
}

static int convert_run(struct conv *c)
{
  int code = CX_OK, rc = run(c, &code);
  if (rc == 0 && code == CX_OK) rc = finish(c);
  if (rc < 0) code = report(c, c->out.failed ? c->out.failed : errno);
  rd_free(&c->in);
  stralloc_free(&c->tbuf);
  return code;
}

static void conv_init(struct conv *c, const struct profile *p, int out)
{
  memset(c, 0, sizeof *c);
  c->p = p;
  out_init(&c->out, out, p->inbound ? 0 : p->d.maxsize);
}

int convert_fd_len(const struct profile *p, int in, long long len, int out)
{
  static struct conv c;
  conv_init(&c, p, out);
  if (rd_init(&c.in, in) < 0) return report(&c, ENOMEM);
  if (len >= 0) rd_limit(&c.in, (unsigned long long)len);
  return convert_run(&c);
}

int convert_mem(const struct profile *p, const char *msg, size_t len, int out)
{
  static struct conv c;
  conv_init(&c, p, out);
  if (rd_init_mem(&c.in, msg, len) < 0) return report(&c, ENOMEM);
  return convert_run(&c);
}
