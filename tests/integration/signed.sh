# signed.sh -- signed mail left intact by the conversion stage
# (control/domains signed=keep, the default), against real signers and
# verifiers:
#   an S/MIME multipart/signed made with `openssl smime -sign` (a throwaway
#   CA and signer made here) over UTF-8 8-bit text with a long line, sent
#   with bin/sendmail to conv.test (charset=iso-8859-1 wrap=72: the same
#   text unsigned arrives converted), arrives at a Python sink and
#   `openssl smime -verify` accepts it;
#   a message signed by dkimpy (python3-dkim) through the same domain
#   arrives and dkimpy verifies it;
#   imc-convert on both gives back the same bytes;
#   over.test says signed=convert: there both arrive converted (latin-1,
#   wrapped) and neither signature verifies;
#   a bad value is reported as control/domains:LINE by imc-ctl check.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

command -v openssl > /dev/null || { echo "SKIP: openssl is not installed"; exit 0; }
if ! "$PYTHON" -c 'import dkim' 2>/dev/null; then echo "SKIP: python3-dkim (dkimpy) is not installed"; exit 0; fi
start_sink ok "$(hip 3):25" || exit 1
I=$T_TMP/i
t_instance "$I" || { fail setup instance; exit 1; }
IMC_HOME=$I; export IMC_HOME
echo imc.test > "$I/control/me"
echo imc.test > "$I/control/sitedomains"
echo 'mailbox alice "Alice"' > "$I/control/directory"
imc-ctl compile > /dev/null || { fail setup compile; exit 1; }
printf 'conv.test [%s]\nover.test [%s]\n' "$(hip 3)" "$(hip 3)" > "$I/control/routes"
cat > "$I/control/domains" <<EOF
conv.test charset=iso-8859-1 wrap=72
over.test charset=iso-8859-1 wrap=72 signed=convert
EOF
imc-ctl check > "$T_TMP/check.out" 2>&1 && pass ctl-check || fail ctl-check "$(cat "$T_TMP/check.out")"
t_start "$I" || { fail start "services did not come up"; exit 1; }

# ---- a throwaway CA and signer
C=$T_TMP/certs
mkdir -p "$C"
mk() { openssl "$@" >> "$T_TMP/openssl.out" 2>&1; }
mk req -x509 -newkey rsa:2048 -nodes -keyout "$C/ca.key" -out "$C/ca.pem" -days 2 -subj "/CN=imc test CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
mk req -new -newkey rsa:2048 -nodes -keyout "$C/alice.key" -out "$C/alice.csr" -subj "/CN=Alice/emailAddress=alice@imc.test"
printf 'subjectAltName=email:alice@imc.test\nextendedKeyUsage=emailProtection\nkeyUsage=digitalSignature\n' > "$C/alice.ext"
mk x509 -req -in "$C/alice.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial -out "$C/alice.pem" -days 2 \
  -extfile "$C/alice.ext"
check "certificates made" test -s "$C/alice.pem" -a -s "$C/ca.pem"

# the signed entity: UTF-8 8-bit text with a line of 150 characters
LONG=$(printf 'Grüße aus Köln, %.0s' 1 2 3 4 5 6 7 8 9)
printf 'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s\nDas Café öffnet um acht.\n' \
  "$LONG" > "$T_TMP/entity.txt"
# smime NAME TO: a multipart/signed message to TO, with LF line ends as the queue keeps them
smime() {
  openssl smime -sign -in "$T_TMP/entity.txt" -signer "$C/alice.pem" -inkey "$C/alice.key" \
    -from alice@imc.test -to "$2" -subject "$1" 2>> "$T_TMP/openssl.out" | tr -d '\r' > "$T_TMP/$1.eml"
}
smime smime-keep bob@conv.test
smime smime-over bob@over.test
check "openssl smime -sign made a multipart/signed" grep -q 'multipart/signed' "$T_TMP/smime-keep.eml"
check "the signed text is 8-bit" grep -q 'Köln' "$T_TMP/smime-keep.eml"

# the DKIM key, and its TXT record as dnsfunc hands it to dkimpy
mk genrsa -traditional -out "$T_TMP/dkim.key" 2048
printf 'v=DKIM1; k=rsa; p=%s' "$(openssl rsa -in "$T_TMP/dkim.key" -pubout -outform DER 2>/dev/null | base64 -w0)" \
  > "$T_TMP/dkim.txt"
check "DKIM key made" grep -q '^-----BEGIN RSA PRIVATE KEY' "$T_TMP/dkim.key"
# dkim_make NAME TO: a dkimpy-signed message to TO (relaxed/relaxed)
dkim_make() {
  "$PYTHON" - "$T_TMP" "$1" "$2" <<'PY'
import dkim, sys
d, name, to = sys.argv[1:4]
text = ("Grüße aus Köln, " * 9).strip() + "\nDas Café öffnet um acht.\n"
msg = ("From: Alice Example <alice@imc.test>\nTo: Bob <%s>\nSubject: %s\nDate: Sun, 06 Dec 2026 01:00:00 +0000\n"
       "Message-ID: <%s@imc.test>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
       "Content-Transfer-Encoding: 8bit\n\n%s" % (to, name, name, text)).encode().replace(b"\n", b"\r\n")
sig = dkim.sign(msg, b"sel", b"imc.test", open(d + "/dkim.key", "rb").read(),
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id", b"mime-version",
                                 b"content-type", b"content-transfer-encoding"])
open(d + "/" + name + ".eml", "wb").write((sig + msg).replace(b"\r\n", b"\n"))
PY
}
dkim_make dkim-keep bob@conv.test
dkim_make dkim-over bob@over.test
check "dkimpy signed the message" grep -q '^DKIM-Signature:' "$T_TMP/dkim-keep.eml"

# imc-convert itself: a signed message under signed=keep comes back unchanged
for f in smime-keep dkim-keep; do
  imc-convert conv.test < "$T_TMP/$f.eml" > "$T_TMP/$f.conv" 2> "$T_TMP/$f.conv.err"
  check "imc-convert conv.test: $f unchanged" cmp -s "$T_TMP/$f.eml" "$T_TMP/$f.conv"
done
check "imc-convert says why" grep -q 'signed message left unconverted (signed=keep for conv.test)' "$T_TMP/smime-keep.conv.err"

# ---- through the queue: sendmail, imc-send's conversion stage, imc-remote, the sink
for f in smime-keep smime-over dkim-keep dkim-over; do
  to=bob@conv.test
  case $f in *over) to=bob@over.test ;; esac
  sendmail -f alice@imc.test "$to" < "$T_TMP/$f.eml"
done
printf 'From: alice@imc.test\nTo: bob@conv.test\nSubject: unsigned\n' > "$T_TMP/unsigned.eml"
cat "$T_TMP/entity.txt" >> "$T_TMP/unsigned.eml"
sed -i '1a MIME-Version: 1.0' "$T_TMP/unsigned.eml"
sendmail -f alice@imc.test bob@conv.test < "$T_TMP/unsigned.eml"
check "five messages at the sink" t_wait 20 delivered_is ok 5
got() { grep -l "^Subject: $1\$" "$W"/ok.md/msg* 2>/dev/null | head -1; }

u=$(got unsigned)
check "the unsigned text was converted (latin-1)" grep -qi 'charset="\{0,1\}iso-8859-1' "$u"
# smime_ok NAME: openssl smime -verify accepts the delivered copy
smime_ok() { openssl smime -verify -in "$(got "$1")" -CAfile "$C/ca.pem" -out "$T_TMP/$1.out" 2> "$T_TMP/$1.verify"; }
check "openssl smime -verify: the copy through conv.test verifies" smime_ok smime-keep
check "the verified content is the signed text" grep -q 'Grüße aus Köln' "$T_TMP/smime-keep.out"
check "signed=convert: the copy through over.test was converted" grep -qi 'iso-8859-1' "$(got smime-over)"
if smime_ok smime-over; then fail "signed=convert breaks the S/MIME signature" "it verified"
else pass "signed=convert: openssl smime -verify refuses the converted copy"; fi

# dkim_ok NAME: dkimpy verifies the delivered copy, the key handed over by dnsfunc
dkim_ok() {
  "$PYTHON" - "$(got "$1")" "$T_TMP/dkim.txt" <<'PY'
import dkim, sys
raw = open(sys.argv[1], "rb").read()
raw = b"\n".join(l for l in raw.split(b"\n") if not l.startswith(b"X-Sink-")).replace(b"\n", b"\r\n")
txt = open(sys.argv[2], "rb").read()
def dnsfunc(name, timeout=5):
    assert name == b"sel._domainkey.imc.test.", name
    return txt
sys.exit(0 if dkim.verify(raw, dnsfunc=dnsfunc) else 1)
PY
}
check "dkimpy: the copy through conv.test verifies" dkim_ok dkim-keep
if dkim_ok dkim-over; then fail "signed=convert breaks the DKIM signature" "it verified"
else pass "signed=convert: dkimpy refuses the converted copy"; fi
check "signed=convert: wrapped at 72" sh -c "! awk 'length > 73' '$(got dkim-over)' | grep -q 'Köln'"

# ---- a bad value: control/domains:LINE
printf 'conv.test signed=maybe\n' > "$T_TMP/domains.bad"
cp "$T_TMP/domains.bad" "$I/control/domains"
imc-ctl check > "$T_TMP/bad.out" 2>&1
check "imc-ctl check: bad signed value" grep -q '^control/domains:1: bad value for signed (keep, convert)$' "$T_TMP/bad.out"
t_stop "$I"
t_done
