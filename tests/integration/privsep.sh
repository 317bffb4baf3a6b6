#!/bin/sh
# privsep.sh -- privilege separation of a system-mode instance (docs/SECURITY.md
# section 2; INSTALL section 6).  Root only:
# as another user it prints one SKIP line and no PASS line.
#
# The programs are copied out of the git checkout (imc-setup then makes
# imc-queue setuid imcq and imc-local setuid imcm, as `make install`
# would), an instance is made with `imc-setup --system` in a temporary
# directory and started under s6.  Mail comes in over SMTP for a local
# mailbox and for two routed domains: one sink asks for AUTH (the route's
# password file), the other stalls after DATA so that imc-remote can be
# caught running.  Checked:
#   - the credentials (real, effective, saved and file-system uid and gid,
#     and the supplementary groups, from /proc/PID/status) of imc-tcpd,
#     imc-smtpd (a worker of the pool), imc-queue (while DATA is
#     held open), imc-send, imc-pickup, imc-remote (while the sink stalls)
#     and the s6-log loggers;
#   - as imcd and imcr (with no groups, and with the groups they really
#     have): no file can be created, written, renamed or removed anywhere
#     under queue/ or pickup/, the trigger can only be written to, queue
#     files and mail/ cannot be read;
#   - control/auth, control/tls/key.pem and the route's password file, as
#     imc-setup leaves them: not readable by the uids that do not need them;
#   - the mail was delivered: Maildir, the AUTH sink, and the stalled
#     message once the stall ends.
. "$(dirname "$0")/../lib.sh"
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: privsep: needs root (system-mode users, setuid binaries)"
  exit 0
fi
. "$TOP/tests/netlib.sh"
for t in setpriv ps openssl; do
  command -v "$t" > /dev/null || { fail setup "$t is not installed"; exit 1; }
done

# ---- the programs, outside the checkout; the instance
B=$T_TMP/bin
t_system_bin "$B" || exit 1
I=$T_TMP/i
P=$(t_port)
t_system_instance "$B" "$I" "$P" || exit 1
SP=$(t_port)
start_sink ok "$(hip 3):$SP" --auth relay:s3cret-route || exit 1
start_sink stall "$(hip 4):$SP" --stall-after-data || exit 1

echo site.test > "$I/control/me"
echo site.test > "$I/control/sitedomains"
echo 'mailbox alice "Alice"' > "$I/control/directory"
cat > "$I/control/routes" <<EOF
ok.test [$(hip 3)]:$SP tls=none auth=relay:routes.pass insecureauth
stall.test [$(hip 4)]:$SP tls=none
EOF
echo s3cret-route > "$I/control/routes.pass"
echo "smtpuser:$(openssl passwd -6 -salt privsep s3cret-smtp)" > "$I/control/auth"
mkdir -p "$I/control/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=site.test \
  -keyout "$I/control/tls/key.pem" -out "$I/control/tls/cert.pem" > /dev/null 2>&1 ||
  { fail setup "openssl could not make a certificate"; exit 1; }
chmod 0644 "$I/control/routes.pass" "$I/control/auth" "$I/control/tls/key.pem"
echo 1 > "$I/control/retry"
echo 60 > "$I/control/timeoutremote"
IMC_HOME=$I "$B/imc-ctl" compile > /dev/null || { fail setup "imc-ctl compile"; exit 1; }
# run imc-setup again, as an administrator does after adding secrets: it
# resets owners and modes
if ! "$B/imc-setup" --system "$I" > "$T_TMP/setup.out" 2>&1; then
  fail setup "second imc-setup --system: $(cat "$T_TMP/setup.out")"; exit 1
fi
t_start "$I" || { fail start "services did not come up: $(cat "$T_TMP/svscan.out")"; exit 1; }
t_wait 10 sh -c "ss -Hltn | grep -q '127.0.0.1:$P '" || { fail start "no listener on $P: $(tail -5 "$I/log/smtpd/current")"; exit 1; }

# ---- credentials of a running process
# creds PID: "uid=R/E/S/F gid=R/E/S/F groups=G,G" with names, groups sorted
creds() {
  awk '
    function u(n, c) { c = "getent passwd " n " | cut -d: -f1"; c | getline r; close(c); return r == "" ? n : r }
    function g(n, c) { c = "getent group " n " | cut -d: -f1"; c | getline r; close(c); return r == "" ? n : r }
    /^Uid:/ { us = u($2) "/" u($3) "/" u($4) "/" u($5) }
    /^Gid:/ { gs = g($2) "/" g($3) "/" g($4) "/" g($5) }
    /^Groups:/ { for (i = 2; i <= NF; i++) gl = gl (gl == "" ? "" : "\n") g($i) }
    END {
      cmd = "sort | paste -sd, -"
      if (gl != "") { print gl | cmd; close(cmd) } else print ""
      printf "uid=%s gid=%s groups=", us, gs
    }' "/proc/$1/status" 2>/dev/null | { read -r gl; read -r rest; echo "$rest$gl"; }
}
# expect_creds NAME PID WANT
expect_creds() {
  case $2 in ''|*[!0-9]*) fail "$1" "process not found"; return ;; esac
  _c=$(creds "$2")
  if [ "$_c" = "$3" ]; then pass "$1 ($_c)"; else fail "$1" "$_c, want $3"; fi
}
# child_of PARENT NAME: the pid of PARENT's child running NAME
child_of() { pgrep -P "$1" -x "$2" | head -1; }
svpid() { s6-svstat -o pid "$I/service/$1" 2>/dev/null; }

expect_creds "imc-tcpd runs as imcd" "$(svpid smtpd)" "uid=imcd/imcd/imcd/imcd gid=imcd/imcd/imcd/imcd groups=imcd"
expect_creds "imc-send runs as imcs, group imcq (the queue), only other group imcr (to run imc-remote)" "$(svpid send)" \
  "uid=imcs/imcs/imcs/imcs gid=imcq/imcq/imcq/imcq groups=imcr"
expect_creds "imc-pickup runs as imcq" "$(svpid pickup)" "uid=imcq/imcq/imcq/imcq gid=imcq/imcq/imcq/imcq groups=imcq"
for s in send pickup smtpd; do
  expect_creds "the $s logger runs as imcl" "$(svpid "$s/log")" "uid=imcl/imcl/imcl/imcl gid=imcl/imcl/imcl/imcl groups=imcl"
done

# ---- an SMTP session held open: imc-smtpd, then imc-queue during DATA
mkfifo "$T_TMP/hold"
"$PYTHON" - "$P" "$T_TMP/hold" "$T_TMP/session.out" <<'PY' &
import socket, sys
port, hold, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=60)
f = s.makefile("rb")
log = open(out, "w")
def reply():
    while True:
        l = f.readline().decode(errors="replace")
        log.write(l); log.flush()
        if len(l) < 4 or l[3] != "-":
            return l
def cmd(c):
    s.sendall(c.encode() + b"\r\n")
    return reply()
reply()
cmd("EHLO client.test")
open(hold).read()                       # 1: imc-smtpd is looked at
cmd("MAIL FROM:<carol@client.test>")
for r in ("alice@site.test", "dave@ok.test", "erin@stall.test"):
    cmd("RCPT TO:<%s>" % r)
cmd("DATA")
s.sendall(b"From: carol@client.test\r\nSubject: privsep\r\n\r\n")
open(hold).read()                       # 2: imc-queue is looked at
s.sendall(b"privilege separation test\r\n.\r\n")
reply()
cmd("QUIT")
PY
CLIENT=$!
T_PIDS="$T_PIDS $CLIENT"
t_wait 10 sh -c "pgrep -P $(svpid smtpd) -x imc-smtpd > /dev/null"
SMTPD=$(child_of "$(svpid smtpd)" imc-smtpd)
expect_creds "imc-smtpd runs as imcd" "$SMTPD" "uid=imcd/imcd/imcd/imcd gid=imcd/imcd/imcd/imcd groups=imcd"
: > "$T_TMP/hold"
# the worker serving the session (imc-tcpd keeps spare ones): the one running imc-queue
queue_pid() { for _w in $(pgrep -P "$(svpid smtpd)" -x imc-smtpd); do pgrep -P "$_w" -x imc-queue; done | head -1; }
queue_runs() { [ -n "$(queue_pid)" ]; }
t_wait 10 queue_runs
expect_creds "imc-queue is setuid imcq, run by imcd" "$(queue_pid)" \
  "uid=imcd/imcq/imcq/imcq gid=imcd/imcd/imcd/imcd groups=imcd"
: > "$T_TMP/hold"
wait "$CLIENT"
if grep -q '^250 .*[0-9a-f]\{19\}' "$T_TMP/session.out"; then pass "the message was accepted"
else fail "the message was accepted" "$(tail -3 "$T_TMP/session.out")"; fi

# ---- imc-remote while the stall sink holds the message
t_wait 20 sh -c "pgrep -P $(svpid send) -x imc-remote > /dev/null"
RPIDS=$(pgrep -P "$(svpid send)" -x imc-remote)
REMOTE=
for r in $RPIDS; do grep -q stall.test "/proc/$r/cmdline" 2>/dev/null && REMOTE=$r; done
[ -n "$REMOTE" ] || t_wait 20 sh -c "pgrep -P $(svpid send) -f 'imc-remote stall.test' > /dev/null"
[ -n "$REMOTE" ] || REMOTE=$(pgrep -P "$(svpid send)" -f 'imc-remote stall.test' | head -1)
expect_creds "imc-remote runs as imcr with no queue group" "$REMOTE" "uid=imcr/imcr/imcr/imcr gid=imcr/imcr/imcr/imcr groups=imcr"
# what imc-remote really runs as: its user (for the password file) and its
# numeric uid, gid and groups, to try the queue with exactly those
RUSER=$(ps -o user= -p "${REMOTE:-1}" 2>/dev/null | tr -d ' ')
RCREDS=$(awk '/^Uid:/ { u = $2 } /^Gid:/ { g = $2 } /^Groups:/ { for (i = 2; i <= NF; i++) l = l (l == "" ? "" : ",") $i }
  END { print "--reuid=" u " --regid=" g " " (l == "" ? "--clear-groups" : "--groups=" l) }' "/proc/${REMOTE:-0}/status" 2>/dev/null)

check "delivered to the local Maildir" t_wait 20 t_count_is "$I/mail/alice" 1
check "delivered to the sink that asks for AUTH" t_wait 20 delivered_is ok 1
if grep -qi '^X-Sink-Auth: relay' "$(find "$W/ok.md" -type f -name 'msg*' | head -1)" 2>/dev/null
then pass "imc-remote authenticated with the route's password file"
else fail "imc-remote authenticated with the route's password file" "no X-Sink-Auth: relay"; fi

# ---- what imcd and imcr may do under queue/ and pickup/
# as USER GROUPS-MODE CMD...: run sh -c CMD as USER (--clear-groups or --init-groups)
as() { _u=$1 _g=$2; shift 2; setpriv --reuid="$_u" --regid="$(id -g "$_u")" "--$_g" sh -c "$*" 2>/dev/null; }
# never NAME USER CMD...: under both group modes the command must fail
never() {
  _n=$1 _u=$2; shift 2
  for _g in clear-groups init-groups; do
    if as "$_u" "$_g" "$@"; then fail "$_n ($_u, --$_g)" "succeeded: $*"; return; fi
  done
  pass "$_n ($_u)"
}
# the stall ends in a dropped connection: the message waits in mess/ with a state file
stop_sink stall
# (the state file is written before new/ID moves to mess/: wait for both)
t_wait 30 sh -c "find '$I/queue/info' -type f ! -name held | grep -q . && find '$I/queue/mess' -type f | grep -q ."
QFILE=$(find "$I/queue/mess" -type f | head -1)
SFILE=$(find "$I/queue/info" -type f ! -name held | head -1)
QDIRS="queue queue/tmp queue/new queue/mess queue/mess/0 queue/info queue/info/0 queue/quarantine queue/ctl pickup pickup/bad mail archive log/track control"
for u in imcd imcr; do
  bad=
  for d in $QDIRS; do
    for g in clear-groups init-groups; do
      as "$u" "$g" ": > '$I/$d/privsep.$u'" && bad="$bad $d"
    done
  done
  [ -z "$bad" ] && pass "$u cannot create files in queue/, pickup/, mail/, archive/, log/track/, control/" ||
    fail "$u cannot create files in queue/, pickup/, mail/, archive/, log/track/, control/" "created in:$bad"
  if [ -n "$QFILE" ] && [ -n "$SFILE" ]; then
    never "$u cannot append to a queue file" "$u" "exec 3>> '$QFILE'"
    never "$u cannot append to a state file" "$u" "exec 3>> '$SFILE'"
    never "$u cannot read a queue file" "$u" "cat '$QFILE' > /dev/null"
    never "$u cannot remove a queue file" "$u" "rm -f '$QFILE' && ! test -e '$QFILE'"
  else
    fail "$u and queue files" "no queue file found to try"
  fi
  never "$u cannot open queue/lock" "$u" "exec 3>> '$I/queue/lock'"
  never "$u cannot remove or replace the trigger" "$u" "mv '$I/queue/trigger' '$I/queue/trigger.x' || rm '$I/queue/trigger'"
  never "$u cannot change the trigger's mode" "$u" "chmod 0666 '$I/queue/trigger'"
  never "$u cannot list queue/" "$u" "ls '$I/queue/new' '$I/queue/mess/0'"
  never "$u cannot read mail/" "$u" "ls '$I/mail/alice/new'"
  never "$u cannot read a delivered message" "$u" "cat '$I'/mail/alice/new/*"
done
# imc-remote with the credentials it really has (docs/SECURITY.md section 2: no queue write access)
case $RCREDS in
  *--reuid=[0-9]*)
    bad=
    for d in queue/tmp queue/new queue/mess/0 queue/info/0 queue/ctl pickup; do
      setpriv $RCREDS sh -c ": > '$I/$d/.privsep.remote'" 2>/dev/null && bad="$bad $d"
    done
    if [ -z "$bad" ]; then pass "imc-remote's credentials ($RCREDS) cannot create queue files"
    else fail "imc-remote's credentials ($RCREDS) cannot create queue files" "created in:$bad"; fi
    find "$I/queue" "$I/pickup" -name .privsep.remote -exec rm -f {} + ;;
  *) fail "imc-remote's credentials" "imc-remote was not caught running" ;;
esac
# the trigger is 0622, but queue/ (imcq, 0750) keeps imcd and imcr away from it
for u in imcd imcr; do
  never "$u cannot write to the trigger" "$u" "timeout 5 sh -c \"exec 3> '$I/queue/trigger'\""
done
# nothing was left behind by the attempts above
left=$(find "$I" -name 'privsep.imc*' 2>/dev/null)
[ -z "$left" ] && pass "no file was created by the attempts" || fail "no file was created by the attempts" "$left"

# ---- the setuid imc-queue refuses an IMC_HOME that is not an instance: a tree of the
# caller's own (control files without limits, queue/ a link to the real queue)
FAKE=$T_TMP/fake
mkdir -p "$FAKE/control" && ln -s "$I/queue" "$FAKE/queue" && chown -R nobody "$FAKE" && chown -h nobody "$FAKE/queue"
before=$(find "$I/queue/new" "$I/queue/mess" -type f | wc -l)
rc=$(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups sh -c "IMC_HOME='$FAKE' '$B/imc-queue' < /dev/null 1< /dev/null 2>/dev/null; echo \$?")
check "setuid imc-queue refuses a caller's own IMC_HOME (exit 56)" [ "$rc" = 56 ]
check "nothing was queued through it" [ "$(find "$I/queue/new" "$I/queue/mess" -type f | wc -l)" = "$before" ]
rc=$(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups sh -c "IMC_HOME='$I' '$B/imc-queue' < /dev/null 1< /dev/null 2>/dev/null; echo \$?")
check "setuid imc-queue accepts the real instance (then refuses the empty envelope: $rc)" sh -c "[ '$rc' = 32 ] || [ '$rc' = 33 ]"

# ---- secrets: owners, modes, and who can read them
# readers FILE: the service users that can read FILE with the groups they have
readers() {
  _r=
  for u in imcd imcq imcs imcc imcr imcm imcl nobody; do
    as "$u" init-groups "cat '$1' > /dev/null" && _r="$_r $u"
  done
  echo "${_r# }"
}
expect_readers() {
  _got=$(readers "$2")
  if [ "$_got" = "$3" ]; then pass "$1 ($(stat -c '%U:%G %a' "$2"), read by: ${_got:-nobody})"
  else fail "$1" "$(stat -c '%U:%G %a' "$2") read by '$_got', want '$3'"; fi
}
# the route's password file is for the user imc-remote really runs as (RUSER)
expect_readers "control/tls/key.pem readable by imcd only" "$I/control/tls/key.pem" "imcd"
expect_readers "the route password file readable by imc-remote's user only" "$I/control/routes.pass" "${RUSER:-imcr}"
expect_readers "control/auth readable by imcd only" "$I/control/auth" "imcd"

# ---- a sink that accepts: the waiting message is delivered on a retry
start_sink stall2 "$(hip 4):$SP" || exit 1
IMC_HOME=$I "$B/imc-qctl" retry '*' > /dev/null 2>&1
check "the stalled message delivered on a retry" t_wait 60 delivered_is stall2 1
check "the queue is empty at the end" t_wait 20 t_queue_empty "$I"

t_stop "$I"
t_done
