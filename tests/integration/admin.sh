# admin.sh -- the queue administration tools against a real queue: mail
# deferred by an SMTP sink that answers 451, a held destination and a
# held message, a corrupted file quarantined by imc-send, messages waiting
# while imc-send is down; imc-qstat (table and -m, parsed here), imc-qread
# (list and one message), imc-qctl (retry, hold, release, delete, bounce,
# requeue, check, repair), imc-track following one message from received
# to delivered across a rotation of the tracking log, by each of its four
# keys; and every man page rendering without warnings.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

start_sink fast "$(hip 3):25" || exit 1
start_sink slow "$(hip 4):25" --rcpt-fail u1@slow.test=451 --rcpt-fail u2@slow.test=451 \
  --rcpt-fail u3@slow.test=451 || exit 1
start_sink flip "$(hip 5):25" --rcpt-tempfail-first || exit 1

I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo site.test > "$I/control/me"
echo site.test > "$I/control/sitedomains"
printf 'mailbox alice "Alice"\nmailbox bob "Bob"\nmailbox carol "Carol"\n' > "$I/control/directory"
printf 'slow.test [%s]\nfast.test [%s]\nflip.test [%s]\n' "$(hip 4)" "$(hip 3)" "$(hip 5)" > "$I/control/routes"
echo 1h > "$I/control/retry"
IMC_HOME=$I imc-ctl compile > /dev/null
t_start "$I" || { fail start "services did not come up"; exit 1; }

# send SENDER SUBJECT RECIPIENT...: prints the queue id
send() {
  _f=$1 _s=$2; shift 2
  printf 'Subject: %s\nMessage-ID: <%s@site.test>\n\nbody\n' "$_s" "$_s" | sendmail -v -f "$_f" "$@" 2>&1 >/dev/null \
    | sed -n 's/.*queued as //p'
}
has_state() { ls "$I"/queue/info/*/"$1" > /dev/null 2>&1; }
in_queue() { ls "$I/queue/new/$1" "$I"/queue/mess/*/"$1" > /dev/null 2>&1; }
# qv SELECTOR KEY: the value of KEY on the `imc-qstat -m` line whose first field is SELECTOR
qv() { imc-qstat -m | awk -v s="$1" -v k="$2" '$1 == s { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }'; }
qerr() { imc-qstat -m | sed -n "s/^$1 .* error=//p"; }
# no queue file left (t_queue_empty counts queue/info/held, imc-send's list of held destinations)
queue_empty() { [ -z "$(find "$I/queue/new" "$I/queue/mess" "$I/queue/info" "$I/queue/tmp" -type f ! -path '*/info/held' 2>/dev/null)" ]; }
is() { [ "$1" = "$2" ] || { echo "expected '$2', got '$1'" >&2; return 1; }; }
contains() { case $1 in *"$2"*) return 0 ;; esac; echo "'$2' not in: $1" >&2; return 1; }
# has_line TEXT REGEX: a line of TEXT matches
has_line() { printf '%s\n' "$1" | grep -q -e "$2" || { echo "no line matching '$2' in: $1" >&2; return 1; }; }

# ---- deferred mail: two messages, three recipients at slow.test (451), one local
id1=$(send alice@site.test one u1@slow.test u2@slow.test)
id2=$(send alice@site.test two u3@slow.test bob@site.test)
check "both messages deferred, with state files" t_wait 20 sh -c "ls '$I'/queue/info/*/$id1 && ls '$I'/queue/info/*/$id2" 
check "the local recipient was delivered" t_wait 10 t_count_is "$I/mail/bob" 1

check "qstat -m: imc-send running" is "$(imc-qstat -m | sed -n 1p)" "imc-send=running"
check "qstat -m: outbound awaiting delivery: 2 messages, 3 recipients" \
  is "$(qv queue=outbound-delivery messages) $(qv queue=outbound-delivery recipients)" "2 3"
check "qstat -m: bytes are the message sizes" test "$(qv queue=outbound-delivery bytes)" -gt 100
check "qstat -m: deferred: 2 messages, 3 recipients" is "$(qv queue=deferred messages) $(qv queue=deferred recipients)" "2 3"
check "qstat -m: nothing inbound, nothing held, nothing quarantined" \
  is "$(qv queue=inbound-delivery messages)$(qv queue=held messages)$(qv queue=quarantine messages)" "000"
check "qstat -m: the conversion queues are empty" \
  is "$(qv queue=inbound-conversion messages)$(qv queue=outbound-conversion messages)" "00"
check "qstat -m: total 2 messages, oldest a few seconds" sh -c "[ '$(qv queue=total messages)' = 2 ] && [ '$(qv queue=total oldest)' -lt 60 ]"
check "qstat -m: dest slow.test with 3 recipients in 2 messages" \
  is "$(qv dest=slow.test recipients) $(qv dest=slow.test messages) $(qv dest=slow.test held)" "3 2 0"
check "qstat -m: the next retry is in the future (control/retry 1h)" test "$(qv dest=slow.test next)" -gt "$(( $(date +%s) + 3000 ))"
check "qstat -m: the last error is the 451" contains "$(qerr dest=slow.test)" "451 4.2.1"
check "qstat -m: every line is key=value" sh -c "imc-qstat -m | sed 's/ error=.*//' | tr ' ' '\n' | grep -qv '^[a-z-]*=[^ =]*\$' && exit 1 || exit 0"
out=$(imc-qstat)
check "qstat: the conversion queues in the table" has_line "$out" '^inbound awaiting conversion  *0  *0  *0  -$'
check "qstat: the delivery queues in the table" has_line "$out" '^outbound awaiting delivery  *2  *3  *[0-9]*  [0-9]*s$'
check "qstat: slow.test by destination" has_line "$out" '^slow.test  *3  in [0-9]*[mh].*451'

list=$(imc-qread)
check "qread: one line per message" is "$(echo "$list" | wc -l)" 2
check "qread: id, sender and recipients with their states" contains "$(echo "$list" | grep "^$id1")" "<alice@site.test> u1@slow.test=deferred u2@slow.test=deferred"
check "qread: the delivered local recipient" contains "$(echo "$list" | grep "^$id2")" "bob@site.test=delivered"
one=$(imc-qread "$id1")
check "qread ID: the envelope" contains "$one" "sender:       <alice@site.test>"
check "qread ID: a recipient's state" contains "$one" "state:        deferred, remote, destination slow.test"
check "qread ID: attempts" has_line "$one" '^  attempts:     1, the last '
check "qread ID: next retry" has_line "$one" '^  next retry:   .*(in [0-9]'
check "qread ID: the last reply" contains "$one" "last reply:   [$(hip 4)]: 451"
check "qread ID: the history: received" has_line "$one" ' received  *u1@slow.test'
check "qread ID: the history: deferred, with the reply" has_line "$one" ' deferred  *u1@slow.test: .*451'
check "qread ID: the headers" contains "$one" "  Subject: one"
imc-qread 6b0a0000000000000000 > /dev/null 2>&1; rc=$?
check "qread of an id not in the queue: exit 100" is "$rc" 100

# ---- retry: through the trigger, at once
c0=$(conns slow)
out=$(imc-qctl retry @slow.test)
check "retry @DOMAIN says so" contains "$out" "retry @slow.test: imc-send retries it now"
check "retry @DOMAIN connects at once" t_wait 10 sh -c "[ \$(cat '$W/slow.count') -gt $c0 ]"
t_wait 10 sh -c "! pgrep -f 'imc-remote slow.test' > /dev/null"    # that try is over
c0=$(conns slow)
check "retry ID" sh -c "imc-qctl retry $id2 | grep -q 'retries it now'"
check "retry ID connects at once" t_wait 10 sh -c "[ \$(cat '$W/slow.count') -gt $c0 ]"
imc-qctl retry 6b0a0000000000000000 > /dev/null 2>&1; rc=$?
check "retry of an unknown id: exit 100" is "$rc" 100
imc-qctl retry @bad..test > /dev/null 2>&1; rc=$?
check "retry of a bad domain: exit 100" is "$rc" 100

# ---- hold and release a destination
out=$(imc-qctl hold @SLOW.test)
check "hold @DOMAIN is carried out by imc-send" is "$out" "hold @slow.test: done by imc-send"
check "qstat -m: slow.test held" is "$(qv dest=slow.test held)" 1
check "qstat -m: the held queue has its 3 recipients" is "$(qv queue=held recipients) $(qv queue=deferred recipients)" "3 0"
check "qread: held recipients" contains "$(imc-qread | grep "^$id1")" "u1@slow.test=held"
check "qstat: the table says held" sh -c "imc-qstat | grep -q '^slow.test  *3  held'"
c0=$(conns slow)
imc-qctl retry @slow.test > /dev/null
sleep 2
check "a held destination is not retried" is "$(conns slow)" "$c0"
check "release @DOMAIN" is "$(imc-qctl release @slow.test)" "release @slow.test: done by imc-send"
check "release tries the destination at once" t_wait 10 sh -c "[ \$(cat '$W/slow.count') -gt $c0 ]"
check "qstat -m: slow.test no longer held" is "$(qv dest=slow.test held)" 0

# ---- hold and release a message
check "hold ID" is "$(imc-qctl hold "$id1")" "hold $id1: done by imc-send"
check "the held message has the flag h" t_wait 5 sh -c "grep -q '^q	[0-9]*	h' '$I'/queue/info/*/$id1"
check "qstat -m: one held message, two recipients" is "$(qv queue=held messages) $(qv queue=held recipients)" "1 2"
check "qread ID: flags held" contains "$(imc-qread "$id1")" "flags:        held"
check "release ID" is "$(imc-qctl release "$id1")" "release $id1: done by imc-send"
check "the flag is gone" t_wait 5 t_lacks "$(ls "$I"/queue/info/*/"$id1")" '^q	[0-9]*	h'

# ---- delete silently, delete with a bounce
check "delete ID" is "$(imc-qctl delete "$id2")" "delete $id2: done by imc-send"
check "the deleted message is gone" t_wait 5 sh -c "! ls '$I'/queue/mess/*/$id2 >/dev/null 2>&1"
check "the deletion is tracked" grep -q "	deleted	$id2	" "$I/log/track/current"
check "no bounce for a silent delete" t_count_is "$I/mail/alice" 0
check "delete --bounce ID" is "$(imc-qctl delete --bounce "$id1")" "bounce $id1: done by imc-send"
check "the sender gets the bounce" t_wait 10 t_count_is "$I/mail/alice" 1
check "the bounce names both recipients" sh -c "grep -q u1@slow.test '$I'/mail/alice/new/* && grep -q u2@slow.test '$I'/mail/alice/new/*"
check "nothing left in the queue" t_wait 10 queue_empty
imc-qctl delete "$id1" > /dev/null 2>&1; rc=$?
check "delete of a message no longer queued: exit 100" is "$rc" 100

# ---- quarantine: a corrupted file in new/, the trigger poked
qid=$(printf '%08x%05x%06x' "$(date +%s)" 4242 $(( $$ % 16777216 )))
printf 'Subject: broken\n\nno trailer\n' > "$I/queue/new/$qid"
printf '\n' > "$I/queue/trigger"
check "imc-send quarantines the corrupted file" t_wait 10 test -f "$I/queue/quarantine/$qid"
check "qstat -m: one quarantined file" is "$(qv queue=quarantine messages)" 1
check "qread: the quarantined file is listed" contains "$(imc-qread)" "$qid"
check "qread ID: quarantined, fails validation" contains "$(imc-qread "$qid")" "queue/quarantine/$qid (fails validation"
out=$(imc-qctl check); rc=$?
check "check: the quarantined file is a note, not an error (exit 0)" is "$rc" 0
check "check: the note" has_line "$out" "^note: queue/quarantine/$qid: quarantined, fails validation"
imc-qctl requeue "$qid" > /dev/null 2>&1; rc=$?
check "requeue of a file that still fails validation: refused (100)" is "$rc" 100
# the administrator repairs it: the same text as a valid queue file
"$PYTHON" - "$I/queue/quarantine/$qid" <<'PY'
import sys, time
msg = b"Subject: repaired\nMessage-ID: <repaired@site.test>\n\nrequeued\n"
env = b"Falice@site.test\0Tr@fast.test\0\0"
tr = (b"IMCQ1 M%016x E%08x T%016x END" % (len(msg), len(env), int(time.time()))).ljust(63) + b"\n"
open(sys.argv[1], "wb").write(msg + env + tr)
PY
check "check: the repaired file can be requeued" has_line "$(imc-qctl check)" "^note: queue/quarantine/$qid: quarantined, and valid now"
check "requeue ID" is "$(imc-qctl requeue "$qid")" "requeue $qid: done by imc-send"
check "the requeued message is delivered" t_wait 10 delivered_is fast 1

# ---- check and repair: a stray file and a message in the wrong hash directory
wrong=$(printf '%08x%05x%06x' "$(date +%s)" 17 $(( $$ % 16777216 )))          # hash digit 1
good=$(printf '%08x%05x%06x' "$(date +%s)" 18 $(( $$ % 16777216 )))
"$PYTHON" - "$I/queue/mess/5/$wrong" "$I/queue/quarantine/$good" <<'PY'
import sys, time
msg = b"Subject: x\n\nx\n"; env = b"Falice@site.test\0Tz@fast.test\0\0"
tr = (b"IMCQ1 M%016x E%08x T%016x END" % (len(msg), len(env), int(time.time()))).ljust(63) + b"\n"
for p in sys.argv[1:]: open(p, "wb").write(msg + env + tr)
PY
: > "$I/queue/mess/3/junk"
out=$(imc-qctl check); rc=$?
check "check finds errors: exit 100" is "$rc" 100
check "check: the wrong hash directory, and where it belongs" contains "$out" "error: queue/mess/5/$wrong: in the wrong hash directory: move it to mess/1/"
check "check: the stray file" contains "$out" "error: queue/mess/3/junk: a stray file"
check "check: the summary line" contains "$out" "2 errors"
out=$(imc-qctl repair); rc=$?
check "repair: errors it cannot fix are left (100)" is "$rc" 100
check "repair: requeues the valid quarantined file" contains "$out" "requeue $good: done by imc-send"
check "repair: says what it could not" contains "$out" "cannot repair: queue/mess/5/$wrong"
check "repair: the requeued one is delivered" t_wait 10 delivered_is fast 2
rm -f "$I/queue/mess/5/$wrong" "$I/queue/mess/3/junk"
t_wait 10 queue_empty
check "check: a clean queue" is "$(imc-qctl check)" "queue: 0 messages, 0 errors, 0 notes"

# ---- imc-send down: what waits, and requests that wait for it
s6-svc -d "$I/service/send"; s6-svwait -D -t 10000 "$I/service/send"
id3=$(send carol@site.test both alice@site.test r2@fast.test)
check "qstat -m: imc-send stopped" is "$(imc-qstat -m | sed -n 1p)" "imc-send=stopped"
check "qstat -m: a message for both sides counts inbound and outbound" \
  is "$(qv queue=inbound-delivery messages) $(qv queue=outbound-delivery messages) $(qv queue=total messages) $(qv queue=total recipients)" "1 1 1 2"
check "qread: first delivery, not yet resolved into a state file" contains "$(imc-qread)" "alice@site.test=queued r2@fast.test=queued"
out=$(imc-qctl hold @flip.test)
check "a request while imc-send is down waits, and says so" contains "$out" "hold @flip.test: imc-send is not running: the request waits in queue/ctl/"
out=$(imc-qctl retry all)
check "retry while imc-send is down becomes a request" contains "$out" "retry *: imc-send is not running"
check "qstat -m: two requests wait" is "$(imc-qstat -m | sed -n 's/^requests=//p')" 2
# awaiting conversion: 8-bit text for fast.test (the * profile transcodes), and a
# uuencoded block received over SMTP for bob (the inbound profile)
printf 'Subject: eight\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\ncaf\351\n' \
  | sendmail -f dave@site.test r3@fast.test
"$PYTHON" - "$T_PORT" <<'EOF2'
import sys, smtplib, binascii
lines = ['begin 644 x.bin', binascii.b2a_uu(b'abc' * 10).decode().rstrip('\n'), '`', 'end']
with smtplib.SMTP('127.0.0.1', int(sys.argv[1])) as s:
    s.sendmail('x@outside.test', ['bob@site.test'], 'Subject: uu\r\n\r\n' + '\r\n'.join(lines) + '\r\n')
EOF2
check "qstat -m: outbound awaiting conversion: 1 message" is "$(qv queue=outbound-conversion messages) $(qv queue=outbound-conversion recipients)" "1 1"
check "qstat -m: inbound awaiting conversion: 1 message" is "$(qv queue=inbound-conversion messages) $(qv queue=inbound-conversion recipients)" "1 1"
check "qstat -m: the delivery queues do not count them" \
  is "$(qv queue=inbound-delivery messages) $(qv queue=outbound-delivery messages) $(qv queue=total messages)" "1 1 3"
check "qread: recipients awaiting conversion" sh -c "imc-qread | grep -q 'r3@fast.test=converting' && imc-qread | grep -q 'bob@site.test=converting'"
out=$(imc-qstat)
check "qstat: the conversion queues in the table" has_line "$out" '^outbound awaiting conversion  *1  *1 '
s6-svc -u "$I/service/send"
check "imc-send carries the requests out when it starts" t_wait 10 sh -c "[ -z \"\$(ls '$I/queue/ctl')\" ]"
check "the held destination is remembered" grep -qx flip.test "$I/queue/info/held"
both_done() { t_count_is "$I/mail/alice" 2 && delivered_is fast 4 && t_count_is "$I/mail/bob" 2; }
check "the waiting messages are delivered, converted ones too" t_wait 10 both_done
check "qstat -m: the conversion queues are empty again" \
  is "$(qv queue=inbound-conversion messages)$(qv queue=outbound-conversion messages)" "00"
check "the uuencoded block reached bob as a MIME attachment" sh -c "grep -l '^Subject: uu' '$I'/mail/bob/new/* | xargs grep -q 'filename=x.bin'"
imc-qctl release @flip.test > /dev/null

# ---- imc-track: one message from received to delivered across a rotation
idx=$(send carol@site.test tracked x@flip.test)
check "the tracked message is deferred first (451)" t_wait 20 sh -c "grep -q 'deferred	$idx' '$I/log/track/current'"
s6-svc -d "$I/service/send"; s6-svwait -D -t 10000 "$I/service/send"
printf '2001-01-01T00:00:00Z\treceived\t3a4e8f0000000000001\t<old@x>\tcarol@site.test\told@x.test\t-\t-\n' > "$I/log/track/@978307200.s"
mv "$I/log/track/current" "$I/log/track/@$(date +%s).s"
s6-svc -u "$I/service/send"; s6-svwait -U -t 10000 "$I/service/send"
imc-qctl retry "$idx" > /dev/null
check "the tracked message is delivered after the rotation" t_wait 20 grep -q "delivered	$idx" "$I/log/track/current"
hist() { imc-track "$@" | awk '{print $2}' | tr '\n' ' '; }
check "imc-track by queue id: received, deferred, delivered, in order" is "$(hist -i "$idx")" "received deferred delivered "
check "imc-track by Message-ID" is "$(hist -m '<tracked@site.test>')" "received deferred delivered "
check "imc-track by Message-ID without brackets, as a KEY" is "$(hist tracked@site.test)" "received deferred delivered "
check "imc-track by recipient" is "$(hist -r X@Flip.test)" "received deferred delivered "
check "imc-track by sender: every message of carol, the archived one first" \
  is "$(imc-track -s carol@site.test | awk '{print $3}' | uniq | tr '\n' ' ')" "3a4e8f0000000000001 $id3 $idx "
check "imc-track by sender within a time range" is "$(imc-track -s carol@site.test -f 2002-01-01 | awk '{print $3}' | sort -u | wc -l)" 2
check "imc-track: a range before everything finds nothing" is "$(imc-track -t 2000-12-31 -s carol@site.test | wc -l)" 0
check "imc-track: the delivered line has the reply" sh -c "imc-track -i $idx | grep '^[^ ]* delivered ' | grep -q 'to=<x@flip.test> msgid=<tracked@site.test> result=.*250'"
check "imc-track -x: the log lines as they are" sh -c "imc-track -x -i $idx | head -1 | grep -q '	received	$idx	<tracked@site.test>	carol@site.test	x@flip.test	'"
imc-track -f yesterday > /dev/null 2>&1; rc=$?
check "imc-track: a bad time is a usage error" is "$rc" 100

# ---- man pages: one per program, and each renders cleanly
for n in imc-setup imc-start imc-queue imc-inject imc-pickup imc-send imc-local imc-remote imc-tcpd \
         imc-smtpd imc-ctl imc-qstat imc-qread imc-qctl imc-track; do
  check "man page for $n" test -f "$TOP/man/$n.8"
done
check "man page for the control files" test -f "$TOP/man/imc-control.5"
for m in "$TOP"/man/*.8 "$TOP"/man/*.5; do
  out=$(MANWIDTH=80 man -l --warnings "$m" 2>&1 > /dev/null)
  check "man -l $(basename "$m") renders without warnings" is "$out" ""
done
t_done
