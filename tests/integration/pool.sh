#!/bin/sh
# pool.sh -- imc-tcpd's pool of long-lived imc-smtpd workers, end to end on
# a user instance under s6, with Python smtplib as the client.
#
# Checked, with control/maxinbound 1 (a pool of one worker), each session's
# worker pid taken from imc-tcpd's "connection from ... pid N" log line:
#   (a) isolation: a session that starts TLS, authenticates and leaves a
#       relayed transaction open is followed, in the same worker (same pid),
#       by one that does neither: it is offered STARTTLS again, RCPT before
#       MAIL is 503, relaying is 550, its message is received "with ESMTP"
#       (not ESMTPS/ESMTPSA, no auth= in the log line), and the worker's log
#       line for it has no tls and no auth;
#   (f) `imc-ctl set databytes` reaches the running worker: the next session
#       (same pid) advertises the new SIZE and refuses a bigger message;
#   (b) a worker killed with SIGKILL in the middle of DATA: the client loses
#       its connection, nothing is queued or delivered, imc-tcpd logs the
#       kill, frees the slot, and the next client is served by a new worker;
#   control/smtpdmaxuse 3: three sessions in one worker, the fourth in a new
#       one, the old one gone;
#   control/smtpdidle 2: an idle worker exits after about 2 s and a new one
#       serves the next session;
#   with maxinbound 3: at most 3 imc-smtpd workers at any time, spares
#       included;
#   maxinbound lowered to 1 on HUP: the idle workers past it exit;
#   a session ended by control/timeoutsession right after a command was
#       read still gets its reply and the 421 (15 sessions sending NOOP as
#       fast as they can, timeoutsession 1);
#   a worker's private memory after TLS, AUTH and DATA sessions: at most
#       300 KB (Anonymous of /proc/PID/smaps_rollup).
# Clients use source address 127.0.0.2 (control/rules: accept, no relay).
. "$(dirname "$0")/../lib.sh"

cat > "$T_TMP/cl.py" <<'PY'
# cl.py MODE PORT [ARGS]: one SMTP session from 127.0.0.2; prints what it saw
import smtplib, socket, ssl, sys, time
mode, port, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def say(*a):
    print(*a); sys.stdout.flush()
if mode == "noops":                    # NOOP after NOOP until the session time limit ends it
    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=("127.0.0.2", 0))
    f = s.makefile("rb"); f.readline()
    last = b""
    try:
        while not last.startswith(b"421"):
            s.sendall(b"NOOP\r\n")
            l = f.readline()
            if not l: break
            last = l
    except OSError:
        pass
    say("last", last[:9].decode() or "eof")
    sys.exit(0)
s = smtplib.SMTP(timeout=20, source_address=("127.0.0.2", 0))
s.connect("127.0.0.1", port)
s._host = "pool.example"               # the name STARTTLS sends (not verified)
msg = b"From: bob@example.net\r\nTo: alice@pool.example\r\nSubject: pool %s\r\n\r\nhello\r\n" % mode.encode()
if mode == "secure":                   # STARTTLS, AUTH, a relayed transaction left open
    s.ehlo("first.example")
    say("starttls-offered", s.has_extn("starttls"))
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    say("starttls", s.starttls(context=ctx)[0])
    s.ehlo("first.example")
    say("encrypted", isinstance(s.sock, ssl.SSLSocket))
    say("login", s.login("alice", "secret")[0])
    say("mail", s.docmd("MAIL FROM:<alice@pool.example>")[0])
    say("relay-rcpt", s.docmd("RCPT TO:<someone@far.test>")[0])
    s.sock.close()                     # no QUIT: the transaction is left as it is
elif mode == "plain":                  # nothing of the session before may show
    s.ehlo("second.example")
    say("starttls-offered", s.has_extn("starttls"))
    say("encrypted", isinstance(s.sock, ssl.SSLSocket))
    say("rcpt-first", s.docmd("RCPT TO:<alice@pool.example>")[0])
    say("data-first", s.docmd("DATA")[0])
    say("mail", s.docmd("MAIL FROM:<bob@example.net>")[0])
    say("relay-rcpt", s.docmd("RCPT TO:<someone@far.test>")[0])
    say("local-rcpt", s.docmd("RCPT TO:<alice@pool.example>")[0])
    say("data", s.data(msg)[0])
    s.quit()
elif mode == "size":                   # the SIZE advertised, a message of ARGS[0] bytes
    s.ehlo("size.example")
    say("size", s.esmtp_features.get("size", "none"))
    big = msg + b"x" * int(args[0]) + b"\r\n"
    try:
        s.sendmail("bob@example.net", ["alice@pool.example"], big)
        say("send", 250)
    except smtplib.SMTPResponseException as e:
        say("send", e.smtp_code)
    except smtplib.SMTPRecipientsRefused as e:
        say("send", "refused", e)
    s.quit()
elif mode == "send":                   # one message to alice
    s.ehlo("send.example")
    s.sendmail("bob@example.net", ["alice@pool.example"], msg)
    say("send", 250)
    s.quit()
elif mode == "hang":                   # DATA begun, never ended: wait for the server to go
    s.ehlo("hang.example")
    s.docmd("MAIL FROM:<bob@example.net>")
    s.docmd("RCPT TO:<alice@pool.example>")
    say("data", s.docmd("DATA")[0])
    s.sock.sendall(msg + b"part of the text\r\n" * 100)
    open(args[0], "w").close()         # the test may kill the worker now
    s.sock.settimeout(20)
    try:
        got = s.sock.recv(100)
        say("after-kill", "eof" if not got else repr(got))
    except (ConnectionResetError, socket.timeout) as e:
        say("after-kill", type(e).__name__)
PY
cl() { _n=$1 _m=$2; shift 2; "$PYTHON" "$T_TMP/cl.py" "$_m" "$P" "$@" > "$T_TMP/$_n.out" 2>&1; }
saw() { grep -qx -- "$2" "$T_TMP/$1.out"; }
out() { tr '\n' '|' < "$T_TMP/$1.out" | head -c 1500; }
LOG=
conns() { grep -c 'connection from 127\.0\.0\.2 ' "$LOG" 2>/dev/null; }
# pid_of N: the worker pid of the Nth session from 127.0.0.2 (imc-tcpd's log line)
pid_of() { grep 'connection from 127\.0\.0\.2 ' "$LOG" | sed -n "$1s/.*: pid \([0-9]*\) .*/\1/p"; }
# session NAME MODE ARGS: a client, then wait for its log line; WPID its worker
N=0
session() {
  cl "$@"
  N=$((N + 1))
  t_wait 5 sh -c "[ \$(grep -c 'connection from 127\.0\.0\.2 ' '$LOG') -ge $N ]"
  WPID=$(pid_of "$N")
}
hup() {
  _c=$(grep -c 'reread the control files' "$LOG")
  s6-svc -h "$I/service/smtpd"
  t_wait 5 sh -c "[ \$(grep -c 'reread the control files' '$LOG') -gt $_c ]"
}
workers() { pgrep -P "$(s6-svstat -p "$I/service/smtpd")" -x imc-smtpd | wc -l; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# ---- the instance
I=$T_TMP/i
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
I=$(cd "$I" && pwd -P)
P=$T_PORT
IMC_HOME=$I; export IMC_HOME
LOG=$I/log/smtpd/current
echo pool.example > "$I/control/me"
echo pool.example > "$I/control/sitedomains"
echo 'mailbox alice "Alice"' > "$I/control/directory"
imc-ctl compile > /dev/null
printf 'relay 127.0.0.1\naccept 127.0.0.2\n' > "$I/control/rules"
printf 'alice:%s\n' "$(openssl passwd -6 secret)" > "$I/control/auth"
printf 'minimum\nsmtp medium\n' > "$I/control/loglevel"
echo 1 > "$I/control/maxinbound"
mkdir -p "$I/control/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pool.example \
  -keyout "$I/control/tls/key.pem" -out "$I/control/tls/cert.pem" > /dev/null 2>&1 ||
  { fail setup "openssl req failed"; exit 1; }
t_start "$I" || { fail start "services did not come up"; exit 1; }
t_wait 10 sh -c "ss -Hltn | grep -q '127.0.0.1:$P '" || { fail start "no listener: $(tail -5 "$LOG")"; exit 1; }
MAIL=$I/mail/alice

# ---- (a) isolation between two sessions of one worker
check "one worker at the start (maxinbound 1)" t_wait 5 sh -c "[ \$(pgrep -P \$(s6-svstat -p '$I/service/smtpd') -x imc-smtpd | wc -l) = 1 ]"
session secure secure
P1=$WPID
saw secure "starttls 220" && saw secure "encrypted True" && saw secure "login 235" && saw secure "relay-rcpt 250" &&
  pass "first session: TLS, AUTH, relay allowed" || fail "first session: TLS, AUTH, relay allowed" "$(out secure)"
session plain plain
P2=$WPID
[ -n "$P1" ] && [ "$P1" = "$P2" ] && pass "the same worker served both sessions (pid $P1)" ||
  fail "the same worker served both sessions" "pids '$P1' and '$P2'"
saw plain "starttls-offered True" && pass "second session: STARTTLS offered again" || fail "second session: STARTTLS offered again" "$(out plain)"
saw plain "encrypted False" && pass "second session: not encrypted" || fail "second session: not encrypted" "$(out plain)"
saw plain "rcpt-first 503" && saw plain "data-first 503" && pass "second session: no transaction left (RCPT, DATA before MAIL: 503)" ||
  fail "second session: no transaction left" "$(out plain)"
saw plain "relay-rcpt 550" && pass "second session: not authenticated, relaying refused" || fail "second session: relaying refused" "$(out plain)"
saw plain "data 250" && pass "second session: its message accepted" || fail "second session: its message accepted" "$(out plain)"
if t_wait 10 t_count_is "$MAIL" 1; then
  f=$(find "$MAIL/new" -type f | head -1)
  grep -A2 '^Received: from second\.example' "$f" > "$T_TMP/received"
  grep -q ' with ESMTP$\| with ESMTP;' "$T_TMP/received" && ! grep -q 'ESMTPS\|ESMTPA\|first\.example' "$f" &&
    pass "second session's message: received with ESMTP, nothing of the first" ||
    fail "second session's message: received with ESMTP" "$(grep -A3 '^Received' "$f" | tr '\n' '|')"
else
  fail "second session's message delivered" "$(t_count "$MAIL") in $MAIL"
fi
t_wait 5 sh -c "grep -q 'helo=second\.example' '$LOG'"
grep 'helo=first\.example' "$LOG" | grep -q ' tls auth=alice ' && pass "first session logged with tls and auth" ||
  fail "first session logged with tls and auth" "$(grep 'helo=first' "$LOG")"
grep 'helo=second\.example' "$LOG" | grep -v ' tls\| auth=' | grep -q 'msgs=1 ' &&
  pass "second session logged without tls or auth" || fail "second session logged without tls or auth" "$(grep 'helo=second' "$LOG")"

# ---- (f) imc-ctl set reaches the running worker
session size1 size 100
saw size1 "size 26214400" && saw size1 "send 250" && pass "default databytes advertised" || fail "default databytes advertised" "$(out size1)"
imc-ctl set databytes 2000 > "$T_TMP/set.out" 2>&1 || fail "imc-ctl set databytes" "$(cat "$T_TMP/set.out")"
session size2 size 5000
[ "$WPID" = "$P1" ] && pass "still the same worker after imc-ctl set" || fail "still the same worker after imc-ctl set" "'$WPID' and '$P1'"
saw size2 "size 2000" && saw size2 "send 552" && pass "imc-ctl set databytes reached the running worker (SIZE 2000, 552)" ||
  fail "imc-ctl set databytes reached the running worker" "$(out size2)"
rm -f "$I/control/databytes"
session size3 size 100
saw size3 "size 26214400" && pass "a removed control file: the default again" || fail "a removed control file: the default again" "$(out size3)"

# a worker that has served TLS, AUTH and DATA sessions stays small: its
# anonymous memory (bss, heap, stack, data written to), what one worker
# costs beyond the program's file pages that every worker shares
priv=$(awk '/^Anonymous:/ { n += $2 } END { print n + 0 }' "/proc/$P1/smaps_rollup" 2>/dev/null)
echo "worker $P1 after $N sessions (TLS, AUTH, DATA): ${priv} KB anonymous"
if [ -n "${IMC_SAN:-}" ]; then
  # the sanitizers' shadow memory counts as anonymous: the plain pass of this
  # test asserts the figure (like SAN_SKIP in tests/run.sh, not a skip of it)
  echo "note: a used worker's private memory is asserted in the plain pass"
else
  [ "${priv:-0}" -gt 0 ] && [ "$priv" -le 300 ] && pass "a used worker's private memory is at most 300 KB ($priv KB)" ||
    fail "a used worker's private memory is at most 300 KB" "${priv:-?} KB"
fi

# ---- (b) a worker killed with SIGKILL in the middle of DATA
before=$(t_count "$MAIL")
cl hang hang "$T_TMP/hang.ready" &
hang=$!
T_PIDS="$T_PIDS $hang"
N=$((N + 1))
if t_wait 10 test -e "$T_TMP/hang.ready" && t_wait 5 sh -c "[ \$(grep -c 'connection from 127\.0\.0\.2 ' '$LOG') -ge $N ]"; then
  KPID=$(pid_of "$N")
  sleep 0.3
  [ -n "$KPID" ] && kill -9 "$KPID"
  check "the worker in DATA was killed (pid $KPID)" t_wait 5 gone "$KPID"
else
  fail "a client in DATA" "$(out hang)"
fi
wait "$hang"
saw hang "data 354" && grep -q '^after-kill \(eof\|ConnectionResetError\)$' "$T_TMP/hang.out" &&
  pass "the client lost its connection" || fail "the client lost its connection" "$(out hang)"
check "imc-tcpd saw the kill" t_wait 5 grep -q "child $KPID killed by signal 9" "$LOG"
session after send
saw after "send 250" && pass "the next client is served" || fail "the next client is served" "$(out after)"
[ -n "$WPID" ] && [ "$WPID" != "$KPID" ] && pass "by another worker" || fail "by another worker" "'$WPID' after '$KPID'"
check "only the next client's message delivered" t_wait 10 t_count_is "$MAIL" $((before + 1))
sleep 1
check "the killed session queued nothing" t_queue_empty "$I"
[ "$(t_count "$MAIL")" = $((before + 1)) ] && ! grep -rq 'part of the text' "$MAIL/new" &&
  pass "nothing of the killed session delivered" || fail "nothing of the killed session delivered" "$(t_count "$MAIL")"

# ---- control/smtpdmaxuse: a worker serves that many sessions, then exits
echo 3 > "$I/control/smtpdmaxuse"
check "reread smtpdmaxuse" hup
# the worker may have served sessions already: a fresh one first (idle for 1 s: retired)
echo 1 > "$I/control/smtpdidle"
check "reread smtpdidle 1" hup
old=$WPID
check "the worker idle for 1 s exits" t_wait 5 gone "$old"
echo 100 > "$I/control/smtpdidle"
check "reread smtpdidle 100" hup
session m1 send; M1=$WPID
session m2 send; M2=$WPID
session m3 send; M3=$WPID
[ "$M1" = "$M2" ] && [ "$M2" = "$M3" ] && [ "$M1" != "$old" ] && pass "three sessions in one worker" ||
  fail "three sessions in one worker" "pids $M1 $M2 $M3 (old $old)"
check "after the third session the worker exits" t_wait 5 gone "$M3"
session m4 send
saw m4 "send 250" && [ -n "$WPID" ] && [ "$WPID" != "$M3" ] && pass "the fourth session in a new worker" ||
  fail "the fourth session in a new worker" "pid '$WPID' after '$M3': $(out m4)"

# ---- control/smtpdidle: an idle worker exits, a new one serves the next
echo 2 > "$I/control/smtpdidle"
check "reread smtpdidle 2" hup
session i1 send
I1=$WPID
sleep 1
kill -0 "$I1" 2>/dev/null && pass "an idle worker stays for a second" || fail "an idle worker stays for a second" "pid $I1 gone"
check "an idle worker exits after smtpdidle" t_wait 5 gone "$I1"
check "a new worker is ready" t_wait 5 sh -c "[ \$(pgrep -P \$(s6-svstat -p '$I/service/smtpd') -x imc-smtpd | wc -l) = 1 ]"
session i2 send
saw i2 "send 250" && [ "$WPID" != "$I1" ] && pass "the next session in a new worker" || fail "the next session in a new worker" "$(out i2)"

# ---- maxinbound bounds the workers, spares included
echo 3 > "$I/control/maxinbound"
echo 100 > "$I/control/smtpdidle"
check "reread maxinbound 3" hup
check "spare workers started" t_wait 5 sh -c "[ \$(pgrep -P \$(s6-svstat -p '$I/service/smtpd') -x imc-smtpd | wc -l) -ge 2 ]"
par=
for k in 1 2 3 4 5; do cl "par$k" send & par="$par $!"; done
most=0
for k in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do w=$(workers); [ "$w" -gt "$most" ] && most=$w; sleep 0.05; done
wait $par
[ "$most" -le 3 ] && pass "at most maxinbound workers ($most)" || fail "at most maxinbound workers" "$most"
ok=0; for k in 1 2 3 4 5; do saw "par$k" "send 250" && ok=$((ok + 1)); done
[ "$ok" -ge 3 ] && pass "parallel sessions served ($ok of 5, maxinbound 3)" || fail "parallel sessions served" "$ok of 5"

# ---- a command read just before control/timeoutsession passes: its reply
# and the 421 still go out (they were lost to the write's deadline: EOF)
echo 1 > "$I/control/timeoutsession"
for round in 1 2 3 4 5; do
  par=
  for k in 1 2 3; do cl "noop$round$k" noops & par="$par $!"; done
  wait $par
done
n421=$(cat "$T_TMP"/noop[1-5][1-3].out | grep -c '^last 421 4\.4\.2$')
[ "$n421" = 15 ] && pass "timeoutsession at full speed: every session gets its 421 (15 of 15)" ||
  fail "timeoutsession at full speed: every session gets its 421" "$n421 of 15: $(cat "$T_TMP"/noop*.out | sort | uniq -c | tr '\n' ' ')"
rm -f "$I/control/timeoutsession"

# ---- a lower maxinbound retires the idle workers past it
echo 1 > "$I/control/maxinbound"
check "reread maxinbound 1" hup
check "idle workers past maxinbound retired" t_wait 5 sh -c "[ \$(pgrep -P \$(s6-svstat -p '$I/service/smtpd') -x imc-smtpd | wc -l) -le 1 ]"
session low send
saw low "send 250" && pass "served after maxinbound was lowered" || fail "served after maxinbound was lowered" "$(out low)"
t_done
