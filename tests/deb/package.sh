#!/bin/sh
# package.sh -- the Debian package in a fresh Debian 12 root (make check-deb;
# debian/, tools/deb.sh, debian/README.Debian).  Root only: as another user
# it prints one SKIP line and no PASS line.
#
# make deb's tools/deb.sh builds the package twice, as the tree's version
# and as a newer one (IMC_DEB_VERSION); lintian must report nothing beyond
# debian/imc.lintian-overrides.  mmdebstrap makes a minimal Debian 12 root
# from the mirror /etc/apt/sources.list* names, with the package's
# dependencies; /proc is mounted in it (the programs find each other
# through /proc/self/exe).  In the root, with chroot:
#   - dpkg -i: the users, /var/imc, the four setuid programs and their
#     dpkg-statoverride entries exist; sendmail, mailq, newaliases are links;
#   - the unit imc.service is enabled, the postinst restarts it on upgrade;
#   - the instance, moved to a random port on 127.0.0.1 and started with
#     the unit's ExecStart (imc-start; not systemd), is listening once the
#     unit's ExecStartPost (readiness) returns, and delivers a message sent by SMTP from outside
#     and one by /usr/sbin/sendmail run as nobody; a message for a route
#     whose host refuses connections stays deferred;
#   - dpkg -i of the newer version while it runs, with a stand-in systemctl
#     (as if systemd ran) that carries out the restart of imc.service the
#     postinst asks for by restarting the services: the version changed, owners and modes and control/ did not,
#     and SMTP and sendmail deliver again; mailq lists the deferred
#     message by its id (only when sendmail -bp works in this tree);
#   - dpkg -r keeps /var/imc and the users; dpkg --purge removes the
#     instance, the statoverrides and every imc user and group;
#   - installed over an instance that is already there, the package leaves
#     it alone and says to run imc-setup --system and dpkg-reconfigure imc,
#     which then record the modes.
# Everything is under the test's temporary directory, unmounted and removed
# on exit, failure included.
. "$(dirname "$0")/../lib.sh"
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: deb: needs root (mmdebstrap, chroot, dpkg in the root)"
  exit 0
fi
for t in mmdebstrap dpkg-buildpackage lintian swaks chroot; do
  command -v "$t" > /dev/null || { fail setup "$t is not installed (make check-deb installs it)"; exit 1; }
done

chmod 0711 "$T_TMP"
R=$T_TMP/root
I=$R/var/imc
P=$(t_port)
ROOTPID=
deb_cleanup() {
  if [ -n "$ROOTPID" ] && kill -0 "$ROOTPID" 2>/dev/null; then
    s6-svscanctl -t "$I/service" 2>/dev/null
    t_wait 10 sh -c "! kill -0 $ROOTPID" || kill -9 "$ROOTPID" 2>/dev/null
  fi
  if [ -n "${MMPID:-}" ]; then kill "$MMPID" 2>/dev/null; wait "$MMPID" 2>/dev/null; fi
  # ours (/proc) and any an interrupted mmdebstrap left, deepest first
  for m in $(grep " $R/" /proc/mounts | cut -d' ' -f2 | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
  done
  # never remove through a mount that is still there
  if grep -q " $R/" /proc/mounts; then
    echo "FAIL: cleanup: still mounted under $R: $(grep " $R/" /proc/mounts | cut -d' ' -f2)"
    KEEP=1
  fi
  t_cleanup
}
trap deb_cleanup EXIT

# inroot COMMAND...: COMMAND in the root, with a clean environment
inroot() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C HOME=/root "$@"; }
# asnobody COMMAND...: the same as the user nobody, without groups
asnobody() { inroot setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

# ---- the packages: the tree's version, then a newer one
start=$(date +%s)
V1=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
V2=$V1+upgradetest1
sh "$TOP/tools/deb.sh" "$T_TMP/v1" > "$T_TMP/deb1.out" 2>&1 ||
  { fail "make deb" "$(tail -20 "$T_TMP/deb1.out")"; exit 1; }
DEB1=$(ls "$T_TMP"/v1/imc_*.deb)
if [ -f "$T_TMP/v1/lintian.txt" ] && [ ! -s "$T_TMP/v1/lintian.txt" ]; then
  pass "lintian: no tags beyond debian/imc.lintian-overrides"
else fail lintian "$(cat "$T_TMP/v1/lintian.txt" 2>&1)"; fi
echo "package $V1 built in $(( $(date +%s) - start )) s"

# the root, in the background while the newer package builds: the mirror of
# /etc/apt/sources.list*, and the package's dependencies so that dpkg -i works
MIRROR=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
  grep -E '^(URIs:|deb )' | grep -oE 'https?://[^ ]+/debian/?( |$)' | head -1 | tr -d ' ')
DEPS=$(dpkg-deb -f "$DEB1" Depends | tr ',' '\n' | sed 's/^ *//; s/[ (].*//' | sed '/^$/d' | tr '\n' ',' | sed 's/,$//')
mmdebstrap --quiet --variant=minbase --include="$DEPS" bookworm "$R" ${MIRROR:+"$MIRROR"} > "$T_TMP/mmdebstrap.out" 2>&1 &
MMPID=$!
IMC_DEB_VERSION=$V2 sh "$TOP/tools/deb.sh" "$T_TMP/v2" > "$T_TMP/deb2.out" 2>&1 ||
  { fail "make deb (version $V2)" "$(tail -20 "$T_TMP/deb2.out")"; exit 1; }
DEB2=$(ls "$T_TMP"/v2/imc_*.deb)
echo "package $V2 built at $(( $(date +%s) - start )) s"
if ! wait "$MMPID"; then
  MMPID=
  # the mirror out of reach is no failure of imc's
  if grep -qE 'Could not resolve|Temporary failure resolving|Failed to fetch|Could not connect|Network is unreachable' "$T_TMP/mmdebstrap.out"; then
    echo "SKIP: deb: mmdebstrap cannot reach the mirror ${MIRROR:-}: $(grep -m1 -E 'resolv|fetch|connect|unreachable' "$T_TMP/mmdebstrap.out")"
    exit 0
  fi
  fail mmdebstrap "$(tail -20 "$T_TMP/mmdebstrap.out")"; exit 1
fi
MMPID=
echo "root made at $(( $(date +%s) - start )) s (mirror ${MIRROR:-mmdebstrap's default}, with $DEPS)"
mount -t proc proc "$R/proc" || { fail setup "cannot mount /proc in the root"; exit 1; }
cp "$DEB1" "$DEB2" "$R/tmp/" || { fail setup "cannot copy the packages into the root"; exit 1; }

# ---- first install
inroot dpkg -i "/tmp/$(basename "$DEB1")" > "$T_TMP/dpkg1.out" 2>&1 ||
  { fail "dpkg -i $V1" "$(tail -20 "$T_TMP/dpkg1.out")"; exit 1; }
pass "dpkg -i of $V1 in a fresh Debian 12 root"
check "first install: the users exist" inroot sh -c "getent passwd imcd imcq imcs imcc imcr imcm imcl > /dev/null"
check "first install: imc-setup --system made /var/imc" test -d "$I/service/send" -a -f "$I/control/me" -a -p "$I/queue/trigger"
modes() {
  for p in imc-queue imc-local imc-remote imc-convert; do
    echo "$p $(inroot stat -c '%U:%G %a' "/usr/lib/imc/bin/$p")"
  done
}
WANT="imc-queue imcq:root 4711
imc-local imcm:imcq 4710
imc-remote imcr:imcr 6710
imc-convert imcc:imcr 6710"
if [ "$(modes)" = "$WANT" ]; then pass "first install: the four programs setuid as imc-setup makes them"
else fail "first install: modes" "$(modes)"; fi
inroot dpkg-statoverride --list > "$T_TMP/override.1"
if [ "$(grep -c ' /usr/lib/imc/bin/imc-' "$T_TMP/override.1")" = 4 ]; then pass "first install: four dpkg-statoverride entries"
else fail "first install: statoverride" "$(cat "$T_TMP/override.1")"; fi
for l in /usr/sbin/sendmail /usr/bin/mailq /usr/sbin/newaliases /usr/lib/sendmail; do
  [ "$(inroot readlink -f "$l")" = /usr/lib/imc/bin/imc-inject ] || fail "links" "$l -> $(inroot readlink -f "$l")"
done
pass "sendmail, mailq, newaliases and /usr/lib/sendmail lead to imc-inject"

# ---- the instance: local mailbox alice, a route that is refused, a random port
CLOSED=$(t_port)
echo site.test > "$I/control/me"
echo site.test > "$I/control/sitedomains"
echo 'mailbox alice "Alice"' > "$I/control/directory"
echo "nowhere.test [127.0.0.1]:$CLOSED tls=none" > "$I/control/routes"
inroot env IMC_HOME=/var/imc imc-ctl compile > "$T_TMP/compile.out" 2>&1 || { fail setup "imc-ctl compile: $(cat "$T_TMP/compile.out")"; exit 1; }
inroot imc-setup --system --port "$P" --no-submission --listen 127.0.0.1 /var/imc > "$T_TMP/setup.out" 2>&1 ||
  { fail setup "imc-setup: $(cat "$T_TMP/setup.out")"; exit 1; }
# DNS on 127.0.0.1, where nothing answers: lookups (SPF and DKIM of the
# inbound mail) fail at once instead of waiting for an outside resolver
echo 127.0.0.1 > "$I/env/DNSCACHEIP"
ctlsum() { (cd "$I/control" && find . -type f | sort | xargs md5sum); }
ctlsum > "$T_TMP/control.1"

up() {
  t_wait 10 test -p "$I/service/send/supervise/control" -a -p "$I/service/smtpd/supervise/control" &&
    s6-svwait -U -t 10000 "$I/service/send" "$I/service/smtpd" 2>/dev/null &&
    t_wait 10 sh -c "ss -Hltn | grep -q '127.0.0.1:$P '"
}
# imc-start as imc.service runs it, with the unit's readiness check (its
# ExecStartPost, which systemd would run): when that returns, SMTP answers
UNIT=$R/lib/systemd/system/imc.service
check "the unit is enabled" test -L "$R/etc/systemd/system/multi-user.target.wants/imc.service"
START=$(sed -n 's/^ExecStart=//p' "$UNIT")
READY=$(sed -n 's/^ExecStartPost=//p' "$UNIT" | sed 's/\$\$/$/g')
inroot $START > "$T_TMP/start.out" 2>&1 &
ROOTPID=$!
if inroot sh -c "$READY" > "$T_TMP/ready.out" 2>&1 && ss -Hltn | grep -q "127.0.0.1:$P "; then
  pass "imc.service's ExecStart and ExecStartPost: ready, and then SMTP listens"
else fail "imc.service readiness" "$(cat "$T_TMP/ready.out"); $(ss -Hltn | grep ":$P ")"; fi
up || { fail "imc-start" "the instance did not come up: $(cat "$T_TMP/start.out"; tail -5 "$I/log/smtpd/current")"; exit 1; }

# mail N: message N by SMTP from outside, N+1 by sendmail in the root as nobody
mail() {
  swaks --server "127.0.0.1:$P" --from bob@example.org --to alice@site.test \
    --header "Subject: deb test $1" --body "message $1 by SMTP" > "$T_TMP/swaks.$1" 2>&1 ||
    fail "SMTP message $1" "$(grep -E '^ *<' "$T_TMP/swaks.$1" | tail -3)"
  printf 'From: root@site.test\nTo: alice@site.test\nSubject: deb test %s\n\nmessage %s by sendmail\n' \
    "$(($1 + 1))" "$(($1 + 1))" | asnobody /usr/sbin/sendmail -t > "$T_TMP/sendmail.$1" 2>&1 ||
    fail "sendmail message $(($1 + 1))" "$(cat "$T_TMP/sendmail.$1")"
}
got() { grep -l "^Subject: deb test $1\$" "$I"/mail/alice/new/* > /dev/null 2>&1; }
mail 1
if t_wait 30 got 1 && t_wait 30 got 2; then pass "$V1: a message by SMTP and one by /usr/sbin/sendmail (as nobody) delivered"
else fail "$V1: delivery" "$(ls "$I/mail/alice/new" 2>&1); $(tail -3 "$I/log/send/current")"; fi

# a message for the refused route stays in the queue, deferred
printf 'From: root@site.test\nTo: carol@nowhere.test\nSubject: deb test deferred\n\nwaits\n' |
  asnobody /usr/sbin/sendmail -t > "$T_TMP/sendmail.deferred" 2>&1 ||
  fail "sendmail deferred message" "$(cat "$T_TMP/sendmail.deferred")"
queued() { find "$I/queue/info" -path '*/info/?/*' -type f -exec basename {} \; 2>/dev/null; }
if t_wait 20 sh -c "[ -n \"\$(find '$I/queue/info' -path '*/info/?/*' -type f)\" ]"; then
  ID=$(queued | head -1)
  pass "the message for the refused route is deferred in the queue ($ID)"
else ID=; fail "deferred message" "$(tail -5 "$I/log/send/current")"; fi

# ---- upgrade in place while the instance runs.  The maintainer scripts
# act on imc.service only where systemd runs (/run/systemd/system): a
# stand-in systemctl in the root logs what they ask and does a restart of
# imc.service as systemd would, by restarting every service of the instance
[ ! -e "$R/usr/bin/systemctl" ] || { fail setup "the root has a systemctl"; exit 1; }
mkdir -p "$R/run/systemd/system"
cat > "$R/usr/bin/systemctl" <<'EOS'
#!/bin/sh
echo "systemctl $*" >> /tmp/systemctl.log
case " $* " in
  *" restart imc.service "*) for s in send smtpd pickup; do s6-svc -r "/var/imc/service/$s"; done ;;
esac
exit 0
EOS
chmod 0755 "$R/usr/bin/systemctl"
SENDPID=$(s6-svstat -p "$I/service/send")
inroot dpkg -i "/tmp/$(basename "$DEB2")" > "$T_TMP/dpkg2.out" 2>&1 ||
  { fail "dpkg -i $V2" "$(tail -20 "$T_TMP/dpkg2.out")"; exit 1; }
rm -rf "$R/run/systemd" "$R/usr/bin/systemctl"
t_wait 10 sh -c "[ \"\$(s6-svstat -p '$I/service/send')\" -gt 1 ] && [ \"\$(s6-svstat -p '$I/service/send')\" != $SENDPID ]"
NEWPID=$(s6-svstat -p "$I/service/send")
if grep -q ' restart imc.service' "$R/tmp/systemctl.log" 2>/dev/null && [ "$NEWPID" != "$SENDPID" ]; then
  pass "upgrade: the postinst restarted imc.service (imc-send $SENDPID, now $NEWPID)"
else fail "upgrade: restart" "imc-send $SENDPID, now $NEWPID; systemctl calls: $(cat "$R/tmp/systemctl.log" 2>&1)"; fi
check "upgrade: dpkg -i of $V2" test "$(inroot dpkg-query -W -f '${Version}' imc)" = "$V2"
if [ "$(modes)" = "$WANT" ]; then pass "upgrade: owners and setuid modes kept"
else fail "upgrade: modes" "$(modes)"; fi
ctlsum > "$T_TMP/control.2"
check "upgrade: control/ untouched" cmp -s "$T_TMP/control.1" "$T_TMP/control.2"
sleep 1
up || fail "restart after the upgrade" "$(tail -5 "$I/log/smtpd/current")"
mail 3
if t_wait 30 got 3 && t_wait 30 got 4; then pass "$V2: SMTP and sendmail delivered after the upgrade and its restart"
else fail "$V2: delivery" "$(ls "$I/mail/alice/new" 2>&1); $(tail -3 "$I/log/send/current")"; fi

# ---- mailq, when sendmail -bp works in this tree
if [ -z "$ID" ]; then fail mailq "no deferred message to look for"
elif ! inroot env IMC_HOME=/var/imc /usr/sbin/sendmail -bp > "$T_TMP/bp.out" 2>&1; then
  echo "SKIP: mailq: sendmail -bp does not work in this tree: $(head -1 "$T_TMP/bp.out")"
elif inroot env IMC_HOME=/var/imc mailq > "$T_TMP/mailq.out" 2>&1 && grep -q "$ID" "$T_TMP/mailq.out"; then
  pass "mailq lists the deferred message $ID"
else fail mailq "$ID not in: $(cat "$T_TMP/mailq.out")"; fi

# ---- stop, remove, purge
s6-svscanctl -t "$I/service"
t_wait 15 sh -c "! kill -0 $ROOTPID" || fail stop "s6-svscan did not stop"
ROOTPID=
inroot dpkg -r imc > "$T_TMP/remove.out" 2>&1 || fail "dpkg -r" "$(tail -10 "$T_TMP/remove.out")"
check "remove: /var/imc and the users kept" test -f "$I/control/directory" -a -d "$I/mail/alice/new" -a -n "$(inroot getent passwd imcq)"
inroot dpkg --purge imc > "$T_TMP/purge.out" 2>&1 || fail "dpkg --purge" "$(tail -10 "$T_TMP/purge.out")"
check "purge: /var/imc removed" test ! -e "$I"
left=$(inroot sh -c 'getent passwd; getent group' | grep '^imc' | cut -d: -f1 | tr '\n' ' ')
if [ -z "$left" ]; then pass "purge: no imc user or group left"; else fail "purge: users" "left: $left"; fi
if inroot dpkg-statoverride --list | grep -q /usr/lib/imc; then fail "purge: statoverride" "$(inroot dpkg-statoverride --list)"
else pass "purge: the statoverride entries removed"; fi
check "purge: sendmail and the programs gone" test ! -e "$R/usr/sbin/sendmail" -a ! -e "$R/usr/lib/imc"
# ---- an instance that was there before the package: left alone, the
# programs stay unprivileged and the postinst says what to run; after
# imc-setup --system and dpkg-reconfigure imc the modes are recorded
mkdir -p "$I/service"
inroot dpkg -i "/tmp/$(basename "$DEB2")" > "$T_TMP/dpkg3.out" 2>&1 || fail "dpkg -i over an instance" "$(tail -10 "$T_TMP/dpkg3.out")"
if grep -q 'run imc-setup --system /var/imc, then dpkg-reconfigure imc' "$T_TMP/dpkg3.out" && [ ! -e "$I/control" ] &&
   ! inroot dpkg-statoverride --list | grep -q /usr/lib/imc; then
  pass "install over an existing instance: left alone, says to run imc-setup and dpkg-reconfigure"
else fail "install over an existing instance" "$(cat "$T_TMP/dpkg3.out"; ls "$I")"; fi
inroot imc-setup --system /var/imc > "$T_TMP/setup3.out" 2>&1 || fail "imc-setup" "$(cat "$T_TMP/setup3.out")"
inroot env DEBIAN_FRONTEND=noninteractive dpkg-reconfigure imc > "$T_TMP/reconf.out" 2>&1 || fail "dpkg-reconfigure" "$(cat "$T_TMP/reconf.out")"
if [ "$(inroot dpkg-statoverride --list | grep -c ' /usr/lib/imc/bin/imc-')" = 4 ] && [ "$(modes)" = "$WANT" ]; then
  pass "imc-setup --system and dpkg-reconfigure imc: the four modes recorded"
else fail "dpkg-reconfigure imc" "$(inroot dpkg-statoverride --list); $(modes)"; fi
inroot dpkg --purge imc > "$T_TMP/purge2.out" 2>&1 || fail "second dpkg --purge" "$(tail -10 "$T_TMP/purge2.out")"
check "second purge: /var/imc removed" test ! -e "$I"
echo "done at $(( $(date +%s) - start )) s"
t_done
