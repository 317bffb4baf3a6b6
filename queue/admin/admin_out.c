/*
 * admin_out.c -- output and times for the queue administration tools
 * (see admin.h).
 *
 * Output: lib/stdout.h's buffer (out_puts and the others are its names
 * here), with padding and right alignment for the tables.  Times:
 * ISO 8601 UTC as in the tracking log, ages as 45s, 12m, 2h13m, 3d4h.
 * Time arguments (imc-track -f/-t) are epoch seconds, an ISO date with an
 * optional time, or an age with a unit meaning that long ago.
 */
#include <string.h>
#include <time.h>
#include "admin.h"
#include "control.h"
#include "diag.h"
#include "exitcodes.h"
#include "fileio.h"

void adm_nomem(void) { fatal(EX_TEMP, "out of memory"); }

static void spaces(size_t n)
{
  while (n--) out_putb(" ", 1);
}

void adm_pad(const char *s, size_t width)
{
  size_t n = strlen(s);
  out_putb(s, n);
  if (n < width) spaces(width - n);
}

void adm_rpad(const char *s, size_t width)
{
  size_t n = strlen(s);
  if (n < width) spaces(width - n);
  out_putb(s, n);
}

void adm_rnum(unsigned long n, size_t width)
{
  char num[FMT_ULONG + 1];
  num[fmt_ulong(num, n)] = 0;
  adm_rpad(num, width);
}

void adm_putclean(const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    out_putb(c == '\t' ? " " : c < 32 || c == 127 ? "?" : s + i, 1);
  }
}

/* ---- times */

static size_t put_unit(char *buf, size_t pos, unsigned long v, char unit)
{
  pos += fmt_ulong(buf + pos, v);
  buf[pos++] = unit;
  return pos;
}

void adm_age(char buf[ADM_AGE], unsigned long s)
{
  size_t pos = 0;
  if (s < 60) pos = put_unit(buf, pos, s, 's');
  else if (s < 3600) pos = put_unit(buf, pos, s / 60, 'm');
  else if (s < 86400) {
    pos = put_unit(buf, pos, s / 3600, 'h');
    if (s % 3600 / 60) pos = put_unit(buf, pos, s % 3600 / 60, 'm');
  } else {
    pos = put_unit(buf, pos, s / 86400, 'd');
    if (s % 86400 / 3600) pos = put_unit(buf, pos, s % 86400 / 3600, 'h');
  }
  buf[pos] = 0;
}

void adm_iso(char buf[ADM_TIME], unsigned long t)
{
  struct tm tm;
  time_t tt = (time_t)t;
  if (!gmtime_r(&tt, &tm) || !strftime(buf, ADM_TIME, "%Y-%m-%dT%H:%M:%SZ", &tm)) strcpy(buf, "?");
}

/* n digits at s into *v: 1 ok */
static int digits(const char *s, int n, int *v)
{
  int i;
  *v = 0;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    *v = *v * 10 + (s[i] - '0');
  }
  return 1;
}

/* YYYY-MM-DD, then optionally THH:MM or THH:MM:SS, then optionally Z; the end must follow */
static int scan_date(const char *s, struct tm *tm)
{
  size_t n = strlen(s);
  memset(tm, 0, sizeof *tm);
  if (n && s[n - 1] == 'Z') n--;
  if (n != 10 && n != 16 && n != 19) return 0;
  if (!digits(s, 4, &tm->tm_year) || s[4] != '-' || !digits(s + 5, 2, &tm->tm_mon) || s[7] != '-'
      || !digits(s + 8, 2, &tm->tm_mday)) return 0;
  if (n > 10 && ((s[10] != 'T' && s[10] != ' ') || !digits(s + 11, 2, &tm->tm_hour) || s[13] != ':'
                 || !digits(s + 14, 2, &tm->tm_min))) return 0;
  if (n == 19 && (s[16] != ':' || !digits(s + 17, 2, &tm->tm_sec))) return 0;
  if (tm->tm_year < 1970 || tm->tm_mon < 1 || tm->tm_mon > 12 || tm->tm_mday < 1 || tm->tm_mday > 31
      || tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 59) return 0;
  tm->tm_year -= 1900;
  tm->tm_mon -= 1;
  return 1;
}

/* the time of tm (UTC), refusing a day the month does not have: 1 ok */
static int tm_time(struct tm *tm, unsigned long *t)
{
  int mday = tm->tm_mday, mon = tm->tm_mon;
  time_t v = timegm(tm);                  /* normalises tm: 30 February becomes 2 March */
  if (v < 0 || tm->tm_mday != mday || tm->tm_mon != mon) return 0;
  *t = (unsigned long)v;
  return 1;
}

int adm_scan_iso(const char *s, unsigned long *t)
{
  struct tm tm;
  if (strlen(s) != 20 || s[10] != 'T' || !scan_date(s, &tm)) return 0;
  return tm_time(&tm, t);
}

int adm_scan_when(const char *s, unsigned long now, unsigned long *t)
{
  struct tm tm;
  unsigned long v;
  size_t n = strlen(s);
  if (!n) return 0;
  if (s[n - 1] >= '0' && s[n - 1] <= '9' && ctl_scan_ulong(s, t)) return 1;
  if (strchr("smhd", s[n - 1]) && ctl_scan_time(s, &v)) {
    *t = v < now ? now - v : 0;
    return 1;
  }
  return scan_date(s, &tm) && tm_time(&tm, t);
}
