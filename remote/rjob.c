/*
 * rjob.c -- parsing imc-remote's job lines (see rjob.h).
 */
#include <string.h>
#include "addr.h"
#include "config.h"
#include "dsn.h"
#include "jobchan.h"
#include "rjob.h"

static const char *const prio_names[PRIO_N] = { "urgent", "normal", "nonurgent" };

/* the field from *pos up to TAB or the end; advances past the TAB */
static const char *field(const char *line, size_t len, size_t *pos, size_t *flen)
{
  const char *s = line + *pos, *tab;
  if (*pos > len) return 0;
  tab = memchr(s, '\t', len - *pos);
  *flen = tab ? (size_t)(tab - s) : len - *pos;
  *pos += *flen + 1;
  return s;
}

static int scan_num(const char *s, size_t n, unsigned long long max, unsigned long long *out)
{
  unsigned long long v = 0;
  size_t i;
  if (n == 0 || n > 20) return 0;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    if (v > (max - (unsigned)(s[i] - '0')) / 10) return 0;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  *out = v;
  return 1;
}

static int scan_prio(const char *s, size_t n)
{
  int i;
  for (i = 0; i < PRIO_N; i++)
    if (strlen(prio_names[i]) == n && !memcmp(prio_names[i], s, n)) return i;
  return -1;
}

/* "PRIO[,OPTION...]": the priority, and the options it knows */
static int scan_prio_opts(const char *s, size_t n, struct rjob *j)
{
  const char *c = memchr(s, ',', n);
  size_t k = c ? (size_t)(c - s) : n;
  int prio = scan_prio(s, k);
  while (c) {
    const char *o = c + 1, *e = memchr(o, ',', n - (size_t)(o - s));
    size_t olen = e ? (size_t)(e - o) : n - (size_t)(o - s);
    if (olen == 8 && !memcmp(o, "smtputf8", 8)) j->smtputf8 = 1;
    c = e;
  }
  return prio;
}

static size_t count_fields(const char *s, size_t len)
{
  size_t n = 1, i;
  for (i = 0; i < len; i++) n += s[i] == '\t';
  return n;
}

/* FD, MSGLEN, PRIORITY and SENDER: 0 or the reason they are unusable */
static const char *parse_head(const char *f[4], const size_t n[4], struct rjob *j)
{
  unsigned long long v;
  size_t fdlen = jobchan_field_id(f[0], n[0], &j->id, &j->idlen);
  if (!scan_num(f[0], fdlen, 1U << 30, &v)) return "bad fd";
  j->fd = (int)v;
  if (!scan_num(f[1], n[1], ~0ULL >> 1, &j->msglen)) return "bad message length";
  if ((j->prio = scan_prio_opts(f[2], n[2], j)) < 0) return "bad priority";
  j->sender = f[3];
  j->slen = n[3];
  if (n[3] && f[3][0] == '<') {
    size_t gt = byte_chr(f[3], n[3], '>');
    if (gt == n[3] || (gt > 1 && !rjob_addr_ok(f[3] + 1, gt - 1))) return "bad sender";
  } else if (n[3] && !rjob_addr_ok(f[3], n[3])) return "bad sender";
  return 0;
}

size_t rjob_parse(const char *line, size_t len, struct rjob *j)
{
  const char *f[4];
  size_t n[4], pos = 0, i;
  memset(j, 0, sizeof *j);
  j->fd = -1;
  if (len == 0) return 0;
  for (i = 0; i < 4; i++)
    if (!(f[i] = field(line, len, &pos, &n[i]))) { j->err = "too few fields"; return 1; }
  if (pos > len) { j->err = "no recipient"; return 1; }
  j->rcpts = line + pos;
  j->rlen = len - pos;
  j->nrcpt = count_fields(j->rcpts, j->rlen);
  j->err = parse_head(f, n, j);
  return j->nrcpt;
}

int rjob_rcpt_next(const struct rjob *j, size_t *pos, const char **r, size_t *rlen)
{
  if (*pos > j->rlen || !j->rcpts) return 0;
  *r = field(j->rcpts, j->rlen, pos, rlen);
  return *r != 0;
}

int rjob_addr_ok(const char *s, size_t len)
{
  return len <= RJOB_ADDR_MAX && addr_carried(s, len);     /* the rule imc-smtpd applies at MAIL and RCPT */
}

int rjob_field_split(char *f, size_t flen, int mail, char **addr, char **params)
{
  struct dsn_params p;
  size_t gt;
  f[flen] = 0;
  *addr = f;
  *params = f + flen;
  if (!flen || f[0] != '<') return 0;
  gt = byte_chr(f, flen, '>');
  if (gt == flen || (gt + 1 < flen && f[gt + 1] != ' ')) return -1;
  f[gt] = 0;
  *addr = f + 1;
  *params = gt + 1 < flen ? f + gt + 2 : f + flen;
  return dsn_unpack(*params, str_len(*params), mail, &p);
}
