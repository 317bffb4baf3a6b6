#!/bin/sh
# qserial.sh -- imc-queue -s, the serial protocol (docs/INTERNALS.md section
# 4, lib/qframe.h): several messages through one process, each committed on
# its own with its own reply and its trigger byte before it; a message
# spanning many frames stored byte for byte; cancel; an empty message; the
# control files read again for each message; and the refusals, each with a
# clear line on stderr, its exit code and nothing left in tmp/ or new/:
# unknown frame type, lengths out of bounds (0, 65537, a 16 MB + 1
# envelope, a cancel with a payload), a truncated header, a truncated
# payload, EOF inside a message, too big for control/databytes (reply 031),
# a malformed envelope (reply 033), an unknown argument; the top frame
# (fields put above the message at its end: in memory for a small message,
# by a copy into a new tmp file for a large one) and its refusals.  The instance is
# made by hand, as in queue.sh.
. "$(dirname "$0")/../lib.sh"

H=$T_TMP/home
Q=$H/queue
IMC_HOME=$H
export IMC_HOME
mkdir -p "$Q/tmp" "$Q/new" "$H/control"
for d in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do mkdir -p "$Q/mess/$d" "$Q/info/$d"; done
mkfifo "$Q/trigger"
echo me.example > "$H/control/me"
echo 0 > "$H/control/diskfree"

# qs.py ACTION: runs imc-queue -s, sends the frames ACTION names, closes its
# fd 0, and prints the replies (one a line), then "exit N"; stderr goes to
# $T_TMP/err.  The trigger is read while it runs: "trigger N" bytes.
cat > "$T_TMP/qs.py" <<'PY'
import os, struct, subprocess, sys, threading
act, q = sys.argv[1], sys.argv[2]
ENV = b"Fs@a.example\0Tr@b.example\0Ivia=test\0\0"
def fr(t, b=b"", n=None):
    return t + struct.pack(">I", len(b) if n is None else n) + b
def msg(text, env=ENV):
    out = b""
    for i in range(0, len(text), 65536):
        out += fr(b"m", text[i:i + 65536])
    return out + fr(b"e", env)
big = bytes(range(256)) * 800 + b"\0\r\n end\n"            # 204,808 bytes: four frames
frames = {
    "three":   msg(b"Subject: 1\n\none\n") + msg(b"Subject: 2\n\ntwo\n") + msg(b"Subject: 3\n\nthree\n"),
    "big":     msg(big),
    "cancel":  fr(b"m", b"Subject: c\n\nKILLED\n") + fr(b"a") + msg(b"Subject: after\n\nafter cancel\n"),
    "empty":   fr(b"e", ENV),
    "eof":     b"",
    "type":    fr(b"m", b"Subject: x\n\nx\n") + fr(b"x", b"zz"),
    "type0":   b"GET / HTTP/1.0\r\n\r\n",
    "zero":    fr(b"m", b"", 0),
    "long":    fr(b"m", b"", 65537) + b"y" * 65537,
    "envlong": fr(b"m", b"a\n") + fr(b"e", b"", 16 * 1024 * 1024 + 1),
    "cancelpay": fr(b"a", b"zz"),
    "shorthead": b"m\0\0",
    "shortpay":  fr(b"m", b"x" * 50, 100),
    "midmsg":    fr(b"m", b"Subject: half\n\nhalf\n"),
    "toobig":    msg(b"x" * 2000),
    "badenv":    msg(b"Subject: b\n\nb\n", b"Fs@a.example\0Tnot an address\0\0") + msg(b"Subject: n\n\nnever\n"),
    "top":       fr(b"m", b"Subject: t\n\nsmall\n") + fr(b"t", b"Authentication-Results: me.example; spf=pass\n") + fr(b"e", ENV)
                 + fr(b"m", b"Subject: t2\n\nsmall2\n") + fr(b"t", b"X-Top: 1\n") + fr(b"a") + msg(b"Subject: after\n\nafter\n"),
    "topbig":    b"".join(fr(b"m", big[i:i + 65536]) for i in range(0, len(big), 65536)) + fr(b"m", big)[:0]
                 + b"".join(fr(b"m", big[i:i + 65536]) for i in range(0, len(big), 65536))
                 + fr(b"t", b"Authentication-Results: me.example;\n\tdkim=pass\n") + fr(b"e", ENV),
    "topthenm":  fr(b"m", b"a\n") + fr(b"t", b"X: 1\n") + fr(b"m", b"b\n"),
    "toptwice":  fr(b"m", b"a\n") + fr(b"t", b"X: 1\n") + fr(b"t", b"Y: 1\n"),
    "toplong":   fr(b"m", b"a\n") + fr(b"t", b"", 16385) + b"X" * 16385,
    "topline":   fr(b"m", b"a\n") + fr(b"t", b"X: no line end"),
}
trig = []
tfd = os.open(q + "/trigger", os.O_RDONLY | os.O_NONBLOCK)      # open before imc-queue starts
def drain():
    while True:
        try:
            b = os.read(tfd, 100)
        except BlockingIOError:
            return
        if not b:
            return
        trig.append(b)
def reader():
    import select
    while not done:
        if select.select([tfd], [], [], 0.05)[0]:
            drain()
done = False
t = threading.Thread(target=reader); t.start()
with open(os.environ["T_ERR"], "wb") as err:
    p = subprocess.Popen(["imc-queue", "-s"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
    try:
        p.stdin.write(frames[act]); p.stdin.close()
    except BrokenPipeError:
        pass
    out = p.stdout.read()
    rc = p.wait()
done = True; t.join(); drain(); os.close(tfd)
for i in range(0, len(out), 24):
    print(out[i:i + 24].decode("latin1").rstrip("\n"))
print("exit", rc)
print("trigger", len(b"".join(trig)))
PY
T_ERR=$T_TMP/err
export T_ERR
qs() { "$PYTHON" "$T_TMP/qs.py" "$1" "$Q" > "$T_TMP/out"; }
# ck NAME 'CONDITION': PASS when the shell condition holds
ck() { _ck=$1; shift; if eval "$*"; then pass "$_ck"; else fail "$_ck" "$* (out: $(tr '\n' '|' < "$T_TMP/out") err: $(cat "$T_ERR"))"; fi; }
replies() { grep -c '^[0-9][0-9][0-9] ' "$T_TMP/out"; }
ok_replies() { grep -cE '^000 [0-9a-f]{19}$' "$T_TMP/out"; }
exitcode() { sed -n 's/^exit //p' "$T_TMP/out"; }
trigger() { sed -n 's/^trigger //p' "$T_TMP/out"; }
nnew() { find "$Q/new" -type f | wc -l | tr -d ' '; }
ntmp() { find "$Q/tmp" -type f | wc -l | tr -d ' '; }
clearq() { rm -f "$Q"/new/* "$Q"/tmp/*; }
# body of queue file F (the message part, by its trailer)
msgof() { "$PYTHON" -c 'import re, sys
d = open(sys.argv[1], "rb").read()
m = re.fullmatch(rb"IMCQ1 M([0-9a-f]{16}) E([0-9a-f]{8}) T([0-9a-f]{16}) END {8}\n", d[-64:])
sys.stdout.buffer.write(d[:int(m.group(1), 16)])' "$1"; }

# ---- several messages, one process
clearq
qs three
ck "serial: three messages, three 000 replies" '[ "$(ok_replies)" = 3 ] && [ "$(replies)" = 3 ]'
ck "serial: EOF between messages ends it with 0, nothing on stderr" '[ "$(exitcode)" = 0 ] && [ ! -s "$T_ERR" ]'
ck "serial: three files in new/, tmp/ empty" '[ "$(nnew)" = 3 ] && [ "$(ntmp)" = 0 ]'
ok=1
for id in $(sed -n 's/^000 //p' "$T_TMP/out"); do [ -f "$Q/new/$id" ] || ok=0; done
ck "serial: each reply names its file in new/" '[ "$ok" = 1 ]'
ck "serial: a trigger byte for each message" '[ "$(trigger)" = 3 ]'
f2=$Q/new/$(sed -n 's/^000 //p' "$T_TMP/out" | sed -n 2p)
ck "serial: the second message stored as sent, content note in its envelope" \
  '[ "$(msgof "$f2")" = "$(printf "Subject: 2\n\ntwo")" ] && tr "\0" "\n" < "$f2" | grep -qa "^Icontent="'

clearq
qs big
f=$Q/new/$(sed -n 's/^000 //p' "$T_TMP/out")
ck "serial: a 200 KB message over four frames, stored byte for byte" \
  '[ "$(ok_replies)" = 1 ] && [ "$(msgof "$f" | wc -c)" = 204808 ] && [ "$(msgof "$f" | tail -c 5)" = " end" ]'

clearq
qs cancel
ck "serial: cancel answers 035, then the next message is queued" \
  '[ "$(sed -n 1p "$T_TMP/out")" = "035 -------------------" ] && [ "$(ok_replies)" = 1 ] && [ "$(exitcode)" = 0 ]'
ck "serial: nothing of the cancelled message in new/ or tmp/" '[ "$(nnew)" = 1 ] && [ "$(ntmp)" = 0 ] && ! grep -rqa KILLED "$Q/new"'

clearq
qs empty
ck "serial: an empty message (envelope only) is queued" '[ "$(ok_replies)" = 1 ] && [ "$(nnew)" = 1 ]'
qs eof
ck "serial: EOF at once: exit 0, no reply" '[ "$(exitcode)" = 0 ] && [ "$(replies)" = 0 ] && [ ! -s "$T_ERR" ]'

# ---- refusals
# refused NAME ACTION EXIT STDERR-TEXT [REPLY]: exit code, stderr line, reply, nothing left
refused() {
  clearq
  qs "$2"
  _r=$(grep '^[0-9][0-9][0-9] ' "$T_TMP/out" | tr '\n' ' ')
  _x=$3 _e=$4 _w=${5:-}
  ck "serial refuses: $1" '[ "$(exitcode)" = "$_x" ] && grep -q "$_e" "$T_ERR" && [ "$_r" = "$_w" ] && [ "$(nnew)" = 0 ] && [ "$(ntmp)" = 0 ]'
}
refused "unknown frame type inside a message" type 36 "fatal: malformed frame: unknown frame type" "036 ------------------- "
refused "garbage (an HTTP request)" type0 36 "malformed frame: unknown frame type"
refused "message frame of length 0" zero 36 "message frame length not in 1..65536"
refused "message frame of 65537 bytes" long 36 "message frame length not in 1..65536"
refused "envelope of 16 MB + 1" envlong 36 "envelope frame length" "036 ------------------- "
refused "cancel with a payload" cancelpay 36 "cancel frame with a payload"
refused "truncated header" shorthead 54 "truncated frame"
refused "truncated payload" shortpay 54 "truncated frame" "054 ------------------- "
refused "EOF inside a message" midmsg 54 "went away in the middle of a message" "054 ------------------- "
echo 1000 > "$H/control/databytes"
refused "message over control/databytes (read for each message)" toobig 31 "larger than control/databytes" "031 ------------------- "
rm -f "$H/control/databytes"
refused "a malformed envelope: 033, and it stops" badenv 33 "invalid recipient address" "033 ------------------- "
refused "a message frame after the top frame" topthenm 36 "frame after the top frame" "036 ------------------- "
refused "two top frames" toptwice 36 "frame after the top frame" "036 ------------------- "
refused "a top frame of 16385 bytes" toplong 36 "top frame length not in 1..16384" "036 ------------------- "
refused "a top that does not end a line" topline 36 "the top does not end a line" "036 ------------------- "

# ---- the top frame: fields put above the message at its end
clearq
qs top
f=$Q/new/$(sed -n 's/^000 //p' "$T_TMP/out" | sed -n 1p)
ck "top: a small message gets the fields at its top" \
  '[ "$(msgof "$f")" = "$(printf "Authentication-Results: me.example; spf=pass\nSubject: t\n\nsmall")" ]'
ck "top: a top then cancel queues nothing; the next message is queued; tmp/ empty" \
  '[ "$(sed -n 2p "$T_TMP/out")" = "035 -------------------" ] && [ "$(ok_replies)" = 2 ] && [ "$(nnew)" = 2 ] && [ "$(ntmp)" = 0 ] && ! grep -rqa X-Top "$Q/new"'
clearq
qs topbig
f=$Q/new/$(sed -n 's/^000 //p' "$T_TMP/out")
ck "top: a 400 KB message (written as it came) gets the fields by a copy, byte for byte" \
  '[ "$(ok_replies)" = 1 ] && [ "$(msgof "$f" | head -c 47)" = "$(printf "Authentication-Results: me.example;\n\tdkim=pass\n")" ] && [ "$(msgof "$f" | wc -c)" = $((47 + 2 * 204808)) ]'
ck "top: the copy leaves nothing in tmp/" '[ "$(ntmp)" = 0 ] && [ "$(nnew)" = 1 ]'
imc-queue -x < /dev/null > /dev/null 2> "$T_ERR"
rc=$?
ck "serial: an unknown argument is a usage error (100)" '[ "$rc" = 100 ] && grep -q "usage: imc-queue \[-s\]" "$T_ERR"'

t_done
