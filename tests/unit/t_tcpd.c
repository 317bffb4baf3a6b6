/*
 * t_tcpd.c -- imc-tcpd's modules (smtpd/tcpd_*.c): the children table
 * against a naive model under random adds and removes (with a seed that
 * makes every address collide, to exercise backward-shift deletion), port
 * and IMC_LISTEN scanning, the child's environment, and a real listener on
 * loopback: EADDRINUSE for a second one, the addresses of a connection.
 * The hand-off to a worker (lib/handoff.c): a connection's frame parsed
 * back to the same variables, hostile frames refused, a descriptor passed
 * over a socketpair with its frame (extra descriptors closed); and the
 * pool's bookkeeping (tcpd_pool.c) with /bin/true as the worker.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"
#include "handoff.h"
#include "rules.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include "../../smtpd/tcpd/tcpd.h"

static struct tcpd_table t;

#define NMODEL 3000
static struct { pid_t pid; unsigned char ip[16]; } model[NMODEL];
static unsigned nmodel;

static unsigned model_count(const unsigned char ip[16])
{
  unsigned i, n = 0;
  for (i = 0; i < nmodel; i++) n += !memcmp(model[i].ip, ip, 16);
  return n;
}

static void random_ip(unsigned char ip[16], unsigned spread)
{
  memset(ip, 0, 16);
  ip[10] = ip[11] = 0xff;
  ip[15] = (unsigned char)(rand() % spread);
  ip[14] = (unsigned char)(rand() % 3);
}

static void test_table_random(unsigned long seed, unsigned spread)
{
  unsigned char ip[16];
  pid_t next = 100;
  int step, bad = 0;
  table_init(&t, seed);
  nmodel = 0;
  for (step = 0; step < 20000; step++) {
    if (nmodel < NMODEL && (rand() % 3 || !nmodel)) {
      random_ip(ip, spread);
      if (table_add(&t, next, ip) < 0) { bad++; break; }
      model[nmodel].pid = next++;
      memcpy(model[nmodel++].ip, ip, 16);
    } else {
      unsigned i = (unsigned)rand() % nmodel;
      if (table_remove(&t, model[i].pid) != 1) bad++;
      model[i] = model[--nmodel];
    }
    random_ip(ip, spread);
    if (table_count_ip(&t, ip) != model_count(ip)) bad++;
    if (t.nchild != nmodel) bad++;
  }
  CHECK(bad == 0);
  while (nmodel) CHECK(table_remove(&t, model[--nmodel].pid) == 1);
  random_ip(ip, spread);
  CHECK(t.nchild == 0 && table_count_ip(&t, ip) == 0);
}

static void test_table(void)
{
  unsigned char a[16], b[16];
  unsigned i;
  table_init(&t, 1);
  memset(a, 0, 16); a[15] = 1;
  memset(b, 0, 16); b[15] = 2;
  CHECK(table_add(&t, 10, a) == 0 && table_add(&t, 11, a) == 0 && table_add(&t, 12, b) == 0);
  CHECK(table_count_ip(&t, a) == 2 && table_count_ip(&t, b) == 1 && t.nchild == 3);
  CHECK(table_remove(&t, 99) == 0);
  CHECK(table_remove(&t, 10) == 1 && table_count_ip(&t, a) == 1);
  CHECK(table_remove(&t, 10) == 0);
  CHECK(table_remove(&t, 11) == 1 && table_count_ip(&t, a) == 0);
  CHECK(table_remove(&t, 12) == 1 && t.nchild == 0);
  for (i = 0; i < TCPD_MAXCHILD; i++) { a[13] = (unsigned char)(i >> 8); a[14] = (unsigned char)i; table_add(&t, (pid_t)i + 1, a); }
  CHECK(t.nchild == TCPD_MAXCHILD && table_add(&t, 99999, b) == -1);   /* full */
  for (i = 0; i < TCPD_MAXCHILD; i++) table_remove(&t, (pid_t)i + 1);
  CHECK(t.nchild == 0);
  srand(7);
  test_table_random(12345, 200);       /* many addresses */
  test_table_random(99, 3);            /* few addresses, long runs of the same */
}

/* an IPv6 client is counted by its /64 (control/ipv6prefix), IPv4 by its address */
static void test_client_key(void)
{
  unsigned char a[16], b[16], ka[16], kb[16];
  char buf[IP_FMT];
  ip_scan("2001:db8:1:2:aaaa::1", a);
  ip_scan("2001:db8:1:2:bbbb::2", b);
  tcpd_client_key(ka, a, 64);
  tcpd_client_key(kb, b, 64);
  CHECK(!memcmp(ka, kb, 16));
  ip_format(buf, ka);
  CHECK_STR(buf, "2001:db8:1:2::");
  tcpd_client_key(ka, a, 128);
  tcpd_client_key(kb, b, 128);
  CHECK(memcmp(ka, kb, 16) && !memcmp(ka, a, 16));
  tcpd_client_key(ka, a, 60);
  ip_format(buf, ka);
  CHECK_STR(buf, "2001:db8:1::");
  ip_scan("2001:db8:1:f::1", b);
  tcpd_client_key(kb, b, 60);
  CHECK(!memcmp(ka, kb, 16));                 /* 1:2 and 1:f share their first 60 bits */
  ip_scan("2001:db8:1:12::1", b);
  tcpd_client_key(kb, b, 60);
  CHECK(memcmp(ka, kb, 16));
  ip_scan("192.0.2.7", a);
  ip_scan("192.0.2.8", b);
  tcpd_client_key(ka, a, 64);
  tcpd_client_key(kb, b, 64);
  CHECK(!memcmp(ka, a, 16) && memcmp(ka, kb, 16));
  /* maxperip 1: a second address of the /64 finds the first one's count */
  table_init(&t, 3);
  ip_scan("2001:db8:1:2::10", a);
  ip_scan("2001:db8:1:2::20", b);
  tcpd_client_key(ka, a, 64);
  CHECK(table_add(&t, 40, ka) == 0);
  tcpd_client_key(kb, b, 64);
  CHECK(table_count_ip(&t, kb) == 1);
  ip_scan("2001:db8:1:3::20", b);
  tcpd_client_key(kb, b, 64);
  CHECK(table_count_ip(&t, kb) == 0);
  CHECK(table_remove(&t, 40) == 1);
}

static struct tcpd_recent rec;

/* AUTH failures per client within TCPD_AUTH_WINDOW; ETRN once a minute */
static void test_recent(void)
{
  unsigned char ip[16], key[16], k2[16];
  unsigned i;
  recent_init(&rec);
  CHECK(recent_report(&rec, "authfail 192.0.2.1", 18, 64, 1000) == 1);
  CHECK(recent_report(&rec, "authfail 192.0.2.1", 18, 64, 1100) == 1);
  CHECK(recent_report(&rec, "authfail nonsense", 17, 64, 1100) == 0);
  CHECK(recent_report(&rec, "hello 192.0.2.1", 15, 64, 1100) == 0);
  CHECK(recent_report(&rec, "authfail", 8, 64, 1100) == 0);
  ip_scan("192.0.2.1", ip);
  tcpd_client_key(key, ip, 64);
  CHECK(recent_authfail(&rec, key, 1100) == 2);
  CHECK(recent_authfail(&rec, key, 1599) == 2);
  CHECK(recent_authfail(&rec, key, 1600) == 0);               /* 10 minutes after the first */
  CHECK(recent_report(&rec, "authfail 192.0.2.1", 18, 64, 1700) == 1);
  CHECK(recent_authfail(&rec, key, 1700) == 1);               /* a new window */
  ip_scan("192.0.2.2", ip);
  tcpd_client_key(k2, ip, 64);
  CHECK(recent_authfail(&rec, k2, 1700) == 0);
  /* IPv6 by its /64 */
  CHECK(recent_report(&rec, "authfail 2001:db8::1", 20, 64, 2000) == 1);
  CHECK(recent_report(&rec, "authfail 2001:db8::2", 20, 64, 2000) == 1);
  ip_scan("2001:db8::99", ip);
  tcpd_client_key(key, ip, 64);
  CHECK(recent_authfail(&rec, key, 2001) == 2);
  /* ETRN */
  CHECK(recent_report(&rec, "etrn 192.0.2.9", 14, 64, 3000) == 1);
  ip_scan("192.0.2.9", ip);
  tcpd_client_key(key, ip, 64);
  CHECK(recent_etrnwait(&rec, key, 3000) == 60 && recent_etrnwait(&rec, key, 3045) == 15);
  CHECK(recent_etrnwait(&rec, key, 3060) == 0);
  /* bounded: a full table forgets expired entries, then the oldest */
  for (i = 0; i < TCPD_RECENT + 10; i++) {
    char line[64];
    int n = snprintf(line, sizeof line, "authfail 10.%u.%u.1", i >> 8, i & 255);
    CHECK(recent_report(&rec, line, (size_t)n, 64, 5000 + i) == 1);
  }
  CHECK(rec.n == TCPD_RECENT);
  ip_scan("10.0.0.1", ip);
  tcpd_client_key(key, ip, 64);
  CHECK(recent_authfail(&rec, key, 5000 + TCPD_RECENT + 10) == 0);   /* the oldest went */
  ip_scan("10.4.9.1", ip);                                             /* the last one stays */
  tcpd_client_key(key, ip, 64);
  CHECK(recent_authfail(&rec, key, 5000 + TCPD_RECENT + 10) == 1);
}

static void test_scan(void)
{
  unsigned port = 0;
  unsigned char ip[16];
  char buf[64];
  const char *p, *word = 0;
  CHECK(tcpd_scan_port("25", &port) && port == 25);
  CHECK(tcpd_scan_port("65535", &port) && port == 65535);
  CHECK(!tcpd_scan_port("0", &port) && !tcpd_scan_port("65536", &port));
  CHECK(!tcpd_scan_port("025", &port) && !tcpd_scan_port("", &port) && !tcpd_scan_port("smtp", &port));
  CHECK(!tcpd_scan_port(0, &port));
  p = "  127.0.0.1 \t::1\n";
  CHECK(tcpd_next_addr(&p, ip, buf, sizeof buf, &word) == 1 && ip_is_v4(ip));
  CHECK_STR(word, "127.0.0.1");
  CHECK(tcpd_next_addr(&p, ip, buf, sizeof buf, &word) == 1 && !ip_is_v4(ip) && ip[15] == 1);
  CHECK(tcpd_next_addr(&p, ip, buf, sizeof buf, &word) == 0);
  p = "0.0.0.0 localhost";
  CHECK(tcpd_next_addr(&p, ip, buf, sizeof buf, &word) == 1);
  CHECK(tcpd_next_addr(&p, ip, buf, sizeof buf, &word) == -1);
  CHECK_STR(word, "localhost");
}

static int has(char vars[][80], size_t n, const char *v)
{
  size_t i;
  for (i = 0; i < n; i++) if (!strcmp(vars[i], v)) return 1;
  return 0;
}

static void test_env(void)
{
  struct tcpd_conn c;
  char vars[10][80];
  size_t n;
  memset(&c, 0, sizeof c);
  ip_scan("::ffff:192.0.2.9", c.rip);
  ip_scan("2001:db8::25", c.lip);
  c.rport = 50123;
  c.lport = 25;
  c.verdict = RULE_RELAY;
  n = child_env_vars(vars, &c);
  CHECK(n == 6);
  CHECK(has(vars, n, "PROTO=TCP") && has(vars, n, "TCPREMOTEIP=192.0.2.9"));
  CHECK(has(vars, n, "TCPREMOTEPORT=50123") && has(vars, n, "TCPLOCALIP=2001:db8::25"));
  CHECK(has(vars, n, "TCPLOCALPORT=25") && has(vars, n, "IMC_RULE=relay"));
  c.submission = 1;
  c.verdict = RULE_AUTH;
  n = child_env_vars(vars, &c);
  CHECK(n == 7 && has(vars, n, "IMC_SUBMISSION=1") && has(vars, n, "IMC_RULE=auth"));
  c.report_fd = 5;
  c.authfail = 3;
  c.etrnwait = 42;
  n = child_env_vars(vars, &c);
  CHECK(n == 10 && has(vars, n, "IMC_REPORT_FD=5") && has(vars, n, "IMC_AUTHFAIL=3") && has(vars, n, "IMC_ETRNWAIT=42"));
}

static void test_listen(void)
{
  struct tcpd_listener l, l2;
  struct tcpd_conn c;
  struct sockaddr_storage peer;
  struct sockaddr_in sa;
  socklen_t len = sizeof peer;
  unsigned char ip[16];
  unsigned port;
  int s, fd = -1, tries;
  char buf[IP_FMT];
  ip_scan("127.0.0.1", ip);
  for (tries = 0; tries < 50; tries++) {
    port = 20000 + (unsigned)((getpid() * 7 + tries * 131) % 10000);
    if (tcpd_listen(&l, ip, port, 1) == 0) break;
  }
  CHECK(tries < 50 && l.submission == 1 && l.port == port);
  if (tries == 50) return;
  CHECK(tcpd_listen(&l2, ip, port, 0) == -1 && errno == EADDRINUSE);
  s = socket(AF_INET, SOCK_STREAM, 0);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)port);
  memcpy(&sa.sin_addr, ip + 12, 4);
  CHECK(connect(s, (struct sockaddr *)&sa, sizeof sa) == 0);
  for (tries = 0; tries < 100 && fd < 0; tries++) {
    fd = accept(l.fd, (struct sockaddr *)&peer, &len);
    if (fd < 0) usleep(10000);
  }
  CHECK(fd >= 0);
  memset(&c, 0, sizeof c);
  CHECK(tcpd_conn_addrs(&c, fd, &peer, len) == 0);
  ip_format(buf, c.rip);
  CHECK_STR(buf, "127.0.0.1");
  ip_format(buf, c.lip);
  CHECK_STR(buf, "127.0.0.1");
  CHECK(c.lport == port && c.rport != 0);
  close(fd);
  close(s);
  close(l.fd);
}

static void test_frame(void)
{
  struct tcpd_conn c;
  struct handoff h;
  char frame[HANDOFF_MAX];
  size_t n;
  memset(&c, 0, sizeof c);
  c.rip[10] = c.rip[11] = 0xff; c.rip[12] = 192; c.rip[13] = 0; c.rip[14] = 2; c.rip[15] = 1;
  c.lip[15] = 1;
  c.rport = 50123; c.lport = 587;
  c.verdict = RULE_AUTH; c.submission = 1; c.authfail = 3; c.etrnwait = 42;
  n = tcpd_frame(frame, &c);
  CHECK(n > 5 && handoff_parse(&h, frame, n) == 0);
  CHECK_STR(handoff_get(&h, "TCPREMOTEIP"), "192.0.2.1");
  CHECK_STR(handoff_get(&h, "TCPREMOTEPORT"), "50123");
  CHECK_STR(handoff_get(&h, "TCPLOCALIP"), "::1");
  CHECK_STR(handoff_get(&h, "TCPLOCALPORT"), "587");
  CHECK_STR(handoff_get(&h, "IMC_RULE"), "auth");
  CHECK_STR(handoff_get(&h, "IMC_SUBMISSION"), "1");
  CHECK_STR(handoff_get(&h, "IMC_AUTHFAIL"), "3");
  CHECK_STR(handoff_get(&h, "IMC_ETRNWAIT"), "42");
  CHECK(handoff_get(&h, "PATH") == 0);
  c.submission = 0; c.authfail = 0; c.etrnwait = 0;
  n = tcpd_frame(frame, &c);
  CHECK(handoff_parse(&h, frame, n) == 0 && !handoff_get(&h, "IMC_SUBMISSION") && !handoff_get(&h, "IMC_AUTHFAIL"));
  /* hostile frames */
  CHECK(handoff_parse(&h, "imc2\0TCPREMOTEIP=1.2.3.4", 25) < 0);                      /* magic */
  CHECK(handoff_parse(&h, "imc1\0TCPREMOTEIP=1.2.3.4", 24) < 0);                      /* no NUL */
  CHECK(handoff_parse(&h, "imc1\0TCPREMOTEIP=1.2.3.4\0TCPREMOTEIP=5.6.7.8", 43) < 0); /* twice */
  CHECK(handoff_parse(&h, "imc1\0TCPREMOTEIP=1.2 3\0", 24) < 0);                     /* space */
  CHECK(handoff_parse(&h, "imc1\0TCPREMOTEIP=\0", 18) < 0);                          /* empty */
  CHECK(handoff_parse(&h, "imc1\0IMC_RULE=relay\0", 20) < 0);                        /* no address */
  CHECK(handoff_parse(&h, "imc1\0=x\0TCPREMOTEIP=1.2.3.4\0", 29) < 0);             /* no name */
  CHECK(handoff_parse(&h, "imc1\0NEWER=x\0TCPREMOTEIP=1.2.3.4\0", 33) == 0);        /* skipped */
  CHECK(handoff_parse(&h, frame, HANDOFF_MAX + 1) < 0);
  {
    char lng[HANDOFF_VALUE_MAX + 2];
    memset(lng, 'a', sizeof lng - 1);
    lng[sizeof lng - 1] = 0;
    CHECK(handoff_add(frame, handoff_start(frame), HF_REMOTEIP, lng) == 0);         /* too long */
    lng[HANDOFF_VALUE_MAX] = 0;
    CHECK(handoff_add(frame, handoff_start(frame), HF_REMOTEIP, lng) > 0);
  }
}

static void test_fd_passing(void)
{
  char frame[HANDOFF_MAX], got[HANDOFF_MAX];
  int sv[2], p[2], extra[2], fd = -1;
  size_t n = handoff_add(frame, handoff_start(frame), HF_REMOTEIP, "192.0.2.9");
  ssize_t r;
  CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
  CHECK(pipe(p) == 0);
  CHECK(handoff_send(sv[0], frame, n, p[1]) == 0);
  r = handoff_recv(sv[1], got, &fd);
  CHECK(r == (ssize_t)n && fd >= 0 && !memcmp(got, frame, n));
  CHECK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC));
  CHECK(fd >= 0 && write(fd, "x", 1) == 1);
  CHECK(read(p[0], got, 1) == 1 && got[0] == 'x');
  if (fd >= 0) close(fd);
  /* two descriptors in one datagram: the second is closed at once */
  {
    union { struct cmsghdr h; char b[CMSG_SPACE(2 * sizeof(int))]; } ctl;
    struct msghdr m;
    struct iovec iov;
    struct cmsghdr *cm;
    int two[2];
    CHECK(pipe(extra) == 0);
    two[0] = p[1]; two[1] = extra[1];
    memset(&m, 0, sizeof m);
    iov.iov_base = frame; iov.iov_len = n;
    m.msg_iov = &iov; m.msg_iovlen = 1;
    m.msg_control = ctl.b; m.msg_controllen = sizeof ctl.b;
    cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET; cm->cmsg_type = SCM_RIGHTS; cm->cmsg_len = CMSG_LEN(sizeof two);
    memcpy(CMSG_DATA(cm), two, sizeof two);
    CHECK(sendmsg(sv[0], &m, 0) == (ssize_t)n);
    close(extra[1]);
    r = handoff_recv(sv[1], got, &fd);
    CHECK(r < 0 && errno == EMSGSIZE && fd < 0);   /* refused whole (lib/fdpass.c) */
    CHECK(read(extra[0], got, 1) == 0);       /* every write end of extra is closed: EOF */
    if (fd >= 0) close(fd);
    close(extra[0]);
  }
  close(sv[0]);
  CHECK(handoff_recv(sv[1], got, &fd) == 0 && fd == -1);     /* EOF */
  close(sv[1]);
  close(p[0]);
  close(p[1]);
}

static struct tcpd_pool pool;

/* this program again, as a worker (IMC_WORKER=1): "idle" for each datagram, exit at EOF */
static int standin_worker(void)
{
  char buf[HANDOFF_MAX];
  int fd;
  ssize_t r;
  while ((r = handoff_recv(0, buf, &fd)) > 0) {
    if (fd >= 0) close(fd);
    if (send(0, HANDOFF_IDLE, 4, MSG_NOSIGNAL) < 0 && errno != EPIPE) return 1;   /* EPIPE: retired */
  }
  return 0;
}

static int wait_read(int i, long long now)
{
  struct pollfd p;
  p.fd = pool.w[i].fd;
  p.events = POLLIN;
  if (poll(&p, 1, 5000) != 1) return -2;
  return pool_read(&pool, i, now);
}

static void test_pool(void)
{
  const char *self = "/proc/self/exe";
  struct tcpd_conn c;
  int i, j, sv[2], st;
  pid_t last;
  CHECK(child_env_init(environ) == 0);
  pool_init(&pool);
  memset(&c, 0, sizeof c);
  c.rip[15] = 1;
  i = pool_start(&pool, 2, self, -1, 1000);
  j = pool_start(&pool, 2, self, -1, 2000);
  CHECK(i == 0 && j == 1 && pool.n == 2 && pool.idle == 2);
  CHECK(pool_start(&pool, 2, self, -1, 2000) < 0 && errno == EAGAIN);          /* maxinbound */
  CHECK(pool_take(&pool) == 1);                                                  /* the last idle */
  CHECK(pool_next_expiry(&pool, 1500, 1) == 500);
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  CHECK(pool_hand(&pool, 1, sv[0], &c, 2) == 0 && pool.w[1].state == WK_BUSY && pool.idle == 1);
  CHECK(wait_read(1, 3000) == 1 && pool.w[1].state == WK_IDLE && pool.idle == 2);   /* said idle */
  CHECK(pool.w[1].idle_since == 3000 && pool_take(&pool) == 1);
  CHECK(pool_hand(&pool, 1, sv[0], &c, 2) == 0 && pool.w[1].state == WK_LAST && pool.w[1].fd == -1);
  last = pool.w[1].pid;
  CHECK(waitpid(last, &st, 0) == last && WIFEXITED(st) && WEXITSTATUS(st) == 0);  /* EOF after its last */
  pool_remove(&pool, pool_find(&pool, last));
  CHECK(pool.n == 1 && pool.idle == 1 && pool_find(&pool, last) == -1);
  CHECK(pool_expire(&pool, 1999, 1) == 0 && pool_expire(&pool, 2000, 1) == 1);   /* idle 1 s: retired */
  CHECK(pool.n == 0 && pool.idle == 0);
  CHECK(wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  i = pool_start(&pool, 2, self, -1, 5000);
  CHECK(i == 0 && pool_hand(&pool, 0, sv[0], &c, 0) == 0);
  kill(pool.w[0].pid, SIGKILL);                                                  /* killed in a session */
  CHECK(wait_read(0, 6000) == -1 && pool.w[0].state == WK_LAST && pool.n == 1);
  CHECK(wait(&st) == pool.w[0].pid && WIFSIGNALED(st));
  pool_remove(&pool, 0);
  CHECK(pool.n == 0 && pool.idle == 0);
  close(sv[0]);
  close(sv[1]);
}

int main(void)
{
  if (getenv("IMC_WORKER")) return standin_worker();
  test_frame();
  test_fd_passing();
  test_pool();
  test_table();
  test_client_key();
  test_recent();
  test_scan();
  test_env();
  test_listen();
  return check_done("t_tcpd");
}
