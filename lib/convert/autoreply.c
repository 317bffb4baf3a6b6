/*
 * autoreply.c -- is a message an automatic reply, and is it an
 * out-of-office one?  (see conv.h)
 *
 * Input: the message's header section.  Auto-Submitted (RFC 3834) decides
 * when it is there: auto-replied is an automatic reply; any other value
 * (no, auto-generated, auto-notified) is not one (a notification or a
 * bounce is not a reply).  Without it, the vendor marks count:
 * Precedence: auto_reply, X-Autoreply, X-Autorespond, X-Auto-Reply and
 * X-Auto-Response-Suppress naming All, OOF or AutoReply (Exchange puts it
 * on its own automatic replies).  An automatic reply is out-of-office when
 * its Subject (RFC 2047 words decoded) starts with a common out-of-office
 * prefix ("Out of Office", "Automatic reply", "Abwesend", ...), when
 * Auto-Submitted carries a "vacation" or "oof" comment (as Sieve vacation
 * replies do), or when X-Vacation is there.
 * Output: AR_NONE, AR_AUTO or AR_OOF.  No failure modes (out of memory
 * reads as AR_NONE: the message is sent).
 */
#include <string.h>
#include <strings.h>
#include "conv.h"
#include "ew.h"

static int has_word(const stralloc *v, const char *w)
{
  size_t n = strlen(w), i;
  for (i = 0; i + n <= v->len; i++)
    if (!strncasecmp(v->s + i, w, n)
        && (i == 0 || !((v->s[i - 1] | 32) >= 'a' && (v->s[i - 1] | 32) <= 'z'))
        && (i + n == v->len || !((v->s[i + n] | 32) >= 'a' && (v->s[i + n] | 32) <= 'z')))
      return 1;
  return 0;
}

static int starts(const stralloc *v, const char *w)
{
  size_t n = strlen(w);
  return v->len >= n && !strncasecmp(v->s, w, n);
}

static int vendor_marked(const struct mhdr *h, stralloc *v)
{
  if (mhdr_get(h, "precedence", v) > 0 && starts(v, "auto_reply")) return 1;
  if (mhdr_get(h, "x-autoreply", v) > 0 && !starts(v, "no")) return 1;
  if (mhdr_get(h, "x-autorespond", v) > 0 && !starts(v, "no")) return 1;
  if (mhdr_get(h, "x-auto-reply", v) > 0 && !starts(v, "no")) return 1;
  if (mhdr_get(h, "x-auto-response-suppress", v) > 0
      && (has_word(v, "all") || has_word(v, "oof") || has_word(v, "autoreply"))) return 1;
  return 0;
}

static int oof_subject(const struct mhdr *h, stralloc *v)
{
  static const char *const prefixes[] = { "out of office", "out of the office", "automatic reply",
    "autoreply", "auto reply", "auto:", "vacation", "away from", "abwesenheit", "abwesend",
    "automatische antwort", "r\xc3\xa9ponse automatique", "absence", "respuesta autom\xc3\xa1tica",
    "fuori sede", "risposta automatica", "afwezig", 0 };
  stralloc d = {0};
  size_t i = 0;
  int k, hit = 0;
  if (mhdr_get(h, "subject", v) <= 0 || ew_decode(v->s, v->len, &d) < 0) { stralloc_free(&d); return 0; }
  while (i < d.len && (d.s[i] == ' ' || d.s[i] == '\t')) i++;
  for (k = 0; prefixes[k] && !hit; k++)
    hit = d.len - i >= strlen(prefixes[k]) && !strncasecmp(d.s + i, prefixes[k], strlen(prefixes[k]));
  stralloc_free(&d);
  return hit;
}

int autoreply_kind(const struct mhdr *h)
{
  stralloc v = {0};
  int kind = AR_NONE, r = mhdr_get(h, "auto-submitted", &v);
  if (r > 0) {
    if (starts(&v, "auto-replied")) kind = has_word(&v, "vacation") || has_word(&v, "oof") ? AR_OOF : AR_AUTO;
  } else if (r == 0 && vendor_marked(h, &v)) kind = AR_AUTO;
  if (kind == AR_AUTO && (oof_subject(h, &v) || mhdr_get(h, "x-vacation", &v) > 0)) kind = AR_OOF;
  stralloc_free(&v);
  return kind;
}
