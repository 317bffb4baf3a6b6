/*
 * exitcodes.h -- every exit code of every imc program, in one place.
 *
 * General rule (skalibs style): 0 success, 100 permanent or usage error,
 * 111 temporary error.  imc-queue has a finer table, modelled on
 * qmail-queue: 0 queued, 11..40 permanent (the message will never be
 * accepted as it is), everything else temporary (try again later).
 * docs/INTERNALS.md explains how each caller maps them to replies.
 */
#ifndef IMC_EXITCODES_H
#define IMC_EXITCODES_H

#define EX_OK        0
#define EX_PERM    100   /* permanent failure or usage error */
#define EX_TEMP    111   /* temporary failure */

/* imc-queue */
#define QX_OK             0
#define QX_PERM_TOOBIG   31   /* message larger than control/databytes: 552 5.3.4 */
#define QX_PERM_NORCPT   32   /* envelope has no recipient: 554 5.5.1 */
#define QX_PERM_ENVELOPE 33   /* envelope malformed or address unusable: 554 5.5.4 */
#define QX_PERM_LOOP     34   /* too many Received lines: 554 5.4.6 */
#define QX_PERM_CANCEL   35   /* serial mode: the caller cancelled the message ('a' frame), nothing queued */
#define QX_PERM_FRAME    36   /* serial mode: a malformed frame (docs/INTERNALS.md section 4) */
#define QX_TEMP_NOMEM    51   /* out of memory: 451 4.3.0 */
#define QX_TEMP_DISKFREE 52   /* below control/diskfree: 452 4.3.1 */
#define QX_TEMP_WRITE    53   /* writing or syncing the queue failed: 451 4.3.0 */
#define QX_TEMP_READ     54   /* reading the message or envelope failed: 451 4.3.0 */
#define QX_TEMP_CONTROL  55   /* a control file is unreadable: 451 4.3.5 */
#define QX_TEMP_QUEUE    56   /* queue directory missing or unusable: 451 4.3.0 */
#define QX_TEMP_TIMEOUT  57   /* the writer went silent: 451 4.4.2 */

#define QX_IS_OK(x)   ((x) == QX_OK)
#define QX_IS_PERM(x) ((x) >= 11 && (x) <= 40)
#define QX_IS_TEMP(x) (!QX_IS_OK(x) && !QX_IS_PERM(x))

/* imc-convert (also 0 converted, 100 usage, 111 temporary); on any code but 0
   the output is incomplete or empty and the caller discards it */
#define CX_OK          0
#define CX_SUPPRESSED 20   /* an automatic reply or out-of-office this profile does not send:
                              nothing written; the caller tracks it "suppressed" */
#define CX_TOOBIG     21   /* the converted message exceeds the profile's maxsize: bounce 5.3.4 */

/* sendmail(8) compatible codes used by imc-inject (sysexits.h values) */
#define IX_USAGE      64
#define IX_DATAERR    65
#define IX_NOUSER     67
#define IX_SOFTWARE   70
#define IX_TEMPFAIL   75

/* imc-ctl check --dns (also 0 every site domain's MX points here, 100 errors in
   the control files, 111 a DNS lookup failed temporarily) */
#define CTLX_DNSWARN   1   /* a site domain's mail does not reach this host: a warning says why */
/* imc-ctl spf: 0 a result printed (whatever it is), 100 usage, 111 env/DNSCACHEIP unreadable */

#endif
