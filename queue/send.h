/*
 * send.h -- imc-send's state in memory.
 *
 * Every queued message imc-send knows is a struct msg in a hash table by
 * id; the ones waiting for a time (a retry, an expiry) are in a min-heap
 * by that time.  A message's recipients are a struct qinfo: exactly what
 * its state file holds, so saving is packing.  imc-send never rescans the
 * queue after it starts: new messages come from scanning new/ when the
 * trigger fires, everything else from this table.
 */
#ifndef IMC_SEND_H
#define IMC_SEND_H

#include <poll.h>
#include "config.h"
#include "directory.h"
#include "owfat.h"
#include "qinfo.h"

#define AREA_NEW  'n'
#define AREA_MESS 'm'
#define LOCAL_BATCH 32            /* most messages per imc-local run */
#define TIME_NEVER (~0UL)

struct msg {
  char id[QID_LEN + 1];
  char area;                      /* AREA_NEW or AREA_MESS */
  struct qinfo q;                 /* recipients and their state */
  unsigned char *busy;            /* per recipient: in a running delivery */
  stralloc sender;
  stralloc msgid;                 /* Message-ID header, for tracking */
  stralloc peer;                  /* from the envelope's I records */
  unsigned long long msglen;
  int fd;                         /* the queue file while deliveries need it, else -1 */
  int double_bounce;              /* envelope says dsn=double: never bounce it */
  unsigned long next;             /* heap key */
  long heap;                      /* index in the heap, -1 when not in it */
  unsigned inflight;              /* recipients in running deliveries */
  int dirty;                      /* state differs from the state file */
  int has_info;                   /* info/H/ID exists */
  struct msg *hnext;              /* hash chain */
};

/* send_table.c: the hash table and the heap */
struct msg *msg_find(const char *id);
struct msg *msg_new(const char *id, char area);     /* added to the table; 0 on ENOMEM */
void msg_free(struct msg *m);                       /* removed from the table and the heap */
void heap_set(struct msg *m, unsigned long when);   /* (re)position; TIME_NEVER removes */
struct msg *heap_top(void);
unsigned long msg_count(void);

/* send_load.c: reading the queue */
extern struct config cfg;
extern struct directory dir;
extern stralloc qdir;                              /* IMC_HOME/queue */
int queue_scan_new(unsigned long now);             /* load every unknown message in new/ */
int msg_open(struct msg *m);                       /* m->fd, opened if closed: 0 or -1 */
int msg_path(stralloc *sa, const struct msg *m);   /* its queue file */
int queue_recover(unsigned long now);                         /* at start: mess/, info/ orphans, debris */
void queue_debris(unsigned long now);              /* remove old tmp/ files */
void msg_quarantine(const char *id, char area, const char *why);

/* send_local.c: local deliveries */
void local_ready(struct msg *m, unsigned long i);  /* queue recipient i for delivery */
void local_dispatch(void);                         /* start imc-local runs within maxlocal */
int local_running(void);
void local_pollfds(struct pollfd *fds, unsigned *n, unsigned max);
void local_events(struct pollfd *fds, unsigned n);  /* read reports; finished runs are settled */

/* send_settle.c: what happens after a state change */
void msg_schedule(struct msg *m, unsigned long now);   /* dispatch due recipients, set the heap */
void msg_settle(struct msg *m, unsigned long now);     /* bounce, save or remove */
void rcpt_result(struct msg *m, unsigned long i, char code, const char *text, unsigned long now);
void track_rcpt(const char *event, const struct msg *m, unsigned long i, const char *result);

/* send_dsn.c: bounces */
int bounce_send(struct msg *m, unsigned long now);     /* 0 queued (or dropped), -1 try later */

#endif
