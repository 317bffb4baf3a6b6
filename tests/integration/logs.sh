# logs.sh -- the logs an operator reads (s6-log directories under the
# instance's log/), at the default log level: one instance delivers one
# message to a local mailbox, relays one to smtp-sink, and defers two (a
# next hop whose port is closed, and a Python server answering RCPT with a
# three-line 451).  Every line that names a message carries its queue id;
# no line repeats its category; each delivery attempt's result is one line;
# each daemon writes a start and a stop line (stopped with s6-svc -d); the
# multi-line reply is folded into one line; and after a HUP with errors in
# control/retry and control/rules, imc-tcpd's warning names control/rules
# and its line, the file it uses, and not control/retry.  Then, with every
# category at maximum, the lines of imc-local, imc-remote and imc-convert
# (an automatic reply suppressed) carry the id too.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

command -v smtp-sink > /dev/null || { echo "SKIP: logs: smtp-sink (postfix) is not installed"; exit 0; }
command -v swaks > /dev/null || { echo "SKIP: logs: swaks is not installed"; exit 0; }

I=$T_TMP/i
SINKP=$(t_port)
MULTIP=$(t_port)
CLOSEDP=$(t_port)
CLOSEDP2=$(t_port)

# ---- peers: smtp-sink, and a server whose every RCPT gets a three-line 451
sinkuser=; [ "$(id -u)" = 0 ] && sinkuser="-u nobody"
# shellcheck disable=SC2086
smtp-sink $sinkuser "$(hip 9):$SINKP" 10 > "$W/smtp-sink.out" 2>&1 &
T_PIDS="$T_PIDS $!"
cat > "$W/multi.py" <<'PY'
import socket, sys, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], int(sys.argv[2])))
srv.listen(5)
open(sys.argv[3], "w").close()
def serve(c):
    f = c.makefile("rb")
    c.sendall(b"220 multi.test ESMTP\r\n")
    for l in f:
        w = l.decode("latin-1").strip().upper()
        if w.startswith("EHLO"):
            c.sendall(b"250-multi.test\r\n250 PIPELINING\r\n")
        elif w[:4] in ("HELO", "MAIL", "RSET", "NOOP"):
            c.sendall(b"250 ok\r\n")
        elif w.startswith("RCPT"):
            c.sendall(b"451-4.7.1 first line of the refusal\r\n"
                      b"451-4.7.1 second line\r\n451 4.7.1 third line\r\n")
        elif w.startswith("DATA"):
            c.sendall(b"554 5.5.1 no valid recipients\r\n")
        elif w.startswith("QUIT"):
            c.sendall(b"221 bye\r\n")
            break
        else:
            c.sendall(b"502 5.5.2 no\r\n")
    c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
"$PYTHON" "$W/multi.py" "$(hip 10)" "$MULTIP" "$W/multi.ready" 2> "$W/multi.err" &
T_PIDS="$T_PIDS $!"
t_wait 10 test -e "$W/multi.ready" || { fail setup "the multi-line server did not start: $(cat "$W/multi.err")"; exit 1; }
t_wait 10 in_use "$(hip 9):$SINKP" || { fail setup "smtp-sink did not start: $(cat "$W/smtp-sink.out")"; exit 1; }

# ---- the instance, at the default log level (no control/loglevel)
t_instance "$I" --listen 127.0.0.1 || { fail setup "imc-setup failed"; exit 1; }
echo site.test > "$I/control/me"
echo site.test > "$I/control/sitedomains"
printf 'mailbox bob "Bob"\nmailbox carol "Carol"\n' > "$I/control/directory"
cat > "$I/control/routes" <<EOF
sink.test [$(hip 9)]:$SINKP
multi.test [$(hip 10)]:$MULTIP
closed.test [$DEAD]:$CLOSEDP
closed2.test [$DEAD]:$CLOSEDP2
EOF
rm -f "$I/control/loglevel"
IMC_HOME=$I imc-ctl compile > /dev/null
t_start "$I" || { fail setup "services did not come up"; exit 1; }
t_wait 10 sh -c "ss -Hltn | grep -q '127.0.0.1:$T_PORT '" || { fail setup "no listener"; exit 1; }

# send NAME RCPT: one message from NAME@client.test (each sender is used
# once, so a line naming it is about that message); its queue id, from the
# 250 reply, in W/NAME.id
send() {
  swaks --server 127.0.0.1 --port "$T_PORT" --from "$1@client.test" --to "$2" \
    --header "Subject: logs $1" --body "one line" > "$W/$1.swaks" 2>&1 || return 1
  sed -n 's/.*<[-~]  *250 2.0.0 ok: queued as \([0-9a-f]*\).*/\1/p' "$W/$1.swaks" | tail -1 > "$W/$1.id"
  [ -s "$W/$1.id" ]
}
id() { cat "$W/$1.id"; }
logs() { cat "$I"/log/send/current "$I"/log/smtpd/current "$I"/log/pickup/current 2>/dev/null; }

# name_carries_id NAME RCPT: lines naming the message's sender or recipient
# exist, and every one carries its id (the bad ones in W/NAME.bad)
name_carries_id() {
  logs | grep -F -e "<$1@client.test>" -e "<$2>" > "$W/$1.lines"
  grep -v -F "$(id "$1")" "$W/$1.lines" > "$W/$1.bad"
  [ -s "$W/$1.lines" ] && [ ! -s "$W/$1.bad" ]
}

# results ID: imc-send's result lines for the message
results() { logs | grep -c " imc-send: transfer: $1 \(delivered\|deferred\|failed\) <"; }

# one_category: every line is "@STAMP PROGRAM: CATEGORY-OR-SEVERITY: TEXT",
# and the word after it is not a category again (the bad ones in W/cat.bad)
one_category() {
  logs | awk '
    BEGIN { split("init addressing transfer smtp internal protocol archival info warning fatal", w, " ")
            for (i in w) word[w[i] ":"] = 1 }
    !($1 ~ /^@[0-9a-f]+$/ && $2 ~ /^imc-[a-z]+:$/ && ($3 in word)) || ($4 in word) { print }' > "$W/cat.bad"
  [ ! -s "$W/cat.bad" ]
}

# ---- 1. at the default level: one message delivered locally, one relayed
# to smtp-sink, one deferred (closed port), one deferred with a 3-line reply
MSGS="local:bob@site.test relay:x@sink.test closed:y@closed.test multi:z@multi.test"
for m in $MSGS; do
  send "${m%%:*}" "${m#*:}" || fail "send ${m%%:*}" "swaks: $(tail -3 "$W/${m%%:*}.swaks")"
done
check "local: delivered to the mailbox" t_wait 20 t_count_is "$I/mail/bob" 1
for m in local relay closed multi; do
  t_wait 20 sh -c "[ \$(cat '$I/log/send/current' | grep -c ' imc-send: transfer: $(id $m) ') -ge 1 ]" ||
    fail "$m: result" "no result line for $(id $m): $(tail -5 "$I/log/send/current")"
done
check "relay: smtp-sink took it" grep -q "$(id relay) delivered <x@sink.test>: .* 250 " "$I/log/send/current"
check "closed: deferred" grep -q "$(id closed) deferred <y@closed.test>: 4.4.1 " "$I/log/send/current"
sleep 1     # a late line, if any, would come now
for m in $MSGS; do
  n=${m%%:*}
  if name_carries_id "$n" "${m#*:}"; then pass "$n: all $(wc -l < "$W/$n.lines") lines naming it carry its id $(id "$n")"
  else fail "$n: lines without its id" "$(head -3 "$W/$n.bad" "$W/$n.lines")"; fi
  r=$(results "$(id "$n")")
  if [ "$r" = 1 ]; then pass "$n: one result line at the default level"
  else fail "$n: result lines" "$r: $(logs | grep "$(id "$n")")"; fi
done
check "four results in all at the default level" \
  [ "$(logs | grep -c ' \(delivered\|deferred\|failed\) <')" = 4 ]
check "smtpd: the session line names the queued message" \
  grep -q "mail=<local@client.test> id=$(id local) rcpts=1 " "$I/log/smtpd/current"
# the server's three reply lines are one log line, and nothing else came of them
check "multi: the three-line 451 folded into one line" \
  grep -q "$(id multi) deferred <z@multi.test>: .*451 4.7.1 first line of the refusal .*second line .*third line\$" "$I/log/send/current"
check "multi: no line of the reply stands alone" t_lacks "$I/log/send/current" -e '^[^@]' -e 'second line$'

# ---- 2. HUP with errors in control/retry (imc-send reads it, imc-tcpd not)
# and control/rules (imc-tcpd reads it): imc-tcpd's warning names rules:3
cp "$I/control/rules" "$W/rules.good" 2>/dev/null || : > "$W/rules.good"
printf '15m,30m\nevery now and then\n' > "$I/control/retry"
printf '127.0.0.1 relay\n::1 relay\n127.0.0.0/33 accept\n' > "$I/control/rules"
s6-svc -h "$I/service/smtpd"
s6-svc -h "$I/service/send"
check "HUP: imc-tcpd names control/rules:3" \
  t_wait 10 grep -q ' imc-tcpd: warning: control/rules:3: ' "$I/log/smtpd/current"
check "HUP: imc-tcpd keeps its old settings" \
  t_wait 10 grep -q ' imc-tcpd: warning: control files have errors: keeping the old settings' "$I/log/smtpd/current"
check "HUP: imc-send names control/retry:2" \
  t_wait 10 grep -q ' imc-send: warning: control/retry:2: ' "$I/log/send/current"
check "HUP: imc-tcpd does not name control/retry" t_lacks "$I/log/smtpd/current" 'imc-tcpd: .*control/retry'
# the connector fault notice for the postmaster is two lines of text: one log line
check "HUP: imc-send's fault notice is one line" t_wait 10 grep -q \
  ' imc-send: warning: Connector fault: bad control file: .*control/retry:2: .* imc keeps the settings it had; ' "$I/log/send/current"
check "HUP: no line of the notice stands alone" t_lacks "$I/log/send/current" '^@[0-9a-f]* imc keeps'
rm -f "$I/control/retry"
cp "$W/rules.good" "$I/control/rules"
[ -s "$I/control/rules" ] || rm -f "$I/control/rules"

# ---- 3. more detail (every category at maximum but the transcript, and smtp
# at medium: its maximum lines come at MAIL, before there is a queue id): the
# deliverers' own lines carry the id too
printf '* maximum\nprotocol none\nsmtp medium\n' > "$I/control/loglevel"
s6-svc -h "$I/service/smtpd"
s6-svc -h "$I/service/send"
t_wait 10 sh -c "grep -q 'imc-send: init: reread the control files' '$I/log/send/current'" ||
  fail "HUP" "imc-send did not reread: $(tail -3 "$I/log/send/current")"
t_wait 10 sh -c "grep -q 'imc-tcpd: init: reread the control files' '$I/log/smtpd/current'" ||
  fail "HUP" "imc-tcpd did not reread: $(tail -3 "$I/log/smtpd/current")"
MORE="local2:carol@site.test relay2:x2@sink.test closed2:y2@closed2.test"
for m in $MORE; do
  send "${m%%:*}" "${m#*:}" || fail "send ${m%%:*}" "swaks: $(tail -3 "$W/${m%%:*}.swaks")"
done
check "local2: delivered" t_wait 20 t_count_is "$I/mail/carol" 1
for m in local2 relay2 closed2; do
  t_wait 20 sh -c "grep -q ' imc-send: transfer: $(id $m) \(delivered\|deferred\) ' '$I/log/send/current'" ||
    fail "$m: result" "no result line for $(id $m)"
done
sleep 1
for m in $MORE; do
  n=${m%%:*}
  if name_carries_id "$n" "${m#*:}"; then pass "$n at maximum: all $(wc -l < "$W/$n.lines") lines naming it carry its id"
  else fail "$n at maximum: lines without its id" "$(head -3 "$W/$n.bad")"; fi
done
# an automatic reply to a domain whose profile does not send them
# (control/domains default autoreplies=no): imc-convert suppresses it with a
# line, which names the message
swaks --server 127.0.0.1 --port "$T_PORT" --from conv@client.test --to x3@sink.test \
  --header "Subject: logs conv" --add-header 'Auto-Submitted: auto-replied' --body "away" > "$W/conv.swaks" 2>&1
sed -n 's/.*<[-~]  *250 2.0.0 ok: queued as \([0-9a-f]*\).*/\1/p' "$W/conv.swaks" | tail -1 > "$W/conv.id"
check "imc-convert's lines carry the id" t_wait 20 grep -q " imc-convert: [a-z]*: $(id conv) " "$I/log/send/current"
grep ' imc-convert: ' "$I/log/send/current" > "$W/convert.lines"
check "every imc-convert line starts with a queue id" t_lacks "$W/convert.lines" -v ' imc-convert: [a-z]*: [0-9a-f]\{19\} '
check "imc-local's delivery line carries the id" grep -q " imc-local: transfer: $(id local2) delivered <carol@site.test>: " "$I/log/send/current"
check "imc-local's job line carries the id" grep -q " imc-local: transfer: $(id local2) message of " "$I/log/send/current"
check "imc-remote's delivery line carries the id" grep -q " imc-remote: transfer: $(id relay2) delivered to <x2@sink.test>: " "$I/log/send/current"
check "imc-remote's deferral line carries the id" grep -q " imc-remote: transfer: $(id closed2) deferred: 4.4.1 " "$I/log/send/current"
check "addressing lines carry the id once" grep -q " imc-send: addressing: $(id local2) from <local2@client.test> to 1 recipients" "$I/log/send/current"

# ---- 4. a start and a stop line from each daemon
for svc in smtpd send pickup; do s6-svc -d "$I/service/$svc"; done
for svc in smtpd send pickup; do s6-svwait -D -t 10000 "$I/service/$svc" || fail "stop $svc" "did not stop"; done
for pl in "imc-tcpd smtpd listening on 127.0.0.1 port $T_PORT" "imc-tcpd smtpd stopped listening" \
          "imc-send send started" "imc-send send stopped" "imc-pickup pickup started" "imc-pickup pickup stopped"; do
  set -- $pl
  p=$1 svc=$2; shift 2
  check "$p: \"$*\" at init" t_wait 10 grep -q " $p: init: $*" "$I/log/$svc/current"
done

check "no line repeats its category, every line has its prefix" one_category
[ ! -s "$W/cat.bad" ] || echo "$(head -5 "$W/cat.bad")"
t_done
