/*
 * selfpipe.h -- signals as events: each caught signal writes its number to
 * a non-blocking pipe whose read end the daemon polls with its other fds;
 * the handler does nothing else.  One self-pipe per process.
 */
#ifndef IMC_SELFPIPE_H
#define IMC_SELFPIPE_H

int selfpipe_init(void);                 /* the read end to poll, or -1 (errno) */
int selfpipe_catch(int sig, int flags);  /* route sig through the pipe (SA_* flags added): 0, -1 */
int selfpipe_next(void);                 /* the next caught signal, or 0 when none is waiting */

#endif
