/*
 * admin.h -- what the queue administration tools share (imc-qstat,
 * imc-qread, imc-qctl, imc-track): buffered output on stdout, times and
 * ages, a read-only view of the queue, the tracking log reader, imc-send's
 * list of held destinations (queue/info/held) and requests to imc-send
 * (docs/INTERNALS.md sections 9 and 13).
 *
 * The tools never write a queue file: they read new/, mess/H/, info/H/,
 * quarantine/ and info/held, and they ask imc-send to act through the
 * trigger (R lines) or a request file in queue/ctl/.  A file that changes
 * or disappears while a tool reads it (imc-send is working) is skipped as
 * if it had not been there.
 */
#ifndef IMC_ADMIN_H
#define IMC_ADMIN_H

#include <stddef.h>
#include "config.h"
#include "cscan.h"
#include "directory.h"
#include "domains.h"
#include "owfat.h"
#include "stdout.h"
#include "qinfo.h"

/* ---- admin_out.c: table output on lib/stdout.h (a write error is fatal, 111) */
void adm_pad(const char *s, size_t width);        /* s, then spaces up to width */
void adm_rpad(const char *s, size_t width);       /* spaces, then s, right-aligned */
void adm_rnum(unsigned long n, size_t width);     /* a number right-aligned */
void adm_putclean(const char *s, size_t n);       /* TAB as a space, other control bytes as ? */
void adm_nomem(void) __attribute__((noreturn));   /* fatal 111: out of memory */

#define ADM_AGE 24
#define ADM_TIME 24
void adm_age(char buf[ADM_AGE], unsigned long secs);         /* 45s 12m 2h13m 3d4h */
void adm_iso(char buf[ADM_TIME], unsigned long t);           /* 2026-11-28T02:38:56Z */
int adm_scan_iso(const char *s, unsigned long *t);           /* that form (UTC): 1 ok, 0 not */
/* a time argument: epoch seconds (digits), YYYY-MM-DD[THH:MM[:SS]][Z] (UTC),
   or an age with a unit (90s, 15m, 2h, 3d: that long before now): 1 ok, 0 not */
int adm_scan_when(const char *s, unsigned long now, unsigned long *t);

/* ---- admin_queue.c: the queue, read only */
#define AREA_NEWQ  'n'       /* queue/new/ID */
#define AREA_MESSQ 'm'       /* queue/mess/H/ID */
#define AREA_QUAR  'q'       /* queue/quarantine/ID */

struct aqueue {
  stralloc qdir;             /* IMC_HOME/queue, NUL-terminated */
  struct config cfg;
  int cfg_ok;                /* the control files loaded (for resolving new/ messages) */
  struct directory dir;
  stralloc held;             /* queue/info/held: lower-case domains, each NUL-terminated */
  struct domains doms;       /* control/domains: the content profiles (built-in defaults on errors) */
  unsigned long now;
  stralloc failed;           /* what aq_open could not read: a path, NUL-terminated */
};

struct amsg {
  char id[QID_LEN + 1];
  char area;                 /* AREA_NEWQ, AREA_MESSQ, or AREA_QUAR (state from quarantine/ID.info) */
  int info;                  /* 1 state file read, 0 none (first delivery), -2 it fails validation */
  unsigned long qtime;
  unsigned long long msglen;
  unsigned long long fsize;  /* the whole queue file */
  stralloc sender;           /* NUL-terminated; "" for <> */
  stralloc env;              /* the envelope records */
  stralloc head;             /* the first bytes of the message (its header section) */
  struct cfacts facts;       /* imc-queue's content note */
  int from_net;              /* the envelope has peer=: received over SMTP */
  struct qinfo q;            /* recipients: the state file, or resolved from the envelope */
};

int aq_open(struct aqueue *aq);                   /* 0, -1 (errno); warns when control/ has errors */
/* after aq_open failed: the path it could not read (errno is aq_open's) */
const char *aq_failed(const struct aqueue *aq);
void aq_close(struct aqueue *aq);
/* the ids in new/ and mess/H/ (each NUL-terminated, sorted, each once): 0, -1 */
int aq_ids(const struct aqueue *aq, stralloc *ids);
/* where ID is: AREA_NEWQ, AREA_MESSQ, AREA_QUAR, or 0 when nowhere */
char aq_where(const struct aqueue *aq, const char *id);
/* 1 loaded, 0 gone (or not a valid queue file: *bad set), -1 error (errno) */
int amsg_load(struct aqueue *aq, struct amsg *m, const char *id, char area, int *bad);
void amsg_free(struct amsg *m);
int aq_domain_held(const struct aqueue *aq, const char *domain);
int amsg_rcpt_held(const struct aqueue *aq, const struct amsg *m, const struct qinfo_rcpt *r);
/* a pending recipient whose profile needs a converted copy that imc-send has not made yet */
int amsg_rcpt_converting(const struct aqueue *aq, const struct amsg *m, const struct qinfo_rcpt *r);
/* queued (pending, never tried), converting, deferred, held, delivered, failed, expired, bounced */
const char *amsg_rcpt_state(const struct aqueue *aq, const struct amsg *m, const struct qinfo_rcpt *r);
/* the files in quarantine/ (not the ID.info state files beside them), sorted by name */
struct aquar {
  const char *name;
  unsigned long long size;
  unsigned long time;        /* the id's time when the name is an id, else the file's mtime */
  int valid;                 /* it passes qfile_validate now: it may be requeued */
};
typedef void (*aquar_fn)(const struct aquar *q, void *ctx);
int aq_quarantine(const struct aqueue *aq, aquar_fn fn, void *ctx);   /* 0, -1 (errno) */
/* each message of the queue (aq_ids order), loaded, to fn; then each file in
   quarantine/ to qfn.  A read error is fatal: exit 111 with a diagnostic */
typedef void (*amsg_fn)(struct amsg *m, void *ctx);
void aq_walk(struct aqueue *aq, amsg_fn fn, aquar_fn qfn, void *ctx);
/* ID, or the path of a file under queue/ (rel like "quarantine/ID"), NUL-terminated */
int aq_path(const struct aqueue *aq, stralloc *sa, const char *rel);

/* ---- admin_held.c: queue/info/held, written by imc-send */
/* its text into domains (lower case, NUL-terminated each); blank lines, # comments skipped */
int held_parse(const char *text, size_t len, stralloc *out);   /* 0, -1 ENOMEM */

/* ---- admin_track.c: the tracking log (docs/INTERNALS.md section 6) */
struct trk_event {
  unsigned long t;
  char *time, *event, *id, *msgid, *sender, *rcpt, *peer, *result;   /* "-" mapped to "" */
};
/* one line of len bytes without its newline, split in place (line[len] is
   overwritten with a NUL: the buffer needs room for it): 1 a tracking line, 0 not */
int trk_parse(char *line, size_t len, struct trk_event *e);
/* the files of DIR in time order (@SECONDS.s by SECONDS, then current), NUL-separated names */
int trk_files(const char *dir, stralloc *names);   /* 0, -1 (errno) */
typedef void (*trk_fn)(struct trk_event *e, void *ctx);
/* every tracking line of DIR's files, in order; lines that do not parse are skipped */
int trk_scan(const char *dir, trk_fn fn, void *ctx);   /* 0, -1 (errno: DIR unreadable) */
int trk_dir(stralloc *sa);                              /* IMC_HOME/log/track */

/* ---- admin_req.c: asking imc-send */
/* a trigger line (without its newline): 1 written (imc-send is reading), 0 nobody reads, -1 error */
int req_trigger(const struct aqueue *aq, const char *line);
int req_sender_running(const struct aqueue *aq);          /* 1 yes, 0 no, -1 cannot tell */
/* a request file queue/ctl/NAME holding text and a newline; name set to NAME: 0, -1 (errno) */
int req_write(const struct aqueue *aq, const char *text, stralloc *name);
/* waits up to ms for imc-send to remove queue/ctl/NAME: 1 carried out, 0 not yet */
int req_wait(const struct aqueue *aq, const char *name, unsigned ms);
/* requests still waiting in queue/ctl/, and the age of the oldest: 0, -1 (no queue/ctl) */
int req_pending(const struct aqueue *aq, unsigned long *n, unsigned long *oldest);

/* ---- admin_check.c: imc-qctl check */
#define ADM_ERROR 1          /* the structure is wrong */
#define ADM_NOTE  2          /* needs the administrator, or imc-send clears it by itself */
#define FIX_NONE    0        /* imc-send clears it by itself */
#define FIX_REQUEUE 1        /* a requeue request (imc-qctl repair makes it) */
#define FIX_TRIGGER 2        /* imc-send quarantines it when it scans new/ (repair pokes the trigger) */
#define FIX_RESTART 3        /* imc-send quarantines it at its next start */
#define FIX_SETUP   4        /* imc-setup DIR recreates it */
#define FIX_MANUAL  5        /* the administrator must act */
struct finding {
  int sev, fix;
  const char *rel;           /* the directory, relative to queue/ ("." for queue/ itself) */
  const char *id;            /* the file's name in it, or 0 for the directory itself */
  const char *what;
};
typedef void (*finding_fn)(const struct finding *f, void *ctx);
/* every finding through fn; *nmsgs the valid messages seen: 0, -1 queue/ missing (reported) */
int queue_check(const struct aqueue *aq, finding_fn fn, void *ctx, unsigned long *nmsgs);

#endif
