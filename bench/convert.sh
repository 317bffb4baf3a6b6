#!/usr/bin/env bash
# bench/convert.sh -- how fast imc-convert converts, and how much memory it takes, per profile.
# A benchmark, not a test: it prints figures and never passes or fails.
#
# Messages (made here, in a temporary directory):
#   mime.eml  SIZE_MB (10) of MIME: multipart/mixed { multipart/alternative { Latin-1 text/plain
#             quoted-printable, text/html }, application/ms-tnef, and binary attachments in base64
#             that make up the rest (a PDF-like one, a ZIP-like one, a JPEG-like one) }
#   uu.eml    the same size as a plain text message with the attachments uuencoded in its body
# Profiles (control/domains of a scratch instance):
#   mime:default   imc-convert -          attachments=mime charset=utf-8 (the defaults)
#   mime:-8        imc-convert -8 -       the 8BITMIME downgrade as well
#   mime:latin1    imc-convert latin.bench charset=iso-8859-1 wrap=72
#   mime:uuencode  imc-convert uu.bench   attachments=uuencode charset=iso-8859-1 wrap=76
#                                         richtext=never displaynames=no
#   mime:inbound   imc-convert inbound    (nothing to do: a pass-through)
#   uu:inbound     imc-convert inbound    uuencoded blocks into MIME attachments
#   uu:default     imc-convert -          (nothing to do: a pass-through)
# and `cat` of each file as the floor.  Each is run REPS (5) times with the file on fd 0 and
# /dev/null on fd 1; the figures are the median wall time (date +%s%N around the run), the
# throughput in MB/s of input (SIZE_MB / time) and the largest peak RSS (/usr/bin/time -f %M).
# With PIPE=1 the message comes through a pipe (cat FILE |) instead of a file.
#
# Environment: SIZE_MB=10 REPS=5 PIPE=0 BENCH_DIR=${TMPDIR:-/tmp} KEEP=1 (keep the directory)
set -euo pipefail
export LC_ALL=C

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$TOP/bin/imc-convert
SIZE_MB=${SIZE_MB:-10}
REPS=${REPS:-5}
PIPE=${PIPE:-0}
[ -x "$BIN" ] || { echo "convert.sh: fatal: $BIN is not built (make)" >&2; exit 100; }
[ -x /usr/bin/time ] || { echo "convert.sh: fatal: /usr/bin/time is missing (apt-get install time)" >&2; exit 100; }

DIR=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/imc-convert-bench.XXXXXX")
[ -n "${KEEP:-}" ] || trap 'rm -rf "$DIR"' EXIT
mkdir -p "$DIR/control"
cat > "$DIR/control/domains" <<'EOF'
* attachments=mime charset=utf-8
latin.bench charset=iso-8859-1 wrap=72
uu.bench attachments=uuencode charset=iso-8859-1 wrap=76 richtext=never displaynames=no
EOF
export IMC_HOME=$DIR

/usr/bin/python3 - "$DIR" "$SIZE_MB" <<'EOF'
import base64, os, random, subprocess, sys
d, size = sys.argv[1], int(sys.argv[2]) * 1024 * 1024
rng = random.Random(1)
text = ("Sehr geehrte Damen und Herren, anbei die Unterlagen f\u00fcr die Sitzung am Donnerstag. "
        "Bitte pr\u00fcfen Sie insbesondere die Zahlen f\u00fcr M\u00e4rz; die \u00c4nderungen sind markiert. ") * 40
html = "<html><body><p>" + text.replace(". ", ".</p><p>") + "</p></body></html>"
head = ("From: \"M\u00fcller, J\u00fcrgen\" <juergen@example.de>\nTo: \"Partner\" <partner@example.com>\n"
        "Subject: =?iso-8859-1?q?Unterlagen_f=FCr_Donnerstag?=\nDate: Thu, 26 Nov 2026 10:00:00 +0100\n"
        "Message-ID: <bench@example.de>\n")
budget = size - 40000
sizes = [budget // 2, budget // 3, budget - budget // 2 - budget // 3]
atts = [("Bericht.pdf", "application/pdf"), ("Daten.zip", "application/zip"), ("Foto.jpg", "image/jpeg")]
blobs = [rng.randbytes(int(s * 3 / 4)) for s in sizes]
def qp(s):
    import quopri
    return quopri.encodestring(s.encode("iso-8859-1")).decode()
parts = ["--alt\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
         + qp(text) + "\n--alt\nContent-Type: text/html; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
         + qp(html) + "\n--alt--\n"]
mime = [head.encode("utf-8"),
        b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"mix\"\n\n--mix\n"
        b"Content-Type: multipart/alternative; boundary=\"alt\"\n\n", parts[0].encode(),
        b"\n--mix\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\nContent-Transfer-Encoding: base64\n\n",
        base64.encodebytes(rng.randbytes(3000))]
for (name, ctype), blob in zip(atts, blobs):
    mime += [("\n--mix\nContent-Type: %s; name=\"%s\"\nContent-Disposition: attachment; filename=\"%s\"\n"
              "Content-Transfer-Encoding: base64\n\n" % (ctype, name, name)).encode(), base64.encodebytes(blob)]
mime.append(b"--mix--\n")
open(os.path.join(d, "mime.eml"), "wb").write(b"".join(mime))
uu = [head.encode("utf-8"), b"\n", text.encode("iso-8859-1"), b"\n\n"]
for (name, ctype), blob in zip(atts, blobs):
    p = os.path.join(d, "blob")
    open(p, "wb").write(blob)
    uu += [subprocess.run(["uuencode", p, name], check=True, capture_output=True).stdout, b"\n"]
    os.unlink(p)
open(os.path.join(d, "uu.eml"), "wb").write(b"".join(uu))
EOF

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# one: LABEL FILE COMMAND... -- REPS runs; prints the row
one() {
  local label=$1 file=$2; shift 2
  local bytes ms maxrss=0 i t0 t1 rss
  bytes=$(stat -c %s "$file")
  : > "$DIR/times"
  for i in $(seq "$REPS"); do
    t0=$(date +%s%N)
    if [ "$PIPE" = 1 ]; then
      cat "$file" | /usr/bin/time -f %M -o "$DIR/rss" "$@" > /dev/null 2>> "$DIR/stderr" || true
    else
      /usr/bin/time -f %M -o "$DIR/rss" "$@" < "$file" > /dev/null 2>> "$DIR/stderr" || true
    fi
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000 )) >> "$DIR/times"
    rss=$(tail -1 "$DIR/rss")
    [ "$rss" -gt "$maxrss" ] && maxrss=$rss
  done
  ms=$(median < "$DIR/times")
  awk -v l="$label" -v b="$bytes" -v us="$ms" -v r="$maxrss" \
    'BEGIN { printf "%-16s %8.1f MB %9.1f ms %9.1f MB/s %8d KB\n", l, b/1048576, us/1000, (b/1048576)/(us/1e6), r }'
}

echo "imc-convert: $(stat -c %s "$DIR/mime.eml") bytes (mime.eml), $(stat -c %s "$DIR/uu.eml") bytes (uu.eml); median of $REPS runs$([ "$PIPE" = 1 ] && echo ', input through a pipe')"
printf '%-16s %11s %12s %14s %11s\n' profile size time throughput "peak RSS"
one "mime:cat"       "$DIR/mime.eml" cat
one "mime:default"   "$DIR/mime.eml" "$BIN" -
one "mime:-8"        "$DIR/mime.eml" "$BIN" -8 -
one "mime:latin1"    "$DIR/mime.eml" "$BIN" latin.bench
one "mime:uuencode"  "$DIR/mime.eml" "$BIN" uu.bench
one "mime:inbound"   "$DIR/mime.eml" "$BIN" inbound
one "uu:cat"         "$DIR/uu.eml"   cat
one "uu:inbound"     "$DIR/uu.eml"   "$BIN" inbound
one "uu:default"     "$DIR/uu.eml"   "$BIN" -
grep -v '^imc-convert: \(info\|warning\): ' "$DIR/stderr" | sort -u | head -5 || true
