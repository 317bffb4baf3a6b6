#!/bin/sh
# qconn.sh -- imc-smtpd's one imc-queue for many messages (lib/qclient's
# qconn, imc-queue -s), end to end on a started user instance:
#   - three messages on one SMTP connection use one imc-queue process (its
#     pid, found by its working directory, the instance's queue/); each of
#     the two pipes between it and imc-smtpd is held once on each side
#     (close-on-exec: no copy anywhere else in either);
#   - imc-queue killed with SIGKILL in the middle of a 200 KB message (it
#     has begun writing tmp/): that message gets 451 4.3.0 and is never
#     delivered nor left in new/ or mess/; the next message on the same
#     connection is queued by a new imc-queue; the tmp/ leftover is removed
#     by imc-send's debris cleaning once older than 36 hours;
#   - when the services stop, no imc-queue of the instance is left.
. "$(dirname "$0")/../lib.sh"

I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo mx.example.com > "$I/control/me"
echo example.com > "$I/control/sitedomains"
echo 'mailbox alice "Alice"' > "$I/control/directory"
printf 'relay 127.0.0.1\n' > "$I/control/rules"
imc-ctl compile > /dev/null || fail compile "imc-ctl compile"
t_start "$I" || { fail start "services did not come up"; exit 1; }
t_wait 10 "$PYTHON" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$T_PORT" \
  || { fail listen "nothing listens on $T_PORT"; exit 1; }

# the dialogue: prints one line per step ("pid N", "reply CODE TEXT",
# "pipeholders N N", "tmp N", "killed N"), as the shell below checks them
cat > "$T_TMP/conn.py" <<'PY'
import os, signal, socket, sys, time
port, qdir = int(sys.argv[1]), os.path.realpath(sys.argv[2])
def qpids():
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit(): continue
        try:
            if open("/proc/%s/comm" % p).read().strip() == "imc-queue" and os.readlink("/proc/%s/cwd" % p) == qdir:
                out.append(int(p))
        except OSError:
            pass
    return sorted(out)
s = socket.create_connection(("127.0.0.1", port), timeout=30)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline().decode("latin1").rstrip("\r\n")
        if len(l) < 4 or l[3] != "-": return l
def cmd(c):
    s.sendall(c.encode() + b"\r\n")
    return reply()
def envelope():
    assert cmd("MAIL FROM:<bob@example.com>").startswith("250")
    assert cmd("RCPT TO:<alice@example.com>").startswith("250")
    return cmd("DATA")
def message(tag):
    assert envelope().startswith("354")
    s.sendall(("Subject: %s\r\n\r\n%s\r\n.\r\n" % (tag, tag)).encode())
    print("reply", reply())
    print("pids", " ".join(map(str, qpids())))
reply()
cmd("EHLO client.example")
for t in ("MSG-ONE", "MSG-TWO", "MSG-THREE"):
    message(t)
p1 = qpids()[0]
def fds(pid):
    return [os.readlink("/proc/%d/fd/%s" % (pid, fd)) for fd in os.listdir("/proc/%d/fd" % pid)]
parent = int(open("/proc/%d/stat" % p1).read().rsplit(")", 1)[1].split()[1])
both = fds(p1) + fds(parent)
ends = [os.readlink("/proc/%d/fd/%d" % (p1, n)) for n in (0, 1)]
print("pipeholders", both.count(ends[0]), both.count(ends[1]))
print("reply", envelope())
line = ("KILLME " * 10 + "\r\n").encode()
s.sendall(line * 3000)                      # 213 KB: past the first 64 KB frames
t0 = time.time()
while not os.listdir(qdir + "/tmp") and time.time() - t0 < 10: time.sleep(0.05)
print("tmp", len(os.listdir(qdir + "/tmp")))
os.kill(p1, signal.SIGKILL)
t0 = time.time()
while p1 in qpids() and time.time() - t0 < 10: time.sleep(0.05)
print("killed", 0 if p1 in qpids() else 1)
s.sendall(line * 10 + b".\r\n")
print("reply", reply())
message("MSG-AFTER")
print("oldpid", p1)
print("reply", cmd("QUIT"))
PY
"$PYTHON" "$T_TMP/conn.py" "$T_PORT" "$I/queue" > "$T_TMP/conn.out" 2>&1
cat "$T_TMP/conn.out"
line() { sed -n "${1}p" "$T_TMP/conn.out"; }
ck() { _ck=$1; shift; if eval "$*"; then pass "$_ck"; else fail "$_ck" "$*"; fi; }
p1=$(line 2 | sed 's/^pids //')
ck "qconn: three messages queued (250)" '[ "$(grep -c "^reply 250 2.0.0 ok: queued as" "$T_TMP/conn.out")" -ge 3 ] && line 1 | grep -q "^reply 250" && line 3 | grep -q "^reply 250" && line 5 | grep -q "^reply 250"'
ck "qconn: one imc-queue process for the three messages" '[ -n "$p1" ] && [ "$(line 4)" = "pids $p1" ] && [ "$(line 6)" = "pids $p1" ]'
ck "qconn: its two pipes held once by imc-queue and once by imc-smtpd" '[ "$(line 7)" = "pipeholders 2 2" ]'
ck "qconn: DATA of the fourth message answered 354" 'line 8 | grep -q "^reply 354"'
ck "qconn: imc-queue had begun writing tmp/ when killed" '[ "$(line 9)" = "tmp 1" ] && [ "$(line 10)" = "killed 1" ]'
ck "qconn: imc-queue killed mid-message: 451 4.3.0" 'line 11 | grep -q "^reply 451 4.3.0"'
p2=$(line 13 | sed 's/^pids //')
ck "qconn: the next message on the connection queued by a new imc-queue" \
  'line 12 | grep -q "^reply 250 2.0.0 ok: queued as" && [ -n "$p2" ] && [ "$p2" != "$p1" ] && [ "$(line 14)" = "oldpid $p1" ]'
ck "qconn: QUIT answered" 'line 15 | grep -q "^reply 221"'

M=$I/mail/alice
check "qconn: the four queued messages are delivered" t_wait 20 t_count_is "$M" 4
ck "qconn: the killed message is nowhere: Maildir, new/, mess/" \
  '[ -d "$M/new" ] && ! grep -rqa KILLME "$M" "$I/queue/new" "$I/queue/mess"'
ck "qconn: the message after the kill arrived" 'grep -rqa MSG-AFTER "$M/new"'
ck "qconn: the one leftover is tmp/ID, a killed writer's" '[ "$(find "$I/queue/tmp" -type f | wc -l)" = 1 ]'
find "$I/queue/tmp" -type f -exec touch -d '2 days ago' {} +
s6-svc -r "$I/service/send"
tmp_empty() { [ "$(find "$I/queue/tmp" -type f | wc -l)" = 0 ]; }
check "qconn: imc-send's debris cleaning removes the leftover (older than 36 h)" t_wait 20 tmp_empty

# no imc-queue of the instance survives the services
qleft() {
  for _p in /proc/[0-9]*; do
    [ "$(cat "$_p/comm" 2>/dev/null)" = imc-queue ] && [ "$(readlink "$_p/cwd" 2>/dev/null)" = "$(cd "$I/queue" && pwd -P)" ] && return 0
  done
  return 1
}
t_stop "$I"
check "qconn: no imc-queue left once the services stopped" t_wait 10 eval '! qleft'
t_done
