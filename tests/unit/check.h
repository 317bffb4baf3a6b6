/*
 * check.h -- the unit tests' reporting: each CHECK prints nothing when it
 * holds and "FAIL: file:line: expression" when not; check_done() prints
 * "PASS: name" or the failure count and returns the exit code.  tests/run.sh
 * counts the PASS and FAIL lines.
 */
#ifndef IMC_CHECK_H
#define IMC_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(e) do { check_count++; if (!(e)) { check_failures++; \
  printf("FAIL: %s:%d: %s\n", __FILE__, __LINE__, #e); fflush(stdout); } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); check_count++; \
  if (!a_ || !b_ || strcmp(a_, b_)) { check_failures++; \
    printf("FAIL: %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
    fflush(stdout); } } while (0)
#define CHECK_MEM(a, alen, b) do { check_count++; if ((alen) != strlen(b) || memcmp((a), (b), (alen))) { \
    check_failures++; printf("FAIL: %s:%d: \"%.*s\" != \"%s\"\n", __FILE__, __LINE__, (int)(alen), (a), (b)); \
    fflush(stdout); } } while (0)

static int check_done(const char *name)
{
  if (check_failures) printf("FAIL: %s: %d of %d checks failed\n", name, check_failures, check_count);
  else printf("PASS: %s (%d checks)\n", name, check_count);
  return check_failures ? 1 : 0;
}

#endif
