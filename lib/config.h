/*
 * config.h -- every setting of the instance, parsed from control/ by one
 * table (config.c).  config_load reads all of them (imc-ctl, imc-qstat and
 * the other queue tools, imc-send's check for the postmaster's connector
 * fault notice), config_load_only the ones a program names (each daemon's
 * list: docs/INTERNALS.md section 19); each error is reported
 * through the caller's function as FILE, LINE, MESSAGE, so that imc-ctl
 * check prints `control/FILE:LINE: message` and a daemon can refuse a bad
 * configuration while keeping its old one.
 *
 * Inputs: the files under $IMC_HOME/control.  Failure modes: a file that
 * cannot be read (config_load returns -1, errno set: a temporary failure);
 * malformed lines (returns the number of errors, each reported).
 */
#ifndef IMC_CONFIG_H
#define IMC_CONFIG_H

#include "owfat.h"

enum log_category { LOG_INIT, LOG_ADDRESSING, LOG_TRANSFER, LOG_SMTP,
                    LOG_INTERNAL, LOG_PROTOCOL, LOG_ARCHIVAL, LOG_NCAT };
enum log_level { LEVEL_NONE, LEVEL_MINIMUM, LEVEL_MEDIUM, LEVEL_MAXIMUM };
enum priority { PRIO_URGENT, PRIO_NORMAL, PRIO_NONURGENT, PRIO_N };

#define RETRY_MAX 32

struct config {
  stralloc me;
  stralloc sitedomains;       /* lower-case domains, each NUL-terminated */
  stralloc postmaster;        /* a mailbox alias, or an address */
  unsigned long databytes;    /* 0: no limit */
  unsigned long maxrcpt;
  unsigned long diskfree;     /* bytes, or percent when diskfree_pct */
  int diskfree_pct;
  unsigned char loglevel[LOG_NCAT];
  int tracking;
  unsigned long maxlocal;     /* simultaneous imc-local processes */
  unsigned long retry[RETRY_MAX];
  unsigned nretry;
  unsigned long retry_factor; /* growth per attempt in thousandths; 1000: none */
  unsigned long lifetime[PRIO_N];
  unsigned long delaywarn;    /* 0: never */
  unsigned long dsnfullmax;   /* RET=FULL returns messages up to this size whole, larger ones' headers */
  unsigned long maxinbound, maxperip, maxoutbound, maxperhost, msgsperconn;
  unsigned long connectioncache;  /* seconds an idle imc-remote keeps its connection; 0: none */
  unsigned long timeoutsmtpd, timeoutremote, timeoutconnect;
  unsigned long transfertimeout[PRIO_N];
  /* list settings: NUL-terminated lines, domains and aliases in lower case */
  stralloc addressspace;      /* "PATTERN COST": example.com, .example.com (subdomains), * */
  stralloc filter;            /* "PATTERN ACTION": user@domain or @domain; drop or turf */
  stralloc senders_allow;     /* aliases or addresses; empty: every local sender allowed */
  stralloc senders_deny;      /* aliases or addresses */
  stralloc auth;              /* "user:crypt-hash", the user in lower case */
  unsigned long greetdelay;   /* seconds to watch for early talkers before the greeting */
  unsigned notify;            /* NOTIFY_* bits: what the postmaster is told */
  unsigned archive;           /* ARCHIVE_* bits: which messages get a copy in archive/ */
  unsigned long queuewarn;    /* a message waiting longer is a connector fault; 0: never */
  /* limits of one inbound session (imc-tcpd, imc-smtpd); 0: no limit */
  unsigned long timeoutsession;   /* seconds a whole session may last */
  unsigned long mindatarate;      /* bytes per second during DATA, after mindatagrace */
  unsigned long mindatagrace;     /* seconds of DATA exempt from mindatarate */
  unsigned long ipv6prefix;       /* maxperip and authfailures count an IPv6 client by this prefix */
  unsigned long authfailures;     /* AUTH failures from one client in 10 minutes before 454 */
  /* imc-tcpd's pool of imc-smtpd workers; 0: no limit */
  unsigned long smtpdmaxuse;      /* sessions one worker serves before it exits */
  unsigned long smtpdidle;        /* seconds a worker may wait for a session before it exits */
  /* control/authpolicy: SPF, DKIM and DMARC checks of inbound mail (smtpd/smtp_check.c) */
  int authchecks;                 /* checks=on: clients that neither relay nor authenticate are checked */
  int spffail_reject;             /* spffail=reject: SPF fail refuses MAIL (550 5.7.23); else marked */
  int dmarcreject;                /* dmarcreject=reject: DMARC fail under p=reject refuses (550 5.7.1) */
  int temperror_defer;            /* temperror=defer: a DNS temporary error defers (451); else accepted */
};

/* control/archive: none, in (messages for local recipients), out (for remote ones), both */
#define ARCHIVE_IN  0x01
#define ARCHIVE_OUT 0x02

/* control/notify: the kinds of notice the postmaster gets */
#define NOTIFY_NDR         0x01   /* a copy of every bounce */
#define NOTIFY_UNKNOWN     0x02   /* a copy of bounces for unknown local recipients */
#define NOTIFY_HOSTNOTFOUND 0x04  /* a copy of bounces for domains or hosts not found */
#define NOTIFY_EXPIRED     0x08   /* a copy of bounces for expired messages */
#define NOTIFY_CONVERSION  0x10   /* a conversion failed */
#define NOTIFY_CONNECTOR   0x20   /* connector faults: disk low, bad control file, backlog */

typedef void (*config_errfn)(const char *file, unsigned line, const char *msg);
/* is free space on the file system of path below control/diskfree?  1 yes (with
   *pct the percentage free), 0 no (or no limit), -1 statvfs failed (errno) */
int config_disk_low(const struct config *c, const char *path, unsigned *pct);
/* a config_errfn that warns (diag.h): "control/FILE:LINE: MSG", or without LINE when it is 0 */
void config_warn(const char *file, unsigned line, const char *msg);

int config_load(struct config *c, config_errfn err);  /* 0 ok, >0 errors, -1 unreadable */
/* the same reading only the files named in `only` (a list ending in 0); every other
   setting gets its default, its file never opened: a program loads what it uses,
   so a control file it does not use can never stop it.  A name that is not
   a setting, or sitedomains without me (its default), is a mistake in the
   program: -1 with errno EINVAL, the name reported with line 0 */
int config_load_only(struct config *c, const char *const *only, config_errfn err);
/* control/me alone (its default: the host name), NUL-terminated, me->len without the NUL:
   0, or -1 (unreadable, empty, or out of memory) */
int config_me(stralloc *me);
void config_free(struct config *c);

/* for imc-ctl show: each setting's name, effective text and whether it is the default */
typedef void (*config_showfn)(const char *file, const char *value, int is_default);
int config_show(config_showfn show);                  /* 0, or -1 if a file is unreadable */

/* for imc-ctl set: parse text as the contents of control/FILE, reporting each
   error like config_load; the number of errors, or -1 if FILE is not a setting */
int config_check_text(const char *file, const char *text, size_t len, config_errfn err);

/* the files config_load knows, for imc-ctl */
const char *config_file(size_t i);      /* the i-th file name (from 0), or 0 past the last */

int config_is_sitedomain(const struct config *c, const char *dom, size_t len);
unsigned long config_retry_delay(const struct config *c, unsigned attempt);  /* attempt 1 = first retry */
const char *log_category_name(int cat);
const char *log_level_name(int level);
int config_logging(const struct config *c, int cat, int level);  /* 1 if it should be logged */

/* the next NUL-terminated line of a list setting at *pos (advanced), or 0 at the end */
const char *config_list_next(const stralloc *list, size_t *pos);
/* is the domain within control/addressspace?  1 yes (*cost set when cost is not 0), 0 no */
int config_in_addressspace(const struct config *c, const char *dom, size_t len, unsigned long *cost);
/* control/filter for a sender address: FILTER_NONE, FILTER_DROP or FILTER_TURF */
#define FILTER_NONE 0
#define FILTER_DROP 1
#define FILTER_TURF 2
int config_filter(const struct config *c, const char *addr, size_t len);
/* is addr (LOCAL@DOMAIN) on a senders list (senders_allow or senders_deny): the whole
   address, or its local part as an alias when the domain is a site domain?  Case-insensitive.
   1 yes, 0 no */
int config_sender_listed(const struct config *c, const stralloc *list, const char *addr, size_t len);
/* control/senders.allow and senders.deny: may this envelope sender send outside the site?
   (no lists: everyone; <> always; otherwise a site address allowed and not denied) */
int config_sender_out(const struct config *c, const char *sender, size_t len);
/* the same, where an entry may also cover addr by naming a group it belongs
   to: member(ctx, ENTRY, ELEN, ADDR, LEN) says 1 yes, 0 no, -1 error (then
   -1 is returned); directory_sender_out (directory.h) passes its lists */
typedef int (*config_member_fn)(void *ctx, const char *entry, size_t elen, const char *addr, size_t len);
int config_sender_out_by(const struct config *c, const char *sender, size_t len,
                         config_member_fn member, void *ctx);
/* the crypt(3) hash of an AUTH user (case-insensitive), NUL-terminated, or 0 */
const char *config_auth_hash(const struct config *c, const char *user, size_t len);

#endif
