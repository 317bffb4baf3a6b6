/*
 * ctl_tls.h -- imc-ctl check's look at control/tls/cert.pem, the
 * certificate imc-smtpd offers with STARTTLS.  A warning on stderr when
 * it does not name control/me, when it is self-signed (clients that
 * verify refuse it; imc-setup makes one until a real one is installed,
 * INSTALL), and when it has expired or expires within 30 days.  No
 * warning when there is no certificate (STARTTLS is then not offered).
 * Warnings do not change imc-ctl check's exit code.
 */
#ifndef IMC_CTL_TLS_H
#define IMC_CTL_TLS_H

#define CTL_TLS_SOON (30L * 86400)   /* "expires soon": within 30 days */

/* 0, or -1 when the certificate cannot be read (errno) */
int ctl_tls_check(void);

#endif
