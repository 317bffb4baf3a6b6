/*
 * mimetypes.c -- control/mimetypes and the shipped list (see mimetypes.h).
 *
 * Input: lines `type/subtype ext ...`; output: (type, extension) pairs in
 * file order, so a type's first extension comes first.  Failure modes: a
 * bad line is reported and skipped; out of memory counts as an error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "control.h"
#include "mimetypes.h"

const char MIMETYPES_BUILTIN[] =
  "text/plain txt text log\n"
  "text/html html htm\n"
  "text/csv csv\n"
  "text/calendar ics\n"
  "text/xml xml\n"
  "text/rtf rtf\n"
  "application/pdf pdf\n"
  "application/zip zip\n"
  "application/gzip gz tgz\n"
  "application/x-tar tar\n"
  "application/x-7z-compressed 7z\n"
  "application/x-rar-compressed rar\n"
  "application/msword doc dot\n"
  "application/vnd.ms-excel xls xlt\n"
  "application/vnd.ms-powerpoint ppt pps\n"
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document docx\n"
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet xlsx\n"
  "application/vnd.openxmlformats-officedocument.presentationml.presentation pptx\n"
  "application/vnd.oasis.opendocument.text odt\n"
  "application/vnd.oasis.opendocument.spreadsheet ods\n"
  "application/vnd.ms-outlook msg\n"
  "application/ms-tnef dat\n"
  "application/json json\n"
  "application/postscript ps eps ai\n"
  "application/pgp-signature sig asc\n"
  "application/pkcs7-signature p7s\n"
  "application/x-msdownload exe dll\n"
  "application/octet-stream bin\n"
  "message/rfc822 eml\n"
  "image/jpeg jpg jpeg jpe\n"
  "image/png png\n"
  "image/gif gif\n"
  "image/bmp bmp\n"
  "image/tiff tif tiff\n"
  "image/svg+xml svg\n"
  "image/webp webp\n"
  "image/x-icon ico\n"
  "audio/mpeg mp3\n"
  "audio/wav wav\n"
  "audio/ogg ogg oga\n"
  "video/mp4 mp4 m4v\n"
  "video/mpeg mpeg mpg\n"
  "video/quicktime mov\n"
  "video/x-msvideo avi\n";

static int type_ok(const char *s)
{
  const char *slash = strchr(s, '/');
  size_t i;
  if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/')) return 0;
  for (i = 0; s[i]; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= ' ' || c >= 127 || strchr("()<>@,;:\\\"[]?=", c)) return 0;
  }
  return 1;
}

static int ext_ok(const char *s)
{
  if (!*s) return 0;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && !strchr("-_+~", c)) return 0;
  }
  return 1;
}

static int pair_add(struct mimetypes *mt, const char *type, const char *ext)
{
  struct mimetype p;
  if (mt->n == mt->alloc) {
    size_t n = mt->alloc ? 2 * mt->alloc : 64;
    struct mimetype *nm = realloc(mt->m, n * sizeof *nm);
    if (!nm) return -1;
    mt->m = nm;
    mt->alloc = n;
  }
  p.type = strdup(type);
  p.ext = strdup(ext);
  if (!p.type || !p.ext) { free(p.type); free(p.ext); return -1; }
  mt->m[mt->n++] = p;
  return 0;
}

/* one line, checked whole before anything is kept */
static const char *parse_line(struct mimetypes *mt, char *line)
{
  char *p = line, *type = ctl_word(&p), *w, *ext[64];
  size_t n = 0, i;
  if (!type) return "expected type/subtype ext ...";
  case_lowerb(type, strlen(type));
  if (!type_ok(type)) return "bad type";
  while ((w = ctl_word(&p)) != 0) {
    if (*w == '.') w++;
    case_lowerb(w, strlen(w));
    if (!ext_ok(w)) return "bad extension";
    if (n == sizeof ext / sizeof ext[0]) return "too many extensions (at most 64)";
    ext[n++] = w;
  }
  if (!n) return "expected type/subtype ext ...";
  for (i = 0; i < n; i++) if (pair_add(mt, type, ext[i]) < 0) return "out of memory";
  return 0;
}

static int parse_file(struct mimetypes *mt, ctl_file *f, config_errfn err)
{
  char *line;
  size_t len;
  int errors = 0;
  while (ctl_next(f, &line, &len)) {
    const char *e = parse_line(mt, line);
    if (!e) continue;
    errors++;
    if (err) err(f->name, f->lineno, e);
  }
  return errors;
}

int mimetypes_parse_text(struct mimetypes *mt, const char *text, size_t len, config_errfn err)
{
  ctl_file f = {0};
  int errors;
  memset(mt, 0, sizeof *mt);
  ctl_openmem(&f, "mimetypes", text, len);
  errors = parse_file(mt, &f, err);
  ctl_close(&f);
  return errors;
}

int mimetypes_load(struct mimetypes *mt, config_errfn err)
{
  ctl_file f = {0};
  int rc, e;
  memset(mt, 0, sizeof *mt);
  rc = ctl_open(&f, "mimetypes");
  if (rc < 0) {
    e = errno;
    ctl_close(&f);
    if (err) err("mimetypes", 0, "unable to read");
    errno = e;
    return -1;
  }
  if (rc == 0) {
    ctl_close(&f);
    return mimetypes_parse_text(mt, MIMETYPES_BUILTIN, sizeof MIMETYPES_BUILTIN - 1, err);
  }
  rc = parse_file(mt, &f, err);
  ctl_close(&f);
  return rc;
}

void mimetypes_free(struct mimetypes *mt)
{
  size_t i;
  for (i = 0; i < mt->n; i++) { free(mt->m[i].type); free(mt->m[i].ext); }
  free(mt->m);
  memset(mt, 0, sizeof *mt);
}

int mimetypes_check(config_errfn err)
{
  struct mimetypes mt;
  int rc = mimetypes_load(&mt, err);
  mimetypes_free(&mt);
  return rc;
}

const char *mimetypes_type(const struct mimetypes *mt, const char *filename)
{
  const char *dot = strrchr(filename, '.');
  size_t i;
  if (dot && dot[1])
    for (i = 0; i < mt->n; i++) if (!strcasecmp(mt->m[i].ext, dot + 1)) return mt->m[i].type;
  return "application/octet-stream";
}

const char *mimetypes_ext(const struct mimetypes *mt, const char *type)
{
  size_t i;
  for (i = 0; i < mt->n; i++) if (!strcasecmp(mt->m[i].type, type)) return mt->m[i].ext;
  return 0;
}
