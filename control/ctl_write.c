/*
 * ctl_write.c -- replacing a control file, keeping who may read it (see
 * ctl_write.h).
 */
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "control.h"
#include "ctl_write.h"
#include "fileio.h"

struct perms {
  uid_t uid;
  gid_t gid;
  mode_t mode;
};

/* the control files that hold secrets, and the group of the program that reads them */
static const char *secret_group(const char *name)
{
  if (!strcmp(name, "auth") || !strcmp(name, "tls/key.pem")) return "imcd";
  return 0;
}

/* a system-mode instance: imc-setup --system writes env/IMC_USER, --user removes it */
int ctl_system_mode(void)
{
  stralloc p = {0};
  struct stat st;
  int r = imc_path2(&p, "env", "IMC_USER") == 0 && stat(p.s, &st) == 0;
  stralloc_free(&p);
  return r;
}

/* the owner, group and mode a new control/NAME gets */
static void new_perms(const char *name, struct perms *p)
{
  const char *g = secret_group(name);
  struct group *gr;
  p->uid = geteuid();
  p->gid = getegid();
  p->mode = 0644;
  if (!g) return;
  p->mode = 0600;
  if (geteuid() != 0 || !ctl_system_mode() || !(gr = getgrnam(g))) return;
  p->gid = gr->gr_gid;
  p->mode = 0640;
}

int ctl_write(const char *name, const char *text, size_t len)
{
  stralloc path = {0};
  struct perms p;
  struct stat st;
  int r = -1, e;
  if (imc_path2(&path, "control", name) < 0) goto done;
  if (stat(path.s, &st) == 0) { p.uid = st.st_uid; p.gid = st.st_gid; p.mode = st.st_mode & 07777; }
  else if (errno == ENOENT) new_perms(name, &p);
  else goto done;
  r = file_replace_owned(path.s, text, len, (int)p.mode, p.uid, p.gid);
done:
  e = errno;
  stralloc_free(&path);
  errno = e;
  return r;
}

int ctl_remove(const char *name)
{
  stralloc path = {0};
  int r = -1, e;
  if (imc_path2(&path, "control", name) < 0) goto done;
  if (unlink(path.s) == 0) r = dir_sync_parent(path.s) < 0 ? -1 : 0;
  else if (errno == ENOENT) r = 1;
done:
  e = errno;
  stralloc_free(&path);
  errno = e;
  return r;
}
