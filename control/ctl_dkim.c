/*
 * ctl_dkim.c -- imc-ctl dkim-keygen, imc-ctl dmarc, and imc-ctl check's
 * look at control/dkim's keys (see ctl_dkim.h).
 *
 * Keys are made with BearSSL (RSA 2048, e = 65537, the system's random
 * source) and written as PEM "RSA PRIVATE KEY" to
 * control/dkimkeys/SELECTOR.DOMAIN.pem, mode 0400, owned by imcr (group
 * root) in a system instance run by root, else by the caller: only
 * imc-remote, which signs, reads it.  The key bytes are wiped after use.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bearssl.h>
#include "base64.h"
#include "control.h"
#include "ctl_dkim.h"
#include "ctl_write.h"
#include "diag.h"
#include "dkim.h"
#include "dkimcfg.h"
#include "dmarc.h"
#include "dnsq.h"
#include "exitcodes.h"
#include "fileio.h"
#include "stdout.h"
#include "tls.h"

#define KEY_BITS 2048

/* ---- DER of the public key (SubjectPublicKeyInfo) */

static size_t der_len(unsigned char *out, size_t n)
{
  if (n < 128) { out[0] = (unsigned char)n; return 1; }
  if (n < 256) { out[0] = 0x81; out[1] = (unsigned char)n; return 2; }
  out[0] = 0x82; out[1] = (unsigned char)(n >> 8); out[2] = (unsigned char)n;
  return 3;
}

/* tag, length, contents at out: the bytes written */
static size_t der_put(unsigned char *out, unsigned char tag, const unsigned char *c, size_t n)
{
  size_t k = 1;
  out[0] = tag;
  k += der_len(out + 1, n);
  memmove(out + k, c, n);
  return k + n;
}

static size_t der_uint(unsigned char *out, const unsigned char *v, size_t n)
{
  unsigned char tmp[600];
  size_t k = 0;
  while (n > 1 && !*v) { v++; n--; }
  if (*v & 0x80) tmp[k++] = 0;
  memcpy(tmp + k, v, n);
  return der_put(out, 0x02, tmp, k + n);
}

static size_t spki(unsigned char *out, const br_rsa_public_key *pk)
{
  static const unsigned char alg[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00 };
  unsigned char ints[600], seq[620], bits[640], body[700];
  size_t n = der_uint(ints, pk->n, pk->nlen);
  n += der_uint(ints + n, pk->e, pk->elen);
  n = der_put(seq, 0x30, ints, n);
  bits[0] = 0;
  memcpy(bits + 1, seq, n);
  memcpy(body, alg, sizeof alg);
  n = sizeof alg + der_put(body + sizeof alg, 0x03, bits, n + 1);
  return der_put(out, 0x30, body, n);
}

/* ---- the key */

struct newkey {
  unsigned char priv[BR_RSA_KBUF_PRIV_SIZE(KEY_BITS)], pub[BR_RSA_KBUF_PUB_SIZE(KEY_BITS)];
  unsigned char d[KEY_BITS / 8];
  br_rsa_private_key sk;
  br_rsa_public_key pk;
};

static void keygen(struct newkey *k)
{
  br_hmac_drbg_context rng;
  br_prng_seeder seeder = br_prng_seeder_system(0);
  br_hmac_drbg_init(&rng, &br_sha256_vtable, 0, 0);
  if (!seeder || !seeder(&rng.vtable)) fatal(EX_TEMP, "no system random source for the key");
  if (!br_rsa_keygen_get_default()(&rng.vtable, &k->sk, k->priv, &k->pk, k->pub, KEY_BITS, 65537))
    fatal(EX_TEMP, "RSA key generation failed");
  if (!br_rsa_compute_privexp_get_default()(k->d, &k->sk, 65537)) fatal(EX_TEMP, "RSA key generation failed");
  explicit_bzero(&rng, sizeof rng);
}

/* the key as PEM into pem: its length */
static size_t key_pem(const struct newkey *k, char *pem, size_t cap)
{
  unsigned char der[2048];
  size_t n = br_encode_rsa_raw_der(0, &k->sk, &k->pk, k->d, sizeof k->d), p;
  if (n > sizeof der) fatal(EX_TEMP, "key too long");
  br_encode_rsa_raw_der(der, &k->sk, &k->pk, k->d, sizeof k->d);
  p = br_pem_encode(0, der, n, "RSA PRIVATE KEY", BR_PEM_LINE64);
  if (p + 1 > cap) fatal(EX_TEMP, "key too long");
  br_pem_encode(pem, der, n, "RSA PRIVATE KEY", BR_PEM_LINE64);
  explicit_bzero(der, sizeof der);
  return p;
}

/* imcr:root in a system instance run by root, else the caller */
static void key_owner(uid_t *uid, gid_t *gid)
{
  struct passwd *pw;
  *uid = geteuid();
  *gid = getegid();
  if (geteuid() == 0 && ctl_system_mode() && (pw = getpwnam("imcr"))) { *uid = pw->pw_uid; *gid = 0; }
}

static void write_key(const char *rel, const struct newkey *k)
{
  static char pem[4096];
  stralloc path = {0}, dirp = {0};
  uid_t uid;
  gid_t gid;
  size_t n = key_pem(k, pem, sizeof pem);
  key_owner(&uid, &gid);
  if (imc_path2(&dirp, "control", "dkimkeys") < 0 || imc_path2(&path, "control", rel) < 0) fatal(EX_TEMP, "out of memory");
  if (mkdir(dirp.s, 0755) < 0 && errno != EEXIST) fatalsys(EX_TEMP, "unable to create control/dkimkeys");
  if (file_replace_owned(path.s, pem, n, 0400, uid, gid) < 0) fatalsys(EX_TEMP, "unable to write control/", rel);
  explicit_bzero(pem, n);
  stralloc_free(&path);
  stralloc_free(&dirp);
}

/* control/dkim with the domain's line replaced, or added */
static void write_line(const char *domain, const char *selector, const char *rel)
{
  stralloc path = {0}, old = {0}, text = {0};
  size_t pos = 0;
  int r;
  if (imc_path2(&path, "control", "dkim") < 0) fatal(EX_TEMP, "out of memory");
  if ((r = file_read(path.s, &old)) < 0) fatalsys(EX_TEMP, "unable to read control/dkim");
  while (pos < old.len) {
    const char *nl = memchr(old.s + pos, '\n', old.len - pos);
    size_t n = nl ? (size_t)(nl - old.s - pos) + 1 : old.len - pos, dl = strlen(domain), i = pos;
    while (i < pos + n && (old.s[i] == ' ' || old.s[i] == '\t')) i++;
    if (!(pos + n - i > dl && !strncasecmp(old.s + i, domain, dl) && (old.s[i + dl] == ' ' || old.s[i + dl] == '\t'))) {
      if (!stralloc_catb(&text, old.s + pos, n) || (!nl && !stralloc_append(&text, "\n"))) fatal(EX_TEMP, "out of memory");
    }
    pos += n;
  }
  if (!stralloc_cats(&text, domain) || !stralloc_append(&text, " ") || !stralloc_cats(&text, selector)
      || !stralloc_append(&text, " ") || !stralloc_cats(&text, rel) || !stralloc_append(&text, "\n")) fatal(EX_TEMP, "out of memory");
  if (ctl_write("dkim", text.s, text.len) < 0) fatalsys(EX_TEMP, "unable to write control/dkim");
  stralloc_free(&path);
  stralloc_free(&old);
  stralloc_free(&text);
}

/* the DNS record, its p= split into strings of at most 255 bytes */
static void print_record(const char *domain, const char *selector, const br_rsa_public_key *pk)
{
  unsigned char der[700];
  char b64[BASE64_LEN(700)];
  size_t n = base64_encode(b64, (const char *)der, spki(der, pk)), i;
  out_puts(selector);
  out_puts("._domainkey.");
  out_puts(domain);
  out_puts(". IN TXT ( \"v=DKIM1; k=rsa; \"");
  for (i = 0; i < n; i += 250) {
    out_puts("\n  \"");
    if (!i) out_puts("p=");
    out_putb(b64 + i, n - i < 250 ? n - i : 250);
    out_puts("\"");
  }
  out_puts(" )\n");
}

int ctl_dkim_keygen(const char *domain, const char *selector)
{
  static struct newkey k;
  struct dkim_line line;
  stralloc l = {0}, rel = {0};
  const char *why;
  if (!stralloc_copys(&l, domain) || !stralloc_append(&l, " ") || !stralloc_cats(&l, selector)
      || !stralloc_cats(&l, " x") || !stralloc_0(&l)) fatal(EX_TEMP, "out of memory");
  if ((why = dkimcfg_parse_line(l.s, &line)) != 0) fatal(EX_PERM, why, ": ", domain, " ", selector);
  if (!stralloc_copys(&rel, "dkimkeys/") || !stralloc_cats(&rel, line.selector) || !stralloc_append(&rel, ".")
      || !stralloc_cats(&rel, line.domain) || !stralloc_cats(&rel, ".pem") || !stralloc_0(&rel)) fatal(EX_TEMP, "out of memory");
  keygen(&k);
  write_key(rel.s, &k);
  write_line(line.domain, line.selector, rel.s);
  out_puts("imc-ctl: wrote control/");
  out_puts(rel.s);
  out_puts(" and the control/dkim line; publish this record:\n");
  print_record(line.domain, line.selector, &k.pk);
  out_flush();
  explicit_bzero(&k, sizeof k);
  stralloc_free(&l);
  stralloc_free(&rel);
  return EX_OK;
}

/* ---- imc-ctl check: each key of control/dkim */

static void check_key(const struct dkim_line *l, config_errfn err)
{
  stralloc path = {0};
  struct tls_creds *c = 0;
  struct stat st;
  const br_rsa_private_key *sk;
  if (imc_path2(&path, "control", l->keyfile) < 0) return;
  if (stat(path.s, &st) < 0) err("dkim", l->line, "the key file cannot be read");
  else if (st.st_mode & 0004) err("dkim", l->line, "the key file is readable by others (make it 0400)");
  else if (tls_key_load(&c, path.s) != 0) err("dkim", l->line, "the key file does not hold a private key that parses");
  else if (!(sk = tls_key_rsa(c))) err("dkim", l->line, "the key is not an RSA key");
  else if (sk->n_bitlen < KEY_BITS) err("dkim", l->line, "the key is shorter than 2048 bits");
  tls_creds_free(c);
  stralloc_free(&path);
}

int ctl_dkim_check(config_errfn err)
{
  struct dkimcfg c;
  unsigned i;
  int r = dkimcfg_load(&c, err);
  if (r < 0) return -1;
  for (i = 0; i < c.n; i++) check_key(&c.l[i], err);
  dkimcfg_free(&c);
  return 0;
}

/* ---- imc-ctl dmarc DOMAIN */

static void say(const char *name, const char *value)
{
  out_puts(name);
  out_puts(": ");
  out_puts(value);
  out_puts("\n");
}

int ctl_dmarc(const char *domain, const char *dnscacheip)
{
  static struct dnsq_servers servers;
  static struct dnsq_cache cache;
  struct psl psl;
  struct dmarc_found f;
  stralloc d = {0};
  char pct[8];
  size_t i;
  if (!stralloc_copys(&d, domain) || !stralloc_0(&d)) fatal(EX_TEMP, "out of memory");
  for (i = 0; i < d.len; i++) if (d.s[i] >= 'A' && d.s[i] <= 'Z') d.s[i] += 32;
  if (d.len > 1 && d.s[d.len - 2] == '.') d.s[d.len - 2] = 0;
  if (psl_load(&psl, PSL_FILE) < 0) fatalsys(EX_TEMP, "unable to read ", PSL_FILE, " (Debian package publicsuffix)");
  if (dnsq_servers_init(&servers, dnscacheip) < 0) fatal(EX_TEMP, "no DNS server address in DNSCACHEIP");
  dnsq_cache_init(&cache, &servers, dnsq_now() + 20000);
  dmarc_discover(&f, d.s, &psl, dnsq_txt, &cache);
  say("domain", d.s);
  say("organizational domain", d.s + psl_org(&psl, d.s));
  say("dmarc", f.status == DMARC_PASS ? "record found" : dmarc_result_name[f.status]);
  if (f.status == DMARC_PASS) {
    say("record at", f.where);
    say("p", dmarc_policy_name[f.rec.p]);
    say("sp", dmarc_policy_name[f.rec.sp]);
    say("adkim", f.rec.adkim_strict ? "s" : "r");
    say("aspf", f.rec.aspf_strict ? "s" : "r");
    pct[fmt_ulong(pct, f.rec.pct)] = 0;
    say("pct", pct);
  } else if (f.why) say("problem", f.why);
  out_flush();
  dnsq_cache_free(&cache);
  psl_free(&psl);
  stralloc_free(&d);
  return EX_OK;
}
