/*
 * tcpd_table.c -- imc-tcpd's running children (see tcpd.h).
 *
 * Inputs: a child's pid and client address when it is spawned, its pid
 * when it is reaped.  Outputs: the number of children in all (nchild) and
 * for one client address.  Failure modes: the table is full (table_add -1;
 * the caller refuses the connection); an unknown pid (ignored).
 *
 * The children are an unordered array: removal moves the last one into
 * the hole, so finding a pid is a scan of at most TCPD_MAXCHILD entries,
 * once per exiting child.  The per-address counts are an open-addressing
 * hash table with linear probing, twice as large as the most children, so
 * a free slot always exists; a count that drops to 0 is deleted by
 * backward shifting (no tombstones).  The hash is seeded at start, so
 * that clients cannot choose addresses that all collide.  The caller
 * counts by tcpd_client_key, so an IPv6 client is its /64 (ipv6prefix).
 */
#include <string.h>
#include "rules.h"
#include "tcpd.h"

#define MASK (TCPD_HASHSIZE - 1)

void table_init(struct tcpd_table *t, unsigned long seed)
{
  memset(t, 0, sizeof *t);
  t->seed = seed;
}

static size_t hash_ip(const struct tcpd_table *t, const unsigned char ip[16])
{
  unsigned long h = 2166136261UL ^ t->seed;
  int i;
  for (i = 0; i < 16; i++) { h ^= ip[i]; h *= 16777619UL; h ^= h >> 15; }
  return (size_t)(h & MASK);
}

/* the slot holding ip, or the free slot where it would go */
static size_t slot_of(const struct tcpd_table *t, const unsigned char ip[16])
{
  size_t h = hash_ip(t, ip);
  while (t->ips[h].count && memcmp(t->ips[h].ip, ip, 16)) h = (h + 1) & MASK;
  return h;
}

unsigned table_count_ip(const struct tcpd_table *t, const unsigned char ip[16])
{
  return t->ips[slot_of(t, ip)].count;
}

/* is k cyclically within (i, j]? */
static int between(size_t i, size_t k, size_t j)
{
  return i <= j ? (i < k && k <= j) : (i < k || k <= j);
}

static void ip_release(struct tcpd_table *t, const unsigned char ip[16])
{
  size_t i = slot_of(t, ip), j = i;
  if (!t->ips[i].count || --t->ips[i].count) return;
  for (;;) {                                  /* backward-shift deletion */
    j = (j + 1) & MASK;
    if (!t->ips[j].count) break;
    if (between(i, hash_ip(t, t->ips[j].ip), j)) continue;
    t->ips[i] = t->ips[j];
    i = j;
  }
  t->ips[i].count = 0;
}

int table_add(struct tcpd_table *t, pid_t pid, const unsigned char ip[16])
{
  size_t s;
  if (t->nchild >= TCPD_MAXCHILD) return -1;
  s = slot_of(t, ip);
  if (!t->ips[s].count) memcpy(t->ips[s].ip, ip, 16);
  t->ips[s].count++;
  t->child[t->nchild].pid = pid;
  memcpy(t->child[t->nchild].ip, ip, 16);
  t->nchild++;
  return 0;
}

int table_remove(struct tcpd_table *t, pid_t pid)
{
  unsigned i;
  for (i = 0; i < t->nchild; i++) {
    if (t->child[i].pid != pid) continue;
    ip_release(t, t->child[i].ip);
    t->child[i] = t->child[--t->nchild];
    return 1;
  }
  return 0;
}

void tcpd_client_key(unsigned char key[16], const unsigned char ip[16], unsigned prefix)
{
  unsigned i;
  memcpy(key, ip, 16);
  if (ip_is_v4(ip) || prefix >= 128) return;
  for (i = 0; i < 16; i++) {
    if (prefix >= 8 * (i + 1)) continue;
    key[i] &= prefix > 8 * i ? (unsigned char)(0xff << (8 - (prefix - 8 * i))) : 0;
  }
}
