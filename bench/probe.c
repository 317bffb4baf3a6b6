/*
 * probe -- the measuring helpers of bench/inject.sh.
 *
 *     probe disk DIR NPROC SECONDS [KEEP]
 *         The machine's limit for durable small-file commits, done the way
 *         imc-queue commits a message: NPROC processes, each in its own
 *         subdirectory DIR/pN (with tmp/ and new/), loop for SECONDS:
 *         create tmp/I (O_EXCL), write 4096 bytes, fsync, close, rename to
 *         new/I, fsync new/; and unlink new/(I-KEEP) (default 256), as a
 *         queue deletes delivered mail.  Prints one line:
 *           procs=N secs=S ops=X ops_per_s=R cpu_ms_per_op=C
 *         (CPU: user+system of the workers, divided by ops.)
 *     probe count DIR...
 *         The number of entries not starting with '.' in the DIRs.
 *     probe times DIR...
 *         The ctime of every such entry, one "SECONDS.NANOSECONDS" a line
 *         (a rename sets it: for a queue or Maildir file, when it arrived).
 *     probe treecpu PID
 *         "USER SYS" seconds used by PID and all its descendants, including
 *         the children they have reaped (utime+cutime, stime+cstime from
 *         /proc/P/stat).  Exit 1 when PID does not exist.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FILESIZE 4096

static void die(const char *what)
{
  fprintf(stderr, "probe: %s: %s\n", what, strerror(errno));
  exit(111);
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- disk */

/* mkdir PARENT/NAME and open it as a directory */
static int mkdir_open(int parent, const char *name)
{
  int fd;
  if (mkdirat(parent, name, 0700) < 0 && errno != EEXIST) die("mkdir");
  fd = openat(parent, name, O_RDONLY | O_DIRECTORY);
  if (fd < 0) die("open directory");
  return fd;
}

/* one commit: tmp/NAME written and fsynced, renamed into new/, new/ fsynced */
static void commit_one(int tmpfd, int newfd, const char *name, const char *buf)
{
  int fd = openat(tmpfd, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) die("create");
  if (write(fd, buf, FILESIZE) != FILESIZE) die("write");
  if (fsync(fd) < 0) die("fsync");
  if (close(fd) < 0) die("close");
  if (renameat(tmpfd, name, newfd, name) < 0) die("rename");
  if (fsync(newfd) < 0) die("fsync directory");
}

static void unlink_num(int dirfd, unsigned long i)
{
  char name[32];
  snprintf(name, sizeof name, "%lu", i);
  if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) die("unlink");
}

/* a worker: wait for the start (EOF on go), commit until the deadline,
   report the count on res, then remove what it left */
static void worker(int dirfd, int n, double secs, unsigned long keep, int go, int res)
{
  char sub[32], name[32], buf[FILESIZE], c;
  unsigned long i, j;
  int top, tmpfd, newfd;
  double end;

  memset(buf, 'x', sizeof buf);
  snprintf(sub, sizeof sub, "p%d", n);
  top = mkdir_open(dirfd, sub);
  tmpfd = mkdir_open(top, "tmp");
  newfd = mkdir_open(top, "new");
  if (read(go, &c, 1) < 0) die("read start pipe");
  end = now() + secs;
  for (i = 0; now() < end; i++) {
    snprintf(name, sizeof name, "%lu", i);
    commit_one(tmpfd, newfd, name, buf);
    if (i >= keep) unlink_num(newfd, i - keep);
  }
  if (write(res, &i, sizeof i) != sizeof i) die("write result pipe");
  for (j = i > keep ? i - keep : 0; j < i; j++) unlink_num(newfd, j);
  unlinkat(top, "tmp", AT_REMOVEDIR);
  unlinkat(top, "new", AT_REMOVEDIR);
  unlinkat(dirfd, sub, AT_REMOVEDIR);
  _exit(0);
}

static int cmd_disk(int argc, char **argv)
{
  int nproc, go[2], res[2], dirfd, k;
  unsigned long keep = 256, ops = 0, one;
  double secs, t0, t1, cpu;
  struct rusage ru;

  if (argc < 5) return 100;
  nproc = atoi(argv[3]);
  secs = atof(argv[4]);
  if (argc > 5) keep = strtoul(argv[5], 0, 10);
  if (nproc < 1 || secs <= 0) return 100;
  dirfd = open(argv[2], O_RDONLY | O_DIRECTORY);
  if (dirfd < 0) die("open DIR");
  if (pipe(go) < 0 || pipe(res) < 0) die("pipe");
  for (k = 0; k < nproc; k++) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) { close(go[1]); close(res[0]); worker(dirfd, k, secs, keep, go[0], res[1]); }
  }
  close(go[0]);
  close(res[1]);
  sleep(1);                          /* let every worker make its directories */
  t0 = now();
  close(go[1]);                      /* start */
  for (k = 0; k < nproc; k++) {
    if (read(res[0], &one, sizeof one) != sizeof one) die("read result pipe");
    ops += one;
  }
  t1 = now();
  while (wait(0) > 0) ;
  getrusage(RUSAGE_CHILDREN, &ru);
  cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  printf("procs=%d secs=%.2f ops=%lu ops_per_s=%.0f cpu_ms_per_op=%.3f\n",
         nproc, t1 - t0, ops, ops / (t1 - t0), ops ? 1000 * cpu / ops : 0.0);
  return 0;
}

/* ---- count and times */

/* call fn(dirfd, name) for every entry of DIR not starting with '.' */
static void each_entry(const char *dir, void (*fn)(int, const char *))
{
  struct dirent *d;
  DIR *dp = opendir(dir);
  if (!dp) die(dir);
  while ((d = readdir(dp)))
    if (d->d_name[0] != '.') fn(dirfd(dp), d->d_name);
  closedir(dp);
}

static unsigned long counted;
static void count_one(int dfd, const char *name) { (void)dfd; (void)name; counted++; }

static void print_ctime(int dfd, const char *name)
{
  struct stat st;
  if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return;   /* gone meanwhile */
  printf("%lld.%09ld\n", (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

static int cmd_count(int argc, char **argv)
{
  int i;
  for (i = 2; i < argc; i++) each_entry(argv[i], count_one);
  printf("%lu\n", counted);
  return 0;
}

static int cmd_times(int argc, char **argv)
{
  int i;
  for (i = 2; i < argc; i++) each_entry(argv[i], print_ctime);
  return 0;
}

/* ---- treecpu */

struct proc { long pid, ppid; unsigned long long ticks[4]; int in; };
static struct proc *procs;
static size_t nprocs, aprocs;

/* read /proc/NAME/stat into procs[]; 0 when it vanished */
static int read_stat(const char *name)
{
  char path[64], buf[1024], *p;
  struct proc pr = { 0 };
  FILE *f;
  size_t len;

  snprintf(path, sizeof path, "/proc/%s/stat", name);
  if (!(f = fopen(path, "r"))) return 0;
  len = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[len] = 0;
  pr.pid = atol(buf);
  if (!(p = strrchr(buf, ')'))) return 0;
  /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime */
  if (sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
             &pr.ppid, &pr.ticks[0], &pr.ticks[1], &pr.ticks[2], &pr.ticks[3]) != 5) return 0;
  if (nprocs == aprocs) {
    aprocs = aprocs ? 2 * aprocs : 256;
    if (!(procs = realloc(procs, aprocs * sizeof *procs))) die("realloc");
  }
  procs[nprocs++] = pr;
  return 1;
}

/* mark ROOT and its descendants; returns 0 when ROOT is not there */
static int mark_tree(long root)
{
  size_t i;
  int changed = 1, found = 0;
  for (i = 0; i < nprocs; i++)
    if (procs[i].pid == root) procs[i].in = found = 1;
  while (changed) {
    changed = 0;
    for (i = 0; i < nprocs; i++) {
      size_t j;
      if (procs[i].in) continue;
      for (j = 0; j < nprocs; j++)
        if (procs[j].in && procs[j].pid == procs[i].ppid) { procs[i].in = changed = 1; break; }
    }
  }
  return found;
}

static int cmd_treecpu(int argc, char **argv)
{
  struct dirent *d;
  DIR *dp;
  size_t i;
  double hz = sysconf(_SC_CLK_TCK), user = 0, sys = 0;

  if (argc != 3) return 100;
  if (!(dp = opendir("/proc"))) die("/proc");
  while ((d = readdir(dp)))
    if (d->d_name[0] >= '1' && d->d_name[0] <= '9') read_stat(d->d_name);
  closedir(dp);
  if (!mark_tree(atol(argv[2]))) return 1;
  for (i = 0; i < nprocs; i++)
    if (procs[i].in) {
      user += procs[i].ticks[0] + procs[i].ticks[2];
      sys += procs[i].ticks[1] + procs[i].ticks[3];
    }
  printf("%.2f %.2f\n", user / hz, sys / hz);
  return 0;
}

int main(int argc, char **argv)
{
  int rc = 100;
  if (argc >= 2 && !strcmp(argv[1], "disk")) rc = cmd_disk(argc, argv);
  else if (argc >= 2 && !strcmp(argv[1], "count")) rc = cmd_count(argc, argv);
  else if (argc >= 2 && !strcmp(argv[1], "times")) rc = cmd_times(argc, argv);
  else if (argc >= 2 && !strcmp(argv[1], "treecpu")) rc = cmd_treecpu(argc, argv);
  if (rc == 100)
    fprintf(stderr, "usage: probe disk DIR NPROC SECONDS [KEEP] | count DIR... | times DIR... | treecpu PID\n");
  return rc;
}
