/*
 * dnsq_servers.c -- which DNS servers the stub resolver asks (see dnsq.h):
 * DNSCACHEIP's addresses in libowfat's form, else the nameserver lines of
 * /etc/resolv.conf, else 127.0.0.1.
 *
 * Input: DNSCACHEIP's text (at most DNSQ_SERVERS_MAX addresses are taken;
 * text that is not an address ends the list) or resolv.conf (read in its
 * first 8 KB).  Failure modes: a DNSCACHEIP with no address at all is an
 * error (-1), not a silent fallback to the system's servers.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "dnsq.h"
#include "rules.h"

static void add(struct dnsq_servers *s, const unsigned char ip[16])
{
  if (s->n < DNSQ_SERVERS_MAX) memcpy(s->ip[s->n++], ip, 16);
}

/* one address at the start of t into ip: the bytes it takes, 0 none */
static size_t scan_one(const char *t, unsigned char ip[16])
{
  static const unsigned char v4[12] = {0,0,0,0, 0,0,0,0, 0,0,0xff,0xff};
  size_t n = scan_ip4(t, (char *)ip + 12);
  if (n) { memcpy(ip, v4, 12); return n; }
  return scan_ip6(t, (char *)ip);
}

unsigned dnsq_servers_scan(struct dnsq_servers *s, const char *t)
{
  unsigned char ip[16];
  size_t n;
  s->n = 0;
  while (*t && s->n < DNSQ_SERVERS_MAX) {
    if (*t == '.' || *t == ',' || *t == ' ' || *t == '\t' || *t == '\n') { t++; continue; }
    if (!(n = scan_one(t, ip))) break;
    add(s, ip);
    t += n;
  }
  return s->n;
}

/* the nameserver lines of /etc/resolv.conf */
static void resolv_conf(struct dnsq_servers *s)
{
  char buf[8192], word[64];
  unsigned char ip[16];
  ssize_t r;
  size_t len = 0, i = 0, w;
  int fd = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  while (len < sizeof buf - 1 && (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0) len += (size_t)r;
  close(fd);
  buf[len] = 0;
  while (i < len) {
    size_t eol = i + str_chr(buf + i, '\n');
    if (!str_diffn(buf + i, "nameserver", 10) && (buf[i + 10] == ' ' || buf[i + 10] == '\t')) {
      i += 10;
      while (buf[i] == ' ' || buf[i] == '\t') i++;
      for (w = 0; i < eol && w < sizeof word - 1 && buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r'; ) word[w++] = buf[i++];
      word[w] = 0;
      if (ip_scan(word, ip)) add(s, ip);
    }
    i = eol + 1;
  }
}

int dnsq_servers_init(struct dnsq_servers *s, const char *dnscacheip)
{
  static const unsigned char local[16] = {0,0,0,0, 0,0,0,0, 0,0,0xff,0xff, 127,0,0,1};
  s->n = 0;
  s->try_ms = DNSQ_TRY_MS;
  if (dnscacheip) return dnsq_servers_scan(s, dnscacheip) ? 0 : -1;
  resolv_conf(s);
  if (!s->n) add(s, local);
  return 0;
}
