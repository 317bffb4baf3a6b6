/*
 * t_dsn.c -- RFC 3461 parameters (lib/dsn.c): xtext checks, decoding and
 * encoding; NOTIFY, ORCPT, RET and ENVID taken or refused with the right
 * reply; the packed form and its round trip; the envelope's D and N
 * records as env_check takes them (lib/queue.c).
 */
#include <string.h>
#include "check.h"
#include "dsn.h"
#include "queue.h"

static const char *param(const char *kv, int mail, struct dsn_params *p)
{
  const char *eq = strchr(kv, '=');
  size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
  return dsn_param(kv, klen, eq ? eq + 1 : "", eq ? strlen(eq + 1) : 0, eq != 0, mail, p);
}

static void xtext(void)
{
  stralloc sa = {0};
  CHECK(dsn_xtext_valid("abc", 3));
  CHECK(dsn_xtext_valid("a+2Bb+3D", 8));
  CHECK(dsn_xtext_valid("", 0));
  CHECK(!dsn_xtext_valid("a=b", 3));       /* '=' must be encoded */
  CHECK(!dsn_xtext_valid("a+2bb", 5));     /* hex is upper case */
  CHECK(!dsn_xtext_valid("a+2", 3));       /* cut short */
  CHECK(!dsn_xtext_valid("a b", 3));       /* a space must be encoded */
  CHECK(!dsn_xtext_valid("a+0A", 4));      /* decodes to a control character */
  CHECK(dsn_xtext_valid("a+20b", 5));      /* decodes to a space: printable */
  CHECK(!dsn_xtext_valid("\xe9", 1));
  CHECK(dsn_decode(&sa, "Bob+2Bx+20y", 11) == 0);
  CHECK_MEM(sa.s, sa.len, "Bob+x y");
  sa.len = 0;
  CHECK(dsn_encode(&sa, "a+b=c d", 7) == 0);
  CHECK_MEM(sa.s, sa.len, "a+2Bb+3Dc+20d");
  CHECK(dsn_xtext_valid(sa.s, sa.len));
  stralloc_free(&sa);
}

static void params(void)
{
  struct dsn_params p;
  char orcpt[600];
  memset(&p, 0, sizeof p);
  CHECK(param("SIZE=10", 1, &p) == DSN_NOT_MINE);
  CHECK(param("notify=success,Delay", 0, &p) == 0 && p.notify == (DSN_SUCCESS | DSN_DELAY));
  CHECK(!strncmp(param("NOTIFY=FAILURE", 0, &p), "501 5.5.4", 9));              /* twice */
  memset(&p, 0, sizeof p);
  CHECK(param("NOTIFY=NEVER", 0, &p) == 0 && dsn_wants(&p) == 0);
  memset(&p, 0, sizeof p);
  CHECK(dsn_wants(&p) == DSN_DEFAULT);
  CHECK(!strncmp(param("NOTIFY=NEVER,SUCCESS", 0, &p), "501 5.5.4", 9));
  CHECK(!strncmp(param("NOTIFY=SUCCESS,SUCCESS", 0, &p), "501 5.5.4", 9));
  CHECK(!strncmp(param("NOTIFY=", 0, &p), "501 5.5.4", 9));
  CHECK(!strncmp(param("NOTIFY", 0, &p), "501 5.5.4", 9));
  CHECK(!strncmp(param("NOTIFY=SUCCESS,", 0, &p), "501 5.5.4", 9));
  CHECK(!strncmp(param("NOTIFY=SUCCESS", 1, &p), "555 5.5.4", 9));               /* on MAIL */
  CHECK(!strncmp(param("RET=FULL", 0, &p), "555 5.5.4", 9));                     /* on RCPT */
  CHECK(param("ORCPT=rfc822;a+2Bb@x", 0, &p) == 0 && p.orcptlen == 14);
  memset(&p, 0, sizeof p);
  CHECK(!strncmp(param("ORCPT=rfc822", 0, &p), "501", 3));
  CHECK(!strncmp(param("ORCPT=rfc822;", 0, &p), "501", 3));
  CHECK(!strncmp(param("ORCPT=;a", 0, &p), "501", 3));
  CHECK(!strncmp(param("ORCPT=rfc_822;a", 0, &p), "501", 3));
  memcpy(orcpt, "ORCPT=rfc822;", 13);
  memset(orcpt + 13, 'a', 493);
  orcpt[13 + 493] = 0;                                                          /* value of 500 */
  CHECK(param(orcpt, 0, &p) == 0);
  memset(&p, 0, sizeof p);
  orcpt[13 + 493] = 'a';
  orcpt[13 + 494] = 0;                                                          /* 501 */
  CHECK(!strncmp(param(orcpt, 0, &p), "501", 3));
  CHECK(param("RET=hdrs", 1, &p) == 0 && p.ret == DSN_RET_HDRS);
  CHECK(!strncmp(param("RET=FULL", 1, &p), "501", 3));                          /* twice */
  CHECK(param("ENVID=x+2By", 1, &p) == 0 && p.envidlen == 5);
  memset(&p, 0, sizeof p);
  CHECK(!strncmp(param("RET=PARTIAL", 1, &p), "501", 3));
  CHECK(!strncmp(param("ENVID=", 1, &p), "501", 3));
  CHECK(!strncmp(param("ENVID=a b", 1, &p), "501", 3));
  memset(orcpt, 'e', sizeof orcpt);
  memcpy(orcpt, "ENVID=", 6);
  orcpt[106] = 0;                                                               /* 100: taken */
  CHECK(param(orcpt, 1, &p) == 0);
  memset(&p, 0, sizeof p);
  orcpt[106] = 'e';
  orcpt[107] = 0;
  CHECK(!strncmp(param(orcpt, 1, &p), "501", 3));
}

static void packed(void)
{
  struct dsn_params p, u;
  stralloc sa = {0};
  memset(&p, 0, sizeof p);
  param("ORCPT=rfc822;c+40x", 0, &p);
  param("NOTIFY=DELAY,SUCCESS", 0, &p);
  CHECK(dsn_pack(&sa, &p, 0) == 0);
  CHECK_MEM(sa.s, sa.len, "NOTIFY=SUCCESS,DELAY ORCPT=rfc822;c+40x");
  CHECK(dsn_unpack(sa.s, sa.len, 0, &u) == 0 && u.notify == (DSN_SUCCESS | DSN_DELAY) && u.orcptlen == 12);
  CHECK(dsn_unpack(sa.s, sa.len, 1, &u) < 0);                                  /* not MAIL's */
  sa.len = 0;
  memset(&p, 0, sizeof p);
  param("ENVID=e1", 1, &p);
  CHECK(dsn_pack(&sa, &p, 1) == 0);
  CHECK_MEM(sa.s, sa.len, "ENVID=e1");
  CHECK(dsn_unpack("RET=FULL  ENVID=x", 17, 1, &u) < 0);                       /* two spaces */
  CHECK(dsn_unpack("RET", 3, 1, &u) < 0);
  CHECK(dsn_unpack("", 0, 1, &u) == 0 && !u.ret && !u.envid);
  stralloc_free(&sa);
}

static int env_of(const char *recs, size_t len)
{
  return env_check(recs, len, 0);
}

static void envelope(void)
{
  static const char ok[] = "Fa@x\0DRET=FULL\0Tb@y\0NNOTIFY=NEVER\0Tc@y\0Iproto=ESMTP\0";
  static const char n_first[] = "Fa@x\0NNOTIFY=NEVER\0Tb@y\0";
  static const char two_d[] = "Fa@x\0DRET=FULL\0DENVID=x\0Tb@y\0";
  static const char bad_d[] = "Fa@x\0DRET=MOST\0Tb@y\0";
  static const char d_as_n[] = "Fa@x\0Tb@y\0NRET=FULL\0";
  static const char n_after_i[] = "Fa@x\0Tb@y\0Ia=b\0NNOTIFY=NEVER\0";
  CHECK(env_of(ok, sizeof ok) == 0);
  CHECK(env_of(n_first, sizeof n_first) == -1);
  CHECK(env_of(two_d, sizeof two_d) == -1);
  CHECK(env_of(bad_d, sizeof bad_d) == -1);
  CHECK(env_of(d_as_n, sizeof d_as_n) == -1);
  CHECK(env_of(n_after_i, sizeof n_after_i) == -1);
}

int main(void)
{
  xtext();
  params();
  packed();
  envelope();
  return check_done("t_dsn");
}
