# tlsdefault.sh -- STARTTLS out of the box: imc-setup makes a key and a
# self-signed certificate for control/me when control/tls has none, so a new
# instance offers STARTTLS at once (openssl s_client -starttls smtp shows the
# host name and verifies it against the certificate itself); a certificate
# already there is kept; the key's owner and mode (user mode 0600, system
# mode root:imcd 0640); imc-ctl check warns about a self-signed certificate,
# one that does not name control/me, one that expires within 30 days and one
# that has expired (faketime), and says nothing of a CA-signed one that
# names control/me; a certificate replaced by rename reaches imc-smtpd
# without a restart (INSTALL).
. "$(dirname "$0")/../lib.sh"
for t in openssl faketime; do
  command -v "$t" > /dev/null || { echo "SKIP: tlsdefault: $t is not installed"; exit 0; }
done

I=$T_TMP/i
mkdir -p "$I/control"
echo mx.site.test > "$I/control/me"
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo site.test > "$I/control/sitedomains"
imc-ctl compile > /dev/null || fail setup "imc-ctl compile"
T=$I/control/tls
check "imc-setup made control/tls/cert.pem and key.pem" test -s "$T/cert.pem" -a -s "$T/key.pem"
check "user mode: the key is the caller's, mode 0600" [ "$(stat -c '%u %a' "$T/key.pem")" = "$(id -u) 600" ]
check "the certificate is mode 0644" [ "$(stat -c %a "$T/cert.pem")" = 644 ]
check "its subject is CN=control/me" sh -c "openssl x509 -in '$T/cert.pem' -noout -subject | grep -q 'CN *= *mx.site.test\$'"
check "its subjectAltName is DNS:control/me" sh -c "openssl x509 -in '$T/cert.pem' -noout -ext subjectAltName | grep -q 'DNS:mx.site.test\$'"
check "the key belongs to the certificate" test "$(openssl x509 -in "$T/cert.pem" -noout -pubkey)" = "$(openssl pkey -in "$T/key.pem" -pubout)"
fp=$(openssl x509 -in "$T/cert.pem" -noout -fingerprint)
imc-setup --user --port "$T_PORT" --no-submission "$I" > /dev/null 2>&1
check "imc-setup again keeps the certificate" test "$(openssl x509 -in "$T/cert.pem" -noout -fingerprint)" = "$fp"

# s_client HOST: the server's certificate and verification of it, trusting the self-signed one
s_client() {
  echo QUIT | timeout 20 openssl s_client -starttls smtp -connect "127.0.0.1:$T_PORT" -servername "$1" \
    -verify_hostname "$1" -CAfile "$2" -crlf 2>&1
}
t_start "$I" || { fail start "services did not come up"; exit 1; }
t_wait 10 sh -c "ss -Hltn | grep -q ':$T_PORT '"
out=$(s_client mx.site.test "$T/cert.pem")
check "a new instance offers STARTTLS: the handshake ends with the certificate" sh -c "echo \"\$1\" | grep -q 'subject=CN *= *mx.site.test'" - "$out"
check "the certificate verifies for the host name control/me" sh -c "echo \"\$1\" | grep -q 'Verify return code: 0 (ok)'" - "$out"
"$PYTHON" - "$T_PORT" > "$T_TMP/ehlo.out" 2>&1 <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.ehlo("client.test")
print("starttls offered:", s.has_extn("starttls"))
s.quit()
PY
check "EHLO lists STARTTLS (smtplib)" grep -q 'starttls offered: True' "$T_TMP/ehlo.out"

# imc-ctl check on the certificate imc-setup made: self-signed, the name right
imc-ctl check > "$T_TMP/c0.out" 2> "$T_TMP/c0.err"
check "imc-ctl check: exit 0" [ $? = 0 ]
check "imc-ctl check: a self-signed certificate is warned about" grep -q '^imc-ctl: warning: control/tls/cert.pem is self-signed' "$T_TMP/c0.err"
check "imc-ctl check: imc-setup's certificate names control/me" t_lacks "$T_TMP/c0.err" 'does not name'
check "imc-ctl check: imc-setup's certificate does not expire soon" t_lacks "$T_TMP/c0.err" 'expire'

# a CA and certificates it signs, made by openssl here
C=$T_TMP/ca
mkdir "$C"
openssl req -x509 -newkey rsa:2048 -nodes -days 100 -subj "/CN=imc test CA" -keyout "$C/ca.key" -out "$C/ca.pem" > "$C/log" 2>&1 \
  || { fail setup "openssl: $(tail -3 "$C/log")"; exit 1; }
# signed NAME DAYS OUT: a key and a certificate for NAME signed by the CA
signed() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$1" \
    -keyout "$3.key" -out "$3.csr" >> "$C/log" 2>&1 &&
  printf 'subjectAltName=DNS:%s\n' "$1" > "$3.ext" &&
  openssl x509 -req -in "$3.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial -days "$2" \
    -extfile "$3.ext" -out "$3.crt" >> "$C/log" 2>&1
}
# install OUT: key and certificate into control/tls, each by a rename
install_cert() {
  cp "$1.key" "$T/.key.new" && chmod 0600 "$T/.key.new" && cp "$1.crt" "$T/.cert.new" &&
  mv "$T/.key.new" "$T/key.pem" && mv "$T/.cert.new" "$T/cert.pem"
}
# warnings OUT: imc-ctl check's stderr with OUT installed
warnings() { install_cert "$1" && imc-ctl check > /dev/null 2> "$1.err"; }

signed mx.site.test 365 "$C/good" || fail setup "openssl: $(tail -3 "$C/log")"
warnings "$C/good"
check "a CA-signed certificate naming control/me for a year: no warning" sh -c "! grep -q 'warning' '$C/good.err'"
install_cert "$C/good"
out=$(s_client mx.site.test "$C/ca.pem")
check "replaced by rename, it reaches imc-smtpd without a restart (verified against the CA)" \
  sh -c "echo \"\$1\" | grep -q 'Verify return code: 0 (ok)' && echo \"\$1\" | grep -q 'issuer=CN *= *imc test CA'" - "$out"

signed other.test 365 "$C/other" || fail setup "openssl: $(tail -3 "$C/log")"
warnings "$C/other"
check "a certificate for another name: warned about, naming control/me" grep -q 'control/tls/cert.pem does not name control/me (mx.site.test)' "$C/other.err"
check "... and not as self-signed" t_lacks "$C/other.err" 'self-signed'

signed mx.site.test 10 "$C/soon" || fail setup "openssl: $(tail -3 "$C/log")"
warnings "$C/soon"
check "a certificate that expires in 10 days: warned about" grep -q 'control/tls/cert.pem expires within 30 days' "$C/soon.err"
check "... and nothing else" [ "$(grep -c warning "$C/soon.err")" = 1 ]
install_cert "$C/good"
FAKETIME='+400d' LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 imc-ctl check > /dev/null 2> "$C/late.err"
check "400 days on, a one-year certificate has expired: warned about" grep -q 'control/tls/cert.pem expired on' "$C/late.err"

# system mode: the key imc-setup makes is imc-smtpd's to read
if [ "$(id -u)" = 0 ]; then
  B=$T_TMP/bin
  t_system_bin "$B" || exit 1
  S=$T_TMP/s
  t_system_instance "$B" "$S" "$(t_port)" || exit 1
  check "system mode: the key is root:imcd 0640" [ "$(stat -c '%U:%G %a' "$S/control/tls/key.pem")" = "root:imcd 640" ]
  check "system mode: the certificate is root:root 0644" [ "$(stat -c '%U:%G %a' "$S/control/tls/cert.pem")" = "root:root 644" ]
  check "system mode: imcd can read the key" sh -c "setpriv --reuid=imcd --regid=\$(id -g imcd) --init-groups cat '$S/control/tls/key.pem' | grep -q 'PRIVATE KEY'"
  check "system mode: nobody cannot" sh -c "! setpriv --reuid=nobody --regid=\$(id -g nobody) --clear-groups cat '$S/control/tls/key.pem' 2>/dev/null"
else
  echo "SKIP: system-mode key owner (needs root)"
fi

t_done
