/*
 * directory.h -- the site directory: mailboxes, distribution lists and
 * custom recipients (contacts), from control/directory:
 *
 *     mailbox ALIAS "Display Name"
 *     list ALIAS MEMBER,MEMBER,...        members: aliases or addresses
 *     contact ALIAS "Display Name" ADDRESS
 *
 * imc-ctl compile turns it into control/directory.cdb (key: the alias in
 * lower case; value: a kind byte then data: 'm' display name; 'l' the
 * member list as written; 'c' ADDRESS, NUL, display name).  Aliases match
 * case-insensitively; every site domain shares the one directory.
 *
 * At delivery time imc-send resolves each envelope recipient with
 * resolve_recipient: postmaster at any site domain goes to
 * control/postmaster whether or not the directory lists it; lists expand
 * recursively (a member reached twice is delivered once; a loop stops
 * expanding and never hangs); contacts become remote addresses; addresses
 * outside the site domains are remote.
 */
#ifndef IMC_DIRECTORY_H
#define IMC_DIRECTORY_H

#include <sys/types.h>
#include "config.h"
#include "owfat.h"

#define DIR_MAILBOX 'm'
#define DIR_LIST    'l'
#define DIR_CONTACT 'c'
#define DIR_MAXDEPTH 32

/* ---- control/directory, for imc-ctl check and compile */
/* checks syntax, duplicate aliases, unknown members, loops; reports each as
   (\"directory\", line, message); returns the number of errors, -1 if unreadable */
int directory_check(config_errfn err);
/* checks, then writes control/directory.cdb atomically: 0 ok, >0 errors (nothing written), -1 error */
int directory_compile(config_errfn err);
/* the same, also giving the number of entries written */
int directory_build(config_errfn err, unsigned long *entries);

/* ---- lookups */
struct directory {
  int fd;              /* control/directory.cdb, -1 when there is none */
  struct cdb c;
  dev_t dev;
  ino_t ino;
  time_t mtime;
};
int directory_open(struct directory *d);       /* 0 (a missing cdb is an empty directory), -1 error */
int directory_refresh(struct directory *d);    /* reopen if the cdb was replaced: 0, -1 error */
void directory_close(struct directory *d);
/* 1 found (kind and data set), 0 not found, -1 error; alias matched case-insensitively;
   data holds the value after the kind byte, with a NUL after it (not counted in len) */
int directory_find(struct directory *d, const char *alias, size_t len, char *kind, stralloc *data);
/* the number of entries in the open cdb (0 when there is none): 0, or -1 error */
int directory_count(struct directory *d, unsigned long *n);

/* ---- resolution of one envelope recipient
   out() is called once per final destination: kind 'L' with a mailbox name,
   or 'R' with a remote address; `address` is the address delivered to.
   returns 1 resolved, 0 unknown local recipient, -1 temporary error */
typedef int (*resolve_fn)(void *ctx, char kind, const char *target, size_t tlen,
                          const char *address, size_t alen);
int resolve_recipient(const struct config *c, struct directory *d,
                      const char *rcpt, size_t len, resolve_fn out, void *ctx);

/* ---- delivery restrictions (control/senders.allow, senders.deny): as
   config_sender_out, and an entry naming a distribution list covers every
   mailbox the list reaches (nested lists too): the sender's local part, a
   mailbox of the directory, among the list's members.
   1 may send out, 0 may not, -1 temporary error (the directory) */
int directory_sender_out(const struct config *c, struct directory *d, const char *sender, size_t len);

#endif
