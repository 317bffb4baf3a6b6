/*
 * passwd.h -- a user's uid from /etc/passwd, read directly.  imc-queue and
 * imc-remote are linked statically, without the name service, and both
 * need the uid of one of imc's users to decide whom they trust; a system
 * whose imc users come from another name service must list them in
 * /etc/passwd too (docs/SECURITY.md 11.4c, 11.4d).
 * Failure modes: an unreadable file, or a user not found or without a
 * numeric uid, all answer 0 (unknown).
 */
#ifndef IMC_PASSWD_H
#define IMC_PASSWD_H

#include <stddef.h>

/* the uid of user (ulen bytes) in the text of an /etc/passwd: 1 found, 0 not */
int passwd_uid(const char *text, size_t len, const char *user, size_t ulen, unsigned long *uid);
/* the same from /etc/passwd itself */
int passwd_file_uid(const char *user, size_t ulen, unsigned long *uid);

#endif
