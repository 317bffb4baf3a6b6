/*
 * bytes.h -- the two scans every program on the message path makes over
 * every byte of a message, done a line or a word at a time instead of a
 * byte at a time: where the text of a line stops (the next CR or LF), and
 * whether a run of bytes holds one at or above 0x80.  memchr does the
 * first (vectorized by the C library); the second ORs 8 bytes at a time.
 * Pure functions of their input; no allocation.
 */
#ifndef IMC_BYTES_H
#define IMC_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* the length of the prefix of s without CR or LF */
static inline size_t bytes_text_span(const char *s, size_t n)
{
  const char *lf = memchr(s, '\n', n), *cr;
  size_t m = lf ? (size_t)(lf - s) : n;
  cr = memchr(s, '\r', m);
  return cr ? (size_t)(cr - s) : m;
}

/* 1 when a byte of s is at or above 0x80 */
static inline int bytes_high(const char *s, size_t n)
{
  uint64_t acc = 0, w;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    memcpy(&w, s + i, 8);
    acc |= w;
  }
  for (; i < n; i++) acc |= (unsigned char)s[i];
  return (acc & 0x8080808080808080ULL) != 0;
}

#endif
