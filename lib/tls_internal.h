/*
 * tls_internal.h -- what lib/tls.c and lib/tls_load.c share: the layout
 * of the loaded credentials and trust anchors.  Not for other code.
 */
#ifndef IMC_TLS_INTERNAL_H
#define IMC_TLS_INTERNAL_H

#include <bearssl.h>
#include "tls.h"

struct tls_creds {
  br_x509_certificate *chain;
  size_t chain_len;
  int key_type;                     /* BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
  int have_key;
  unsigned issuer_type;             /* key type of the signer of chain[0] (ECDH suites) */
  br_skey_decoder_context key;      /* the decoded private key points into it */
};

struct tls_anchors {
  br_x509_trust_anchor *ta;
  size_t n, a;
};

#endif
