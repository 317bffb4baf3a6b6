/*
 * t_directory.c -- control/directory (lib/directory.c, lib/dirlookup.c):
 * the checker's errors and their lines, compiling to a cdb, lookups, and
 * recipient resolution (postmaster, site and remote domains, contacts,
 * nested lists, loops, depth).  Files live in a temporary IMC_HOME.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "fixture.h"
#include "config.h"
#include "control.h"
#include "directory.h"

static char outs[8192];


static int record(void *ctx, char kind, const char *t, size_t tlen, const char *a, size_t alen)
{
  size_t n = strlen(outs);
  (*(int *)ctx)++;
  snprintf(outs + n, sizeof outs - n, "%c %.*s %.*s\n", kind, (int)tlen, t, (int)alen, a);
  return 0;
}

static int check_text(const char *text)
{
  put("directory", text);
  errs[0] = 0;
  return directory_check(collect);
}

static void test_check_errors(void)
{
  CHECK(check_text("# nothing\n\n") == 0);
  CHECK(check_text("mailbox alice \"Alice\"\n"
                   "frob x\n"
                   "mailbox bad!alias \"X\"\n"
                   "mailbox nodisplay\n"
                   "mailbox open \"Open\n"
                   "  mailbox ALICE \"again\"   # comment\n"
                   "list staff alice, nobody ,x@example.net\n"
                   "contact c1 \"C\" not-an-address\n"
                   "contact c2 \"C\"\n"
                   "list badm a b, ,x@\n"
                   "mailbox\n"
                   "mailbox extra \"E\" words\n") == 13);
  CHECK_STR(errs,
    "directory:2: unknown keyword: frob\n"
    "directory:3: bad alias: bad!alias\n"
    "directory:4: missing quoted display name\n"
    "directory:5: unterminated display name\n"
    "directory:6: duplicate alias: ALICE (first at line 1)\n"
    "directory:7: unknown list member: nobody\n"
    "directory:8: bad address: not-an-address\n"
    "directory:9: missing contact address\n"
    "directory:10: bad list member: a b\n"
    "directory:10: empty list member\n"
    "directory:10: bad address in list: x@\n"
    "directory:11: missing alias\n"
    "directory:12: extra words after the display name\n");
}

static void test_check_loops(void)
{
  CHECK(check_text("list a b\n"
                   "list b c, alice\n"
                   "list c a\n"
                   "mailbox alice \"A\"\n"
                   "list self self\n"
                   "list ok alice, postmaster\n") == 2);
  CHECK_STR(errs, "directory:3: list loop: a -> b -> c -> a\n"
                  "directory:5: list loop: self -> self\n");
}

/* n lists, l1 holding l2 ... holding a mailbox */
static void chain(char *buf, size_t size, int n)
{
  int i;
  size_t len = 0;
  for (i = 1; i < n; i++) len += (size_t)snprintf(buf + len, size - len, "list l%d l%d\n", i, i + 1);
  snprintf(buf + len, size - len, "list l%d deep\nmailbox deep \"Deep\"\n", n);
}

static void test_check_depth(void)
{
  char buf[2048];
  chain(buf, sizeof buf, DIR_MAXDEPTH);
  CHECK(check_text(buf) == 0);
  chain(buf, sizeof buf, DIR_MAXDEPTH + 2);
  CHECK(check_text(buf) == 1);
  CHECK_STR(errs, "directory:1: list l1: lists nested more than 32 deep\n");
}

static const char *good =
  "# the site directory\n"
  "mailbox alice \"Alice Example\"\n"
  "mailbox Bob \"Bob Example\"\n"
  "contact ext \"External Person\" Ext.Person@Remote.Example\n"
  "contact inside \"Alias of Alice\" alice@example.org\n"
  "list staff alice, bob, carol@remote.example\n"
  "list all staff, ops, ALICE\n"
  "list ops bob, ext\n"
  "list empty\n"
  "list admins alice, postmaster\n"
  "list loopa loopb@example.com, alice\n"       /* loops through addresses: */
  "list loopb loopa@EXAMPLE.com, bob\n";        /* the checker cannot see them */

static void test_compile_find(void)
{
  struct directory d;
  stralloc data = {0};
  unsigned long n = 0;
  char kind = 0;
  put("directory", good);
  errs[0] = 0;
  CHECK(directory_build(collect, &n) == 0);
  CHECK_STR(errs, "");
  CHECK(n == 11);
  CHECK(directory_open(&d) == 0);
  CHECK(d.fd >= 0);
  CHECK(directory_count(&d, &n) == 0 && n == 11);
  CHECK(directory_find(&d, "ALICE", 5, &kind, &data) == 1);
  CHECK(kind == DIR_MAILBOX);
  CHECK_MEM(data.s, data.len, "Alice Example");
  CHECK(directory_find(&d, "bob", 3, &kind, &data) == 1 && kind == DIR_MAILBOX);
  CHECK(directory_find(&d, "Staff", 5, &kind, &data) == 1 && kind == DIR_LIST);
  CHECK_MEM(data.s, data.len, "alice,bob,carol@remote.example");
  CHECK(directory_find(&d, "ext", 3, &kind, &data) == 1 && kind == DIR_CONTACT);
  CHECK_STR(data.s, "Ext.Person@Remote.Example");
  CHECK_STR(data.s + strlen(data.s) + 1, "External Person");
  CHECK(directory_find(&d, "empty", 5, &kind, &data) == 1 && kind == DIR_LIST && data.len == 0);
  CHECK(directory_find(&d, "nobody", 6, &kind, &data) == 0);
  CHECK(directory_find(&d, "", 0, &kind, &data) == 0);
  directory_close(&d);
  stralloc_free(&data);
  put("directory", "list broken nobody\n");
  CHECK(directory_compile(0) == 1);               /* errors: the old cdb stays */
  CHECK(directory_open(&d) == 0 && directory_count(&d, &n) == 0 && n == 11);
  directory_close(&d);
}

static int resolve(const struct config *c, struct directory *d, const char *rcpt, const char *want)
{
  int calls = 0, r;
  outs[0] = 0;
  r = resolve_recipient(c, d, rcpt, strlen(rcpt), record, &calls);
  if (strcmp(outs, want)) printf("resolve %s: got\n%s", rcpt, outs);
  CHECK_STR(outs, want);
  return r;
}

static void test_resolve(struct config *c, struct directory *d)
{
  CHECK(resolve(c, d, "alice@example.com", "L alice alice@example.com\n") == 1);
  CHECK(resolve(c, d, "ALICE@Example.ORG", "L alice ALICE@Example.ORG\n") == 1);
  CHECK(resolve(c, d, "Bob@EXAMPLE.COM", "L bob Bob@EXAMPLE.COM\n") == 1);
  CHECK(resolve(c, d, "Bob@Remote.Example", "R remote.example Bob@remote.example\n") == 1);
  CHECK(resolve(c, d, "x@[192.0.2.1]", "R [192.0.2.1] x@[192.0.2.1]\n") == 1);
  CHECK(resolve(c, d, "nobody@example.com", "") == 0);
  CHECK(resolve(c, d, "no body@example.com", "") == 0);
  CHECK(resolve(c, d, "ext@example.com", "R remote.example Ext.Person@remote.example\n") == 1);
  CHECK(resolve(c, d, "inside@example.com", "L alice alice@example.org\n") == 1);
  CHECK(resolve(c, d, "staff@Example.COM",
                "L alice alice@example.com\nL bob bob@example.com\nR remote.example carol@remote.example\n") == 1);
  CHECK(resolve(c, d, "all@example.org",
                "L alice alice@example.org\nL bob bob@example.org\nR remote.example carol@remote.example\n"
                "R remote.example Ext.Person@remote.example\n") == 1);
  CHECK(resolve(c, d, "empty@example.com", "") == 1);
  CHECK(resolve(c, d, "loopa@example.com", "L bob bob@example.com\nL alice alice@example.com\n") == 1);
  CHECK(resolve(c, d, "loopb@example.com", "L alice alice@example.com\nL bob bob@example.com\n") == 1);
}

/* senders.allow and senders.deny naming lists (nested: all holds staff and ops) */
static void test_restrictions(struct config *c, struct directory *d)
{
  stralloc allow = c->senders_allow, deny = c->senders_deny, a = {0}, n = {0};
  CHECK(stralloc_copyb(&a, "all\0", 4) && stralloc_copyb(&n, "ops@example.org\0", 16));
  c->senders_allow = a;
  CHECK(directory_sender_out(c, d, "alice@example.com", 17) == 1);     /* all > staff > alice */
  CHECK(directory_sender_out(c, d, "BOB@example.org", 15) == 1);       /* all > staff, ops > bob */
  CHECK(directory_sender_out(c, d, "carol@example.com", 17) == 0);     /* no such mailbox */
  CHECK(directory_sender_out(c, d, "bob@remote.example", 18) == 0);    /* not a site address */
  CHECK(directory_sender_out(c, d, "", 0) == 1);                       /* the null sender */
  c->senders_deny = n;
  CHECK(directory_sender_out(c, d, "bob@example.com", 15) == 0);       /* denied through ops */
  CHECK(directory_sender_out(c, d, "alice@example.com", 17) == 1);
  c->senders_allow.len = 0;
  CHECK(directory_sender_out(c, d, "alice@example.org", 17) == 1);     /* deny alone */
  CHECK(directory_sender_out(c, d, "bob@example.org", 15) == 0);
  CHECK(config_sender_out(c, "bob@example.org", 15) == 1);             /* without the directory: not listed */
  c->senders_allow = allow;
  c->senders_deny = deny;
  stralloc_free(&a);
  stralloc_free(&n);
}

static void set_postmaster(struct config *c, const char *pm)
{
  if (!stralloc_copys(&c->postmaster, pm)) exit(1);
}

static void test_postmaster(struct config *c, struct directory *d)
{
  CHECK(resolve(c, d, "postmaster@example.com", "L postmaster postmaster@example.com\n") == 1);
  CHECK(resolve(c, d, "PostMaster@EXAMPLE.ORG", "L postmaster PostMaster@EXAMPLE.ORG\n") == 1);
  CHECK(resolve(c, d, "postmaster", "L postmaster postmaster\n") == 1);
  CHECK(resolve(c, d, "postmaster@remote.example", "R remote.example postmaster@remote.example\n") == 1);
  set_postmaster(c, "Alice");
  CHECK(resolve(c, d, "postmaster@example.org", "L alice postmaster@example.org\n") == 1);
  set_postmaster(c, "admins");
  CHECK(resolve(c, d, "postmaster@example.com", "L alice alice@example.com\n") == 1);
  set_postmaster(c, "hostmaster");           /* not in the directory: a mailbox */
  CHECK(resolve(c, d, "postmaster@example.com", "L hostmaster postmaster@example.com\n") == 1);
  set_postmaster(c, "admin@Remote.Example");
  CHECK(resolve(c, d, "postmaster@example.com", "R remote.example admin@remote.example\n") == 1);
  set_postmaster(c, "postmaster@example.org");   /* would recurse */
  CHECK(resolve(c, d, "postmaster@example.com", "L postmaster postmaster@example.com\n") == 1);
  set_postmaster(c, "postmaster");
}

/* a cdb made by hand, as a corrupt or foreign one might be: loops the checker refuses */
static void test_loops_in_cdb(struct config *c)
{
  static struct cdb_make cm;
  struct directory d;
  char path[300];
  int fd, i;
  static const char *kv[][2] = {
    { "a", "lb,alice" }, { "b", "la,bob,b" }, { "alice", "mAlice" }, { "bob", "mBob" },
    { "c", "cc@example.com\0C" },
  };
  snprintf(path, sizeof path, "%s/control/directory.cdb", home);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  CHECK(fd >= 0 && cdb_make_start(&cm, fd) >= 0);
  for (i = 0; i < 5; i++)
    cdb_make_add(&cm, (const unsigned char *)kv[i][0], strlen(kv[i][0]), (const unsigned char *)kv[i][1],
                 i == 4 ? 17 : strlen(kv[i][1]));
  CHECK(cdb_make_finish(&cm) == 0);
  close(fd);
  CHECK(directory_open(&d) == 0);
  CHECK(resolve(c, &d, "a@example.com", "L bob bob@example.com\nL alice alice@example.com\n") == 1);
  CHECK(resolve(c, &d, "c@example.com", "") == 1);          /* a contact naming itself */
  directory_close(&d);
}

static void test_depth(struct config *c)
{
  char buf[4096];
  struct directory d;
  chain(buf, sizeof buf, DIR_MAXDEPTH);
  put("directory", buf);
  CHECK(directory_compile(0) == 0);
  CHECK(directory_open(&d) == 0);
  CHECK(resolve(c, &d, "l1@example.com", "L deep deep@example.com\n") == 1);
  directory_close(&d);
}

static void test_refresh(void)
{
  struct directory d;
  stralloc data = {0};
  char kind;
  put("directory", "mailbox one \"One\"\n");
  CHECK(directory_compile(0) == 0);
  CHECK(directory_open(&d) == 0);
  CHECK(directory_find(&d, "two", 3, &kind, &data) == 0);
  CHECK(directory_refresh(&d) == 0);                  /* unchanged */
  put("directory", "mailbox one \"One\"\nmailbox two \"Two\"\n");
  CHECK(directory_compile(0) == 0);
  CHECK(directory_refresh(&d) == 0);
  CHECK(directory_find(&d, "TWO", 3, &kind, &data) == 1 && kind == DIR_MAILBOX);
  directory_close(&d);
  CHECK(d.fd == -1);
  stralloc_free(&data);
}

static void test_missing(struct config *c)
{
  struct directory d;
  char path[300];
  unsigned long n = 9;
  snprintf(path, sizeof path, "%s/control/directory.cdb", home);
  unlink(path);
  CHECK(directory_open(&d) == 0 && d.fd == -1);
  CHECK(directory_count(&d, &n) == 0 && n == 0);
  CHECK(resolve(c, &d, "alice@example.com", "") == 0);
  CHECK(resolve(c, &d, "postmaster@example.com", "L postmaster postmaster@example.com\n") == 1);
  put("directory", "mailbox alice \"A\"\n");
  CHECK(directory_compile(0) == 0);
  CHECK(directory_refresh(&d) == 0 && d.fd >= 0);     /* appears */
  CHECK(resolve(c, &d, "alice@example.com", "L alice alice@example.com\n") == 1);
  unlink(path);
  CHECK(directory_refresh(&d) == 0 && d.fd == -1);    /* goes away */
  directory_close(&d);
}

int main(void)
{
  struct config c;
  struct directory d;
  fixture_open("t_directory");
  put("me", "mx.example.com\n");
  put("sitedomains", "example.com\nExample.ORG\n");
  CHECK(config_load(&c, 0) == 0);
  test_check_errors();
  test_check_loops();
  test_check_depth();
  test_compile_find();
  CHECK(directory_open(&d) == 0);
  test_resolve(&c, &d);
  test_restrictions(&c, &d);
  test_postmaster(&c, &d);
  directory_close(&d);
  test_loops_in_cdb(&c);
  test_depth(&c);
  test_refresh();
  test_missing(&c);
  config_free(&c);
  fixture_close();
  return check_done("t_directory");
}
