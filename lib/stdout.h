/*
 * stdout.h -- buffered standard output for the command-line tools (imc-ctl,
 * the queue tools): text is gathered in memory and written with one
 * write(2) per flush, and by itself once it passes STDOUT_FLUSH bytes.
 * Failure modes: out of memory or a failed write are fatal temporary
 * errors (exit 111, lib/diag.h); nothing is lost silently.
 */
#ifndef IMC_STDOUT_H
#define IMC_STDOUT_H

#include <stddef.h>

#define STDOUT_FLUSH 65536

void out_putb(const char *s, size_t n);
void out_puts(const char *s);
void out_putulong(unsigned long n);
void out_flush(void);

#endif
