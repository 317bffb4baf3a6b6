/*
 * send_table.c -- imc-send's messages in memory: a hash table by id and a
 * min-heap by the time each message next needs attention.  Both are
 * O(1) / O(log n) per operation, so 100,000 queued messages cost nothing
 * per delivery.  The bottom layer of imc-send: it calls nothing else of
 * imc-send's (layers: send.h).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "send.h"

#define HASH_BITS 16
static struct msg *table[1 << HASH_BITS];
static unsigned long nmsg;
static struct msg **heap;
static unsigned long heaplen, heapcap;

static unsigned hash_id(const char *id)
{
  unsigned h = 5381;
  while (*id) h = h * 33 + (unsigned char)*id++;
  return h & ((1 << HASH_BITS) - 1);
}

struct msg *msg_find(const char *id)
{
  struct msg *m;
  for (m = table[hash_id(id)]; m; m = m->hnext)
    if (!strcmp(m->id, id)) return m;
  return 0;
}

struct msg *msg_new(const char *id, char area)
{
  struct msg *m = calloc(1, sizeof *m);
  unsigned h = hash_id(id);
  if (!m) return 0;
  memcpy(m->id, id, QID_LEN);
  m->id[QID_LEN] = 0;
  m->area = area;
  m->heap = -1;
  m->fd = -1;
  m->prio = PRIO_NORMAL;
  m->next = TIME_NEVER;
  m->hnext = table[h];
  table[h] = m;
  nmsg++;
  return m;
}

unsigned long msg_count(void) { return nmsg; }

void msg_foreach(void (*fn)(struct msg *, void *), void *ctx)
{
  unsigned h;
  struct msg *m;
  for (h = 0; h < (1 << HASH_BITS); h++)
    for (m = table[h]; m; m = m->hnext) fn(m, ctx);
}

/* ---- heap */

static void heap_swap(unsigned long a, unsigned long b)
{
  struct msg *t = heap[a];
  heap[a] = heap[b];
  heap[b] = t;
  heap[a]->heap = (long)a;
  heap[b]->heap = (long)b;
}

static void heap_up(unsigned long i)
{
  while (i > 0 && heap[(i - 1) / 2]->next > heap[i]->next) {
    heap_swap(i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
}

static void heap_down(unsigned long i)
{
  for (;;) {
    unsigned long l = 2 * i + 1, r = l + 1, s = i;
    if (l < heaplen && heap[l]->next < heap[s]->next) s = l;
    if (r < heaplen && heap[r]->next < heap[s]->next) s = r;
    if (s == i) return;
    heap_swap(i, s);
    i = s;
  }
}

static void heap_remove(struct msg *m)
{
  unsigned long i = (unsigned long)m->heap;
  m->heap = -1;
  if (i != --heaplen) {
    heap[i] = heap[heaplen];
    heap[i]->heap = (long)i;
    heap_up(i);
    heap_down((unsigned long)heap[i]->heap);
  }
}

static int heap_grow(void)
{
  unsigned long nc = heapcap ? heapcap * 2 : 1024;
  struct msg **h = realloc(heap, nc * sizeof *h);
  if (!h) return -1;
  heap = h;
  heapcap = nc;
  return 0;
}

void heap_set(struct msg *m, unsigned long when)
{
  if (m->heap >= 0) heap_remove(m);
  m->next = when;
  if (when == TIME_NEVER) return;
  if (heaplen == heapcap && heap_grow() < 0) {
    m->next = TIME_NEVER;     /* out of memory: it waits for the next restart */
    return;
  }
  heap[heaplen] = m;
  m->heap = (long)heaplen++;
  heap_up((unsigned long)m->heap);
}

struct msg *heap_top(void) { return heaplen ? heap[0] : 0; }

/* the converted copies' entries (their files are the state layer's) */
static void copies_free(struct msg *m)
{
  unsigned k;
  for (k = 0; k < m->ncv; k++) {
    if (m->cv[k].fd >= 0) close(m->cv[k].fd);
    stralloc_free(&m->cv[k].key);
    stralloc_free(&m->cv[k].profile);
  }
  free(m->cv);
  free(m->rcv);
}

void msg_free(struct msg *m)
{
  struct msg **p = &table[hash_id(m->id)];
  while (*p && *p != m) p = &(*p)->hnext;
  if (*p) { *p = m->hnext; nmsg--; }
  if (m->heap >= 0) heap_remove(m);
  if (m->fd >= 0) close(m->fd);
  qinfo_free(&m->q);
  copies_free(m);
  free(m->busy);
  stralloc_free(&m->sender);
  stralloc_free(&m->msgid);
  stralloc_free(&m->peer);
  stralloc_free(&m->dsn_mail);
  stralloc_free(&m->dsn_rcpts);
  free(m);
}
