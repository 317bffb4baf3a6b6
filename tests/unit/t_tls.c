/*
 * t_tls.c -- lib/tls.c on BearSSL.
 *
 * Without arguments (tests/run.sh): self-contained checks with throwaway
 * certificates embedded below (self-signed, CN=localhost, valid to 2126;
 * never use them for anything else): loading credentials and anchors
 * (missing file -1 ENOENT, garbage -2, mismatched key -2), what
 * tls_cert_inspect says of a certificate (dates, self-signed, name), cipher suite
 * names, and sessions between a forked server and a client over a
 * socketpair: STARTTLS with pipelined plaintext discarded, verified and
 * opportunistic clients, refused certificates (-2), a silent peer
 * (ETIMEDOUT), a peer that does not speak TLS, bulk data, close_notify.
 *
 * With arguments it is a peer for tests/integration/tls.sh:
 *   t_tls server PORT CERT KEY [starttls]   serve 127.0.0.1:PORT until killed
 *   t_tls client PORT HOST VERIFY [ANCHORS] one exchange; exit 0 ok, 2 refused, 1 failed
 * The server speaks a line protocol over TLS: QUIT ends it, CIPHER tells
 * the suite, anything else is echoed as "250 echo: LINE"; with starttls it
 * first greets in plaintext and takes EHLO and STARTTLS like an SMTP server.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "diag.h"
#include "fileio.h"
#include "tls.h"

static const char ec_pem[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBkzCCATigAwIBAgIUX0Gwv93ofaO9jKY7YccxdDWCmqEwCgYIKoZIzj0EAwIw\n"
  "FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyODAzMTYyOFoYDzIxMjYxMTA0\n"
  "MDMxNjI4WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO\n"
  "PQMBBwNCAASS1jZ924YtRRkD+XM2NMN/wHUws11WUQcO8wLAnqyOkwYCDekrHJPD\n"
  "mokl5MlI7GkOzhSqSirUi90GVAoMZSSZo2YwZDAdBgNVHQ4EFgQUU7sHrVl7Beev\n"
  "9gmiC6UcvsyyNfIwHwYDVR0jBBgwFoAUU7sHrVl7Beev9gmiC6UcvsyyNfIwFAYD\n"
  "VR0RBA0wC4IJbG9jYWxob3N0MAwGA1UdEwEB/wQCMAAwCgYIKoZIzj0EAwIDSQAw\n"
  "RgIhAOcui9kbUoLXsP/IhwhMSIndmeWaPKEANZxO8nYaDA8IAiEAt4jnK5yCdvph\n"
  "TOAYAcIdbggLRZr+EmP/GtN6vuliE7U=\n"
  "-----END CERTIFICATE-----\n"
  ;
static const char ec_key[] =
  "-----BEGIN PRIVATE KEY-----\n"
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg3av7KcNQxXpbS15b\n"
  "9iOg7dmnWurEAh7HHQ9ABWG5VvqhRANCAASS1jZ924YtRRkD+XM2NMN/wHUws11W\n"
  "UQcO8wLAnqyOkwYCDekrHJPDmokl5MlI7GkOzhSqSirUi90GVAoMZSSZ\n"
  "-----END PRIVATE KEY-----\n"
  ;
static const char rsa_pem[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIDHjCCAgagAwIBAgIUCD6b6MPIcU6jMn5/6+n+2j6WqckwDQYJKoZIhvcNAQEL\n"
  "BQAwFDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyODAzMTYyOVoYDzIxMjYx\n"
  "MTA0MDMxNjI5WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwggEiMA0GCSqGSIb3DQEB\n"
  "AQUAA4IBDwAwggEKAoIBAQDAJcYb+ON2I3634Gd1DxrZOnkuoA90KRulBtMMNlX3\n"
  "baSA/fLyF1JgaHvUpe8rO48jVidvwx4tpcdQPlcUwcVenBV7271lB5xXL/8t5f91\n"
  "1G8Z6C5zwI2ix2hyvbYXa+6zN9VtPxd+rpGGFN7KXR0ufWeDx439kOV7ZjO9ngOd\n"
  "qONrBrTNBY5H9fB34BlcFKVfEQAHBtlEI4pQ25MGFt4mdZjNyTYaZQGgjtnEiswZ\n"
  "01xQnMh3or3u7OUUKa1WlTVrhlW/GHXYEL4EVvAAkvz1k07BeWG4jiQbyRtF15qX\n"
  "yAm8/OsxAPcjmWg2oiR/B7py8S0hcCMi8oun9ppvbzi/AgMBAAGjZjBkMB0GA1Ud\n"
  "DgQWBBSecHTi1OYyXY/QR/GUvUhX6gSZijAfBgNVHSMEGDAWgBSecHTi1OYyXY/Q\n"
  "R/GUvUhX6gSZijAUBgNVHREEDTALgglsb2NhbGhvc3QwDAYDVR0TAQH/BAIwADAN\n"
  "BgkqhkiG9w0BAQsFAAOCAQEAt4TlcX9uWxEQuCKdG99gMJUe/Bp+YIiM/uYh5LwD\n"
  "lDu9ZLuqM7rjDsXQ5UTEkNY9q3KG3havHxSuW1bd96HCZOYEbvCfLT1NjycpXWy4\n"
  "GecskoVCYlEsmaNUtaw3zK0n7Xv5zauhA0RjVQ5pUQ1gKCQ5lKFLW1vZfHP8VP+4\n"
  "p8FkG2HPuaCWEcQRPihwWvKrKaIIOD/ook2NtdLeK7HLL2kXsx8o2kj2976KKTDm\n"
  "PnB2s2ic3HhoQbKvIlYW1pPz76Zw9i0XkaW1ozKzWR+TFxsmJyIWQRauWXpcV2gW\n"
  "v648n0pYrNB3FR5lRF2ESKuqz4QS5xE3uQ4kvERI5kzfEw==\n"
  "-----END CERTIFICATE-----\n"
  ;
static const char rsa_trad_key[] =
  "-----BEGIN RSA PRIVATE KEY-----\n"
  "MIIEoQIBAAKCAQEAwCXGG/jjdiN+t+BndQ8a2Tp5LqAPdCkbpQbTDDZV922kgP3y\n"
  "8hdSYGh71KXvKzuPI1Ynb8MeLaXHUD5XFMHFXpwVe9u9ZQecVy//LeX/ddRvGegu\n"
  "c8CNosdocr22F2vuszfVbT8Xfq6RhhTeyl0dLn1ng8eN/ZDle2YzvZ4Dnajjawa0\n"
  "zQWOR/Xwd+AZXBSlXxEABwbZRCOKUNuTBhbeJnWYzck2GmUBoI7ZxIrMGdNcUJzI\n"
  "d6K97uzlFCmtVpU1a4ZVvxh12BC+BFbwAJL89ZNOwXlhuI4kG8kbRdeal8gJvPzr\n"
  "MQD3I5loNqIkfwe6cvEtIXAjIvKLp/aab284vwIDAQABAoH/BmE6srMQ2ltTWceZ\n"
  "p8lYmt3WKDYoTTMQN+qCF2W2dQCu9Zl495DOq2TMt8LKriTMG+BAbvWLivh2JbPs\n"
  "MEQ+yWVlUTd6kmAuULbHQj7gvIjRJ4sN/8nk6gK09RpXcW+j/U9dRsNRhGNHcaw/\n"
  "uXhd/60qQrXdgQ3OkMpT7XfRpupl6CxtYYHXkyVRZ57Qhzb4ms+1hTsJOXTbQRm9\n"
  "iEv/oq3V1wdbh4ehU94aQJJoYE+iEN6qJuz6esdr+t59AziIoURJtehDAruP1clq\n"
  "TXnHfFVd1PO8CX75ruPk+p+LwHgQsuianOnfgw484FITEUXtOC6XkfDdN7hrkSLx\n"
  "4EgRAoGBAN9WhHcx2BsY0XU1WQv6aeE9PyW9EN4fOtI07IeSbIkJpgSeZ48oolBy\n"
  "uh5jSz262IJaiFjxGQQXVDl0cIT5icYOkv8cYtt40Nx8gY/I7EuPFwTGtRHxnCp1\n"
  "zXgx11XlEOKGY544EAau/490DLn2/nDr2V82xTgl74cOwdyRrINxAoGBANw/hzv3\n"
  "gRZcrz2AnpBv1/a+9ZQPit5hXsDR7zSfuHVEo0hRl/B8rtOXT05b/oDf64NQWMk4\n"
  "hcvAyNEAX8KD6+xT5sC68qvm8mcE3OUNwlg16ibiHKp0tV2qCFu5HaLQYk9VgR8l\n"
  "lwHCCsvA0yKbrxyS4T7LjsgYlXRqUoFAWwcvAoGAK4/lkJZBT6+8kz8Pml2Cr3NR\n"
  "0Nua4ah3wa6fACaYUvZ10mrPSkYjustV8D1v3J+IQYzFEYwdVAX04KwMknNV4zLO\n"
  "i0IPKj3bh1Yls1T+ehJz6/OSN+jHjCSkKjCWjuN6MqUB40eOIK+bm3CIVvGNWZs3\n"
  "L/Iv766+lLpVJ9+mJZECgYAPaXqjHZyw3ed9XES8QrdQEujIZZYIHbQttgMRIaQc\n"
  "wKLUarFBKNhrAgmQqCtVBVZLqBGucwAZ0/G5flc1G1ok/XIGRo64rL6FqvdyJ9ZT\n"
  "qeIqumPbIbOXTFCtanTCceaPOqKAdXbtrpBm1aVwpIhKbZTJeiERq3a54L7JQKGe\n"
  "DQKBgQDCEDsedcfynEYcvdOUUp2J8X1GLd9fPwnHESfVVRqihPJ90B9OzJsoPIMp\n"
  "ldMg8uok76n3rrKh9/hYOBxEm1EXZC2dcnoTKb+/psHZfgXWW9wYRhp2qLuAmj3z\n"
  "7H1AK7YwBuxNxTeNKGze1ntuwTSCapLfVxpA3RFXjo4CX7VZ/w==\n"
  "-----END RSA PRIVATE KEY-----\n"
  ;

static char tmpdir[] = "/tmp/t_tls.XXXXXX";

/* dir/name holding text; the path stays valid (a ring of buffers) */
static const char *file(const char *name, const char *text)
{
  static char ring[16][128];
  static int next;
  char *p = ring[next++ % 16];
  snprintf(p, 128, "%s/%s", tmpdir, name);
  if (text && file_replace(p, text, strlen(text), 0600) < 0) { perror(p); exit(111); }
  return p;
}

static int child_exit(pid_t pid)
{
  int st;
  if (waitpid(pid, &st, 0) < 0) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int is(const stralloc *line, const char *s)
{
  return line->len == strlen(s) && !memcmp(line->s, s, line->len);
}

static char pattern(size_t i) { return (char)('A' + i % 53 % 26); }

/* ---------------------------------------------------------------- the server side */

/* TAKE n: n bytes follow; SEND n: n bytes go back, then "250 sent" */
static void bulk(struct sio *s, const stralloc *line)
{
  char buf[8192], reply[64];
  size_t n = strtoul(line->s + 5, 0, 10), i, done = 0;
  int ok = 1;
  if (line->s[0] == 'T') {
    while (done < n) {
      ssize_t r = sio_read(s, buf, n - done < sizeof buf ? n - done : sizeof buf);
      if (r <= 0) return;
      for (i = 0; i < (size_t)r; i++) if (buf[i] != pattern(done + i)) ok = 0;
      done += (size_t)r;
    }
    snprintf(reply, sizeof reply, "250 took %zu %s\r\n", n, ok ? "ok" : "bad");
    sio_puts(s, reply);
    return;
  }
  for (; done < n; done += i) {
    for (i = 0; i < sizeof buf && done + i < n; i++) buf[i] = pattern(done + i);
    if (sio_put(s, buf, i) < 0) return;
  }
  sio_puts(s, "250 sent\r\n");
}

static void serve_lines(struct sio *s, size_t pending)
{
  stralloc line = { 0, 0, 0 };
  char reply[1100];
  while (sio_getline(s, &line, 1000, 0) == 1) {
    if (is(&line, "QUIT")) {
      sio_puts(s, "221 bye\r\n");
      tls_close(s);
      break;
    }
    if (is(&line, "CIPHER")) snprintf(reply, sizeof reply, "250 %s %s\r\n", tls_cipher(s), tls_version(s));
    else if (is(&line, "SNI")) snprintf(reply, sizeof reply, "250 sni [%s]\r\n", tls_sni(s));
    else if (is(&line, "PENDING")) snprintf(reply, sizeof reply, "250 pending %zu\r\n", pending);
    else if (line.len > 5 && (!memcmp(line.s, "TAKE ", 5) || !memcmp(line.s, "SEND ", 5))) {
      bulk(s, &line);
      reply[0] = 0;
    } else if (line.len >= 4 && !memcmp(line.s, "EHLO", 4)) snprintf(reply, sizeof reply, "250 t_tls\r\n");
    else snprintf(reply, sizeof reply, "250 echo: %.*s\r\n", (int)line.len, line.s);
    if (sio_puts(s, reply) < 0 || sio_flush(s) < 0) break;
  }
  stralloc_free(&line);
}

/* the plaintext part of a STARTTLS session: the input pending when STARTTLS came, or -1 */
static long plain_part(struct sio *s)
{
  stralloc line = { 0, 0, 0 };
  long pending = -1;
  sio_puts(s, "220 t_tls ready\r\n");
  while (sio_flush(s) == 0 && sio_getline(s, &line, 1000, 0) == 1) {
    if (is(&line, "STARTTLS")) {
      pending = (long)sio_pending(s);
      sio_puts(s, "220 go ahead\r\n");           /* tls_server_start flushes it */
      break;
    }
    if (line.len >= 4 && (!memcmp(line.s, "EHLO", 4) || !memcmp(line.s, "ehlo", 4)))
      sio_puts(s, "250-t_tls\r\n250 STARTTLS\r\n");
    else sio_puts(s, "500 say STARTTLS\r\n");
  }
  stralloc_free(&line);
  return pending;
}

/* one connection: 0 served, 1 TLS failed, 2 no STARTTLS */
static int serve(int fd, const struct tls_creds *c, int starttls, int verbose)
{
  struct sio s;
  long pending = 0;
  sio_init(&s, fd, fd, 5);
  if (starttls && (pending = plain_part(&s)) < 0) { sio_free(&s); return 2; }
  if (tls_server_start(&s, c) < 0) {
    if (verbose) printf("server: tls failed: %s\n", tls_strerror());
    sio_free(&s);
    return 1;
  }
  if (verbose) printf("server: tls ok %s %s pending=%ld\n", tls_version(&s), tls_cipher(&s), pending);
  fflush(stdout);
  serve_lines(&s, (size_t)pending);
  sio_free(&s);
  return 0;
}

/* ---------------------------------------------------------------- self checks: loading */

/* text with CR LF line ends, in sa */
static const char *crlf(stralloc *sa, const char *text)
{
  sa->len = 0;
  for (; *text; text++) {
    if (*text == '\n') stralloc_append(sa, "\r");
    stralloc_append(sa, text);
  }
  stralloc_0(sa);
  return sa->s;
}

static void test_creds(void)
{
  struct tls_creds *c = (struct tls_creds *)1;
  const char *ec = file("ec.pem", ec_pem), *eck = file("ec.key", ec_key);
  const char *rsa = file("rsa.pem", rsa_pem), *rsak = file("rsa.key", rsa_trad_key);
  stralloc both = { 0, 0, 0 };
  errno = 0;
  CHECK(tls_creds_load(&c, file("missing.pem", 0), eck) == -1 && errno == ENOENT && c == 0);
  CHECK(tls_creds_load(&c, ec, file("missing.key", 0)) == -1 && errno == ENOENT);
  CHECK(tls_creds_load(&c, file("garbage", "this is not PEM\n\1\2\3"), eck) == -2);
  CHECK(tls_creds_load(&c, file("empty", ""), eck) == -2);
  CHECK(tls_creds_load(&c, file("badb64", "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"), eck) == -2);
  CHECK(tls_creds_load(&c, file("badder", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), eck) == -2);
  CHECK(tls_creds_load(&c, file("unterminated", "-----BEGIN CERTIFICATE-----\nAAAA\n"), eck) == -2);
  CHECK(tls_creds_load(&c, ec, ec) == -2);                     /* no key in it */
  CHECK(tls_creds_load(&c, ec, rsak) == -2);                   /* not its key */
  CHECK(tls_creds_load(&c, rsa, eck) == -2);
  CHECK(tls_creds_load(&c, ec, file("enc.key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")) == -2);
  CHECK(c == 0);
  CHECK(tls_creds_load(&c, ec, eck) == 0 && c);                /* PKCS#8 EC */
  tls_creds_free(c);
  CHECK(tls_creds_load(&c, rsa, rsak) == 0 && c);              /* traditional RSA */
  tls_creds_free(c);
  stralloc_copys(&both, rsa_pem);
  stralloc_cats(&both, rsa_trad_key);
  stralloc_0(&both);
  CHECK(tls_creds_load(&c, file("both.pem", both.s), file("both.pem", 0)) == 0);
  tls_creds_free(c);
  file("crlf.pem", crlf(&both, ec_pem));                      /* CR LF line ends */
  file("crlf.key", crlf(&both, ec_key));
  CHECK(tls_creds_load(&c, file("crlf.pem", 0), file("crlf.key", 0)) == 0);
  tls_creds_free(c);
  stralloc_free(&both);
}

/* tls_cert_inspect: what imc-ctl check says of control/tls/cert.pem */
static void test_certinfo(void)
{
  struct tls_certinfo ci;
  const char *ec = file("ec.pem", 0), *rsa = file("rsa.pem", 0);
  errno = 0;
  CHECK(tls_cert_inspect(file("missing.pem", 0), "localhost", &ci) == -1 && errno == ENOENT);
  CHECK(tls_cert_inspect(file("garbage", 0), "localhost", &ci) == -2);
  CHECK(tls_cert_inspect(file("badder", 0), "localhost", &ci) == -2);
  CHECK(tls_cert_inspect(file("ec.key", 0), "localhost", &ci) == -2);   /* a key, no certificate */
  memset(&ci, 0, sizeof ci);
  CHECK(tls_cert_inspect(ec, "localhost", &ci) == 0);
  CHECK(ci.self_signed == 1 && ci.name_ok == 1);
  CHECK(ci.not_after == 4949435788LL);                  /* notAfter 2126-11-04 03:16:28Z */
  CHECK(tls_cert_inspect(ec, "LocalHost", &ci) == 0 && ci.name_ok == 1);
  CHECK(tls_cert_inspect(ec, "mx.example.com", &ci) == 0 && ci.name_ok == 0 && ci.self_signed == 1);
  CHECK(tls_cert_inspect(rsa, "localhost", &ci) == 0 && ci.self_signed == 1 && ci.name_ok == 1);
}

static void test_anchors(void)
{
  struct tls_anchors *a = 0;
  char two[sizeof ec_pem + sizeof rsa_pem];
  const char *bundle = "/etc/ssl/certs/ca-certificates.crt";
  errno = 0;
  CHECK(tls_anchors_load(&a, file("missing.pem", 0)) == -1 && errno == ENOENT && !a);
  CHECK(tls_anchors_load(&a, file("garbage", 0)) == -2 && !a);
  CHECK(tls_anchors_load(&a, file("ec.key", 0)) == -2);        /* a key is no anchor */
  CHECK(tls_anchors_load(&a, file("ec.pem", 0)) == 0 && tls_anchors_count(a) == 1);
  tls_anchors_free(a);
  snprintf(two, sizeof two, "%s%s", ec_pem, rsa_pem);
  CHECK(tls_anchors_load(&a, file("two.pem", two)) == 0 && tls_anchors_count(a) == 2);
  tls_anchors_free(a);
  if (access(bundle, R_OK) == 0) {
    CHECK(tls_anchors_load(&a, bundle) == 0 && tls_anchors_count(a) > 100);
    tls_anchors_free(a);
  }
}

static void test_names(void)
{
  char hex[7];
  struct sio s;
  CHECK_STR(tls_suite_name(0xC02F, hex), "ECDHE-RSA-AES128-GCM-SHA256");
  CHECK_STR(tls_suite_name(0xC02C, hex), "ECDHE-ECDSA-AES256-GCM-SHA384");
  CHECK_STR(tls_suite_name(0xCCA8, hex), "ECDHE-RSA-CHACHA20-POLY1305");
  CHECK_STR(tls_suite_name(0x009C, hex), "AES128-GCM-SHA256");
  CHECK_STR(tls_suite_name(0x1301, hex), "0x1301");
  CHECK_STR(tls_suite_name(0xabcd, hex), "0xABCD");
  sio_init(&s, -1, -1, 1);
  CHECK(tls_version(&s) == 0 && tls_cipher(&s) == 0);
  tls_close(&s);                                               /* plain: nothing to do */
}

/* ---------------------------------------------------------------- self checks: sessions */

/* a server child on one end of a fresh socketpair; *cfd: the client's end */
static pid_t spawn_server(int *cfd, const struct tls_creds *c, int starttls)
{
  int fd[2];
  pid_t pid;
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fd) < 0) { perror("socketpair"); exit(111); }
  fflush(stdout);
  pid = fork();
  if (pid < 0) { perror("fork"); exit(111); }
  if (pid == 0) {
    close(fd[1]);
    _exit(10 * serve(fd[0], c, starttls, 0));
  }
  close(fd[0]);
  *cfd = fd[1];
  return pid;
}

static int expect(struct sio *s, const char *want)
{
  stralloc line = { 0, 0, 0 };
  int ok = sio_getline(s, &line, 1000, 0) == 1 && is(&line, want);
  if (!ok) printf("got \"%.*s\", wanted \"%s\"\n", (int)line.len, line.s ? line.s : "", want);
  stralloc_free(&line);
  return ok;
}

static int send_cmd(struct sio *s, const char *cmd, const char *want)
{
  return sio_puts(s, cmd) == 0 && sio_flush(s) == 0 && expect(s, want);
}

/* 300000 bytes each way through the session */
static void test_bulk(struct sio *s)
{
  char buf[10000];
  size_t n = 300000, done = 0, i;
  int ok = 1;
  CHECK(sio_puts(s, "TAKE 300000\r\n") == 0);
  for (; done < n; done += i) {
    for (i = 0; i < sizeof buf && done + i < n; i++) buf[i] = pattern(done + i);
    if (sio_put(s, buf, i) < 0) break;
  }
  CHECK(done == n);
  CHECK(send_cmd(s, "", "250 took 300000 ok"));
  CHECK(sio_puts(s, "SEND 300000\r\n") == 0 && sio_flush(s) == 0);
  for (done = 0; done < n; ) {
    ssize_t r = sio_read(s, buf, n - done < sizeof buf ? n - done : sizeof buf);
    if (r <= 0) break;
    for (i = 0; i < (size_t)r; i++) if (buf[i] != pattern(done + i)) ok = 0;
    done += (size_t)r;
  }
  CHECK(done == n && ok);
  CHECK(expect(s, "250 sent"));
}

/* STARTTLS with plaintext pipelined after it, a verified EC server, bulk data, close_notify */
static void test_starttls(const struct tls_creds *ec, const struct tls_anchors *a)
{
  stralloc line = { 0, 0, 0 };
  char want[128];
  struct sio s;
  int fd;
  pid_t pid = spawn_server(&fd, ec, 1);
  sio_init(&s, fd, fd, 5);
  CHECK(expect(&s, "220 t_tls ready"));
  CHECK(sio_puts(&s, "STARTTLS\r\nHELLO-EVIL\r\n") == 0 && sio_flush(&s) == 0);
  CHECK(expect(&s, "220 go ahead"));
  CHECK(tls_client_start(&s, "localhost", 1, a) == 0);
  CHECK_STR(tls_version(&s), "TLSv1.2");
  CHECK(tls_cipher(&s) && !strncmp(tls_cipher(&s), "ECDHE-ECDSA-", 12));
  CHECK(send_cmd(&s, "HELLO\r\n", "250 echo: HELLO"));       /* not HELLO-EVIL */
  CHECK(send_cmd(&s, "PENDING\r\n", "250 pending 12"));     /* what the server dropped */
  snprintf(want, sizeof want, "250 %s TLSv1.2", tls_cipher(&s) ? tls_cipher(&s) : "?");
  CHECK(send_cmd(&s, "CIPHER\r\n", want));                  /* both sides name it alike */
  CHECK(sio_puts(&s, "ONE\r\nTWO\r\n") == 0 && sio_flush(&s) == 0);
  CHECK(expect(&s, "250 echo: ONE"));
  CHECK(sio_wait_readable(&s, 2000) == 1);
  CHECK(expect(&s, "250 echo: TWO"));
  test_bulk(&s);
  CHECK(send_cmd(&s, "QUIT\r\n", "221 bye"));
  CHECK(sio_getline(&s, &line, 100, 0) == 0);                /* close_notify: EOF */
  tls_close(&s);
  CHECK(s.tls == 0);
  sio_free(&s);
  close(fd);
  CHECK(child_exit(pid) == 0);
  stralloc_free(&line);
}

/* an RSA server, opportunistic and verified clients; the host may be an address or absent */
static void test_rsa(const struct tls_creds *rsa, const struct tls_anchors *a, const char *host, int verify,
                     const char *sni)
{
  struct sio s;
  int fd;
  pid_t pid = spawn_server(&fd, rsa, 0);
  sio_init(&s, fd, fd, 5);
  CHECK(tls_client_start(&s, host, verify, a) == 0);
  CHECK(tls_cipher(&s) && !strncmp(tls_cipher(&s), "ECDHE-RSA-", 10));
  CHECK(send_cmd(&s, "HELLO RSA\r\n", "250 echo: HELLO RSA"));
  CHECK(send_cmd(&s, "SNI\r\n", sni));
  CHECK(send_cmd(&s, "QUIT\r\n", "221 bye"));
  tls_close(&s);
  sio_free(&s);
  close(fd);
  CHECK(child_exit(pid) == 0);
}

/* a verifying client refuses the server: -2, and why */
static void test_refused(const struct tls_creds *c, const struct tls_anchors *a, const char *host, const char *why)
{
  struct sio s;
  int fd;
  pid_t pid = spawn_server(&fd, c, 0);
  sio_init(&s, fd, fd, 5);
  CHECK(tls_client_start(&s, host, 1, a) == -2);
  CHECK_STR(tls_strerror(), why);
  CHECK(s.tls == 0);
  sio_free(&s);
  close(fd);
  CHECK(child_exit(pid) == 10);                              /* the server saw it fail */
}

static void test_bad_peers(const struct tls_creds *c, const struct tls_anchors *a)
{
  struct sio s;
  int fd[2];
  double t0;
  sio_init(&s, -1, -1, 1);
  errno = 0;
  CHECK(tls_client_start(&s, "localhost", 1, 0) == -1 && errno == EINVAL);
  CHECK(tls_client_start(&s, 0, 1, a) == -1 && errno == EINVAL);
  /* a peer that never answers */
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0);
  sio_init(&s, fd[0], fd[0], 1);
  t0 = now();
  errno = 0;
  CHECK(tls_client_start(&s, "localhost", 0, 0) == -1 && errno == ETIMEDOUT);
  CHECK(now() - t0 >= 0.95 && now() - t0 < 3);
  CHECK(s.tls == 0 && strlen(tls_strerror()) > 0);
  /* a peer that does not speak TLS */
  CHECK(write(fd[1], "220 smtp.example ESMTP\r\n", 24) == 24);
  CHECK(tls_client_start(&s, "localhost", 0, 0) == -1);
  close(fd[1]);
  sio_free(&s);
  close(fd[0]);
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0);
  sio_init(&s, fd[0], fd[0], 2);
  CHECK(write(fd[1], "EHLO client.example\r\n", 21) == 21);
  CHECK(tls_server_start(&s, c) == -1);
  close(fd[1]);
  CHECK(tls_server_start(&s, c) == -1);                      /* peer gone: EOF */
  sio_free(&s);
  close(fd[0]);
}

static void rm_tmpdir(void)
{
  DIR *d = opendir(tmpdir);
  struct dirent *e;
  char p[300];
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.') {
      snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
      unlink(p);
    }
  if (d) closedir(d);
  rmdir(tmpdir);
}

static int self_checks(void)
{
  struct tls_creds *ec = 0, *rsa = 0;
  struct tls_anchors *eca = 0, *rsaa = 0, *sys = 0;
  if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 111; }
  test_creds();
  test_certinfo();
  test_anchors();
  test_names();
  CHECK(tls_creds_load(&ec, file("ec.pem", 0), file("ec.key", 0)) == 0);
  CHECK(tls_creds_load(&rsa, file("rsa.pem", 0), file("rsa.key", 0)) == 0);
  CHECK(tls_anchors_load(&eca, file("ec.pem", 0)) == 0);
  CHECK(tls_anchors_load(&rsaa, file("rsa.pem", 0)) == 0);
  if (ec && rsa && eca && rsaa) {
    test_starttls(ec, eca);
    test_rsa(rsa, 0, "localhost", 0, "250 sni [localhost]");
    test_rsa(rsa, 0, "127.0.0.1", 0, "250 sni []");           /* no address as SNI */
    test_rsa(rsa, 0, "2001:db8::25", 0, "250 sni []");
    test_rsa(rsa, 0, 0, 0, "250 sni []");
    test_rsa(rsa, rsaa, "localhost", 1, "250 sni [localhost]");
    test_refused(ec, eca, "wrong.example", "server name mismatch");
    test_refused(ec, rsaa, "localhost", "certificate not trusted");
    if (tls_anchors_load(&sys, "/etc/ssl/certs/ca-certificates.crt") == 0)
      test_refused(rsa, sys, "localhost", "certificate not trusted");
    test_bad_peers(ec, eca);
  }
  tls_creds_free(ec);
  tls_creds_free(rsa);
  tls_anchors_free(eca);
  tls_anchors_free(rsaa);
  tls_anchors_free(sys);
  rm_tmpdir();
  return check_done("t_tls");
}

/* ---------------------------------------------------------------- peers for tls.sh */

static int server_main(int argc, char **argv)
{
  struct sockaddr_in sa;
  struct tls_creds *c;
  int lfd, one = 1, r;
  if (argc < 5) return 100;
  if ((r = tls_creds_load(&c, argv[3], argv[4])) < 0) {
    if (r == -1) perror("tls_creds_load");
    return 111;
  }
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)atoi(argv[2]));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0
      || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 16) < 0) {
    perror("listen");
    return 111;
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    int fd = accept(lfd, 0, 0);
    if (fd < 0) { if (errno == EINTR) continue; perror("accept"); return 111; }
    serve(fd, c, argc > 5 && !strcmp(argv[5], "starttls"), 1);
    close(fd);
    fflush(stdout);
  }
}

static int client_main(int argc, char **argv)
{
  struct sockaddr_in sa;
  struct tls_anchors *a = 0;
  stralloc line = { 0, 0, 0 };
  const char *host;
  struct sio s;
  int fd, verify, r;
  if (argc < 5) return 100;
  host = strcmp(argv[3], "-") ? argv[3] : 0;
  verify = atoi(argv[4]);
  if (argc > 5 && tls_anchors_load(&a, argv[5]) < 0) { perror("tls_anchors_load"); return 1; }
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)atoi(argv[2]));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { perror("connect"); return 1; }
  sio_init(&s, fd, fd, 10);
  r = tls_client_start(&s, host, verify, a);
  if (r < 0) {
    printf("client: %s: %s\n", r == -2 ? "refused" : "failed", tls_strerror());
    return r == -2 ? 2 : 1;
  }
  printf("client: tls ok %s %s\n", tls_version(&s), tls_cipher(&s));
  if (sio_puts(&s, "hello from t_tls\n") < 0 || sio_flush(&s) < 0) return 1;
  r = sio_getline(&s, &line, 1000, 0);
  printf("client: got %d %.*s\n", r, (int)line.len, line.s ? line.s : "");
  tls_close(&s);
  sio_free(&s);
  close(fd);
  tls_anchors_free(a);
  return r == 1 ? 0 : 1;
}

int main(int argc, char **argv)
{
  diag_prog = "t_tls";
  signal(SIGPIPE, SIG_IGN);
  if (argc > 1 && !strcmp(argv[1], "server")) return server_main(argc, argv);
  if (argc > 1 && !strcmp(argv[1], "client")) return client_main(argc, argv);
  if (argc > 1) {
    fprintf(stderr, "usage: t_tls [server PORT CERT KEY [starttls] | client PORT HOST VERIFY [ANCHORS]]\n");
    return 100;
  }
  return self_checks();
}
