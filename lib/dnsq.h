/*
 * dnsq.h -- a small DNS stub resolver for the checks made during an SMTP
 * session (SPF now, DKIM and DMARC keys next): TXT, A, AAAA, MX and PTR
 * questions to a recursive server, over UDP with a TCP retry when the
 * answer comes back truncated.
 *
 * Servers (dnsq_servers_init): DNSCACHEIP when given, in libowfat's form
 * (addresses one after another: "127.0.0.54.127.0.0.55"; IPv6 ones too,
 * separated by spaces or commas), else the nameserver lines of
 * /etc/resolv.conf, else 127.0.0.1; at most DNSQ_SERVERS_MAX; port 53.
 *
 * A query (dnsq_query) goes to each server in turn, DNSQ_ROUNDS times
 * round, each try waiting at most the per-try timeout and never past the
 * caller's deadline (milliseconds of dnsq_now()).  Each try uses a fresh
 * socket bound to a random source port and a random 16-bit id; an answer
 * counts only when it comes from the server's address and port, carries the
 * id, is a response, and repeats the question (name, type, class IN).
 * Anything else is dropped and the wait goes on.
 *
 * Results (struct dnsq_result's status):
 *   DNSQ_OK         answered: the records of the type asked for at the
 *                   name (CNAMEs in the answer followed), maybe none
 *   DNSQ_NXDOMAIN   the name does not exist (RCODE 3)
 *   DNSQ_TEMP       no usable answer by the deadline: timeouts, SERVFAIL,
 *                   REFUSED, a server that cannot be reached, out of memory
 *   DNSQ_MALFORMED  an answer to this question that does not parse
 *   DNSQ_BADNAME    the name cannot be asked (empty label, label over 63,
 *                   name over 253 bytes); nothing is sent
 * The records are in r->recs, one after another, each a 2-byte big-endian
 * length and its data: A 4 bytes; AAAA 16; MX the 2-byte preference and the
 * exchange's name; PTR a name; TXT its strings joined.  Names are dotted
 * text without the final dot.  dnsq_next walks them.
 *
 * The parser (dnsq_parse) takes any bytes: a compression pointer must point
 * before the label that holds it (so no loop), names stay within 255
 * bytes, every count and length is checked against the end of the packet,
 * and at most DNSQ_CNAME_MAX CNAMEs are followed.
 *
 * The cache (struct dnsq_cache) is owned by the caller and lives for one
 * session: DNSQ_CACHE_MAX answers (the oldest replaced), each kept with
 * its status, so that a name asked twice costs one query; DNSQ_TEMP is not
 * kept.  dnsq_lookup asks the cache, then the servers, within the cache's
 * deadline; it is the lookup function the SPF evaluator takes.
 */
#ifndef IMC_DNSQ_H
#define IMC_DNSQ_H

#include <stddef.h>
#include "owfat.h"

#define DNSQ_A      1
#define DNSQ_CNAME  5
#define DNSQ_PTR   12
#define DNSQ_MX    15
#define DNSQ_TXT   16
#define DNSQ_AAAA  28

#define DNSQ_OK          0
#define DNSQ_NXDOMAIN    1
#define DNSQ_TEMP      (-1)
#define DNSQ_MALFORMED (-2)
#define DNSQ_BADNAME   (-3)

#define DNSQ_SERVERS_MAX 8
#define DNSQ_ROUNDS      2
#define DNSQ_TRY_MS      3000      /* default wait for one try */
#define DNSQ_CNAME_MAX   8
#define DNSQ_NAME_MAX    253       /* dotted, without the final dot */
#define DNSQ_CACHE_MAX   64

struct dnsq_servers {
  unsigned char ip[DNSQ_SERVERS_MAX][16];    /* IPv4 as ::ffff:a.b.c.d */
  unsigned n;
  unsigned try_ms;                           /* wait for one try */
};

struct dnsq_result {
  int status;
  stralloc recs;           /* records: 2-byte length, data */
  unsigned n;              /* how many */
};

/* from DNSCACHEIP's text (0: /etc/resolv.conf); 0 ok, -1 no usable address */
int dnsq_servers_init(struct dnsq_servers *s, const char *dnscacheip);
/* the servers in DNSCACHEIP's text: how many (0 none) */
unsigned dnsq_servers_scan(struct dnsq_servers *s, const char *text);

/* milliseconds of a monotonic clock */
unsigned long long dnsq_now(void);

/* one question; r->status is also returned */
int dnsq_query(const struct dnsq_servers *s, const char *name, unsigned type,
               unsigned long long deadline, struct dnsq_result *r);

/* the wire form of a dotted name into out (at least 255 bytes): its length, 0 bad name */
size_t dnsq_name_wire(const char *name, unsigned char *out);
/* the answer in pkt to the query in q (as sent): r->status: DNSQ_OK,
   DNSQ_NXDOMAIN, DNSQ_TEMP (a server failure: ask another), DNSQ_MALFORMED;
   returns 1 when pkt answers q, 0 when it is not an answer to q (ignore it),
   2 when it is truncated (ask over TCP) */
int dnsq_parse(const unsigned char *pkt, size_t len, const unsigned char *q, size_t qlen,
               struct dnsq_result *r);

/* the record after *pos (start at 0): 1 with *data and *len, 0 at the end */
int dnsq_next(const struct dnsq_result *r, size_t *pos, const char **data, size_t *len);
void dnsq_result_free(struct dnsq_result *r);

struct dnsq_cache_entry {
  char name[DNSQ_NAME_MAX + 1];
  unsigned type;
  int status;
  unsigned n;
  stralloc recs;
};

struct dnsq_cache {
  const struct dnsq_servers *servers;
  unsigned long long deadline;     /* for every lookup through it */
  struct dnsq_cache_entry e[DNSQ_CACHE_MAX];
  unsigned used, next;
  unsigned long queries, hits;     /* questions sent, answers from the cache */
};

void dnsq_cache_init(struct dnsq_cache *c, const struct dnsq_servers *s, unsigned long long deadline);
void dnsq_cache_free(struct dnsq_cache *c);
/* name and type through the cache (ctx is the struct dnsq_cache); r->status returned */
int dnsq_lookup(void *ctx, const char *name, unsigned type, struct dnsq_result *r);
/* TXT records through the cache (ctx): each record's strings joined, the
   records NUL-separated in out: 1 found, 0 none (NXDOMAIN, no TXT, a bad
   name), -1 temporary failure (lib/dkim.h's dkim_txt_fn) */
int dnsq_txt(void *ctx, const char *name, stralloc *out);

#endif
