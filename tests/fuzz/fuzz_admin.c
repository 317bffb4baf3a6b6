/*
 * fuzz_admin.c -- libFuzzer target for the queue tools' parsers of file
 * input (queue/admin/admin_track.c, admin_held.c, admin_out.c): the input as a
 * tracking log line, as queue/info/held, and as a time argument.  Checks
 * that a parsed line's fields are NUL-terminated pieces of the line, that
 * every held domain is non-empty, lower case and without white space, and
 * that an ISO time prints back as itself.
 */
#include <stdlib.h>
#include <string.h>
#include "../../queue/admin/admin.h"

static void in_line(const char *f, const char *buf, size_t len)
{
  if (f < buf || f > buf + len || strlen(f) > len) abort();
}

static void track_line(const unsigned char *data, size_t size)
{
  char *buf = malloc(size + 1);
  struct trk_event e;
  if (!buf) return;
  memcpy(buf, data, size);
  if (trk_parse(buf, size, &e)) {
    char iso[ADM_TIME];
    in_line(e.time, buf, size); in_line(e.event, buf, size); in_line(e.id, buf, size);
    in_line(e.msgid, buf, size); in_line(e.sender, buf, size); in_line(e.rcpt, buf, size);
    in_line(e.peer, buf, size); in_line(e.result, buf, size);
    adm_iso(iso, e.t);
    if (strcmp(iso, e.time)) abort();
  }
  free(buf);
}

static void held(const unsigned char *data, size_t size)
{
  stralloc out = {0};
  size_t pos = 0, i;
  if (held_parse((const char *)data, size, &out) < 0) return;
  while (pos < out.len) {
    size_t n = strlen(out.s + pos);
    if (!n || pos + n >= out.len) abort();
    for (i = pos; i < pos + n; i++)
      if ((out.s[i] >= 'A' && out.s[i] <= 'Z') || out.s[i] == ' ' || out.s[i] == '\t' || out.s[i] == '\n') abort();
    pos += n + 1;
  }
  stralloc_free(&out);
}

static void when(const unsigned char *data, size_t size)
{
  char buf[64];
  unsigned long t;
  if (size >= sizeof buf) return;
  memcpy(buf, data, size);
  buf[size] = 0;
  adm_scan_when(buf, 1795834555, &t);
  if (adm_scan_iso(buf, &t)) {
    char iso[ADM_TIME];
    adm_iso(iso, t);
    if (strcmp(iso, buf)) abort();
  }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  track_line(data, size);
  held(data, size);
  when(data, size);
  return 0;
}
