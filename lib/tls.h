/*
 * tls.h -- TLS for imc-smtpd (server) and imc-remote (client), on BearSSL.
 *
 * TLS 1.2 only (BearSSL has no 1.3).  The engine runs over the struct
 * sio's fds with the sio timeout; after tls_server_start or
 * tls_client_start succeeds, sio reads and writes go through TLS.  Each
 * session is one allocation (struct tls_session, ~42 KB with its 33 KB
 * BR_SSL_BUFSIZE_BIDI buffer), freed by tls_close, tls_abort or sio_free;
 * nothing is allocated per record.  Renegotiation is refused.
 *
 * Credentials: a PEM certificate chain (end-entity first) and a PEM key
 * (RSA or EC, PKCS#8 or traditional).  Trust anchors for verification are
 * read from a PEM bundle (/etc/ssl/certs/ca-certificates.crt).
 */
#ifndef IMC_TLS_H
#define IMC_TLS_H

#include <bearssl.h>
#include "sio.h"

struct tls_creds;                                  /* server certificate and key */
struct tls_anchors;                                /* trust anchors for clients */

/* 0 ok; -1 error (errno: ENOENT when a file is missing -- STARTTLS is then not offered);
   -2 the files do not parse (a diagnostic has been written) */
int tls_creds_load(struct tls_creds **c, const char *certfile, const char *keyfile);
void tls_creds_free(struct tls_creds *c);
/* a private key alone, for DKIM signing: 0, -1 (errno), -2 (diagnosed on fd 2) */
int tls_key_load(struct tls_creds **c, const char *keyfile);
const br_rsa_private_key *tls_key_rsa(const struct tls_creds *c);   /* 0 unless RSA */
int tls_anchors_load(struct tls_anchors **a, const char *bundle);    /* 0, -1, -2 as above */

/* what imc-ctl check says of a server certificate: the first one of a PEM
   file, checked by BearSSL's X.509 engine (no DER parsing of our own) */
struct tls_certinfo {
  long long not_after;              /* Unix time of notAfter */
  int self_signed;                  /* its issuer is its subject and its own key signed it */
  int name_ok;                      /* its subjectAltName (or CN) names the name given */
};
/* 0, -1 (errno; ENOENT: no such file), -2 (does not parse: diagnosed on fd 2) */
int tls_cert_inspect(const char *certfile, const char *name, struct tls_certinfo *ci);

/* Both starts first flush s's pending output (the "220 ready" reply) and
   discard every input byte already buffered (CVE-2011-0411: plaintext
   pipelined after STARTTLS must never be read as if it came over TLS);
   check sio_pending() before the call to log or refuse such a client.
   The credentials and anchors must outlive the session.  Each step of
   the handshake waits at most s->timeout seconds. */
/* handshake over s; 0 ok, -1 failed (s is unusable: close the session) */
int tls_server_start(struct sio *s, const struct tls_creds *c);
/* verify: 0 accept any certificate (opportunistic), 1 check the chain against
   anchors and the host name; 0 ok, -1 failed, -2 certificate refused (verify) */
/* host: SNI and, with verify, the name the certificate must carry (needed then:
   -1 EINVAL without it or without anchors); an IP address is not sent as SNI */
int tls_client_start(struct sio *s, const char *host, int verify, const struct tls_anchors *a);
/* flush pending output, send close_notify (best effort, no wait for the peer's), free;
   afterwards s is plain again with empty buffers (close the connection) */
void tls_close(struct sio *s);

const char *tls_version(const struct sio *s);      /* "TLSv1.2", or 0 when plain */
const char *tls_cipher(const struct sio *s);       /* e.g. "ECDHE-RSA-AES128-GCM-SHA256" */

/* added */
void tls_anchors_free(struct tls_anchors *a);
size_t tls_anchors_count(const struct tls_anchors *a);
/* why the last TLS handshake or TLS I/O in this process failed, for the log:
   "certificate not trusted", "server name mismatch", "peer sent alert 40",
   "connection timed out"...; "" when nothing failed yet */
const char *tls_strerror(void);
void tls_abort(struct sio *s);                     /* free the session, no close_notify (dead peer) */
/* sio.c's transport when s->tls is set; not for protocol code */
ssize_t tls_read(struct sio *s, char *buf, size_t len);      /* >0, 0 EOF, -1 */
int tls_write(struct sio *s, const char *buf, size_t len);   /* all of it, flushed: 0, -1 */
size_t tls_pending(const struct sio *s);                     /* decrypted bytes waiting */
void tls_discard(struct sio *s);                             /* drop them */
/* the server name (SNI) the client sent, "" if none; on a client the name it sent; 0 when plain */
const char *tls_sni(const struct sio *s);
/* the OpenSSL-style name of a cipher suite number, or "0xNNNN" written into hex */
const char *tls_suite_name(unsigned id, char hex[7]);

#endif
