/*
 * dkim.h -- DomainKeys Identified Mail (RFC 6376, RFC 8301, RFC 8463):
 * the pieces imc-remote signs with and imc-smtpd verifies with.
 *
 * Messages are as imc keeps them: lines end in LF (a CR just before an LF
 * is taken as part of the line end, so CRLF text works too); DKIM's
 * canonical forms end every line in CRLF, as on the wire.  Hashes are
 * SHA-256 (BearSSL); signatures RSA PKCS#1 v1.5 (BearSSL) or, verifying
 * only, Ed25519 (nettle).  rsa-sha1 is refused (RFC 8301).
 *
 * Parsers (tag lists, DKIM-Signature fields, key records, the key's DER)
 * take hostile input: every length is bounded, nothing is allocated but
 * what the caller's stralloc holds, and the result is a value or a
 * reason.  Fuzz target: tests/fuzz/fuzz_dkim.c.
 */
#ifndef IMC_DKIM_H
#define IMC_DKIM_H

#include <stddef.h>
#include <bearssl.h>
#include "owfat.h"

/* ---- tag lists (RFC 6376 section 3.2) */
static inline int dkim_is_fws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
#define DKIM_TAGS_MAX 32
struct dkim_tag { const char *name, *val; size_t nlen, vlen; };
/* the tags of s into t (at most max, each value without surrounding FWS):
   the count, or -1 (syntax, a duplicate tag, more than max) with *why set */
int dkim_tags(const char *s, size_t len, struct dkim_tag *t, int max, const char **why);
/* a base64 value with FWS inside it (b=, bh=, p=) into out (cap bytes): 0, -1 */
int dkim_b64(const struct dkim_tag *t, unsigned char *out, size_t cap, size_t *outlen);
/* the tag named name (NUL-terminated) among n, or 0 */
const struct dkim_tag *dkim_tag_get(const struct dkim_tag *t, int n, const char *name);

/* ---- canonicalization (section 3.4) */
#define DKIM_SIMPLE 0
#define DKIM_RELAXED 1
/* the body hash, fed in pieces of any size */
struct dkim_body {
  br_sha256_context sha;
  int relaxed;
  long long left;               /* bytes still to hash (l=), -1 no limit */
  unsigned long empty;          /* empty lines held back: dropped if the body ends */
  int cr;                       /* a CR held back: the line end, if an LF follows */
  int wsp;                      /* relaxed: whitespace held back inside the line */
  int started;                  /* the line has content (relaxed: not only whitespace) */
  int any;                      /* some line was hashed */
  unsigned long long total;     /* canonical bytes seen, before l= */
};
void dkim_body_init(struct dkim_body *b, int relaxed, long long limit);
void dkim_body_put(struct dkim_body *b, const char *s, size_t n);
void dkim_body_end(struct dkim_body *b, unsigned char hash[32]);
/* one header field (name, colon, value with its folding, no final line end)
   in canonical form, CRLF added: appended to out; 0, -1 ENOMEM */
int dkim_header_canon(stralloc *out, const char *field, size_t len, int relaxed);

/* ---- a message's header section */
#define DKIM_FIELDS_MAX 1000
struct dkim_field { const char *s; size_t len; };   /* a whole field without its line end */
/* the fields of the header section at the start of msg: the count (at most max),
   *hdrlen the section's length with the empty line; -1 more than max fields */
int dkim_fields(const char *msg, size_t len, struct dkim_field *f, int max, size_t *hdrlen);
/* does field f have name (case-insensitive)? */
int dkim_field_is(const struct dkim_field *f, const char *name);

/* the hash of the fields h= names (':'-separated, lower case) and of the
   signature field sig (whole, without its line end) with b= emptied: 0, -1 ENOMEM */
int dkim_header_hash(const struct dkim_field *f, int nf, const char *h, int relaxed,
                     const char *sig, size_t siglen, unsigned char out[32]);

/* ---- a DKIM-Signature field */
#define DKIM_A_RSA_SHA256 1
#define DKIM_A_ED25519_SHA256 2
struct dkim_sig {
  int alg;                      /* DKIM_A_* */
  int hcanon, bcanon;           /* DKIM_SIMPLE, DKIM_RELAXED */
  char domain[256], selector[64], ident[320];   /* d=, s=, i= (default "@d") */
  unsigned char b[512]; size_t blen;            /* the signature */
  unsigned char bh[32];                         /* the body hash */
  long long length;                             /* l=, -1 none */
  unsigned long long t, x;                      /* t=, x=; 0 none */
  char h[1024];                                 /* h=, lower case, ':'-separated, no FWS */
};
/* value (after "DKIM-Signature:"): 0, or -1 with *why (RFC 6376 permerror) */
int dkim_sig_parse(struct dkim_sig *s, const char *value, size_t len, const char **why);

/* ---- a key record (section 3.6.1) */
struct dkim_key {
  int alg;                      /* DKIM_A_RSA_SHA256 (k=rsa) or DKIM_A_ED25519_SHA256 */
  unsigned char n[1024]; size_t nlen;           /* RSA modulus, or the 32-byte Ed25519 key */
  unsigned char e[8]; size_t elen;              /* RSA exponent */
  int testing, strict;                          /* t=y, t=s */
  unsigned bits;                                /* RSA modulus size */
};
/* a TXT record's text: 0, or -1 with *why (a revoked key, empty p=, is -1 too) */
int dkim_key_parse(struct dkim_key *k, const char *txt, size_t len, const char **why);
/* an RSA public key in DER, SubjectPublicKeyInfo or bare RSAPublicKey: 0, -1 */
int dkim_der_rsa(struct dkim_key *k, const unsigned char *der, size_t len);

/* ---- signing (imc-remote) */
struct dkim_signer {
  const char *domain, *selector;
  const br_rsa_private_key *key;
  unsigned long long now;       /* t= */
};
/* the headers signed when present; "from" is signed once more than it occurs */
extern const char *const dkim_signed_headers[];
/* the DKIM-Signature field for msg (header section and body), folded, ending
   in LF, into out: 0, or -1 (ENOMEM, or the RSA operation failed) */
int dkim_sign(stralloc *out, const char *msg, size_t len, const struct dkim_signer *s);

/* ---- verifying (imc-smtpd) */
enum dkim_result { DKIM_NONE, DKIM_PASS, DKIM_FAIL, DKIM_NEUTRAL, DKIM_TEMPERROR, DKIM_PERMERROR, DKIM_POLICY };
extern const char *const dkim_result_name[];    /* RFC 8601's names */
/* the TXT records at name, each record's strings joined, NUL-separated in out:
   1 found, 0 none (NXDOMAIN or no TXT), -1 temporary failure */
typedef int dkim_txt_fn(void *ctx, const char *name, stralloc *out);
struct dkim_check {
  enum dkim_result result;
  char domain[256], selector[64], ident[320];
  char bshort[9];               /* the first 8 characters of b=, for header.b */
  const char *why;              /* a short reason when not pass */
};
#define DKIM_SIGS_MAX 8
/* a verification that the body is fed to in pieces: start with the header
   section, put the body, finish with the keys' lookup */
struct dkim_verify {
  stralloc head;                /* the header section */
  int nsig;
  struct dkim_sig sig[DKIM_SIGS_MAX];
  struct dkim_check res[DKIM_SIGS_MAX];
  struct dkim_body body[DKIM_SIGS_MAX];
  int field[DKIM_SIGS_MAX];     /* which header field each signature is */
};
/* the header section (up to and with the empty line): 0, -1 ENOMEM */
int dkim_verify_start(struct dkim_verify *v, const char *head, size_t len);
void dkim_verify_body(struct dkim_verify *v, const char *s, size_t n);
/* every signature's result into v->res (v->nsig of them); now for x= */
void dkim_verify_finish(struct dkim_verify *v, dkim_txt_fn *txt, void *ctx, unsigned long long now);
void dkim_verify_free(struct dkim_verify *v);

#endif
