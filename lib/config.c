/*
 * config.c -- the table of control files and their parsers (see config.h).
 *
 * Each entry names a file, gives its default text, and parses one line at a
 * time.  A missing file is parsed from the default text, so defaults and
 * files go through the same code and imc-ctl show prints both alike.
 */
#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>
#include <strings.h>
#include <unistd.h>
#include "addr.h"
#include "config.h"
#include "diag.h"
#include "control.h"

typedef const char *(*line_fn)(struct config *, char *);
typedef void (*default_fn)(const struct config *, stralloc *);

struct setting {
  const char *file;
  const char *deftext;          /* or 0 when deffn computes it */
  default_fn deffn;
  line_fn line;
  void (*begin)(struct config *);
};

static const char *cat_names[LOG_NCAT] = { "init", "addressing", "transfer", "smtp",
                                           "internal", "protocol", "archival" };
static const char *level_names[] = { "none", "minimum", "medium", "maximum" };
static const char *prio_names[PRIO_N] = { "urgent", "normal", "nonurgent" };

const char *log_category_name(int cat) { return cat >= 0 && cat < LOG_NCAT ? cat_names[cat] : "?"; }
const char *log_level_name(int l) { return l >= 0 && l <= LEVEL_MAXIMUM ? level_names[l] : "?"; }

static int name_index(const char *s, const char *const *names, int n)
{
  int i;
  for (i = 0; i < n; i++) if (!strcasecmp(s, names[i])) return i;
  return -1;
}

/* ---- defaults computed at load time */

static void def_me(const struct config *c, stralloc *out)
{
  char host[256];
  (void)c;
  if (gethostname(host, sizeof host - 1) < 0) host[0] = 0;
  host[sizeof host - 1] = 0;
  if (!stralloc_copys(out, host[0] ? host : "localhost")) out->len = 0;
}

static void def_sitedomains(const struct config *c, stralloc *out)
{
  if (!stralloc_copyb(out, c->me.s, c->me.len)) out->len = 0;
}

/* ---- line parsers: return 0 when the line is good, else the error */

static const char *one_word(char *line, char **w)
{
  char *p = line;
  *w = ctl_word(&p);
  if (!*w) return "empty value";
  if (ctl_word(&p)) return "extra words after the value";
  return 0;
}

static const char *set_string(stralloc *sa, char *line)
{
  char *w;
  const char *e = one_word(line, &w);
  if (e) return e;
  if (sa->len) return "only one line allowed";
  if (!stralloc_copys(sa, w)) return "out of memory";
  return 0;
}

static const char *set_ulong(unsigned long *v, char *line, int (*scan)(const char *, unsigned long *))
{
  char *w;
  const char *e = one_word(line, &w);
  if (e) return e;
  if (!scan(w, v)) return "not a number";
  return 0;
}

static const char *p_me(struct config *c, char *line)
{
  const char *e = set_string(&c->me, line);
  if (e) return e;
  if (!domain_valid(c->me.s, c->me.len)) return "not a valid host name";
  return 0;
}

static const char *p_sitedomains(struct config *c, char *line)
{
  char *w;
  const char *e = one_word(line, &w);
  size_t n;
  if (e) return e;
  n = strlen(w);
  if (!domain_valid(w, n)) return "not a valid domain";
  case_lowerb(w, n);
  if (config_is_sitedomain(c, w, n)) return "domain listed twice";
  if (!stralloc_catb(&c->sitedomains, w, n + 1)) return "out of memory";
  return 0;
}

static const char *p_postmaster(struct config *c, char *line)
{
  const char *e = set_string(&c->postmaster, line);
  size_t at;
  if (e) return e;
  at = byte_rchr(c->postmaster.s, c->postmaster.len, '@');
  if (at == c->postmaster.len) {
    if (!mailbox_name_valid(c->postmaster.s, c->postmaster.len)) return "not a valid mailbox name";
  } else if (!domain_valid(c->postmaster.s + at + 1, c->postmaster.len - at - 1) || at == 0)
    return "not a valid address";
  return 0;
}

#define ULONG_PARSER(fn, field, scan) \
  static const char *fn(struct config *c, char *line) { return set_ulong(&c->field, line, scan); }
ULONG_PARSER(p_databytes, databytes, ctl_scan_size)
ULONG_PARSER(p_maxrcpt, maxrcpt, ctl_scan_ulong)
ULONG_PARSER(p_maxlocal, maxlocal, ctl_scan_ulong)
ULONG_PARSER(p_delaywarn, delaywarn, ctl_scan_time)
ULONG_PARSER(p_dsnfullmax, dsnfullmax, ctl_scan_size)
ULONG_PARSER(p_maxinbound, maxinbound, ctl_scan_ulong)
ULONG_PARSER(p_maxperip, maxperip, ctl_scan_ulong)
ULONG_PARSER(p_maxoutbound, maxoutbound, ctl_scan_ulong)
ULONG_PARSER(p_maxperhost, maxperhost, ctl_scan_ulong)
ULONG_PARSER(p_msgsperconn, msgsperconn, ctl_scan_ulong)
ULONG_PARSER(p_connectioncache, connectioncache, ctl_scan_time)
ULONG_PARSER(p_timeoutsmtpd, timeoutsmtpd, ctl_scan_time)
ULONG_PARSER(p_timeoutremote, timeoutremote, ctl_scan_time)
ULONG_PARSER(p_timeoutconnect, timeoutconnect, ctl_scan_time)
ULONG_PARSER(p_greetdelay, greetdelay, ctl_scan_time)
ULONG_PARSER(p_queuewarn, queuewarn, ctl_scan_time)
ULONG_PARSER(p_timeoutsession, timeoutsession, ctl_scan_time)
ULONG_PARSER(p_mindatarate, mindatarate, ctl_scan_ulong)
ULONG_PARSER(p_mindatagrace, mindatagrace, ctl_scan_time)
ULONG_PARSER(p_authfailures, authfailures, ctl_scan_ulong)
ULONG_PARSER(p_smtpdmaxuse, smtpdmaxuse, ctl_scan_ulong)
ULONG_PARSER(p_smtpdidle, smtpdidle, ctl_scan_time)

/* an IPv6 prefix length that groups one client's addresses: 32..128 */
static const char *p_ipv6prefix(struct config *c, char *line)
{
  const char *e = set_ulong(&c->ipv6prefix, line, ctl_scan_ulong);
  if (e) return e;
  if (c->ipv6prefix < 32 || c->ipv6prefix > 128) return "not a prefix length from 32 to 128";
  return 0;
}

/* none, in, out or both */
static const char *p_archive(struct config *c, char *line)
{
  static const char *const names[] = { "none", "in", "out", "both" };
  char *w;
  const char *e = one_word(line, &w);
  int i;
  if (e) return e;
  for (i = 0; i < 4 && strcmp(w, names[i]); i++) ;
  if (i == 4) return "expected none, in, out or both";
  c->archive = (unsigned)i;            /* ARCHIVE_IN | ARCHIVE_OUT */
  return 0;
}

static const char *p_diskfree(struct config *c, char *line)
{
  char *w;
  const char *e = one_word(line, &w);
  size_t n;
  if (e) return e;
  n = strlen(w);
  c->diskfree_pct = 0;
  if (n > 1 && w[n - 1] == '%') {
    w[n - 1] = 0;
    if (!ctl_scan_ulong(w, &c->diskfree) || c->diskfree > 99) return "not a percentage from 0% to 99%";
    c->diskfree_pct = 1;
    return 0;
  }
  if (!ctl_scan_size(w, &c->diskfree)) return "not a size or a percentage";
  return 0;
}

static void b_loglevel(struct config *c)
{
  int i;
  for (i = 0; i < LOG_NCAT; i++) c->loglevel[i] = LEVEL_MINIMUM;
}

/* `LEVEL` (every category), `* LEVEL`, or `CATEGORY LEVEL` */
static const char *p_loglevel(struct config *c, char *line)
{
  char *p = line, *a = ctl_word(&p), *b = ctl_word(&p);
  int cat = -1, lvl, i;
  if (!a) return "empty value";                  /* a line of NUL bytes */
  if (ctl_word(&p)) return "expected CATEGORY LEVEL";
  if (!b) b = a;
  else if (strcmp(a, "*") && (cat = name_index(a, cat_names, LOG_NCAT)) < 0) return "unknown category";
  lvl = name_index(b, level_names, LEVEL_MAXIMUM + 1);
  if (lvl < 0) return "unknown level (none, minimum, medium, maximum)";
  for (i = 0; i < LOG_NCAT; i++) if (cat < 0 || cat == i) c->loglevel[i] = (unsigned char)lvl;
  return 0;
}

static const char *p_tracking(struct config *c, char *line)
{
  char *w;
  const char *e = one_word(line, &w);
  if (e) return e;
  if (!ctl_scan_bool(w, &c->tracking)) return "expected on or off";
  return 0;
}

static void b_retry(struct config *c) { c->nretry = 0; c->retry_factor = 1000; }

/* `15m,30m,1h,4h` or `60m x1.5` */
static const char *p_retry(struct config *c, char *line)
{
  char *p = line, *list = ctl_word(&p), *fac = ctl_word(&p), *item;
  if (c->nretry) return "only one line allowed";
  if (!list) return "empty value";               /* a line of NUL bytes */
  if (ctl_word(&p)) return "expected INTERVAL[,INTERVAL...] [xFACTOR]";
  while ((item = list) != 0) {
    char *comma = strchr(item, ',');
    if (comma) { *comma = 0; list = comma + 1; } else list = 0;
    if (c->nretry == RETRY_MAX) return "too many intervals";
    if (!ctl_scan_time(item, &c->retry[c->nretry]) || !c->retry[c->nretry]) return "bad interval";
    c->nretry++;
  }
  if (fac) {
    unsigned long whole = 0, milli = 0, scale = 100;
    char *dot;
    if (fac[0] != 'x') return "factor must look like x1.5";
    fac++;
    dot = strchr(fac, '.');
    if (dot) *dot++ = 0;
    if (!ctl_scan_ulong(fac, &whole) || whole > 100) return "bad factor";
    for (; dot && *dot; dot++, scale /= 10) {
      if (*dot < '0' || *dot > '9' || !scale) return "bad factor";
      milli += (unsigned long)(*dot - '0') * scale;
    }
    c->retry_factor = whole * 1000 + milli;
    if (c->retry_factor < 1000) return "factor below x1";
  }
  return 0;
}

static const char *prio_line(unsigned long *v, char *line)
{
  char *p = line, *a = ctl_word(&p), *b = ctl_word(&p);
  int i;
  if (!b || ctl_word(&p)) return "expected PRIORITY TIME";
  if ((i = name_index(a, prio_names, PRIO_N)) < 0) return "unknown priority (urgent, normal, nonurgent)";
  if (!ctl_scan_time(b, &v[i]) || !v[i]) return "bad time";
  return 0;
}

static void b_lifetime(struct config *c)
{
  c->lifetime[PRIO_URGENT] = 86400;
  c->lifetime[PRIO_NORMAL] = 172800;
  c->lifetime[PRIO_NONURGENT] = 259200;
}
static const char *p_lifetime(struct config *c, char *line) { return prio_line(c->lifetime, line); }

static void b_transfertimeout(struct config *c)
{
  c->transfertimeout[PRIO_URGENT] = 600;
  c->transfertimeout[PRIO_NORMAL] = 1200;
  c->transfertimeout[PRIO_NONURGENT] = 1800;
}
static const char *p_transfertimeout(struct config *c, char *line) { return prio_line(c->transfertimeout, line); }


/* ---- list settings (imc-smtpd's policies; imc-send's restrictions and address space) */

/* appends the words as one NUL-terminated line "a" or "a b" */
static const char *list_add(stralloc *sa, const char *a, const char *b)
{
  if (!stralloc_cats(sa, a)) return "out of memory";
  if (b && (!stralloc_append(sa, " ") || !stralloc_cats(sa, b))) return "out of memory";
  if (!stralloc_0(sa)) return "out of memory";
  return 0;
}

static int list_has(const stralloc *sa, const char *s)
{
  size_t pos = 0;
  const char *l;
  while ((l = config_list_next(sa, &pos)) != 0) if (!strcmp(l, s)) return 1;
  return 0;
}

/* example.com, .example.com or * */
static int domain_pattern_valid(const char *w)
{
  size_t n = strlen(w);
  if (!strcmp(w, "*")) return 1;
  if (w[0] == '.') return domain_valid(w + 1, n - 1);
  return domain_valid(w, n);
}

/* `PATTERN [COST]`, cost 1..100, default 1 */
static const char *p_addressspace(struct config *c, char *line)
{
  char *p = line, *pat = ctl_word(&p), *cost = ctl_word(&p);
  unsigned long v = 1;
  if (!pat) return "empty value";                /* a line of NUL bytes */
  if (ctl_word(&p)) return "expected PATTERN [COST]";
  if (!domain_pattern_valid(pat)) return "not a domain pattern (example.com, .example.com or *)";
  if (cost && (!ctl_scan_ulong(cost, &v) || v < 1 || v > 100)) return "cost must be a number from 1 to 100";
  case_lowers(pat);
  if (cost) cost[fmt_ulong(cost, v)] = 0;     /* "007" becomes "7"; never longer */
  return list_add(&c->addressspace, pat, cost ? cost : "1");
}

/* `user@domain [drop|turf]` or `@domain [drop|turf]`, default drop */
static const char *p_filter(struct config *c, char *line)
{
  char *p = line, *pat = ctl_word(&p), *act = ctl_word(&p);
  size_t n;
  if (!pat) return "empty value";                /* a line of NUL bytes */
  n = strlen(pat);
  if (ctl_word(&p)) return "expected ADDRESS [drop|turf]";
  if (pat[0] == '@' ? !domain_valid(pat + 1, n - 1) : !addr_valid(pat, n))
    return "not an address or @domain";
  if (act && strcasecmp(act, "drop") && strcasecmp(act, "turf")) return "action must be drop or turf";
  case_lowers(pat);
  if (act) case_lowers(act);
  return list_add(&c->filter, pat, act ? act : "drop");
}

/* a local alias or an address */
static const char *senders_line(stralloc *sa, char *line)
{
  char *w;
  const char *e = one_word(line, &w);
  size_t n;
  if (e) return e;
  n = strlen(w);
  if (!mailbox_name_valid(w, n) && !addr_valid(w, n)) return "not an alias or an address";
  case_lowers(w);
  if (list_has(sa, w)) return "listed twice";
  return list_add(sa, w, 0);
}
static const char *p_senders_allow(struct config *c, char *line) { return senders_line(&c->senders_allow, line); }
static const char *p_senders_deny(struct config *c, char *line) { return senders_line(&c->senders_deny, line); }

/* a crypt(3) string: $id$...  (yescrypt, sha512-crypt, bcrypt...) or 13 characters of DES */
static int crypt_hash_valid(const char *h)
{
  size_t n = strlen(h), i, dollars = 0;
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)h[i];
    if (ch <= 32 || ch >= 127 || ch == ':') return 0;
    if (ch == '$') dollars++;
  }
  if (h[0] == '$') return dollars >= 3 && h[n - 1] != '$';
  if (n != 13) return 0;
  for (i = 0; i < n; i++)
    if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') || (h[i] >= '0' && h[i] <= '9')
          || h[i] == '.' || h[i] == '/')) return 0;
  return 1;
}

/* `user:hash`, user an alias or an address */
static const char *p_auth(struct config *c, char *line)
{
  char *w, *colon;
  const char *e = one_word(line, &w);
  if (e) return e;
  colon = strchr(w, ':');
  if (!colon) return "expected user:crypt-hash";
  *colon = 0;
  if (!mailbox_name_valid(w, strlen(w)) && !addr_valid(w, strlen(w))) return "user is not an alias or an address";
  if (!crypt_hash_valid(colon + 1)) return "not a crypt(3) hash (make one with: openssl passwd -6)";
  case_lowers(w);
  if (config_auth_hash(c, w, strlen(w))) return "user listed twice";
  *colon = ':';
  return list_add(&c->auth, w, 0);
}

static void b_notify(struct config *c) { c->notify = 0; }

/* words separated by spaces or commas: ndr unknown-recipient host-not-found expired
   conversion-failed connector, or none */
static const char *p_notify(struct config *c, char *line)
{
  static const char *const names[] = { "ndr", "unknown-recipient", "host-not-found", "expired",
                                       "conversion-failed", "connector", 0 };
  char *p = line, *w;
  int i;
  for (; *p; p++) if (*p == ',') *p = ' ';
  p = line;
  while ((w = ctl_word(&p)) != 0) {
    if (!strcasecmp(w, "none")) continue;
    for (i = 0; names[i] && strcasecmp(w, names[i]); i++) ;
    if (!names[i]) return "unknown kind (ndr, unknown-recipient, host-not-found, expired, conversion-failed, connector, none)";
    c->notify |= 1u << i;
  }
  return 0;
}

static void b_authpolicy(struct config *c)
{
  c->authchecks = 1;
  c->spffail_reject = 0;
  c->dmarcreject = 1;
  c->temperror_defer = 0;
}

/* words KEY=VALUE separated by spaces or commas: checks=on|off spffail=reject|mark
   dmarcreject=reject|mark temperror=accept|defer */
static const char *p_authpolicy(struct config *c, char *line)
{
  static const char *const keys[] = { "checks=", "spffail=", "dmarcreject=", "temperror=", 0 };
  static const char *const no[] = { "off", "mark", "mark", "accept" };
  static const char *const yes[] = { "on", "reject", "reject", "defer" };
  int *const field[] = { &c->authchecks, &c->spffail_reject, &c->dmarcreject, &c->temperror_defer };
  char *p = line, *w;
  int i;
  for (; *p; p++) if (*p == ',') *p = ' ';
  p = line;
  while ((w = ctl_word(&p)) != 0) {
    for (i = 0; keys[i] && strncasecmp(w, keys[i], strlen(keys[i])); i++) ;
    if (!keys[i]) return "unknown setting (checks=, spffail=, dmarcreject=, temperror=)";
    w += strlen(keys[i]);
    if (!strcasecmp(w, yes[i])) *field[i] = 1;
    else if (!strcasecmp(w, no[i])) *field[i] = 0;
    else return i == 0 ? "checks= takes on or off" : i == 3 ? "temperror= takes accept or defer"
                                                    : "takes reject or mark";
  }
  return 0;
}

/* a new setting: name it in the list of each program that reads it (the
   table in docs/INTERNALS.md section 19), or that program has its default */
static const struct setting settings[] = {
  { "me", 0, def_me, p_me, 0 },
  { "sitedomains", 0, def_sitedomains, p_sitedomains, 0 },
  { "postmaster", "postmaster", 0, p_postmaster, 0 },
  { "databytes", "26214400", 0, p_databytes, 0 },
  { "maxrcpt", "1000", 0, p_maxrcpt, 0 },
  { "diskfree", "5%", 0, p_diskfree, 0 },
  { "loglevel", "minimum", 0, p_loglevel, b_loglevel },
  { "tracking", "on", 0, p_tracking, 0 },
  { "maxlocal", "10", 0, p_maxlocal, 0 },
  { "retry", "15m,30m,1h,4h", 0, p_retry, b_retry },
  { "lifetime", "urgent 24h\nnormal 48h\nnonurgent 72h", 0, p_lifetime, b_lifetime },
  { "delaywarn", "4h", 0, p_delaywarn, 0 },
  { "dsnfullmax", "1048576", 0, p_dsnfullmax, 0 },
  { "maxinbound", "30", 0, p_maxinbound, 0 },
  { "maxperip", "10", 0, p_maxperip, 0 },
  { "maxoutbound", "30", 0, p_maxoutbound, 0 },
  { "maxperhost", "10", 0, p_maxperhost, 0 },
  { "msgsperconn", "20", 0, p_msgsperconn, 0 },
  { "connectioncache", "5", 0, p_connectioncache, 0 },
  { "timeoutsmtpd", "300", 0, p_timeoutsmtpd, 0 },
  { "timeoutremote", "300", 0, p_timeoutremote, 0 },
  { "timeoutconnect", "60", 0, p_timeoutconnect, 0 },
  { "transfertimeout", "urgent 600\nnormal 1200\nnonurgent 1800", 0, p_transfertimeout, b_transfertimeout },
  { "addressspace", "*", 0, p_addressspace, 0 },
  { "filter", "", 0, p_filter, 0 },
  { "senders.allow", "", 0, p_senders_allow, 0 },
  { "senders.deny", "", 0, p_senders_deny, 0 },
  { "auth", "", 0, p_auth, 0 },
  { "greetdelay", "0", 0, p_greetdelay, 0 },
  { "notify", "connector", 0, p_notify, b_notify },
  { "archive", "none", 0, p_archive, 0 },
  { "queuewarn", "6h", 0, p_queuewarn, 0 },
  { "timeoutsession", "1h", 0, p_timeoutsession, 0 },
  { "mindatarate", "500", 0, p_mindatarate, 0 },
  { "mindatagrace", "30", 0, p_mindatagrace, 0 },
  { "ipv6prefix", "64", 0, p_ipv6prefix, 0 },
  { "authfailures", "5", 0, p_authfailures, 0 },
  { "smtpdmaxuse", "100", 0, p_smtpdmaxuse, 0 },
  { "smtpdidle", "60", 0, p_smtpdidle, 0 },
  { "authpolicy", "", 0, p_authpolicy, b_authpolicy },
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

const char *config_file(size_t i)
{
  return i < NSETTINGS ? settings[i].file : 0;
}

/* does the text hold a line that is neither blank nor a comment? */
static int has_lines(const char *s, size_t len)
{
  size_t i;
  int comment = 0;
  for (i = 0; i < len; i++) {
    if (s[i] == '\n') comment = 0;
    else if (s[i] == '#') comment = 1;
    else if (!comment && s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 1;
  }
  return 0;
}

/* control/auth holds password hashes and is readable by imc-smtpd's user
   only (root:imcd 0640 in system mode): a program that may not read it
   reads it as empty, like a missing file */
static int secret_hidden(const struct setting *s)
{
  return errno == EACCES && !strcmp(s->file, "auth");
}

/* the file, or the default text when it is missing, empty or a hidden
   secret: 1 file, 0 default, -1 error */
/* the setting's default text, the file not read: 0 */
static int setting_default(const struct setting *s, const struct config *c, ctl_file *f)
{
  stralloc def = {0};
  if (s->deffn) s->deffn(c, &def);
  else if (!stralloc_copys(&def, s->deftext)) def.len = 0;
  ctl_openmem(f, s->file, def.s ? def.s : "", def.len);
  stralloc_free(&def);
  return 0;
}

static int setting_open(const struct setting *s, const struct config *c, ctl_file *f)
{
  int r = ctl_open(f, s->file);
  if (r < 0 && !secret_hidden(s)) return r;
  if (r == 1 && has_lines(f->raw.s, f->raw.len)) return r;
  return setting_default(s, c, f);
}

static int setting_parse(const struct setting *s, struct config *c, ctl_file *f, config_errfn err)
{
  char *line;
  size_t len;
  int errors = 0;
  if (s->begin) s->begin(c);
  while (ctl_next(f, &line, &len)) {
    const char *e = s->line(c, line);
    if (e) { errors++; if (err) err(s->file, f->lineno, e); }
  }
  return errors;
}

static int wanted(const char *file, const char *const *only)
{
  if (!only) return 1;
  for (; *only; only++) if (!strcmp(*only, file)) return 1;
  return 0;
}

static int is_setting(const char *file)
{
  size_t i;
  for (i = 0; i < NSETTINGS; i++) if (!strcmp(settings[i].file, file)) return 1;
  return 0;
}

/* a program's list of files: each one a setting, and me with sitedomains
   (whose default is control/me); else the name at fault, 0 when good */
static const char *only_bad(const char *const *only)
{
  const char *const *p;
  if (!only) return 0;
  for (p = only; *p; p++) if (!is_setting(*p)) return *p;
  if (wanted("sitedomains", only) && !wanted("me", only)) return "sitedomains";
  return 0;
}

int config_load_only(struct config *c, const char *const *only, config_errfn err)
{
  size_t i;
  int errors = 0;
  ctl_file f = {0};
  const char *bad = only_bad(only);
  memset(c, 0, sizeof *c);
  if (bad) {
    if (err) err(bad, 0, "not a setting, or sitedomains without me");
    errno = EINVAL;
    return -1;
  }
  for (i = 0; i < NSETTINGS; i++) {
    int r = wanted(settings[i].file, only) ? setting_open(&settings[i], c, &f) : setting_default(&settings[i], c, &f);
    if (r < 0) {
      int e = errno;
      if (err) err(settings[i].file, 0, "unable to read");
      ctl_close(&f);
      config_free(c);
      errno = e;
      return -1;
    }
    errors += setting_parse(&settings[i], c, &f, err);
  }
  ctl_close(&f);
  return errors;
}

int config_load(struct config *c, config_errfn err)
{
  return config_load_only(c, 0, err);
}

int config_me(stralloc *me)
{
  static const char *const only[] = { "me", 0 };
  struct config c;
  int r = config_load_only(&c, only, 0);
  if (r >= 0) r = c.me.len && stralloc_copy(me, &c.me) && stralloc_0(me) ? 0 : -1;
  if (r == 0) me->len--;
  config_free(&c);
  return r;
}

void config_free(struct config *c)
{
  stralloc_free(&c->me);
  stralloc_free(&c->sitedomains);
  stralloc_free(&c->postmaster);
  stralloc_free(&c->addressspace);
  stralloc_free(&c->filter);
  stralloc_free(&c->senders_allow);
  stralloc_free(&c->senders_deny);
  stralloc_free(&c->auth);
}

int config_show(config_showfn show)
{
  struct config c;
  size_t i;
  ctl_file f = {0};
  memset(&c, 0, sizeof c);
  for (i = 0; i < NSETTINGS; i++) {
    char *line;
    size_t len;
    int r = setting_open(&settings[i], &c, &f);
    if (r < 0) { ctl_close(&f); config_free(&c); return -1; }
    setting_parse(&settings[i], &c, &f, 0);     /* later defaults may depend on it */
    if (setting_open(&settings[i], &c, &f) < 0) continue;
    while (ctl_next(&f, &line, &len)) show(settings[i].file, line, r == 0);
  }
  ctl_close(&f);
  config_free(&c);
  return 0;
}

int config_check_text(const char *file, const char *text, size_t len, config_errfn err)
{
  struct config c;
  ctl_file f = {0};
  size_t i;
  int errors;
  for (i = 0; i < NSETTINGS; i++) if (!strcmp(settings[i].file, file)) break;
  if (i == NSETTINGS) { errno = ENOENT; return -1; }
  memset(&c, 0, sizeof c);
  ctl_openmem(&f, settings[i].file, text, len);
  errors = setting_parse(&settings[i], &c, &f, err);
  ctl_close(&f);
  config_free(&c);
  return errors;
}

int config_is_sitedomain(const struct config *c, const char *dom, size_t len)
{
  size_t pos = 0;
  while (pos < c->sitedomains.len) {
    const char *d = c->sitedomains.s + pos;
    size_t n = str_len(d);
    if (n == len && case_diffb(d, len, dom) == 0) return 1;
    pos += n + 1;
  }
  return 0;
}

unsigned long config_retry_delay(const struct config *c, unsigned attempt)
{
  unsigned long d;
  unsigned i;
  if (!c->nretry) return 900;
  if (attempt == 0) attempt = 1;
  if (attempt <= c->nretry) return c->retry[attempt - 1];
  d = c->retry[c->nretry - 1];
  for (i = c->nretry; i < attempt && d < 86400UL * 7; i++) d = d * c->retry_factor / 1000;
  return d;
}

int config_logging(const struct config *c, int cat, int level)
{
  return cat >= 0 && cat < LOG_NCAT && level != LEVEL_NONE && c->loglevel[cat] >= level;
}

/* ---- lookups in the list settings */

const char *config_list_next(const stralloc *list, size_t *pos)
{
  const char *l;
  if (*pos >= list->len) return 0;
  l = list->s + *pos;
  *pos += str_len(l) + 1;
  return l;
}

/* the first word of a list line and its length */
static size_t first_word(const char *l) { return str_chr(l, ' '); }

static int domain_matches(const char *pat, size_t plen, const char *dom, size_t len)
{
  if (plen == 1 && pat[0] == '*') return 1;
  if (pat[0] == '.') return len > plen && !case_diffb(dom + len - plen, plen, pat);
  return len == plen && !case_diffb(dom, len, pat);
}

int config_in_addressspace(const struct config *c, const char *dom, size_t len, unsigned long *cost)
{
  size_t pos = 0;
  const char *l;
  while ((l = config_list_next(&c->addressspace, &pos)) != 0) {
    size_t n = first_word(l);
    if (!domain_matches(l, n, dom, len)) continue;
    if (cost && l[n] == ' ') scan_ulong(l + n + 1, cost);
    return 1;
  }
  return 0;
}

int config_filter(const struct config *c, const char *addr, size_t len)
{
  size_t pos = 0, at = addr_at(addr, len);
  const char *l;
  if (at == len) return FILTER_NONE;
  while ((l = config_list_next(&c->filter, &pos)) != 0) {
    size_t n = first_word(l);
    int hit = l[0] == '@' ? (n - 1 == len - at - 1 && !case_diffb(l + 1, n - 1, addr + at + 1))
                          : (n == len && !case_diffb(l, n, addr));
    if (hit) return strcmp(l + n + 1, "turf") ? FILTER_DROP : FILTER_TURF;
  }
  return FILTER_NONE;
}

int config_sender_listed(const struct config *c, const stralloc *list, const char *addr, size_t len)
{
  size_t pos = 0, at = addr_at(addr, len);
  int site = at < len && config_is_sitedomain(c, addr + at + 1, len - at - 1);
  const char *l;
  while ((l = config_list_next(list, &pos)) != 0) {
    size_t n = str_len(l);
    if (n == len && !case_diffb(l, n, addr)) return 1;
    if (site && n == at && !l[str_chr(l, '@')] && !case_diffb(l, n, addr)) return 1;
  }
  return 0;
}

const char *config_auth_hash(const struct config *c, const char *user, size_t len)
{
  size_t pos = 0;
  const char *l;
  while ((l = config_list_next(&c->auth, &pos)) != 0) {
    size_t n = str_chr(l, ':');
    if (n == len && !case_diffb(l, n, user)) return l + n + 1;
  }
  return 0;
}

/* listed itself, or a member of a listed group: 1, 0, -1 error */
static int sender_covered(const struct config *c, const stralloc *list, const char *addr, size_t len,
                          config_member_fn member, void *ctx)
{
  size_t pos = 0;
  const char *l;
  if (config_sender_listed(c, list, addr, len)) return 1;
  if (!member) return 0;
  while ((l = config_list_next(list, &pos)) != 0) {
    int x = member(ctx, l, str_len(l), addr, len);
    if (x) return x;
  }
  return 0;
}

int config_sender_out_by(const struct config *c, const char *sender, size_t len,
                         config_member_fn member, void *ctx)
{
  size_t at;
  int x;
  if (!c->senders_allow.len && !c->senders_deny.len) return 1;
  if (len == 0) return 1;
  at = addr_at(sender, len);
  if (at == len || !config_is_sitedomain(c, sender + at + 1, len - at - 1)) return 0;
  if (c->senders_allow.len) {
    x = sender_covered(c, &c->senders_allow, sender, len, member, ctx);
    if (x <= 0) return x;
  }
  x = sender_covered(c, &c->senders_deny, sender, len, member, ctx);
  return x < 0 ? -1 : !x;
}

int config_sender_out(const struct config *c, const char *sender, size_t len)
{
  return config_sender_out_by(c, sender, len, 0, 0);
}

void config_warn(const char *file, unsigned line, const char *msg)
{
  char num[FMT_ULONG];
  num[fmt_ulong(num, line)] = 0;
  if (line) warn("control/", file, ":", num, ": ", msg);
  else warn("control/", file, ": ", msg);
}

int config_disk_low(const struct config *c, const char *path, unsigned *pct)
{
  struct statvfs v;
  unsigned long long avail, blocks;
  if (!c->diskfree) return 0;
  if (statvfs(path, &v) < 0) return -1;
  avail = (unsigned long long)v.f_bavail;
  blocks = (unsigned long long)v.f_blocks;
  if (pct) *pct = blocks ? (unsigned)(avail * 100 / blocks) : 0;
  if (c->diskfree_pct) return avail * 100 < blocks * c->diskfree;
  return avail * v.f_frsize < c->diskfree;
}
