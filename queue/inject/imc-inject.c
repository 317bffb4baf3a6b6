/*
 * imc-inject -- sendmail-compatible local submission (also bin/sendmail).
 *
 *     imc-inject [-t] [-i] [-f SENDER] [-F NAME] [-N DSN] [-R RET] [-V ENVID] [-oi] [-bm] [-o...]
 *                [--] [RECIPIENT ...]
 *
 * Input: the message on stdin, LF or CRLF line ends; without -i (or -oi)
 * a line holding only "." ends it.  -t adds the recipients of the To:,
 * Cc: and Bcc: fields to those on the command line.  Each argument may be
 * an address list ("A <a@x>, b@y"); an address without '@' gets
 * "@control/me".  The sender is -f (or -r), else the caller's login name
 * at control/me.  Delivery status notifications (RFC 3461), as sendmail
 * takes them: -N never, or a comma-separated list of success, failure and
 * delay, for every recipient (an N record after each T); -R full or hdrs
 * and -V ENVID (printable ASCII, stored as xtext) for the message (a D
 * record after F).
 *
 * Output: the message with Bcc: fields removed and Date:, Message-ID: and
 * From: (with -F as display name) added when missing, queued through
 * imc-queue with an envelope of F, T and I records (via=inject, uid=N).
 *
 * Exit codes (sysexits, lib/exitcodes.h IX_*): 0 queued; 64 usage or no
 * recipients; 65 the message was refused (too big, malformed header
 * addresses); 67 an unusable recipient; 75 a temporary failure.  -v
 * prints "queued as ID" on fd 2.
 *
 * The other modes each run another imc program in its place (exec, from
 * the directory of lib/binpath.h), so that they follow its rules exactly:
 *   -bs          an SMTP session on stdin and stdout: imc-smtpd -l, a
 *                local submitter under imc-smtpd's policy, its mail marked
 *                with the caller's uid by imc-queue (imc-smtpd(8))
 *   -bp, mailq   the queue, one line a message: imc-qread
 *   -q           retry every deferred message now: imc-qctl retry all
 *   -bi, newaliases   compile control/directory: imc-ctl compile
 * The name it is run by chooses the mode too: mailq is -bp, newaliases -bi
 * (and sendmail or imc-inject, the rest of the arguments).  /etc/aliases is
 * not read: the site's aliases are control/directory (imc-control(5)).
 * These modes exit with the code of the program run, or 75 when it
 * cannot be started.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "addrlist.h"
#include "config.h"
#include "diag.h"
#include "dsn.h"
#include "exitcodes.h"
#include "binpath.h"
#include "qclient.h"
#include "message.h"
#include "queue.h"

#define USAGE "usage: imc-inject [-t] [-i] [-v] [-f sender] [-F name] [-N dsn] [-R ret] [-V envid] [--] [recipient ...] | -bs | -bp | -bi | -q"

struct opts {
  int t;                 /* recipients from the header too */
  int dotend;            /* a "." line ends the input (no -i) */
  int verbose;           /* -v: say "queued as ID" */
  char mode;             /* -b: m (queue a message), s, p, i; 'q' for -q */
  const char *sender;    /* -f, or 0 */
  const char *fullname;  /* -F, or 0 */
  const char *notify;    /* -N, or 0 */
  const char *ret;       /* -R, or 0 */
  const char *envid;     /* -V, or 0 */
  char **rcpts;          /* the arguments left */
};

static struct msgin in;
static struct msghead head;
static stralloc me, env, added;
static stralloc dsn_rcpt;   /* the N record every recipient gets, "" when none */

#define nomem() fatal(IX_TEMPFAIL, "out of memory")

/* ---- options */

/* -b MODE: m (queue the message on stdin, the default), s, p or i */
static void opt_b(struct opts *o, const char *mode)
{
  if (mode[0] && !mode[1] && strchr("mspi", mode[0])) { o->mode = mode[0]; return; }
  fatal(IX_USAGE, "-b", mode, " is not supported (" USAGE ")");
}

/* -q: run the queue now; -qINTERVAL (a queue daemon) is imc-send's job */
static void opt_q(struct opts *o, const char *rest)
{
  if (*rest) fatal(IX_USAGE, "-q", rest, " is not supported: imc-send runs the queue (-q alone retries it now)");
  o->mode = 'q';
}

/* the option's argument: the rest of this word, or the next word */
static const char *opt_arg(char **argv, int *i, const char *rest, char flag)
{
  char f[2];
  if (*rest) return rest;
  if (argv[*i + 1]) return argv[++*i];
  f[0] = flag;
  f[1] = 0;
  fatal(IX_USAGE, "option -", f, " needs an argument (" USAGE ")");
}

/* one word of flags, e.g. "-ti", "-fjoe@example.com", "-oi", "-oem" */
static void parse_cluster(struct opts *o, char **argv, int *i)
{
  const char *p;
  for (p = argv[*i] + 1; *p; p++) {
    char f[2] = { *p, 0 };
    switch (*p) {
      case 't': o->t = 1; break;
      case 'i': o->dotend = 0; break;
      case 'v': o->verbose = 1; break;
      case 'm': case 'n': case 'G': case 'U': break;
      case 'f': case 'r': o->sender = opt_arg(argv, i, p + 1, *p); return;
      case 'F': o->fullname = opt_arg(argv, i, p + 1, *p); return;
      case 'o': if (!strcmp(opt_arg(argv, i, p + 1, *p), "i")) o->dotend = 0; return;
      case 'b': opt_b(o, opt_arg(argv, i, p + 1, *p)); return;
      case 'q': opt_q(o, p + 1); return;
      case 'N': o->notify = opt_arg(argv, i, p + 1, *p); return;
      case 'R': o->ret = opt_arg(argv, i, p + 1, *p); return;
      case 'V': o->envid = opt_arg(argv, i, p + 1, *p); return;
      case 'B': case 'h': case 'L': case 'O': case 'X': case 'C': case 'p':
        opt_arg(argv, i, p + 1, *p);
        return;
      default: fatal(IX_USAGE, "unknown option -", f, " (" USAGE ")");
    }
  }
}

/* the mode the name it was run by chooses: mailq -bp, newaliases -bi */
static char mode_of_name(const char *argv0)
{
  const char *base = argv0 ? strrchr(argv0, '/') : 0;
  base = base ? base + 1 : argv0 ? argv0 : "";
  if (!strcmp(base, "mailq")) return 'p';
  if (!strcmp(base, "newaliases")) return 'i';
  return 'm';
}

static void parse_args(struct opts *o, int argc, char **argv)
{
  int i;
  memset(o, 0, sizeof *o);
  o->dotend = 1;
  o->mode = mode_of_name(argv[0]);
  for (i = 1; i < argc; i++) {
    if (argv[i][0] != '-' || !argv[i][1]) break;
    if (!strcmp(argv[i], "--")) { i++; break; }
    parse_cluster(o, argv, &i);
  }
  o->rcpts = argv + i;
}

/* ---- the modes other programs serve */

/* exec PROG from imc's directory with the arguments args (args[0] is PROG) */
static void run_instead(const char *prog, char *const *args)
{
  stralloc path = {0};
  if (bin_path(&path, prog) < 0) fatalsys(IX_TEMPFAIL, "unable to find ", prog);
  execv(path.s, args);
  fatalsys(IX_TEMPFAIL, "unable to run ", path.s);
}

static void run_mode(char mode)
{
  static char *smtpd[] = { "imc-smtpd", "-l", 0 };
  static char *qread[] = { "imc-qread", 0 };
  static char *qctl[] = { "imc-qctl", "retry", "all", 0 };
  static char *ctl[] = { "imc-ctl", "compile", 0 };
  if (mode == 's') run_instead(smtpd[0], smtpd);
  if (mode == 'p') run_instead(qread[0], qread);
  if (mode == 'q') run_instead(qctl[0], qctl);
  if (mode == 'i') run_instead(ctl[0], ctl);
}

/* ---- addresses */

static void load_me(void)
{
  if (config_me(&me) < 0) fatalsys(IX_TEMPFAIL, "unable to read control/me");
}

/* the caller's address: login name @ me */
static void user_address(stralloc *out)
{
  struct passwd *pw = getpwuid(getuid());
  const char *name = pw ? pw->pw_name : getenv("USER");
  if (!name || !*name) name = getenv("LOGNAME");
  if (!name || !*name) fatal(IX_TEMPFAIL, "unable to find the name of the calling user");
  if (inject_address(out, name, strlen(name), me.s) < 0) {
    if (errno == ENOMEM) nomem();
    fatal(IX_USAGE, "the calling user's address is not valid: ", name, "@", me.s);
  }
}

/* -f: "<>" or "" is the null sender; angle brackets are dropped */
static void sender_address(const char *f, stralloc *out)
{
  size_t len = strlen(f);
  if (len >= 2 && f[0] == '<' && f[len - 1] == '>') { f++; len -= 2; }
  if (len == 0) { if (!stralloc_copys(out, "") || !stralloc_0(out)) nomem(); out->len = 0; return; }
  if (inject_address(out, f, len, me.s) < 0) {
    if (errno == ENOMEM) nomem();
    fatal(IX_USAGE, "invalid sender address: ", f);
  }
}

/* n NUL-terminated addresses from list into the envelope */
static void add_rcpts(const stralloc *list, int n, const char *where)
{
  size_t pos = 0;
  for (; n > 0; n--) {
    const char *a = list->s + pos;
    size_t len = strlen(a);
    size_t before = env.len;
    pos += len + 1;
    if (inject_rcpt(&env, a, len, me.s) == 0) {
      if (env.len > before && dsn_rcpt.len && env_add(&env, 'N', dsn_rcpt.s, dsn_rcpt.len) < 0) nomem();
      continue;
    }
    if (errno == ENOMEM) nomem();
    fatal(IX_NOUSER, "invalid recipient address in ", where, ": ", *a ? a : "<>");
  }
}

static void arg_rcpts(char **rcpts)
{
  stralloc list = {0};
  for (; *rcpts; rcpts++) {
    int n;
    list.len = 0;
    n = addrlist_parse(*rcpts, strlen(*rcpts), &list);
    if (n < 0 && errno == ENOMEM) nomem();
    if (n < 0) fatal(IX_NOUSER, "invalid recipient address: ", *rcpts);
    add_rcpts(&list, n, "the arguments");
  }
  stralloc_free(&list);
}

static void header_rcpts(void)
{
  static const char *const fields[] = { "To", "Cc", "Bcc", 0 };
  stralloc list = {0};
  int i, n;
  for (i = 0; fields[i]; i++) {
    list.len = 0;
    n = msghead_addresses(&head.text, fields[i], &list);
    if (n < 0 && errno == ENOMEM) nomem();
    if (n < 0) fatal(IX_DATAERR, "unable to parse the addresses in the ", fields[i], ": field");
    add_rcpts(&list, n, fields[i]);
  }
  stralloc_free(&list);
}

/* ---- delivery status notifications: -N, -R, -V */

static void dsn_check(const char *e, const char *opt, const char *val)
{
  if (e) fatal(IX_USAGE, "invalid ", opt, " ", val, ": ", e + 10);   /* past "501 5.5.4 " */
}

/* the D record after F; the N record that add_rcpts puts after each T */
static void dsn_options(const struct opts *o)
{
  struct dsn_params m, r;
  stralloc x = {0}, d = {0};
  size_t i;
  byte_zero(&m, sizeof m);
  byte_zero(&r, sizeof r);
  if (o->notify) dsn_check(dsn_param("NOTIFY", 6, o->notify, strlen(o->notify), 1, 0, &r), "-N", o->notify);
  if (o->ret) dsn_check(dsn_param("RET", 3, o->ret, strlen(o->ret), 1, 1, &m), "-R", o->ret);
  if (o->envid) {
    for (i = 0; o->envid[i]; i++)
      if ((unsigned char)o->envid[i] < 32 || (unsigned char)o->envid[i] > 126) fatal(IX_USAGE, "invalid -V: not printable ASCII");
    if (dsn_encode(&x, o->envid, strlen(o->envid)) < 0) nomem();
    dsn_check(dsn_param("ENVID", 5, x.s, x.len, 1, 1, &m), "-V", o->envid);
  }
  if (dsn_pack(&d, &m, 1) < 0 || dsn_pack(&dsn_rcpt, &r, 0) < 0) nomem();
  if (d.len && env_add(&env, 'D', d.s, d.len) < 0) nomem();
  stralloc_free(&x);
  stralloc_free(&d);
}

/* ---- the message */

static void read_head(int dotend)
{
  int r;
  msgin_init(&in, 0, dotend);
  r = msghead_read(&in, &head);
  if (r == -2) fatal(IX_DATAERR, "the header section is larger than 4 MB");
  if (r < 0 && errno == ENOMEM) nomem();
  if (r < 0) fatalsys(IX_TEMPFAIL, "unable to read the message");
}

static void add_headers(const struct opts *o, const char *from)
{
  if (!msghead_has(&head.text, "Date") && msg_add_date(&added, time(0)) < 0) nomem();
  if (!msghead_has(&head.text, "Message-ID") && msg_add_msgid(&added, me.s) < 0) nomem();
  if (!msghead_has(&head.text, "From") && msg_add_from(&added, o->fullname, from) < 0) nomem();
}

static void finish_envelope(void)
{
  char num[FMT_ULONG];
  stralloc uid = {0};
  size_t n;
  if (!stralloc_copys(&uid, "uid=") || !stralloc_catb(&uid, num, fmt_ulong(num, (unsigned long)getuid())))
    nomem();
  if (env_add(&env, 'I', "via=inject", 10) < 0 || env_add(&env, 'I', uid.s, uid.len) < 0 || env_finish(&env) < 0)
    nomem();
  stralloc_free(&uid);
  if (env_check(env.s, env.len, &n) == -2) fatal(IX_USAGE, "no recipients");
}

static int exit_code(int r)
{
  char num[FMT_ULONG];
  num[fmt_ulong(num, (unsigned long)r)] = 0;
  if (r == QX_OK) return 0;
  if (r == QX_PERM_TOOBIG) fatal(IX_DATAERR, "message refused: larger than control/databytes");
  if (r == QX_PERM_NORCPT || r == QX_PERM_ENVELOPE)
    fatal(IX_NOUSER, "message refused: unusable sender or recipient (imc-queue exit ", num, ")");
  if (QX_IS_PERM(r)) fatal(IX_DATAERR, "message refused (imc-queue exit ", num, ")");
  fatal(IX_TEMPFAIL, "temporary failure, message not queued (imc-queue exit ", num, ")");
}

int main(int argc, char **argv)
{
  struct opts o;
  stralloc sender = {0}, user = {0};
  char id[QID_LEN + 1];
  int r;

  diag_prog = "imc-inject";
  parse_args(&o, argc, argv);
  if (o.mode != 'm') run_mode(o.mode);
  if (!o.t && !*o.rcpts) fatal(IX_USAGE, "no recipients");
  load_me();
  if (o.sender) sender_address(o.sender, &sender);
  else {
    user_address(&user);               /* the password database only when needed */
    if (!stralloc_copy(&sender, &user) || !stralloc_0(&sender)) nomem();
    sender.len--;                      /* sender.s is a string for add_headers */
  }
  if (env_add(&env, 'F', sender.s, sender.len) < 0) nomem();
  dsn_options(&o);
  arg_rcpts(o.rcpts);
  read_head(o.dotend);
  if (o.t) header_rcpts();
  finish_envelope();
  msghead_drop(&head.text, "Bcc");
  if (!sender.len && !user.len) user_address(&user);
  add_headers(&o, sender.len ? sender.s : user.s);
  r = inject_message(&in, &head, &added, &env, id);
  if (r == QX_OK && o.verbose) info("queued as ", id);
  return exit_code(r);
}
