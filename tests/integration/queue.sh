#!/bin/sh
# queue.sh -- the ways into the queue: imc-queue (docs/INTERNALS.md section
# 4: commit, id on IMC_QUEUE_IDFD, trigger, exit codes, databytes,
# diskfree, byte-exact storage), imc-inject / sendmail (-t -f -F -i,
# added and removed header fields, exit codes) and the imc-pickup daemon
# (X-Sender/X-Receiver, From/To, pickup/bad, dot-files).  The instance is
# made by hand, so the test does not depend on imc-setup.
. "$(dirname "$0")/../lib.sh"

H=$T_TMP/home
Q=$H/queue
W=$T_TMP/work
IMC_HOME=$H
export IMC_HOME
mkdir -p "$W" "$Q/tmp" "$Q/new" "$Q/quarantine" "$H/control" "$H/pickup/bad"
for d in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do mkdir -p "$Q/mess/$d" "$Q/info/$d"; done
mkfifo "$Q/trigger"
echo me.example > "$H/control/me"
echo 0 > "$H/control/diskfree"

# qcheck FILE: validates the queue file and prints "msglen envlen" then one line per record
cat > "$W/qcheck.py" <<'EOF'
import os, re, sys
data = open(sys.argv[1], 'rb').read()
m = re.fullmatch(rb'IMCQ1 M([0-9a-f]{16}) E([0-9a-f]{8}) T([0-9a-f]{16}) END {8}\n', data[-64:])
if not m: sys.exit('bad trailer')
msglen, envlen = int(m.group(1), 16), int(m.group(2), 16)
if len(data) != msglen + envlen + 64: sys.exit('size %d != %d' % (len(data), msglen + envlen + 64))
env = data[msglen:msglen + envlen]
if not env.endswith(b'\0\0') and env != b'\0': sys.exit('envelope not ended')
print(msglen, envlen)
for rec in env[:-2].split(b'\0'):
    print(rec.decode('utf-8', 'replace'))
EOF
qcheck() { "$PYTHON" "$W/qcheck.py" "$1"; }
# msgpart FILE: the message part of a queue file
msgpart() { _ml=$(qcheck "$1" | head -1 | cut -d' ' -f1); head -c "$_ml" "$1"; }
# the one file in queue/new
onefile() { set -- "$Q"/new/*; [ $# = 1 ] && [ -f "$1" ] && echo "$1"; }
nfiles() { find "$Q/new" "$Q/tmp" -type f | wc -l | tr -d ' '; }
clearq() { rm -f "$Q"/new/* "$Q"/tmp/*; }
# queue MSGFILE ENVELOPE-PRINTF: runs imc-queue, sets rc
queue() { printf "$2" > "$W/env"; imc-queue < "$1" 1< "$W/env" 2> "$W/err"; rc=$?; }
# ck NAME 'CONDITION': PASS when the shell condition holds (evaluated here)
ck() { _ck=$1; shift; if eval "$*"; then pass "$_ck"; else fail "$_ck" "$*"; fi; }
lacks() { case "$1" in *"$2"*) return 1 ;; esac; return 0; }
env_good='Fs@a.example\0Tr@b.example\0Ivia=test\0\0'

# ---- imc-queue: a commit, the id, the trigger
printf 'Subject: one\n\nbody\n' > "$W/m1"
clearq
timeout 5 cat "$Q/trigger" > "$W/trig" &
catpid=$!
T_PIDS="$T_PIDS $catpid"
sleep 0.2
printf "$env_good" > "$W/env"
IMC_QUEUE_IDFD=5 imc-queue < "$W/m1" 1< "$W/env" 5> "$W/id" 2> "$W/err"
rc=$?
wait $catpid 2>/dev/null
f=$(onefile)
check "queue: exit 0" [ "$rc" = 0 ]
check "queue: nothing on stderr" [ ! -s "$W/err" ]
ck "queue: one file in new/, tmp/ empty" '[ -n "$f" ] && [ "$(nfiles)" = 1 ]'
ck "queue: file valid, size = msglen+envlen+64" 'qcheck "$f" > /dev/null'
check "queue: id on IMC_QUEUE_IDFD names the file" [ "$(cat "$W/id")" = "$(basename "$f")" ]
check "queue: id is 19 hex digits" sh -c "grep -qxE '[0-9a-f]{19}' '$W/id'"
check "queue: mode 0640" [ "$(stat -c %a "$f")" = 640 ]
check "queue: message stored as given" sh -c "[ \"\$(head -c 19 '$f')\" = \"\$(cat '$W/m1')\" ]"
check "queue: envelope stored, content note last" [ "$(qcheck "$f" | tail -n +2 | tr '\n' ' ')" = "Fs@a.example Tr@b.example Ivia=test Icontent=-/12 " ]
check "queue: trigger got a newline" [ "$(od -An -c "$W/trig" | tr -d ' ')" = '\n' ]

# no reader on the trigger: still fine
clearq
queue "$W/m1" "$env_good"
ck "queue: no trigger reader is fine" '[ "$rc" = 0 ] && [ -n "$(onefile)" ]'

# ---- exit codes
clearq
queue "$W/m1" 'Fs@a.example\0Ivia=x\0\0'
check "queue: no recipient exits 32" [ "$rc" = 32 ]
check "queue: no recipient leaves nothing" [ "$(nfiles)" = 0 ]
check "queue: diagnostic on stderr" grep -q '^imc-queue: fatal: ' "$W/err"
queue "$W/m1" 'Tr@b.example\0\0'
check "queue: missing F exits 33" [ "$rc" = 33 ]
queue "$W/m1" 'Fs@a.example\0Tnot an address\0\0'
check "queue: bad recipient exits 33" [ "$rc" = 33 ]
queue "$W/m1" 'Fbad@\0Tr@b.example\0\0'
check "queue: bad sender exits 33" [ "$rc" = 33 ]
queue "$W/m1" 'Fs@a.example\0Tr@b.example\0'
check "queue: unterminated envelope exits 33" [ "$rc" = 33 ]
queue "$W/m1" 'Fs@a.example\0Tr@b.example\0Inokey\0\0'
check "queue: malformed I record exits 33" [ "$rc" = 33 ]
queue "$W/m1" ''
check "queue: empty envelope exits 33" [ "$rc" = 33 ]
check "queue: bad envelopes leave nothing" [ "$(nfiles)" = 0 ]
queue "$W/m1" 'F\0Tr@b.example\0\0'
check "queue: null sender accepted" [ "$rc" = 0 ]
clearq

# databytes
echo 100 > "$H/control/databytes"
head -c 101 /dev/zero > "$W/m101"
head -c 100 /dev/zero > "$W/m100"
queue "$W/m101" "$env_good"
check "queue: over databytes exits 31" [ "$rc" = 31 ]
check "queue: over databytes leaves nothing in tmp/ or new/" [ "$(nfiles)" = 0 ]
queue "$W/m100" "$env_good"
check "queue: exactly databytes is accepted" [ "$rc" = 0 ]
clearq
head -c 3000000 /dev/zero | tr '\0' 'x' > "$W/m3m"
echo 0 > "$H/control/databytes"
queue "$W/m3m" "$env_good"
check "queue: databytes 0 is unlimited" [ "$rc" = 0 ]
clearq
echo 'ten' > "$H/control/databytes"
queue "$W/m1" "$env_good"
check "queue: malformed control/databytes exits 55" [ "$rc" = 55 ]
rm -f "$H/control/databytes"; mkdir "$H/control/databytes"
queue "$W/m1" "$env_good"
check "queue: unreadable control/databytes exits 55" [ "$rc" = 55 ]
rmdir "$H/control/databytes"
check "queue: control failures leave nothing" [ "$(nfiles)" = 0 ]

# diskfree
echo '99%' > "$H/control/diskfree"
queue "$W/m1" "$env_good"
check "queue: below diskfree 99% exits 52" [ "$rc" = 52 ]
echo '1000000G' > "$H/control/diskfree"
queue "$W/m1" "$env_good"
check "queue: below diskfree 1000000G exits 52" [ "$rc" = 52 ]
check "queue: below diskfree writes nothing" [ "$(nfiles)" = 0 ]
echo '1k' > "$H/control/diskfree"
queue "$W/m1" "$env_good"
check "queue: above diskfree is accepted" [ "$rc" = 0 ]
echo 0 > "$H/control/diskfree"
clearq

# queue directory missing
mv "$Q/tmp" "$Q/tmp.away"
queue "$W/m1" "$env_good"
check "queue: missing queue/tmp exits 56" [ "$rc" = 56 ]
mv "$Q/tmp.away" "$Q/tmp"

# the overall time limit: SIGALRM (QUEUE_WRITER_TIMEOUT) gives 57 and removes tmp/ID
printf "$env_good" > "$W/env"
(printf 'Subject: slow\n\n'; sleep 3) | imc-queue 1< "$W/env" 2> "$W/err" &
qpid=$!                       # the last command of the pipeline: imc-queue
T_PIDS="$T_PIDS $qpid"
t_wait 2 sh -c "[ -n \"\$(ls '$Q/tmp')\" ]"
kill -ALRM "$qpid"
wait "$qpid"
rc=$?
ck "queue: SIGALRM exits 57" '[ "$rc" = 57 ]'
ck "queue: timeout removes tmp/ID" '[ "$(nfiles)" = 0 ]'
check "queue: timeout diagnostic" grep -q 'imc-queue: fatal: timed out' "$W/err"

# ---- byte-exact storage
: > "$W/m0"
queue "$W/m0" "$env_good"
f=$(onefile)
ck "queue: 0-byte message queued" '[ "$rc" = 0 ] && [ "$(qcheck "$f" | head -1)" = "0 50" ]'
check "queue: 0-byte message: content note" sh -c "'$PYTHON' '$W/qcheck.py' '$f' | grep -qx 'Icontent=-/0'"
clearq
"$PYTHON" - "$W/mnul" "$W/mlong" <<'EOF'
import sys
open(sys.argv[1], 'wb').write(b'Subject: nul\n\nA\0B\0\0C\r\n\0' + bytes(range(256)) + b'no final newline')
open(sys.argv[2], 'wb').write(b'Subject: long\n\n' + b'y' * 100000 + b'\nend\n')
EOF
queue "$W/mnul" "$env_good"
f=$(onefile)
msgpart "$f" > "$W/out"
check "queue: NUL bytes kept byte-exact" cmp -s "$W/mnul" "$W/out"
clearq
queue "$W/mlong" "$env_good"
f=$(onefile)
msgpart "$f" > "$W/out"
check "queue: 100000-character line kept byte-exact" cmp -s "$W/mlong" "$W/out"
clearq

# two at once get different ids
printf "$env_good" > "$W/env"
for i in 1 2 3; do imc-queue < "$W/m1" 1< "$W/env" & done
wait
check "queue: three parallel commits, three files" [ "$(ls "$Q/new" | wc -l)" = 3 ]
clearq

# ---- imc-inject
# inject ARGS...: message from $W/in; sets rc and f (the queued file)
inject() { imc-inject "$@" < "$W/in" > "$W/out" 2> "$W/err"; rc=$?; f=$(onefile); }
envof() { qcheck "$1" | tail -n +2 | grep -v '^Icontent=' | tr '\n' ' '; }
me=$(id -un)

printf 'To: Joe User <joe@x.example>, "Doe, Jane" <jane@y.example>\r\nCc: undisclosed-recipients:;, cc1 (comment)\r\nBcc: hidden@z.example,\r\n  hidden2@z.example\r\nSubject: t\r\n\r\nline one\r\n.\r\nafter dot\r\n' > "$W/in"
inject -t -f sender@s.example -F 'Sam "S" Sender' extra@e.example
ck "inject -t: exit 0" '[ "$rc" = 0 ] && [ -n "$f" ]'
check "inject -t: envelope sender and recipients" [ "$(envof "$f")" = "Fsender@s.example Textra@e.example Tjoe@x.example Tjane@y.example Tcc1@me.example Thidden@z.example Thidden2@z.example Ivia=inject Iuid=$(id -u) " ]
msgpart "$f" > "$W/msg"
check "inject: Bcc removed" sh -c "test -s '$W/msg' && ! grep -qi '^bcc:' '$W/msg' && ! grep -q hidden '$W/msg'"
check "inject: Date added" grep -qE '^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [-+][0-9]{4}$' "$W/msg"
check "inject: Message-ID added" grep -qE '^Message-ID: <[0-9a-f]{19}\.imc@me\.example>$' "$W/msg"
check "inject: From added with -F" grep -qx 'From: "Sam \\"S\\" Sender" <sender@s.example>' "$W/msg"
check "inject: CRLF turned into LF" sh -c "test -s '$W/msg' && ! grep -q \"\$(printf '\\r')\" '$W/msg'"
check "inject: without -i a '.' line ends the message" sh -c "tail -1 '$W/msg' | grep -qx 'line one'"
check "inject: To and Cc kept" grep -q '^To: Joe User' "$W/msg"
clearq

inject -i -t
msgpart "$f" > "$W/msg"
check "inject -i: '.' line kept" sh -c "tail -2 '$W/msg' | head -1 | grep -qx '\\.'"
check "inject -i: rest kept" sh -c "tail -1 '$W/msg' | grep -qx 'after dot'"
check "inject: default sender is login@me" [ "$(envof "$f" | cut -d' ' -f1)" = "F$me@me.example" ]
check "inject: From is the caller" grep -qx "From: $me@me.example" "$W/msg"
clearq

inject -oi -t
msgpart "$f" > "$W/msg"
check "inject -oi: same as -i" sh -c "tail -1 '$W/msg' | grep -qx 'after dot'"
clearq

printf 'From: Already <a@b.example>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <x@y>\nBcc: secret@s.example\n\nbody\n' > "$W/in"
inject -fsender@s.example -- r1@x.example 'Two <r2@x.example>, r3'
msgpart "$f" > "$W/msg"
check "inject: -fADDR and argument lists" [ "$(envof "$f")" = "Fsender@s.example Tr1@x.example Tr2@x.example Tr3@me.example Ivia=inject Iuid=$(id -u) " ]
check "inject: existing Date, Message-ID, From kept, none added" [ "$(grep -ciE '^(date|message-id|from):' "$W/msg")" = 3 ]
check "inject: Bcc removed without -t too" t_lacks "$W/msg" -i secret
ck "inject: Bcc not a recipient without -t" 'lacks "$(envof "$f")" secret'
clearq

printf 'Subject: nul\n\nbody\n' > "$W/in"
inject -f '<>' r@x.example
check "inject -f '<>': null sender" [ "$(envof "$f" | cut -d' ' -f1)" = "F" ]
clearq

# sendmail symlink
check "sendmail is a symlink to imc-inject" [ "$(readlink "$T_BIN/sendmail")" = imc-inject ]
printf 'Subject: via sendmail\n\nhi\n' > "$W/in"
"$T_BIN/sendmail" -oi -oem r@x.example < "$W/in" 2> "$W/err"
rc=$?; f=$(onefile)
ck "sendmail: queued" '[ "$rc" = 0 ] && [ "$(envof "$f" | cut -d" " -f2)" = Tr@x.example ]'
clearq

# errors
printf 'Subject: none\n\nbody\n' > "$W/in"
inject
ck "inject: no recipients exits 64" '[ "$rc" = 64 ] && grep -q "no recipients" "$W/err"'
inject -t
ck "inject -t: no recipients in the header exits 64" '[ "$rc" = 64 ] && grep -q "no recipients" "$W/err"'
inject -Q r@x.example
check "inject: unknown option exits 64" [ "$rc" = 64 ]
inject -bd
ck "inject -bd (no daemon mode): refused with 64" '[ "$rc" = 64 ] && grep -q "not supported" "$W/err"'
inject 'bad address@'
check "inject: bad recipient exits 67" [ "$rc" = 67 ]
inject -f 'x@' r@x.example
check "inject: bad sender exits 64" [ "$rc" = 64 ]
printf 'To: Joe User\n\nbody\n' > "$W/in"
inject -t
check "inject -t: unparseable To exits 65" [ "$rc" = 65 ]
echo 50 > "$H/control/databytes"
head -c 200 /dev/zero | tr '\0' 'z' > "$W/in"
inject r@x.example
check "inject: too big exits 65" [ "$rc" = 65 ]
rm -f "$H/control/databytes"
echo '99%' > "$H/control/diskfree"
printf 'Subject: s\n\nb\n' > "$W/in"
inject r@x.example
check "inject: below diskfree exits 75" [ "$rc" = 75 ]
echo 0 > "$H/control/diskfree"
check "inject: failures left nothing" [ "$(nfiles)" = 0 ]
IMC_BIN=/nonexistent imc-inject r@x.example < "$W/in" 2> "$W/err"
check "inject: imc-queue missing exits 75" [ "$?" = 75 ]

# ---- imc-pickup
P=$H/pickup
imc-pickup 5 5> "$W/ready" 2> "$W/pickup.log" &
ppid=$!
T_PIDS="$T_PIDS $ppid"
check "pickup: signals readiness" t_wait 5 test -s "$W/ready"
# drop NAME CONTENT-PRINTF: write a dot-file, rename it into place
drop() { printf "$2" > "$P/.$1"; mv "$P/.$1" "$P/$1"; }
gone() { [ ! -e "$P/$1" ]; }

drop xs 'X-Sender: <xs@a.example>\r\nX-Receiver: <xr1@b.example>\r\nX-Receiver: xr2\r\nFrom: other@o.example\r\nTo: not-me@n.example\r\nSubject: x\r\n\r\nbody\r\n'
check "pickup: X-Sender file taken" t_wait 5 gone xs
f=$(onefile)
check "pickup: X-Sender/X-Receiver honoured" [ "$(envof "$f")" = "Fxs@a.example Txr1@b.example Txr2@me.example Ivia=pickup Ifile=xs Iuid=$(id -u) " ]
msgpart "$f" > "$W/msg"
check "pickup: X- lines removed" t_lacks "$W/msg" -i '^x-'
check "pickup: CRLF to LF, body kept" sh -c "tail -1 '$W/msg' | grep -qx body && ! grep -q \"\$(printf '\\r')\" '$W/msg'"
check "pickup: logged queued as ID" grep -qx "imc-pickup: info: xs queued as $(basename "$f")" "$W/pickup.log"
clearq

drop ft 'From: Fred <fred@f.example>\nTo: t1@t.example, T Two <t2@t.example>\nBcc: b1@t.example\nSubject: y\n\nbody\n'
check "pickup: From/To file taken" t_wait 5 gone ft
f=$(onefile)
check "pickup: From/To/Bcc envelope" [ "$(envof "$f")" = "Ffred@f.example Tt1@t.example Tt2@t.example Tb1@t.example Ivia=pickup Ifile=ft Iuid=$(id -u) " ]
msgpart "$f" > "$W/msg"
ck "pickup: Bcc removed" 'test -s "$W/msg" && ! grep -qi "^bcc" "$W/msg"'
clearq

drop norcpt 'From: fred@f.example\nSubject: nobody\n\nbody\n'
check "pickup: no recipients moved to bad/" t_wait 5 test -f "$P/bad/norcpt"
check "pickup: no recipients logged, with what to add" t_wait 2 grep -qx "imc-pickup: warning: norcpt moved to pickup/bad: no recipients: add a To:, Cc: or Bcc: field (or X-Receiver:) with the recipients' addresses" "$W/pickup.log"
check "pickup: nothing queued for it" [ "$(nfiles)" = 0 ]
drop nofrom 'To: r@x.example\nSubject: no sender\n\nbody\n'
check "pickup: no sender moved to bad/" t_wait 5 test -f "$P/bad/nofrom"
check "pickup: no sender logged, with what to add" t_wait 2 grep -qx "imc-pickup: warning: nofrom moved to pickup/bad: no sender: add a From: field (or X-Sender:) with the sender's address" "$W/pickup.log"
check "pickup: nothing queued for the file without a sender" [ "$(nfiles)" = 0 ]

printf 'From: fred@f.example\nTo: r@x.example\n\nwriting\n' > "$P/.partial"
sleep 0.5
ck "pickup: dot-file ignored while it exists" '[ -f "$P/.partial" ] && [ "$(nfiles)" = 0 ]'
mv "$P/.partial" "$P/partial"
check "pickup: picked up after rename" t_wait 5 gone partial
check "pickup: renamed file queued" [ -n "$(onefile)" ]
clearq

echo 30 > "$H/control/databytes"
drop big 'From: fred@f.example\nTo: r@x.example\n\nmore than thirty bytes of body\n'
check "pickup: too big moved to bad/" t_wait 5 test -f "$P/bad/big"
check "pickup: too big logged" t_wait 2 grep -q 'big moved to pickup/bad: larger than control/databytes' "$W/pickup.log"
rm -f "$H/control/databytes"

echo '99%' > "$H/control/diskfree"
drop later 'From: fred@f.example\nTo: r@x.example\n\nbody\n'
check "pickup: temporary failure logged" t_wait 5 grep -q 'later: temporary failure' "$W/pickup.log"
ck "pickup: temporary failure leaves the file" '[ -f "$P/later" ] && [ ! -e "$P/bad/later" ]'
echo 0 > "$H/control/diskfree"

kill -TERM "$ppid"
check "pickup: SIGTERM exits 0" sh -c "for i in \$(seq 50); do kill -0 $ppid 2>/dev/null || exit 0; sleep 0.1; done; exit 1"
wait "$ppid"
check "pickup: exit code 0" [ "$?" = 0 ]

# the start scan takes files dropped while it was down
IMC_READY_FD=5 imc-pickup 5> "$W/ready2" 2>> "$W/pickup.log" &
ppid=$!
T_PIDS="$T_PIDS $ppid"
check "pickup: start scan queues a file left earlier" t_wait 5 gone later
check "pickup: IMC_READY_FD readiness" t_wait 5 test -s "$W/ready2"
kill -TERM "$ppid"
wait "$ppid"

t_done
