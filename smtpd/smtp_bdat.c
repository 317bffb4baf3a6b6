/*
 * smtp_bdat.c -- BDAT (RFC 3030, CHUNKING) in an imc-smtpd session: the
 * message text in chunks whose sizes the client gives, each read exactly
 * (never a byte more, never one of them as a command), through the same
 * path to imc-queue as DATA's text (smtp_msg.c): the same Received line,
 * size limit (control/databytes, counted as stored), header hold and
 * checks (smtp_check.c), and the same one reply with the queue id, at
 * BDAT LAST.  Each other chunk gets "250 2.0.0 N octets received".
 *
 * The chunks are not dot-stuffed; the state machine in its chunked form
 * (smtp_data.h) turns CR LF into LF across chunk boundaries and refuses a
 * bare CR or LF as in DATA: 550 5.6.11 and the session closes.
 *
 * Failure modes: a BDAT line that does not parse leaves the chunk's end
 * unknown: 501 5.5.4, then 421 4.5.0 and close.  A BDAT that cannot be
 * taken (no MAIL: 503 5.5.1; no recipient: 554 5.5.1; imc-queue not
 * running: 451 4.3.0) has its chunk read and dropped before the reply.  A
 * long line (500 5.5.2) or too much text (552 5.3.4) is answered at the
 * end of its chunk; the message is cancelled and the transaction reset,
 * so that the client's next BDATs get 503 (their chunks dropped too).
 * Each chunk has the DATA rate limit (control/mindatarate) of its own;
 * EOF or a timeout in a chunk ends the session (imc-queue writes nothing).
 */
#include "smtp_data.h"
#include "smtpd.h"

/* the text of the BDAT transaction under way (s->bdat) */
static struct smtp_data chunks;

/* n octets of the client, through d to imc-queue, or dropped when d is 0; stops
   early only at a bare CR or LF (d->done) */
static void chunk_read(struct session *s, unsigned long long n, struct smtp_data *d)
{
  const char *p;
  size_t avail, used;
  while (n && !(d && d->done)) {
    smtpd_text_peek(s, &p, &avail);
    if (avail > n) avail = (size_t)n;
    used = d ? smtpd_msg_feed(d, p, avail) : avail;
    sio_skip(&s->sio, used);
    n -= used;
  }
}

static void chunk_drop(struct session *s, unsigned long long n)
{
  limits_data_begin(s);
  chunk_read(s, n, 0);
  limits_data_end(s);
}

static void chunk_ok(struct session *s, unsigned long long size)
{
  char n[FMT_ULONG];
  n[fmt_ulonglong(n, size)] = 0;
  smtpd_reply(s, "250 2.0.0 ", n, " octets received");
}

void smtpd_bdat(struct session *s, const struct smtp_cmd *c)
{
  unsigned long long size;
  int last;
  const char *e = smtp_bdat_parse(c->arg, c->arglen, &size, &last);
  if (e) {
    smtpd_reply(s, e);
    smtpd_reply(s, "421 4.5.0 ", s->cfg.me.s, " the chunk's end is unknown, closing connection");
    smtpd_end(s, "bad-bdat");
  }
  if (!s->mail_seen) { chunk_drop(s, size); smtpd_bad(s, "503 5.5.1 send MAIL first"); return; }
  if (!s->nrcpt) { chunk_drop(s, size); smtpd_reply(s, "554 5.5.1 no valid recipients"); return; }
  if (!s->bdat && smtpd_msg_begin(s, &chunks, 1) < 0) { chunk_drop(s, size); return; }
  s->bdat = 1;
  limits_data_begin(s);
  chunk_read(s, size, &chunks);
  limits_data_end(s);
  if (chunks.errors || last) smtpd_msg_end(s, &chunks);
  else chunk_ok(s, size);
  /* what follows a bare CR or LF is never read as a command: the 550 is the last reply */
  if (chunks.errors & DATA_BARE) smtpd_end(s, "bare-newline-in-data");
}
