/*
 * track.h -- the message tracking log, log/track/current
 * (format in docs/INTERNALS.md section 6): one TAB-separated line per
 * event.  The writer appends with O_APPEND and one write(2) per line, so
 * several writers never interleave; past TRACK_ROTATE_SIZE the file is
 * renamed to @SECONDS.s and the oldest beyond TRACK_KEEP are removed.
 * Tracking is advisory: a failure to write is logged, never fatal.
 */
#ifndef IMC_TRACK_H
#define IMC_TRACK_H

#include <stddef.h>

#define TRACK_ROTATE_SIZE 1000000
#define TRACK_KEEP 20

struct track_event {
  const char *event;     /* received, delivered, deferred, bounced, ... */
  const char *id;
  const char *msgid;     /* Message-ID, or 0 */
  const char *sender;    /* envelope sender, "" for <> */
  const char *rcpt;      /* or 0 */
  const char *peer;      /* or 0 */
  const char *result;    /* or 0 */
};

void track_enable(int on);                 /* from control/tracking */
void track_log(const struct track_event *e);
void track_format(char *buf, size_t *len, size_t cap, unsigned long now, const struct track_event *e);

#endif
