#!/bin/sh
# install.sh -- make install, make install again (an upgrade), make uninstall
# (INSTALL section 3, tools/install.sh).  Root only: as another user it
# prints one SKIP line and no PASS line.
#
# `make install` into a temporary PREFIX; `imc-setup --system` makes an
# instance on those programs (imc-queue, imc-local, imc-remote and
# imc-convert become setuid) and it is started with imc-start.  A message
# by SMTP and one by sendmail, run as the unprivileged user nobody (so that
# it needs the setuid imc-queue), are delivered into a Maildir.  Then
# `make install` again, as for an upgrade, and a restart: the four
# programs keep their owners and modes and both ways deliver again.  As
# nobody, `make install` over the instance's programs refuses and leaves
# them as they were.  An imc-queue without its mode makes sendmail fail
# and SMTP answer 451, with messages that name imc-setup, which puts it right.  Finally
# `make uninstall` leaves nothing in PREFIX, not even a program that only
# an earlier install wrote.
. "$(dirname "$0")/../lib.sh"
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: install: needs root (system-mode users, setuid programs)"
  exit 0
fi
for t in setpriv swaks make; do
  command -v "$t" > /dev/null || { fail setup "$t is not installed"; exit 1; }
done

chmod 0711 "$T_TMP"
PREFIX=$T_TMP/prefix
B=$PREFIX/bin
I=$T_TMP/i
P=$(t_port)
minstall() { make -s -C "$TOP" "$@" PREFIX="$PREFIX" > "$T_TMP/make.out" 2>&1; }

# ---- the first install and the instance
minstall install || { fail install "make install: $(tail -5 "$T_TMP/make.out")"; exit 1; }
check "install: programs, links and manual pages in PREFIX" \
  test -x "$B/imc-queue" -a -x "$B/imc-setup" -a -L "$B/sendmail" -a -L "$B/mailq" \
       -a -L "$B/newaliases" -a -f "$PREFIX/share/man/man8/imc-send.8" -a -f "$PREFIX/share/man/man5/imc-control.5"
check "install: the systemd unit starts imc-start of BINDIR" \
  grep -qx "ExecStart=$B/imc-start /var/imc" "$PREFIX/lib/systemd/system/imc.service"
if command -v systemd-analyze > /dev/null; then
  # its only complaints may be the manual pages, which man does not find in PREFIX
  systemd-analyze verify "$PREFIX/lib/systemd/system/imc.service" > "$T_TMP/verify.out" 2>&1
  if grep -v "Command 'man imc-" "$T_TMP/verify.out" | grep -q .; then fail "systemd-analyze verify imc.service" "$(cat "$T_TMP/verify.out")"
  else pass "systemd-analyze verify imc.service"; fi
else echo "SKIP: systemd-analyze verify: systemd-analyze is not installed"; fi
t_system_instance "$B" "$I" "$P" || exit 1
echo site.test > "$I/control/me"
echo site.test > "$I/control/sitedomains"
echo 'mailbox alice "Alice"' > "$I/control/directory"
IMC_HOME=$I "$B/imc-ctl" compile > /dev/null || { fail setup "imc-ctl compile"; exit 1; }

# modes: "NAME OWNER:GROUP MODE" for the four setuid programs
modes() { for p in imc-queue imc-local imc-remote imc-convert; do echo "$p $(stat -c '%U:%G %a' "$B/$p")"; done; }
WANT="imc-queue imcq:root 4711
imc-local imcm:imcq 4710
imc-remote imcr:imcr 6710
imc-convert imcc:imcr 6710"
modes > "$T_TMP/modes.1"
if [ "$(cat "$T_TMP/modes.1")" = "$WANT" ]; then pass "imc-setup --system made the installed programs setuid"
else fail "setuid after imc-setup" "$(cat "$T_TMP/modes.1")"; fi

start() {
  "$B/imc-start" "$I" > "$T_TMP/svscan.out" 2>&1 &
  T_PIDS="$T_PIDS $!"
  T_SCANDIRS="$T_SCANDIRS $I/service"
  t_wait 10 test -p "$I/service/send/supervise/control" &&
    s6-svwait -U -t 10000 "$I/service/send" "$I/service/smtpd" 2>/dev/null
}
# mail N: message N by SMTP and message N+1 by sendmail as nobody, both to alice
mail() {
  swaks --server "127.0.0.1:$P" --from bob@example.org --to alice@site.test \
    --header "Subject: install test $1" --body "message $1 by SMTP" > "$T_TMP/swaks.$1" 2>&1 ||
    { fail "SMTP message $1" "swaks: $(grep -E '^ *<~?\*?' "$T_TMP/swaks.$1" | tail -3)"; return 1; }
  printf 'From: bob@example.org\nTo: alice@site.test\nSubject: install test %s\n\nmessage %s by sendmail\n' \
    "$(($1 + 1))" "$(($1 + 1))" |
    setpriv --reuid=nobody --regid=nogroup --clear-groups env IMC_HOME="$I" "$B/sendmail" -t \
    > "$T_TMP/sendmail.$1" 2>&1 ||
    { fail "sendmail message $(($1 + 1))" "exit $?: $(cat "$T_TMP/sendmail.$1")"; return 1; }
}
got() { grep -l "^Subject: install test $1\$" "$I"/mail/alice/new/* > /dev/null 2>&1; }

start || { fail start "the instance did not come up: $(cat "$T_TMP/svscan.out")"; exit 1; }
t_wait 10 sh -c "ss -Hltn | grep -q '127.0.0.1:$P '" || { fail start "no listener on $P"; exit 1; }
if mail 1 && t_wait 20 got 1 && t_wait 20 got 2; then pass "first install: SMTP and sendmail (as nobody) delivered"
else fail "first install: delivery" "$(ls "$I/mail/alice/new" 2>&1); $(tail -3 "$I/log/send/current")"; fi

# ---- make install again, as for an upgrade, while the instance runs.  As
# if the first install had been of a version with one more program: it is
# on the manifest, and make uninstall must remove it too
: > "$B/imc-dropped" && echo "file $B/imc-dropped" >> "$PREFIX/share/imc/installed"
minstall install || { fail reinstall "make install: $(tail -5 "$T_TMP/make.out")"; exit 1; }
# names_all LINE: LINE names each of the four programs
names_all() {
  for _n in imc-queue imc-local imc-remote imc-convert; do
    case "$1 " in *" $_n "*|*" $_n;"*) ;; *) return 1 ;; esac
  done
}
kept=$(grep 'kept the owners and setuid modes of .*; restart' "$T_TMP/make.out")
if [ -n "$kept" ] && names_all "$kept"; then
  pass "second make install: says it kept the four setuid modes and to restart"
else fail "second make install: message" "$(cat "$T_TMP/make.out")"; fi
modes > "$T_TMP/modes.2"
if [ "$(cat "$T_TMP/modes.2")" = "$WANT" ]; then pass "second make install kept the owners and setuid modes"
else fail "second make install: modes" "$(cat "$T_TMP/modes.2")"; fi
cmp -s "$TOP/bin/imc-send" "$B/imc-send" && test ! -e "$B/imc-queue.imc-new"
check "second make install: programs replaced, no temporary file left" test $? = 0
for s in send smtpd pickup; do s6-svc -r "$I/service/$s"; done
sleep 1
s6-svwait -U -t 10000 "$I/service/send" "$I/service/smtpd" 2>/dev/null
t_wait 10 sh -c "ss -Hltn | grep -q '127.0.0.1:$P '" || fail restart "no listener on $P after the restart"
if mail 3 && t_wait 20 got 3 && t_wait 20 got 4; then pass "after the second install and a restart: SMTP and sendmail delivered"
else fail "after the second install: delivery" "$(ls "$I/mail/alice/new" 2>&1); $(tail -3 "$I/log/send/current")"; fi

# ---- as a user who cannot keep the modes: refused, nothing changed
chmod 0777 "$B" "$PREFIX/share/man/man8" "$PREFIX/share/man/man5" "$PREFIX/share/imc"
sum1=$(md5sum "$B/imc-queue")
mkdir -m 0755 "$T_TMP/src" && cp "$TOP/tools/install.sh" "$TOP/bin/imc-queue" "$T_TMP/src/" && chmod a+r "$T_TMP/src"/*
if setpriv --reuid=nobody --regid=nogroup --clear-groups \
     env DESTDIR= BINDIR="$B" MANDIR="$PREFIX/share/man" MANIFEST= \
     sh "$T_TMP/src/install.sh" install "$T_TMP/src/imc-queue" -- > "$T_TMP/nobody.out" 2>&1; then
  fail "install as nobody" "it did not refuse"
elif grep -q 'imc-setup --system' "$T_TMP/nobody.out" && [ "$(md5sum "$B/imc-queue")" = "$sum1" ] &&
     [ "$(modes)" = "$WANT" ] && [ ! -e "$B/imc-queue.imc-new" ]; then
  pass "install as nobody: refused, names imc-setup, imc-queue unchanged"
else fail "install as nobody" "$(cat "$T_TMP/nobody.out"); $(modes)"; fi
chmod 0755 "$B" "$PREFIX/share/man/man8" "$PREFIX/share/man/man5" "$PREFIX/share/imc"

# ---- imc-queue without its mode (as an install that forgot it leaves it):
# sendmail fails temporarily and the message names imc-setup; imc-setup
# --system puts it right
chown root:root "$B/imc-queue" && chmod 0755 "$B/imc-queue"
printf 'Subject: install test 5\n\nmessage 5\n' |
  setpriv --reuid=nobody --regid=nogroup --clear-groups env IMC_HOME="$I" "$B/sendmail" alice@site.test \
  > "$T_TMP/sendmail.lost" 2>&1
rc=$?
if [ "$rc" = 75 ] && grep -q "imc-setup --system $I" "$T_TMP/sendmail.lost"; then
  pass "imc-queue not setuid: sendmail exits 75 and names imc-setup --system"
else fail "imc-queue not setuid" "exit $rc: $(cat "$T_TMP/sendmail.lost")"; fi
# SMTP, once the workers start afresh (each has its own imc-queue): 451, and
# the smtpd log names imc-setup
s6-svc -r "$I/service/smtpd"
sleep 1
s6-svwait -U -t 10000 "$I/service/smtpd" 2>/dev/null
t_wait 10 sh -c "ss -Hltn | grep -q '127.0.0.1:$P '"
swaks --server "127.0.0.1:$P" --from bob@example.org --to alice@site.test --body "lost" > "$T_TMP/swaks.lost" 2>&1
if grep -q '^<\*\* *451 4\.3\.0' "$T_TMP/swaks.lost" && t_wait 5 grep -q "run imc-setup --system $I" "$I/log/smtpd/current"; then
  pass "imc-queue not setuid: SMTP answers 451 4.3.0 and the smtpd log names imc-setup --system"
else fail "imc-queue not setuid: SMTP" "$(grep -E '^<' "$T_TMP/swaks.lost" | tail -3); $(tail -3 "$I/log/smtpd/current")"; fi
"$B/imc-setup" --system "$I" > "$T_TMP/setup.out" 2>&1 || fail "imc-setup again" "$(cat "$T_TMP/setup.out")"
for s in smtpd send; do s6-svc -r "$I/service/$s"; done
sleep 1
s6-svwait -U -t 10000 "$I/service/smtpd" "$I/service/send" 2>/dev/null
t_wait 10 sh -c "ss -Hltn | grep -q '127.0.0.1:$P '"
if mail 5 && t_wait 20 got 5 && t_wait 20 got 6 && [ "$(modes)" = "$WANT" ]; then
  pass "imc-setup --system again: modes back, mail delivered"
else fail "imc-setup again: delivery" "$(modes); $(tail -3 "$I/log/send/current")"; fi

# ---- stop, uninstall
t_stop "$I" || fail stop "s6-svscan did not stop"
minstall uninstall || fail uninstall "make uninstall: $(tail -5 "$T_TMP/make.out")"
if [ ! -e "$PREFIX" ]; then pass "make uninstall left nothing in PREFIX"
else fail "make uninstall" "left: $(find "$PREFIX" | head -5)"; fi
check "make uninstall kept the instance" test -d "$I/mail/alice/new" -a -f "$I/control/directory"
t_done
