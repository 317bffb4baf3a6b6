/*
 * data_out.h -- a queued message as SMTP DATA (RFC 5321 4.5.2): line
 * ends made CR LF, a leading dot doubled, a final CR LF added when the
 * last line has none, then ".\r\n".  The queue keeps messages with LF
 * line ends; CR LF is kept as it is, and a bare CR (not before LF) becomes
 * CR LF too, so that no CR or LF leaves imc-remote outside a CR LF pair
 * (SMTP smuggling needs one).
 *
 * The encoder works on chunks of any size (state carries over); the
 * scanner computes what RFC 1870 SIZE counts (the message with CR LF line
 * ends, without dot-stuffing) and whether any byte is >= 0x80 (8-bit
 * content for 8BITMIME).
 * Nothing here does I/O or allocates.
 */
#ifndef IMC_DATA_OUT_H
#define IMC_DATA_OUT_H

#include <stddef.h>

struct dotstuff {
  int bol;                 /* at the beginning of a line */
  int cr;                  /* the last byte was a CR (already sent as CR LF) */
};

#define DOT_FINISH_MAX 5   /* "\r\n.\r\n" */

void dot_init(struct dotstuff *d);
/* len bytes of in into out, which has room for 2 * len bytes; returns the bytes written */
size_t dot_encode(struct dotstuff *d, const char *in, size_t len, char *out);
/* the end of the data into out (DOT_FINISH_MAX bytes); returns the bytes written */
size_t dot_finish(struct dotstuff *d, char *out);

struct msgscan {
  struct dotstuff d;
  unsigned long long size;   /* with CR LF line ends and the final CR LF, without dot-stuffing */
  int eightbit;              /* a byte >= 0x80 was seen */
};

void msgscan_init(struct msgscan *m);
void msgscan_chunk(struct msgscan *m, const char *in, size_t len);
void msgscan_finish(struct msgscan *m);

/* base64 (RFC 4648) of len bytes into out, which has room for B64_LEN(len) bytes; returns it */
#define B64_LEN(n) (((n) + 2) / 3 * 4)

#endif
