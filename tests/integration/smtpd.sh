#!/bin/sh
# smtpd.sh -- imc-smtpd end to end: a user instance under s6 whose
# listener (imc-tcpd, service smtpd) runs imc-smtpd per connection, plus
# small Python acceptors that run imc-smtpd with a chosen environment
# (TCPREMOTEIP=192.0.2.1 to look like a remote host, IMC_SUBMISSION=1), and
# a second instance that is never started (its queue keeps what imc-smtpd
# hands in, so envelopes can be read; its trigger has no reader).
#
# Checked: delivery with swaks to a Maildir and the 250's queue id in the
# tracking log; unknown recipients (550 5.1.1, no bounce); relaying refused
# for accept clients, allowed for relay clients and after AUTH; SIZE and
# databytes; AUTH PLAIN and LOGIN; AUTH refused before TLS for a remote
# client; STARTTLS with openssl s_client and swaks, the Received line with
# TLSv1.2 and the cipher, pipelined bytes after STARTTLS discarded; the
# submission port; sender restrictions; control/filter in the envelope;
# hostile input (bare LF, long lines, NUL, early talkers, 10,000 RCPTs,
# silent clients, bad commands), each followed by a normal session; ETRN,
# VRFY, EXPN, HELP; the transcript at loglevel maximum with AUTH masked.
. "$(dirname "$0")/../lib.sh"

# ---- helpers

# port_free PORT: nothing listens on 127.0.0.1 PORT
port_free() {
  "$PYTHON" -c 'import socket, sys
s = socket.socket()
try: s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError: sys.exit(1)' "$1"
}
# port_open PORT: something accepts on 127.0.0.1 PORT
port_open() {
  "$PYTHON" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$1"
}
# five free ports from a random start in 20000-29999
pick_ports() {
  _s=$(( 20000 + ($$ * 7 + $(date +%s)) % 9000 ))
  for _try in 1 2 3 4 5 6 7 8 9 10; do
    _ok=1
    for _i in 0 1 2 3 4; do port_free $((_s + _i)) || { _ok=0; break; }; done
    [ "$_ok" = 1 ] && { echo "$_s"; return 0; }
    _s=$(( 20000 + (_s + 97) % 9000 ))
  done
  return 1
}

# the acceptor (tests/tools/acceptor.py): runs PROG per connection with the
# socket as fds 0 and 1 and VAR=VALUE settings added to the environment
cp "$TOP/tests/tools/acceptor.py" "$T_TMP/acceptor.py"

# dlg.py PORT [SRC]: a scripted SMTP dialogue from stdin, one step a line:
#   S text   send text and CR LF     R text  send text as it is (both with \r \n \x00 escapes)
#   E text   the next reply's last line starts with text
#   W secs   sleep                   C       the server closes the connection
# exit 0 when every step matched; else the step and what came, on stdout
cat > "$T_TMP/dlg.py" <<'PY'
import codecs, socket, sys, time
port = int(sys.argv[1])
src = sys.argv[2] if len(sys.argv) > 2 else None
s = socket.create_connection(("127.0.0.1", port), timeout=20, source_address=(src, 0) if src else None)
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        l = f.readline()
        if not l:
            return lines or None
        lines.append(l.decode("latin1").rstrip("\r\n"))
        if len(l) < 4 or l[3:4] != b"-":
            return lines
for n, line in enumerate(sys.stdin, 1):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    op, _, arg = line.partition(" ")
    data = codecs.escape_decode(arg.encode())[0]
    try:
        if op == "S":
            s.sendall(data + b"\r\n")
        elif op == "R":
            s.sendall(data)
        elif op == "W":
            time.sleep(float(arg))
        elif op == "E":
            r = reply()
            if r is None or not r[-1].startswith(arg):
                print("step %d: expected %r, got %r" % (n, arg, r))
                sys.exit(1)
        elif op == "C":
            s.settimeout(10)
            rest = f.read()
            if rest:
                print("step %d: expected the end, got %r" % (n, rest[:200]))
                sys.exit(1)
    except OSError as e:
        print("step %d (%s): %s" % (n, line[:60], e))
        sys.exit(1)
PY
dlg() { "$PYTHON" "$T_TMP/dlg.py" "$@"; }

# ---- instance I, started; instance J, never started
BASE=$(pick_ports) || { fail ports "no five free ports found"; exit 1; }
P=$BASE A2=$((BASE + 1)) A3=$((BASE + 2)) A4=$((BASE + 3)) A5=$((BASE + 4))
I=$T_TMP/i J=$T_TMP/j
IMC_HOME=$I; export IMC_HOME
t_instance "$I" --port "$P" || { fail setup "imc-setup failed"; exit 1; }
imc-setup --user --port "$A5" "$J" > /dev/null 2>&1 || { fail setup "imc-setup J failed"; exit 1; }
for d in "$I" "$J"; do
  echo mx.example.com > "$d/control/me"
  printf 'example.com\nexample.org\n' > "$d/control/sitedomains"
  printf 'mailbox alice "Alice"\nmailbox bob "Bob"\nmailbox carol "Carol"\nlist team alice,bob\n' > "$d/control/directory"
  IMC_HOME=$d imc-ctl compile > /dev/null || fail compile "imc-ctl compile in $d"
  mkdir -p "$d/control/tls"
done
# rules: 127.0.0.1 relays, the rest of 127/8 is an ordinary (accept) client
printf 'relay 127.0.0.1\naccept 127.0.0.0/8\n' > "$I/control/rules"
echo maximum > "$I/control/loglevel"
HASH=$(openssl passwd -6 secret)
printf 'alice:%s\ndave@remote.example:%s\n' "$HASH" "$HASH" > "$I/control/auth"
cp "$I/control/auth" "$J/control/auth"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$I/control/tls/key.pem" -out "$I/control/tls/cert.pem" \
  -days 2 -subj /CN=mx.example.com > /dev/null 2>&1 || fail tls-cert "openssl req failed"
echo 20000 > "$I/control/databytes"
imc-ctl check > "$T_TMP/check.out" 2>&1 && pass ctl-check || fail ctl-check "$(cat "$T_TMP/check.out")"

if [ -x "$T_BIN/imc-tcpd" ] && [ -d "$I/service/smtpd" ]; then
  LISTENER=imc-tcpd SMTPDLOG=$I/log/smtpd/current
else
  LISTENER=acceptor SMTPDLOG=$T_TMP/acc1.log
  "$PYTHON" "$T_TMP/acceptor.py" "$P" "$T_BIN/imc-smtpd" "$T_TMP/pids1" > /dev/null 2> "$SMTPDLOG" &
  T_PIDS="$T_PIDS $!"
fi
t_start "$I" || { fail start "services did not come up"; exit 1; }
"$PYTHON" "$T_TMP/acceptor.py" "$A2" "$T_BIN/imc-smtpd" "$T_TMP/pids2" TCPREMOTEIP=192.0.2.1 IMC_RULE=accept \
  > /dev/null 2> "$T_TMP/acc2.log" &
T_PIDS="$T_PIDS $!"
"$PYTHON" "$T_TMP/acceptor.py" "$A3" "$T_BIN/imc-smtpd" "$T_TMP/pids3" TCPREMOTEIP=192.0.2.2 IMC_SUBMISSION=1 \
  > /dev/null 2> "$T_TMP/acc3.log" &
T_PIDS="$T_PIDS $!"
IMC_HOME=$J "$PYTHON" "$T_TMP/acceptor.py" "$A4" "$T_BIN/imc-smtpd" "$T_TMP/pids4" > /dev/null 2> "$T_TMP/acc4.log" &
T_PIDS="$T_PIDS $!"
for p in $P $A2 $A3 $A4; do
  t_wait 10 port_open "$p" || { fail listen "nothing listens on port $p ($LISTENER)"; exit 1; }
done
pass "listening ($LISTENER on $P, acceptors on $A2 $A3 $A4)"
M=$I/mail

# a normal session still works (after each hostile one)
normal() {
  dlg "$1" <<'EOF'
E 220
S EHLO normal.example
E 250
S NOOP
E 250 2.0.0
S QUIT
E 221 2.0.0
C
EOF
}

# ---- delivery
swaks --server "127.0.0.1:$P" --from bob@example.com --to alice@example.com \
  --header 'Subject: first' > "$T_TMP/sw1.out" 2>&1
id=$(sed -n 's/^<-  250 2\.0\.0 ok: queued as \([0-9a-f]*\)$/\1/p' "$T_TMP/sw1.out")
[ -n "$id" ] && pass "swaks delivery: 250 with a queue id" || fail "swaks delivery" "$(tail -5 "$T_TMP/sw1.out")"
check "arrives in the Maildir" t_wait 10 t_count_is "$M/alice" 1
f=$(find "$M/alice/new" -type f | head -1)
check "Received line" grep -q '^Received: from [^ ]* (\[127\.0\.0\.1\])$' "$f"
check "Received by ... with ESMTP" grep -q "^	by mx.example.com (imc) with ESMTP\$" "$f"
check "Received for the one recipient" grep -q "^	for <alice@example.com>; " "$f"
check "queue id in the tracking log" t_wait 10 grep -q "$id" "$I/log/track/current"

# ---- unknown recipients: refused at RCPT, never bounced
dlg "$P" <<'EOF' > "$T_TMP/d.out" && pass "unknown recipient 550 5.1.1" || fail "unknown recipient" "$(cat "$T_TMP/d.out")"
E 220
S EHLO client.example
E 250
S MAIL FROM:<carol@example.com>
E 250 2.1.0
S RCPT TO:<nobody@example.com>
E 550 5.1.1
S RCPT TO:<bob@example.com>
E 250 2.1.5
S DATA
E 354
S Subject: half
S
S text
S .
E 250 2.0.0 ok: queued as
S QUIT
E 221
EOF
check "the known recipient gets it" t_wait 10 t_count_is "$M/bob" 1
sleep 1
check "no bounce for the unknown one" t_count_is "$M/carol" 0

# ---- relaying
dlg "$P" 127.0.0.2 <<'EOF' > "$T_TMP/d.out" && pass "relaying denied to an accept client" || fail "relaying denied" "$(cat "$T_TMP/d.out")"
E 220
S EHLO client.example
E 250
S MAIL FROM:<someone@remote.example>
E 250
S RCPT TO:<x@elsewhere.example>
E 550 5.7.1 relaying denied
S RCPT TO:<x%elsewhere.example@example.com>
E 550 5.7.1 relaying denied
S RCPT TO:<@example.com:x@elsewhere.example>
E 550 5.7.1 relaying denied
S RCPT TO:<alice@example.com.>
E 550 5.7.1 relaying denied
S RCPT TO:<alice@[127.0.0.1]>
E 550 5.7.1 relaying denied
S RCPT TO:<Alice@EXAMPLE.ORG>
E 250 2.1.5
S RCPT TO:<postmaster>
E 250 2.1.5
S QUIT
E 221
EOF
dlg "$P" <<'EOF' > "$T_TMP/d.out" && pass "a relay client may send out" || fail "relay client" "$(cat "$T_TMP/d.out")"
E 220
S EHLO client.example
E 250
S MAIL FROM:<alice@example.com>
E 250
S RCPT TO:<x@elsewhere.example>
E 250 2.1.5
S RSET
E 250
S QUIT
E 221
EOF

# ---- size limits (databytes 20000)
big=$(head -c 30000 /dev/zero | tr '\0' 'x' | fold -w 70)
dlg "$P" > "$T_TMP/d.out" <<EOF && pass "SIZE= over databytes 552, DATA over databytes 552, session goes on" || fail "size limits" "$(cat "$T_TMP/d.out")"
E 220
S EHLO client.example
E 250 HELP
S MAIL FROM:<bob@example.com> SIZE=30000
E 552 5.3.4
S MAIL FROM:<bob@example.com> SIZE=1000
E 250
S RCPT TO:<carol@example.com>
E 250
S DATA
E 354
$(echo "$big" | sed 's/^/S /')
S .
E 552 5.3.4
S NOOP
E 250
S QUIT
E 221
EOF
check "EHLO advertises SIZE 20000" sh -c "swaks --server 127.0.0.1:$P --quit-after EHLO 2>&1 | grep -q '250-SIZE 20000'"
sleep 0.5
check "the big message never arrived" t_count_is "$M/carol" 0

# ---- AUTH on loopback (no TLS needed there)
swaks --server "127.0.0.1:$P" --from alice@example.com --to friend@remote.example -a PLAIN \
  --auth-user alice --auth-password secret > "$T_TMP/sw.out" 2>&1
grep -q '^<-  235 2.7.0' "$T_TMP/sw.out" && grep -q '^<-  250 2.0.0 ok: queued as' "$T_TMP/sw.out" \
  && pass "AUTH PLAIN, then relaying to a remote domain" || fail "AUTH PLAIN" "$(tail -8 "$T_TMP/sw.out")"
rid=$(sed -n 's/^<-  250 2\.0\.0 ok: queued as \([0-9a-f]*\)$/\1/p' "$T_TMP/sw.out")
check "the relayed message was received by the queue" t_wait 10 grep -q "$rid.*friend@remote.example" "$I/log/track/current"
swaks --server "127.0.0.1:$P" --from alice@example.com --to bob@example.com -a LOGIN \
  --auth-user alice --auth-password secret > "$T_TMP/sw.out" 2>&1
grep -q '^<-  235 2.7.0' "$T_TMP/sw.out" && grep -q '^<-  250 2.0.0 ok' "$T_TMP/sw.out" \
  && pass "AUTH LOGIN" || fail "AUTH LOGIN" "$(tail -8 "$T_TMP/sw.out")"
swaks --server "127.0.0.1:$P" --from alice@example.com --to bob@example.com -a PLAIN \
  --auth-user alice --auth-password wrong > "$T_TMP/sw.out" 2>&1
grep -q '^<\*\* 535 5.7.8' "$T_TMP/sw.out" && pass "wrong password 535 5.7.8" || fail "wrong password" "$(tail -5 "$T_TMP/sw.out")"
swaks --server "127.0.0.1:$P" --from bob@example.com --to x@remote.example -a PLAIN \
  --auth-user alice --auth-password secret > "$T_TMP/sw.out" 2>&1
grep -q '^<\*\* 554 5.7.1 sender address does not belong' "$T_TMP/sw.out" \
  && pass "authenticated user as another sender 554 5.7.1" || fail "auth sender" "$(tail -5 "$T_TMP/sw.out")"
check "transcript masks AUTH" t_wait 5 grep -q 'protocol: [0-9]* < AUTH PLAIN \*\*\*\*$' "$SMTPDLOG"
if grep -q 'AGFsaWNl' "$SMTPDLOG"; then fail "no secret in the log" "base64 credentials in $SMTPDLOG"; else pass "no secret in the log"; fi
check "smtp log line per session" grep -q 'smtp: 127.0.0.1 helo=.* result=quit' "$SMTPDLOG"

# ---- a remote client (192.0.2.1): AUTH only after STARTTLS
AUTHB64=$(printf '\000alice\000secret' | base64)
dlg "$A2" > "$T_TMP/d.out" <<EOF && pass "remote client: no AUTH before TLS (538 5.7.11)" || fail "AUTH before TLS" "$(cat "$T_TMP/d.out")"
E 220
S EHLO client.example
E 250 HELP
S AUTH PLAIN $AUTHB64
E 538 5.7.11
S MAIL FROM:<alice@example.com>
E 250
S RCPT TO:<x@remote.example>
E 550 5.7.1 relaying denied
R AUTH PLAIN $AUTHB64\r\r\n
E 500 5.5.2
C
EOF
grep -q 'AGFsaWNl' "$T_TMP/acc2.log" && fail "secret masked in a malformed AUTH line" "$(grep AGFsaWNl "$T_TMP/acc2.log")" \
  || pass "secret masked in a malformed AUTH line"
swaks --server "127.0.0.1:$A2" --quit-after EHLO > "$T_TMP/sw.out" 2>&1
grep -q '250-AUTH' "$T_TMP/sw.out" && fail "AUTH not offered in clear" "$(cat "$T_TMP/sw.out")" || pass "AUTH not offered in clear"
printf 'EHLO tls.example\nAUTH PLAIN %s\nMAIL FROM:<alice@example.com>\nRCPT TO:<x@remote.example>\nQUIT\n' "$AUTHB64" |
  timeout 20 openssl s_client -starttls smtp -connect "127.0.0.1:$A2" -crlf -quiet -ign_eof > "$T_TMP/ossl.out" 2>&1
grep -q '^250-AUTH PLAIN LOGIN' "$T_TMP/ossl.out" && grep -q '^235 2.7.0' "$T_TMP/ossl.out" \
  && grep -q '^250 2.1.5' "$T_TMP/ossl.out" && pass "openssl s_client -starttls smtp: AUTH after TLS, then relay" \
  || fail "openssl starttls" "$(cat "$T_TMP/ossl.out" | tail -12)"

# swaks --tls; the Received line names the protocol version and the cipher
swaks --server "127.0.0.1:$A2" --tls --from alice@example.com --to carol@example.com \
  --header 'Subject: over tls' > "$T_TMP/sw.out" 2>&1
grep -q '^=== TLS started with cipher TLSv1.2' "$T_TMP/sw.out" && grep -q '^<~  250 2.0.0 ok' "$T_TMP/sw.out" \
  && pass "swaks --tls" || fail "swaks --tls" "$(tail -8 "$T_TMP/sw.out")"
check "delivered over TLS" t_wait 10 t_count_is "$M/carol" 1
f=$(find "$M/carol/new" -type f | head -1)
check "Received has TLSv1.2 and the cipher" grep -q '^	by mx.example.com (imc) with ESMTPS (TLSv1.2 cipher [A-Z0-9-]*)$' "$f"
check "Received has the remote address" grep -q '^Received: from [^ ]* (\[192\.0\.2\.1\])$' "$f"

# bytes pipelined after STARTTLS are dropped: the server never answers the NOOP
"$PYTHON" - "$A2" > "$T_TMP/d.out" 2>&1 <<'PY' && pass "input pipelined after STARTTLS is discarded" || fail "STARTTLS injection" "$(cat "$T_TMP/d.out")"
import socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
def reply(f):
    while True:
        l = f.readline()
        if len(l) < 4 or l[3:4] != b"-": return l
assert reply(f).startswith(b"220")
s.sendall(b"EHLO x\r\n"); assert reply(f).startswith(b"250")
s.sendall(b"STARTTLS\r\nRSET\r\nNOOP\r\n")
assert reply(f).startswith(b"220 2.0.0"), "no 220"
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s)
print(t.version(), t.cipher())
tf = t.makefile("rb")
t.sendall(b"EHLO y\r\n")
r = tf.readline()
assert r.startswith(b"250-mx.example.com"), r     # not the answer to RSET or NOOP
t.sendall(b"QUIT\r\n")
while True:
    l = tf.readline()
    if not l or l.startswith(b"221"): break
    assert not l.startswith(b"250 2.0.0 ok"), l
PY

# ---- the submission port: AUTH before MAIL
dlg "$A3" > "$T_TMP/d.out" <<'EOF' && pass "submission: 530 5.7.0 before AUTH" || fail "submission" "$(cat "$T_TMP/d.out")"
E 220
S EHLO client.example
E 250
S MAIL FROM:<alice@example.com>
E 530 5.7.0
S QUIT
E 221
EOF

# ---- sender restrictions for relay clients
echo bob > "$I/control/senders.deny"
dlg "$P" > "$T_TMP/d.out" <<'EOF' && pass "senders.deny: 550 5.7.1 sender not allowed" || fail "senders.deny" "$(cat "$T_TMP/d.out")"
E 220
S EHLO client.example
E 250
S MAIL FROM:<bob@example.com>
E 250
S RCPT TO:<x@remote.example>
E 550 5.7.1 sender not allowed
S RCPT TO:<alice@example.com>
E 250
S RSET
E 250
S MAIL FROM:<alice@example.com>
E 250
S RCPT TO:<x@remote.example>
E 250
S QUIT
E 221
EOF
rm -f "$I/control/senders.deny"

# ---- control/filter goes into the envelope (instance J keeps its queue)
printf 'spammer@bad.example\n@turf.example turf\n' > "$J/control/filter"
for s in spammer@bad.example x@turf.example ok@good.example; do
  swaks --server "127.0.0.1:$A4" --from "$s" --to bob@example.com > "$T_TMP/sw.out" 2>&1 ||
    fail "filter send $s" "$(tail -4 "$T_TMP/sw.out")"
done
envs=$(for q in "$J"/queue/new/*; do tr '\0' '\n' < "$q" | grep -a '^[FI]' | tr '\n' ' '; echo; done)
echo "$envs" | grep -q 'Fspammer@bad.example .*Ifilter=drop' && pass "filter=drop in the envelope" || fail "filter drop" "$envs"
echo "$envs" | grep -q 'Fx@turf.example .*Ifilter=turf' && pass "filter=turf in the envelope" || fail "filter turf" "$envs"
echo "$envs" | grep 'Fok@good.example' | grep -q 'filter=' && fail "no filter for others" "$envs" || pass "no filter for others"
echo "$envs" | grep -q 'Ipeer=127.0.0.1 Ihelo=[^ ]* Iproto=ESMTP' && pass "envelope peer, helo, proto" || fail "envelope info" "$envs"
rm -f "$J/control/filter"

# and end to end on the running instance: imc-send drops or turfs, and tracks it
printf 'spammer@bad.example\n@turf.example turf\n' > "$I/control/filter"
before=$(t_count "$M/carol")
for s in spammer@bad.example x@turf.example; do
  swaks --server "127.0.0.1:$P" --from "$s" --to carol@example.com > "$T_TMP/sw.out" 2>&1
  fid=$(sed -n 's/^<-  250 2\.0\.0 ok: queued as \([0-9a-f]*\)$/\1/p' "$T_TMP/sw.out")
  [ -n "$fid" ] && pass "filtered sender $s still gets 250" || fail "filtered $s" "$(tail -4 "$T_TMP/sw.out")"
  check "filtered tracking line for $s" t_wait 10 grep -q "filtered	$fid	.*$s" "$I/log/track/current"
done
check "the turfed one is in archive/turf" t_wait 5 test -f "$I/archive/turf/$fid"
[ "$(t_count "$M/carol")" = "$before" ] && pass "filtered mail not delivered" \
  || fail "filtered mail not delivered" "carol has $(t_count "$M/carol")"
rm -f "$I/control/filter"

# ---- ETRN, VRFY, EXPN, HELP
dlg "$P" > "$T_TMP/d.out" <<'EOF' && pass "ETRN 250/459, VRFY 252, EXPN 502, HELP 214" || fail "ETRN and friends" "$(cat "$T_TMP/d.out")"
E 220
S EHLO client.example
E 250
S ETRN remote.example
E 250 2.0.0 queuing for node remote.example started
S ETRN example.com
E 459
S ETRN #queue
E 458
S VRFY alice
E 252
S EXPN team
E 502
S HELP
E 214
S QUIT
E 221
EOF
dlg "$A4" > "$T_TMP/d.out" <<'EOF' && pass "ETRN 458 when imc-send is not running" || fail "ETRN 458" "$(cat "$T_TMP/d.out")"
E 220
S EHLO client.example
E 250
S ETRN remote.example
E 458 4.4.0
S QUIT
E 221
EOF

# ---- hostile input
# a bare LF in DATA: 550 5.6.11 and the connection closes, the rest unread
# (every look-alike of the end of data is in smuggle.sh)
dlg "$P" > "$T_TMP/d.out" <<'EOF' && pass "bare LF in DATA 550 5.6.11 and close" || fail "bare LF" "$(cat "$T_TMP/d.out")"
E 220
S EHLO client.example
E 250
S MAIL FROM:<bob@example.com>
E 250
S RCPT TO:<carol@example.com>
E 250
S DATA
E 354
R Subject: smuggle\r\n\r\nhello\n.\nMAIL FROM:<evil@example.com>\nRCPT TO:<carol@example.com>\nDATA\nsmuggled\n.\r\nNOOP\r\n
E 550 5.6.11
C
EOF
check "normal session after bare LF" normal "$P"
dlg "$P" > "$T_TMP/d.out" <<'EOF' && pass "command with a bare LF 500 5.5.2 and close" || fail "bare LF command" "$(cat "$T_TMP/d.out")"
E 220
S EHLO client.example
E 250
R NOOP\nNOOP\r\n
E 500 5.5.2
C
EOF
long=$(head -c 1100 /dev/zero | tr '\0' 'a')
longdata=$(head -c 1500 /dev/zero | tr '\0' 'b')
dlg "$P" > "$T_TMP/d.out" <<EOF && pass "overlong command 500 5.5.2, overlong DATA line 500 5.5.2, NUL 500 5.5.2" || fail "long lines" "$(cat "$T_TMP/d.out")"
E 220
S EHLO client.example
E 250
S NOOP $long
E 500 5.5.2
S MAIL FROM:<bob@example.com>
E 250
S RCPT TO:<carol@example.com>
E 250
S DATA
E 354
S Subject: long
S
S $longdata
S .
E 500 5.5.2
S NO\x00OP
E 500 5.5.2
S NOOP
E 250
S QUIT
E 221
EOF
check "normal session after long lines" normal "$P"
sleep 0.5
check "none of those was delivered" t_count_is "$M/carol" 1

dlg "$P" > "$T_TMP/d.out" <<'EOF' && pass "ten bad commands: 421 4.7.0" || fail "bad commands" "$(cat "$T_TMP/d.out")"
E 220
S FOO
E 500 5.5.1
S BAR
E 500
S MAIL FROM:<bob@example.com>
E 503 5.5.1
S EHLO
E 501
S EHLO x
E 250
S RCPT TO:<bob@example.com>
E 503
S MAIL FROM:bob
E 501
S DATA
E 503
S X1
E 500
S X2
E 500
S X3
E 421 4.7.0
C
EOF
check "normal session after bad commands" normal "$P"

# early talker, on J with greetdelay 1
echo 1 > "$J/control/greetdelay"
dlg "$A4" > "$T_TMP/d.out" <<'EOF' && pass "early talker 554" || fail "early talker" "$(cat "$T_TMP/d.out")"
R EHLO early.example\r\nMAIL FROM:<a@b.example>\r\n
E 554 5.5.0
C
EOF
check "normal session with greetdelay" normal "$A4"
rm -f "$J/control/greetdelay"

# silent client, on J with timeoutsmtpd 2
echo 2 > "$J/control/timeoutsmtpd"
start=$(date +%s)
dlg "$A4" > "$T_TMP/d.out" <<'EOF' && pass "silent client 421 4.4.2 after timeoutsmtpd" || fail "timeout" "$(cat "$T_TMP/d.out")"
E 220
S EHLO client.example
E 250
W 4
E 421 4.4.2
C
EOF
secs=$(( $(date +%s) - start ))
[ "$secs" -le 8 ] && pass "timeout took ${secs}s" || fail "timeout took ${secs}s" "expected about 2"
rm -f "$J/control/timeoutsmtpd"
check "normal session after the timeout" normal "$A4"

# 10,000 recipients with maxrcpt 100, pipelined: 452 4.5.3 past 100, memory stays small
echo 100 > "$J/control/maxrcpt"
"$PYTHON" - "$A4" "$T_TMP/pids4" > "$T_TMP/d.out" 2>&1 <<'PY' && pass "10,000 RCPTs: 100 accepted, the rest 452 4.5.3, bounded" || fail "RCPT flood" "$(cat "$T_TMP/d.out")"
import socket, sys, time
port, pidlog = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=30)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline()
        if len(l) < 4 or l[3:4] != b"-": return l
assert reply().startswith(b"220")
s.sendall(b"EHLO flood.example\r\nMAIL FROM:<a@b.example>\r\n")
assert reply().startswith(b"250") and reply().startswith(b"250")
n, codes = 10000, {}
for start in range(0, n, 500):       # pipelined in batches, so neither side's buffers fill
    s.sendall(b"".join(b"RCPT TO:<x%d@remote.example>\r\n" % i for i in range(start, start + 500)))
    for i in range(500):
        c = reply()[:10]
        codes[c] = codes.get(c, 0) + 1
print("replies", codes)
assert codes.get(b"250 2.1.5 ", 0) == 100 and codes.get(b"452 4.5.3 ", 0) == n - 100, codes
me = s.getsockname()[1]
pid = None
for line in open(pidlog):
    p, port = line.split()
    if int(port) == me: pid = p
rss = None
for line in open("/proc/%s/status" % pid):
    if line.startswith("VmRSS:"): rss = int(line.split()[1])
print("pid", pid, "rss", rss, "kB")
assert rss is not None, rss
import os
assert os.environ.get("IMC_SAN") or rss < 16384, rss      # ASan maps far more
s.sendall(b"NOOP\r\n")
assert reply().startswith(b"250 2.0.0")
s.sendall(b"QUIT\r\n")
assert reply().startswith(b"221")
PY
rm -f "$J/control/maxrcpt"
check "normal session after the flood" normal "$A4"

# ---- configuration errors: 421 4.3.5 and a diagnostic
echo 'not a number' > "$J/control/maxrcpt"
dlg "$A4" > "$T_TMP/d.out" <<'EOF' && pass "bad control file: 421 4.3.5" || fail "bad control file" "$(cat "$T_TMP/d.out")"
E 421 4.3.5
C
EOF
check "and says which line" grep -q 'imc-smtpd: warning: control/maxrcpt:1: ' "$T_TMP/acc4.log"
rm -f "$J/control/maxrcpt"

t_done
