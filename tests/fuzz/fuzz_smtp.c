/*
 * fuzz_smtp.c -- libFuzzer target for imc-smtpd's parsers of network
 * input: the command line parser, MAIL FROM / RCPT TO paths with their
 * parameters, the EHLO and ETRN arguments, base64 and the AUTH PLAIN
 * split (smtpd/smtp_cmd.c, smtp_auth.c), and the DATA state machine
 * (smtpd/smtp_data.c) fed with the input cut into pieces whose sizes come
 * from the input itself.
 *
 * Checks: a parsed address is NUL-terminated, within SMTP_ADDR_MAX, and
 * one the queue accepts (addr_valid); the data machine never outputs more
 * than it was given, never consumes past the end, counts exactly what it
 * outputs while no error is noted, and refuses any text with a bare CR or
 * LF before its end.
 */
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "../../smtpd/smtp_auth.h"
#include "../../smtpd/smtp_cmd.h"
#include "../../smtpd/smtp_data.h"

static void check_path(const char *s, size_t n, int mail)
{
  struct smtp_path p;
  if (smtp_path_parse(s, n, mail, &p)) return;
  if (p.len > SMTP_ADDR_MAX || p.addr[p.len] != 0 || strlen(p.addr) != p.len || p.at > p.len) abort();
  if (p.at < p.len && !addr_valid(p.addr, p.len)) abort();
  if (p.at == p.len && p.len && (mail || p.len != 10)) abort();
  if (p.len == 0 && !mail) abort();
}

static void check_command(const char *s, size_t n)
{
  struct smtp_cmd c;
  char dom[256];
  if (smtp_cmd_parse(s, n, &c)) return;
  if (c.arg < s || c.arg + c.arglen > s + n) abort();
  if (c.verb == V_MAIL) check_path(c.arg, c.arglen, 1);
  if (c.verb == V_RCPT) check_path(c.arg, c.arglen, 0);
  if (c.verb == V_ETRN && !smtp_etrn_parse(c.arg, c.arglen, dom) && (strlen(dom) > 255 || !domain_valid(dom, strlen(dom))))
    abort();
  if (c.verb == V_HELO) smtp_helo_valid(c.arg, c.arglen);
}

static void check_auth(const char *s, size_t n)
{
  char out[AUTH_FIELD_MAX];
  const char *u, *p;
  size_t len, ul, pl;
  if (b64_decode(s, n, out, sizeof out, &len) < 0) return;
  if (len > sizeof out) abort();
  if (auth_plain_split(out, len, &u, &ul, &p, &pl) == 0) {
    if (!ul || !pl || u + ul > out + len || p + pl != out + len || memchr(p, 0, pl)) abort();
  }
}

/* a CR not followed by LF or an LF not preceded by CR in s[0..n) */
static int has_bare(const unsigned char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    if (s[i] == '\r' && (i + 1 >= n || s[i + 1] != '\n')) return 1;
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return 1;
  }
  return 0;
}

static void check_data(const unsigned char *data, size_t size)
{
  static char out[1 << 16];
  struct smtp_data d;
  size_t pos = 0, total = 0, k = 0;
  smtp_data_init(&d, size & 1 ? size / 2 : 0, 0);
  while (pos < size && !d.done) {
    size_t step = 1 + data[k++ % size] % 97, olen, used;
    if (step > size - pos) step = size - pos;
    used = smtp_data_feed(&d, (const char *)data + pos, step, out, &olen);
    if (used > step || olen > used || (used < step && !d.done)) abort();
    pos += used;
    total += olen;
  }
  if (!d.errors && d.bytes != total) abort();
  if (d.done && (pos < 3 || memcmp(data + pos - 3, ".\r\n", 3) || (pos > 3 && data[pos - 4] != '\n'))) abort();
  if (d.done && !(d.errors & DATA_BARE) && has_bare(data, pos)) abort();
  if ((d.errors & DATA_BARE) && !has_bare(data, pos)) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  const char *s = (const char *)data;
  size_t nl = size;
  const char *p = memchr(s, '\n', size);
  if (p) nl = (size_t)(p - s);
  check_command(s, nl);
  check_path(s, size, 1);
  check_path(s, size, 0);
  check_auth(s, nl);
  check_data(data, size);
  return 0;
}
