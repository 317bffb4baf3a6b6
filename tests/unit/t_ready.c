/*
 * t_ready.c -- readiness notification (lib/ready.c): which fd a setting
 * names, and that exactly one newline reaches the supervisor's pipe and the
 * fd is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "check.h"
#include "ready.h"

static void parse(void)
{
  CHECK(ready_parse(0) == -1);
  CHECK(ready_parse("") == -1);
  CHECK(ready_parse("3") == 3);
  CHECK(ready_parse("65535") == 65535);
  CHECK(ready_parse("65536") == -2);
  CHECK(ready_parse("99999999999999999999") == -2);
  CHECK(ready_parse("3x") == -2);
  CHECK(ready_parse("-1") == -2);
  CHECK(ready_parse(" 3") == -2);
}

static void signal_once(void)
{
  int p[2];
  char buf[8];
  CHECK(pipe(p) == 0);
  ready_signal(p[1]);
  CHECK(read(p[0], buf, sizeof buf) == 1 && buf[0] == '\n');
  CHECK(read(p[0], buf, sizeof buf) == 0);           /* the writer was closed: EOF */
  CHECK(fcntl(p[1], F_GETFD) < 0 && errno == EBADF);
  close(p[0]);
  ready_signal(-1);                                    /* nothing, no crash */
}

int main(void)
{
  parse();
  signal_once();
  return check_done("t_ready");
}
