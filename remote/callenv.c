/*
 * callenv.c -- what the setuid imc-remote takes from its caller's
 * environment (docs/SECURITY.md 11.4d).
 *
 * Installed setuid and setgid imcr (imc-setup --system), imc-remote reads
 * the routes' password files, so the variables that choose its instance
 * (IMC_HOME: control/routes, the password files), the program it runs as
 * imcr (IMC_BIN: imc-convert), its trust anchors (IMC_TLS_CAFILE) and its
 * DNS (libowfat's DNSCACHEIP, LOCALDOMAIN, DNSREWRITEFILE) must come from
 * someone trusted:
 *
 *   not setuid (real ids equal the effective ones: user mode, the tests)
 *       everything is taken: the caller is imc-remote's own user;
 *   real uid 0 (root)
 *       everything is taken: root can read the files anyway;
 *   real uid imc-send's user (IMC_SEND_USER, its uid from /etc/passwd,
 *   read directly: imc-remote is linked statically, without the name service)
 *       the variables are taken, but IMC_HOME, IMC_BIN and IMC_TLS_CAFILE
 *       only when they name root's files: after links are resolved, every
 *       directory on the way is root's and writable by nobody else (or
 *       sticky, as /tmp), IMC_HOME/control too, and the CA file is root's
 *       and writable by root only; the resolved path replaces the value, so
 *       that nothing later follows a link the caller could change;
 *   anyone else (another member of group imcr)
 *       any of those variables set is fatal (exit 100): such a caller gets
 *       the installed defaults only (/var/imc, the programs beside
 *       imc-remote, the system's CA bundle, /etc/resolv.conf).
 *
 * callenv_check must run before ids_settle, which makes the real ids
 * imcr's.  Failure modes: a refused variable or an unusable path is fatal
 * with a diagnostic naming it (exit 100); an unreadable /etc/passwd counts
 * as "imc-send's user unknown".
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "diag.h"
#include "exitcodes.h"
#include "fileio.h"
#include "passwd.h"
#include "remote.h"

static const char *const steering[] = { "IMC_HOME", "IMC_BIN", "IMC_TLS_CAFILE", "DNSCACHEIP", "LOCALDOMAIN", "DNSREWRITEFILE", 0 };

static int is_sender_user(uid_t u)
{
  unsigned long id;
  return passwd_file_uid(IMC_SEND_USER, strlen(IMC_SEND_USER), &id) && id == (unsigned long)u;
}

/* ---- paths of root's */

/* one resolved component: root's, and writable by nobody else unless sticky
   (then only the next component, root's too, is trusted) */
static int root_owned(const char *path, int last)
{
  struct stat st;
  if (lstat(path, &st) < 0 || st.st_uid != 0) return 0;
  if (!(st.st_mode & 022)) return 1;
  return !last && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
}

/* every component of the resolved path root's: the resolved path (malloc), or 0 */
static char *root_path(const char *path)
{
  char *r = realpath(path, 0), *slash;
  if (!r) return 0;
  if (!root_owned("/", 0)) { free(r); return 0; }
  for (slash = strchr(r + 1, '/'); ; slash = strchr(slash + 1, '/')) {
    int ok;
    if (slash) *slash = 0;
    ok = !r[1] || root_owned(r, !slash);
    if (slash) *slash = '/';
    if (!ok) { free(r); return 0; }
    if (!slash) return r;
  }
}

/* IMC_HOME, IMC_BIN or IMC_TLS_CAFILE (when set) replaced by its resolved path,
   which must be root's; sub: a directory under it that must be root's too */
static void pin(const char *var, const char *sub)
{
  const char *v = getenv(var);
  char *r;
  stralloc s = {0};
  if (!v || !*v) return;
  if (!(r = root_path(v))) fatal(EX_PERM, "refusing ", var, "=", v, ": not a path of root's that only root may change");
  if (sub && (!stralloc_copys(&s, r) || !stralloc_cats(&s, sub) || !stralloc_0(&s))) fatal(EX_TEMP, "out of memory");
  if (sub && !root_owned(s.s, 1)) fatal(EX_PERM, "refusing ", var, "=", v, ": ", sub + 1, " is not root's alone");
  if (setenv(var, r, 1) < 0) fatalsys(EX_TEMP, "unable to set ", var);
  stralloc_free(&s);
  free(r);
}

void callenv_check(void)
{
  uid_t u = getuid();
  char num[FMT_ULONG];
  size_t i;
  if ((u == geteuid() && getgid() == getegid()) || u == 0) return;
  if (is_sender_user(u)) {
    pin("IMC_HOME", "/control");
    pin("IMC_BIN", 0);
    pin("IMC_TLS_CAFILE", 0);
    return;
  }
  num[fmt_ulong(num, (unsigned long)u)] = 0;
  for (i = 0; steering[i]; i++)
    if (getenv(steering[i]))
      fatal(EX_PERM, "refusing ", steering[i], " from uid ", num,
            ": only root and imc-send's user (" IMC_SEND_USER ") may set it for the setuid imc-remote");
}
