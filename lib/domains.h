/*
 * domains.h -- control/domains: the content settings of each destination
 * domain, used by imc-convert (convert/) for outbound conversion.
 *
 *   control/domains, one line per pattern:
 *       PATTERN key=value ...
 *   PATTERN is a domain (`example.com`), `.example.com` (every subdomain,
 *   not example.com itself) or `*` (the defaults).  The keys:
 *       attachments=mime|uuencode   charset=CS   nonmimecharset=CS
 *       wrap=0|N (10..998)          richtext=user|always|never
 *       displaynames=yes|no         oof=yes|no   autoreplies=yes|no
 *       maxsize=N (bytes, k/M/G allowed; 0: no limit)
 *       signed=keep|convert  (IMC: "clients support S/MIME signatures")
 *   signed=keep leaves a signed message (multipart/signed,
 *   application/pkcs7-mime, or one with a DKIM-Signature field) as it is;
 *   convert converts it as any other (its signature will not verify).
 *   A charset must be known to iconv.  Keys a line leaves out take the
 *   `*` line's values, and the `*` line's own missing keys the built-in
 *   defaults (DOMAINS_DEFAULT), wherever the `*` line is in the file.
 *
 * domains_find: an exact domain beats the longest `.suffix`, which beats
 * `*`; case-insensitive.
 *
 * Failure modes: domains_load returns -1 (errno) when the file cannot be
 * read; otherwise the number of bad lines, each reported through err as
 * ("domains", LINE, MESSAGE): `unknown key foo`, `bad value for wrap`,
 * `unknown charset foo`, `bad pattern`, `pattern listed twice`, `wrap
 * given twice`.  Bad lines are skipped; the good ones are kept.
 */
#ifndef IMC_DOMAINS_H
#define IMC_DOMAINS_H

#include <stddef.h>
#include "config.h"
#include "owfat.h"

#define DOMAINS_DEFAULT "* attachments=mime charset=utf-8 nonmimecharset=us-ascii wrap=0 " \
                        "richtext=user displaynames=yes oof=no autoreplies=no maxsize=0 signed=keep"

enum { ATT_MIME, ATT_UUENCODE };
enum { RICH_USER, RICH_ALWAYS, RICH_NEVER };

#define DOM_CHARSET_MAX 40

struct domain_settings {
  int attachments;                        /* ATT_* */
  char charset[DOM_CHARSET_MAX + 1];      /* lower case, as written */
  char nonmimecharset[DOM_CHARSET_MAX + 1];
  unsigned long wrap;                     /* 0: never */
  int richtext;                           /* RICH_* */
  int displaynames, oof, autoreplies;     /* 1 yes, 0 no */
  unsigned long maxsize;                  /* 0: no limit */
  int signed_keep;                        /* signed=keep: signed mail goes unconverted */
};

struct domain_entry {
  char *pattern;                          /* lower case */
  unsigned line;
  unsigned set;                           /* bit k: key k was given on the line */
  struct domain_settings s;
};

struct domains {
  struct domain_entry *e;
  size_t n, alloc;
  struct domain_settings star;            /* the `*` line over the built-in defaults */
};

int domains_load(struct domains *d, config_errfn err);     /* 0 ok, >0 errors, -1 unreadable */
int domains_parse_text(struct domains *d, const char *text, size_t len, config_errfn err);
void domains_free(struct domains *d);
int domains_check(config_errfn err);                        /* for imc-ctl check: the same counts */

/* the settings for a destination domain (or "*" / "-" for the defaults) */
void domains_find(const struct domains *d, const char *domain, struct domain_settings *out);
/* the same, returning the pattern that matched: the domain's line, a `.suffix`, or "*" */
const char *domains_match(const struct domains *d, const char *domain, struct domain_settings *out);
void domains_builtin(struct domain_settings *s);            /* DOMAINS_DEFAULT */
/* the settings as one line of key=value words (for imc-ctl show); 0, -1 ENOMEM */
int domains_format(const struct domain_settings *s, stralloc *out);
int domains_charset_known(const char *cs);                  /* iconv converts to and from it */

#endif
