# lib.sh -- shared helpers for the shell integration tests (sourced).
#
# Each test makes its own instance in a temporary directory, starts what it
# needs, records every pid it starts, and stops them by pid on exit.
# Results are lines "PASS: name" / "FAIL: name: why" (counted by run.sh).

TOP=$(cd "$(dirname "$0")/../.." && pwd)
# T_BIN: the programs under test; with IMC_SAN=1 (tests/run.sh's san pass)
# the sanitized ones of san/bin, and imc-setup there names san/bin in run scripts
T_BIN=$TOP/bin
[ -z "${IMC_SAN:-}" ] || T_BIN=$TOP/san/bin
PATH=$T_BIN:$PATH
export PATH
PYTHON=${PYTHON:-/usr/bin/python3}
T_PIDS=""
T_SCANDIRS=""
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/imc-test.XXXXXX")
T_FAILS=0

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; T_FAILS=$((T_FAILS + 1)); }
# check NAME COMMAND...: PASS if the command succeeds
check() { _cn=$1; shift; if "$@"; then pass "$_cn"; else fail "$_cn" "command failed: $*"; fi; }

t_cleanup() {
  for d in $T_SCANDIRS; do
    s6-svscanctl -t "$d" 2>/dev/null
  done
  for p in $T_PIDS; do
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  wait 2>/dev/null
  for m in ${T_MOUNTS:-}; do umount -l "$m" 2>/dev/null; done
  [ -z "${IMC_SAN_DIR:-}" ] || t_san_scan
  [ -n "${KEEP:-}" ] || rm -rf "$T_TMP"
}
# t_san_scan (san pass): sanitizer reports that went to a stderr kept under
# T_TMP (s6-log directories, captured output) are copied to IMC_SAN_DIR, where
# run.sh counts them; GCC's UBSan writes only to stderr, whatever log_path says
# (the [ ] keeps the pattern from matching this file in a clone under T_TMP)
t_san_scan() {
  _sp='runtime[ ]error: |ERROR: (Address|UndefinedBehavior|Leak)Sanitizer'
  grep -rlaE "$_sp" "$T_TMP" 2>/dev/null | while read -r _f; do
    grep -aE -A 12 "$_sp" "$_f" > "$IMC_SAN_DIR/stderr.$(echo "${_f#"$T_TMP"/}" | tr / _)"
  done
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# t_port: a free TCP port between 20000 and 29999, chosen at random
t_port() {
  while :; do
    _p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 10000 ))
    ss -Hltn "( sport = :$_p )" 2>/dev/null | grep -q . || { echo "$_p"; return; }
  done
}

# t_instance DIR [imc-setup options]: a fresh user-mode instance; its SMTP
# port is a random free one (T_PORT) unless the options name one
t_instance() {
  _id=$1; shift
  case " $* " in *" --port "*) ;; *) T_PORT=$(t_port); set -- --port "$T_PORT" --no-submission "$@" ;; esac
  imc-setup --user "$@" "$_id" > "$T_TMP/setup.out" 2>&1 || { cat "$T_TMP/setup.out"; return 1; }
  # DNS stays on 127.0.0.0/8: without DNSCACHEIP (a test that needs DNS starts
  # dnsmasq first), 127.0.0.1, where nothing answers: lookups fail at once
  [ -e "$_id/env/DNSCACHEIP" ] || echo 127.0.0.1 > "$_id/env/DNSCACHEIP"
}

# t_start DIR: s6-svscan on DIR/service in the background; waits until send is up
t_start() {
  s6-svscan "$1/service" > "$T_TMP/svscan.out" 2>&1 &
  T_PIDS="$T_PIDS $!"
  T_SCANDIRS="$T_SCANDIRS $1/service"
  t_wait 10 test -p "$1/service/send/supervise/control" || return 1
  s6-svwait -U -t 10000 "$1/service/send" 2>/dev/null || sleep 1
}

# t_gone PATTERN: no process's command line matches (a function, so that no
# sh -c of ours carries the pattern in its own command line)
t_gone() { ! pgrep -f "$1" >/dev/null; }
t_stop() {
  s6-svscanctl -t "$1/service" 2>/dev/null
  t_wait 10 t_gone "s6-svscan $1/service"
}

# t_wait SECONDS COMMAND...: poll every 0.05 s until the command succeeds
t_wait() {
  _wn=$(( $1 * 20 )); shift
  while [ "$_wn" -gt 0 ]; do "$@" 2>/dev/null && return 0; sleep 0.05; _wn=$((_wn - 1)); done
  return 1
}

# t_system_bin DIR: bin/'s programs copied to DIR, outside the checkout, so that
# imc-setup --system makes them setuid there; T_TMP opened to the imc users
t_system_bin() {
  chmod 0711 "$T_TMP" && mkdir -m 0755 "$1" || { fail setup "cannot make $1"; return 1; }
  for _p in "$TOP"/bin/imc-*; do cp "$_p" "$1/" || { fail setup "cannot copy $_p"; return 1; }; done
  chmod 0755 "$1"/*
}
# t_system_instance BIN INSTANCE PORT: imc-setup --system of BIN on 127.0.0.1:PORT
t_system_instance() {
  "$1/imc-setup" --system --port "$3" --no-submission --listen 127.0.0.1 "$2" > "$T_TMP/setup.out" 2>&1 \
    || { fail setup "imc-setup --system: $(cat "$T_TMP/setup.out")"; return 1; }
}

# t_lacks FILE [GREP-OPTION...] PATTERN: FILE exists and has no line that
# matches (a negative check that cannot pass because the file is missing)
t_lacks() {
  _lf=$1; shift
  [ -f "$_lf" ] || { echo "t_lacks: $_lf does not exist" >&2; return 1; }
  ! grep -q "$@" "$_lf"
}

# count of files in a Maildir's new/
t_count() { find "$1/new" -type f 2>/dev/null | wc -l; }

# t_queue_empty DIR: nothing left under DIR/queue but the directories
t_queue_empty() { [ -z "$(find "$1/queue/new" "$1/queue/mess" "$1/queue/info" "$1/queue/tmp" -type f ! -path '*/info/held' 2>/dev/null)" ]; }

t_done() { [ "$T_FAILS" = 0 ]; }

# t_count_is MAILDIR N: exactly N messages in new/ (for t_wait, which reruns it)
t_count_is() { [ "$(t_count "$1")" = "$2" ]; }

# t_killer INSTANCE CHILD STOPFILE: in the background, until STOPFILE exists, kill
# imc-send (one time in three) or its CHILD processes (imc-local, imc-remote)
# with SIGKILL at random moments; STOPFILE.kills gets two lines, "imc-send N"
# and "CHILD N", the kills that hit so far (rewritten after each kill, so a
# test can go on until both happened).  s6-svstat -p says -1 while the
# service is down: never kill that.
t_killer() {
  _ks=0 _kc=0
  while [ ! -e "$3" ]; do
    sleep "0.$(( $(od -An -N1 -tu1 /dev/urandom) % 25 + 5 ))"
    _p=$(s6-svstat -p "$1/service/send" 2>/dev/null)
    case "$_p" in ''|*[!0-9]*|0|1) continue ;; esac
    if [ $(( $(od -An -N1 -tu1 /dev/urandom) % 3 )) = 0 ]; then
      kill -9 "$_p" 2>/dev/null || continue
      _ks=$((_ks + 1))
    else
      pkill -9 -P "$_p" "$2" 2>/dev/null || continue
      _kc=$((_kc + 1))
    fi
    printf 'imc-send %d\n%s %d\n' "$_ks" "$2" "$_kc" > "$3.kills.tmp" && mv "$3.kills.tmp" "$3.kills"
  done
  printf 'imc-send %d\n%s %d\n' "$_ks" "$2" "$_kc" > "$3.kills"
}
# t_bothkilled STOPFILE CHILD: t_killer has killed imc-send and CHILD at least once
t_bothkilled() { [ "$(t_kills "$1" imc-send)" -ge 1 ] && [ "$(t_kills "$1" "$2")" -ge 1 ]; }
# t_kills STOPFILE NAME: the kills of NAME that t_killer counted (0 if none)
t_kills() { awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' "$1.kills" 2>/dev/null || echo 0; }
