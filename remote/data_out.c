/*
 * data_out.c -- dot-stuffing and CR LF line ends for SMTP DATA, and the
 * scan that sizes a message (see data_out.h).
 */
#include <string.h>
#include "bytes.h"
#include "data_out.h"

void dot_init(struct dotstuff *d)
{
  d->bol = 1;
  d->cr = 0;
}

/* one CR or LF (CR LF already begun by a CR is finished by its LF) */
static size_t line_end(struct dotstuff *d, char c, char *out)
{
  if (c == '\n' && d->cr) { d->cr = 0; return 0; }      /* CR LF: the CR sent both */
  d->cr = c == '\r';
  out[0] = '\r';
  out[1] = '\n';
  d->bol = 1;
  return 2;
}

size_t dot_encode(struct dotstuff *d, const char *in, size_t len, char *out)
{
  size_t i = 0, o = 0;
  while (i < len) {
    size_t run = bytes_text_span(in + i, len - i);
    if (!run) { o += line_end(d, in[i++], out + o); continue; }
    d->cr = 0;
    if (d->bol && in[i] == '.') out[o++] = '.';
    memcpy(out + o, in + i, run);
    o += run;
    i += run;
    d->bol = 0;
  }
  return o;
}

size_t dot_finish(struct dotstuff *d, char *out)
{
  size_t o = 0;
  if (!d->bol) { out[o++] = '\r'; out[o++] = '\n'; }
  memcpy(out + o, ".\r\n", 3);
  d->bol = 1;
  d->cr = 0;
  return o + 3;
}

void msgscan_init(struct msgscan *m)
{
  dot_init(&m->d);
  m->size = 0;
  m->eightbit = 0;
}

/* the encoder's rules, counting instead of writing and without the dots */
void msgscan_chunk(struct msgscan *m, const char *in, size_t len)
{
  size_t i = 0;
  while (i < len) {
    size_t run = bytes_text_span(in + i, len - i);
    char c;
    if (run) {
      if (!m->eightbit && bytes_high(in + i, run)) m->eightbit = 1;
      m->size += run;
      m->d.cr = m->d.bol = 0;
      i += run;
      continue;
    }
    c = in[i++];
    if (c == '\n' && m->d.cr) { m->d.cr = 0; continue; }
    m->d.cr = c == '\r';
    m->size += 2;
    m->d.bol = 1;
  }
}

void msgscan_finish(struct msgscan *m)
{
  if (!m->d.bol) m->size += 2;
  m->d.bol = 1;
}

