/*
 * tls.h -- TLS for imc-smtpd (server) and imc-remote (client), on BearSSL.
 *
 * TLS 1.2 only (BearSSL has no 1.3).  The engine runs over the struct
 * sio's fds with the sio timeout; after tls_server_start or
 * tls_client_start succeeds, sio reads and writes go through TLS.  Buffers
 * are the caller's (struct tls_session, ~33 KB); nothing is allocated per
 * record.
 *
 * Credentials: a PEM certificate chain (end-entity first) and a PEM key
 * (RSA or EC, PKCS#8 or traditional).  Trust anchors for verification are
 * read from a PEM bundle (/etc/ssl/certs/ca-certificates.crt).
 */
#ifndef IMC_TLS_H
#define IMC_TLS_H

#include "sio.h"

struct tls_creds;                                  /* server certificate and key */
struct tls_anchors;                                /* trust anchors for clients */

/* 0 ok; -1 error (errno: ENOENT when a file is missing -- STARTTLS is then not offered);
   -2 the files do not parse (a diagnostic has been written) */
int tls_creds_load(struct tls_creds **c, const char *certfile, const char *keyfile);
void tls_creds_free(struct tls_creds *c);
int tls_anchors_load(struct tls_anchors **a, const char *bundle);    /* 0, -1, -2 as above */

/* handshake over s; 0 ok, -1 failed (s is unusable: close the session) */
int tls_server_start(struct sio *s, const struct tls_creds *c);
/* verify: 0 accept any certificate (opportunistic), 1 check the chain against
   anchors and the host name; 0 ok, -1 failed, -2 certificate refused (verify) */
int tls_client_start(struct sio *s, const char *host, int verify, const struct tls_anchors *a);
void tls_close(struct sio *s);                     /* close_notify, free the session */

const char *tls_version(const struct sio *s);      /* "TLSv1.2", or 0 when plain */
const char *tls_cipher(const struct sio *s);       /* e.g. "ECDHE-RSA-AES128-GCM-SHA256" */

#endif
