/*
 * fixture.h -- a temporary instance for the unit tests that read control
 * files.  fixture_open(NAME) makes /tmp/NAME.XXXXXX with a control/ folder
 * and names it in IMC_HOME; put() and drop() write and remove control files
 * there; collect() is a config_load error callback that appends
 * "FILE:LINE: message" lines to errs; fixture_close() removes the instance.
 * A test that cannot make its instance exits 1 with the reason.
 *
 * fixture_unprivileged(fn) runs fn where file modes count: directly for an
 * ordinary user; as root (who reads any file) in a child that has become
 * nobody, with the instance opened up to it, so that only the modes fn sets
 * on files can stop a read.  The child's failures print their FAIL lines
 * and make the parent's CHECK fail.
 */
#ifndef IMC_FIXTURE_H
#define IMC_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char home[64];
static char errs[8192];

static inline void fixture_open(const char *name)
{
  char dir[128];
  snprintf(home, sizeof home, "/tmp/%s.XXXXXX", name);
  if (!mkdtemp(home)) { perror("mkdtemp"); exit(1); }
  snprintf(dir, sizeof dir, "%s/control", home);
  if (mkdir(dir, 0755) < 0) { perror(dir); exit(1); }
  setenv("IMC_HOME", home, 1);
}

static inline void fixture_close(void)
{
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
  if (system(cmd) != 0) printf("note: %s left behind\n", home);
}

static inline void fixture_unprivileged(void (*fn)(void))
{
  char dir[128];
  struct passwd *pw;
  pid_t pid;
  int status = -1;
  if (geteuid() != 0) { fn(); return; }
  pw = getpwnam("nobody");
  snprintf(dir, sizeof dir, "%s/control", home);
  CHECK(pw && chmod(home, 0755) == 0 && chmod(dir, 0777) == 0);
  if (!pw) return;
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    if (setgroups(0, 0) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) _exit(2);
    fn();
    fflush(stdout);
    _exit(check_failures ? 1 : 0);
  }
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static inline void put(const char *name, const char *text)
{
  char path[256];
  FILE *f;
  snprintf(path, sizeof path, "%s/control/%s", home, name);
  f = fopen(path, "w");
  if (!f) { perror(path); exit(1); }
  fputs(text, f);
  fclose(f);
}

static inline void drop(const char *name)
{
  char path[256];
  snprintf(path, sizeof path, "%s/control/%s", home, name);
  unlink(path);
}

static inline void collect(const char *file, unsigned line, const char *msg)
{
  size_t n = strlen(errs);
  snprintf(errs + n, sizeof errs - n, "%s:%u: %s\n", file, line, msg);
}

#endif
