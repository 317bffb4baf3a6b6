#!/bin/sh
# localtrust.sh -- what a local user can make the setuid imc-queue do
# (issue 11 item 4; docs/SECURITY.md 11.4b and 11.4c).  Root only: as another
# user it prints one SKIP line and no PASS line.
#
# The programs are copied out of the git checkout, so that imc-setup
# --system makes imc-queue setuid imcq; no service is started.  The local
# user is nobody.  Checked:
#   - IMC_HOME swapped after the check (deterministic): IMC_HOME is a link
#     to the instance, whose control/databytes is a FIFO, so that imc-queue
#     stops while it reads its first control file; the link then points to
#     a tree of nobody's (control/databytes 0, queue/ a link to the real
#     queue) and imc-queue goes on.  It must still use the instance's
#     control/databytes (1k, written into the FIFO) and everything after it:
#     the 5,000-byte message is refused (exit 31), nothing queued;
#   - the same as a race: a loop swaps the link between the two trees while
#     nobody runs imc-queue up to 300 times (or for 60 s); no run queues the
#     big message (the count of tries and wins is printed);
#   - envelope records from a local user: imc-queue run by nobody with
#     Ipeer=, Iauth=, Idsn=double, Ifilter=, Iuid=0 and Ivia=inject queues an
#     envelope with none of the forged records, via=inject kept and
#     uid=65534 (nobody's) added by imc-queue, the same through imc-queue -s
#     (the serial protocol); imc-inject run by nobody gives one uid= record,
#     nobody's; sendmail -bs run by nobody (imc-smtpd -l as nobody) gives no
#     peer=, one uid= record, nobody's, even with a forged TCPREMOTEIP;
#   - the trusted callers keep their records: imc-smtpd run as imcd (the
#     user of env/IMC_USER, through its imc-queue -s) queues with peer= and helo=, imc-queue run as
#     imcs (imc-send's notices) keeps dsn=double, and root's keeps every
#     record.
. "$(dirname "$0")/../lib.sh"
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: localtrust: needs root (system-mode users, a setuid imc-queue)"
  exit 0
fi
for t in setpriv mkfifo; do
  command -v "$t" > /dev/null || { fail setup "$t is not installed"; exit 1; }
done

B=$T_TMP/bin
t_system_bin "$B" || exit 1
I=$T_TMP/i
t_system_instance "$B" "$I" "$(t_port)" || exit 1
[ -u "$B/imc-queue" ] || { fail setup "imc-queue is not setuid: $(ls -l "$B/imc-queue")"; exit 1; }
echo site.test > "$I/control/me"
echo site.test > "$I/control/sitedomains"
echo 1k > "$I/control/databytes"
echo 0 > "$I/control/diskfree"
echo 'mailbox alice "Alice"' > "$I/control/directory"
IMC_HOME=$I "$B/imc-ctl" compile > /dev/null || { fail setup "imc-ctl compile"; exit 1; }
NOBODY_G=$(id -g nobody)
NOBODY_U=$(id -u nobody)
# as_nobody CMD: sh -c CMD as nobody, with no groups
as_nobody() { setpriv --reuid=nobody --regid="$NOBODY_G" --clear-groups sh -c "$1"; }

# the inputs, readable by nobody
M=$T_TMP/in
mkdir -m 0755 "$M"
printf 'Subject: small\n\nsmall\n' > "$M/small"
{ printf 'Subject: big\n\n'; i=0; while [ $i -lt 100 ]; do printf '%049d\n' $i; i=$((i + 1)); done; } > "$M/big"
printf 'Fcarol@site.test\0Talice@site.test\0\0' > "$M/env"
printf 'Fcarol@site.test\0Ipeer=203.0.113.9\0Talice@site.test\0Iauth=ceo\0Idsn=double\0Ifilter=turf\0Iuid=0\0Ivia=inject\0Ihelo=forged.test\0\0' > "$M/forged"
chmod 0644 "$M"/*
# what nobody writes (diagnostics, exit codes)
W=$T_TMP/out
mkdir -m 0755 "$W" && chown nobody "$W"
nqueued() { find "$I/queue/new" "$I/queue/mess" -type f | wc -l; }

# ---- 11.4b: IMC_HOME swapped after the check, deterministically
# nobody's tree: no limits, queue/ a link to the real queue
E=$T_TMP/evil
mkdir -p "$E/control"
echo site.test > "$E/control/me"
echo 0 > "$E/control/databytes"
echo 0 > "$E/control/diskfree"
ln -s "$I/queue" "$E/queue"
chown -R -h nobody "$E"
# the link nobody controls, in a directory of nobody's
L=$T_TMP/link
mkdir -m 0755 "$L" && chown nobody "$L"
ln -s "$I" "$L/home"
mv "$I/control/databytes" "$T_TMP/databytes.real"
mkfifo -m 0644 "$I/control/databytes"
before=$(nqueued)
as_nobody "IMC_HOME='$L/home' '$B/imc-queue' < '$M/big' 1< '$M/env' 2> '$W/swap.err'; echo \$? > '$W/swap.rc'" &
QPID=$!
T_PIDS="$T_PIDS $QPID"
# once imc-queue waits on the FIFO (control/databytes, the first file it
# reads): swap the link to nobody's tree, then let it go on
"$PYTHON" - "$I/control/databytes" "$L/home" "$E" <<'PY' > "$T_TMP/swap.out" 2>&1
import errno, os, sys, time
fifo, link, evil = sys.argv[1:4]
end = time.time() + 10
while True:
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        break
    except OSError as e:
        if e.errno != errno.ENXIO or time.time() > end:
            print("imc-queue never opened control/databytes"); sys.exit(1)
        time.sleep(0.01)
os.symlink(evil, link + ".new")
os.replace(link + ".new", link)
os.write(fd, b"1k\n")
os.close(fd)
print("swapped")
PY
t_wait 10 test -s "$W/swap.rc"
rm -f "$I/control/databytes"
mv "$T_TMP/databytes.real" "$I/control/databytes"
if grep -q swapped "$T_TMP/swap.out"; then
  rc=$(cat "$W/swap.rc" 2>/dev/null)
  check "IMC_HOME swapped after the check: the instance's databytes still applies (exit $rc, want 31: $(cat "$W/swap.err"))" [ "$rc" = 31 ]
  check "IMC_HOME swapped after the check: nothing queued" [ "$(nqueued)" = "$before" ]
else
  fail "IMC_HOME swapped after the check" "$(cat "$T_TMP/swap.out")"
fi
check "the same message from the instance itself is refused as too big (exit 31)" \
  [ "$(as_nobody "IMC_HOME='$I' '$B/imc-queue' < '$M/big' 1< '$M/env' 2>/dev/null; echo \$?")" = 31 ]

# ---- 11.4b: the same as a race, bounded
rm -f "$L/home"
ln -s "$I" "$L/home"
"$PYTHON" - "$L/home" "$I" "$E" "$T_TMP/race.stop" <<'PY' &
import os, sys, time
link, a, b, stop = sys.argv[1:5]
end = time.time() + 90
n = 0
while not os.path.exists(stop) and time.time() < end:
    tmp = link + ".%d" % (n & 1)
    try:
        os.symlink(a if n & 1 else b, tmp)
    except FileExistsError:
        os.unlink(tmp); continue
    os.replace(tmp, link)
    n += 1
PY
SWAPPER=$!
T_PIDS="$T_PIDS $SWAPPER"
before=$(nqueued)
as_nobody "
  tries=0 wins=0 end=\$((\$(date +%s) + 60))
  while [ \$tries -lt 300 ] && [ \$(date +%s) -lt \$end ]; do
    tries=\$((tries + 1))
    IMC_HOME='$L/home' '$B/imc-queue' < '$M/big' 1< '$M/env' 2>/dev/null && wins=\$((wins + 1))
  done
  echo \$tries \$wins" > "$T_TMP/race.out"
: > "$T_TMP/race.stop"
wait "$SWAPPER" 2>/dev/null
read -r tries wins < "$T_TMP/race.out"
echo "race: $tries tries, ${wins:-?} won"
check "race on IMC_HOME: no try of $tries queued the big message (won: $wins)" [ "${wins:-1}" = 0 ] && [ "${tries:-0}" -ge 100 ]
check "race on IMC_HOME: nothing queued" [ "$(nqueued)" = "$before" ]

# ---- 11.4c: envelope records from a local user
# records FILE: the envelope's records, one a line (the queue file's trailer says where)
records() {
  "$PYTHON" - "$1" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
t = d[-64:].split()
msglen, envlen = int(t[1][1:], 16), int(t[2][1:], 16)
for r in d[msglen:msglen + envlen].split(b"\0")[:-2]:
    print(r.decode(errors="replace"))
PY
}
# newest: the queue file queued last
newest() { ls -t "$I"/queue/new/* 2>/dev/null | head -1; }
rm -f "$I"/queue/new/*
rc=$(as_nobody "IMC_HOME='$I' '$B/imc-queue' < '$M/small' 1< '$M/forged' 2>'$W/forged.err'; echo \$?")
Q=$(newest)
check "nobody's imc-queue with forged records queues the message (exit $rc: $(cat "$W/forged.err"))" [ "$rc" = 0 ] && [ -f "$Q" ]
if [ -f "$Q" ]; then
  records "$Q" > "$T_TMP/forged.rec"
  echo "records: $(tr '\n' ' ' < "$T_TMP/forged.rec")"
  for k in peer auth dsn filter helo; do
    check "a local user's I$k= is dropped" sh -c "grep -q '^Talice@site.test$' '$T_TMP/forged.rec' && ! grep -q '^I$k=' '$T_TMP/forged.rec'"
  done
  check "a local user's envelope gets uid=$NOBODY_U from imc-queue, once" \
    sh -c "[ \"\$(grep -c '^Iuid=' '$T_TMP/forged.rec')\" = 1 ] && grep -q '^Iuid=$NOBODY_U\$' '$T_TMP/forged.rec'"
  check "a local user's via=inject is kept" grep -q '^Ivia=inject$' "$T_TMP/forged.rec"
  check "the sender and recipient are kept" sh -c "grep -q '^Fcarol@site.test$' '$T_TMP/forged.rec' && grep -q '^Talice@site.test$' '$T_TMP/forged.rec'"
fi
# the same through imc-queue -s (the serial protocol): the same records dropped
rm -f "$I"/queue/new/*
"$PYTHON" -c 'import struct, sys
m, e = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
sys.stdout.buffer.write(b"m" + struct.pack(">I", len(m)) + m + b"e" + struct.pack(">I", len(e)) + e)' \
  "$M/small" "$M/forged" > "$M/forged.frames"
chmod 0644 "$M/forged.frames"
rc=$(as_nobody "IMC_HOME='$I' '$B/imc-queue' -s < '$M/forged.frames' > '$W/serial.reply' 2>'$W/serial.err'; echo \$?")
Q=$(newest)
if [ "$rc" = 0 ] && [ -f "$Q" ] && grep -q "^000 $(basename "$Q")\$" "$W/serial.reply"; then
  records "$Q" > "$T_TMP/serial.rec"
  check "imc-queue -s as nobody: forged I records dropped, uid=$NOBODY_U added once, via=inject kept" \
    sh -c "! grep -qE '^I(peer|auth|dsn|filter|helo)=' '$T_TMP/serial.rec' && [ \"\$(grep -c '^Iuid=' '$T_TMP/serial.rec')\" = 1 ] && grep -q '^Iuid=$NOBODY_U\$' '$T_TMP/serial.rec' && grep -q '^Ivia=inject$' '$T_TMP/serial.rec'"
else
  fail "imc-queue -s as nobody queues" "exit $rc: $(cat "$W/serial.reply" "$W/serial.err" 2>/dev/null)"
fi
# imc-inject run by nobody: one uid= record, nobody's
rm -f "$I"/queue/new/*
rc=$(as_nobody "IMC_HOME='$I' '$B/imc-inject' alice@site.test < '$M/small' 2>'$W/inject.err'; echo \$?")
Q=$(newest)
if [ "$rc" = 0 ] && [ -f "$Q" ]; then
  records "$Q" > "$T_TMP/inject.rec"
  check "imc-inject as nobody: one uid= record, uid=$NOBODY_U, and via=inject" \
    sh -c "[ \"\$(grep -c '^Iuid=' '$T_TMP/inject.rec')\" = 1 ] && grep -q '^Iuid=$NOBODY_U\$' '$T_TMP/inject.rec' && grep -q '^Ivia=inject$' '$T_TMP/inject.rec'"
else
  fail "imc-inject as nobody queues" "exit $rc: $(cat "$W/inject.err")"
fi

# sendmail -bs run by nobody: imc-smtpd -l runs as nobody, and imc-queue marks
# the message with nobody's uid; a forged TCPREMOTEIP claims no peer
rm -f "$I"/queue/new/*
printf 'HELO nobody.test\r\nMAIL FROM:<nobody@site.test>\r\nRCPT TO:<alice@site.test>\r\nDATA\r\nSubject: bs\r\n\r\nbs\r\n.\r\nQUIT\r\n' > "$M/bs"
chmod 0644 "$M/bs"
ln -s imc-inject "$B/sendmail"
as_nobody "IMC_HOME='$I' TCPREMOTEIP=203.0.113.9 IMC_RULE=auth '$B/sendmail' -bs < '$M/bs' > '$W/bs.out' 2>'$W/bs.err'"
Q=$(newest)
if grep -q '^250 .*queued as' "$W/bs.out" && [ -f "$Q" ]; then
  records "$Q" > "$T_TMP/bs.rec"
  check "sendmail -bs as nobody: no peer=, one uid= record, uid=$NOBODY_U, and via=inject" \
    sh -c "! grep -q '^Ipeer=' '$T_TMP/bs.rec' && [ \"\$(grep -c '^Iuid=' '$T_TMP/bs.rec')\" = 1 ] && grep -q '^Iuid=$NOBODY_U\$' '$T_TMP/bs.rec' && grep -q '^Ivia=inject$' '$T_TMP/bs.rec'"
  check "sendmail -bs as nobody: the Received line names uid $NOBODY_U" grep -q "^Received: from nobody.test (uid $NOBODY_U)" "$Q"
else
  fail "sendmail -bs as nobody queues" "$(cat "$W/bs.out" "$W/bs.err")"
fi

# ---- trusted callers: imc-smtpd as imcd (env/IMC_USER), root
rm -f "$I"/queue/new/*
check "env/IMC_USER names imcd" [ "$(cat "$I/env/IMC_USER")" = imcd ]
"$PYTHON" - "$B/imc-smtpd" "$I" "$(id -g imcd)" <<'PY' > "$T_TMP/smtpd.out" 2>&1
import os, subprocess, sys
prog, home, gid = sys.argv[1:4]
env = dict(os.environ, IMC_HOME=home, TCPREMOTEIP="192.0.2.7", TCPLOCALIP="127.0.0.1",
           TCPREMOTEPORT="40000", TCPLOCALPORT="25")
p = subprocess.Popen(["setpriv", "--reuid=imcd", "--regid=" + gid, "--clear-groups", prog],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
def reply():
    while True:
        l = p.stdout.readline().decode(errors="replace")
        print(l.rstrip())
        if len(l) < 4 or l[3] != "-":
            return l
def cmd(c):
    p.stdin.write(c.encode() + b"\r\n"); p.stdin.flush()
    return reply()
reply()
cmd("EHLO client.test")
cmd("MAIL FROM:<carol@client.test>")
cmd("RCPT TO:<alice@site.test>")
cmd("DATA")
p.stdin.write(b"Subject: through imc-smtpd\r\n\r\nhello\r\n.\r\n"); p.stdin.flush()
reply()
cmd("QUIT")
p.wait(timeout=20)
PY
Q=$(newest)
if grep -q '^250 .*[0-9a-f]\{19\}' "$T_TMP/smtpd.out" && [ -f "$Q" ]; then
  records "$Q" > "$T_TMP/smtpd.rec"
  check "imc-smtpd as imcd (trusted): peer= is kept" grep -q '^Ipeer=192.0.2.7$' "$T_TMP/smtpd.rec"
  check "imc-smtpd as imcd (trusted): helo= is kept" grep -q '^Ihelo=client.test$' "$T_TMP/smtpd.rec"
  check "imc-smtpd as imcd (trusted): no uid= added" sh -c "grep -q '^Ipeer=' '$T_TMP/smtpd.rec' && ! grep -q '^Iuid=' '$T_TMP/smtpd.rec'"
else
  fail "imc-smtpd as imcd queues a message" "$(tail -5 "$T_TMP/smtpd.out")"
fi
# imc-send's user (the owner of queue/mess) queues its notices with dsn=
rm -f "$I"/queue/new/*
printf 'F\0Tcarol@site.test\0Idsn=double\0\0' > "$M/notice"
chmod 0644 "$M/notice"
setpriv --reuid=imcs --regid=imcq --groups=imcr sh -c "IMC_HOME='$I' '$B/imc-queue' < '$M/small' 1< '$M/notice'" 2> "$T_TMP/imcs.err"
Q=$(newest)
if [ -f "$Q" ]; then
  records "$Q" > "$T_TMP/imcs.rec"
  check "imc-queue run as imcs (imc-send, trusted): dsn=double is kept" grep -q '^Idsn=double$' "$T_TMP/imcs.rec"
else
  fail "imc-queue run as imcs queues" "$(cat "$T_TMP/imcs.err")"
fi
rm -f "$I"/queue/new/*
IMC_HOME=$I "$B/imc-queue" < "$M/small" 1< "$M/forged" 2> "$T_TMP/root.err"
Q=$(newest)
if [ -f "$Q" ]; then
  records "$Q" > "$T_TMP/root.rec"
  check "root (the administrator) keeps its records: peer=, auth=, dsn=" \
    sh -c "grep -q '^Ipeer=203.0.113.9$' '$T_TMP/root.rec' && grep -q '^Iauth=ceo$' '$T_TMP/root.rec' && grep -q '^Idsn=double$' '$T_TMP/root.rec'"
else
  fail "root's imc-queue queues" "$(cat "$T_TMP/root.err")"
fi
rm -f "$I"/queue/new/*
t_done
