/*
 * diag.h -- diagnostics in the form
 *     imc-send: fatal: unable to open queue/new: permission denied
 * program name, severity, what was being done, why.  Each message is
 * written to fd 2 with one write(2), so lines from several processes
 * sharing a log pipe never interleave.  No stdio.
 *
 * The argument lists are strings ended by the macros with a null pointer.
 * The *sys forms append ": " and strerror(errno).
 *
 * One message is one line, whatever its text holds (a reply or a notice of
 * several lines, bytes from the network): a run of line breaks (CR, LF)
 * inside it is written as one space, a break at its end is dropped, and
 * any other control character (below 32, 127, C1) and any octet that is not
 * part of well-formed UTF-8 is written as '?' (lib/utf8.h), so a line is
 * printable UTF-8 and internationalized addresses (RFC 6531) stay readable.  lib/log.c writes
 * its lines through the same folding (diag_fold).
 */
#ifndef IMC_DIAG_H
#define IMC_DIAG_H

#include <stddef.h>

extern const char *diag_prog;   /* set by each main() */
/* a program working on one message for its whole run (imc-convert -i ID) sets
   its queue id here: every diagnostic's text then starts with "ID " */
extern const char *diag_subject;

/* a line being built: buf[0..pos) written so far, at most cap bytes; brk: a
   line break seen and not yet written */
struct diag_line { char *buf; size_t pos, cap; int brk; };
void diag_fold(struct diag_line *l, const char *s, size_t len);

void diag_out(const char *sev, int sys, ...);
void diag_exit(int ex, const char *sev, int sys, ...) __attribute__((noreturn));

#define fatal(ex, ...)    diag_exit((ex), "fatal", 0, __VA_ARGS__, (const char *)0)
#define fatalsys(ex, ...) diag_exit((ex), "fatal", 1, __VA_ARGS__, (const char *)0)
#define warn(...)         diag_out("warning", 0, __VA_ARGS__, (const char *)0)
#define warnsys(...)      diag_out("warning", 1, __VA_ARGS__, (const char *)0)
#define info(...)         diag_out("info", 0, __VA_ARGS__, (const char *)0)
#define usage(text)       diag_exit(100, "usage", 0, diag_prog, " ", (text), (const char *)0)

#endif
