#!/bin/sh
# ctl.sh -- imc-ctl check, show, set and compile on an instance made by hand
# (just a control/ directory; imc-setup is not needed).
#
# check: a malformed line in every control file imc-ctl knows is reported as
# control/FILE:LINE and exits 100; the directory's errors likewise; a stale
# directory.cdb is warned about.  show marks defaults.  set replaces a file
# atomically and refuses a bad value, leaving the old file.  compile makes a
# cdb that the next compile replaces.  A file that cannot be read exits 111.
# As root: set keeps the owner, group and mode of the file it replaces, and a
# new secret (control/auth) gets what imc-setup --system gives it (root:imcd
# 0640): nobody can read it.
. "$(dirname "$0")/../lib.sh"

CTL=$T_BIN/imc-ctl
I=$T_TMP/i
C=$I/control
mkdir -p "$C"
IMC_HOME=$I
export IMC_HOME

# run COMMAND...: stdout to $T_TMP/out, stderr to $T_TMP/err, print the exit code
run() { "$@" > "$T_TMP/out" 2> "$T_TMP/err"; echo $?; }
# expect NAME CODE PATTERN COMMAND...: exit code CODE and a line of stdout+stderr matching PATTERN
expect() {
  n=$1 want=$2 pat=$3; shift 3
  got=$(run "$@")
  if [ "$got" != "$want" ]; then
    fail "$n" "exit $got, want $want: $* ($(cat "$T_TMP/out" "$T_TMP/err" | head -c 400))"
  elif [ -n "$pat" ] && ! cat "$T_TMP/out" "$T_TMP/err" | grep -q -- "$pat"; then
    fail "$n" "no line matching '$pat': $(cat "$T_TMP/out" "$T_TMP/err" | head -c 400)"
  else pass "$n"; fi
}
inode() { stat -c %i "$1"; }

[ -x "$CTL" ] || { fail build "bin/imc-ctl is not built"; exit 1; }

# ---- an empty instance: every default is good
expect check-empty 0 '^control: ok' "$CTL" check
expect show-defaults 0 '^databytes 26214400 (default)$' "$CTL" show
files=$(awk '{ print $1 }' "$T_TMP/out" | sort -u)
grep -q '^loglevel init=minimum addressing=minimum transfer=minimum smtp=minimum internal=minimum protocol=minimum archival=minimum$' "$T_TMP/out" \
  && pass show-loglevel || fail show-loglevel "$(grep '^loglevel' "$T_TMP/out")"
if grep -v '(default)$' "$T_TMP/out" | grep -qv '^loglevel init='; then
  fail show-all-default "a line without (default): $(grep -v '(default)$' "$T_TMP/out" | head -3)"
else pass show-all-default; fi
n=$(echo "$files" | wc -w)
[ "$n" -ge 20 ] && pass "show-lists-files ($n)" || fail show-lists-files "only $n files: $files"

# ---- a malformed line in each control file is reported with file and line
for f in $files; do
  printf 'x y z\n' > "$C/$f"
  expect "check-bad-$f" 100 "^control/$f:1: " "$CTL" check
  rm -f "$C/$f"
done
printf '# the limit\n\n10M\nbogus\n' > "$C/databytes"
expect check-line-number 100 '^control/databytes:4: not a number$' "$CTL" check
rm -f "$C/databytes"
printf 'maximum\nsmtp none\n' > "$C/loglevel"
expect show-loglevel-set 0 '^loglevel init=maximum addressing=maximum transfer=maximum smtp=none ' "$CTL" show
grep -q '^loglevel smtp none$' "$T_TMP/out" && pass show-set-value || fail show-set-value "$(grep '^loglevel' "$T_TMP/out")"
rm -f "$C/loglevel"

# ---- the directory
cat > "$C/directory" <<'EOF'
# line 1: a comment
mailbox alice "Alice"
frob bob
mailbox Alice "Again"
list staff alice, nobody
list a b
list b a
contact ext "External" not-an-address
mailbox carol
EOF
expect dir-unknown-keyword 100 '^control/directory:3: unknown keyword: frob$' "$CTL" check
grep -q '^control/directory:4: duplicate alias: Alice (first at line 2)$' "$T_TMP/out" && pass dir-duplicate || fail dir-duplicate "$(cat "$T_TMP/out")"
grep -q '^control/directory:5: unknown list member: nobody$' "$T_TMP/out" && pass dir-unknown-member || fail dir-unknown-member "$(cat "$T_TMP/out")"
grep -q '^control/directory:7: list loop: a -> b -> a$' "$T_TMP/out" && pass dir-loop || fail dir-loop "$(cat "$T_TMP/out")"
grep -q '^control/directory:8: bad address: not-an-address$' "$T_TMP/out" && pass dir-bad-address || fail dir-bad-address "$(cat "$T_TMP/out")"
grep -q '^control/directory:9: missing quoted display name$' "$T_TMP/out" && pass dir-no-display-name || fail dir-no-display-name "$(cat "$T_TMP/out")"
[ "$(grep -c '^control/directory:' "$T_TMP/out")" = 6 ] && pass dir-error-count || fail dir-error-count "$(cat "$T_TMP/out")"
expect compile-refuses 100 '^control/directory:3: unknown keyword: frob$' "$CTL" compile
[ ! -e "$C/directory.cdb" ] && pass compile-refuses-writes-nothing || fail compile-refuses-writes-nothing "directory.cdb exists"

cat > "$C/directory" <<'EOF'
mailbox alice "Alice Example"
mailbox bob "Bob Example"
list staff alice, Bob, carol@remote.example
contact ext "External" ext@remote.example
EOF
expect check-not-compiled 0 'directory.cdb is missing: run imc-ctl compile' "$CTL" check
expect compile 0 '^imc-ctl: compiled 4 entries$' "$CTL" compile
[ -s "$C/directory.cdb" ] && pass compile-writes-cdb || fail compile-writes-cdb "no directory.cdb"
ino1=$(inode "$C/directory.cdb")
expect check-compiled 0 '^control: ok$' "$CTL" check
grep -q 'older' "$T_TMP/err" && fail check-compiled-no-warning "$(cat "$T_TMP/err")" || pass check-compiled-no-warning
expect show-directory 0 '^directory 4 entries$' "$CTL" show
echo 'mailbox dave "Dave"' >> "$C/directory"
touch -d @1000000000 "$C/directory.cdb"
expect check-stale-cdb 0 'directory.cdb is older than directory: run imc-ctl compile' "$CTL" check
expect compile-again 0 '^imc-ctl: compiled 5 entries$' "$CTL" compile
ino2=$(inode "$C/directory.cdb")
[ "$ino1" != "$ino2" ] && pass compile-replaces || fail compile-replaces "same inode $ino1"
expect show-directory-again 0 '^directory 5 entries$' "$CTL" show
ls "$C" | grep -q tmp && fail compile-no-debris "$(ls "$C")" || pass compile-no-debris

# ---- set
expect set-databytes 0 '' "$CTL" set databytes 10M
[ "$(cat "$C/databytes")" = 10M ] && pass set-writes || fail set-writes "$(cat "$C/databytes")"
expect show-after-set 0 '^databytes 10M$' "$CTL" show
ino1=$(inode "$C/databytes")
expect set-again 0 '' "$CTL" set databytes 20M
ino2=$(inode "$C/databytes")
[ "$ino1" != "$ino2" ] && [ "$(cat "$C/databytes")" = 20M ] && pass set-atomic-rename || fail set-atomic-rename "inode $ino1 $ino2"
expect set-refuses-bad 100 '^control/databytes:1: not a number$' "$CTL" set databytes lots
[ "$(cat "$C/databytes")" = 20M ] && pass set-keeps-old || fail set-keeps-old "$(cat "$C/databytes")"
expect set-two-lines 0 '' "$CTL" set lifetime "urgent 1h" "normal 2d"
[ "$(cat "$C/lifetime")" = "$(printf 'urgent 1h\nnormal 2d')" ] && pass set-two-lines-content || fail set-two-lines-content "$(cat "$C/lifetime")"
expect set-one-line-only 100 '^control/me:2: only one line allowed$' "$CTL" set me a.example b.example
[ ! -e "$C/me" ] && pass set-refused-writes-nothing || fail set-refused-writes-nothing "control/me exists"
expect set-unknown-file 100 'unknown control file: nosuch' "$CTL" set nosuch 1
expect set-not-directory 100 'unknown control file: directory' "$CTL" set directory x
ls "$C" | grep -q tmp && fail set-no-debris "$(ls "$C")" || pass set-no-debris

# ---- usage
expect usage-none 100 'usage: imc-ctl check .*--dns.*|show|set FILE VALUE...|compile' "$CTL"
expect usage-unknown 100 'usage: imc-ctl check .*--dns.*|show|set FILE VALUE...|compile' "$CTL" frob
expect usage-set-short 100 'usage: imc-ctl' "$CTL" set databytes
expect usage-extra 100 'usage: imc-ctl' "$CTL" check extra

# ---- files that cannot be read or written: 111
# a directory where a file should be fails the read even for root
mv "$C/databytes" "$T_TMP/databytes"
mkdir "$C/databytes"
expect check-unreadable-dir 111 'fatal: unable to read control/databytes: Is a directory' "$CTL" check
expect show-unreadable-dir 111 'fatal: unable to read' "$CTL" show
rmdir "$C/databytes"
mv "$T_TMP/databytes" "$C/databytes"
mv "$C/directory" "$T_TMP/directory"
mkdir "$C/directory"
expect check-unreadable-directory 111 'fatal: unable to read control/directory: Is a directory' "$CTL" check
expect compile-unreadable-directory 111 'fatal: unable to compile control/directory' "$CTL" compile
rmdir "$C/directory"
mv "$T_TMP/directory" "$C/directory"
rm -f "$C/directory.cdb"
mkdir -p "$C/directory.cdb/x"
expect compile-unwritable 111 'fatal: unable to compile control/directory' "$CTL" compile
rm -rf "$C/directory.cdb"
ls "$C" | grep -q tmp && fail compile-failure-no-debris "$(ls "$C")" || pass compile-failure-no-debris

# the permission cases: chmod 000 does not stop root, so as root they run as
# nobody (setpriv) on the instance handed to nobody
AS=
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$T_TMP" && chown -R nobody:nogroup "$I"
  AS="setpriv --reuid=nobody --regid=nogroup --clear-groups"
  $AS test -x "$CTL" || AS=skip
fi
if [ "$AS" = skip ]; then
  echo "SKIP: permission cases: user nobody cannot run $CTL (a checkout nobody may not enter)"
else
  chmod 000 "$C/databytes"
  expect check-permission 111 'fatal: unable to read control/databytes: Permission denied' $AS "$CTL" check
  chmod 644 "$C/databytes"
  chmod 000 "$C/directory"
  expect check-permission-directory 111 'unable to read control/directory: Permission denied' $AS "$CTL" check
  chmod 644 "$C/directory"
  chmod 555 "$C"
  expect set-unwritable 111 'unable to write control/databytes' $AS "$CTL" set databytes 1M
  expect compile-permission 111 'unable to compile control/directory' $AS "$CTL" compile
  chmod 755 "$C"
fi


# ---- set and who may read the file (root only: system-mode users, chown)
# owners PATH: "user:group mode"
owners() { stat -c '%U:%G %a' "$1"; }
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: set-keeps-owners: needs root (imc-setup --system, chown)"
elif ! command -v setpriv > /dev/null; then
  fail set-keeps-owners "setpriv is not installed"
else
  chmod 0711 "$T_TMP"
  S=$T_TMP/sys
  mkdir -p "$S/control"
  hash='$6$ctl$zQcn0n0OCMtkq3qvxD5qMGAUWLzlBsgiHL2Kx4sEUrQtNkBZy0Tq6YJpw2JuD8M0hR8K1ZbQHfHqBB6vhqYwT/'
  echo "old:$hash" > "$S/control/auth"
  chmod 0644 "$S/control/auth"
  if ! imc-setup --system --port "$(t_port)" --no-submission "$S" > "$T_TMP/setup.out" 2>&1; then
    fail set-keeps-owners "imc-setup --system: $(cat "$T_TMP/setup.out")"
  else
    given=$(owners "$S/control/auth")
    check "imc-setup gives control/auth root:imcd 0640 ($given)" [ "$given" = "root:imcd 640" ]
    expect set-auth-system 0 '' env IMC_HOME="$S" "$CTL" set auth "alice:$hash"
    got=$(owners "$S/control/auth")
    check "set auth keeps what imc-setup gave it ($got)" [ "$got" = "$given" ]
    grep -q '^alice:' "$S/control/auth" && pass set-auth-content || fail set-auth-content "$(cat "$S/control/auth")"
    # nobody reads a public control file (the test can reach it) but not control/auth
    nobody_cat() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups cat "$1" > /dev/null 2>&1; }
    check "nobody can read control/me (the check below can reach the files)" nobody_cat "$S/control/me"
    check "nobody cannot read control/auth after set" sh -c "! setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups cat '$S/control/auth' > /dev/null 2>&1"
    # a new control/auth: what imc-setup would give it
    rm -f "$S/control/auth"
    expect set-auth-new 0 '' env IMC_HOME="$S" "$CTL" set auth "bob:$hash"
    got=$(owners "$S/control/auth")
    check "a new control/auth is root:imcd 0640 ($got)" [ "$got" = "root:imcd 640" ]
    check "nobody cannot read a new control/auth" sh -c "! setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups cat '$S/control/auth' > /dev/null 2>&1"
    # an administrator's stricter mode and other owners are kept
    chmod 0600 "$S/control/auth"
    expect set-auth-0600 0 '' env IMC_HOME="$S" "$CTL" set auth "carol:$hash"
    got=$(owners "$S/control/auth")
    check "set keeps a 0600 control/auth 0600 ($got)" [ "$got" = "root:imcd 600" ]
    chown nobody:nogroup "$S/control/auth" 2>/dev/null || chown nobody "$S/control/auth"
    kept=$(owners "$S/control/auth")      # not $want: expect sets it
    expect set-auth-owner 0 '' env IMC_HOME="$S" "$CTL" set auth "dave:$hash"
    got=$(owners "$S/control/auth")
    check "set keeps another owner and group ($got)" [ "$got" = "$kept" ]
    # any other new file: the usual 0644 of root
    rm -f "$S/control/databytes"
    expect set-new-plain 0 '' env IMC_HOME="$S" "$CTL" set databytes 5M
    got=$(owners "$S/control/databytes")
    check "a new control/databytes is root:root 0644 ($got)" [ "$got" = "root:root 644" ]
    # a user-mode instance has no imcd: a new secret is the caller's 0600
    U=$T_TMP/usr
    mkdir -p "$U/control"
    expect set-auth-user-mode 0 '' env IMC_HOME="$U" "$CTL" set auth "erin:$hash"
    got=$(owners "$U/control/auth")
    check "a new control/auth in a user-mode instance is 0600 ($got)" [ "${got##* }" = 600 ]
    { ls -a "$S/control"; ls -a "$U/control"; } | grep -q tmp && fail set-owner-no-debris "$(ls -a "$S/control")" || pass set-owner-no-debris
  fi
fi

t_done
