#!/bin/sh
# remote_auth.sh -- AUTH credentials of a route go only to a verified host
# (docs/SECURITY.md 11.2; route.h, remote/sess_tls.c).  A sink offers
# STARTTLS with a self-signed certificate and AUTH, and records every AUTH
# it receives (sink.py --auth-log); another has a certificate from a test CA.
# Checked, with imc-remote run on job lines (as remote.sh does):
#   - auth= and no tls=: nothing recorded, the recipient deferred (Z) with a
#     reason naming the certificate; the same with tls=may (no insecureauth);
#   - tls=may insecureauth: AUTH is sent (the sink records it);
#   - the CA trusted through IMC_TLS_CAFILE: tls=verify (the default) delivers
#     with AUTH;
#   - imc-ctl check warns about insecureauth and about an auth= that can
#     never be used, naming file and line;
#   - a whole instance: the deferral and its reason in the tracking log, and
#     imc-qread showing the message still queued.
. "$(dirname "$0")/../lib.sh"
command -v openssl > /dev/null || { echo "SKIP: remote_auth: openssl is not installed"; exit 0; }
command -v dnsmasq > /dev/null || { echo "SKIP: remote_auth: dnsmasq is not installed"; exit 0; }

W=$T_TMP/w
H=$T_TMP/home
mkdir -p "$W" "$H/control"
IMC_HOME=$H; export IMC_HOME
. "$TOP/tests/netlib.sh"
PORT=$(t_port)

# ---- DNS: the sinks' names
cat > "$W/dns.conf.extra" <<EOF
address=/self.test/$(hip 10)
address=/trusted.test/$(hip 11)
EOF
start_dns || exit 1

# ---- certificates: self-signed for self.test; from a test CA for trusted.test
mk() { openssl "$@" >> "$W/openssl.out" 2>&1; }
mk req -x509 -newkey rsa:2048 -nodes -keyout "$W/self.key" -out "$W/self.pem" -days 2 \
  -subj /CN=self.test -addext subjectAltName=DNS:self.test
mk req -x509 -newkey rsa:2048 -nodes -keyout "$W/ca.key" -out "$W/ca.pem" -days 2 -subj /CN=imc-test-ca \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
mk req -newkey rsa:2048 -nodes -keyout "$W/srv.key" -out "$W/srv.csr" -subj /CN=trusted.test
printf 'subjectAltName=DNS:trusted.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$W/srv.ext"
mk x509 -req -in "$W/srv.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial -out "$W/srv.pem" \
  -days 2 -extfile "$W/srv.ext"
[ -s "$W/self.pem" ] && [ -s "$W/srv.pem" ] || { fail setup "openssl could not make the certificates"; exit 1; }

start_sink self "$(hip 10):$PORT" --tls "$W/self.pem" "$W/self.key" --auth imcuser:s3cret \
  --auth-log "$W/self.auth" || exit 1
start_sink trusted "$(hip 11):$PORT" --tls "$W/srv.pem" "$W/srv.key" --auth imcuser:s3cret \
  --auth-log "$W/trusted.auth" || exit 1

# ---- imc-remote on job lines
echo imc.test > "$H/control/me"
echo 5 > "$H/control/timeoutconnect"
echo 20 > "$H/control/timeoutremote"
printf 'transfer medium\n' > "$H/control/loglevel"
printf 's3cret\n' > "$H/control/route.pw"
printf 'Subject: auth\n\nhello\n' > "$W/m1"
printf 'Fsender@imc.test\0Tx@x.test\0\0' > "$W/env"
{ cat "$W/m1" "$W/env"; printf '%-63s\n' "IMCQ1 M$(printf %016x "$(wc -c < "$W/m1")") E$(printf %08x "$(wc -c < "$W/env")") T$(printf %016x "$(date +%s)") END"; } > "$W/q1"
exec 3< "$W/q1"
printf '3\t%s\tnormal\tsender@imc.test\ta@%s\n' "$(wc -c < "$W/m1" | tr -d ' ')" dest.test > "$W/jobs"
# remote NAME: imc-remote dest.test; reports W/NAME.rep, stderr W/NAME.err
remote() { imc-remote dest.test < "$W/jobs" > "$W/$1.rep" 2> "$W/$1.err"; echo $? > "$W/$1.rc"; }
# none_recorded SINK: the sink's AUTH log is empty (the sink is up: its transcript exists)
none_recorded() { [ -s "$W/$1.log" ] && [ ! -s "$W/$1.auth" ]; }

# 1. auth= without tls=: tls=verify, the self-signed certificate refused, no AUTH
echo "dest.test self.test:$PORT auth=imcuser:route.pw" > "$H/control/routes"
remote c1
check "auth=, no tls=: deferred (Z)" [ "$(cut -c1 "$W/c1.rep")" = Z ]
check "auth=, no tls=: the reason names the certificate" \
  grep -q "^Zself.test \[$(hip 10)\]: 4\.7\.5 certificate of self\.test not verified: .*; not sending AUTH" "$W/c1.rep"
check "auth=, no tls=: the sink received no AUTH" none_recorded self
check "auth=, no tls=: nothing delivered" delivered_is self 0

# 2. tls=may without insecureauth: TLS with any certificate, but still no AUTH
echo "dest.test self.test:$PORT tls=may auth=imcuser:route.pw" > "$H/control/routes"
remote c2
check "tls=may without insecureauth: deferred, the certificate named" \
  grep -q "^Zself.test \[$(hip 10)\]: 4\.7\.5 certificate of self\.test not verified: .*; not sending AUTH" "$W/c2.rep"
check "tls=may without insecureauth: the sink received no AUTH" none_recorded self
check "tls=may without insecureauth: it was over TLS (STARTTLS seen)" grep -q '< STARTTLS' "$W/self.log"

# 3. tls=may insecureauth: the explicit exception sends AUTH (the test can see AUTH)
echo "dest.test self.test:$PORT tls=may auth=imcuser:route.pw insecureauth" > "$H/control/routes"
remote c3
check "tls=may insecureauth: delivered (K)" [ "$(cut -c1 "$W/c3.rep")" = K ]
check "tls=may insecureauth: the sink recorded the AUTH, over TLS" grep -q '^imcuser s3cret tls=yes$' "$W/self.auth"

# 4. a trusted CA: tls=verify (the default with auth=) delivers with AUTH
echo "dest.test trusted.test:$PORT auth=imcuser:route.pw" > "$H/control/routes"
IMC_TLS_CAFILE=$W/ca.pem remote c4
check "trusted CA, tls=verify by default: delivered (K)" [ "$(cut -c1 "$W/c4.rep")" = K ]
check "trusted CA: the sink recorded the AUTH, over TLS" grep -q '^imcuser s3cret tls=yes$' "$W/trusted.auth"
check "trusted CA: TLS and AUTH logged" grep -q 'authenticated to trusted.test' "$W/c4.err"
check "the password is not in the log" sh -c "! grep -q 's3cret' '$W/c3.err' '$W/c4.err'"

# 5. imc-ctl check: a warning naming file:line for insecureauth and for an unusable auth=
cat > "$H/control/routes" <<EOF
verify.test trusted.test:$PORT auth=imcuser:route.pw
verify2.test trusted.test:$PORT tls=verify auth=imcuser:route.pw
dest.test self.test:$PORT tls=may auth=imcuser:route.pw insecureauth
plain.test self.test:$PORT tls=none auth=imcuser:route.pw
lit.test [$(hip 11)]:$PORT auth=imcuser:route.pw
EOF
echo "self.test:$PORT auth=imcuser:route.pw insecureauth tls=none" > "$H/control/smarthost"
imc-ctl check > "$W/ctl.out" 2> "$W/ctl.err"; rc=$?
check "imc-ctl check: still ok (exit 0)" [ "$rc" = 0 ]
check "imc-ctl check: warning for insecureauth (control/routes:3)" \
  grep -q '^imc-ctl: warning: control/routes:3: insecureauth' "$W/ctl.err"
check "imc-ctl check: warning for auth= that is never sent (control/routes:4)" \
  grep -q '^imc-ctl: warning: control/routes:4: auth= without tls=verify' "$W/ctl.err"
check "imc-ctl check: warning for auth= to an address literal (control/routes:5)" \
  grep -q '^imc-ctl: warning: control/routes:5: auth= to an address literal' "$W/ctl.err"
check "imc-ctl check: warning for the smart host" grep -q '^imc-ctl: warning: control/smarthost: insecureauth' "$W/ctl.err"
check "imc-ctl check: no warning for tls=verify lines" sh -c "! grep -q 'routes:[12]:' '$W/ctl.err'"
echo "x.test self.test:$PORT insecureauth" > "$H/control/routes"
rm -f "$H/control/smarthost"
imc-ctl check > "$W/ctl2.out" 2>&1
check "imc-ctl check: insecureauth without auth= is an error" grep -q 'routes:1: insecureauth without auth=' "$W/ctl2.out"
stop_sink self; stop_sink trusted

# 6. a whole instance: the message deferred, the reason in the tracking log and imc-qread
unset IMC_HOME
start_sink self2 "$(hip 10):$PORT" --tls "$W/self.pem" "$W/self.key" --auth imcuser:s3cret \
  --auth-log "$W/self2.auth" || exit 1
I=$T_TMP/i
t_instance "$I" || { fail setup "instance"; exit 1; }
echo site.test > "$I/control/me"
echo site.test > "$I/control/sitedomains"
echo 60 > "$I/control/retry"
printf 's3cret\n' > "$I/control/route.pw"
echo "dest.test self.test:$PORT auth=imcuser:route.pw" > "$I/control/routes"
IMC_HOME=$I imc-ctl compile > /dev/null
t_start "$I" || { fail start "the instance did not come up"; exit 1; }
printf 'Subject: via route\n\nhello\n' | IMC_HOME=$I sendmail -f alice@site.test bob@dest.test
check "instance: the deferral tracked with the certificate named" \
  t_wait 20 grep -q "deferred.*bob@dest.test.*certificate of self.test not verified" "$I/log/track/current"
check "instance: the sink received no AUTH" none_recorded self2
check "instance: the message is still queued (imc-qread lists it)" sh -c "IMC_HOME='$I' imc-qread | grep -q 'bob@dest.test'"
t_stop "$I"
t_done
