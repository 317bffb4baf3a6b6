/*
 * control.h -- the shared reader of the instance and its control files.
 *
 * The instance is the directory named by IMC_HOME (default /var/imc).
 * A control file is plain text: `#` starts a comment that runs to the end
 * of the line, trailing white space is trimmed, blank lines are skipped.
 * ctl_open tells a missing file (use the default) from an unreadable one
 * (a temporary failure for the caller).
 */
#ifndef IMC_CONTROL_H
#define IMC_CONTROL_H

#include "owfat.h"

const char *imc_home(void);
/* sa = IMC_HOME "/" rel, NUL-terminated (sa->len excludes the NUL); 0 or -1 (ENOMEM) */
int imc_path(stralloc *sa, const char *rel);
int imc_path2(stralloc *sa, const char *rel, const char *name);

typedef struct {
  stralloc raw;          /* the file, modified in place by ctl_next */
  size_t pos;
  unsigned lineno;       /* line number of the line ctl_next returned last */
  const char *name;      /* as given to ctl_open, e.g. "sitedomains" */
} ctl_file;

int ctl_open(ctl_file *f, const char *name);       /* 1 read, 0 missing, -1 error */
/* from now on ctl_open reads control files relative to dirfd, a descriptor
   of the control directory opened once (the setuid imc-queue: the directory
   it checked is the one it reads, whatever IMC_HOME names later); -1: by
   path again */
void ctl_use_dir(int dirfd);
void ctl_openmem(ctl_file *f, const char *name, const char *text, size_t len);
int ctl_next(ctl_file *f, char **line, size_t *len);  /* 1 line, 0 end; line is NUL-terminated */
void ctl_close(ctl_file *f);

/* splitting helpers for the parsers */
char *ctl_word(char **p);                  /* next white-space separated word, NUL-terminated, or 0 */
int ctl_scan_ulong(const char *s, unsigned long *out);    /* whole string a decimal number: 1 ok */
int ctl_scan_size(const char *s, unsigned long *out);     /* 123, 64k, 25M, 1G: 1 ok */
int ctl_scan_time(const char *s, unsigned long *out);     /* 90, 90s, 15m, 4h, 3d: 1 ok */
int ctl_scan_bool(const char *s, int *out);               /* on/off yes/no 1/0 true/false */

#endif
