/*
 * convert.h -- imc-convert's content conversion: one message in, one
 * message out, for a content profile.  This is the interface imc-convert.c,
 * the unit tests and the fuzz target use; the engine's own pieces are in
 * conv.h.
 *
 * A profile is `inbound` (uuencoded blocks in text become MIME attachments,
 * 8-bit text without MIME headers is labelled with a charset, nothing else
 * changes) or the settings of one destination domain from
 * control/domains (see lib/domains.h); `eightbit` adds the 8BITMIME
 * downgrade (RFC 6152) for a next hop that does not offer it.
 *
 * convert_fd_len reads the message from fd `in` (a file or a pipe, LF line
 * ends) and writes the converted message to fd `out`.  It returns an exit
 * code of lib/exitcodes.h:
 *   CX_OK          converted; the output is complete
 *   CX_SUPPRESSED  an automatic reply or out-of-office this profile does not
 *                  send: nothing was written
 *   CX_TOOBIG      the output passed the profile's maxsize (output incomplete)
 *   EX_TEMP        reading, writing or memory failed (output incomplete)
 * Malformed MIME is not an error: what cannot be parsed is passed through
 * unchanged, with a warning on fd 2.  Memory stays bounded whatever the
 * message size (see conv.h for the limits).
 */
#ifndef IMC_CONVERT_CONVERT_H
#define IMC_CONVERT_CONVERT_H

#include <stddef.h>
#include "config.h"
#include "domains.h"
#include "mimetypes.h"

struct profile {
  int inbound;                 /* the inbound profile (and keep) */
  int keep;                    /* keep: nothing changes but what -8 downgrades */
  int eightbit;                /* -8: downgrade 8-bit content to 7-bit */
  struct domain_settings d;    /* outbound settings (unused when inbound) */
  struct mimetypes mt;
  char name[256];              /* for diagnostics */
};

/* name: "inbound" (the `*` line's nonmimecharset and signed), "inbound@DOMAIN"
   (DOMAIN's), "keep", a domain, or "-" for the `*` defaults; reads control/domains
   (not for keep) and control/mimetypes.  0 ok, >0 errors (each reported),
   -1 a file is unreadable (errno) */
int profile_load(struct profile *p, const char *name, int eightbit, config_errfn err);
/* the same from built-in defaults only, for tests: inbound or the `*` defaults */
int profile_builtin(struct profile *p, int inbound, int eightbit);
void profile_free(struct profile *p);

/* reads only the first len bytes of `in` (a queue file: the message ends
   where its envelope starts); len < 0: to the end */
int convert_fd_len(const struct profile *p, int in, long long len, int out);
int convert_mem(const struct profile *p, const char *msg, size_t len, int out);

extern int convert_quiet;      /* 1: no warnings on fd 2 (the fuzz target) */

#endif
