/*
 * report.c -- imc-remote's reports on fd 1 (docs/INTERNALS.md section 8):
 * one line per recipient, "K text", "R text" (delivered, relayed to a
 * next hop without DSN), "Z text" or "D text", in input order,
 * each written with one write(2) as soon as it and every one before it
 * are known, so that a crash loses as few as possible.
 *
 * Input: results in any order (rep_set, one per slot; a second is
 * ignored).  Output: the lines, at most REP_LINE_MAX bytes each (a longer
 * text is cut).  Failure modes: fd 1 unwritable is fatal (exit 111:
 * imc-send counts every recipient without a report as deferred); out of
 * memory for a text writes a generic text for its kind.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "diag.h"
#include "exitcodes.h"
#include "fileio.h"
#include "remote.h"

#define REP_LINE_MAX 1000

struct slot {
  char kind;                   /* 0 until known */
  char *text;
};

static struct slot *slots;
static size_t nslots, head;

int rep_init(size_t n)
{
  size_t i;
  for (i = head; i < nslots; i++) free(slots[i].text);
  free(slots);
  slots = calloc(n ? n : 1, sizeof *slots);
  if (!slots) return -1;
  nslots = n;
  head = 0;
  return 0;
}

static const char *fallback(char kind)
{
  return kind == 'K' || kind == 'R' ? "2.0.0 delivered" : kind == 'D' ? "5.0.0 permanent failure" : "4.3.0 temporary failure";
}

static void write_line(const struct slot *sl)
{
  char buf[REP_LINE_MAX + 2];
  const char *t = sl->text && *sl->text ? sl->text : fallback(sl->kind);
  size_t n = strlen(t), i;
  if (n > REP_LINE_MAX - 1) n = REP_LINE_MAX - 1;
  buf[0] = sl->kind;
  for (i = 0; i < n; i++) buf[i + 1] = t[i] == '\n' || t[i] == '\r' ? ' ' : t[i];
  buf[n + 1] = '\n';
  if (write_all(1, buf, n + 2) < 0) fatalsys(EX_TEMP, "unable to write reports");
}

void rep_flush(void)
{
  while (head < nslots && slots[head].kind) {
    write_line(&slots[head]);
    free(slots[head].text);
    slots[head].text = 0;
    head++;
  }
}

void rep_set(size_t slot, char kind, const char *text)
{
  if (slot >= nslots || slots[slot].kind) return;
  slots[slot].kind = kind;
  slots[slot].text = text ? strdup(text) : 0;
  rep_flush();
}

int rep_done(size_t slot)
{
  return slot >= nslots || slots[slot].kind != 0;
}

size_t rep_missing(void)
{
  return nslots - head;
}
