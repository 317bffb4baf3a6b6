#!/bin/sh
# tcpd.sh -- imc-tcpd, the inbound listener, under s6 on a user instance.
#
# The per-connection program is a stand-in (env/IMC_SMTPD, run per
# connection: env/IMC_SMTPD_UCSPI=1) that answers
# `220 stand-in`, prints the variables imc-tcpd gave it as 250- lines and
# waits for the client to close.  Checked: the UCSPI variables and
# IMC_RULE=relay from loopback (the default rules), the submission port's
# IMC_SUBMISSION=1, IPv6 on ::1 when the machine has it, control/rules
# (reject -> 521 5.7.1, auth, accept) reread on SIGHUP and kept when the
# new file has errors, maxperip and maxinbound (421 4.7.0) counted down as
# sessions end, transfermode none (421 4.3.2), a second imc-tcpd on the
# same port (exit 111, address already in use), imc-ctl check on a bad
# rules line, readiness, and TERM: the listener goes, sessions stay.  Then,
# when bin/imc-smtpd is built, swaks delivers through the real imc-smtpd;
# as root, imc-tcpd drops to IMC_USER after binding.
# Clients use source addresses 127.0.0.2.. to look like other hosts.
. "$(dirname "$0")/../lib.sh"

# ---- helpers
# port_free PORT: nothing listens on 127.0.0.1 (or ::1) PORT
port_free() {
  "$PYTHON" - "$1" <<'PY'
import socket, sys
p = int(sys.argv[1])
for fam, a in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    try:
        s = socket.socket(fam)
    except OSError:
        continue
    try:
        s.bind((a, p))
    except OSError as e:
        if e.errno != 99:            # EADDRNOTAVAIL: no ::1 here, fine
            sys.exit(1)
    s.close()
PY
}
# has_ipv6: ::1 can be bound here
has_ipv6() {
  "$PYTHON" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null
}

cat > "$T_TMP/client.py" <<'PY'
# client.py HOST PORT [N [SRC [HOLD]]]: open N connections one after the other
# (from source address SRC, "-" for any), read each one's lines until "250 end"
# or EOF (printed as EOF), print "--- N" and the lines; keep them all open
# until the end, and HOLD seconds more.
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1
src = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] != "-" else None
hold = float(sys.argv[5]) if len(sys.argv) > 5 else 0
conns = []
for i in range(n):
    s = socket.create_connection((host, port), timeout=5,
                                 source_address=(src, 0) if src else None)
    conns.append(s)
    f = s.makefile("rb")
    print("--- %d" % (i + 1))
    while True:
        try:
            line = f.readline().decode()
        except socket.timeout:
            print("TIMEOUT"); break
        if not line:
            print("EOF"); break
        line = line.rstrip("\r\n")
        print(line)
        if line == "250 end":
            break
    sys.stdout.flush()
time.sleep(hold)
for s in conns:
    s.close()
PY
# talk NAME HOST PORT [N [SRC]]: run the client, output in $T_TMP/NAME.out
talk() {
  _n=$1; shift
  "$PYTHON" "$T_TMP/client.py" "$@" > "$T_TMP/$_n.out" 2>&1
}
# has NAME PATTERN: a line of $T_TMP/NAME.out matches
has() { grep -q -- "$2" "$T_TMP/$1.out"; }
# expect NAME PATTERN HOST PORT [N [SRC]]: talk, then PASS if a line matches
expect() {
  _e=$1 _p=$2; shift 2
  talk "$_e" "$@"
  if has "$_e" "$_p"; then pass "$_e"
  else fail "$_e" "no line '$_p' in: $(tr '\n' '|' < "$T_TMP/$_e.out" | head -c 600)"; fi
}
# hup: s6-svc -h and wait until imc-tcpd has reread (or refused) the control files
hup() {
  _c=$(grep -c 'reread the control files\|keeping the old settings' "$I/log/smtpd/current" 2>/dev/null)
  s6-svc -h "$I/service/smtpd"
  t_wait 5 sh -c "[ \$(grep -c 'reread the control files\|keeping the old settings' '$I/log/smtpd/current') -gt $_c ]"
}
# idle: no stand-in session left (the children have been counted down)
idle() { [ -z "$(pgrep -f "$T_TMP/standin.sh")" ]; }

# ---- the instance
P= S=
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  p=$(( 20000 + ($$ * 7 + i * 997) % 9990 ))
  if port_free "$p" && port_free $((p + 1)) && port_free $((p + 2)); then P=$p S=$((p + 1)); break; fi
done
[ -n "$P" ] || { fail ports "no free port pair found"; exit 1; }
I=$T_TMP/i
t_instance "$I" --port "$P" --submission-port "$S" || { fail setup "imc-setup failed"; exit 1; }
I=$(cd "$I" && pwd -P)
echo tcpd.example > "$I/control/me"
echo tcpd.example > "$I/control/sitedomains"
echo 'mailbox alice "Alice"' > "$I/control/directory"
IMC_HOME=$I imc-ctl compile > /dev/null
cat > "$T_TMP/standin.sh" <<'EOF'
#!/bin/sh
printf '220 stand-in\r\n'
env | grep -E '^(PROTO|TCP[A-Z]*|IMC_RULE|IMC_SUBMISSION)=' | sort | sed 's/^/250-/'
printf '250 end\r\n'
read -r x
EOF
chmod 755 "$T_TMP/standin.sh"
echo "$T_TMP/standin.sh" > "$I/env/IMC_SMTPD"
echo 1 > "$I/env/IMC_SMTPD_UCSPI"                   # the stand-in runs per connection, no pool
[ "$(cat "$I/env/IMC_LISTEN")" = "127.0.0.1 ::1" ] && pass env-listen-user || fail env-listen-user "env/IMC_LISTEN: $(cat "$I/env/IMC_LISTEN")"
[ ! -e "$I/env/IMC_USER" ] && pass env-no-user || fail env-no-user "env/IMC_USER in user mode"
[ -x "$T_BIN/imc-tcpd" ] || { fail build "bin/imc-tcpd is not built"; exit 1; }

t_start "$I" || { fail start "services did not come up"; exit 1; }
if s6-svwait -U -t 10000 "$I/service/smtpd" 2>/dev/null; then pass smtpd-ready
else fail smtpd-ready "service/smtpd not up and ready: $(cat "$I/log/smtpd/current" 2>&1 | tail -5)"; fi

# ---- the environment of a session
expect greeting '^220 stand-in$' 127.0.0.1 "$P"
has greeting '^250-TCPREMOTEIP=127\.0\.0\.1$' && has greeting '^250-TCPLOCALIP=127\.0\.0\.1$' &&
  has greeting "^250-TCPLOCALPORT=$P\$" && has greeting '^250-TCPREMOTEPORT=[1-9][0-9]*$' &&
  has greeting '^250-PROTO=TCP$' && pass ucspi-env || fail ucspi-env "$(tr '\n' '|' < "$T_TMP/greeting.out")"
has greeting '^250-IMC_RULE=relay$' && pass default-relay-loopback || fail default-relay-loopback "$(tr '\n' '|' < "$T_TMP/greeting.out")"
! has greeting 'IMC_SUBMISSION=' && pass no-submission-on-smtp || fail no-submission-on-smtp "IMC_SUBMISSION on port $P"
expect submission '^250-IMC_SUBMISSION=1$' 127.0.0.1 "$S"
has submission "^250-TCPLOCALPORT=$S\$" && pass submission-port || fail submission-port "$(tr '\n' '|' < "$T_TMP/submission.out")"
expect default-accept-other '^250-IMC_RULE=relay$' 127.0.0.1 "$P" 1 127.0.0.2   # 127.0.0.0/8
if has_ipv6; then
  expect ipv6 '^250-TCPREMOTEIP=::1$' ::1 "$P"
  has ipv6 '^250-IMC_RULE=relay$' && has ipv6 '^250-TCPLOCALIP=::1$' && pass ipv6-relay || fail ipv6-relay "$(tr '\n' '|' < "$T_TMP/ipv6.out")"
  expect ipv6-submission '^250-IMC_SUBMISSION=1$' ::1 "$S"
else
  echo "note: no IPv6 on this machine (::1 cannot be bound): IPv6 not tested"
fi

# ---- control/rules, reread on HUP
printf '# test rules\nrelay 127.0.0.1\nrelay ::1\nreject 127.0.0.0/8\nauth 127.0.0.3\naccept 127.0.0.4/32\n' > "$I/control/rules"
check hup-rules hup
expect rule-reject '^521 5\.7\.1 tcpd\.example access denied$' 127.0.0.1 "$P" 1 127.0.0.2
has rule-reject '^EOF$' && ! has rule-reject '^220' && pass reject-closed || fail reject-closed "$(tr '\n' '|' < "$T_TMP/rule-reject.out")"
expect rule-auth '^250-IMC_RULE=auth$' 127.0.0.1 "$P" 1 127.0.0.3
expect rule-accept '^250-IMC_RULE=accept$' 127.0.0.1 "$P" 1 127.0.0.4
expect rule-relay '^250-IMC_RULE=relay$' 127.0.0.1 "$P"
check reject-logged t_wait 5 grep -q 'refused 127\.0\.0\.2 port [0-9]*: rejected by control/rules' "$I/log/smtpd/current"
printf 'relay 127.0.0.1\nrelay 127.0.0.0/33\n' > "$I/control/rules"
check hup-bad-rules hup
check bad-rules-reported grep -q 'control/rules:2: prefix out of range: 127.0.0.0/33' "$I/log/smtpd/current"
check bad-rules-kept-old grep -q 'keeping the old settings' "$I/log/smtpd/current"
expect rule-still-reject '^521 5\.7\.1 ' 127.0.0.1 "$P" 1 127.0.0.2
# imc-ctl check names the file and line
IMC_HOME=$I imc-ctl check > "$T_TMP/ctl.out" 2>&1
grep -q '^control/rules:2: prefix out of range: 127.0.0.0/33$' "$T_TMP/ctl.out" && pass ctl-check-rules || fail ctl-check-rules "$(cat "$T_TMP/ctl.out")"
IMC_HOME=$I imc-ctl set rules 'relay 127.0.0.1' 'reject 10.0.0.1/8' > "$T_TMP/ctl.out" 2>&1
[ $? = 100 ] && grep -q '^control/rules:2: host bits set: 10.0.0.1/8$' "$T_TMP/ctl.out" && grep -q '/33' "$I/control/rules" &&
  pass ctl-set-rules-refused || fail ctl-set-rules-refused "$(cat "$T_TMP/ctl.out")"
IMC_HOME=$I imc-ctl set rules 'relay 127.0.0.1' 'auth 127.0.0.8/29' > "$T_TMP/ctl.out" 2>&1 &&
  IMC_HOME=$I imc-ctl show > "$T_TMP/ctl.out" 2>&1 && grep -q '^rules auth 127.0.0.8/29$' "$T_TMP/ctl.out" &&
  grep -q '^transfermode both (default)$' "$T_TMP/ctl.out" && pass ctl-set-show-rules || fail ctl-set-show-rules "$(cat "$T_TMP/ctl.out")"
rm -f "$I/control/rules"
check hup-default-rules hup
expect rules-default-again '^250-IMC_RULE=relay$' 127.0.0.1 "$P" 1 127.0.0.2

# ---- limits: maxperip, maxinbound; sessions are counted down when they end
t_wait 5 idle
echo 2 > "$I/control/maxperip"
check hup-maxperip hup
talk maxperip 127.0.0.1 "$P" 3
if [ "$(grep -c '^220 stand-in$' "$T_TMP/maxperip.out")" = 2 ] && has maxperip '^421 4\.7\.0 tcpd\.example too many connections$'
then pass maxperip-third-refused; else fail maxperip-third-refused "$(tr '\n' '|' < "$T_TMP/maxperip.out")"; fi
talk maxperip-other 127.0.0.1 "$P" 3 127.0.0.5
[ "$(grep -c '^220 stand-in$' "$T_TMP/maxperip-other.out")" = 2 ] && pass maxperip-per-address || fail maxperip-per-address "$(tr '\n' '|' < "$T_TMP/maxperip-other.out")"
check sessions-end t_wait 5 idle
talk maxperip-again 127.0.0.1 "$P" 2
[ "$(grep -c '^220 stand-in$' "$T_TMP/maxperip-again.out")" = 2 ] && pass maxperip-counted-down || fail maxperip-counted-down "$(tr '\n' '|' < "$T_TMP/maxperip-again.out")"
t_wait 5 idle
printf '10\n' > "$I/control/maxperip"
printf '2\n' > "$I/control/maxinbound"
check hup-maxinbound hup
"$PYTHON" "$T_TMP/client.py" 127.0.0.1 "$P" 2 127.0.0.6 3 > "$T_TMP/hold.out" 2>&1 &
hold=$!
T_PIDS="$T_PIDS $hold"
t_wait 5 sh -c "[ \$(grep -c '^250 end' '$T_TMP/hold.out') = 2 ]"
expect maxinbound '^421 4\.7\.0 tcpd\.example too many connections$' 127.0.0.1 "$P" 1 127.0.0.7
wait "$hold"
check maxinbound-sessions-end t_wait 5 idle
expect maxinbound-counted-down '^220 stand-in$' 127.0.0.1 "$P" 1 127.0.0.7
rm -f "$I/control/maxinbound" "$I/control/maxperip"
check hup-limits-default hup

# ---- transfermode
echo none > "$I/control/transfermode"
check hup-transfermode hup
expect transfermode-none '^421 4\.3\.2 tcpd\.example service not available, try later$' 127.0.0.1 "$P"
expect transfermode-none-submission '^421 4\.3\.2 ' 127.0.0.1 "$S"
echo outbound > "$I/control/transfermode"
check hup-transfermode-outbound hup
expect transfermode-outbound '^421 4\.3\.2 ' 127.0.0.1 "$P"
echo inbound > "$I/control/transfermode"
check hup-transfermode-inbound hup
expect transfermode-inbound '^220 stand-in$' 127.0.0.1 "$P"

# ---- a second listener on the same port fails
IMC_HOME=$I IMC_PORT=$P IMC_LISTEN=127.0.0.1 "$T_BIN/imc-tcpd" > "$T_TMP/second.out" 2>&1
rc=$?
if [ "$rc" = 111 ] && grep -qi "imc-tcpd: fatal: unable to bind 127.0.0.1 port $P: address already in use" "$T_TMP/second.out"
then pass second-listener-eaddrinuse; else fail second-listener-eaddrinuse "exit $rc: $(cat "$T_TMP/second.out")"; fi
IMC_HOME=$I IMC_PORT=$P IMC_SUBMISSION_PORT=$P "$T_BIN/imc-tcpd" > "$T_TMP/same.out" 2>&1
rc=$?
[ "$rc" = 100 ] && grep -q 'same as IMC_PORT' "$T_TMP/same.out" && pass same-ports-refused || fail same-ports-refused "exit $rc: $(cat "$T_TMP/same.out")"
IMC_HOME=$I IMC_PORT=$P IMC_LISTEN='127.0.0.1 nowhere' "$T_BIN/imc-tcpd" > "$T_TMP/badaddr.out" 2>&1
rc=$?
[ "$rc" = 100 ] && grep -q 'bad address in IMC_LISTEN: nowhere' "$T_TMP/badaddr.out" && pass bad-listen-address || fail bad-listen-address "exit $rc: $(cat "$T_TMP/badaddr.out")"
# an address the machine lacks is a warning while another one binds: TEST-NET-1 here
"$PYTHON" - "$T_TMP/lacks.out" "$P" "$I" "$T_BIN/imc-tcpd" <<'PY'
import os, signal, subprocess, sys, time
out, port, home, prog = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
env = dict(os.environ, IMC_HOME=home, IMC_PORT=str(port + 2), IMC_LISTEN="192.0.2.1 127.0.0.1")
env.pop("IMC_SUBMISSION_PORT", None)
r, w = os.pipe()
env["IMC_READY_FD"] = str(w)
p = subprocess.Popen([prog], env=env, stderr=open(out, "w"), pass_fds=(w,))
os.close(w)
ready = os.read(r, 1)
p.send_signal(signal.SIGTERM)
rc = p.wait(5)
open(out, "a").write("ready=%r rc=%d\n" % (ready, rc))
PY
grep -q "warning: unable to bind 192.0.2.1 port" "$T_TMP/lacks.out" && grep -q "ready=b'\\\\n' rc=0" "$T_TMP/lacks.out" &&
  pass missing-address-warning || fail missing-address-warning "$(cat "$T_TMP/lacks.out")"

# ---- TERM: the listener stops, running sessions go on
"$PYTHON" "$T_TMP/client.py" 127.0.0.1 "$P" 1 - 4 > "$T_TMP/term.out" 2>&1 &
hold=$!
T_PIDS="$T_PIDS $hold"
t_wait 5 grep -q '^250 end' "$T_TMP/term.out"
session=$(pgrep -f "$T_TMP/standin.sh" | head -1)
s6-svc -d "$I/service/smtpd"
check term-down s6-svwait -D -t 5000 "$I/service/smtpd"
if [ -n "$session" ] && kill -0 "$session" 2>/dev/null; then pass term-session-goes-on
else fail term-session-goes-on "the session's stand-in ($session) is gone"; fi
talk term-refused 127.0.0.1 "$P"
has term-refused 'Connection refused' && pass term-stopped-listening || fail term-stopped-listening "$(cat "$T_TMP/term-refused.out")"
wait "$hold"
check term-logged grep -q 'stopped listening' "$I/log/smtpd/current"

# ---- the real imc-smtpd behind it, when it is built: swaks to a local mailbox
if [ -x "$T_BIN/imc-smtpd" ]; then
  rm -f "$I/env/IMC_SMTPD" "$I/env/IMC_SMTPD_UCSPI"
  s6-svc -u "$I/service/smtpd"
  check real-up s6-svwait -U -t 5000 "$I/service/smtpd"
  swaks --server "127.0.0.1:$P" --from bob@example.net --to alice@tcpd.example \
    --header 'Subject: through imc-tcpd' > "$T_TMP/swaks.out" 2>&1
  if grep -q '<-  250 2\.0\.0 .*[0-9a-f]\{19\}' "$T_TMP/swaks.out" && t_wait 10 t_count_is "$I/mail/alice" 1
  then pass real-smtpd-delivers
  else fail real-smtpd-delivers "$(tail -5 "$T_TMP/swaks.out" | tr '\n' '|') $(tail -3 "$I/log/smtpd/current" "$I/log/send/current")"; fi
  s6-svc -d "$I/service/smtpd"
  s6-svwait -D -t 5000 "$I/service/smtpd"
else
  echo "note: bin/imc-smtpd not built: no session with the real imc-smtpd"
fi

# ---- system mode, only as root: drop to IMC_USER after binding
if [ "$(id -u)" = 0 ] && getent passwd nobody > /dev/null; then
  chmod 0711 "$T_TMP"
  chmod 0755 "$I" "$I/control"
  IMC_HOME=$I IMC_PORT=$P IMC_LISTEN=127.0.0.1 IMC_USER=nobody IMC_SMTPD=$T_TMP/whoami.sh IMC_SMTPD_UCSPI=1 \
    "$PYTHON" - "$T_BIN/imc-tcpd" "$P" "$T_TMP/whoami.sh" > "$T_TMP/drop.out" 2>&1 <<'PY'
import os, socket, subprocess, sys, time
prog, port, script = sys.argv[1], int(sys.argv[2]), sys.argv[3]
open(script, "w").write('#!/bin/sh\nprintf "220 %s\\r\\n" "$(id -un)"\n')
os.chmod(script, 0o755)
p = subprocess.Popen([prog])
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5); break
    except OSError:
        time.sleep(0.05)
print(s.makefile().readline().strip())
print("tcpd-user", subprocess.run(["ps", "-o", "user=", "-p", str(p.pid)], capture_output=True, text=True).stdout.strip())
p.terminate(); p.wait(5)
PY
  grep -q '^220 nobody$' "$T_TMP/drop.out" && grep -q '^tcpd-user nobody$' "$T_TMP/drop.out" &&
    pass drop-to-imc-user || fail drop-to-imc-user "$(cat "$T_TMP/drop.out")"
else
  echo "SKIP: tcpd privilege drop: needs root and a user nobody"
fi
t_done
