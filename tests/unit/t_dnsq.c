/*
 * t_dnsq.c -- the DNS stub resolver (lib/dnsq*.c): names to wire form,
 * DNSCACHEIP's forms, the answer parser on good and hostile packets
 * (compression loops and forward pointers, lengths past the end, absurd
 * counts, wrong id or question, CNAME chains, TXT strings joined), and,
 * against a responder forked on 127.A.B.53 port 53 (root only, else SKIP):
 * a forged answer with the wrong id ignored, truncation retried over TCP,
 * a silent server costing no more than the deadline, the cache asked once.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "dnsq.h"

static unsigned char pkt[1024];
static size_t plen;
static unsigned char q[300];
static size_t qlen;

static void put(const void *b, size_t n) { memcpy(pkt + plen, b, n); plen += n; }
static void put16(unsigned v) { unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v }; put(b, 2); }

/* the query as dnsq would send it, id 0x1234 */
static void make_q(const char *name, unsigned type)
{
  unsigned char w[256];
  size_t wl = dnsq_name_wire(name, w);
  memset(q, 0, 12);
  q[0] = 0x12; q[1] = 0x34; q[2] = 1; q[5] = 1;
  memcpy(q + 12, w, wl);
  q[12 + wl] = (unsigned char)(type >> 8); q[13 + wl] = (unsigned char)type;
  q[14 + wl] = 0; q[15 + wl] = 1;
  qlen = 16 + wl;
}

/* an answer's header and question: id, flags, rcode, ancount */
static void start(unsigned id, unsigned rcode, unsigned an)
{
  plen = 0;
  put16(id); put16(0x8180 | rcode); put16(1); put16(an); put16(0); put16(0);
  put(q + 12, qlen - 12);
}

static void rr_head(unsigned type, unsigned rdlen)
{
  put16(0xc00c); put16(type); put16(1); put16(0); put16(60); put16(rdlen);
}

static struct dnsq_result r;

static int parse(void) { return dnsq_parse(pkt, plen, q, qlen, &r); }

static const char *rec(unsigned i)
{
  static char buf[300];
  const char *d;
  size_t pos = 0, len = 0;
  while (dnsq_next(&r, &pos, &d, &len) && i--) ;
  if (i != (unsigned)-1 || len >= sizeof buf) return "(none)";
  memcpy(buf, d, len);
  buf[len] = 0;
  return buf;
}

static void test_names(void)
{
  unsigned char w[300];
  char l64[70], long_name[300];
  CHECK(dnsq_name_wire("a.bc", w) == 6 && !memcmp(w, "\1a\2bc\0", 6));
  CHECK(dnsq_name_wire("a.bc.", w) == 6);
  CHECK(dnsq_name_wire("", w) == 0 && dnsq_name_wire(".", w) == 0 && dnsq_name_wire("a..b", w) == 0);
  CHECK(dnsq_name_wire("a.b..", w) == 0 && dnsq_name_wire(".a", w) == 0);
  memset(l64, 'x', 64); l64[64] = 0;
  CHECK(dnsq_name_wire(l64, w) == 0);
  l64[63] = 0;
  CHECK(dnsq_name_wire(l64, w) == 65);
  memset(long_name, 'a', 255); long_name[255] = 0;        /* 255 bytes: too long */
  for (int i = 1; i < 255; i += 2) long_name[i] = '.';
  CHECK(dnsq_name_wire(long_name, w) == 0);
}

static void test_servers(void)
{
  struct dnsq_servers s;
  CHECK(dnsq_servers_scan(&s, "127.0.0.54.127.0.0.55") == 2 && s.ip[1][15] == 55 && s.ip[0][10] == 0xff);
  CHECK(dnsq_servers_scan(&s, "::1, 127.0.0.53") == 2 && s.ip[0][15] == 1 && s.ip[0][10] == 0);
  CHECK(dnsq_servers_scan(&s, "nonsense") == 0);
  CHECK(dnsq_servers_init(&s, "") == -1);
  CHECK(dnsq_servers_init(&s, 0) == 0 && s.n >= 1);
}

static void test_good(void)
{
  make_q("x.test", DNSQ_A);
  start(0x1234, 0, 2);
  rr_head(DNSQ_A, 4); put("\xc0\0\2\1", 4);
  rr_head(DNSQ_A, 4); put("\xc0\0\2\2", 4);
  CHECK(parse() == 1 && r.status == DNSQ_OK && r.n == 2 && !memcmp(rec(1), "\xc0\0\2\2", 4));
  start(0x1234, 0, 0);
  CHECK(parse() == 1 && r.status == DNSQ_OK && r.n == 0);
  start(0x1234, 3, 0);
  CHECK(parse() == 1 && r.status == DNSQ_NXDOMAIN);
  start(0x1234, 2, 0);
  CHECK(parse() == 1 && r.status == DNSQ_TEMP);
  /* CNAME chain: x.test -> y.test (compressed) -> A at y.test; an A at another name ignored */
  start(0x1234, 0, 3);
  rr_head(DNSQ_CNAME, 4); put("\1y\xc0\16", 4);
  put16(0xc000 | (unsigned)(plen - 4)); put16(DNSQ_A); put16(1); put16(0); put16(0); put16(4); put("\1\2\3\4", 4);
  rr_head(DNSQ_A, 4); put("\5\6\7\10", 4);
  CHECK(parse() == 1 && r.status == DNSQ_OK && r.n == 1 && !memcmp(rec(0), "\1\2\3\4", 4));
  /* TXT strings joined; MX preference and name */
  make_q("t.test", DNSQ_TXT);
  start(0x1234, 0, 1);
  rr_head(DNSQ_TXT, 11); put("\5v=spf\0041 -a", 11);
  CHECK(parse() == 1 && r.n == 1 && r.recs.len == 2 + 9 && !memcmp(rec(0), "v=spf1 -a", 9));
  make_q("m.test", DNSQ_MX);
  start(0x1234, 0, 1);
  rr_head(DNSQ_MX, 7); put("\0\12\2mx\xc0\14", 7);
  CHECK(parse() == 1 && r.n == 1 && !memcmp(rec(0), "\0\12mx.m.test", 11));
  /* truncated: ask over TCP */
  start(0x1234, 0, 0);
  pkt[2] |= 2;
  CHECK(parse() == 2);
}

static void test_hostile(void)
{
  make_q("x.test", DNSQ_A);
  start(0x1235, 0, 0);
  CHECK(parse() == 0);                                 /* wrong id */
  start(0x1234, 0, 0);
  pkt[2] &= 0x7f;
  CHECK(parse() == 0);                                 /* not a response */
  start(0x1234, 0, 0);
  pkt[12 + 1] = 'y';
  CHECK(parse() == 0);                                 /* another question */
  start(0x1234, 0, 0);
  pkt[12 + 1] = 'X';
  CHECK(parse() == 1);                                 /* the same, in other case */
  start(0x1234, 0, 0);
  pkt[plen - 1] = 3;
  CHECK(parse() == 0);                                 /* class CHAOS */
  plen = 11;
  CHECK(parse() == 0);                                 /* shorter than a header */
  start(0x1234, 0, 60000);                             /* absurd count */
  rr_head(DNSQ_A, 4); put("\1\2\3\4", 4);
  CHECK(parse() == 1 && r.status == DNSQ_MALFORMED && r.n == 0);
  start(0x1234, 0, 1);                                 /* rdata past the end */
  rr_head(DNSQ_A, 400); put("\1\2\3\4", 4);
  CHECK(parse() == 1 && r.status == DNSQ_MALFORMED);
  start(0x1234, 0, 1);                                 /* A of 5 bytes */
  rr_head(DNSQ_A, 5); put("\1\2\3\4\5", 5);
  CHECK(parse() == 1 && r.status == DNSQ_MALFORMED);
  start(0x1234, 0, 1);                                 /* a pointer to itself */
  put16(0xc000 | (unsigned)plen); put16(DNSQ_A); put16(1); put16(0); put16(0); put16(4); put("\1\2\3\4", 4);
  CHECK(parse() == 1 && r.status == DNSQ_MALFORMED);
  start(0x1234, 0, 1);                                 /* a forward pointer */
  put16(0xc000 | (unsigned)(plen + 2)); put("\0", 1);
  CHECK(parse() == 1 && r.status == DNSQ_MALFORMED);
  start(0x1234, 0, 1);                                 /* two labels pointing at each other */
  { size_t at = plen; put("\1a\xc0", 3); pkt[plen++] = (unsigned char)(at + 3);
    put("\1b\xc0", 3); pkt[plen++] = (unsigned char)at; }
  CHECK(parse() == 1 && r.status == DNSQ_MALFORMED);
  make_q("t.test", DNSQ_TXT);
  start(0x1234, 0, 1);                                 /* a TXT string past its rdata */
  rr_head(DNSQ_TXT, 3); put("\11ab", 3);
  CHECK(parse() == 1 && r.status == DNSQ_MALFORMED);
  make_q("c.test", DNSQ_A);                            /* a CNAME loop ends */
  start(0x1234, 0, 10);
  for (int i = 0; i < 10; i++) { rr_head(DNSQ_CNAME, 2); put16(0xc00c); }
  CHECK(parse() == 1 && r.status == DNSQ_MALFORMED);
}

/* ---- against a responder */

static char server[32];

/* answers each A question with 192.0.2.1; first a copy with a wrong id;
   for "tc.test" a truncated one over UDP and the answer over TCP; "silent.test" never */
static void responder(int u, int t)
{
  unsigned char b[512], o[512];
  ssize_t n;
  struct sockaddr_in from;
  socklen_t fl;
  for (;;) {
    fl = sizeof from;
    n = recvfrom(u, b, sizeof b, 0, (struct sockaddr *)&from, &fl);
    if (n < 17) continue;
    if (memmem(b, (size_t)n, "\6silent", 7)) continue;
    memcpy(o, b, (size_t)n);
    o[2] = 0x81; o[3] = 0x80; o[7] = 1;
    memcpy(o + n, "\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\xc0\0\2\1", 16);
    o[0] ^= 0xff;
    sendto(u, o, (size_t)n + 16, 0, (struct sockaddr *)&from, fl);
    o[0] ^= 0xff;
    if (memmem(b, (size_t)n, "\2tc", 3)) {
      unsigned char l[2];
      int c;
      o[2] |= 2; o[7] = 0;
      sendto(u, o, (size_t)n, 0, (struct sockaddr *)&from, fl);
      c = accept(t, 0, 0);
      if (c < 0 || read(c, l, 2) != 2 || read(c, b, (size_t)(l[0] << 8 | l[1])) != (l[0] << 8 | l[1])) _exit(1);
      o[2] &= (unsigned char)~2; o[7] = 1;
      l[0] = 0; l[1] = (unsigned char)(n + 16);
      if (write(c, l, 2) != 2 || write(c, o, (size_t)n + 16) != n + 16) _exit(1);
      close(c);
      continue;
    }
    sendto(u, o, (size_t)n + 16, 0, (struct sockaddr *)&from, fl);
  }
}

static pid_t start_responder(void)
{
  struct sockaddr_in sa;
  int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  pid_t pid;
  snprintf(server, sizeof server, "127.%u.%u.53", 100 + getpid() % 100, 1 + getpid() / 100 % 250);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(53);
  inet_pton(AF_INET, server, &sa.sin_addr);
  setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(u, (struct sockaddr *)&sa, sizeof sa) < 0 || bind(t, (struct sockaddr *)&sa, sizeof sa) < 0
      || listen(t, 4) < 0) return -1;
  if ((pid = fork()) == 0) responder(u, t);
  close(u);
  close(t);
  return pid;
}

static void test_live(void)
{
  struct dnsq_servers s;
  struct dnsq_cache c;
  unsigned long long t0;
  pid_t pid = start_responder();
  if (pid < 0) { printf("SKIP: t_dnsq: cannot bind port 53 on 127.x.y.53 (not root?)\n"); return; }
  CHECK(dnsq_servers_init(&s, server) == 0 && s.n == 1);
  s.try_ms = 300;
  CHECK(dnsq_query(&s, "x.test", DNSQ_A, dnsq_now() + 5000, &r) == DNSQ_OK && r.n == 1
        && !memcmp(rec(0), "\xc0\0\2\1", 4));
  CHECK(dnsq_query(&s, "tc.test", DNSQ_A, dnsq_now() + 5000, &r) == DNSQ_OK && r.n == 1);
  t0 = dnsq_now();
  CHECK(dnsq_query(&s, "silent.test", DNSQ_A, t0 + 500, &r) == DNSQ_TEMP);
  CHECK(dnsq_now() - t0 >= 450 && dnsq_now() - t0 < 1500);
  CHECK(dnsq_query(&s, "a..test", DNSQ_A, t0 + 500, &r) == DNSQ_BADNAME);
  dnsq_cache_init(&c, &s, dnsq_now() + 5000);
  CHECK(dnsq_lookup(&c, "x.test", DNSQ_A, &r) == DNSQ_OK && r.n == 1);
  CHECK(dnsq_lookup(&c, "X.TEST", DNSQ_A, &r) == DNSQ_OK && r.n == 1 && !memcmp(rec(0), "\xc0\0\2\1", 4));
  CHECK(c.queries == 1 && c.hits == 1);
  dnsq_cache_free(&c);
  kill(pid, SIGKILL);
  waitpid(pid, 0, 0);
  dnsq_servers_init(&s, "127.0.0.1");
  s.ip[0][14] = 99;                                   /* 127.0.99.1: nothing listens: refused */
  t0 = dnsq_now();
  CHECK(dnsq_query(&s, "x.test", DNSQ_A, t0 + 3000, &r) == DNSQ_TEMP && dnsq_now() - t0 < 1000);
}

int main(void)
{
  test_names();
  test_servers();
  test_good();
  test_hostile();
  test_live();
  dnsq_result_free(&r);
  return check_done("t_dnsq");
}
