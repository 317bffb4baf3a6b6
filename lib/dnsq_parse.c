/*
 * dnsq_parse.c -- DNS names in wire form, and the parser of answers (see
 * dnsq.h).
 *
 * Input: any bytes, as received, and the query that was sent.  Output:
 * whether the bytes answer that query, and if so the status and the
 * records of the type asked at the name asked (after the CNAMEs of the
 * answer section, which are followed in the order they come).  Failure
 * modes: none of its own; hostile input gives "not an answer" (header or
 * question do not match) or DNSQ_MALFORMED.  Bounded: each name is read in
 * at most 255 wire bytes and a compression pointer must point before the
 * start of the labels it continues, so every jump goes backwards; the
 * answer count is read as far as the packet goes and no further.
 */
#include <string.h>
#include "dnsq.h"

#define HDR 12

static unsigned get16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }

size_t dnsq_name_wire(const char *name, unsigned char *out)
{
  size_t n = str_len(name), o = 0, i = 0, start;
  if (n && name[n - 1] == '.') n--;
  if (!n || n > DNSQ_NAME_MAX) return 0;
  while (i < n) {
    start = i;
    while (i < n && name[i] != '.') i++;
    if (i == start || i - start > 63) return 0;
    out[o++] = (unsigned char)(i - start);
    memcpy(out + o, name + start, i - start);
    o += i - start;
    if (i < n) i++;
    if (i == n && name[n - 1] == '.') return 0;     /* "a..": an empty last label */
  }
  out[o++] = 0;
  return o;
}

/* the name at *pos as dotted text into out (DNSQ_NAME_MAX + 1 bytes);
   *pos moves past its bytes in place; 0 ok, -1 malformed */
static int get_name(const unsigned char *p, size_t len, size_t *pos, char *out)
{
  size_t i = *pos, limit = *pos, o = 0, wire = 0, after = 0;
  unsigned c;
  for (;;) {
    if (i >= len) return -1;
    c = p[i];
    if ((c & 0xc0) == 0xc0) {
      if (i + 1 >= len) return -1;
      if (!after) after = i + 2;
      i = (c & 0x3f) << 8 | p[i + 1];
      if (i >= limit) return -1;          /* only backwards: no loop */
      limit = i;
      continue;
    }
    if (c & 0xc0) return -1;               /* 0x40, 0x80: no such label type */
    wire += c + 1;
    if (wire > 255 || i + 1 + c > len) return -1;
    if (!c) break;
    if (o) out[o++] = '.';
    if (o + c > DNSQ_NAME_MAX) return -1;
    if (memchr(p + i + 1, '.', c) || memchr(p + i + 1, 0, c)) return -1;
    memcpy(out + o, p + i + 1, c);
    o += c;
    i += 1 + c;
  }
  out[o] = 0;
  *pos = after ? after : i + 1;
  return 0;
}

static int same_name(const char *a, const char *b)
{
  size_t la = str_len(a), lb = str_len(b);
  return la == lb && !case_diffb(a, la, b);
}

/* the header and question of pkt repeat those of q: 1, else 0 */
static int matches(const unsigned char *pkt, size_t len, const unsigned char *q, size_t qlen, size_t *pos)
{
  char want[DNSQ_NAME_MAX + 1], got[DNSQ_NAME_MAX + 1];
  size_t qpos = HDR;
  if (len < HDR || qlen < HDR + 5) return 0;
  if (pkt[0] != q[0] || pkt[1] != q[1]) return 0;
  if (!(pkt[2] & 0x80) || (pkt[2] & 0x78)) return 0;     /* a response; opcode QUERY */
  if (get16(pkt + 4) != 1) return 0;
  *pos = HDR;
  if (get_name(q, qlen, &qpos, want) < 0 || get_name(pkt, len, pos, got) < 0) return 0;
  if (!same_name(want, got) || *pos + 4 > len || qpos + 4 > qlen) return 0;
  if (memcmp(pkt + *pos, q + qpos, 4)) return 0;         /* type and class */
  *pos += 4;
  return 1;
}

static int add_rec(struct dnsq_result *r, const char *data, size_t len, const char *pre, size_t plen)
{
  char l[2];
  l[0] = (char)((len + plen) >> 8);
  l[1] = (char)(len + plen);
  if (!stralloc_catb(&r->recs, l, 2) || !stralloc_catb(&r->recs, pre, plen)
      || !stralloc_catb(&r->recs, data, len)) return -1;
  r->n++;
  return 0;
}

/* the TXT strings of rdata joined; -1 malformed or no memory */
static int add_txt(struct dnsq_result *r, const unsigned char *p, size_t at, size_t end)
{
  static stralloc joined;
  joined.len = 0;
  while (at < end) {
    size_t l = p[at];
    if (at + 1 + l > end) return -1;
    if (!stralloc_catb(&joined, (const char *)p + at + 1, l)) return -1;
    at += 1 + l;
  }
  return add_rec(r, joined.s ? joined.s : "", joined.len, "", 0);
}

/* a name inside rdata [at, end), e.g. after MX's preference */
static int add_name(struct dnsq_result *r, const unsigned char *p, size_t len, size_t at, size_t end,
                    const char *pre, size_t plen)
{
  char name[DNSQ_NAME_MAX + 1];
  if (get_name(p, len, &at, name) < 0 || at != end) return -1;
  return add_rec(r, name, str_len(name), pre, plen);
}

static int add_data(struct dnsq_result *r, unsigned type, const unsigned char *p, size_t len,
                    size_t at, size_t rdlen)
{
  switch (type) {
  case DNSQ_A: return rdlen == 4 ? add_rec(r, (const char *)p + at, 4, "", 0) : -1;
  case DNSQ_AAAA: return rdlen == 16 ? add_rec(r, (const char *)p + at, 16, "", 0) : -1;
  case DNSQ_MX: return rdlen >= 3 ? add_name(r, p, len, at + 2, at + rdlen, (const char *)p + at, 2) : -1;
  case DNSQ_PTR: case DNSQ_CNAME: return add_name(r, p, len, at, at + rdlen, "", 0);
  case DNSQ_TXT: return add_txt(r, p, at, at + rdlen);
  }
  return add_rec(r, (const char *)p + at, rdlen, "", 0);
}

/* the answer section: records of qtype at cur, following CNAMEs */
static int answers(const unsigned char *p, size_t len, size_t pos, unsigned count, unsigned qtype,
                   char *cur, struct dnsq_result *r)
{
  char owner[DNSQ_NAME_MAX + 1];
  unsigned type, cnames = 0;
  size_t rdlen, at;
  while (count--) {
    if (get_name(p, len, &pos, owner) < 0 || pos + 10 > len) return -1;
    type = get16(p + pos);
    rdlen = get16(p + pos + 8);
    at = pos + 10;
    if (at + rdlen > len) return -1;
    pos = at + rdlen;
    if (get16(p + at - 8) != 1 || !same_name(owner, cur)) continue;   /* class IN, at our name */
    if (type == qtype) {
      if (add_data(r, type, p, len, at, rdlen) < 0) return -1;
    } else if (type == DNSQ_CNAME) {
      if (++cnames > DNSQ_CNAME_MAX || get_name(p, len, &at, cur) < 0 || at != pos) return -1;
    }
  }
  return 0;
}

int dnsq_parse(const unsigned char *pkt, size_t len, const unsigned char *q, size_t qlen,
               struct dnsq_result *r)
{
  char cur[DNSQ_NAME_MAX + 1];
  size_t pos, qpos = HDR;
  unsigned rcode;
  r->recs.len = 0;
  r->n = 0;
  if (!matches(pkt, len, q, qlen, &pos)) return 0;
  if (pkt[2] & 0x02) return 2;
  rcode = pkt[3] & 0x0f;
  if (rcode == 3) { r->status = DNSQ_NXDOMAIN; return 1; }
  if (rcode != 0) { r->status = DNSQ_TEMP; return 1; }
  get_name(q, qlen, &qpos, cur);            /* matches() read it already */
  r->status = DNSQ_OK;
  if (answers(pkt, len, pos, get16(pkt + 6), get16(q + qpos), cur, r) < 0) {
    r->recs.len = 0;
    r->n = 0;
    r->status = DNSQ_MALFORMED;
  }
  return 1;
}

int dnsq_next(const struct dnsq_result *r, size_t *pos, const char **data, size_t *len)
{
  size_t l;
  if (*pos + 2 > r->recs.len) return 0;
  l = (size_t)(unsigned char)r->recs.s[*pos] << 8 | (unsigned char)r->recs.s[*pos + 1];
  if (*pos + 2 + l > r->recs.len) return 0;
  *data = r->recs.s + *pos + 2;
  *len = l;
  *pos += 2 + l;
  return 1;
}

void dnsq_result_free(struct dnsq_result *r)
{
  stralloc_free(&r->recs);
  r->n = 0;
}
