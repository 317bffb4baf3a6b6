/*
 * fuzz_rules.c -- libFuzzer target for control/rules and control/transfermode
 * (lib/rules.c): the input is parsed as each file; when the rules parse,
 * every rule is formatted, parsed back and must give the same rule, and
 * the first 16 input bytes are matched as a client address.  Also ip_scan
 * and ip_format on the input as an address: a scanned address formats to
 * text that scans back to it.
 */
#include <stdlib.h>
#include <string.h>
#include "rules.h"

static void roundtrip(const struct rules *rs)
{
  char buf[RULE_FMT];
  struct rules back = {0, 0, 0, 0};
  size_t i;
  for (i = 0; i < rs->n; i++) {
    rule_format(buf, &rs->r[i]);
    strcat(buf, "\n");
    ctl_file f = {0};
    ctl_openmem(&f, "rules", buf, strlen(buf));
    if (rules_parse(&back, &f, 0) != 0 || back.n != 1) abort();
    if (memcmp(back.r[0].ip, rs->r[i].ip, 16) || back.r[0].bits != rs->r[i].bits
        || back.r[0].v4 != rs->r[i].v4 || back.r[0].verdict != rs->r[i].verdict) abort();
    ctl_close(&f);
  }
  rules_free(&back);
}

static void address(const unsigned char *data, size_t size)
{
  char text[64], out[IP_FMT];
  unsigned char ip[16], again[16];
  if (size >= sizeof text) return;
  memcpy(text, data, size);
  text[size] = 0;
  if (!ip_scan(text, ip)) return;
  ip_format(out, ip);
  if (!ip_scan(out, again) || memcmp(ip, again, 16)) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  struct rules rs = {0, 0, 0, 0};
  unsigned char ip[16] = {0};
  ctl_file f = {0};
  int mode, v;
  ctl_openmem(&f, "rules", (const char *)data, size);
  if (rules_parse(&rs, &f, 0) == 0) {
    roundtrip(&rs);
    memcpy(ip, data, size < 16 ? size : 16);
    v = rules_match(&rs, ip);
    if (v < RULE_ACCEPT || v > RULE_LAST) abort();
  } else if (rs.n || rs.r) abort();
  ctl_close(&f);
  rules_free(&rs);
  transfermode_check_text((const char *)data, size, 0);
  ctl_openmem(&f, "transfermode", (const char *)data, size);
  mode = -1;
  if (transfermode_parse(&mode, &f, 0) == 0 && (mode < XFER_BOTH || mode > XFER_NONE)) abort();
  ctl_close(&f);
  address(data, size);
  return 0;
}
