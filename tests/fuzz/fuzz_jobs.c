/*
 * fuzz_jobs.c -- libFuzzer target for the job lines imc-send gives its
 * deliverers (docs/INTERNALS.md sections 5 and 8): imc-remote's
 * (remote/rjob.c) and imc-local's (queue/local/maildir.c), with imc-local's other
 * parsers of untrusted text: the search for an earlier Delivered-To line in
 * a message's header section, and the host part of Maildir file names.
 *
 * The first input byte picks what the rest is (bits 0-1):
 *   0  imc-remote's input: job lines, one per LF;
 *   1  imc-local's input: job lines, one per LF;
 *   2  a host name for Maildir file names;
 *   3  a recipient (the first line) and a message (the rest).
 * Checks, besides the sanitizers:
 *   - a blank line claims nothing, any other line at least one recipient or
 *     pair; a usable line yields exactly as many recipients or pairs as it
 *     claims, each a piece of the line without TAB; its fields are in range;
 *   - a usable imc-remote line prints back (numbers without leading zeros)
 *     to a line that parses to the same job;
 *   - for a usable imc-local pair, the delivery header fits JOB_HDR_MAX and
 *     the message it starts is found to be delivered to that recipient;
 *   - a SENDER or RECIPIENT field "<ADDRESS> PARAMS" splits (on a copy) into
 *     pieces of the field whose DSN parameters parse; a plain field has none;
 *   - a prefix found delivered is delivered as a whole message too;
 *   - Maildir host names hold no '/' or ':' and fit MAILDIR_HOST_MAX; a
 *     file name fits MAILDIR_NAME_MAX.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "config.h"
#include "dsn.h"
#include "owfat.h"
#include "../../queue/local/maildir.h"
#include "../../remote/rjob.h"

static void in_line(const char *s, size_t n, const char *line, size_t len)
{
  if (s < line || s + n > line + len || memchr(s, '\t', n)) abort();
}

/* ---- 0: imc-remote */

static const char *const prio_names[PRIO_N] = { "urgent", "normal", "nonurgent" };

static void rjob_same(const struct rjob *a, const struct rjob *b)
{
  size_t pa = 0, pb = 0, la, lb;
  const char *ra, *rb;
  if (b->err || a->fd != b->fd || a->msglen != b->msglen || a->prio != b->prio || a->smtputf8 != b->smtputf8
      || a->nrcpt != b->nrcpt
      || a->slen != b->slen || memcmp(a->sender, b->sender, a->slen)) abort();
  while (rjob_rcpt_next(a, &pa, &ra, &la)) {
    if (!rjob_rcpt_next(b, &pb, &rb, &lb) || la != lb || memcmp(ra, rb, la)) abort();
  }
  if (rjob_rcpt_next(b, &pb, &rb, &lb)) abort();
}

/* the job printed as imc-send writes it, and parsed again */
static void rjob_roundtrip(const struct rjob *j)
{
  stralloc l = {0};
  struct rjob back;
  char num[FMT_ULONG];
  if (!stralloc_catb(&l, num, fmt_ulong(num, (unsigned long)j->fd)) || !stralloc_append(&l, "\t")
      || !stralloc_catb(&l, num, fmt_ulong(num, (unsigned long)j->msglen)) || !stralloc_append(&l, "\t")
      || !stralloc_cats(&l, prio_names[j->prio]) || (j->smtputf8 && !stralloc_cats(&l, ",smtputf8"))
      || !stralloc_append(&l, "\t")
      || !stralloc_catb(&l, j->sender, j->slen) || !stralloc_append(&l, "\t")
      || !stralloc_catb(&l, j->rcpts, j->rlen)) abort();
  if (rjob_parse(l.s, l.len, &back) != j->nrcpt) abort();
  rjob_same(j, &back);
  stralloc_free(&l);
}

/* rjob_field_split on a copy of the field */
static void field_split(const char *f, size_t n, int mail)
{
  char *copy = malloc(n + 1), *a, *p;
  struct dsn_params d;
  if (!copy) return;
  memcpy(copy, f, n);
  if (rjob_field_split(copy, n, mail, &a, &p) == 0) {
    if (a < copy || a > copy + n || p < copy || p > copy + n || strlen(a) > n) abort();
    if (dsn_unpack(p, strlen(p), mail, &d) < 0 || (*p && f[0] != '<')) abort();
  } else if (!n || f[0] != '<') abort();
  free(copy);
}

static void remote_line(const char *line, size_t len)
{
  struct rjob j;
  size_t n = rjob_parse(line, len, &j), pos = 0, rl, count = 0;
  const char *r;
  if ((n == 0) != (len == 0)) abort();
  if (!n) return;
  if (j.rcpts) {
    in_line(j.rcpts, 0, line, len);
    while (rjob_rcpt_next(&j, &pos, &r, &rl)) {
      in_line(r, rl, line, len);
      if (rjob_addr_ok(r, rl) && (!rl || rl > RJOB_ADDR_MAX || memchr(r, '<', rl) || memchr(r, '>', rl))) abort();
      field_split(r, rl, 0);
      count++;
    }
    if (count != j.nrcpt || n != j.nrcpt) abort();
  } else if (!j.err || n != 1) abort();
  if (j.err) return;
  in_line(j.sender, j.slen, line, len);
  if (j.fd < 0 || j.fd > (1 << 30) || j.prio < 0 || j.prio >= PRIO_N || j.msglen > (~0ULL >> 1)) abort();
  if (j.slen && j.sender[0] != '<' && !rjob_addr_ok(j.sender, j.slen)) abort();
  field_split(j.sender, j.slen, 1);
  rjob_roundtrip(&j);
}

/* ---- 1: imc-local */

static int blank_edges(const char *s, size_t n)
{
  return n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t');
}

/* the header imc-local writes, then the rest of the input as the message */
static void delivered(const struct job *j, const struct job_pair *p, const char *msg, size_t mlen)
{
  static char buf[JOB_HDR_MAX + 4096];
  size_t h;
  if (!rcpt_valid(p->rcpt, p->rlen) || !mailbox_name_valid(p->mailbox, p->mlen)) return;
  h = deliv_header(buf, j->sender, j->slen, p->rcpt, p->rlen);
  if (h > JOB_HDR_MAX) abort();
  if (mlen > sizeof buf - h) mlen = sizeof buf - h;
  memcpy(buf + h, msg, mlen);
  if (!blank_edges(p->rcpt, p->rlen) && !hdr_delivered_to(buf, h + mlen, 1, p->rcpt, p->rlen)) abort();
}

static void local_line(const char *line, size_t len, const char *rest, size_t restlen)
{
  struct job j;
  struct job_pair p;
  size_t n = job_parse(line, len, &j), pos = 0, count = 0;
  if ((n == 0) != (len == 0)) abort();
  if (!n || j.err) return;
  if (j.fd < 3 || j.slen > JOB_ADDR_MAX || j.msglen >= 1000000000000000000ULL) abort();
  in_line(j.sender, j.slen, line, len);
  while (job_pair_next(&j, &pos, &p)) {
    in_line(p.mailbox, p.mlen, line, len);
    in_line(p.rcpt, p.rlen, line, len);
    delivered(&j, &p, rest, restlen);
    count++;
  }
  if (count != n) abort();
}

static void lines(const char *p, size_t n, int local)
{
  size_t pos = 0;
  while (pos < n) {
    const char *s = p + pos, *nl = memchr(s, '\n', n - pos);
    size_t len = nl ? (size_t)(nl - s) : n - pos;
    if (local) local_line(s, len, s + len, n - pos - len);
    else remote_line(s, len);
    pos += len + 1;
  }
}

/* ---- 2: Maildir names */

static void names(const char *p, size_t n)
{
  char host[MAILDIR_HOST_MAX + 4], name[MAILDIR_NAME_MAX + 1];
  size_t h = maildir_host(host, p, n), k;
  if (h > MAILDIR_HOST_MAX || memchr(host, '/', h) || memchr(host, ':', h)) abort();
  for (k = 0; k < h && k < n && p[k] != '/' && p[k] != ':'; k++) if (host[k] != p[k]) abort();
  k = maildir_name(name, ~0UL, ~0UL, ~0UL, ~0UL, host, h);
  if (k > MAILDIR_NAME_MAX || name[k] || strlen(name) > k) abort();
}

/* ---- 3: Delivered-To in a message */

static void loop_search(const char *p, size_t n)
{
  const char *nl = memchr(p, '\n', n);
  size_t rlen = nl ? (size_t)(nl - p) : n;
  const char *msg = p + rlen + (nl != 0);
  size_t mlen = n - rlen - (nl != 0), cut = mlen / 2;
  if (hdr_delivered_to(msg, cut, 0, p, rlen) && !hdr_delivered_to(msg, mlen, 1, p, rlen)) abort();
  if (hdr_delivered_to(msg, mlen, 0, p, rlen) && !hdr_delivered_to(msg, mlen, 1, p, rlen)) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  const char *p = (const char *)data + 1;
  size_t n = size ? size - 1 : 0;
  if (!size) return 0;
  switch (data[0] & 3) {
  case 0: lines(p, n, 0); break;
  case 1: lines(p, n, 1); break;
  case 2: names(p, n); break;
  default: loop_search(p, n);
  }
  return 0;
}
