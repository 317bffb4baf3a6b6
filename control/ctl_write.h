/*
 * ctl_write.h -- imc-ctl set: replacing a control file without ever
 * exposing it.
 *
 * The new text goes through lib's file_replace_owned: control/NAME.tmp.PID,
 * created 0600, gets its owner, group and mode (fchown, fchmod) before a
 * byte is written, then the text, fsync, rename onto control/NAME and fsync
 * of control/.  So there
 * is no moment at which a secret is readable by more users than before.
 *
 * Owner, group and mode: those of the file it replaces (a symbolic link's
 * target).  A new file: a secret (control/auth, control/tls/key.pem: read
 * by imc-smtpd) gets root:imcd 0640 in a system-mode instance (env/IMC_USER
 * exists, imc-ctl runs as root and group imcd exists), as bin/imc-setup
 * sets it, and 0600 of the caller otherwise; any other new file is 0644 of
 * the caller.  Route password files are not written by imc-ctl.
 *
 * Failure modes: -1 with errno (the file cannot be created, chowned,
 * written or renamed); the temporary file is removed and control/NAME is
 * left as it was.
 */
#ifndef IMC_CTL_WRITE_H
#define IMC_CTL_WRITE_H

#include <stddef.h>

int ctl_write(const char *name, const char *text, size_t len);   /* 0, or -1 (errno) */
/* imc-ctl reset: removes control/NAME (then fsync of control/), so that its
   default applies: 0 removed, 1 there was none, -1 (errno) */
int ctl_remove(const char *name);
/* a system-mode instance (imc-setup --system wrote env/IMC_USER): 1, else 0 */
int ctl_system_mode(void);

#endif
