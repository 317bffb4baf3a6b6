/*
 * jobchan.h -- the job channel between imc-send and a deliverer that
 * stays for more batches (imc-remote, imc-local; docs/INTERNALS.md
 * sections 5 and 8).
 *
 * imc-send makes a SOCK_SEQPACKET socketpair and starts the deliverer with
 * its end as fd 0.  A batch is one record: the byte 'B' with the
 * descriptors [JOBS, FILE1, ..., FILEn]: JOBS holds the batch's job lines
 * (a memfd, read from offset 0 to EOF), and the FD field of a job line is
 * JOBCHAN_FIRST plus the place of its queue file among them (3 for FILE1,
 * 4 for FILE2: the numbers the files would have had, passed at the start
 * as in the one-shot form).  The deliverer
 * reports on fd 1 as in the one-shot form and ends each batch's reports
 * with the line JOBCHAN_END; EOF on fd 0 (imc-send closed its end) tells it
 * to finish and exit.
 *
 * The one-shot form stays: when fd 0 is not such a socket, it holds the job
 * lines (read to EOF, one batch) and FD fields are descriptor numbers.
 *
 * A job line's FD field may carry the message's queue id, "FD:ID" (imc-send
 * always writes it), so that the deliverer's log lines name the message;
 * jobchan_field_id splits it.
 *
 * Failure modes: a record that is not a batch (no 'B', no JOBS, more than
 * JOBCHAN_MAXFILES files) is an error; a JOBS larger than the caller's
 * limit is -2.
 */
#ifndef IMC_JOBCHAN_H
#define IMC_JOBCHAN_H

#include <stddef.h>
#include "fdpass.h"
#include "owfat.h"
#include "queue.h"

#define JOBCHAN_MAXFILES (FDPASS_MAX - 1)   /* queue files in one batch */
#define JOBCHAN_END ".\n"                    /* a deliverer's line after a batch's reports */
#define JOBCHAN_FIRST 3                      /* the FD field of a batch's first file */

#define JOBCHAN_ID_MAX QID_LEN              /* a queue id's length */

/* the FD field f (n bytes), "FD" or "FD:ID": the length of its FD part, and
   the id in *id, *idlen (0: none).  An ID that is not a queue id
   (qid_valid) is not split off: the FD part then is no number, and the job
   unusable. */
size_t jobchan_field_id(const char *f, size_t n, const char **id, size_t *idlen);

/* imc-send's side */
int jobchan_pair(int *mine, int *theirs);   /* close-on-exec both; mine may only send: 0, -1 */
int jobchan_send(int chan, int jobs, const int *files, size_t nfiles);   /* one batch: 0, -1 */

/* the deliverer's side: fd 0 */
struct jobsrc {
  int chan;                        /* 1: fd 0 is a channel; 0: the one-shot form */
  int ended;                       /* one-shot: its batch was read */
  int files[JOBCHAN_MAXFILES];     /* the current batch's queue files */
  size_t nfiles;
};
void jobsrc_init(struct jobsrc *s);
/* the next batch's job lines into in (emptied first): 1, 0 no more batches,
   -1 error (errno), -2 more than max bytes of job lines */
int jobsrc_next(struct jobsrc *s, stralloc *in, size_t max);
int jobsrc_file(const struct jobsrc *s, int field);   /* the descriptor an FD field names, -1 none */
void jobsrc_release(struct jobsrc *s);               /* the batch is done: its files closed */

#endif
