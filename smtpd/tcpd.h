/*
 * tcpd.h -- the modules of imc-tcpd, the inbound SMTP listener:
 *
 *   tcpd_table.c   the running imc-smtpd children: by pid, and counted per
 *                  client address (a fixed hash table) for maxperip
 *   tcpd_listen.c  IMC_LISTEN and the ports: binding the listening sockets
 *   tcpd_child.c   the environment of a child and spawning it on the socket
 *
 * Everything is bounded: at most TCPD_MAXCHILD children (maxinbound is
 * clamped to it), at most TCPD_MAXLISTEN listening sockets.
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
  int verdict;                    /* RULE_ACCEPT, RULE_RELAY or RULE_AUTH (rules.h) */
  int submission;
};

/* fills conn's addresses from the accepted socket's peer and local ends: 0, -1 */
int tcpd_conn_addrs(struct tcpd_conn *c, int fd, const void *peer, unsigned peerlen);
/* copies the environment minus the variables a child gets from us: 0, -1 ENOMEM */
int child_env_init(char **env);
/* runs path with the socket as fds 0 and 1 (made blocking) and the UCSPI variables: 0, -1 */
int child_spawn(pid_t *pid, const char *path, int fd, const struct tcpd_conn *c);
/* the child's variables as "NAME=value" strings, for the tests */
size_t child_env_vars(char vars[][80], const struct tcpd_conn *c);

#endif
