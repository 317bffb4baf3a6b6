/*
 * send_held.c -- destinations the administrator holds (imc-qctl hold
 * @DOMAIN): a list of domains in memory, kept in queue/info/held (one
 * lower-case domain per line, replaced whole) so that they stay held
 * across restarts.  Layer 1 of imc-send (send.h).
 */
#include <string.h>
#include <strings.h>
#include "control.h"
#include "diag.h"
#include "fileio.h"
#include "send.h"

static stralloc held;           /* held destination domains, each NUL-terminated, lower case */

int held_domain(const char *d, size_t len)
{
  size_t pos = 0;
  while (pos < held.len) {
    size_t n = str_len(held.s + pos);
    if (n == len && !strncasecmp(held.s + pos, d, len)) return 1;
    pos += n + 1;
  }
  return 0;
}

static void held_save(void)
{
  stralloc text = {0}, path = {0};
  size_t pos = 0;
  while (pos < held.len) {
    size_t n = str_len(held.s + pos);
    if (!stralloc_catb(&text, held.s + pos, n) || !stralloc_append(&text, "\n")) goto done;
    pos += n + 1;
  }
  if (imc_path(&path, "queue/info/held") == 0 && file_replace(path.s, text.s ? text.s : "", text.len, 0640) < 0)
    warnsys("unable to write queue/info/held");
done:
  stralloc_free(&text);
  stralloc_free(&path);
}

void held_load(void)
{
  stralloc path = {0}, text = {0};
  size_t pos = 0;
  held.len = 0;
  if (imc_path(&path, "queue/info/held") < 0 || file_read(path.s, &text) < 0) warnsys("unable to read queue/info/held");
  while (pos < text.len) {
    char *nl = memchr(text.s + pos, '\n', text.len - pos);
    size_t n = nl ? (size_t)(nl - (text.s + pos)) : text.len - pos;
    if (n) { case_lowerb(text.s + pos, n); stralloc_catb(&held, text.s + pos, n); stralloc_0(&held); }
    pos += n + 1;
  }
  stralloc_free(&path);
  stralloc_free(&text);
}

void held_set(const char *d, int on)
{
  size_t len = strlen(d), pos = 0;
  if (on) {
    if (held_domain(d, len)) return;
    stralloc_catb(&held, d, len);
    stralloc_0(&held);
    case_lowerb(held.s + held.len - len - 1, len);
  } else {
    while (pos < held.len) {
      size_t n = str_len(held.s + pos);
      if (n == len && !strncasecmp(held.s + pos, d, len)) {
        memmove(held.s + pos, held.s + pos + n + 1, held.len - pos - n - 1);
        held.len -= n + 1;
        continue;
      }
      pos += n + 1;
    }
  }
  held_save();
}

