/*
 * ctl_tls.c -- see ctl_tls.h.  The certificate is read by lib/tls_load.c
 * (BearSSL's PEM and X.509 code), never parsed here.
 */
#include <errno.h>
#include <time.h>
#include "config.h"
#include "control.h"
#include "ctl_tls.h"
#include "date.h"
#include "diag.h"
#include "tls.h"

static void warn_dates(const struct tls_certinfo *ci)
{
  char d[DATE_MAX];
  long long now = (long long)time(0);
  d[date_rfc5322(d, (time_t)ci->not_after)] = 0;
  if (ci->not_after <= now) warn("control/tls/cert.pem expired on ", d, ": install a new one (INSTALL)");
  else if (ci->not_after - now < CTL_TLS_SOON)
    warn("control/tls/cert.pem expires within 30 days, on ", d, ": renew it (INSTALL)");
}

int ctl_tls_check(void)
{
  stralloc path = {0}, me = {0};
  struct tls_certinfo ci;
  int r;
  if (imc_path2(&path, "control", "tls/cert.pem") < 0) return -1;
  if (config_me(&me) < 0 || !stralloc_0(&me)) {   /* control/me has errors: reported already */
    stralloc_free(&path);
    stralloc_free(&me);
    return 0;
  }
  r = tls_cert_inspect(path.s, me.s, &ci);
  stralloc_free(&path);
  if (r == -1 && errno == ENOENT) r = 0;
  else if (r == 0) {
    if (!ci.name_ok) warn("control/tls/cert.pem does not name control/me (", me.s, "): clients that check the name refuse it");
    if (ci.self_signed) warn("control/tls/cert.pem is self-signed: clients that verify refuse it; install one from a CA (INSTALL)");
    warn_dates(&ci);
  } else if (r == -2) r = 0;          /* diagnosed; imc-smtpd will not offer STARTTLS */
  stralloc_free(&me);
  return r;
}
