#!/bin/sh
# remote_env.sh -- the setuid imc-remote and its caller's environment, and
# who can read a route's password (docs/SECURITY.md 11.4d; remote/callenv.c,
# bin/imc-setup).  Root only: as another user it prints one SKIP line.
#
# The programs are copied out of the checkout and an instance made with
# imc-setup --system (imc-remote setuid and setgid imcr, 6710), as
# privsep.sh does.  A sink records every AUTH it receives.  Checked:
#   - a member of group imcr that is not imc-send's user (nobody with the
#     extra group imcr) running imc-remote with IMC_HOME pointing at a tree
#     of its own, whose route names the real password file: refused
#     (exit 100, a diagnostic naming IMC_HOME), the sink receives nothing;
#     the same for IMC_BIN, IMC_TLS_CAFILE and DNSCACHEIP;
#   - imc-send's user (imcs) with the real instance: delivered with AUTH;
#     with a tree of its own: refused (not root's);
#   - the password file: readable by imcr, not with imc-send's running
#     credentials (imcs, group imcq, extra group imcr), nor by nobody.
. "$(dirname "$0")/../lib.sh"
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: remote_env: needs root (system-mode users, setuid binaries)"
  exit 0
fi
. "$TOP/tests/netlib.sh"
for t in setpriv; do
  command -v "$t" > /dev/null || { fail setup "$t is not installed"; exit 1; }
done

# ---- the programs, outside the checkout; the instance
chmod 0755 "$W"
B=$T_TMP/bin
t_system_bin "$B" || exit 1
I=$T_TMP/i
t_system_instance "$B" "$I" "$(t_port)" || exit 1
SP=$(t_port)
start_sink ok "$(hip 3):$SP" --auth relay:s3cret-route --auth-log "$W/ok.auth" || exit 1
echo site.test > "$I/control/me"
echo "ok.test [$(hip 3)]:$SP tls=none auth=relay:routes.pass insecureauth" > "$I/control/routes"
echo s3cret-route > "$I/control/routes.pass"
chmod 0644 "$I/control/routes.pass"
"$B/imc-setup" --system "$I" > "$T_TMP/setup.out" 2>&1 || { fail setup "second imc-setup: $(cat "$T_TMP/setup.out")"; exit 1; }
check "imc-remote is setuid imcr (6710 imcr:imcr)" [ "$(stat -c '%a %U:%G' "$B/imc-remote")" = "6710 imcr:imcr" ]

# ---- a queue file and a job line (fd 3)
printf 'Subject: env\n\nhello\n' > "$W/m1"
chmod 0644 "$W/m1"
JOB=$(printf '3\t%s\tnormal\tsender@site.test\tdave@ok.test' "$(wc -c < "$W/m1" | tr -d ' ')")

# ---- a tree of the caller's own: its route sends the real password to the sink
FAKE=$T_TMP/fake
mkdir -p "$FAKE/control"
echo "ok.test [$(hip 3)]:$SP tls=none auth=relay:$I/control/routes.pass insecureauth" > "$FAKE/control/routes"
echo fake.test > "$FAKE/control/me"
chown -R nobody "$FAKE"
NOBODY="--reuid=nobody --regid=$(id -g nobody) --groups=imcr"
# as CREDS NAME VAR=VALUE...: imc-remote ok.test under setpriv CREDS with the variables;
# reports W/NAME.rep, stderr W/NAME.err, exit code W/NAME.rc
as() {
  _c=$1 _n=$2; shift 2
  echo "$JOB" | setpriv $_c env "$@" "$B/imc-remote" ok.test 3< "$W/m1" > "$W/$_n.rep" 2> "$W/$_n.err"
  echo $? > "$W/$_n.rc"
}
# none_recorded: the sink is up and has recorded no AUTH
none_recorded() { [ -e "$W/ok.ready" ] && [ ! -s "$W/ok.auth" ]; }

as "$NOBODY" c1 IMC_HOME="$FAKE"
check "another member of imcr with IMC_HOME: refused (exit 100)" [ "$(cat "$W/c1.rc")" = 100 ]
check "the refusal names IMC_HOME" grep -q '^imc-remote: fatal: refusing IMC_HOME from uid [0-9]*: only root and imc-send' "$W/c1.err"
check "the sink received no AUTH (the password did not leave)" none_recorded
for v in IMC_BIN="$FAKE" IMC_TLS_CAFILE="$FAKE/ca.pem" DNSCACHEIP=127.0.0.1; do
  as "$NOBODY" c2 "$v"
  check "another member of imcr with ${v%%=*}: refused (exit 100)" \
    sh -c "[ \"\$(cat '$W/c2.rc')\" = 100 ] && grep -q 'refusing ${v%%=*} ' '$W/c2.err'"
done
as "$NOBODY" c3
check "another member of imcr without variables: runs with the installed defaults (a report, exit 0)" \
  sh -c "[ \"\$(cat '$W/c3.rc')\" = 0 ] && grep -q '^[KZD]' '$W/c3.rep'"
check "still no AUTH at the sink" none_recorded

# ---- imc-send's user: the real instance is taken, a tree of its own is not
IMCS="--reuid=imcs --regid=imcq --groups=imcr"
as "$IMCS" c4 IMC_HOME="$I"
check "imc-send's user with the real instance: delivered (K)" grep -q '^K' "$W/c4.rep"
check "imc-send's user with the real instance: AUTH sent" grep -q '^relay s3cret-route tls=no$' "$W/ok.auth"
chown -R imcs "$FAKE"
as "$IMCS" c5 IMC_HOME="$FAKE"
check "imc-send's user with a tree of its own: refused (exit 100, not root's)" \
  sh -c "[ \"\$(cat '$W/c5.rc')\" = 100 ] && grep -q 'refusing IMC_HOME=.*not a path of root' '$W/c5.err'"
check "only the one AUTH at the sink" [ "$(wc -l < "$W/ok.auth")" = 1 ]

# ---- who can read the password file
reads() { setpriv $1 cat "$I/control/routes.pass" > /dev/null 2>&1; }
check "the password file is imcr:root 0400" [ "$(stat -c '%U:%G %a' "$I/control/routes.pass")" = "imcr:root 400" ]
check "imc-remote's user (imcr) can read the password file" reads "--reuid=imcr --regid=imcr --clear-groups"
check "imc-send's credentials (imcs, imcq, +imcr) cannot read it" sh -c "! setpriv $IMCS cat '$I/control/routes.pass' > /dev/null 2>&1"
check "nobody (+imcr) cannot read it" sh -c "! setpriv $NOBODY cat '$I/control/routes.pass' > /dev/null 2>&1"
t_done
