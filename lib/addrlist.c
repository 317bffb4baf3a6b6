/*
 * addrlist.c -- parser of RFC 5322 address lists (see addrlist.h).
 *
 * Input: the text of a field's value (any bytes; NUL and other control
 * characters outside quotes are a syntax error).  Output: addr-specs
 * appended to a stralloc.  Failure modes: a syntax error (unclosed quote,
 * comment, literal or angle bracket; a phrase with no address; a group
 * inside a group) returns -1 with errno EINVAL and appends nothing.
 *
 * A tokenizer skips white space and comments and returns atoms, quoted
 * strings, domain literals and single special characters.  The list is
 * read one element at a time: an element ending at '<' is a name-addr, at
 * ':' a group's name, at ',' ';' or the end an addr-spec.
 */
#include <errno.h>
#include <string.h>
#include "addrlist.h"

enum { T_END, T_ATOM, T_QUOTED, T_LITERAL, T_SPECIAL };

struct tok {
  int kind;
  char c;              /* the special character */
  size_t start, len;
};

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
static int is_ctl(char c) { return (unsigned char)c < 32 || c == 127; }
static int is_special(char c) { return c && strchr("()<>[]:;@\\,.\"", c) != 0; }
static int is_atext(char c) { return !is_ws(c) && !is_ctl(c) && !is_special(c); }

/* a comment, possibly nested, from '(' to just past its ')' */
static int skip_comment(const char *s, size_t len, size_t *pos)
{
  int depth = 0;
  while (*pos < len) {
    char c = s[(*pos)++];
    if (c == '\\') { if (*pos < len) (*pos)++; }
    else if (c == '(') depth++;
    else if (c == ')' && --depth == 0) return 0;
  }
  return -1;
}

/* a quoted string or a domain literal, from its opening character to just
   past `close`; never a NUL, which would cut the address it ends up in */
static int skip_quoted(const char *s, size_t len, size_t *pos, char close)
{
  (*pos)++;
  while (*pos < len) {
    char c = s[(*pos)++];
    if (c == 0) return -1;
    if (c == '\\') { if (*pos < len && !s[*pos]) return -1; if (*pos < len) (*pos)++; }
    else if (c == close) return 0;
  }
  return -1;
}

static int next_token(const char *s, size_t len, size_t *pos, struct tok *t)
{
  char c = 0;
  while (*pos < len) {
    c = s[*pos];
    if (is_ws(c)) { (*pos)++; continue; }
    if (c != '(') break;
    if (skip_comment(s, len, pos) < 0) return -1;
  }
  t->start = *pos;
  t->c = c;
  if (*pos >= len) t->kind = T_END;
  else if (c == '"') { t->kind = T_QUOTED; if (skip_quoted(s, len, pos, '"') < 0) return -1; }
  else if (c == '[') { t->kind = T_LITERAL; if (skip_quoted(s, len, pos, ']') < 0) return -1; }
  else if (is_ctl(c)) return -1;
  else if (is_special(c)) { t->kind = T_SPECIAL; (*pos)++; }
  else { t->kind = T_ATOM; while (*pos < len && is_atext(s[*pos])) (*pos)++; }
  t->len = *pos - t->start;
  return 0;
}

static int is_char(const struct tok *t, char c) { return t->kind == T_SPECIAL && t->c == c; }

/* word *("." word) ["@" (literal / atom *("." atom))] in s[pos..to), appended to out */
static int parse_spec(const char *s, size_t pos, size_t to, stralloc *out)
{
  struct tok t;
  int want = 1, dom = 0, ndom = 0, lit = 0;
  for (;;) {
    if (next_token(s, to, &pos, &t) < 0) return -1;
    if (t.kind == T_END) break;
    if (lit) return -1;
    if (want) {
      if (t.kind == T_ATOM || (!dom && t.kind == T_QUOTED)) ndom += dom;
      else if (dom && !ndom && t.kind == T_LITERAL) lit = 1;
      else return -1;
      want = 0;
    } else if (is_char(&t, '.')) want = 1;
    else if (is_char(&t, '@') && !dom) dom = want = 1;
    else return -1;
    if (!stralloc_catb(out, s + t.start, t.len)) return -2;
  }
  if (want) return -1;
  return stralloc_0(out) ? 0 : -2;
}

/* after '<': [route ":"] [addr-spec] ">"; *pos ends past '>' */
static int parse_angle(const char *s, size_t len, size_t *pos, stralloc *out)
{
  struct tok t;
  size_t from = *pos, p = *pos, end;
  int first = 1, route = 0;
  for (;;) {
    if (next_token(s, len, &p, &t) < 0 || t.kind == T_END) return -1;
    if (is_char(&t, '>')) break;
    if (first) route = is_char(&t, '@');
    first = 0;
    if (route && is_char(&t, ':')) { from = p; route = 0; }
  }
  end = t.start;
  *pos = p;
  if (route) return -1;
  p = from;
  if (next_token(s, end, &p, &t) < 0) return -1;
  if (t.kind == T_END) return stralloc_0(out) ? 0 : -2;    /* <> */
  return parse_spec(s, from, end, out);
}

struct state {
  const char *s;
  size_t len, pos, elem;     /* elem: where the current element starts */
  int group, nonempty, n;
};

/* a ',' ';' or the end closes an element: 1 at the end, 0 go on, -1 error */
static int close_element(struct state *st, const struct tok *t, stralloc *out)
{
  if (st->nonempty) {
    int r = parse_spec(st->s, st->elem, t->start, out);
    if (r < 0) return r;
    st->n++;
  }
  st->nonempty = 0;
  st->elem = st->pos;
  if (is_char(t, ';')) {
    if (!st->group) return -1;
    st->group = 0;
  }
  return t->kind == T_END;
}

/* after "<...>", only a separator or the end may follow */
static int after_angle(struct state *st, struct tok *t)
{
  if (next_token(st->s, st->len, &st->pos, t) < 0) return -1;
  if (t->kind != T_END && !is_char(t, ',') && !is_char(t, ';')) return -1;
  return 0;
}

static int parse_list(struct state *st, stralloc *out)
{
  struct tok t;
  int r;
  for (;;) {
    if (next_token(st->s, st->len, &st->pos, &t) < 0) return -1;
    if (is_char(&t, '<')) {
      if ((r = parse_angle(st->s, st->len, &st->pos, out)) < 0) return r;
      st->n++;
      st->nonempty = 0;
      if (after_angle(st, &t) < 0) return -1;
    } else if (is_char(&t, ':')) {
      if (st->group || !st->nonempty) return -1;
      st->group = 1;
      st->nonempty = 0;
      st->elem = st->pos;
      continue;
    }
    if (t.kind == T_END || is_char(&t, ',') || is_char(&t, ';')) {
      if ((r = close_element(st, &t, out)) != 0) return r;
    } else st->nonempty = 1;
  }
}

int addrlist_parse(const char *s, size_t len, stralloc *out)
{
  struct state st;
  size_t was = out->len;
  int r;
  memset(&st, 0, sizeof st);
  st.s = s;
  st.len = len;
  r = parse_list(&st, out);
  if (r == 1) return st.n;
  out->len = was;
  errno = r == -2 ? ENOMEM : EINVAL;
  return -1;
}
