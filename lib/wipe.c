/*
 * wipe.c -- zeroing and releasing memory a long-lived process is done
 * with (wipe.h).  Inputs: a range of the caller's memory.  Outputs: the
 * range reads as zeros; its whole pages are no longer resident.
 */
#include <malloc.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "wipe.h"

static uintptr_t page_size(void)
{
  static uintptr_t ps;
  if (!ps) {
    long v = sysconf(_SC_PAGESIZE);
    ps = v > 0 ? (uintptr_t)v : 4096;
  }
  return ps;
}

void wipe_release(void *p, size_t n)
{
  uintptr_t ps = page_size(), a = (uintptr_t)p, e = a + n;
  uintptr_t first = (a + ps - 1) & ~(ps - 1), last = e & ~(ps - 1);
  if (first >= last) { explicit_bzero(p, n); return; }
  explicit_bzero(p, first - a);
  explicit_bzero((void *)last, e - last);
  if (madvise((void *)first, last - first, MADV_DONTNEED) < 0) explicit_bzero((void *)first, last - first);
}

void __attribute__((noinline)) wipe_stack_below(size_t n)
{
  volatile char here = 0;
  uintptr_t ps = page_size(), top = ((uintptr_t)&here - 512) & ~(ps - 1);
  uintptr_t bottom = (top - n) & ~(ps - 1);
  /* the pages below top hold only what finished calls left there */
  if (madvise((void *)bottom, top - bottom, MADV_DONTNEED) < 0) {
    char pad[4096];
    explicit_bzero(pad, sizeof pad);
  }
  (void)here;
}

void wipe_heap_trim(void)
{
  malloc_trim(0);
}
