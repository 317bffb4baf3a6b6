/*
 * maildir.c -- job-line parsing, Maildir names, delivery headers and loop
 * detection for imc-local (see maildir.h).  Pure functions: no I/O, no
 * allocation, every input bounded by its length argument (fuzzable).
 */
#include <limits.h>
#include <string.h>
#include "owfat.h"
#include "jobchan.h"
#include "maildir.h"

#define JOB_FD_DIGITS 9          /* fds below 10^9 */
#define JOB_MSGLEN_DIGITS 18     /* lengths below 10^18 fit off_t */

/* whole field a decimal number of at most maxdigits digits: 1 ok */
static int scan_decimal(const char *s, size_t len, size_t maxdigits, unsigned long long *out)
{
  unsigned long long v = 0;
  size_t i;
  if (len == 0 || len > maxdigits) return 0;
  for (i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10 + (unsigned long long)(s[i] - '0');
  }
  *out = v;
  return 1;
}

/* the field starting at *pos, up to TAB or the end; advances *pos past the TAB */
static size_t next_field(const char *s, size_t len, size_t *pos, const char **field)
{
  const char *tab = memchr(s + *pos, '\t', len - *pos);
  size_t n = tab ? (size_t)(tab - (s + *pos)) : len - *pos;
  *field = s + *pos;
  *pos += n + (tab ? 1 : 0);
  return n;
}

static size_t count_fields(const char *s, size_t len)
{
  size_t i, n = 1;
  for (i = 0; i < len; i++) if (s[i] == '\t') n++;
  return n;
}

static int has_control(const char *s, size_t len)
{
  size_t i;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 32 || c == 127) return 1;
  }
  return 0;
}

int rcpt_valid(const char *s, size_t len)
{
  return len > 0 && len <= JOB_ADDR_MAX && !has_control(s, len);
}

/* FD, MSGLEN and SENDER of a line whose fields make pairs */
static const char *job_head(const char *line, size_t len, size_t *pos, struct job *j)
{
  unsigned long long v;
  const char *f;
  size_t n = next_field(line, len, pos, &f);
  n = jobchan_field_id(f, n, &j->id, &j->idlen);
  if (!scan_decimal(f, n, JOB_FD_DIGITS, &v) || v < 3 || v > INT_MAX) return "bad file descriptor";
  j->fd = (int)v;
  n = next_field(line, len, pos, &f);
  if (!scan_decimal(f, n, JOB_MSGLEN_DIGITS, &j->msglen)) return "bad message length";
  j->slen = next_field(line, len, pos, &j->sender);
  if (j->slen > JOB_ADDR_MAX || has_control(j->sender, j->slen)) return "bad sender";
  return 0;
}

size_t job_parse(const char *line, size_t len, struct job *j)
{
  size_t nf, pos = 0;
  memset(j, 0, sizeof *j);
  j->fd = -1;
  if (len == 0) return 0;
  nf = count_fields(line, len);
  if (nf < 5 || (nf - 3) % 2) { j->err = "malformed job line"; return 1; }
  j->npairs = (nf - 3) / 2;
  j->err = job_head(line, len, &pos, j);
  j->pairs = line + pos;
  j->plen = len - pos;
  return j->npairs;
}

int job_pair_next(const struct job *j, size_t *pos, struct job_pair *p)
{
  if (*pos >= j->plen) return 0;
  p->mlen = next_field(j->pairs, j->plen, pos, &p->mailbox);
  p->rlen = next_field(j->pairs, j->plen, pos, &p->rcpt);
  return 1;
}

size_t maildir_host(char *out, const char *host, size_t len)
{
  size_t i, n = 0;
  for (i = 0; i < len; i++) {
    const char *esc = host[i] == '/' ? "\\057" : host[i] == ':' ? "\\072" : 0;
    size_t w = esc ? 4 : 1;
    if (n + w > MAILDIR_HOST_MAX) break;
    if (esc) memcpy(out + n, esc, 4);
    else out[n] = host[i];
    n += w;
  }
  return n;
}

size_t maildir_name(char *out, unsigned long sec, unsigned long usec, unsigned long pid,
                    unsigned long q, const char *host, size_t hostlen)
{
  size_t n = fmt_ulong(out, sec);
  out[n++] = '.';
  out[n++] = 'M';
  n += fmt_ulong(out + n, usec);
  out[n++] = 'P';
  n += fmt_ulong(out + n, pid);
  out[n++] = 'Q';
  n += fmt_ulong(out + n, q);
  out[n++] = '.';
  if (hostlen > MAILDIR_HOST_MAX) hostlen = MAILDIR_HOST_MAX;
  memcpy(out + n, host, hostlen);
  n += hostlen;
  out[n] = 0;
  return n;
}

static size_t put(char *out, size_t n, const char *s, size_t len)
{
  memcpy(out + n, s, len);
  return n + len;
}

size_t deliv_header(char *out, const char *sender, size_t slen, const char *rcpt, size_t rlen)
{
  size_t n = put(out, 0, "Return-Path: <", 14);
  n = put(out, n, sender, slen);
  n = put(out, n, ">\nDelivered-To: ", 16);
  n = put(out, n, rcpt, rlen);
  out[n++] = '\n';
  return n;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* one header line (without LF): is it "Delivered-To: RCPT"? */
static int line_is_delivered_to(const char *s, size_t len, const char *rcpt, size_t rlen)
{
  size_t i = 13;
  if (len < 13 || case_diffb(s, 13, "delivered-to:")) return 0;
  while (i < len && is_blank(s[i])) i++;
  while (len > i && (is_blank(s[len - 1]) || s[len - 1] == '\r')) len--;
  return len - i == rlen && !case_diffb(s + i, rlen, rcpt);
}

int hdr_delivered_to(const char *msg, size_t len, int complete, const char *rcpt, size_t rlen)
{
  size_t pos = 0;
  while (pos < len) {
    const char *s = msg + pos;
    const char *nl = memchr(s, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - s) : len - pos;
    if (!nl && !complete) return 0;
    if (n == 0 || (n == 1 && s[0] == '\r')) return 0;   /* end of the header section */
    if (line_is_delivered_to(s, n, rcpt, rlen)) return 1;
    pos += n + 1;
  }
  return 0;
}
