/*
 * smtp_data.c -- the DATA state machine (see smtp_data.h).
 *
 * States: at the beginning of a line (the start of the text, or after
 * CR LF: nothing else leads here); inside a line; after a CR; after a "."
 * at the beginning of a line; after "." CR.  Only "." CR LF at the
 * beginning of a line ends the data.  A CR not followed by LF, and an LF
 * not preceded by CR, are bare: DATA_BARE is noted and the machine stops
 * there (done), having consumed the octet that showed it.  Line lengths
 * are counted as received; a line over SMTP_LINE_MAX only notes
 * DATA_LONGLINE and leaves the state alone.  Inside a line, the octets up
 * to the next CR or LF go in one copy (text_run) when they raise no error;
 * the result is the same as octet by octet.  Chunked (BDAT), a "." at the
 * beginning of a line is text and nothing ends the data but a bare CR or
 * LF; smtp_data_last closes it.
 *
 * Inputs: network bytes.  Outputs: bytes to store, counts, error bits.
 * Failure modes: none of its own; every error is a bit in d->errors.
 */
#include "bytes.h"
#include "smtp_data.h"

enum { S_BOL, S_TEXT, S_CR, S_DOT, S_DOTCR };

void smtp_data_init(struct smtp_data *d, unsigned long long max, unsigned long long already)
{
  d->state = S_BOL;
  d->done = 0;
  d->errors = 0;
  d->linelen = 0;
  d->bytes = already;
  d->max = max;
  d->chunked = 0;
  if (max && already > max) d->errors |= DATA_TOOBIG;
}

void smtp_data_init_chunks(struct smtp_data *d, unsigned long long max, unsigned long long already)
{
  smtp_data_init(d, max, already);
  d->chunked = 1;
}

static void store(struct smtp_data *d, char c, char *out, size_t *n)
{
  d->bytes++;
  if (d->max && d->bytes > d->max) d->errors |= DATA_TOOBIG;
  if (!d->errors) out[(*n)++] = c;
}

static void bare(struct smtp_data *d)
{
  d->errors |= DATA_BARE;
  d->done = 1;
}

/* the states that look at one byte before it is text; 1 when c is used up */
static int step_special(struct smtp_data *d, char c, char *out, size_t *n)
{
  switch (d->state) {
  case S_BOL:
    if (c == '.' && !d->chunked) { d->state = S_DOT; return 1; }
    break;
  case S_DOT:                                /* the stuffed dot is dropped */
    if (c == '\r') { d->state = S_DOTCR; return 1; }
    break;
  case S_DOTCR:
    if (c == '\n') { d->done = 1; return 1; }
    bare(d);
    return 1;
  case S_CR:
    if (c != '\n') { bare(d); return 1; }
    store(d, '\n', out, n);
    d->state = S_BOL;
    d->linelen = 0;
    return 1;
  }
  d->state = S_TEXT;
  return 0;
}

static void step(struct smtp_data *d, char c, char *out, size_t *n)
{
  if (d->state != S_TEXT && step_special(d, c, out, n)) return;
  if (c == '\r') { d->state = S_CR; return; }
  if (c == '\n') { bare(d); return; }
  store(d, c, out, n);
}

/* inside a line: the octets before the next CR or LF stored at once, when
   they raise no error (else the octet-by-octet path finds where it arises) */
static size_t text_run(struct smtp_data *d, const char *in, size_t len, char *out, size_t *n)
{
  size_t run = bytes_text_span(in, len);
  if (!run || d->errors || d->linelen + run > SMTP_LINE_MAX || (d->max && d->bytes + run > d->max)) return 0;
  memcpy(out + *n, in, run);
  *n += run;
  d->linelen += run;
  d->bytes += run;
  return run;
}

size_t smtp_data_feed(struct smtp_data *d, const char *in, size_t len, char *out, size_t *outlen)
{
  size_t i = 0, r;
  *outlen = 0;
  while (i < len && !d->done) {
    if (d->state == S_TEXT && (r = text_run(d, in + i, len - i, out, outlen)) != 0) {
      i += r;
      continue;
    }
    if (++d->linelen > SMTP_LINE_MAX) d->errors |= DATA_LONGLINE;
    step(d, in[i++], out, outlen);
  }
  return i;
}

void smtp_data_last(struct smtp_data *d, char *out, size_t *outlen)
{
  *outlen = 0;
  if (d->done) return;
  d->done = 1;
  if (d->state == S_CR) { d->errors |= DATA_BARE; return; }
  if (d->state == S_TEXT) store(d, '\n', out, outlen);
  d->state = S_BOL;
}

const char *smtp_data_reply(const struct smtp_data *d)
{
  if (d->errors & DATA_BARE) return "550 5.6.11 bare CR or LF in the message text is not allowed";
  if (d->errors & DATA_LONGLINE) return "500 5.5.2 line too long in the message text (the limit is 1000 octets)";
  if (d->errors & DATA_TOOBIG) return "552 5.3.4 message too big";
  return 0;
}
