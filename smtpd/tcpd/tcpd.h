/*
 * tcpd.h -- the modules of imc-tcpd, the inbound SMTP listener:
 *
 *   tcpd_table.c   the running sessions: by the pid serving them (a worker's,
 *                  or a per-connection child's), and counted per client
 *                  address (a fixed hash table) for maxperip
 *   tcpd_listen.c  IMC_LISTEN and the ports: binding the listening sockets
 *   tcpd_child.c   the environment of a child and spawning it on the socket;
 *                  a worker's spawn and the frame that hands it a connection
 *   tcpd_pool.c    the pool of imc-smtpd workers: started ahead of demand,
 *                  handed connections, idle again, retired
 *   tcpd_recent.c  what the children report per client: AUTH failures in
 *                  the last 10 minutes, the last accepted ETRN
 *
 * Everything is bounded: at most TCPD_MAXCHILD sessions and workers
 * (maxinbound is clamped to it), at most TCPD_MAXLISTEN listening sockets.
 */
#ifndef IMC_TCPD_H
#define IMC_TCPD_H

#include <stddef.h>
#include <sys/types.h>

/* ---- the children */
#define TCPD_MAXCHILD 4096
#define TCPD_HASHSIZE 8192          /* a power of two, at least twice TCPD_MAXCHILD */

struct tcpd_child { pid_t pid; unsigned char ip[16]; };
struct tcpd_ipcount { unsigned char ip[16]; unsigned count; };   /* count 0: a free slot */

struct tcpd_table {
  struct tcpd_child child[TCPD_MAXCHILD];
  unsigned nchild;
  struct tcpd_ipcount ips[TCPD_HASHSIZE];
  unsigned long seed;
};

void table_init(struct tcpd_table *t, unsigned long seed);
unsigned table_count_ip(const struct tcpd_table *t, const unsigned char ip[16]);
int table_add(struct tcpd_table *t, pid_t pid, const unsigned char ip[16]);  /* 0, -1 full */
int table_remove(struct tcpd_table *t, pid_t pid);                          /* 1 removed, 0 unknown */
/* the address a client is counted by: an IPv4 (or IPv4-mapped) address itself,
   an IPv6 address cut to its first prefix bits (control/ipv6prefix: 64 puts a
   whole /64 in one count) */
void tcpd_client_key(unsigned char key[16], const unsigned char ip[16], unsigned prefix);

/* ---- what the children report (tcpd_recent.c), per client key */
#define TCPD_RECENT 1024            /* clients remembered; the oldest is forgotten first */
#define TCPD_AUTH_WINDOW 600        /* seconds: AUTH failures count this long from the first */
#define TCPD_ETRN_INTERVAL 60       /* seconds between accepted ETRNs of one client */

struct tcpd_client {
  unsigned char key[16];
  long long auth_start;             /* the first failure of the window; 0: none */
  unsigned auth_count;
  long long etrn_at;                /* the last accepted ETRN; 0: none */
};
struct tcpd_recent { struct tcpd_client c[TCPD_RECENT]; unsigned n; };

void recent_init(struct tcpd_recent *r);
/* one report line without its LF: "authfail ADDRESS" or "etrn ADDRESS" (imc-smtpd's
   TCPREMOTEIP): 1 recorded, 0 not understood (ignored).  now: seconds, monotonic */
int recent_report(struct tcpd_recent *r, const char *line, size_t len, unsigned prefix, long long now);
unsigned recent_authfail(const struct tcpd_recent *r, const unsigned char key[16], long long now);
unsigned recent_etrnwait(const struct tcpd_recent *r, const unsigned char key[16], long long now);

/* ---- the listeners */
#define TCPD_MAXLISTEN 32
#define TCPD_BACKLOG 1024

struct tcpd_listener {
  int fd;
  int submission;                 /* the submission port: IMC_SUBMISSION=1 */
  unsigned char ip[16];
  unsigned port;
};

/* a port 1..65535 in decimal without leading zeros: 1 ok */
int tcpd_scan_port(const char *s, unsigned *port);
/* the next address of a space-separated list (advances *p): 1 an address, 0 the end,
   -1 a word that is not an address (*word points to it, NUL-terminated in buf) */
int tcpd_next_addr(const char **p, unsigned char ip[16], char *buf, size_t cap, const char **word);
/* a non-blocking, close-on-exec listening socket: 0 ok (l->fd set), -1 errno */
int tcpd_listen(struct tcpd_listener *l, const unsigned char ip[16], unsigned port, int submission);

/* ---- a connection and its child */
struct tcpd_conn {
  unsigned char rip[16], lip[16];
  unsigned rport, lport;
  int verdict;                    /* a rule_verdict other than RULE_REJECT (rules.h) */
  int submission;
  int report_fd;                  /* the report pipe's write end (IMC_REPORT_FD), or 0 */
  unsigned authfail;              /* the client's AUTH failures in the window (IMC_AUTHFAIL) */
  unsigned etrnwait;              /* seconds until it may ETRN (IMC_ETRNWAIT) */
};

/* fills conn's addresses from the accepted socket's peer and local ends: 0, -1 */
int tcpd_conn_addrs(struct tcpd_conn *c, int fd, const void *peer, unsigned peerlen);
/* copies the environment minus the variables a child gets from us: 0, -1 ENOMEM */
int child_env_init(char **env);
/* runs path with the socket as fds 0 and 1 (made blocking) and the UCSPI variables: 0, -1 */
int child_spawn(pid_t *pid, const char *path, int fd, const struct tcpd_conn *c);
/* the child's variables as "NAME=value" strings, for the tests */
size_t child_env_vars(char vars[][80], const struct tcpd_conn *c);
/* a worker: path with sock (its end of the socketpair) as fd 0, IMC_WORKER=1 and
   IMC_REPORT_FD: 0, -1 errno */
int worker_spawn(pid_t *pid, const char *path, int sock, int report_fd);
/* the frame handing c to a worker (lib/handoff.h): its length, 0 if it does not fit */
size_t tcpd_frame(char frame[], const struct tcpd_conn *c);

/* ---- the pool of workers (tcpd_pool.c) */
#define TCPD_SPARE 2                /* idle workers kept ready, maxinbound allowing */

enum { WK_IDLE = 1,                 /* waiting for a connection */
       WK_BUSY,                     /* serving one */
       WK_LAST };                   /* serving its last one: our end closed (fd -1) */

struct tcpd_worker {
  pid_t pid;
  int fd;                           /* our end of its socketpair; -1 once closed */
  int state;
  unsigned long uses;               /* connections handed to it */
  long long idle_since;             /* ms (monotonic), while WK_IDLE */
};
struct tcpd_pool { struct tcpd_worker w[TCPD_MAXCHILD]; unsigned n, idle; };

void pool_init(struct tcpd_pool *p);
/* a new idle worker running path: its index, or -1 (errno; the pool full: EAGAIN) */
int pool_start(struct tcpd_pool *p, unsigned max, const char *path, int report_fd, long long now);
int pool_take(const struct tcpd_pool *p);          /* the idle worker used last, or -1 */
/* hands the connection over; the worker is busy, and at maxuse (0: no limit)
   its socket is closed: 0, -1 errno (the worker is gone: pool_lost it) */
int pool_hand(struct tcpd_pool *p, int i, int fd, const struct tcpd_conn *c, unsigned long maxuse);
/* the worker's datagrams: 1 it said idle (it was busy), 0 nothing to do,
   -1 its socket ended (it is exiting or dead: pool_lost was done) */
int pool_read(struct tcpd_pool *p, int i, long long now);
void pool_lost(struct tcpd_pool *p, int i);       /* close our end; an idle one is forgotten */
int pool_find(const struct tcpd_pool *p, pid_t pid);   /* its index, or -1 */
void pool_remove(struct tcpd_pool *p, int i);     /* it exited: forgotten (indexes past i move) */
/* closes the sockets of workers idle for secs (0: never): how many; they exit */
unsigned pool_expire(struct tcpd_pool *p, long long now, unsigned long secs);
/* ms until the next idle worker expires, -1 none */
int pool_next_expiry(const struct tcpd_pool *p, long long now, unsigned long secs);

#endif
