/*
 * base64.c -- whole-buffer base64 (see base64.h), on libowfat's fmt_base64
 * and scan_base64.  scan_base64 alone is lenient (it takes "Y===" and stops
 * quietly at the first byte outside the alphabet), so each group is
 * decoded on its own and must encode back to exactly the same four bytes.
 */
#include <string.h>
#include "base64.h"
#include "owfat.h"

size_t base64_encode(char *out, const char *in, size_t len)
{
  return fmt_base64(out, in, len);
}

/* one group of four: its 1 to 3 octets into out, or -1; last: padding allowed */
static int group(const char *in, char *out, int last)
{
  char g[5], back[4];
  size_t n = 0;
  memcpy(g, in, 4);
  g[4] = 0;
  if (scan_base64(g, out, &n) != 4 || n == 0 || (!last && n != 3)) return -1;
  if (fmt_base64(back, out, n) != 4 || memcmp(back, g, 4)) return -1;
  return (int)n;
}

int base64_decode(const char *in, size_t len, char *out, size_t cap, size_t *outlen)
{
  char buf[3];
  size_t i;
  *outlen = 0;
  if (len % 4) return -1;
  for (i = 0; i < len; i += 4) {
    int n = group(in + i, buf, i + 4 == len);
    if (n < 0 || *outlen + (size_t)n > cap) return -1;
    memcpy(out + *outlen, buf, (size_t)n);
    *outlen += (size_t)n;
  }
  return 0;
}
