/*
 * owfat.h -- the one way imc includes libowfat.
 *
 * libowfat 0.32 declares its fmt_* functions `pure`, which lets the
 * compiler drop or reorder calls whose results land in a caller's buffer
 * (stralloc_catulong appends nothing).  Defining `pure` away around the
 * includes fixes it.  Never include libowfat headers any other way.
 */
#ifndef IMC_OWFAT_H
#define IMC_OWFAT_H

#define pure
#include <buffer.h>
#include <byte.h>
#include <case.h>
#include <fmt.h>
#include <scan.h>
#include <str.h>
#include <stralloc.h>
#include <cdb.h>
#include <cdb_make.h>
#include <dns.h>
#include <ip4.h>
#include <ip6.h>
#include <socket.h>
#include <textcode.h>
#undef pure

/*
 * The `pure` fix above covers only calls compiled here.  Inside the
 * packaged library fmt_ulong0 was compiled with its call to fmt_ulong
 * dropped: it writes the padding and never the digits, so
 * stralloc_catulong0, stralloc_catlong0 and the stralloc_cat{u,}{long,int}
 * macros built on them produce garbage.  Route those names to these.
 */
static inline size_t imc_fmt_ulong0(char *dest, unsigned long in, size_t pad)
{
  size_t len = fmt_ulong(0, in), zeros = len < pad ? pad - len : 0, i;
  if (!dest) return zeros + len;
  for (i = 0; i < zeros; i++) dest[i] = '0';
  return zeros + fmt_ulong(dest + zeros, in);   /* result used: never dropped */
}
static inline int imc_stralloc_catulong0(stralloc *sa, unsigned long in, size_t n)
{
  if (!stralloc_readyplus(sa, imc_fmt_ulong0(0, in, n))) return 0;
  sa->len += imc_fmt_ulong0(sa->s + sa->len, in, n);
  return 1;
}
static inline int imc_stralloc_catlong0(stralloc *sa, signed long in, size_t n)
{
  unsigned long u = in < 0 ? 0UL - (unsigned long)in : (unsigned long)in;
  if (in < 0 && !stralloc_append(sa, "-")) return 0;
  return imc_stralloc_catulong0(sa, u, n);
}
#define fmt_ulong0 imc_fmt_ulong0
#define stralloc_catulong0 imc_stralloc_catulong0
#define stralloc_catlong0 imc_stralloc_catlong0

#endif
