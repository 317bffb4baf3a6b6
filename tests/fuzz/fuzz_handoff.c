/*
 * fuzz_handoff.c -- libFuzzer target for the frame imc-tcpd sends a worker
 * with each connection (lib/handoff.c): a frame that parses has
 * TCPREMOTEIP, and every field it has packs into a new frame that parses
 * back to the same fields; one that does not parse leaves nothing behind.
 */
#include <stdlib.h>
#include <string.h>
#include "handoff.h"

static void repack(const struct handoff *h)
{
  char frame[HANDOFF_MAX];
  struct handoff back;
  size_t n = handoff_start(frame);
  int i;
  for (i = 0; i < HF_N; i++) {
    if (!h->has[i]) continue;
    n = handoff_add(frame, n, i, h->value[i]);
    if (!n) abort();
  }
  if (handoff_parse(&back, frame, n) != 0) abort();
  for (i = 0; i < HF_N; i++)
    if (back.has[i] != h->has[i] || (h->has[i] && strcmp(back.value[i], h->value[i]))) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  struct handoff h;
  int i;
  if (handoff_parse(&h, (const char *)data, size) == 0) {
    if (!h.has[HF_REMOTEIP] || !handoff_get(&h, "TCPREMOTEIP")) abort();
    repack(&h);
  } else {
    for (i = 0; i < HF_N; i++) if (h.has[i] || h.value[i][0]) abort();
  }
  return 0;
}
