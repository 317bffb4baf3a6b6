/*
 * fuzz_addrlist.c -- libFuzzer target for the injectors' parsers: the
 * address-list parser (lib/addrlist.c) on the raw input, and the header
 * section reader (lib/message.c) on the input as a message, with every
 * To:/Cc:/Bcc:/From: field's addresses.  Checks that every address comes
 * out NUL-terminated and that the output length adds up.
 *
 *     clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ilib \
 *       tests/fuzz/fuzz_addrlist.c lib/addrlist.c lib/message.c lib/date.c \
 *       lib/fileio.c lib/queue.c -lowfat -o build/fuzz_addrlist
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "addrlist.h"
#include "message.h"

static void check_list(const stralloc *sa, int n)
{
  size_t pos = 0;
  for (; n > 0; n--) {
    const char *nul = memchr(sa->s + pos, 0, sa->len - pos);
    if (!nul) abort();
    pos = (size_t)(nul - sa->s) + 1;
  }
  if (pos != sa->len) abort();
}

static struct msgin in;

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  static const char *const fields[] = { "To", "Cc", "Bcc", "From", 0 };
  stralloc sa = {0};
  struct msghead h = { {0}, {0}, 0 };
  int n, i, fd;

  n = addrlist_parse((const char *)data, size, &sa);
  if (n >= 0) check_list(&sa, n);
  else if (sa.len) abort();

  fd = memfd_create("fuzz", 0);
  if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) < 0) abort();
  msgin_init(&in, fd, size & 1);
  if (msghead_read(&in, &h) == 0)
    for (i = 0; fields[i]; i++) {
      sa.len = 0;
      n = msghead_addresses(&h.text, fields[i], &sa);
      if (n >= 0) check_list(&sa, n);
    }
  msghead_drop(&h.text, "Bcc");
  if (msghead_has(&h.text, "Bcc")) abort();
  close(fd);
  msghead_free(&h);
  stralloc_free(&sa);
  return 0;
}
