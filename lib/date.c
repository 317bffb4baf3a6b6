/*
 * date.c -- see date.h.  strftime's %a and %b follow the locale; imc never
 * calls setlocale, so they are the C locale's English names RFC 5322 wants.
 */
#include "date.h"

size_t date_rfc5322(char buf[DATE_MAX], time_t t)
{
  struct tm tm;
  localtime_r(&t, &tm);
  return strftime(buf, DATE_MAX, "%a, %d %b %Y %H:%M:%S %z", &tm);
}
