# tlsrule.sh -- the control/rules verdicts tls and tlsauth, through
# imc-tcpd and its imc-smtpd workers, against real clients:
#   tls 127.0.0.1: swaks and Python's smtplib without STARTTLS get
#     530 5.7.0 at MAIL and nothing is queued; `openssl s_client -starttls
#     smtp`, swaks --tls and smtplib after starttls() deliver;
#   tlsauth 127.0.0.2: STARTTLS without AUTH gets 530 5.7.0 authentication
#     required; AUTH is neither offered nor taken in clear (538 5.7.11),
#     though loopback clients may otherwise, and MAIL then gets 530 5.7.0;
#     swaks --tls with AUTH delivers;
#   accept 127.0.0.3: plain mail still goes (the rules are per client);
#   after a HUP, tlsauth 127.0.0.1: openssl s_client -starttls smtp with
#     AUTH PLAIN delivers, without AUTH gets 530 5.7.0;
#   imc-ctl check names a bad verdict as control/rules:LINE: reason, warns
#     about a tls rule without a certificate, and imc-ctl show prints the
#     new verdicts.
. "$(dirname "$0")/../lib.sh"

for t in swaks openssl; do
  command -v $t > /dev/null || { echo "SKIP: $t is not installed"; exit 0; }
done
I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
P=$T_PORT
echo mx.example.com > "$I/control/me"
echo example.com > "$I/control/sitedomains"
printf 'mailbox alice "Alice"\nmailbox bob "Bob"\n' > "$I/control/directory"
imc-ctl compile > /dev/null || fail compile "imc-ctl compile"
mkdir -p "$I/control/tls"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$I/control/tls/key.pem" -out "$I/control/tls/cert.pem" \
  -days 2 -subj /CN=mx.example.com > /dev/null 2>&1 || fail tls-cert "openssl req failed"
HASH=$(openssl passwd -6 secret)
printf 'alice:%s\n' "$HASH" > "$I/control/auth"
printf 'tls 127.0.0.1\ntlsauth 127.0.0.2\naccept 127.0.0.3\n' > "$I/control/rules"
echo medium > "$I/control/loglevel"
imc-ctl check > "$T_TMP/check.out" 2>&1 && pass ctl-check || fail ctl-check "$(cat "$T_TMP/check.out")"
imc-ctl show > "$T_TMP/show.out" 2>&1
grep -q '^rules tls 127.0.0.1/32$' "$T_TMP/show.out" && grep -q '^rules tlsauth 127.0.0.2/32$' "$T_TMP/show.out" &&
  pass ctl-show-verdicts || fail ctl-show-verdicts "$(grep rules "$T_TMP/show.out")"
t_start "$I" || { fail start "services did not come up"; exit 1; }
t_wait 10 sh -c "ss -Htln | grep -q ':$P '" || { fail listen "nothing on $P"; exit 1; }
M=$I/mail/alice
AUTHB64=$(printf '\000alice\000secret' | base64)

# sw NAME SOURCE [swaks options]: one message to alice from SOURCE
sw() {
  _n=$1 _src=$2; shift 2
  swaks --server "127.0.0.1:$P" --local-interface "$_src" --from bob@example.com --to alice@example.com \
    --header "Subject: $_n" "$@" > "$T_TMP/$_n.out" 2>&1
}
# ossl NAME COMMANDS: openssl s_client -starttls smtp, one command a line
ossl() {
  _n=$1; shift
  printf '%s\n' "$@" | timeout 20 openssl s_client -starttls smtp -connect "127.0.0.1:$P" -crlf -quiet -ign_eof \
    > "$T_TMP/$_n.out" 2>&1
}
# py NAME SOURCE starttls|plain [USER]: Python smtplib sends one message to
# alice; prints the reply code and text of the refusal, or "sent"
cat > "$T_TMP/send.py" <<'PY'
import smtplib, sys, ssl
port, src, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
user = sys.argv[4] if len(sys.argv) > 4 else None
s = smtplib.SMTP("127.0.0.1", port, source_address=(src, 0), timeout=20)
s.ehlo("py.example")
if mode == "starttls":
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s.starttls(context=ctx)
    s.ehlo("py.example")
if user:
    try:
        s.login(user, "secret")
    except smtplib.SMTPNotSupportedError:
        print("no AUTH;", end=" ")
try:
    s.sendmail((user or "bob") + "@example.com", ["alice@example.com"], "Subject: smtplib %s\r\n\r\nbody\r\n" % mode)
    print("sent")
except smtplib.SMTPSenderRefused as e:
    print(e.smtp_code, e.smtp_error.decode())
s.quit()
PY
py() { "$PYTHON" "$T_TMP/send.py" "$P" "$@" 2>&1; }

# ---- tls 127.0.0.1
sw plain 127.0.0.1
grep -q '^<\*\* 530 5\.7\.0 must issue a STARTTLS command first' "$T_TMP/plain.out" &&
  pass "tls rule: swaks without STARTTLS gets 530 5.7.0" || fail "tls rule swaks plain" "$(tail -6 "$T_TMP/plain.out")"
r=$(py 127.0.0.1 plain)
[ "$r" = "530 5.7.0 must issue a STARTTLS command first" ] &&
  pass "tls rule: smtplib without STARTTLS gets 530 5.7.0" || fail "tls rule smtplib plain" "$r"
ossl o1 'EHLO tls.example' 'MAIL FROM:<bob@example.com>' 'RCPT TO:<alice@example.com>' 'DATA' \
  'Subject: over s_client' '' 'hello' '.' 'QUIT'
grep -q '^250 2\.1\.0' "$T_TMP/o1.out" && grep -q '^250 2\.0\.0 ok: queued as' "$T_TMP/o1.out" &&
  pass "tls rule: openssl s_client -starttls smtp sends" || fail "tls rule s_client" "$(tail -8 "$T_TMP/o1.out")"
sw tls1 127.0.0.1 --tls
grep -q '^<~  250 2\.0\.0 ok' "$T_TMP/tls1.out" && pass "tls rule: swaks --tls sends" ||
  fail "tls rule swaks --tls" "$(tail -6 "$T_TMP/tls1.out")"
r=$(py 127.0.0.1 starttls)
[ "$r" = sent ] && pass "tls rule: smtplib after starttls() sends" || fail "tls rule smtplib starttls" "$r"
check "three messages over TLS delivered, none in clear" t_wait 10 t_count_is "$M" 3
t_lacks "$(find "$M/new" -type f | head -1)" -q '^Subject: plain$' && ! grep -rq '^Subject: plain$' "$M/new" &&
  pass "the refused message is not there" || fail "refused message" "$(grep -rl 'Subject: plain' "$M/new")"
check "refusal logged" grep -q 'mail refused: 530 5.7.0 must issue a STARTTLS command first' "$I/log/smtpd/current"

# ---- tlsauth 127.0.0.2
sw ta1 127.0.0.2 --tls
grep -q '^<~\* 530 5\.7\.0 authentication required' "$T_TMP/ta1.out" &&
  pass "tlsauth rule: STARTTLS without AUTH gets 530 5.7.0" || fail "tlsauth no auth" "$(tail -6 "$T_TMP/ta1.out")"
sw ta2 127.0.0.2 -a PLAIN --auth-user alice --auth-password secret
t_lacks "$T_TMP/ta2.out" -q '^<-  250-AUTH' && pass "tlsauth rule: AUTH not offered in clear, even on loopback" ||
  fail "tlsauth AUTH offered" "$(tail -8 "$T_TMP/ta2.out")"
printf 'EHLO clear.example\r\nAUTH PLAIN %s\r\nMAIL FROM:<alice@example.com>\r\nQUIT\r\n' "$AUTHB64" > "$T_TMP/ta2b.in"
"$PYTHON" - "$P" "$T_TMP/ta2b.in" > "$T_TMP/ta2b.out" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), source_address=("127.0.0.2", 0), timeout=20)
f = s.makefile("rb")
print(f.readline().decode().rstrip())
for line in open(sys.argv[2], "rb").read().split(b"\r\n")[:-1]:
    s.sendall(line + b"\r\n")
    while True:
        r = f.readline().decode().rstrip()
        print(r)
        if len(r) < 4 or r[3] != "-":
            break
PY
grep -q '^538 5\.7\.11 ' "$T_TMP/ta2b.out" && grep -q '^530 5\.7\.0 must issue a STARTTLS command first' "$T_TMP/ta2b.out" &&
  pass "tlsauth rule: AUTH in clear 538 5.7.11, MAIL 530 5.7.0" || fail "tlsauth clear auth" "$(cat "$T_TMP/ta2b.out")"
sw ta3 127.0.0.2 --tls -a PLAIN --auth-user alice --auth-password secret --from alice@example.com
grep -q '^<~  250 2\.0\.0 ok' "$T_TMP/ta3.out" && pass "tlsauth rule: swaks --tls with AUTH sends" ||
  fail "tlsauth tls+auth" "$(tail -6 "$T_TMP/ta3.out")"
r=$(py 127.0.0.2 plain alice)
[ "$r" = "no AUTH; 530 5.7.0 must issue a STARTTLS command first" ] &&
  pass "tlsauth rule: smtplib without starttls: no AUTH, then 530 5.7.0" || fail "tlsauth smtplib" "$r"
r=$(py 127.0.0.2 starttls alice)
[ "$r" = sent ] && pass "tlsauth rule: smtplib starttls() and login() send" || fail "tlsauth smtplib tls" "$r"
check "the two tlsauth messages delivered" t_wait 10 t_count_is "$M" 5

# ---- accept 127.0.0.3: plain mail
sw acc 127.0.0.3
grep -q '^<-  250 2\.0\.0 ok' "$T_TMP/acc.out" && pass "accept rule: plain mail from another client" ||
  fail "accept plain" "$(tail -6 "$T_TMP/acc.out")"
check "accepted message delivered" t_wait 10 t_count_is "$M" 6

# ---- after a HUP: tlsauth for 127.0.0.1, openssl with and without AUTH
printf 'tlsauth 127.0.0.1\n' > "$I/control/rules"
_c=$(grep -c 'reread the control files' "$I/log/smtpd/current")
s6-svc -h "$I/service/smtpd"
check "HUP rereads the rules" t_wait 5 sh -c "[ \$(grep -c 'reread the control files' '$I/log/smtpd/current') -gt $_c ]"
ossl o2 'EHLO tls.example' 'MAIL FROM:<alice@example.com>' 'QUIT'
grep -q '^530 5\.7\.0 authentication required' "$T_TMP/o2.out" &&
  pass "tlsauth rule: openssl -starttls without AUTH gets 530 5.7.0" || fail "tlsauth s_client no auth" "$(tail -6 "$T_TMP/o2.out")"
ossl o3 'EHLO tls.example' "AUTH PLAIN $AUTHB64" 'MAIL FROM:<alice@example.com>' 'RCPT TO:<alice@example.com>' \
  'DATA' 'Subject: s_client with auth' '' 'hello' '.' 'QUIT'
grep -q '^235 2\.7\.0' "$T_TMP/o3.out" && grep -q '^250 2\.0\.0 ok: queued as' "$T_TMP/o3.out" &&
  pass "tlsauth rule: openssl -starttls with AUTH PLAIN sends" || fail "tlsauth s_client auth" "$(tail -8 "$T_TMP/o3.out")"
check "delivered after AUTH over TLS" t_wait 10 t_count_is "$M" 7

# ---- a bad verdict: file and line
printf 'relay 127.0.0.1\ntlsonly 127.0.0.5\n' > "$I/control/rules"
imc-ctl check > "$T_TMP/bad.out" 2>&1
grep -q '^control/rules:2: unknown verdict: tlsonly (accept, reject, relay, auth, tls, tlsauth)$' "$T_TMP/bad.out" &&
  pass "imc-ctl check: bad verdict with file:line" || fail "bad verdict" "$(cat "$T_TMP/bad.out")"

# ---- a tls rule without a certificate: imc-ctl check warns, naming the line
printf 'relay 127.0.0.1\ntls 127.0.0.5\n' > "$I/control/rules"
mv "$I/control/tls/cert.pem" "$T_TMP/cert.pem"
imc-ctl check > "$T_TMP/nocert.out" 2>&1
grep -q '^imc-ctl: warning: control/rules:2: no control/tls/cert.pem and key.pem: STARTTLS is not offered' "$T_TMP/nocert.out" &&
  pass "imc-ctl check: tls rule without a certificate warned" || fail "no cert warning" "$(cat "$T_TMP/nocert.out")"
mv "$T_TMP/cert.pem" "$I/control/tls/cert.pem"
imc-ctl check > "$T_TMP/cert.out" 2>&1
t_lacks "$T_TMP/cert.out" -q 'STARTTLS is not offered' && pass "no warning with the certificate" ||
  fail "warning with cert" "$(cat "$T_TMP/cert.out")"

t_stop "$I"
t_done
