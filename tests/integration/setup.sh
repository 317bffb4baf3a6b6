#!/bin/sh
# setup.sh -- imc-setup, imc-start and the s6 service directories.
#
# User mode: the tree, the default files, idempotence, argument checks, the
# run scripts.  Then the services are started under s6 and stopped, first
# with stub daemons (so the s6 plumbing is tested whatever is built), then
# with the real bin/imc-send, bin/imc-pickup and bin/imc-tcpd when they are
# built (imc-tcpd on a free port picked at random).
# System mode, only as root: users, owners, modes, setuid binaries, and the
# services running under their own users.
. "$(dirname "$0")/../lib.sh"

SETUP=$TOP/bin/imc-setup
START=$TOP/bin/imc-start

# rc COMMAND...: run it, output to $T_TMP/rc.out, print the exit code
rc() { "$@" > "$T_TMP/rc.out" 2>&1; echo $?; }
# expect_rc NAME CODE COMMAND...
expect_rc() {
  n=$1 want=$2; shift 2
  got=$(rc "$@")
  if [ "$got" = "$want" ]; then pass "$n"
  else fail "$n" "exit $got, want $want: $* ($(head -c 300 "$T_TMP/rc.out"))"; fi
}
# content FILE: the first line of FILE
content() { head -n 1 "$1" 2>/dev/null; }

# ---- 1. the tree of a user instance
d=$T_TMP/inst
if imc-setup --user "$d" > "$T_TMP/setup.out" 2>&1; then pass setup-user; else fail setup-user "imc-setup --user failed"; fi
D=$(cd "$d" && pwd -P)
missing=
for p in control queue queue/tmp queue/new queue/quarantine queue/mess queue/info \
         mail pickup pickup/bad log log/send log/pickup log/smtpd log/track \
         archive archive/in archive/out archive/turf env service \
         service/send service/send/log service/pickup service/pickup/log \
         service/smtpd service/smtpd/log; do
  [ -d "$d/$p" ] || missing="$missing $p"
done
for h in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do
  [ -d "$d/queue/mess/$h" ] || missing="$missing queue/mess/$h"
  [ -d "$d/queue/info/$h" ] || missing="$missing queue/info/$h"
done
if [ -z "$missing" ]; then pass setup-dirs; else fail setup-dirs "missing:$missing"; fi
check setup-trigger-fifo test -p "$d/queue/trigger"
if [ -f "$d/queue/lock" ] && [ ! -s "$d/queue/lock" ]; then pass setup-lock
else fail setup-lock "queue/lock is not an empty file"; fi
if [ -s "$d/control/me" ] && [ "$(content "$d/control/me")" = "$(content "$d/control/sitedomains")" ]
then pass setup-control-defaults
else fail setup-control-defaults "control/me or control/sitedomains missing or different"; fi
if grep -q '^# *mailbox ' "$d/control/directory" && grep -q '^# *list ' "$d/control/directory" &&
   grep -q '^# *contact ' "$d/control/directory" && ! grep -q '^[^#]' "$d/control/directory"
then pass setup-directory-example
else fail setup-directory-example "control/directory is not the commented example"; fi
if [ "$(content "$d/env/IMC_HOME")" = "$D" ]; then pass setup-env-home
else fail setup-env-home "env/IMC_HOME is '$(content "$d/env/IMC_HOME")', want $D"; fi
if [ "$(content "$d/env/IMC_PORT")" = 2525 ] && [ ! -e "$d/env/IMC_SUBMISSION_PORT" ]
then pass setup-env-ports-default
else fail setup-env-ports-default "IMC_PORT: $(content "$d/env/IMC_PORT"), IMC_SUBMISSION_PORT: $(content "$d/env/IMC_SUBMISSION_PORT") (want 2525 and none)"; fi
[ "$(content "$d/env/IMC_LISTEN")" = "127.0.0.1 ::1" ] && pass setup-env-listen-user || fail setup-env-listen-user "env/IMC_LISTEN: $(content "$d/env/IMC_LISTEN")"
[ ! -e "$d/env/IMC_USER" ] && pass setup-env-no-user || fail setup-env-no-user "env/IMC_USER in user mode"
if [ -n "${DNSCACHEIP+set}" ] || [ ! -e "$d/env/DNSCACHEIP" ]; then pass setup-env-no-dnscache
else fail setup-env-no-dnscache "env/DNSCACHEIP written without DNSCACHEIP set"; fi
# user mode: nobody else may write
modes="$(stat -c %a "$d/queue/trigger") $(stat -c %a "$d/queue/tmp") $(stat -c %a "$d/pickup") $(stat -c %a "$d/mail")"
if [ "$modes" = "600 2750 2750 700" ]; then pass setup-user-modes
else fail setup-user-modes "trigger tmp pickup mail: $modes, want 600 2750 2750 700"; fi

# ---- 2. the run scripts
ok=1
for s in send pickup smtpd; do
  for f in "$d/service/$s/run" "$d/service/$s/log/run"; do
    [ -x "$f" ] && sh -n "$f" || { ok=; fail "setup-run-$s" "$f not an executable sh script"; }
  done
  [ "$(content "$d/service/$s/notification-fd")" = 3 ] || { ok=; fail "setup-notification-$s" "notification-fd is not 3"; }
  grep -q "s6-log .*'$D/log/$s'" "$d/service/$s/log/run" || { ok=; fail "setup-logrun-$s" "log/run does not log to $D/log/$s"; }
done
grep -q "'$T_BIN/imc-send'" "$d/service/send/run" || { ok=; fail setup-run-bin "send/run does not exec $T_BIN/imc-send"; }
grep -q "'$T_BIN/imc-pickup'" "$d/service/pickup/run" || { ok=; fail setup-run-bin "pickup/run does not exec $T_BIN/imc-pickup"; }
grep -q "env IMC_READY_FD=3 '$T_BIN/imc-tcpd'" "$d/service/smtpd/run" || { ok=; fail setup-run-bin "smtpd/run does not exec $T_BIN/imc-tcpd"; }
grep -q "s6-envdir '$D/env'" "$d/service/send/run" || { ok=; fail setup-run-envdir "send/run does not read $D/env"; }
grep -q 'IMC_READY_FD=3' "$d/service/send/run" || { ok=; fail setup-run-readyfd "send/run does not set IMC_READY_FD=3"; }
! grep -q s6-setuidgid "$d/service/send/run" "$d/service/send/log/run" || { ok=; fail setup-run-user "user mode run script drops privileges"; }
[ -n "$ok" ] && pass setup-run-scripts

# ---- 3. running it again keeps what is there
echo edited.example > "$d/control/me"
mkdir -p "$d/mail/alice/new" && echo keep > "$d/mail/alice/new/1"
echo junk > "$d/service/send/run"
if DNSCACHEIP=127.0.0.53 "$SETUP" --user --port 2600 --submission-port 2601 "$d" > "$T_TMP/rc.out" 2>&1
then pass setup-rerun; else fail setup-rerun "second imc-setup failed: $(cat "$T_TMP/rc.out")"; fi
[ "$(content "$d/control/me")" = edited.example ] && pass setup-keeps-control || fail setup-keeps-control "control/me was rewritten"
[ "$(content "$d/mail/alice/new/1")" = keep ] && pass setup-keeps-mail || fail setup-keeps-mail "mail/alice/new/1 is gone"
grep -q "'$TOP/bin/imc-send'" "$d/service/send/run" && pass setup-rewrites-run || fail setup-rewrites-run "service/send/run not rewritten"
if [ "$(content "$d/env/IMC_PORT")" = 2600 ] && [ "$(content "$d/env/IMC_SUBMISSION_PORT")" = 2601 ]
then pass setup-env-ports; else fail setup-env-ports "ports not stored"; fi
[ "$(content "$d/env/DNSCACHEIP")" = 127.0.0.53 ] && pass setup-env-dnscache || fail setup-env-dnscache "env/DNSCACHEIP not written"
(unset DNSCACHEIP; "$SETUP" "$d" > /dev/null 2>&1)
if [ "$(content "$d/env/IMC_PORT")" = 2600 ] && [ "$(content "$d/env/DNSCACHEIP")" = 127.0.0.53 ]
then pass setup-env-kept; else fail setup-env-kept "a run without --port lost env/IMC_PORT or env/DNSCACHEIP"; fi
"$SETUP" --listen ' ::1  192.0.2.1 ' "$d" > /dev/null 2>&1
if [ "$(content "$d/env/IMC_LISTEN")" = "::1 192.0.2.1" ] && [ "$(content "$d/env/IMC_SUBMISSION_PORT")" = 2601 ]
then pass setup-listen; else fail setup-listen "env/IMC_LISTEN: $(content "$d/env/IMC_LISTEN") (or the submission port was lost)"; fi
"$SETUP" --no-submission "$d" > /dev/null 2>&1
if [ ! -e "$d/env/IMC_SUBMISSION_PORT" ] && [ "$(content "$d/env/IMC_LISTEN")" = "::1 192.0.2.1" ]
then pass setup-no-submission; else fail setup-no-submission "env/IMC_SUBMISSION_PORT still there, or IMC_LISTEN lost"; fi

# ---- 4. argument checks
nd=$T_TMP/never
expect_rc setup-bad-option 100 "$SETUP" --bogus "$nd"
expect_rc setup-no-dir 100 "$SETUP" --user
expect_rc setup-two-dirs 100 "$SETUP" "$nd" "$nd.2"
expect_rc setup-port-0 100 "$SETUP" --port 0 "$nd"
expect_rc setup-port-70000 100 "$SETUP" --port 70000 "$nd"
expect_rc setup-port-word 100 "$SETUP" --port smtp "$nd"
expect_rc setup-port-empty 100 "$SETUP" "$nd" --port
expect_rc setup-subport-0 100 "$SETUP" --submission-port 0 "$nd"
expect_rc setup-subport-70000 100 "$SETUP" --submission-port=70000 "$nd"
expect_rc setup-subport-same 100 "$SETUP" --port 2600 --submission-port 2600 "$nd"
expect_rc setup-subport-and-none 100 "$SETUP" --submission-port 2601 --no-submission "$nd"
expect_rc setup-listen-bad 100 "$SETUP" --listen 'localhost' "$nd"
expect_rc setup-listen-empty 100 "$SETUP" --listen ' ' "$nd"
if grep -q '^imc-setup: fatal: ' "$T_TMP/rc.out"; then pass setup-error-format
else fail setup-error-format "error is not 'imc-setup: fatal: ...': $(cat "$T_TMP/rc.out")"; fi
[ ! -e "$nd" ] && pass setup-bad-args-create-nothing || fail setup-bad-args-create-nothing "$nd was created"
expect_rc setup-port-65535 0 "$SETUP" --port 65535 --submission-port 1 "$T_TMP/p"
expect_rc start-no-dir 100 "$START" "$T_TMP/nothing-here"
mkdir -p "$T_TMP/empty"
expect_rc start-not-instance 100 "$START" "$T_TMP/empty"
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null && setpriv --reuid nobody --regid nogroup --clear-groups test -r "$SETUP"; then
  expect_rc setup-system-needs-root 100 setpriv --reuid nobody --regid nogroup --clear-groups "$SETUP" --system "$nd"
else
  echo "SKIP: setup-system-needs-root: needs root, setpriv, and a checkout nobody can read"
fi

# ---- 5. the services under s6
# gone PID: the process has exited (a zombie counts as exited)
gone() {
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
  case $st in ''|Z*) return 0 ;; *) return 1 ;; esac
}
# cycle NAME INSTANCE BIN [FLAGS]: imc-start, wait until send, pickup and smtpd are
# up and ready, check imc-start refuses a second run, stop with s6-svscanctl -t,
# check by pid that s6-svscan, the daemons and the loggers are gone.
# FLAGS: "stublog" (check the stub daemons' log lines), "users" (system mode)
cycle() {
  cn=$1 ci=$2 cb=$3 cflags=" ${4:-} "
  "$cb/imc-start" "$ci" > "$T_TMP/svscan-$cn.out" 2>&1 &
  scan=$!
  T_PIDS="$T_PIDS $scan"
  T_SCANDIRS="$T_SCANDIRS $ci/service"
  if ! t_wait 10 test -p "$ci/service/send/supervise/control" ||
     ! t_wait 10 test -p "$ci/service/pickup/supervise/control" ||
     ! t_wait 10 test -p "$ci/service/smtpd/supervise/control"; then
    fail "$cn-start" "s6-supervise did not start: $(cat "$T_TMP/svscan-$cn.out")"; return 1
  fi
  if s6-svwait -U -t 10000 "$ci/service/send" "$ci/service/pickup" "$ci/service/smtpd" 2>"$T_TMP/svwait.out"
  then pass "$cn-ready"
  else fail "$cn-ready" "send, pickup and smtpd not up and ready in 10 s: $(cat "$T_TMP/svwait.out") $(tail -n 5 "$ci/log/send/current" "$ci/log/pickup/current" "$ci/log/smtpd/current" 2>&1)"
  fi
  st="$(s6-svstat -o up,ready "$ci/service/send") $(s6-svstat -o up,ready "$ci/service/pickup") $(s6-svstat -o up,ready "$ci/service/smtpd")"
  if [ "$st" = "true true true true true true" ]; then pass "$cn-svstat-up"
  else fail "$cn-svstat-up" "s6-svstat up,ready: $st; $(s6-svstat "$ci/service/send")"; fi
  pids=
  for s in send send/log pickup pickup/log smtpd smtpd/log; do
    p=$(s6-svstat -o pid "$ci/service/$s" 2>/dev/null)
    case $p in ''|-1|0) fail "$cn-pid" "no pid for $s" ;; *) pids="$pids $p" ;; esac
  done
  expect_rc "$cn-start-twice" 111 "$cb/imc-start" "$ci"
  case $cflags in *" users "*) check_users "$cn" "$ci" ;; esac
  case $cflags in *" stublog "*) check_stublog "$cn" "$ci" ;; esac
  s6-svscanctl -t "$ci/service"
  if t_wait 10 gone "$scan"; then pass "$cn-svscan-exited"
  else fail "$cn-svscan-exited" "s6-svscan $scan still runs 10 s after s6-svscanctl -t"; fi
  left=
  for p in $pids; do gone "$p" || left="$left $p"; done
  if [ -z "$left" ]; then pass "$cn-all-stopped"
  else fail "$cn-all-stopped" "still running:$left"; fi
  wait "$scan" 2>/dev/null
  return 0
}
# the stub daemons write their environment to their log
check_stublog() {
  if t_wait 5 grep -q "stub imc-send IMC_HOME=$(cd "$2" && pwd -P) IMC_READY_FD=3" "$2/log/send/current" &&
     t_wait 5 grep -q "stub imc-pickup IMC_HOME=" "$2/log/pickup/current" &&
     t_wait 5 grep -q "stub imc-tcpd IMC_HOME=.* IMC_LISTEN=" "$2/log/smtpd/current"
  then pass "$1-env-and-log"
  else fail "$1-env-and-log" "stub output not in log/*/current: $(cat "$2/log/send/current" 2>&1)"; fi
}

stub=$T_TMP/stubbin
mkdir -p "$stub"
cp "$SETUP" "$START" "$stub/"
for p in imc-send imc-pickup imc-tcpd; do
  cat > "$stub/$p" <<'EOF'
#!/bin/sh
echo "stub $(basename "$0") IMC_HOME=$IMC_HOME IMC_READY_FD=$IMC_READY_FD user=$(id -un) groups=$(id -nG) IMC_LISTEN=$IMC_LISTEN IMC_USER=$IMC_USER" >&2
eval "echo >&$IMC_READY_FD"
exec sleep 600
EOF
done
chmod 755 "$stub"/*
si=$T_TMP/stubinst
if "$stub/imc-setup" --user "$si" > "$T_TMP/rc.out" 2>&1; then
  cycle stub "$si" "$stub" stublog
else
  fail stub-setup "$(cat "$T_TMP/rc.out")"
fi

# port_free PORT: nothing listens on 127.0.0.1 (or ::1) PORT
port_free() {
  "$PYTHON" - "$1" <<'PY'
import socket, sys
for fam, a in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    try:
        s = socket.socket(fam)
        s.bind((a, int(sys.argv[1])))
        s.close()
    except OSError as e:
        if e.errno not in (97, 99):      # no IPv6 here: fine
            sys.exit(1)
PY
}
if [ -x "$TOP/bin/imc-send" ] && [ -x "$TOP/bin/imc-pickup" ] && [ -x "$TOP/bin/imc-tcpd" ]; then
  rp=
  for i in 1 2 3 4 5 6 7 8 9 10; do
    p=$(( 20000 + ($$ * 11 + i * 1009) % 9990 ))
    port_free "$p" && { rp=$p; break; }
  done
  if [ -n "$rp" ] && "$SETUP" --port "$rp" --no-submission --listen '127.0.0.1 ::1' "$d" > "$T_TMP/rc.out" 2>&1; then
    cycle real "$d" "$TOP/bin"
  else
    fail real-setup "no free port, or imc-setup failed: $(cat "$T_TMP/rc.out")"
  fi
else
  echo "note: bin/imc-send, bin/imc-pickup or bin/imc-tcpd not built: the real services were not started"
fi

# ---- 6. system mode (root only)
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: setup system mode: needs root"
  t_done; exit
fi

# the imc users must reach the instance and the stub binaries
chmod 0711 "$T_TMP"
sb=$T_TMP/sysbin
mkdir -p "$sb"
cp "$stub"/* "$sb/"
printf '#!/bin/sh\nexit 0\n' > "$sb/imc-queue"
printf '#!/bin/sh\nexit 0\n' > "$sb/imc-local"
printf '#!/bin/sh\nexit 0\n' > "$sb/imc-remote"
printf '#!/bin/sh\nexit 0\n' > "$sb/imc-convert"
chmod 755 "$sb" "$sb"/*
sd=$T_TMP/sys
if "$sb/imc-setup" --system "$sd" > "$T_TMP/rc.out" 2>&1 &&
   "$sb/imc-setup" --system "$sd" > "$T_TMP/rc.out" 2>&1
then pass system-setup-twice
else fail system-setup-twice "$(cat "$T_TMP/rc.out")"; fi

bad=
for u in imcd imcq imcs imcc imcr imcm imcl; do
  getent passwd "$u" > /dev/null && getent group "$u" > /dev/null || bad="$bad $u"
  [ "$(getent passwd "$u" | cut -d: -f7)" = /usr/sbin/nologin ] || bad="$bad $u(shell)"
done
case " $(id -nG imcs 2>/dev/null) " in *" imcq "*) ;; *) bad="$bad imcs-not-in-imcq" ;; esac
if [ -z "$bad" ]; then pass system-users; else fail system-users "$bad"; fi

bad=
while read -r p want; do
  got=$(stat -c '%U:%G %a' "$sd/$p" 2>&1)
  [ "$got" = "$want" ] || bad="$bad $p=($got, want $want)"
done <<EOF
. root:root 755
control root:root 755
control/me root:root 644
control/directory root:root 644
queue imcq:imcq 750
queue/tmp imcq:imcq 2770
queue/new imcq:imcq 2770
queue/quarantine imcs:imcq 750
queue/mess imcs:imcq 750
queue/mess/7 imcs:imcq 750
queue/info imcs:imcq 750
queue/info/c imcs:imcq 750
queue/trigger imcs:imcq 622
queue/lock imcs:imcq 600
mail imcm:imcm 700
pickup imcq:imcq 2770
pickup/bad imcq:imcq 2770
log root:root 755
log/send imcl:imcl 750
log/pickup imcl:imcl 750
log/smtpd imcl:imcl 750
log/track imcs:imcs 750
archive imcs:imcs 750
archive/in imcs:imcs 750
archive/out imcs:imcs 750
archive/turf imcs:imcs 750
env root:root 755
env/IMC_HOME root:root 644
env/IMC_PORT root:root 644
env/IMC_LISTEN root:root 644
env/IMC_USER root:root 644
service root:root 755
service/send/run root:root 755
service/pickup/log/run root:root 755
service/smtpd/run root:root 755
service/smtpd/log/run root:root 755
EOF
if [ -z "$bad" ]; then pass system-owners-modes; else fail system-owners-modes "$bad"; fi
[ "$(content "$sd/env/IMC_PORT")" = 25 ] && [ ! -e "$sd/env/IMC_SUBMISSION_PORT" ] &&
  pass system-ports-default || fail system-ports-default "want 25 and no submission port"
[ "$(content "$sd/env/IMC_LISTEN")" = "0.0.0.0 ::" ] && [ "$(content "$sd/env/IMC_USER")" = imcd ] &&
  pass system-listen-user || fail system-listen-user "IMC_LISTEN '$(content "$sd/env/IMC_LISTEN")', IMC_USER '$(content "$sd/env/IMC_USER")'"

if grep -q 'setpriv --reuid=imcs --regid=imcq --groups=imcr env IMC_READY_FD=3' "$sd/service/send/run" &&
   grep -q 's6-setuidgid imcq env IMC_READY_FD=3' "$sd/service/pickup/run" &&
   grep -q 's6-setuidgid imcl s6-log' "$sd/service/send/log/run" &&
   grep -q 's6-setuidgid imcl s6-log' "$sd/service/pickup/log/run" &&
   grep -q 's6-setuidgid imcl s6-log' "$sd/service/smtpd/log/run" &&
   grep -q "s6-envdir '[^']*' env IMC_READY_FD=3 '[^']*/imc-tcpd'" "$sd/service/smtpd/run" &&
   ! grep -q s6-setuidgid "$sd/service/smtpd/run"
then pass system-run-users; else fail system-run-users "run scripts do not drop to imcs/imcq/imcl, or smtpd/run does not start imc-tcpd as root"; fi

bins="$(stat -c '%U %a' "$sb/imc-queue") $(stat -c '%U:%G %a' "$sb/imc-local") $(stat -c '%U:%G %a' "$sb/imc-remote") $(stat -c '%U:%G %a' "$sb/imc-convert")"
if [ "$bins" = "imcq 4711 imcm:imcq 4710 imcr:imcr 6710 imcc:imcr 6710" ]; then pass system-setuid-binaries
else fail system-setuid-binaries "imc-queue, imc-local, imc-remote, imc-convert: $bins"; fi

# the daemons run as their users (imcs with group imcq and only imcr besides), the loggers as imcl
check_users() {
  bad=
  p=$(s6-svstat -o pid "$2/service/send")
  [ "$(ps -o user= -p "$p" | tr -d ' ')" = imcs ] || bad="$bad send-user"
  [ "$(ps -o group=,supgrp= -p "$p" | tr -s ' ' | sed 's/^ //')" = "imcq imcr" ] || bad="$bad send-groups"
  p=$(s6-svstat -o pid "$2/service/pickup")
  [ "$(ps -o user= -p "$p" | tr -d ' ')" = imcq ] || bad="$bad pickup-user"
  for s in send pickup smtpd; do
    p=$(s6-svstat -o pid "$2/service/$s/log")
    [ "$(ps -o user= -p "$p" | tr -d ' ')" = imcl ] || bad="$bad $s-log-user"
  done
  if [ -z "$bad" ]; then pass "$1-run-as-users"; else fail "$1-run-as-users" "$bad"; fi
}
cycle system "$sd" "$sb" "stublog users"

# from a git checkout the binaries are left alone, with a note
gd=$T_TMP/sysgit
if [ -e "$TOP/.git" ]; then
  before=$(stat -c '%U:%G %a' "$TOP/bin/imc-queue" 2>/dev/null)
  if "$SETUP" --system "$gd" > "$T_TMP/rc.out" 2>&1 && grep -q 'note: .*git checkout' "$T_TMP/rc.out" &&
     [ "$(stat -c '%U:%G %a' "$TOP/bin/imc-queue" 2>/dev/null)" = "$before" ]
  then pass system-git-checkout-binaries-kept
  else fail system-git-checkout-binaries-kept "$(cat "$T_TMP/rc.out")"; fi
fi
t_done
