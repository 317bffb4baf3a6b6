/*
 * fuzz_dnsq.c -- libFuzzer target for the DNS answer parser
 * (lib/dnsq_parse.c): the input is a packet answering a fixed query for
 * each type (its first two bytes are set to the query's id, so that most
 * inputs reach the answer section).  Whatever the bytes, the records that
 * come out must be walkable to the end of r.recs, A records 4 bytes, AAAA
 * 16, names at most 253 bytes; and a DNS name is put to wire form.
 */
#include <stdlib.h>
#include <string.h>
#include "dnsq.h"

static const unsigned types[] = { DNSQ_A, DNSQ_AAAA, DNSQ_MX, DNSQ_PTR, DNSQ_TXT, DNSQ_CNAME };

static void one(const unsigned char *pkt, size_t len, unsigned type)
{
  static struct dnsq_result r;
  unsigned char q[300], w[256];
  size_t wl = dnsq_name_wire("x.example.test", w), pos = 0, dl, n = 0;
  const char *d;
  memset(q, 0, 12);
  q[0] = pkt[0]; q[1] = pkt[1]; q[2] = 1; q[5] = 1;
  memcpy(q + 12, w, wl);
  q[12 + wl] = (unsigned char)(type >> 8); q[13 + wl] = (unsigned char)type; q[14 + wl] = 0; q[15 + wl] = 1;
  int rc = dnsq_parse(pkt, len, q, 16 + wl, &r);
  if (rc < 0 || rc > 2) abort();
  if (rc != 1 || r.status != DNSQ_OK) return;
  while (dnsq_next(&r, &pos, &d, &dl)) {
    n++;
    if ((type == DNSQ_A && dl != 4) || (type == DNSQ_AAAA && dl != 16)) abort();
    if ((type == DNSQ_PTR || type == DNSQ_CNAME) && (dl > DNSQ_NAME_MAX || memchr(d, 0, dl))) abort();
    if (type == DNSQ_MX && (dl < 2 || dl > DNSQ_NAME_MAX + 2)) abort();
  }
  if (pos != r.recs.len || n != r.n) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  char name[300];
  unsigned char w[256];
  size_t i;
  if (size < 2) return 0;
  for (i = 0; i < sizeof types / sizeof *types; i++) one(data, size, types[i]);
  if (size < sizeof name) {
    memcpy(name, data, size);
    name[size] = 0;
    size_t n = dnsq_name_wire(name, w);
    if (n > 255) abort();
  }
  return 0;
}
