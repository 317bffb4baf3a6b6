#!/bin/sh
# remote.sh -- imc-remote (docs/INTERNALS.md section 8) against real peers on
# 127.0.0.0/8: dnsmasq publishing MX, null MX and A records, and Python SMTP
# sinks (tests/tools/sink.py) that fail the ways real servers do.  Queue files
# are written here and passed open on fds, job lines fed on fd 0, reports
# read from fd 1.  Addresses are 127.A.B.x with A and B random per run; MX
# delivery uses port 25 on them, routes and smart hosts unusual ports.
. "$(dirname "$0")/../lib.sh"

W=$T_TMP/w
H=$T_TMP/home
mkdir -p "$W" "$H/control"
IMC_HOME=$H; export IMC_HOME
tab=$(printf '\t')
. "$TOP/tests/netlib.sh"
PORT=$((20000 + ($$ * 13 + $(date +%s)) % 9000))
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  if in_use "$NET.$i:25" || in_use "$NET.$i:$PORT" || in_use "$NET.53:53"; then
    fail setup "address or port in use: $NET.$i"; exit 1
  fi
done
onemsg() { find "$W/$1.md" -type f -name 'msg*' | sort | head -1; }

# ---- DNS: dnsmasq on NET.53, authoritative for .test only
cat > "$W/dns.conf" <<EOF
keep-in-foreground
port=53
listen-address=$NET.53
bind-interfaces
no-resolv
no-hosts
local=/test/
mx-host=mx.test,mx1.mx.test,10
mx-host=mx.test,mx2.mx.test,20
address=/mx1.mx.test/$DEAD
address=/mx2.mx.test/$(hip 3)
mx-host=busy.test,mx1.busy.test,10
mx-host=busy.test,mx2.busy.test,20
address=/mx1.busy.test/$(hip 5)
address=/mx2.busy.test/$(hip 3)
dns-rr=nullmx.test,15,000000
dns-rr=dnsfail.test,15,00
address=/aonly.test/$(hip 4)
address=/gwdead.test/$DEAD
address=/gw.test/$(hip 7)
address=/tls.test/$(hip 10)
address=/wrongname.test/$(hip 10)
EOF
dnsmasq -C "$W/dns.conf" --pid-file= --log-facility="$W/dns.log" 2> "$W/dns.err" &
DNS_PID=$!
T_PIDS="$T_PIDS $DNS_PID"
DNSCACHEIP=$NET.53; export DNSCACHEIP
t_wait 10 sh -c "ss -Hlun | grep -q '$NET.53:53'" || { fail setup "dnsmasq did not start: $(cat "$W/dns.err")"; exit 1; }

# ---- instance settings
echo imc.test > "$H/control/me"
echo 5 > "$H/control/timeoutconnect"
echo 20 > "$H/control/timeoutremote"
printf 'transfer medium\nprotocol maximum\n' > "$H/control/loglevel"

# ---- queue files: MESSAGE + ENVELOPE + TRAILER, opened on fds 3..6
cat > "$W/mkq.py" <<'EOF'
import sys, time
out, msgfile = sys.argv[1:3]
msg = open(msgfile, 'rb').read()
env = b'Fsender@imc.test\0Tx@x.test\0\0'
tr = ('IMCQ1 M%016x E%08x T%016x END' % (len(msg), len(env), int(time.time()))).ljust(63) + '\n'
open(out, 'wb').write(msg + env + tr.encode())
EOF
printf 'From: sender@imc.test\nTo: someone\nSubject: plain\n\nHello.\n.a line with a leading dot\n.\nlast line\n' > "$W/m1"
printf 'Subject: 8bit\n\ncaf\303\251\n' > "$W/m8"
"$PYTHON" -c "import sys; sys.stdout.write('Subject: big\n\n' + ('x' * 999 + '\n') * 3000)" > "$W/mbig"
printf 'Subject: odd\n\n..two dots\r\nCRLF line\nno final newline' > "$W/modd"
for m in m1 m8 mbig modd; do "$PYTHON" "$W/mkq.py" "$W/q$m" "$W/$m"; done
exec 3< "$W/qm1" 4< "$W/qm8" 5< "$W/qmbig" 6< "$W/qmodd"
size() { wc -c < "$W/$1" | tr -d ' '; }
# job FD MESSAGE SENDER RCPT...: one job line
job() { _fd=$1 _m=$2 _s=$3; shift 3; printf '%s\t%s\tnormal\t%s' "$_fd" "$(size "$_m")" "$_s"; printf '\t%s' "$@"; printf '\n'; }

# remote NAME DOMAIN: jobs from W/NAME.jobs; reports W/NAME.rep, stderr W/NAME.err, exit code W/NAME.rc
remote() {
  imc-remote "$2" < "$W/$1.jobs" > "$W/$1.rep" 2> "$W/$1.err"
  echo $? > "$W/$1.rc"
}
rep() { sed -n "${2:-1}p" "$W/$1.rep"; }
kinds() { cut -c1 "$W/$1.rep" | tr -d '\n'; }
# body MAILFILE ORIGINAL: the sink's copy without its X-Sink- lines equals the original (+ LF)
body() {
  grep -v '^X-Sink-' "$1" > "$W/body.got"
  cp "$2" "$W/body.want"
  [ -z "$(tail -c1 "$2")" ] || printf '\n' >> "$W/body.want"
  tr -d '\r' < "$W/body.want" > "$W/body.want2"
  cmp -s "$W/body.got" "$W/body.want2"
}
reset_control() { rm -f "$H/control/smarthost" "$H/control/routes" "$H/control/msgsperconn"; }

# ================= DNS cases: port 25 on NET.x
start_sink mx2 "$(hip 3):25" || exit 1
start_sink aonly "$(hip 4):25" || exit 1
start_sink busy "$(hip 5):25" --greet 421 || exit 1

# ---- 1. MX in preference order, the first host refuses connections
job 3 m1 alice@imc.test bob@mx.test carol@mx.test > "$W/c1.jobs"
remote c1 mx.test
check "MX: exit 0" [ "$(cat "$W/c1.rc")" = 0 ]
check "MX: both delivered through the second MX" [ "$(kinds c1)" = KK ]
check "MX: report names the host" [ "$(rep c1)" = "Kmx2.mx.test [$(hip 3)]: 250 2.0.0 ok: queued as sink1" ]
check "MX: the sink has one message" [ "$(delivered mx2)" = 1 ]
check "MX: envelope" grep -q '^X-Sink-From: <alice@imc.test>$' "$(onemsg mx2)"
check "MX: both recipients in one transaction" grep -q '^X-Sink-To: <bob@mx.test>, <carol@mx.test>$' "$(onemsg mx2)"
check "MX: message byte-exact (dot-stuffing undone)" body "$(onemsg mx2)" "$W/m1"
check "MX: the dead host was tried first" grep -q "connection refused\|Connection refused" "$W/c1.err"
check "MX: info lines at transfer medium" grep -q '^imc-remote: transfer: delivered to <bob@mx.test>' "$W/c1.err"
check "MX: transcript at protocol maximum" grep -q '^imc-remote: protocol: mx2.mx.test .* > MAIL FROM:<alice@imc.test>' "$W/c1.err"

# ---- 2. null MX
job 3 m1 alice@imc.test u@nullmx.test > "$W/c2.jobs"
remote c2 nullmx.test
check "null MX: D 5.1.2" [ "$(rep c2)" = "D5.1.2 null MX: domain nullmx.test accepts no mail" ]

# ---- 3. a domain with only an A record: the implicit MX
job 3 m1 alice@imc.test u@aonly.test > "$W/c3.jobs"
remote c3 aonly.test
check "implicit MX: K" [ "$(rep c3)" = "Kaonly.test [$(hip 4)]: 250 2.0.0 ok: queued as sink1" ]
check "implicit MX: delivered" [ "$(delivered aonly)" = 1 ]

# ---- 4. DNS temporary failure: a malformed MX answer makes dns_mx fail at once
# (a server that refuses or fails costs libowfat ~11 s of retries)
job 3 m1 alice@imc.test u@dnsfail.test > "$W/c4.jobs"
t0=$(date +%s)
remote c4 dnsfail.test
check "DNS temporary failure: Z 4.4.3" grep -q '^Z4\.4\.3 DNS temporary failure' "$W/c4.rep"
check "DNS temporary failure: quick" [ $(( $(date +%s) - t0 )) -lt 5 ]

# ---- 4b. a domain that does not exist
job 3 m1 alice@imc.test u@nxdomain.test > "$W/c4b.jobs"
remote c4b nxdomain.test
check "no such domain: D 5.1.2" grep -q '^D5\.1\.2 domain nxdomain.test not found' "$W/c4b.rep"

# ---- 5. 421 greeting: the next MX host
job 3 m1 alice@imc.test u@busy.test > "$W/c5.jobs"
remote c5 busy.test
check "421 greeting: next host" [ "$(rep c5)" = "Kmx2.busy.test [$(hip 3)]: 250 2.0.0 ok: queued as sink2" ]
check "421 greeting: the busy host was asked" [ "$(conns busy)" = 1 ]

# ---- 6. address literal recipient
start_sink lit "$(hip 8):25" || exit 1
job 3 m1 alice@imc.test "u@[$(hip 8)]" > "$W/c6.jobs"
remote c6 "[$(hip 8)]"
check "address literal: K" [ "$(rep c6)" = "K[$(hip 8)]: 250 2.0.0 ok: queued as sink1" ]
check "address literal: delivered" grep -q "^X-Sink-To: <u@\[$(hip 8)\]>\$" "$(onemsg lit)"
stop_sink lit
stop_sink busy

# ---- 6b. all hosts refuse: Z 4.4.1
printf 'refused.test [%s]:%s,[%s]:%s\n' "$DEAD" "$PORT" "$DEAD" "$((PORT + 1))" > "$H/control/routes"
job 3 m1 alice@imc.test u@refused.test > "$W/c6b.jobs"
remote c6b refused.test
check "all hosts refuse: Z 4.4.1" [ "$(rep c6b)" = "Z4.4.1 connection refused by all hosts" ]
reset_control

# ================= smart host and routes: unusual ports
# ---- 7. smart host
start_sink smart "$(hip 6):$PORT" || exit 1
echo "$(hip 6):$PORT" > "$H/control/smarthost"
job 3 m1 alice@imc.test a@anywhere.example b@elsewhere.example > "$W/c7.jobs"
remote c7 anywhere.example
check "smart host: K K" [ "$(kinds c7)" = KK ]
check "smart host: delivered there" [ "$(delivered smart)" = 1 ]
reset_control

# ---- 8. route with a dead first host: the second
start_sink gw "$(hip 7):$PORT" || exit 1
printf '# routes\nrouted.test gwdead.test:%s,gw.test:%s\n' "$PORT" "$PORT" > "$H/control/routes"
echo "$(hip 6):$PORT" > "$H/control/smarthost"          # a route beats the smart host
job 3 m1 alice@imc.test u@routed.test > "$W/c8.jobs"
remote c8 routed.test
check "route: second host" [ "$(rep c8)" = "Kgw.test [$(hip 7)]: 250 2.0.0 ok: queued as sink1" ]
check "route: not through the smart host" [ "$(delivered smart)" = 1 ]
reset_control

# ---- 9. RCPT 550 for one of three recipients
start_sink rf "$(hip 9):$PORT" --rcpt-fail bad@rf.test=550 --rcpt-fail later@rf.test=452 || exit 1
echo "rf.test [$(hip 9)]:$PORT" > "$H/control/routes"
job 3 m1 alice@imc.test a@rf.test bad@rf.test c@rf.test > "$W/c9.jobs"
remote c9 rf.test
check "RCPT 550: K D K" [ "$(kinds c9)" = KDK ]
check "RCPT 550: the server's reply" [ "$(rep c9 2)" = "D[$(hip 9)]: 550 5.1.1 recipient refused" ]
check "RCPT 550: message to the other two" grep -q '^X-Sink-To: <a@rf.test>, <c@rf.test>$' "$(onemsg rf)"
job 3 m1 alice@imc.test later@rf.test bad@rf.test > "$W/c9b.jobs"
remote c9b rf.test
check "no recipient accepted: Z D, no DATA" [ "$(kinds c9b)" = ZD -a "$(delivered rf)" = 1 ]
stop_sink rf

# ---- 10. 451 on the first try, accepted on the next run
start_sink tf "$(hip 9):$PORT" --rcpt-tempfail-first || exit 1
job 3 m1 alice@imc.test a@rf.test > "$W/c10.jobs"
remote c10 rf.test
check "451 first: Z" sh -c "grep -q '^Z\[$(hip 9)\]: 451 4.2.1' '$W/c10.rep'"
cp "$W/c10.jobs" "$W/c10b.jobs"; remote c10b rf.test
check "451 first: K on the next run" [ "$(kinds c10b)" = K ]
stop_sink tf

# ---- 11. the connection drops in DATA: Z, the next job gets one more connection
start_sink drop "$(hip 9):$PORT" --drop-in-data || exit 1
{ job 3 m1 alice@imc.test a@rf.test b@rf.test; job 3 m1 alice@imc.test c@rf.test; job 3 m1 alice@imc.test d@rf.test; } > "$W/c11.jobs"
remote c11 rf.test
check "drop in DATA: Z for all" [ "$(kinds c11)" = ZZZZ ]
check "drop in DATA: 4.4.2 connection lost" grep -q "^Z\[$(hip 9)\]: 4.4.2 connection lost" "$W/c11.rep"
check "drop in DATA: one retry connection only" [ "$(conns drop)" = 2 ]
check "drop in DATA: exit 0" [ "$(cat "$W/c11.rc")" = 0 ]
stop_sink drop

# ---- 12. SIZE too small: D 5.3.4 without sending
start_sink small "$(hip 9):$PORT" --size 10000 || exit 1
{ job 5 mbig alice@imc.test a@rf.test b@rf.test; job 3 m1 alice@imc.test c@rf.test; } > "$W/c12.jobs"
remote c12 rf.test
check "SIZE: D D for the big one, K for the small one" [ "$(kinds c12)" = DDK ]
check "SIZE: 5.3.4 text" grep -q "^D\[$(hip 9)\]: 5.3.4 message larger than the server's SIZE limit" "$W/c12.rep"
check "SIZE: the big one never sent" [ "$(grep -c '< MAIL' "$W/small.log")" = 1 ]
check "SIZE: SIZE= given" grep -q '< MAIL FROM:<alice@imc.test> SIZE=' "$W/small.log"
stop_sink small

# ---- 13. ten messages in one run: one connection; msgsperconn 3: four
start_sink many "$(hip 9):$PORT" || exit 1
for i in 1 2 3 4 5 6 7 8 9 10; do job 3 m1 alice@imc.test "r$i@rf.test"; done > "$W/c13.jobs"
remote c13 rf.test
check "ten messages: all K" [ "$(kinds c13)" = KKKKKKKKKK ]
check "ten messages: one connection" [ "$(conns many)" = 1 -a "$(delivered many)" = 10 ]
check "ten messages: RSET between them" [ "$(grep -c '< RSET' "$W/many.log")" = 9 ]
"$PYTHON" -c "
import sys
print('3\t%s\tnormal\talice@imc.test\t' % sys.argv[1] + '\t'.join('n%d@rf.test' % i for i in range(250)))" "$(size m1)" > "$W/c13c.jobs"
remote c13c rf.test
check "250 recipients pipelined in batches: all K" [ "$(kinds c13c | tr -d K)" = "" -a "$(wc -l < "$W/c13c.rep")" = 250 ]
check "250 recipients: one message" grep -q '<n249@rf.test>$' "$(find "$W/many.md" -name 'msg*' | sort | tail -1)"
echo 3 > "$H/control/msgsperconn"
cp "$W/c13.jobs" "$W/c13b.jobs"
remote c13b rf.test
check "msgsperconn 3: all K" [ "$(kinds c13b)" = KKKKKKKKKK ]
check "msgsperconn 3: four connections" [ "$(conns many)" = 6 ]
stop_sink many
rm -f "$H/control/msgsperconn"

# ---- 14. 8-bit: BODY=8BITMIME, or downgraded to 7 bits when the server lacks 8BITMIME
start_sink e8 "$(hip 9):$PORT" || exit 1
job 4 m8 alice@imc.test a@rf.test > "$W/c14.jobs"
remote c14 rf.test
check "8-bit: K" [ "$(kinds c14)" = K ]
check "8-bit: BODY=8BITMIME" grep -q '^X-Sink-Body: 8BITMIME$' "$(onemsg e8)"
check "8-bit: byte-exact" body "$(onemsg e8)" "$W/m8"
stop_sink e8
start_sink n8 "$(hip 9):$PORT" --no-8bitmime --no-pipelining || exit 1
{ job 4 m8 alice@imc.test a@rf.test; job 6 modd alice@imc.test b@rf.test; } > "$W/c14b.jobs"
remote c14b rf.test
check "8-bit without 8BITMIME: both K" [ "$(kinds c14b)" = KK ]
n8msg() { grep -l "^Subject: $1" "$W"/n8.md/msg* | head -1; }
check "8-bit without 8BITMIME: sent 7-bit, no BODY=8BITMIME" grep -q '^X-Sink-Body: 7BIT$' "$(n8msg 8bit)"
check "8-bit without 8BITMIME: downgraded, every byte 7-bit, the same bytes decoded" "$PYTHON" -c "
import sys, email
raw = open(sys.argv[1], 'rb').read()
m = email.message_from_bytes(raw)
assert all(b < 128 for b in raw), 'an 8-bit byte'
assert m['Content-Transfer-Encoding'].lower() in ('base64', 'quoted-printable'), m['Content-Transfer-Encoding']
assert m.get_payload(decode=True) == b'caf\\xc3\\xa9\\n', m.get_payload(decode=True)" "$(n8msg 8bit)"
check "no PIPELINING: one command at a time, odd message byte-exact" body "$(n8msg odd)" "$W/modd"
stop_sink n8
reset_control

# ---- 15. STARTTLS: may (any certificate), verify (refused, or trusted through IMC_TLS_CAFILE), require
cat > "$W/ext" <<'EOF'
subjectAltName=DNS:tls.test
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
EOF
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/ca.key" -out "$W/ca.pem" -subj /CN=imc-test-ca -days 2 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign > /dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout "$W/srv.key" -out "$W/srv.csr" -subj /CN=tls.test > /dev/null 2>&1
openssl x509 -req -in "$W/srv.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial -out "$W/srv.pem" \
  -days 2 -extfile "$W/ext" > /dev/null 2>&1
start_sink tls "$(hip 10):$PORT" --tls "$W/srv.pem" "$W/srv.key" || exit 1
cat > "$H/control/routes" <<EOF
may.test tls.test:$PORT
verify.test tls.test:$PORT tls=verify
wrong.test wrongname.test:$PORT tls=verify
none.test tls.test:$PORT tls=none
require.test gw.test:$PORT tls=require
EOF
job 3 m1 alice@imc.test a@may.test > "$W/c15.jobs"
remote c15 may.test
check "tls=may: K" [ "$(kinds c15)" = K ]
check "tls=may: the sink saw TLS" grep -q '^X-Sink-TLS: yes$' "$(onemsg tls)"
check "tls=may: EHLO again after STARTTLS" [ "$(grep -c '< EHLO' "$W/tls.log")" = 2 ]
check "tls=may: logged" grep -q '^imc-remote: transfer: TLS with tls.test .*TLSv1.2' "$W/c15.err"
job 3 m1 alice@imc.test a@verify.test > "$W/c15b.jobs"
remote c15b verify.test
check "tls=verify, unknown CA: Z 4.7.5" grep -q "^Ztls.test \[$(hip 10)\]: 4.7.5 " "$W/c15b.rep"
check "tls=verify, unknown CA: not delivered" [ "$(delivered tls)" = 1 ]
IMC_TLS_CAFILE=$W/ca.pem; export IMC_TLS_CAFILE
cp "$W/c15b.jobs" "$W/c15c.jobs"; remote c15c verify.test
check "tls=verify, trusted CA and name: K" [ "$(kinds c15c)" = K -a "$(delivered tls)" = 2 ]
job 3 m1 alice@imc.test a@wrong.test > "$W/c15d.jobs"
remote c15d wrong.test
check "tls=verify, name mismatch: Z" grep -q '^Zwrongname.test .*4\.7\.5' "$W/c15d.rep"
unset IMC_TLS_CAFILE
job 3 m1 alice@imc.test a@none.test > "$W/c15e.jobs"
remote c15e none.test
check "tls=none: K" [ "$(kinds c15e)" = K ]
check "tls=none: in plain" grep -q '^X-Sink-TLS: no$' "$(find "$W/tls.md" -name 'msg*' | sort | tail -1)"
job 3 m1 alice@imc.test a@require.test > "$W/c15f.jobs"
remote c15f require.test
check "tls=require without STARTTLS: Z 4.7.4" [ "$(rep c15f)" = "Zgw.test [$(hip 7)]: 4.7.4 TLS is required but the server does not offer STARTTLS" ]
stop_sink tls
reset_control

# ---- 16. AUTH to a smart host that requires it (in plain text: insecureauth)
start_sink auth "$(hip 11):$PORT" --auth imcuser:s3cret || exit 1
printf 's3cret\n' > "$H/control/smarthost.pw"
echo "$(hip 11):$PORT tls=none auth=imcuser:smarthost.pw insecureauth" > "$H/control/smarthost"
job 3 m1 alice@imc.test a@auth.example b@auth.example > "$W/c16.jobs"
remote c16 auth.example
check "AUTH: K K" [ "$(kinds c16)" = KK ]
check "AUTH: the sink saw the user" grep -q '^X-Sink-Auth: imcuser$' "$(onemsg auth)"
check "AUTH: the password is not logged" sh -c "! grep -q 's3cret\|czNjcmV0' '$W/c16.err'"
printf 'wrong\n' > "$H/control/smarthost.pw"
cp "$W/c16.jobs" "$W/c16b.jobs"; remote c16b auth.example
check "AUTH refused: D D" [ "$(kinds c16b)" = DD ]
check "AUTH refused: 5.7.8" grep -q "^D$(hip 11) \[$(hip 11)\]: 5.7.8 authentication failed" "$W/c16b.rep"
rm -f "$H/control/smarthost.pw"
cp "$W/c16.jobs" "$W/c16c.jobs"; remote c16c auth.example
check "AUTH password file missing: Z Z" [ "$(kinds c16c)" = ZZ ]
check "AUTH password file missing: 4.3.5" grep -q '4.3.5 unable to read the AUTH password file' "$W/c16c.rep"
echo "$(hip 11):$PORT" > "$H/control/smarthost"
cp "$W/c16.jobs" "$W/c16d.jobs"; remote c16d auth.example
check "MAIL refused (pipelined): D D with its reply" [ "$(kinds c16d)" = DD -a "$(rep c16d 2)" = "D$(hip 11) [$(hip 11)]: 530 5.7.0 authentication required" ]
stop_sink auth
reset_control

# ---- 17. EHLO refused: HELO; a 5xx greeting: the next host; broken TLS under tls=may: plain
start_sink helo "$(hip 12):$PORT" --no-ehlo || exit 1
start_sink rej "$(hip 13):$PORT" --greet 554 || exit 1
start_sink badtls "$(hip 14):$PORT" --tls-broken || exit 1
cat > "$H/control/routes" <<EOF
helo.test [$(hip 12)]:$PORT
rej.test [$(hip 13)]:$PORT,gw.test:$PORT
badtls.test [$(hip 14)]:$PORT
EOF
job 3 m1 alice@imc.test a@helo.test > "$W/c17.jobs"
remote c17 helo.test
check "EHLO refused: K after HELO" [ "$(kinds c17)" = K ]
check "EHLO refused: HELO sent" grep -q '< HELO imc.test' "$W/helo.log"
job 3 m1 alice@imc.test a@rej.test > "$W/c17b.jobs"
remote c17b rej.test
check "554 greeting: the next host" [ "$(rep c17b)" = "Kgw.test [$(hip 7)]: 250 2.0.0 ok: queued as sink2" ]
check "554 greeting: it was asked" [ "$(conns rej)" = 1 ]
job 3 m1 alice@imc.test a@badtls.test > "$W/c17c.jobs"
remote c17c badtls.test
check "broken TLS, tls=may: delivered in plain" [ "$(kinds c17c)" = K ]
check "broken TLS, tls=may: a second connection without STARTTLS" [ "$(conns badtls):$(grep -c '< STARTTLS' "$W/badtls.log")" = 2:1 ]
check "broken TLS, tls=may: logged" grep -q '4.7.5 TLS failed: .*trying again without TLS' "$W/c17c.err"
stop_sink helo; stop_sink rej; stop_sink badtls
reset_control

# ---- 18. AUTH LOGIN when PLAIN is not offered; an absolute password file with CR LF
start_sink login "$(hip 11):$PORT" --auth imcuser:s3cret --auth-login-only || exit 1
printf 's3cret\r\nignored second line\n' > "$W/login.pw"
echo "$(hip 11):$PORT auth=imcuser:$W/login.pw tls=may insecureauth" > "$H/control/smarthost"
job 3 m1 alice@imc.test a@auth.example > "$W/c18.jobs"
remote c18 auth.example
check "AUTH LOGIN: K" [ "$(kinds c18)" = K ]
check "AUTH LOGIN: the sink saw the user" grep -q '^X-Sink-Auth: imcuser$' "$(onemsg login)"
check "AUTH LOGIN: credentials not in the transcript" sh -c "! grep -q 'czNjcmV0\|aW1jdXNlcg' '$W/c18.err'"
stop_sink login
reset_control

# ---- 19. the transfer time limit for the message's priority
start_sink stall "$(hip 9):$PORT" --stall-after-data || exit 1
echo "rf.test [$(hip 9)]:$PORT" > "$H/control/routes"
printf 'urgent 600\nnormal 2\nnonurgent 1800\n' > "$H/control/transfertimeout"
job 3 m1 alice@imc.test a@rf.test > "$W/c19.jobs"
t0=$(date +%s)
remote c19 rf.test
t1=$(date +%s)
check "transfer timeout: Z 4.4.2" grep -q "^Z\[$(hip 9)\]: 4.4.2 connection lost: Connection timed out" "$W/c19.rep"
check "transfer timeout: after about 2 s" [ $((t1 - t0)) -ge 1 -a $((t1 - t0)) -le 6 ]
rm -f "$H/control/transfertimeout"
stop_sink stall
reset_control

# ---- 20. IPv6
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128' && ! in_use "\[::1\]:$((PORT + 2))"; then
  start_sink v6 "[::1]:$((PORT + 2))" || exit 1
  echo "v6.test [IPv6:::1]:$((PORT + 2))" > "$H/control/routes"
  job 3 m1 alice@imc.test a@v6.test > "$W/c20.jobs"
  remote c20 v6.test
  check "IPv6 route: K" [ "$(rep c20)" = "K[IPv6:::1]: 250 2.0.0 ok: queued as sink1" ]
  stop_sink v6
  reset_control
fi

# ================= the protocol with imc-send
# ---- 21. malformed job lines, bad control files, usage
start_sink proto "$(hip 9):$PORT" || exit 1
echo "rf.test [$(hip 9)]:$PORT" > "$H/control/routes"
{
  printf 'garbage\n'
  job 3 m1 alice@imc.test a@rf.test
  printf '3\t10\tsoon\ts@x\tb@rf.test\tc@rf.test\n'
  printf '\n'
  job 9 m1 alice@imc.test d@rf.test                    # fd 9 is not open
  job 3 m1 alice@imc.test "e@rf.test${tab}bad address@rf.test"
  printf '3\t999999\tnormal\ts@x\tf@rf.test\n'          # longer than the file
  printf '3\t%s\tnormal\t\tg@rf.test' "$(size m1)"      # no newline at the end
} > "$W/c21.jobs"
remote c21 rf.test
check "malformed lines: reports in order" [ "$(kinds c21)" = ZKZZZKZZZ ]
check "malformed lines: exit 0" [ "$(cat "$W/c21.rc")" = 0 ]
check "malformed lines: unreadable message" grep -q '^Z4.3.0 unable to read the message' "$W/c21.rep"
printf 'rf.test [%s]:0\n' "$(hip 9)" > "$H/control/routes"
job 3 m1 alice@imc.test a@rf.test > "$W/c21b.jobs"
remote c21b rf.test
check "bad control/routes: Z 4.3.5" grep -q '^Z4\.3\.5 errors in the control files' "$W/c21b.rep"
check "bad control/routes: file and line" grep -q '^imc-remote: warning: control/routes:1: bad port$' "$W/c21b.err"
echo "rf.test [$(hip 9)]:$PORT" > "$H/control/routes"
"$PYTHON" -c "
import sys
for i in range(1001): print('9\t10\tnormal\ts@x\tr%d@rf.test' % i)
print('9\t10\tnormal\ts@x\tlast@rf.test')" > "$W/c21e.jobs"
remote c21e rf.test
check "1002 jobs: 1000 tried, 2 Z for the excess" [ "$(grep -c '^Z4.3.0 unable to read the message' "$W/c21e.rep"):$(grep -c '^Z4.3.0 too many recipients in one run' "$W/c21e.rep"):$(cat "$W/c21e.rc")" = 1000:2:0 ]
imc-remote < /dev/null > /dev/null 2>&1
check "usage: exit 100" [ $? = 100 ]
imc-remote rf.test < /dev/null > "$W/c21c.rep" 2>&1
rc=$?
check "no jobs: exit 0, nothing said" [ "$rc" = 0 -a ! -s "$W/c21c.rep" ]
job 3 m1 alice@imc.test a@rf.test | imc-remote rf.test > /dev/full 2> "$W/c21d.err"
rc=$?
check "reports unwritable: exit 111" [ "$rc" = 111 ]
check "reports unwritable: diagnostic" grep -q '^imc-remote: fatal: unable to write reports' "$W/c21d.err"
stop_sink proto
reset_control

stop_sink gw; stop_sink smart; stop_sink mx2; stop_sink aonly
kill "$DNS_PID" 2>/dev/null
exec 3<&- 4<&- 5<&- 6<&-
t_done
