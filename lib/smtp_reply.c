/*
 * smtp_reply.c -- parsing SMTP replies and EHLO extensions (see smtp_reply.h).
 *
 * Memory: the kept text is bounded by REPLY_KEEP_MAX whatever the server
 * sends; lines beyond it are counted but not stored.
 */
#include <string.h>
#include <strings.h>
#include "smtp_reply.h"

void reply_init(struct smtp_reply *r)
{
  r->code = 0;
  r->done = 0;
  r->lines = 0;
  r->status[0] = 0;
  r->text.len = 0;
}

void reply_free(struct smtp_reply *r)
{
  stralloc_free(&r->text);
  reply_init(r);
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* "D.D{1,3}.D{1,3}" followed by a space or the end, with D == class: its length, else 0 */
static size_t status_len(const char *s, size_t len, int class)
{
  size_t i = 2, part, n;
  if (len < 5 || s[0] != '0' + class || s[1] != '.') return 0;
  for (part = 0; part < 2; part++) {
    for (n = 0; i < len && is_digit(s[i]) && n < 4; i++) n++;
    if (n == 0 || n > 3) return 0;
    if (part == 0) { if (i >= len || s[i] != '.') return 0; i++; }
  }
  return (i == len || s[i] == ' ') ? i : 0;
}

static int line_code(const char *line, size_t len)
{
  if (len < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2])) return -1;
  if (line[0] < '2' || line[0] > '5') return -1;
  if (len > 3 && line[3] != ' ' && line[3] != '-') return -1;
  return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* the line's text, a NUL inside it made a space (NULs separate the lines) */
static void keep_text(struct smtp_reply *r, const char *s, size_t len)
{
  size_t i, start = r->text.len;
  if (r->text.len + len + 1 > REPLY_KEEP_MAX) return;
  if (!stralloc_catb(&r->text, s, len) || !stralloc_0(&r->text)) { r->text.len = 0; return; }
  for (i = start; i < start + len; i++) if (!r->text.s[i]) r->text.s[i] = ' ';
}

int reply_line(struct smtp_reply *r, const char *line, size_t len)
{
  int code = line_code(line, len);
  size_t n;
  if (code < 0 || r->done || (r->code && code != r->code)) return -1;
  if (++r->lines > REPLY_LINES_MAX) return -1;
  if (!r->code) {
    r->code = code;
    n = len > 4 ? status_len(line + 4, len - 4, code / 100) : 0;
    if (n) { memcpy(r->status, line + 4, n); r->status[n] = 0; }
  }
  keep_text(r, len > 4 ? line + 4 : "", len > 4 ? len - 4 : 0);
  if (len == 3 || line[3] == ' ') r->done = 1;
  return r->done;
}

int reply_class(const struct smtp_reply *r)
{
  return r->code / 100;
}

static int sum_put(stralloc *out, const char *s, size_t len)
{
  size_t i;
  for (i = 0; i < len && out->len < REPLY_SUMMARY_MAX; i++) {
    char c = (unsigned char)s[i] < 32 || s[i] == 127 ? ' ' : s[i];
    if (!stralloc_append(out, &c)) return -1;
  }
  return 0;
}

int reply_summary(const struct smtp_reply *r, stralloc *out)
{
  char code[4];
  size_t pos = 0;
  code[0] = (char)('0' + r->code / 100);
  code[1] = (char)('0' + r->code / 10 % 10);
  code[2] = (char)('0' + r->code % 10);
  out->len = 0;
  if (sum_put(out, code, 3) < 0) return -1;
  while (pos < r->text.len) {
    const char *s = r->text.s + pos;
    size_t n = strlen(s);
    if (n && (sum_put(out, " ", 1) < 0 || sum_put(out, s, n) < 0)) return -1;
    pos += n + 1;
  }
  if (!stralloc_0(out)) return -1;
  out->len--;
  return 0;
}

/* ---- EHLO */

static size_t word_len(const char *s)
{
  size_t n = 0;
  while (s[n] && s[n] != ' ' && s[n] != '=') n++;
  return n;
}

static int word_is(const char *s, size_t n, const char *w)
{
  return n == strlen(w) && !strncasecmp(s, w, n);
}

static void ehlo_auth(struct ehlo *e, const char *s)
{
  while (*s) {
    size_t n;
    while (*s == ' ') s++;
    n = word_len(s);
    if (word_is(s, n, "PLAIN")) e->auth_plain = 1;
    if (word_is(s, n, "LOGIN")) e->auth_login = 1;
    s += n;
    if (*s == '=') s++;
  }
}

static void ehlo_size(struct ehlo *e, const char *s)
{
  unsigned long v = 0;
  e->size = 1;
  e->sizemax = 0;
  while (*s == ' ') s++;
  for (; is_digit(*s); s++) {
    if (v > (~0UL - 9) / 10) return;   /* absurd: no limit */
    v = v * 10 + (unsigned long)(*s - '0');
  }
  if (!*s) e->sizemax = v;
}

static void ehlo_keyword(struct ehlo *e, const char *s)
{
  size_t n = word_len(s);
  const char *arg = s + n + (s[n] != 0);
  if (word_is(s, n, "PIPELINING")) e->pipelining = 1;
  else if (word_is(s, n, "8BITMIME")) e->eightbitmime = 1;
  else if (word_is(s, n, "STARTTLS")) e->starttls = 1;
  else if (word_is(s, n, "DSN")) e->dsn = 1;
  else if (word_is(s, n, "SMTPUTF8")) e->smtputf8 = 1;
  else if (word_is(s, n, "SIZE")) ehlo_size(e, arg);
  else if (word_is(s, n, "AUTH")) ehlo_auth(e, arg);
}

void ehlo_parse(const struct smtp_reply *r, struct ehlo *e)
{
  size_t pos = 0;
  int first = 1;
  memset(e, 0, sizeof *e);
  if (r->code != 250) return;
  while (pos < r->text.len) {
    const char *s = r->text.s + pos;
    if (!first) ehlo_keyword(e, s);
    first = 0;
    pos += strlen(s) + 1;
  }
}
