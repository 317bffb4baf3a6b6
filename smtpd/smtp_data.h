/*
 * smtp_data.h -- the DATA phase of an SMTP session as a state machine fed
 * with every octet the client sends after the 354, in buffers of any
 * size: finds the end, undoes dot stuffing, turns CR LF into LF (the
 * queue stores LF), counts the bytes as stored, and notes what makes the
 * message unacceptable: a bare CR or a bare LF, a line over SMTP_LINE_MAX
 * octets, more than the size limit.
 *
 * The end is CR LF "." CR LF and nothing else: the machine is at the
 * beginning of a line only at the start of the text and after a CR LF,
 * never after a bare CR or LF, and a long line changes nothing about it.
 * A bare CR or LF stops the machine at once (done, DATA_BARE set): what
 * follows it may be a second transaction smuggled past another server
 * that takes a bare LF for a line end, so the session answers 550 5.6.11
 * and closes without reading another byte as a command.  A long line or
 * too much text only stop the output: the input is still read to its end
 * so the session can answer once and go on.
 *
 * BDAT chunks (RFC 3030) go through the same machine in its chunked form
 * (smtp_data_init_chunks): no dot stuffing and no end mark, since the
 * client counts the octets; the caller feeds each chunk's octets and
 * nothing more, so a CR LF may be split across two chunks.  CR LF still
 * becomes LF, and a bare CR or LF is refused exactly as in DATA (done,
 * DATA_BARE: 550 5.6.11 and the session closes).  smtp_data_last ends the
 * text at BDAT LAST: a CR left at its end is bare, and a last line without
 * its line end gets an LF, so that the stored text ends in LF as after DATA.
 *
 * No memory is allocated; the caller's output buffer is never filled
 * beyond the input length.
 */
#ifndef IMC_SMTP_DATA_H
#define IMC_SMTP_DATA_H

#include <stddef.h>

#define SMTP_LINE_MAX 1000        /* a text line, CR LF included (RFC 5321 4.5.3.1.6) */

#define DATA_BARE     1           /* bare CR or LF: 550 5.6.11, and the session closes */
#define DATA_LONGLINE 2           /* 500 5.5.2 */
#define DATA_TOOBIG   4           /* 552 5.3.4 */

struct smtp_data {
  int state;
  int done;                       /* no more input: the final "." line was read, or
                                     a bare CR or LF (errors has DATA_BARE) */
  int errors;                     /* DATA_* bits */
  size_t linelen;                 /* octets of the current line so far, as received */
  unsigned long long bytes;       /* octets as stored */
  unsigned long long max;         /* 0: no limit */
  int chunked;                    /* BDAT: no dot stuffing, no end mark */
};

/* already: octets the caller stores before the text (its Received line) */
void smtp_data_init(struct smtp_data *d, unsigned long long max, unsigned long long already);
/* the same for the chunks of one BDAT transaction */
void smtp_data_init_chunks(struct smtp_data *d, unsigned long long max, unsigned long long already);
/* BDAT LAST: the text ends here.  A CR at its end is bare (DATA_BARE); a last line
   without its line end gets its LF, put in out (room for 1 octet, *outlen 0 or 1) */
void smtp_data_last(struct smtp_data *d, char *out, size_t *outlen);
/* consumes input up to and including the end of the data, or the octet that shows a
   CR or LF bare; appends the octets to store to out (room for len octets), setting
   *outlen; returns the octets consumed (less than len only when d->done became set) */
size_t smtp_data_feed(struct smtp_data *d, const char *in, size_t len, char *out, size_t *outlen);
/* the reply refusing the message for d->errors, or 0 when there is none */
const char *smtp_data_reply(const struct smtp_data *d);

#endif
