/*
 * addr.c -- see addr.h.
 */
#include <string.h>
#include "addr.h"
#include "utf8.h"

static int is_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* labels of letters, digits, '-' (not first or last) and '_'; with utf8, octets
   above 127 too (the caller checks that they are UTF-8) */
static int labels_valid(const char *s, size_t len, int utf8)
{
  size_t i, label = 0;
  if (len == 0 || len > 253) return 0;
  for (i = 0; i < len; i++) {
    char c = s[i];
    if (c == '.') {
      if (label == 0 || s[i - 1] == '-') return 0;
      label = 0;
      continue;
    }
    if (!is_alnum(c) && !(c == '-' && label > 0) && c != '_' && !(utf8 && ((unsigned char)c & 0x80))) return 0;
    if (++label > 63) return 0;
  }
  return label > 0 && s[len - 1] != '-';
}

int domain_valid(const char *s, size_t len)
{
  return labels_valid(s, len, 0);
}

int domain_utf8_valid(const char *s, size_t len)
{
  return labels_valid(s, len, 1) && utf8_printable(s, len);
}

int domain_literal(const char *s, size_t len)
{
  size_t i;
  if (len < 3 || s[0] != '[' || s[len - 1] != ']') return 0;
  for (i = 1; i + 1 < len; i++) {
    char c = s[i];
    if (!is_alnum(c) && c != '.' && c != ':') return 0;
  }
  return 1;
}

int mailbox_name_valid(const char *s, size_t len)
{
  size_t i;
  if (len == 0 || len > 64 || s[0] == '.' || s[0] == '-') return 0;
  for (i = 0; i < len; i++) {
    char c = s[i];
    if (!is_alnum(c) && c != '.' && c != '-' && c != '_' && c != '+' && !((unsigned char)c & 0x80)) return 0;
  }
  return !utf8_has8bit(s, len) || utf8_printable(s, len);
}

size_t addr_at(const char *s, size_t len)
{
  size_t i = len;
  while (i > 0) if (s[--i] == '@') return i;
  return len;
}

int addr_valid(const char *s, size_t len)
{
  size_t i, at;
  if (len == 0 || len > 320) return 0;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 32 || c == 127) return 0;
  }
  if (utf8_has8bit(s, len) && !utf8_printable(s, len)) return 0;
  at = addr_at(s, len);
  if (at == len || at == 0 || at > 64 * 4) return 0;
  return domain_utf8_valid(s + at + 1, len - at - 1) || domain_literal(s + at + 1, len - at - 1);
}

int addr_carried(const char *s, size_t len)
{
  size_t i;
  int quoted = 0;
  if (len == 0 || len > 1000) return 0;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 32 || c == 127 || c == '<' || c == '>') return 0;
    if (c == '"') quoted = !quoted;
    if (c == ' ' && !quoted) return 0;
  }
  return 1;
}
