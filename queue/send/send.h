/*
 * send.h -- imc-send's state in memory.
 *
 * Every queued message imc-send knows is a struct msg in a hash table by
 * id; the ones waiting for a time (a retry, an expiry) are in a min-heap
 * by that time.  A message's recipients are a struct qinfo: exactly what
 * its state file holds, so saving is packing.  imc-send never rescans the
 * queue after it starts: new messages come from scanning new/ when the
 * trigger fires, everything else from this table.
 *
 * imc-send is built in layers; each calls only the layers below it:
 *   0 the table of messages          send_table.c
 *   1 loading and saving state       send_state.c send_plan.c send_held.c send_load.c
 *   2 scheduling                     send_sched.c (reaches the stages through sched_hooks)
 *   3 jobs and deliverers            send_jobs.c send_runs.c (tell the stages of a batch's and a
 *                                    run's end by callback)
 *   4 the stages                     send_local.c send_remote.c send_conv.c send_dsn.c
 *                                    send_ctl.c send_fault.c send_stages.c
 *   5 the main loop                  imc-send.c
 * tests/integration/layout.py checks it on the objects' symbols.
 */
#ifndef IMC_SEND_H
#define IMC_SEND_H

#include <poll.h>
#include "config.h"
#include "cscan.h"
#include "directory.h"
#include "dsn.h"
#include "jobchan.h"
#include "owfat.h"
#include "qinfo.h"
#include <sys/types.h>

#define AREA_NEW  'n'
#define AREA_MESS 'm'
#define LOCAL_BATCH 32            /* most messages per batch (imc-local, imc-remote) */
#define LOCAL_IDLE 5              /* seconds an idle imc-local waits for another batch */
#define TIME_NEVER (~0UL)

/* a converted copy of a message, for one content profile (docs/INTERNALS.md section 14) */
enum { CV_SKIP, CV_WANTED, CV_QUEUED, CV_RUNNING, CV_READY, CV_FAILED, CV_SUPPRESSED, CV_TOOBIG };
struct cvcopy {
  stralloc key;                   /* "inbound", "*" or a control/domains pattern */
  stralloc profile;               /* imc-convert's argument: "inbound" or a recipient's domain */
  char state;                     /* CV_* */
  unsigned long long len;         /* of the converted file (CV_READY) */
  int fd;                         /* the converted file while deliveries need it, else -1 */
};

struct msg {
  char id[QID_LEN + 1];
  char area;                      /* AREA_NEW or AREA_MESS */
  struct qinfo q;                 /* recipients and their state */
  unsigned char *busy;            /* per recipient: in a running delivery */
  stralloc sender;
  stralloc msgid;                 /* Message-ID header, for tracking */
  stralloc peer;                  /* from the envelope's I records */
  stralloc dsn_mail;              /* the envelope's D record (RET, ENVID; lib/dsn.h), "" when none */
  stralloc dsn_rcpts;             /* its N records: "RECIPIENT\0PARAMS\0" for each T that has one */
  unsigned long long msglen;
  int fd;                         /* the queue file while deliveries need it, else -1 */
  int double_bounce;              /* envelope says dsn=double: never bounce it */
  int prio;                       /* PRIO_URGENT, PRIO_NORMAL, PRIO_NONURGENT from the headers */
  char filter;                    /* 'd' drop, 't' turf (envelope filter=), else 0 */
  int smtputf8;                   /* envelope smtputf8=yes: the next hop must offer SMTPUTF8 */
  unsigned long next;             /* heap key */
  long heap;                      /* index in the heap, -1 when not in it */
  unsigned inflight;              /* recipients in running deliveries */
  int dirty;                      /* state differs from the state file */
  int has_info;                   /* info/H/ID exists */
  struct cfacts facts;            /* imc-queue's content note */
  int from_net;                   /* received over SMTP (peer=): local recipients get the inbound profile */
  struct cvcopy *cv;              /* the profiles its recipients need */
  unsigned ncv;
  unsigned short *rcv;            /* per recipient: 0 the original, k the copy cv[k - 1] */
  struct msg *hnext;              /* hash chain */
};

/* ---- layer 0, send_table.c: the hash table and the heap */
struct msg *msg_find(const char *id);
struct msg *msg_new(const char *id, char area);     /* added to the table; 0 on ENOMEM */
void msg_free(struct msg *m);                       /* removed from the table and the heap */
void heap_set(struct msg *m, unsigned long when);   /* (re)position; TIME_NEVER removes */
struct msg *heap_top(void);
unsigned long msg_count(void);
void msg_foreach(void (*fn)(struct msg *, void *), void *ctx);   /* fn must not free */

/* ---- layer 1, loading and saving state */
/* send_state.c: a message's files */
extern struct config cfg;
extern struct directory dir;
extern stralloc qdir;                              /* IMC_HOME/queue */
int msg_open(struct msg *m);                       /* m->fd, opened if closed: 0 or -1 */
/* the DSN parameters (lib/dsn.h) of the message, and of recipient i (its
   envelope recipient's N record); pointers into m, all zero when none */
void msg_dsn_mail(const struct msg *m, struct dsn_params *p);
void msg_dsn_rcpt(const struct msg *m, unsigned long i, struct dsn_params *p);
unsigned msg_dsn_wants(const struct msg *m, unsigned long i);   /* DSN_* kinds of notice for i */
int msg_path(stralloc *sa, const struct msg *m);   /* its queue file */
int msg_save(struct msg *m);                       /* state file written, message in mess/: 0, -1 */
void msg_remove(struct msg *m);                    /* its files, then the message itself */
void msg_quarantine(const char *id, char area, const char *why);
void track_rcpt(const char *event, const struct msg *m, unsigned long i, const char *result);
int conv_path(stralloc *sa, const struct msg *m, unsigned cvi, int tmp);   /* a copy's file */
int conv_open(struct msg *m, unsigned cvi);             /* cv[cvi].fd: 0, -1 */
void conv_remove(struct msg *m);                        /* its converted files */
void conv_clean(const char *dirpath, const char *name); /* a converted file left from an earlier run */

/* send_plan.c: which copy each recipient gets */
int conv_reload(void);                                  /* control/domains: 0, -1 kept the old */
int conv_plan(struct msg *m, const char *head, size_t len);

/* send_held.c: held destinations (queue/info/held) */
void held_load(void);
int held_domain(const char *d, size_t len);
void held_set(const char *d, int on);

/* send_load.c: reading the queue; a loaded message is due at once (heap) */
int queue_scan_new(unsigned long now);             /* load every unknown message in new/ */
int queue_recover(unsigned long now);              /* at start: mess/, info/ orphans, debris */
void queue_debris(unsigned long now);              /* remove old tmp/ files */

/* ---- layer 2, send_sched.c: the scheduler */
#define GATE_GO 0                 /* deliver now */
#define GATE_WAIT 1               /* its copy is being made */
#define GATE_DONE 2               /* settled without a delivery (suppressed, too big) */
/* what the scheduler asks of the stages above it (send_stages.c sets them) */
struct sched_hooks {
  int (*gate)(struct msg *m, unsigned long i, unsigned long now);      /* GATE_*: its copy ready? */
  int (*converting)(const struct msg *m, unsigned long i);            /* its copy is being made */
  int (*due)(struct msg *m, unsigned long i, unsigned long now);       /* queued for delivery: 1, not now: 0 */
  int (*blocked)(const struct qinfo_rcpt *r);                          /* held or kept back: may not be tried */
  void (*dest_up)(const char *target);                                 /* forget that its destination was down */
  int (*bounce)(struct msg *m, unsigned long now);                     /* 0 queued (or dropped), -1 later */
  int (*delay)(struct msg *m, unsigned long now);                      /* the delay notice: 0, -1 later */
};
extern struct sched_hooks sched;
void sched_due(unsigned long now);                     /* every message due by now: msg_schedule */
void msg_schedule(struct msg *m, unsigned long now);   /* dispatch due recipients, set the heap */
void msg_retry(struct msg *m, unsigned long now);      /* every waiting recipient due now */
void msg_settle(struct msg *m, unsigned long now);     /* bounce, save or remove */
void rcpt_result(struct msg *m, unsigned long i, char code, const char *text, unsigned long now);

/* ---- layer 3, send_jobs.c and send_runs.c: queues of (message, recipient) jobs and the deliverers */
#define MAXPAIRS 1000             /* most recipients in one batch */
struct job { struct msg *m; unsigned long i; };
struct jobq { struct job *v; unsigned long n, cap, head; };
struct run;
/* the stage's callbacks: the process ended (its exit code; every job of a batch in
   progress has its result, and run->njobs, ok and tempfail still tell of that batch) */
typedef void run_done_fn(struct run *run, int code, unsigned long now);
/* a worker's batch ended (every job has its result); it is idle now, unless closing */
typedef void batch_done_fn(struct run *run, unsigned long now);
/* A run is a process imc-send started: a worker (imc-remote, imc-local) that
   takes batch after batch over its job channel (lib/jobchan.h) while imc-send
   keeps the channel open, or a filter (imc-convert) that runs once. */
enum { RUN_BUSY, RUN_IDLE, RUN_CLOSING };
struct run {
  pid_t pid;
  const char *prog;
  int state;                      /* RUN_*: with a batch, waiting for one, channel closed */
  int chan;                       /* imc-send's end of the job channel; -1 closed, or a filter */
  int out;                        /* the program's reports (or only its end: a filter) */
  size_t pos;                     /* reports read up to here */
  stralloc rep;
  struct job *jobs;               /* the batch in progress, 0 when none */
  unsigned long njobs;
  unsigned long done;             /* jobs reported (in order) */
  unsigned long ok, tempfail;     /* of those, final results and temporary failures */
  int gone;                       /* a line that is not a report: the rest get none */
  unsigned long batches;          /* batches given to it */
  unsigned long idle_since, idle_limit;   /* closed when idle for idle_limit seconds */
  run_done_fn *finished;
  batch_done_fn *batch_done;      /* or 0 */
  void *owner;                    /* the stage's: a destination, a message */
  unsigned long arg;              /* the stage's: a copy's index */
};
int jobq_push(struct jobq *q, struct msg *m, unsigned long i);   /* marks it busy */
unsigned long jobq_len(const struct jobq *q);
/* consecutive jobs, at most maxmsgs messages, MAXPAIRS recipients and
   JOBCHAN_MAXFILES job lines, into a new array */
unsigned long jobq_take(struct jobq *q, unsigned long maxmsgs, struct job **out);
void jobq_untake(struct jobq *q, struct job *jobs, unsigned long n);   /* the last take back, at the head */
void jobs_fail(struct job *jobs, unsigned long n, const char *why, unsigned long now);  /* frees jobs */
/* the messages of jobs [from, done) with no job in [done, n) settled, each once */
void jobs_settle(struct job *jobs, unsigned long from, unsigned long done, unsigned long n, unsigned long now);
/* every job's file open, each line's file in fds (at most max): 0, -1 */
int jobs_files(struct job *jobs, unsigned long n, int *fds, size_t *nfds, size_t max);
void jobs_close(struct job *jobs, unsigned long n);   /* imc-send holds files only while it passes them */
/* a worker started with its channel, idle: 0 when it could not be started */
struct run *run_worker(const char *prog, char **argv, run_done_fn *finished, batch_done_fn *batch_done,
                       void *owner, unsigned long idle_limit);
/* a batch to an idle worker: 0 the worker has the jobs (and frees them at the
   batch's end), -1 not given (the jobs are still the caller's) */
int run_batch(struct run *run, const stralloc *in, struct job *jobs, unsigned long n, unsigned long now);
void run_close(struct run *run);          /* EOF on its channel: it ends after its batch */
struct run *run_idle(const void *owner);  /* an idle worker of owner's, or 0 */
struct run *run_idle_other(const char *prog, const void *owner);   /* the longest idle of another owner's */
void runs_close_all(void);                /* every worker: TERM, HUP */
void runs_expire(unsigned long now);      /* idle too long: closed */
unsigned long runs_wake(void);            /* when runs_expire next has work, or TIME_NEVER */
int run_start_filter(const char *prog, char **argv, int in, int out, run_done_fn *finished, void *owner,
                     unsigned long arg);
int job_file(const struct job *j, int *fd, unsigned long long *len);   /* what the job delivers: 0, -1 */
int jobs_same_file(const struct job *a, const struct job *b);
int jobs_ready(struct job *jobs, unsigned long n);                     /* every job's file open: 0, -1 */
/* where job k's line starts: the LF ending the line before, then "FD<TAB>MSGLEN",
   FD JOBCHAN_FIRST + the lines before it (*line counts them): 1 it started one, 0 job k
   continues the line, -1 out of memory or the file not open */
int job_line_head(stralloc *in, const struct job *jobs, unsigned long k, unsigned long *line);
/* the next line of a deliverer's reports from *pos: 'K', 'R' (delivered to a next
   hop without DSN), 'Z' or 'D' with its text
   (NUL-terminated), or 0 when no complete good line is left */
char report_line(const stralloc *rep, size_t *pos, stralloc *text);
int runs_active(void);                    /* processes running */
int runs_busy(void);                      /* of those, not idle workers */
int runs_full(void);
void runs_pollfds(struct pollfd *fds, unsigned *n, unsigned max);
void runs_events(struct pollfd *fds, unsigned n, unsigned long now);   /* finished runs are settled */

/* ---- layer 4, the stages; they may call each other and everything below */
/* send_local.c: local deliveries */
void local_ready(struct msg *m, unsigned long i);
void local_dispatch(unsigned long now);

/* send_remote.c: remote deliveries, grouped by destination */
int remote_due(struct msg *m, unsigned long i, unsigned long now);  /* queue it if it may go now: 1 */
void remote_dispatch(unsigned long now);
void remote_retry(const char *domain, unsigned long now);          /* 0: every destination */
void remote_dest_up(const char *domain);                          /* forget that it was down */
int remote_allowed(void);                                         /* transfermode lets mail out */
int remote_reload(void);                                          /* control/routes, smarthost, transfermode */

/* send_conv.c: the conversion stage */
int conv_gate(struct msg *m, unsigned long i, unsigned long now);
int conv_waiting(const struct msg *m, unsigned long i);  /* its copy is queued or being made */
void conv_dispatch(unsigned long now);

/* send_fault.c: connector faults (disk low, bad control file, backlog) to the postmaster */
void faults_check(unsigned long now);

/* send_ctl.c: the administrator's requests (queue/ctl/) */
void ctl_scan(unsigned long now);

/* send_dsn.c: bounces */
int bounce_send(struct msg *m, unsigned long now);     /* 0 queued (or dropped), -1 try later */
int delay_send(struct msg *m, unsigned long now);      /* the one "delayed" notice: 0 queued, -1 try later */
int admin_notice(const char *subject, const char *text);   /* a note to the postmaster: 0 queued, -1 */

/* send_stages.c: the scheduler's hooks as imc-send runs them */
extern const struct sched_hooks stage_hooks;

#endif
