/*
 * mx.c -- ordering MX records and spotting a null MX (see mx.h).
 */
#include <string.h>
#include "mx.h"

static int is_root(const char *name)
{
  return !strcmp(name, ".") || !name[0];
}

/* the next record from ans at *pos: 1, 0 at the end, -1 malformed */
static int mx_next(const char *ans, size_t len, size_t *pos, unsigned *pref, const char **name, size_t *nlen)
{
  const char *nul;
  if (*pos == len) return 0;
  if (len - *pos < 3) return -1;
  *pref = (unsigned)((unsigned char)ans[*pos] << 8 | (unsigned char)ans[*pos + 1]);
  *name = ans + *pos + 2;
  nul = memchr(*name, 0, len - *pos - 2);
  if (!nul) return -1;
  *nlen = (size_t)(nul - *name);
  *pos += 2 + *nlen + 1;
  return 1;
}

/* a worse entry is replaced when the list is full: keeps the MX_MAX best */
static void mx_keep(struct mx *list, int *n, unsigned pref, unsigned tie, const char *name, size_t nlen)
{
  int i = *n, worst = 0, k;
  if (*n == MX_MAX) {
    for (k = 1; k < *n; k++)
      if (list[k].pref > list[worst].pref || (list[k].pref == list[worst].pref && list[k].tie > list[worst].tie))
        worst = k;
    if (list[worst].pref < pref || (list[worst].pref == pref && list[worst].tie <= tie)) return;
    i = worst;
  } else (*n)++;
  list[i].pref = pref;
  list[i].tie = tie;
  memcpy(list[i].name, name, nlen);
  list[i].name[nlen] = 0;
}

int mx_parse(const char *ans, size_t len, struct mx *list, int *nullmx, unsigned (*rnd)(unsigned))
{
  size_t pos = 0, nlen;
  unsigned pref, seen = 0, roots = 0;
  const char *name;
  int n = 0, r;
  *nullmx = 0;
  while ((r = mx_next(ans, len, &pos, &pref, &name, &nlen)) == 1) {
    if (++seen > MX_READ_MAX) break;
    if (is_root(name)) { roots++; continue; }
    if (nlen > MX_NAME_MAX) continue;
    mx_keep(list, &n, pref, rnd(65536), name, nlen);
  }
  if (r < 0) return -1;
  if (roots && !n) *nullmx = 1;
  mx_sort(list, (size_t)n);
  return n;
}

static int mx_before(const struct mx *a, const struct mx *b)
{
  return a->pref < b->pref || (a->pref == b->pref && a->tie < b->tie);
}

void mx_sort(struct mx *list, size_t n)
{
  size_t i, j;
  for (i = 1; i < n; i++) {
    struct mx t = list[i];
    for (j = i; j > 0 && mx_before(&t, &list[j - 1]); j--) list[j] = list[j - 1];
    list[j] = t;
  }
}
