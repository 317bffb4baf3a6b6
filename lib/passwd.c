/*
 * passwd.c -- a user's uid from /etc/passwd (see passwd.h).
 */
#include <string.h>
#include "fileio.h"
#include "owfat.h"
#include "passwd.h"

int passwd_uid(const char *text, size_t len, const char *user, size_t ulen, unsigned long *uid)
{
  size_t pos = 0;
  while (pos < len) {
    const char *l = text + pos, *nl = memchr(l, '\n', len - pos), *p, *end;
    size_t n = nl ? (size_t)(nl - l) : len - pos;
    pos += n + 1;
    end = l + n;
    if (n <= ulen + 1 || memcmp(l, user, ulen) || l[ulen] != ':') continue;
    p = memchr(l + ulen + 1, ':', (size_t)(end - l - ulen - 1));          /* past the password field */
    if (!p || ++p >= end || *p < '0' || *p > '9') continue;
    for (*uid = 0; p < end && *p >= '0' && *p <= '9' && *uid <= 0xffffffffUL; p++)   /* too long: no match */
      *uid = *uid * 10 + (unsigned long)(*p - '0');
    if (p < end && *p == ':') return 1;
  }
  return 0;
}

int passwd_file_uid(const char *user, size_t ulen, unsigned long *uid)
{
  stralloc pw = {0};
  int found = file_read("/etc/passwd", &pw) == 1 && passwd_uid(pw.s, pw.len, user, ulen, uid);
  stralloc_free(&pw);
  return found;
}
