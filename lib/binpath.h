/*
 * binpath.h -- where imc's programs are: the directory named by IMC_BIN,
 * else the directory of the running program (/proc/self/exe), so that a
 * checkout's bin/ and an installed PREFIX/bin both work unchanged.
 */
#ifndef IMC_BINPATH_H
#define IMC_BINPATH_H

#include "owfat.h"

int bin_path(stralloc *sa, const char *prog);   /* sa = DIR/prog, NUL-terminated; 0 or -1 */

#endif
