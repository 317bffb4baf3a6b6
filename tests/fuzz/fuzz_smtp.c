/*
 * fuzz_smtp.c -- libFuzzer target for imc-smtpd's parsers of network
 * input: the command line parser, MAIL FROM / RCPT TO paths with their
 * parameters, the EHLO and ETRN arguments, base64 and the AUTH PLAIN
 * split (smtpd/smtp_cmd.c, smtp_auth.c), and the DATA state machine
 * (smtpd/smtp_data.c) fed with the input cut into pieces whose sizes come
 * from the input itself.
 *
 * The input is also read as a whole session (check_session): command
 * lines, and after each DATA line the text through the machine, as
 * imc-smtpd reads them; after each BDAT line its chunk's octets, exactly
 * as many as it says, through the machine's chunked form, one machine for
 * the chunks up to BDAT LAST; the corpus holds sessions that smuggle a
 * second transaction behind every look-alike of the end of data, and BDAT
 * sessions with CR LF split across chunks, bare CR and LF, "." lines and
 * commands inside chunks.
 *
 * Checks: a parsed address is NUL-terminated, within SMTP_ADDR_MAX, and
 * one the queue accepts (addr_valid), flagged utf8 exactly when it has
 * an octet above 127 and then well-formed UTF-8 without controls (RFC
 * 6531; MAIL's SMTPUTF8 parameter is in the corpus), its domain's
 * A-label form (lib/idna.c) ASCII and within its bounds; its DSN
 * parameters (RFC 3461) are NUL-terminated, within DSN_PACK_MAX and
 * parse back (dsn_unpack) as the envelope's D or N record will;
 * lib/utf8.c's cleaning and lib/diag.c's folding for log lines give
 * printable UTF-8 from any
 * input; the data machine never outputs more
 * than it was given, never consumes past the end, counts exactly what it
 * outputs while no error is noted, never outputs a CR, and ends exactly
 * where a second, independent reading of the rule says: at the first
 * CR LF "." CR LF, or at once at a bare CR or LF before it (DATA_BARE).
 * Chunked, it stores what a byte-at-a-time model of the chunks joined
 * says (CR LF as LF, nothing else changed, an LF added at LAST after a
 * last line without one), stops at a bare CR or LF exactly where the
 * model does, and a BDAT line's size is what its digits say.
 */
#include <stdlib.h>
#include <string.h>
#include "base64.h"
#include "addr.h"
#include "diag.h"
#include "dsn.h"
#include "idna.h"
#include "utf8.h"
#include "../../smtpd/smtp_auth.h"
#include "../../smtpd/smtp_cmd.h"
#include "../../smtpd/smtp_data.h"

/* a domain's A-label form (lib/idna.c): a host name of ASCII, its labels at most
   63 octets, never more than the room given; the ASCII labels as they were */
static void check_idna(const char *d, size_t n)
{
  char out[256];
  long len = idna_to_ascii(d, n, out, sizeof out);
  if (len < 0) return;
  if ((size_t)len >= sizeof out || strlen(out) != (size_t)len || utf8_has8bit(out, (size_t)len)) abort();
  if (len <= 253 && !domain_valid(out, (size_t)len)) abort();
  if (!utf8_has8bit(d, n) && ((size_t)len != n || memcmp(out, d, n))) abort();
}

static void check_path(const char *s, size_t n, int mail)
{
  struct smtp_path p;
  if (smtp_path_parse(s, n, mail, &p)) return;
  if (p.len > SMTP_ADDR_MAX || p.addr[p.len] != 0 || strlen(p.addr) != p.len || p.at > p.len) abort();
  if (p.at < p.len && !addr_valid(p.addr, p.len)) abort();
  if (p.at == p.len && p.len && (mail || p.len != 10)) abort();
  if (p.len == 0 && !mail) abort();
  {
    struct dsn_params d;
    if (p.dsnlen > DSN_PACK_MAX || p.dsn[p.dsnlen] || strlen(p.dsn) != p.dsnlen) abort();
    if (dsn_unpack(p.dsn, p.dsnlen, mail, &d) < 0) abort();
  }
  if (p.utf8 != utf8_has8bit(p.addr, p.len) || (p.utf8 && !utf8_printable(p.addr, p.len))) abort();
  if (p.at < p.len && !p.literal) check_idna(p.addr + p.at + 1, p.len - p.at - 1);
}

/* what a log line makes of any input: printable UTF-8, within its room */
static void check_clean(const char *s, size_t n)
{
  char out[300];
  size_t cap = n % sizeof out, len = utf8_clean(out, cap, s, n, '?');
  if (len > cap || !utf8_printable(out, len)) abort();
  {
    struct diag_line l = { out, 0, cap, 0 };       /* the folding of every log and diagnostic line */
    diag_fold(&l, s, n);
    if (l.pos > cap || !utf8_printable(out, l.pos)) abort();
  }
}

static void check_command(const char *s, size_t n)
{
  struct smtp_cmd c;
  char dom[256];
  if (smtp_cmd_parse(s, n, &c)) return;
  if (c.arg < s || c.arg + c.arglen > s + n) abort();
  if (c.verb == V_MAIL) check_path(c.arg, c.arglen, 1);
  if (c.verb == V_RCPT) check_path(c.arg, c.arglen, 0);
  if (c.verb == V_ETRN && !smtp_etrn_parse(c.arg, c.arglen, dom) && (strlen(dom) > 255 || !domain_valid(dom, strlen(dom))))
    abort();
  if (c.verb == V_HELO) smtp_helo_valid(c.arg, c.arglen);
}

static void check_auth(const char *s, size_t n)
{
  char out[AUTH_FIELD_MAX];
  const char *u, *p;
  size_t len, ul, pl;
  if (base64_decode(s, n, out, sizeof out, &len) < 0) return;
  if (len > sizeof out) abort();
  if (auth_plain_split(out, len, &u, &ul, &p, &pl) == 0) {
    if (!ul || !pl || u + ul > out + len || p + pl != out + len || memchr(p, 0, pl)) abort();
  }
}

/* The end of the text by a second, independent reading of the rule, for text that
   starts at t[start] right after a CR LF (t[start - 2], t[start - 1]): the first
   CR LF "." CR LF ends it, unless a bare CR or LF comes first, which ends it at
   once (*bare set).  Returns the octets of the text consumed (the end included;
   for a bare CR, the octet after it, which shows it bare), or 0 when the input ends
   first. */
static size_t text_end(const unsigned char *t, size_t start, size_t n, int *bare)
{
  size_t i;
  *bare = 0;
  for (i = start; i < n; i++) {
    if (t[i] == '\n' && t[i - 1] != '\r') { *bare = 1; return i + 1 - start; }
    if (t[i] == '\r' && i + 1 < n && t[i + 1] != '\n') { *bare = 1; return i + 2 - start; }
    if (t[i] == '\n' && i >= start + 2 && !memcmp(t + i - 4, "\r\n.\r\n", 5)) return i + 1 - start;
  }
  return 0;
}

/* the text as stored, byte by byte: each line's leading dot dropped, CR LF made
   LF; body is the text before the final ".\r\n" (no bare CR or LF in it) */
static size_t model_text(const unsigned char *body, size_t n, unsigned char *out)
{
  size_t i, o = 0;
  int bol = 1;
  for (i = 0; i < n; i++) {
    if ((bol && body[i] == '.') || body[i] == '\r') { bol = 0; continue; }
    out[o++] = body[i];
    bol = body[i] == '\n';
  }
  return o;
}

/* the machine on t[start..n) in pieces whose sizes come from the input; checks
   its own promises and that it ends exactly where text_end says; the octets consumed */
static size_t run_data(const unsigned char *t, size_t start, size_t n, unsigned long long max)
{
  static char out[1 << 16];
  static unsigned char all[1 << 20], model[1 << 20];
  struct smtp_data d;
  size_t pos = start, total = 0, k = 0, want;
  int bare;
  smtp_data_init(&d, max, 0);
  while (pos < n && !d.done) {
    size_t step = 1 + t[k++ % n] % 97, olen, used;
    if (step > n - pos) step = n - pos;
    used = smtp_data_feed(&d, (const char *)t + pos, step, out, &olen);
    if (used > step || olen > used || (used < step && !d.done)) abort();
    if (memchr(out, '\r', olen)) abort();                 /* CR only ever leaves as part of CR LF */
    if (total + olen <= sizeof all) memcpy(all + total, out, olen);
    pos += used;
    total += olen;
  }
  if (!d.errors && d.bytes != total) abort();
  want = text_end(t, start, n, &bare);
  if (want && !d.errors && total <= sizeof all
      && (model_text(t + start, want - 3, model) != total || memcmp(model, all, total))) abort();
  if (want ? !d.done || pos - start != want : d.done) abort();   /* ends there and nowhere else */
  if (!!(d.errors & DATA_BARE) != bare) abort();
  return pos - start;
}

/* the input as the text after a 354: behind a CR LF, as the DATA line leaves it */
static void check_data(const unsigned char *data, size_t size)
{
  static unsigned char t[2 + (1 << 20)];
  if (size > sizeof t - 2) return;
  t[0] = '\r';
  t[1] = '\n';
  memcpy(t + 2, data, size);
  run_data(t, 2, size + 2, size & 1 ? size / 2 : 0);
}

/* ---- BDAT: the chunks of one transaction */

/* the chunks joined, as stored, byte by byte: CR LF as LF; a CR not followed by LF
   or an LF not after a CR is bare: *bare, and the octets consumed up to the one
   that shows it; last: the text ends with t (BDAT LAST): a CR at the end is bare,
   a last line without its LF gets one.  Returns the octets consumed (all of t
   when nothing is bare) and the stored length in *olen */
static size_t model_chunks(const unsigned char *t, size_t n, int last, unsigned char *out, size_t *olen, int *bare)
{
  size_t i, o = 0;
  *bare = 0;
  for (i = 0; i < n; i++) {
    if (t[i] == '\n' && (i == 0 || t[i - 1] != '\r')) { *bare = 1; *olen = o; return i + 1; }
    if (t[i] == '\r' && i + 1 < n && t[i + 1] != '\n') { *bare = 1; *olen = o; return i + 2; }
    if (t[i] != '\r') out[o++] = t[i];
  }
  if (last && n && t[n - 1] == '\r') { *bare = 1; *olen = o; return n; }
  if (last && n && t[n - 1] != '\n') out[o++] = '\n';
  *olen = o;
  return n;
}

struct chunks {
  struct smtp_data d;
  int on;                                  /* a transaction is under way */
  size_t n, total;                         /* octets joined in t; stored octets in all */
  unsigned char t[1 << 16], all[1 << 16], model[1 << 16];
};

/* one chunk through the machine in pieces whose sizes come from the input: the
   octets consumed (fewer only at a bare CR or LF) */
static size_t feed_chunk(struct chunks *c, const unsigned char *p, size_t len)
{
  static char out[1 << 16];
  size_t pos = 0, k = 0;
  while (pos < len && !c->d.done) {
    size_t step = 1 + p[k++ % len] % 61, olen, used;
    if (step > len - pos) step = len - pos;
    used = smtp_data_feed(&c->d, (const char *)p + pos, step, out, &olen);
    if (used > step || olen > used || (used < step && !c->d.done)) abort();
    if (memchr(out, '\r', olen)) abort();
    if (c->total + olen <= sizeof c->all) memcpy(c->all + c->total, out, olen);
    c->total += olen;
    pos += used;
  }
  if (c->n + pos <= sizeof c->t) memcpy(c->t + c->n, p, pos);
  c->n += pos;
  return pos;
}

/* the machine against the model, after a chunk (last: BDAT LAST) */
static void check_chunks(struct chunks *c, int last)
{
  size_t olen, used;
  int bare;
  if (c->n > sizeof c->t || c->total > sizeof c->all || (c->d.errors & ~DATA_BARE)) return;
  used = model_chunks(c->t, c->n, last, c->model, &olen, &bare);
  if (!!(c->d.errors & DATA_BARE) != bare || c->d.done != (bare || last) || used != c->n) abort();
  if (!bare && (olen != c->total || memcmp(c->model, c->all, olen) || c->d.bytes != olen)) abort();
}

/* a BDAT line's chunk at data[pos..): the octets the session reads (all of the
   chunk, or up to a bare CR or LF: *closed); chunks of one transaction share the
   machine until LAST */
static size_t run_bdat(struct chunks *c, const unsigned char *data, size_t pos, size_t size,
                       unsigned long long chunk, int last, int *closed)
{
  size_t len = chunk < size - pos ? (size_t)chunk : size - pos, used;
  char lf[1];
  size_t lflen;
  *closed = 0;
  if (!c->on) { smtp_data_init_chunks(&c->d, 0, 0); c->on = 1; c->n = c->total = 0; }
  used = feed_chunk(c, data + pos, len);
  if (len < chunk && !c->d.done) { *closed = 1; return len; }     /* the input ended in the chunk */
  if (last && !c->d.done) {
    smtp_data_last(&c->d, lf, &lflen);
    if (lflen > 1 || (lflen && lf[0] != '\n')) abort();
    if (lflen && c->total < sizeof c->all) c->all[c->total] = '\n';
    c->total += lflen;
  }
  check_chunks(c, last);
  *closed = (c->d.errors & DATA_BARE) != 0;
  if (last || c->d.errors) c->on = 0;                           /* the reply ends the transaction */
  return used;
}

/* a BDAT argument's size by a second reading: digits, then nothing or " LAST" */
static void check_bdat_arg(const char *a, size_t n, unsigned long long size, int last)
{
  char buf[40];
  size_t d = 0;
  while (d < n && a[d] >= '0' && a[d] <= '9') d++;
  if (d == 0 || d > SMTP_BDAT_DIGITS || d >= sizeof buf) abort();
  memcpy(buf, a, d);
  buf[d] = 0;
  if (strtoull(buf, 0, 10) != size || last != (d < n)) abort();
}

/* the input as a whole session, read the way imc-smtpd reads it: command lines up
   to LF (of a line over SMTP_CMD_MAX only the part sio_getline keeps is looked at),
   the session closed at a line with a bare CR or LF (smtp_line_bare), the text after
   each DATA line through the machine, the session closed at a bare CR or LF in it;
   after each BDAT line exactly its chunk's octets (the session reads them whether
   it takes the chunk or drops it), as if the transaction had its MAIL and RCPT;
   a BDAT line that does not parse closes the session (501, 421).
   So a second transaction smuggled behind a look-alike of the end of data (the
   corpus has them all) is never reached as commands: run_data checks that the
   machine ends only at CR LF "." CR LF. */
static void check_session(const unsigned char *data, size_t size)
{
  static struct chunks ch;
  size_t pos = 0;
  ch.on = 0;
  while (pos < size) {
    const char *line = (const char *)data + pos;
    const unsigned char *nl = memchr(data + pos, '\n', size - pos);
    size_t len, kept, used;
    struct smtp_cmd c;
    unsigned long long chunk;
    int crlf, bare, last;
    if (!nl) return;
    len = (size_t)(nl - (data + pos));
    crlf = len && line[len - 1] == '\r';
    if (crlf) len--;
    pos += (size_t)(nl - (data + pos)) + 1;
    kept = len < SMTP_CMD_MAX - 2 ? len : SMTP_CMD_MAX - 2;
    bare = smtp_line_bare(line, kept, crlf);
    if (bare != (!crlf || memchr(line, '\r', kept) != 0)) abort();
    if (bare) return;                                      /* 500 5.5.2 and the session closes */
    if (len > SMTP_CMD_MAX - 2) continue;                  /* 500 5.5.2 line too long */
    check_command(line, len);
    if (smtp_cmd_parse(line, len, &c)) continue;
    if (c.verb == V_RSET || c.verb == V_EHLO || c.verb == V_HELO) ch.on = 0;
    if (c.verb == V_BDAT) {
      if (smtp_bdat_parse(c.arg, c.arglen, &chunk, &last)) return;   /* 501, 421, closed */
      check_bdat_arg(c.arg, c.arglen, chunk, last);
      pos += run_bdat(&ch, data, pos, size, chunk, last, &bare);
      if (bare) return;
      continue;
    }
    if (c.verb != V_DATA || c.arglen || ch.on) continue;  /* DATA after BDAT: 503 */
    used = run_data(data, pos, size, 0);                   /* data[pos - 2..pos) is the CR LF */
    if (!used) return;                                     /* the input ended in the text */
    text_end(data, pos, size, &bare);
    if (bare) return;                                      /* 550 5.6.11 and the session closes */
    pos += used;
  }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  const char *s = (const char *)data;
  size_t nl = size;
  const char *p = memchr(s, '\n', size);
  if (p) nl = (size_t)(p - s);
  check_command(s, nl);
  check_path(s, size, 1);
  check_path(s, size, 0);
  check_auth(s, nl);
  check_clean(s, size);
  check_data(data, size);
  check_session(data, size);
  return 0;
}
