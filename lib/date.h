/*
 * date.h -- RFC 5322 dates ("Sat, 28 Nov 2026 02:38:56 +0000") and the
 * ISO 8601 UTC form used in logs.
 */
#ifndef IMC_DATE_H
#define IMC_DATE_H

#include <stddef.h>
#include <time.h>

#define DATE_MAX 64
size_t date_rfc5322(char buf[DATE_MAX], time_t t);   /* local time with its numeric zone */

#endif
