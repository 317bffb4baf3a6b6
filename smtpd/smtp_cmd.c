/*
 * smtp_cmd.c -- SMTP command lines, paths and parameters (see smtp_cmd.h).
 *
 * Inputs: bytes from the network, any of them.  Outputs: verbs, arguments
 * pointing into the caller's line, addresses in fixed buffers.  Failure
 * modes: every malformed input gives a reply text; nothing is allocated
 * and no input can write past SMTP_ADDR_MAX.
 *
 * BDAT (RFC 3030): the chunk size, at most SMTP_BDAT_DIGITS digits, and
 * an optional LAST, separated by single spaces.
 *
 * Paths (RFC 5321 4.1.2): "<" [source-route ":"] local-part "@" domain ">"
 * where the local part is a dot-atom or a quoted string and the domain a
 * host name or an address literal.  The source route is dropped (flagged);
 * a trailing dot on the domain is dropped (flagged).  Octets above 127 are
 * taken in the local part (as atext or in quotes) and in the domain's
 * labels (RFC 6531) when the whole address is well-formed UTF-8 without
 * control characters (lib/utf8.h), and flagged (utf8): whether the
 * transaction allows them (the SMTPUTF8 parameter) is the caller's
 * question.  Spaces after the colon are tolerated, brackets are not
 * optional.  Parameters: SIZE, BODY, AUTH, SMTPUTF8 and the DSN ones
 * (RFC 3461, lib/dsn.h: RET and ENVID on MAIL, NOTIFY and ORCPT on RCPT,
 * each at most once, xtext checked; kept packed in the path).
 */
#include <limits.h>
#include <string.h>
#include "addr.h"
#include "dsn.h"
#include "owfat.h"
#include "smtp_cmd.h"
#include "utf8.h"

static const struct { const char *name; int verb; } verbs[] = {
  { "HELO", V_HELO }, { "EHLO", V_EHLO }, { "MAIL", V_MAIL }, { "RCPT", V_RCPT },
  { "DATA", V_DATA }, { "RSET", V_RSET }, { "NOOP", V_NOOP }, { "QUIT", V_QUIT },
  { "HELP", V_HELP }, { "VRFY", V_VRFY }, { "EXPN", V_EXPN }, { "STARTTLS", V_STARTTLS },
  { "AUTH", V_AUTH }, { "ETRN", V_ETRN }, { "BDAT", V_BDAT }, { 0, 0 }
};

const char *smtp_verb_name(int verb)
{
  int i;
  for (i = 0; verbs[i].name; i++) if (verbs[i].verb == verb) return verbs[i].name;
  return "?";
}

const char *smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *c)
{
  size_t i, n = 0;
  c->verb = V_UNKNOWN;
  c->arg = line;
  c->arglen = 0;
  for (i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)line[i];
    if (ch == 0) return "500 5.5.2 NUL byte in command";
    if (ch < 32 || ch == 127) return "500 5.5.2 control character in command";
  }
  while (n < len && line[n] != ' ') n++;
  for (i = 0; verbs[i].name; i++)
    if (str_len(verbs[i].name) == n && !case_diffb(line, n, verbs[i].name)) c->verb = verbs[i].verb;
  i = n;
  while (i < len && line[i] == ' ') i++;
  c->arg = line + i;
  c->arglen = len - i;
  while (c->arglen && c->arg[c->arglen - 1] == ' ') c->arglen--;
  return 0;
}

int smtp_line_bare(const char *line, size_t len, int crlf)
{
  return !crlf || memchr(line, '\r', len) != 0;
}

/* ---- paths */

/* atext, and the octets of UTF-8 characters (RFC 6531's UTF8-non-ascii: checked
   as UTF-8 once the address is whole) */
static int is_atext(unsigned char c)
{
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80) return 1;
  return c && strchr("!#$%&'*+/=?^_`{|}~-", c) != 0;
}

static int dot_atom(const char *s, size_t len)
{
  size_t i;
  if (len == 0 || s[0] == '.' || s[len - 1] == '.') return 0;
  for (i = 0; i < len; i++) {
    if (s[i] == '.') { if (s[i - 1] == '.') return 0; }
    else if (!is_atext((unsigned char)s[i])) return 0;
  }
  return 1;
}

static int put_byte(struct smtp_path *p, char c)
{
  if (p->len >= SMTP_ADDR_MAX) return -1;
  p->addr[p->len++] = c;
  p->addr[p->len] = 0;
  return 0;
}

/* a quoted string's content into q (unescaped): 0, or -1 */
static int scan_quoted(const char *s, size_t len, size_t *pos, char *q, size_t *qlen)
{
  size_t i = *pos + 1;
  *qlen = 0;
  for (; i < len && s[i] != '"'; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\\' && ++i < len) c = (unsigned char)s[i];
    if (i >= len || c < 32 || c == 127 || *qlen >= SMTP_LOCAL_MAX) return -1;
    q[(*qlen)++] = (char)c;
  }
  if (i >= len) return -1;
  *pos = i + 1;
  return 0;
}

/* a quoted local part: kept unquoted when it is a dot-atom */
static int local_quoted(const char *s, size_t len, size_t *pos, struct smtp_path *p)
{
  char q[SMTP_LOCAL_MAX];
  size_t qlen, i;
  if (scan_quoted(s, len, pos, q, &qlen) < 0) return -1;
  if (dot_atom(q, qlen)) {
    for (i = 0; i < qlen; i++) if (put_byte(p, q[i]) < 0) return -1;
    return 0;
  }
  p->quoted = 1;
  if (put_byte(p, '"') < 0) return -1;
  for (i = 0; i < qlen; i++)
    if (((q[i] == '"' || q[i] == '\\') && put_byte(p, '\\') < 0) || put_byte(p, q[i]) < 0) return -1;
  return put_byte(p, '"');
}

static int local_part(const char *s, size_t len, size_t *pos, struct smtp_path *p)
{
  size_t i = *pos;
  if (i < len && s[i] == '"') return local_quoted(s, len, pos, p);
  while (i < len && (s[i] == '.' || is_atext((unsigned char)s[i]))) i++;
  if (i - *pos > SMTP_LOCAL_MAX || !dot_atom(s + *pos, i - *pos)) return -1;
  for (; *pos < i; ++*pos) if (put_byte(p, s[*pos]) < 0) return -1;
  return 0;
}

/* "@domain" up to the closing '>' (not consumed) */
static int domain_part(const char *s, size_t len, size_t *pos, struct smtp_path *p)
{
  size_t start = *pos, end = start, i;
  while (end < len && s[end] != '>' && s[end] != ' ') end++;
  if (end >= len || s[end] != '>') return -1;
  *pos = end;
  if (end > start && s[start] == '[') {
    if (!domain_literal(s + start, end - start)) return -1;
    p->literal = 1;
  } else {
    if (end > start + 1 && s[end - 1] == '.') { end--; p->trailing_dot = 1; }
    if (!domain_utf8_valid(s + start, end - start)) return -1;
  }
  p->at = p->len;
  if (put_byte(p, '@') < 0) return -1;
  for (i = start; i < end; i++) if (put_byte(p, s[i]) < 0) return -1;
  case_lowerb(p->addr + p->at, p->len - p->at);
  return 0;
}

/* "@a,@b:" before the mailbox */
static int source_route(const char *s, size_t len, size_t *pos, struct smtp_path *p)
{
  size_t i = *pos;
  while (i < len && s[i] != ':' && s[i] != '>' && s[i] != ' ' && s[i] != '"') i++;
  if (i >= len || s[i] != ':') return -1;
  p->route = 1;
  *pos = i + 1;
  return 0;
}

/* the mailbox between the brackets, '>' consumed: 0, or -1 */
static int mailbox(const char *s, size_t len, size_t *pos, int mail, struct smtp_path *p)
{
  if (*pos < len && s[*pos] == '@' && source_route(s, len, pos, p) < 0) return -1;
  if (local_part(s, len, pos, p) < 0) return -1;
  if (*pos < len && s[*pos] == '@') {
    ++*pos;
    if (domain_part(s, len, pos, p) < 0) return -1;
  } else {
    if (mail || p->route || p->len != 10 || case_diffb(p->addr, 10, "postmaster")) return -1;
    p->at = p->len;
  }
  if (*pos >= len || s[*pos] != '>') return -1;
  ++*pos;
  p->utf8 = utf8_has8bit(p->addr, p->len);
  return p->utf8 && !utf8_printable(p->addr, p->len) ? -1 : 0;
}

/* ---- parameters */

static int scan_size(const char *v, size_t n, unsigned long *out)
{
  size_t i;
  unsigned long x = 0;
  if (n == 0 || n > 40) return -1;
  for (i = 0; i < n; i++) {
    if (v[i] < '0' || v[i] > '9') return -1;
    x = (x > (ULONG_MAX - 9) / 10) ? ULONG_MAX : x * 10 + (unsigned long)(v[i] - '0');
  }
  *out = x;
  return 0;
}

/* one KEY[=VALUE] of MAIL FROM: 0 ok, or the refusal */
static const char *mail_param(const char *k, size_t klen, const char *v, size_t vlen, int hasv, struct smtp_path *p)
{
  if (klen == 4 && !case_diffb(k, 4, "SIZE")) {
    if (!hasv || scan_size(v, vlen, &p->size) < 0) return "501 5.5.4 bad SIZE parameter";
    p->has_size = 1;
    return 0;
  }
  if (klen == 4 && !case_diffb(k, 4, "BODY")) {
    if (hasv && vlen == 4 && !case_diffb(v, 4, "7BIT")) p->body = BODY_7BIT;
    else if (hasv && vlen == 8 && !case_diffb(v, 8, "8BITMIME")) p->body = BODY_8BITMIME;
    else return "501 5.5.4 bad BODY parameter (7BIT or 8BITMIME)";
    return 0;
  }
  if (klen == 4 && !case_diffb(k, 4, "AUTH")) return hasv && vlen ? 0 : "501 5.5.4 bad AUTH parameter";
  if (klen == 8 && !case_diffb(k, 8, "SMTPUTF8")) {
    if (hasv) return "501 5.5.4 SMTPUTF8 takes no value";
    p->smtputf8 = 1;
    return 0;
  }
  return "555 5.5.4 unsupported parameter";
}

/* the DSN parameters (lib/dsn.h), packed into p->dsn once all are read */
static const char *dsn_keep(const struct dsn_params *d, int mail, struct smtp_path *p)
{
  stralloc sa = {0};
  const char *e = 0;
  if (dsn_pack(&sa, d, mail) < 0) e = "452 4.3.0 out of memory";
  else if (sa.len > DSN_PACK_MAX) e = "501 5.5.4 DSN parameters too long";
  else { byte_copy(p->dsn, sa.len, sa.s); p->dsnlen = sa.len; p->dsn[sa.len] = 0; }
  stralloc_free(&sa);
  return e;
}

static const char *params(const char *s, size_t len, int mail, struct smtp_path *p)
{
  struct dsn_params d;
  size_t pos = 0;
  byte_zero(&d, sizeof d);
  while (pos < len) {
    size_t k, eq, end;
    if (s[pos] != ' ') return "501 5.5.4 syntax error after the address";
    while (pos < len && s[pos] == ' ') pos++;
    if (pos == len) break;
    k = pos;
    end = pos;
    while (end < len && s[end] != ' ') end++;
    eq = k;
    while (eq < end && s[eq] != '=') eq++;
    {
      int hasv = eq < end;
      const char *v = s + eq + hasv, *e;
      size_t vlen = hasv ? end - eq - 1 : 0;
      e = dsn_param(s + k, eq - k, v, vlen, hasv, mail, &d);
      if (e == DSN_NOT_MINE) e = mail ? mail_param(s + k, eq - k, v, vlen, hasv, p) : "555 5.5.4 unsupported parameter";
      if (e) return e;
    }
    pos = end;
  }
  return dsn_keep(&d, mail, p);
}

const char *smtp_path_parse(const char *arg, size_t len, int mail, struct smtp_path *p)
{
  const char *kw = mail ? "FROM:" : "TO:";
  const char *bad = mail ? "501 5.1.7 bad sender address syntax" : "501 5.1.3 bad recipient address syntax";
  size_t k = str_len(kw), pos;
  memset(p, 0, sizeof *p);
  if (len < k || case_diffb(arg, k, kw))
    return mail ? "501 5.5.4 syntax: MAIL FROM:<address>" : "501 5.5.4 syntax: RCPT TO:<address>";
  pos = k;
  while (pos < len && arg[pos] == ' ') pos++;
  if (pos >= len || arg[pos] != '<') return bad;
  pos++;
  if (pos < len && arg[pos] == '>') {
    if (!mail) return bad;
    pos++;
  } else if (mailbox(arg, len, &pos, mail, p) < 0) {
    memset(p, 0, sizeof *p);
    return bad;
  }
  return params(arg + pos, len - pos, mail, p);
}

/* ---- EHLO/HELO and ETRN */

int smtp_helo_valid(const char *arg, size_t len)
{
  size_t i;
  if (len == 0 || len > 255) return 0;
  for (i = 0; i < len; i++) if ((unsigned char)arg[i] <= 32 || (unsigned char)arg[i] >= 127) return 0;
  return 1;
}

const char *smtp_etrn_parse(const char *arg, size_t len, char dom[256])
{
  dom[0] = 0;
  if (len && arg[0] == '#') return "458 4.5.4 queue names are not supported: give a domain";
  if (len && arg[0] == '@') { arg++; len--; }
  if (len > 1 && arg[len - 1] == '.') len--;
  if (len == 0 || len > 255 || !domain_valid(arg, len)) return "501 5.5.4 syntax: ETRN domain";
  byte_copy(dom, len, arg);
  dom[len] = 0;
  case_lowerb(dom, len);
  return 0;
}

/* ---- BDAT */

const char *smtp_bdat_parse(const char *arg, size_t len, unsigned long long *size, int *last)
{
  size_t i = 0;
  *size = 0;
  *last = 0;
  while (i < len && arg[i] >= '0' && arg[i] <= '9') {
    if (i == SMTP_BDAT_DIGITS) return "501 5.5.4 BDAT chunk size too large";
    *size = *size * 10 + (unsigned long long)(arg[i++] - '0');
  }
  if (i == 0) return "501 5.5.4 syntax: BDAT chunk-size [LAST]";
  if (i == len) return 0;
  if (len - i == 5 && !case_diffb(arg + i, 5, " LAST")) { *last = 1; return 0; }
  return "501 5.5.4 syntax: BDAT chunk-size [LAST]";
}
