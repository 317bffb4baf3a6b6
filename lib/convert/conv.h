/*
 * conv.h -- the conversion engine's internals, shared by its files:
 *
 *   body.c     the body reader (multipart delimiters, the LF before a
 *              delimiter held back), header sections from the input, output
 *              with the next part's delimiter written lazily
 *   part.c     what a header section says (type, encoding, charset, names)
 *   hdrout.c   writing a header section, edited, and message header fields
 *              transformed (display names, RFC 2047 words, 8-bit text)
 *   text.c     text parts: charset, wrapping, transfer encoding, in two passes
 *              over the buffered part
 *   leaf.c     other parts: copied, or re-encoded for the 8-bit downgrade
 *   entity.c   the MIME tree for the MIME and inbound profiles
 *   flat.c     attachments=uuencode: the tree flattened into one text body
 *   uuscan.c   inbound: uuencoded blocks in text into attachments
 *   autoreply.c  automatic replies and out-of-office
 *   convert.c  the top: convert_fd_len / convert_mem
 *
 * Limits (bounded memory): a header section MHDR_MAX (1 MB); a text part is
 * converted when its encoded body is at most TEXT_MAX (2 MB), else passed
 * as it is; LOOK_MAX of a body is looked at before choosing an encoding;
 * DEPTH_MAX nested multiparts and messages, deeper ones are copied.
 * Every function returning int gives 0, or -1 with errno (EFBIG: the output
 * passed maxsize; c->read_failed says when the input failed).
 */
#ifndef IMC_CONVERT_CONV_H
#define IMC_CONVERT_CONV_H

#include "charset.h"
#include "convert.h"
#include "mime.h"
#include "out.h"
#include "rd.h"
#include "b64.h"
#include "qp.h"
#include "wrap.h"

#define TEXT_MAX (2 * 1024 * 1024)
#define LOOK_MAX 65536
#define DEPTH_MAX 40
#define DELIM_MAX 512

/* what a header section says */
struct part {
  char type[MIME_TYPE_MAX], sub[MIME_TYPE_MAX];   /* lower case */
  int has_ctype, ct_bad;
  int cte, has_cte;
  char charset[CS_NAME_MAX];                      /* lower case label, "" none */
  stralloc boundary;
  stralloc filename;                              /* UTF-8 where it could be decoded */
  int attachment;                                 /* disposition attachment, or a file name */
  int flowed, delsp;
  unsigned num;                                   /* part number, for diagnostics */
};

/* where an entity stands */
struct ectx {
  int top;                  /* the message itself */
  int msghdr;               /* its header is a message header (top, or message/rfc822) */
  int in_alt;               /* a child of multipart/alternative */
  int *seen_plain;          /* that alternative has had its text/plain */
  int digest;               /* a child of multipart/digest: the default type is message/rfc822 */
};

struct flat;

struct conv {
  const struct profile *p;
  struct rd in;
  struct out out;
  const char *bnd[DEPTH_MAX];
  size_t bndlen[DEPTH_MAX];
  int nb, depth;
  int pending_lf;                 /* an LF held back: it may belong to a delimiter */
  int end_delim;                  /* the last body ended at a delimiter (else at the end) */
  int delim_level, delim_close, delim_lf;
  char delim[DELIM_MAX];
  size_t delimn;
  int pend, pendlf;               /* a delimiter to write before the next output */
  char pendline[DELIM_MAX];
  size_t pendn;
  unsigned nparts;
  int read_failed;
  stralloc tbuf;                  /* a text part's body */
  struct flat *fl;
  struct profile kept;            /* a signed message under signed=keep: p points here */
};

/* body.c */
int body_next(struct conv *c, const char **p, size_t *n);   /* 1 piece, 0 end, -1 */
int body_copy(struct conv *c);
int body_skip(struct conv *c);
int body_buffer(struct conv *c, stralloc *sa, size_t max);   /* 1 all of it, 0 more than max, -1 */
int body_feed(struct conv *c, struct sink *s);               /* the rest of the body into s */
int cw(struct conv *c, const char *p, size_t n);             /* output, after a pending delimiter */
int cws(struct conv *c, const char *s);
int cw_delim(struct conv *c, int lf);                        /* the delimiter that ended the body */
int bnd_push(struct conv *c, const char *b, size_t n);
void bnd_pop(struct conv *c);
int hdr_read(struct conv *c, struct mhdr *h);
struct cwsink { struct sink s; struct conv *c; };           /* a sink writing through cw */
void cwsink_init(struct cwsink *k, struct conv *c);

/* part.c */
void part_init(struct part *pt);
void part_free(struct part *pt);
int part_classify(struct part *pt, const struct mhdr *h, int digest);
int part_is(const struct part *pt, const char *type, const char *sub);   /* sub 0: any */
int part_is_tnef(const struct part *pt);
int part_is_richtext(const struct part *pt);
/* the top of a signed message: multipart/signed, application/(x-)pkcs7-mime
   (S/MIME, RFC 8551), or a DKIM-Signature field (RFC 6376) */
int msg_is_signed(const struct mhdr *h, const struct part *pt);
void cwarn(const char *a, const char *b, const char *c);      /* a warning unless quiet */
void pwarn(const struct part *pt, const char *what);          /* "part N: what" */
void pwarn3(const struct part *pt, const char *a, const char *b, const char *c, const char *d);

/* hdrout.c */
struct hedit {
  const char *ctype;        /* new Content-Type value, or 0 */
  const char *cte;          /* new Content-Transfer-Encoding, "" to remove, 0 keep */
  int drop_disposition;     /* remove Content-Disposition */
  int mime_version;         /* add MIME-Version: 1.0 if missing */
};
int hdr_out(struct conv *c, const struct mhdr *h, const struct ectx *x, const struct hedit *e);
int hdr_out_raw(struct conv *c, const struct mhdr *h);
int hdr_field_transform(struct conv *c, const struct mhdr *h, size_t i, const struct ectx *x, stralloc *out);
int hdr_fold(stralloc *out, const char *name, size_t namelen, const char *v, size_t n);

/* text.c */
struct tplan {
  char src[CS_NAME_MAX];    /* the charset the text is in ("" unknown: bytes only) */
  char dst[CS_NAME_MAX];    /* the charset it goes out in */
  unsigned wrap;            /* 0, or the width */
  int convert;              /* run the text through iconv / wrap */
  int cte;                  /* CTE_* out */
  int change;               /* anything differs from the input */
  int relabel;              /* the charset label changes */
  int kept;                 /* fell back to the source charset */
  struct sink_stats st;     /* of the bytes as they go out, before the transfer encoding */
};
int text_entity(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x);
/* plan for converting the buffered text to one of the targets (tried in order, then
   the source charset); 0 planned, 1 no target fits (and no fallback wanted), -1 */
int text_plan(struct conv *c, const struct part *pt, const stralloc *raw, const char *const *targets,
              int fallback, unsigned wrap, struct tplan *pl);
int text_emit(struct conv *c, const struct part *pt, const stralloc *raw, const struct tplan *pl, struct sink *to);
int text_choose_cte(const struct conv *c, const struct part *pt, const struct sink_stats *st, int changed);
int decoder_sink(int cte, struct b64dec *b, struct qpdec *q, struct sink *next, struct sink **head);
int encoder_sink(int cte, struct b64enc *b, struct qpenc *q, struct sink *next, struct sink **head);

/* leaf.c */
int leaf_entity(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x);
/* the body's start is in buf (all of it when complete); the rest still to read */
int leaf_from_buffer(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x, stralloc *buf, int complete);

/* entity.c */
/* one entity: its header read and classified, then node does the rest */
typedef int entity_fn(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x);
int entity_walk(struct conv *c, const struct ectx *x, entity_fn *node);
int entity(struct conv *c, const struct ectx *x);
int entity_with_header(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x);
int drop_entity(struct conv *c, struct part *pt, const char *why);

/* flat.c */
int flat_top(struct conv *c, struct mhdr *h, struct part *pt);

/* uuscan.c */
int uuscan_entity(struct conv *c, struct mhdr *h, struct part *pt, const struct ectx *x);
void boundary_make(char *b, size_t cap);

/* autoreply.c */
enum { AR_NONE, AR_AUTO, AR_OOF };
int autoreply_kind(const struct mhdr *h);

#endif
