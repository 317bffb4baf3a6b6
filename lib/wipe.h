/*
 * wipe.h -- forgetting memory for good in a process that lives on (an
 * imc-smtpd worker between two sessions): the bytes are zeroed and the
 * whole pages among them handed back to the kernel, so that a wiped
 * buffer costs no private memory until it is used again.
 *
 * Only for memory the process owns privately (static, heap, its own
 * stack): MADV_DONTNEED on private anonymous pages makes them read as
 * zeros afterwards.  Failure modes: none visible; when madvise fails the
 * pages are zeroed by explicit_bzero instead.
 */
#ifndef IMC_WIPE_H
#define IMC_WIPE_H

#include <stddef.h>

void wipe_release(void *p, size_t n);
/* the stack below the caller, n bytes of it: zeroed and released (nothing there is in use) */
void wipe_stack_below(size_t n);
/* free heap memory back to the kernel (glibc malloc_trim) */
void wipe_heap_trim(void);

#endif
