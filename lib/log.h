/*
 * log.h -- event logging by category and level (control/loglevel).
 *
 * A daemon calls log_init with its loaded configuration; log_event then
 * writes one line on fd 2 when config_logging says the category is logged
 * at that level:
 *     imc-smtpd: smtp: 192.0.2.1 helo=client.example mail=<a@b> rcpts=1 result=queued
 * s6-log stamps each line.  One write(2) per line, so lines of concurrent
 * processes sharing the log pipe never interleave; a line longer than
 * LOG_LINE_MAX is cut.  The text is folded as diag.h says: a run of line
 * breaks becomes one space (a multi-line reply or notice stays one line),
 * other bytes below 32 and 127 (they may come from the network) are
 * written as '?', so no input can forge a log line.
 *
 * What each level adds, in every program: minimum says what went wrong
 * (a refusal, a deferral, a bounce) and one line per session; medium one
 * line per message or delivery and per connection; maximum the details
 * (addresses tried, the work done per job) and, for protocol, the SMTP
 * transcript.  Errors and warnings (diag.h) are written at every level.
 *
 * Before log_init nothing is logged.  The arguments are strings, ended by
 * the macro with a null pointer.
 */
#ifndef IMC_LOG_H
#define IMC_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include "config.h"

#define LOG_LINE_MAX 1200

void log_init(const struct config *c);
/* for a program that reads control/ only for its log levels (imc-local): loads
   c and calls log_init; a control file with errors is not its business (the
   levels parsed are used), an unreadable control/ leaves every category at
   minimum, the default */
void log_load(struct config *c);
int log_enabled(int cat, int level);            /* 1 when log_event would write */
void log_out(int cat, int level, ...);
/* the same with the first text given as bytes and a length (need not be NUL-terminated) */
void log_outb(int cat, int level, const char *prefix, const char *b, size_t len);

#define log_event(cat, level, ...) log_out((cat), (level), __VA_ARGS__, (const char *)0)

/* the line whatever log_init was given, for a program that checks the level
   against a configuration of its own (config_logging): imc-tcpd, imc-remote */
void log_put(int cat, ...);
void log_va(int cat, va_list ap);
#define log_always(cat, ...) log_put((cat), __VA_ARGS__, (const char *)0)

#endif
