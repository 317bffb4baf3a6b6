/*
 * queue.h -- the on-disk formats of the queue (docs/INTERNALS.md has the
 * whole state table).  Pack and unpack only through these functions.
 *
 * A queue file is the message, then the envelope, then a 64-byte trailer:
 *     MESSAGE (msglen bytes) ENVELOPE (envlen bytes) TRAILER (64 bytes)
 * The trailer is text: "IMCQ1 M<16 hex> E<8 hex> T<16 hex> END", padded
 * with spaces, ending in '\n'.  A file is valid only if its size is exactly
 * msglen + envlen + 64 and the envelope parses: that is its completion mark.
 *
 * The envelope is a sequence of records, each a type byte, text without
 * NUL, and a NUL; it ends with one more NUL.  Records: 'F' the sender
 * (first, exactly once; empty for the null sender), 'T' a recipient (at
 * least one), 'I' information "key=value" (peer, auth, proto) that is kept
 * for logs and never affects routing (docs/INTERNALS.md section 10 lists
 * them and who may write which), and the DSN parameters of RFC 3461 in
 * lib/dsn.h's packed form: 'D' RET and ENVID (at most once), 'N' NOTIFY
 * and ORCPT of the 'T' record just before it.
 */
#ifndef IMC_QUEUE_H
#define IMC_QUEUE_H

#include <stddef.h>
#include "owfat.h"

#define QID_LEN 19            /* 8 hex seconds, 5 hex microseconds, 6 hex pid */
#define QTRAILER_LEN 64
#define QHASH_N 16            /* subdirectories 0..f of mess/ and info/ */
#define QUEUE_WRITER_TIMEOUT 86400  /* imc-queue gives up after this many seconds in all;
                                      must stay below QUEUE_DEBRIS_AGE */
#define QUEUE_DEBRIS_AGE (36 * 3600)  /* a tmp/ file this old is debris: imc-send removes
                                         it, imc-qctl check reports it */
#if QUEUE_WRITER_TIMEOUT >= QUEUE_DEBRIS_AGE
#error "imc-queue may still write a file that imc-send would remove as debris"
#endif

struct qtrailer {
  unsigned long long msglen;
  unsigned long envlen;
  unsigned long long qtime;   /* seconds since the epoch when queued */
};

void qid_make(char id[QID_LEN + 1], unsigned long sec, unsigned long usec, unsigned long pid);
int qid_valid(const char *s, size_t len);
char qid_hash(const char *id);                 /* '0'..'f' */
unsigned long qid_time(const char *id);

void qtrailer_pack(char out[QTRAILER_LEN], const struct qtrailer *t);
int qtrailer_unpack(const char *in, struct qtrailer *t);           /* 0 ok, -1 invalid */

/* envelope records */
int env_add(stralloc *env, char type, const char *s, size_t len);  /* 0, or -1 ENOMEM */
int env_finish(stralloc *env);                                      /* appends the final NUL */
int env_next(const char *env, size_t envlen, size_t *pos, char *type, const char **val, size_t *len);
int env_check(const char *env, size_t envlen, size_t *nrcpt);       /* 0 ok, -1 malformed, -2 no recipient */
const char *env_sender(const char *env, size_t envlen, size_t *len);
/* the envelope as a local user may give it (imc-queue, for a caller that is
   not one of imc's own users; docs/INTERNALS.md section 10): the F and T
   records, of the I records only those imc-inject writes for a user
   (via=inject; never uid=), then uid=UID; out is replaced and ends with the
   final NUL.  0, or -1 (errno ENOMEM, or EINVAL when env does not parse) */
int env_restrict(stralloc *out, const char *env, size_t envlen, unsigned long uid);

/* a queue file open for reading */
struct qfile {
  int fd;
  struct qtrailer t;
  stralloc env;
};
int qfile_open(struct qfile *q, const char *path);  /* 1 valid, 0 missing, -1 error (errno), -2 invalid */
int qfile_validate(struct qfile *q);                /* same, on q->fd already open */
void qfile_close(struct qfile *q);

/* queue paths, relative to the queue directory: "new/ID", "mess/H/ID", "info/H/ID" */
int qpath(stralloc *sa, const char *queuedir, const char *area, const char *id);

#endif
