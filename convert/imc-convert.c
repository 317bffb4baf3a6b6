/*
 * imc-convert -- the content converter: one message in, one message out,
 * for a content profile.
 *
 *     imc-convert [-8] [-l LEN] [-i ID] PROFILE  < message  > converted
 *
 * PROFILE is `inbound` or `inbound@DOMAIN` (uuencoded blocks in text
 * become MIME attachments, and 8-bit text without MIME headers is labelled
 * with the nonmimecharset of DOMAIN's line in control/domains, `*`'s
 * without one; nothing else changes), `keep` (nothing changes: with -8, imc-remote's
 * downgrade of a message already converted for its destination), a destination domain (its settings in
 * control/domains: the exact domain, else the longest `.suffix`, else `*`),
 * or `-` for the `*` settings.  A signed message (multipart/signed,
 * application/pkcs7-mime, a DKIM-Signature field) is left as under `keep`
 * when the profile's line says signed=keep (the default).  -8 also downgrades 8-bit content to 7-bit
 * (RFC 6152) for a next hop without 8BITMIME.  fd 0 is a file or a pipe
 * with LF line ends, as the queue stores messages; with -l only its first
 * LEN bytes are the message (imc-send passes the queue file itself, whose
 * envelope follows the message).  fd 1 gets the result.  -i names the
 * message's queue id, with which every line it writes on fd 2 then starts
 * (imc-send passes it).
 * It reads control/domains and control/mimetypes under $IMC_HOME and
 * nothing else but its input; it writes nothing but its output.
 *
 * Exit codes (lib/exitcodes.h): 0 converted; CX_SUPPRESSED (20) an
 * automatic reply or out-of-office the profile does not send, nothing
 * written; CX_TOOBIG (21) the result passed maxsize (bounce 5.3.4); 100
 * usage; 111 temporary (reading, writing, memory, a control file that is
 * unreadable or has errors).  On any code but 0 the output is to be
 * discarded.  Malformed MIME is not an error: it passes through unchanged
 * with a warning on fd 2.
 */
#include <string.h>
#include "addr.h"
#include "child.h"
#include "convert/convert.h"
#include "diag.h"
#include "exitcodes.h"
#include "queue.h"

static int profile_name_ok(const char *s)
{
  size_t n = strlen(s);
  if (!strncmp(s, "inbound@", 8)) return domain_valid(s + 8, n - 8) || domain_literal(s + 8, n - 8);
  return !strcmp(s, "-") || !strcmp(s, "inbound") || !strcmp(s, "keep") || domain_valid(s, n) || domain_literal(s, n);
}

int main(int argc, char **argv)
{
  struct profile p;
  int eightbit = 0, i = 1, rc;
  long long len = -1;
  unsigned long long n;
  diag_prog = "imc-convert";
  if (ids_settle() < 0) fatalsys(EX_TEMP, "unable to set the real user and group ids");   /* setuid imcc */
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    if (!strcmp(argv[i], "-8")) eightbit = 1;
    else if (!strcmp(argv[i], "-l") && i + 1 < argc && argv[i + 1][scan_ulonglong(argv[i + 1], &n)] == 0
             && argv[i + 1][0] && n < (1ULL << 62)) len = (long long)n, i++;
    else if (!strcmp(argv[i], "-i") && i + 1 < argc && qid_valid(argv[i + 1], strlen(argv[i + 1]))) diag_subject = argv[++i];
    else if (!strcmp(argv[i], "--")) { i++; break; }
    else break;
  }
  if (argc - i != 1 || !profile_name_ok(argv[i])) usage("[-8] [-l LEN] [-i ID] inbound[@DOMAIN]|keep|DOMAIN|-");
  rc = profile_load(&p, argv[i], eightbit, config_warn);
  if (rc < 0) fatalsys(EX_TEMP, "unable to read control/domains or control/mimetypes");
  if (rc > 0) fatal(EX_TEMP, "errors in control/domains or control/mimetypes");
  rc = convert_fd_len(&p, 0, len, 1);
  profile_free(&p);
  return rc;
}
