/*
 * imc-dequeue -- dial-up dequeueing: asks each provider of control/dequeue,
 * on its schedule or when the administrator asks, to release the mail it
 * holds for our domains (ETRN, RFC 1985).
 *
 *   imc-dequeue            (service/dequeue under s6, as imc-remote's user)
 *
 * Inputs: control/dequeue (lib/dequeue.h), control/me (the EHLO name),
 * control/sitedomains (the domains of a line without etrn=),
 * timeoutconnect and timeoutremote; all read again at every wake-up, so a
 * change needs no restart (a line that stays the same keeps its next time).
 * The FIFO dequeue/trigger: lines `HOST[:PORT]` (that line's provider now)
 * or `*` (every provider now), written by imc-qctl dequeue.  IMC_READY_FD:
 * readiness for s6.
 *
 * A run: connect to HOST (every address of its A and AAAA records, or the
 * literal, until one answers), read the greeting, EHLO (HELO when EHLO is
 * refused), one ETRN per domain, QUIT.  The provider then delivers what it
 * holds over its own connections to our listener; imc-dequeue only asks.
 * Output: one log line on fd 2 per ETRN with the provider's reply, or one
 * for a run that failed (connection refused, greeting refused, timeout).
 * A failed run is not retried before the line's next time.
 *
 * Exit codes: 100 usage; 111 the FIFO cannot be opened.  Otherwise it runs
 * until SIGTERM, which ends it at once: it holds no state worth keeping.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "control.h"
#include "dequeue.h"
#include "diag.h"
#include "exitcodes.h"
#include "owfat.h"
#include "ready.h"
#include "route.h"
#include "rules.h"
#include "sio.h"
#include "smtp_reply.h"
#include "tcpconn.h"

#define WAKE_MAX 60            /* seconds between rereads of control/ at most */
#define REPLY_LINE_MAX 1000

static const char *const settings_used[] = { "me", "sitedomains", "timeoutconnect", "timeoutremote", 0 };

static struct config cfg;
static struct dequeues lines, old;
static long long next_run[DEQUEUE_LINES_MAX];
static struct sio io;
static struct smtp_reply reply;
static stralloc line, sum;

/* ---- one ETRN session */

/* the next reply: its class (2..5), or 0 when the connection broke */
static int get_reply(void)
{
  reply_init(&reply);
  for (;;) {
    int r = sio_getline(&io, &line, REPLY_LINE_MAX, 0), k;
    if (r <= 0) return 0;
    if ((k = reply_line(&reply, line.s, line.len)) < 0) return 0;
    if (k == 1) return reply_class(&reply);
  }
}

static int command(const char *verb, const char *arg)
{
  if (sio_puts(&io, verb) < 0 || sio_puts(&io, arg) < 0 || sio_puts(&io, "\r\n") < 0 || sio_flush(&io) < 0) return 0;
  return get_reply();
}

static const char *summary(void)
{
  return reply_summary(&reply, &sum) == 0 ? sum.s : "(reply too long to show)";
}

/* a connected socket to the provider, or -1 (why logged) */
static int dial(const struct route_host *h, const char *desc)
{
  static stralloc name, ips;
  char ip[16];
  size_t i;
  int fd = -1, e = 0;
  if (h->literal) {
    if (!route_literal_ip(h->name, strlen(h->name), ip)) { warn(desc, ": bad address literal"); return -1; }
    if (!stralloc_copyb(&ips, ip, 16)) { warn(desc, ": out of memory"); return -1; }
  } else if (!stralloc_copys(&name, h->name) || dns_ip6(&ips, &name) < 0) {
    warn(desc, ": DNS temporary failure looking up the host");
    return -1;
  }
  for (i = 0; fd < 0 && i + 16 <= ips.len; i += 16)
    if ((fd = tcp_connect(ips.s + i, h->port, (unsigned)cfg.timeoutconnect)) < 0) e = errno;
  if (fd >= 0) return fd;
  if (!ips.len) warn(desc, ": no address for the host");
  else { errno = e; warnsys(desc, ": unable to connect"); }
  return -1;
}

/* greeting and EHLO (HELO when EHLO is refused): 1 ready for ETRN */
static int hello(const char *desc)
{
  int c = get_reply();
  if (c != 2) { warn(desc, ": greeting ", c ? summary() : "not received"); return 0; }
  c = command("EHLO ", cfg.me.s);
  if (c == 5) c = command("HELO ", cfg.me.s);
  if (c != 2) { warn(desc, ": EHLO and HELO ", c ? summary() : "not answered"); return 0; }
  return 1;
}

static void etrn(const char *desc, const char *domain)
{
  int c = command("ETRN ", domain);
  if (!c) warn(desc, ": ETRN ", domain, ": no reply");
  else if (c == 2) info(desc, ": ETRN ", domain, ": ", summary());
  else warn(desc, ": ETRN ", domain, ": ", summary());
}

static void run_line(const struct dequeue_line *l)
{
  char desc[ROUTE_NAME_MAX + 3 + FMT_ULONG];
  size_t n = strlen(l->host.name), pos = 0, k;
  const char *d;
  int fd;
  memcpy(desc, l->host.name, n);
  desc[n] = ':';
  desc[n + 1 + fmt_ulong(desc + n + 1, l->host.port)] = 0;
  if ((fd = dial(&l->host, desc)) < 0) return;
  sio_init(&io, fd, fd, (unsigned)cfg.timeoutremote);
  if (hello(desc)) {
    for (k = 0; k < l->ndomains; k++) etrn(desc, l->domain[k]);
    while (!l->ndomains && (d = config_list_next(&cfg.sitedomains, &pos)) != 0) etrn(desc, d);
    command("QUIT", "");
  }
  sio_free(&io);
  close(fd);
}

/* ---- the schedule */

/* control/ read again; each line that stays the same keeps its next time */
static void reload(long long now)
{
  long long kept[DEQUEUE_LINES_MAX];
  size_t i, j;
  int rc;
  config_free(&cfg);
  if (config_load_only(&cfg, settings_used, config_warn) < 0) warnsys("unable to read the control files");
  if (!cfg.me.len || cfg.me.s[cfg.me.len - 1]) stralloc_0(&cfg.me);
  old = lines;
  memset(&lines, 0, sizeof lines);
  if ((rc = dequeue_load(&lines, config_warn)) < 0) {
    warnsys("unable to read control/dequeue: keeping the lines read before");
    lines = old;
    return;
  }
  for (i = 0; i < lines.n; i++) {
    kept[i] = dequeue_next(&lines.l[i], now, 1);
    for (j = 0; j < old.n; j++)
      if (!strcmp(lines.l[i].key, old.l[j].key)) kept[i] = next_run[j];
  }
  memcpy(next_run, kept, sizeof kept);
  dequeue_free(&old);
}

/* a request line from the FIFO: the matching lines made due now */
static void request(char *req, long long now)
{
  struct route_host h;
  size_t i;
  int hit = 0;
  if (!strcmp(req, "*")) {
    for (i = 0; i < lines.n; i++) next_run[i] = now;
    return;
  }
  if (route_host_parse(req, &h) != 0) { warn("ignoring a malformed request: ", req); return; }
  for (i = 0; i < lines.n; i++)
    if (lines.l[i].host.port == h.port && !strcmp(lines.l[i].host.name, h.name)) { next_run[i] = now; hit = 1; }
  if (!hit) warn("no control/dequeue line for ", req);
}

/* the FIFO's lines, each a request */
static void read_requests(int fd, long long now)
{
  static stralloc buf;
  char chunk[512];
  ssize_t r;
  size_t start = 0, i;
  while ((r = read(fd, chunk, sizeof chunk)) > 0)
    if (buf.len < 65536 && !stralloc_catb(&buf, chunk, (size_t)r)) break;
  for (i = 0; i < buf.len; i++)
    if (buf.s[i] == '\n') {
      buf.s[i] = 0;
      if (i > start) request(buf.s + start, now);
      start = i + 1;
    }
  if (start) {
    memmove(buf.s, buf.s + start, buf.len - start);
    buf.len -= start;
  }
  if (buf.len >= 65536) buf.len = 0;          /* a line that never ends: dropped */
}

static int wait_ms(long long now)
{
  long long soonest = now + WAKE_MAX;
  size_t i;
  for (i = 0; i < lines.n; i++)
    if (next_run[i] >= 0 && next_run[i] < soonest) soonest = next_run[i];
  return soonest <= now ? 0 : (int)((soonest - now) * 1000);
}

static void run_due(void)
{
  size_t i;
  for (i = 0; i < lines.n; i++) {
    long long now = (long long)time(0);
    if (next_run[i] < 0 || next_run[i] > now) continue;
    run_line(&lines.l[i]);
    next_run[i] = dequeue_next(&lines.l[i], (long long)time(0), 0);
  }
}

static int open_fifo(void)
{
  stralloc path = {0};
  int fd;
  if (imc_path2(&path, "dequeue", "trigger") < 0) fatal(EX_TEMP, "out of memory");
  fd = open(path.s, O_RDWR | O_NONBLOCK | O_CLOEXEC);      /* RDWR: never EOF when writers go */
  if (fd < 0) fatalsys(EX_TEMP, "unable to open ", path.s);
  stralloc_free(&path);
  return fd;
}

static void random_init(void)
{
  char seed[128];
  if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) memset(seed, 0, sizeof seed);
  dns_random_init(seed);
}

int main(int argc, char **argv)
{
  struct pollfd p;
  int fd;
  (void)argv;
  diag_prog = "imc-dequeue";
  if (argc > 1) usage("");
  signal(SIGPIPE, SIG_IGN);
  random_init();
  fd = open_fifo();
  reload((long long)time(0));
  ready_signal(ready_parse(getenv("IMC_READY_FD")));
  for (;;) {
    p.fd = fd;
    p.events = POLLIN;
    if (poll(&p, 1, wait_ms((long long)time(0))) < 0 && errno != EINTR) fatalsys(EX_TEMP, "unable to poll");
    reload((long long)time(0));
    if (p.revents & POLLIN) read_requests(fd, (long long)time(0));
    run_due();
  }
}
