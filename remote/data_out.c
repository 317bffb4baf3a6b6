/*
 * data_out.c -- dot-stuffing and CR LF line ends for SMTP DATA, and the
 * scan that sizes a message (see data_out.h).
 */
#include <string.h>
#include "data_out.h"

void dot_init(struct dotstuff *d)
{
  d->bol = 1;
  d->cr = 0;
}

size_t dot_encode(struct dotstuff *d, const char *in, size_t len, char *out)
{
  size_t i, o = 0;
  for (i = 0; i < len; i++) {
    char c = in[i];
    if (c == '\n' && d->cr) { d->cr = 0; continue; }      /* CR LF: the CR sent both */
    d->cr = c == '\r';
    if (c == '\r' || c == '\n') {
      out[o++] = '\r';
      out[o++] = '\n';
      d->bol = 1;
      continue;
    }
    if (c == '.' && d->bol) out[o++] = '.';
    out[o++] = c;
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
  size_t i;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)in[i];
    if (c == '\n' && m->d.cr) { m->d.cr = 0; continue; }
    m->d.cr = c == '\r';
    if (c >= 0x80) m->eightbit = 1;
    if (c == '\r' || c == '\n') { m->size += 2; m->d.bol = 1; }
    else { m->size++; m->d.bol = 0; }
  }
}

void msgscan_finish(struct msgscan *m)
{
  if (!m->d.bol) m->size += 2;
  m->d.bol = 1;
}

