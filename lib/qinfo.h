/*
 * qinfo.h -- the per-recipient state file, queue/info/H/ID
 * (format in docs/INTERNALS.md section 1).  imc-send writes it; the queue
 * tools read it.  qinfo_pack produces the whole text; qinfo_unpack checks
 * the header, every field and the `end N` count, so a torn or foreign file
 * is refused (the caller quarantines it).
 */
#ifndef IMC_QINFO_H
#define IMC_QINFO_H

#include "owfat.h"
#include "queue.h"

#define QI_PENDING   'P'
#define QI_DELIVERED 'D'
#define QI_FAILED    'F'
#define QI_EXPIRED   'X'
#define QI_BOUNCED   'B'
#define QI_SUCCESS   'S'          /* delivered; a success notice (NOTIFY=SUCCESS) is still to be sent */
#define QI_LOCAL     'L'
#define QI_REMOTE    'R'
#define QI_WARNED    0x1          /* flag w: a delay warning was sent */
#define QI_HELD      0x2          /* flag h: held by the administrator */

struct qinfo_rcpt {
  char state;
  char kind;
  unsigned long attempts;
  unsigned long next;
  unsigned long last;
  stralloc target;      /* mailbox name or destination domain; each field NUL-terminated */
  stralloc original;    /* envelope recipient as received */
  stralloc address;     /* address delivered to */
  stralloc reply;       /* last result, "" when none */
};

struct qinfo {
  char id[QID_LEN + 1];
  unsigned long qtime;
  unsigned flags;
  struct qinfo_rcpt *r;
  unsigned long n;
  unsigned long alloc;
};

struct qinfo_rcpt *qinfo_add(struct qinfo *q);   /* a zeroed new recipient, or 0 (ENOMEM) */
/* sets a field; the text stays NUL-terminated (the NUL not counted in len): 0, -1 ENOMEM */
int qinfo_set(stralloc *field, const char *s, size_t len);
int qinfo_pack(const struct qinfo *q, stralloc *out);         /* 0, -1 ENOMEM */
int qinfo_unpack(struct qinfo *q, const char *s, size_t len); /* 0 ok, -1 ENOMEM, -2 invalid */
void qinfo_free(struct qinfo *q);

#endif
