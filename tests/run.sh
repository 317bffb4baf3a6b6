#!/bin/sh
# run.sh -- run every test and end with the line
# "N passed, N failed, N skipped".
#
# A test is a unit test binary (build/tests/t_*, and its sanitized twin in
# san/tests/) or an integration test (tests/integration/*.sh or *.py).  Each
# prints "PASS: name" and "FAIL: name: why" lines, and "SKIP: name: why" for
# a check it cannot run here.  A test that exits non-zero without printing a
# FAIL line counts as one failure; so does a test that prints no PASS, FAIL
# or SKIP line at all (it tested nothing).  The output of every test is kept
# in tests/out/NAME.log.
#   TESTS=unit|fuzz|integration|san   run only that kind;   ONLY=pattern  tests whose name matches
#   TESTS=deb   the Debian package tests (tests/deb/*.sh, make check-deb), only when asked for
#
# san: the integration tests once more, with the programs of san/bin (built
# with AddressSanitizer and UndefinedBehaviorSanitizer: make sanbin).  It runs
# with TESTS=san, or after every other kind when TESTS is unset and IMC_SAN=1
# (make check).  Each test gets IMC_SAN=1, so that tests/lib.sh puts san/bin
# first in PATH (imc-setup there names san/bin in the run scripts it writes),
# and ASAN_OPTIONS with log_path=tests/out/san/NAME/asan, which the daemons
# under s6 inherit through s6-svscan.  GCC's UBSan ignores log_path and
# writes to stderr: tests/lib.sh copies such reports from the test's files
# (s6-log directories included) to tests/out/san/NAME/stderr.*, and the
# test's own output is searched for them too.  Any file there is a failure,
# "FAIL: sanitizer reports: FILES".  A process with a report aborts.
# Leak detection is off: the programs exit with their buffers still
# allocated, by design.  verify_asan_link_order=0 lets a daemon run with
# libfaketime preloaded ahead of the ASan runtime (tests/integration/outbound.sh).
#   SAN_SKIP: tests that do not fit the sanitizers, run in the plain pass
#   only: load.sh (1,000 concurrent sessions: 1,000 ASan processes, and
#   memory bounds that hold only without ASan's shadow memory).
cd "$(dirname "$0")/.." || exit 111
top=$(pwd)
# the plain passes run bin/: IMC_SAN is for the san pass alone
san=${IMC_SAN:-}
unset IMC_SAN IMC_SAN_DIR
out=$top/tests/out
mkdir -p "$out"
pass=0 fail=0 skip=0
PATH=$top/bin:$PATH
export PATH
PYTHON=/usr/bin/python3
export PYTHON

run_one() {
  name=$1; shift
  case "$name" in *${ONLY:-}*) ;; *) return ;; esac
  log=$out/$(echo "$name" | tr / _).log
  start=$(date +%s)
  "$@" > "$log" 2>&1
  rc=$?
  p=$(grep -c '^PASS: ' "$log")
  f=$(grep -c '^FAIL: ' "$log")
  s=$(grep -c '^SKIP: ' "$log")
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; echo "FAIL: $name: exit code $rc" >> "$log"; fi
  if [ "$p$f$s" = 000 ]; then f=1; echo "FAIL: $name: printed no PASS, FAIL or SKIP line" >> "$log"; fi
  pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
  secs=$(( $(date +%s) - start ))
  sk=; [ "$s" = 0 ] || sk=", $s skipped"
  if [ "$f" = 0 ]; then echo "ok   $name ($p passed$sk, ${secs}s)"
  else echo "FAIL $name ($p passed, $f failed, ${secs}s; log: tests/out/$(basename "$log"))"
       grep '^FAIL: ' "$log" | head -20 | sed 's/^/     /'
       tail -15 "$log" | sed 's/^/     | /'
  fi
}

if [ -z "${TESTS:-}" ] || [ "$TESTS" = unit ]; then
  for t in build/tests/t_*; do [ -x "$t" ] && run_one "unit/$(basename "$t")" "$t"; done
  for t in san/tests/t_*; do
    [ -x "$t" ] && ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 run_one "san/$(basename "$t")" "$t"
  done
fi
# fuzz targets: make check replays each checked-in corpus tests/fuzz/corpus/NAME
# (FUZZ_SECS unset or 0: every input once, the same run every time); make fuzz
# runs each target for FUZZ_SECS (60) on a copy of its corpus, two at a time
# (run-all.sh); a crash input is kept in tests/out/
if [ -z "${TESTS:-}" ] || [ "$TESTS" = fuzz ]; then
  fuzzers=
  for t in fuzz/bin/fuzz_*; do
    [ -x "$t" ] || continue
    case "fuzz/$(basename "$t")" in *${ONLY:-}*) fuzzers="$fuzzers $t" ;; esac
  done
  if [ -n "$fuzzers" ]; then
    run_one "fuzz/${ONLY:-all}" sh tests/fuzz/run-all.sh "${FUZZ_SECS:-0}" $fuzzers
  fi
fi
if [ -z "${TESTS:-}" ] || [ "$TESTS" = integration ]; then
  for t in tests/integration/*.sh tests/integration/*.py; do
    [ -f "$t" ] || continue
    case "$t" in *.py) run_one "$t" "$PYTHON" "$t" ;; *) run_one "$t" sh "$t" ;; esac
  done
fi
if [ "${TESTS:-}" = deb ]; then
  for t in tests/deb/*.sh; do [ -f "$t" ] && run_one "$t" sh "$t"; done
fi

# san_test DIR COMMAND...: the command (one integration test) with san/bin and
# the sanitizers' log_path in DIR; each report file left there is a FAIL
san_test() {
  _d=$1; shift
  ( IMC_SAN=1 IMC_SAN_DIR=$_d IMC_CONVERT_BIN=$top/san/bin/imc-convert
    ASAN_OPTIONS=log_path=$_d/asan:abort_on_error=1:detect_leaks=0:verify_asan_link_order=0:disable_coredump=1
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1
    export IMC_SAN IMC_SAN_DIR IMC_CONVERT_BIN ASAN_OPTIONS UBSAN_OPTIONS
    exec "$@" )
  _rc=$?
  grep -aE -A 12 "$SAN_PATTERN" "$log" > "$_d/stderr.test" || rm -f "$_d/stderr.test"
  san_reports "$_d"
  return $_rc
}
# [ ]: the pattern must not match its own text (tests/lib.sh, in a clone)
SAN_PATTERN='runtime[ ]error: |ERROR: (Address|UndefinedBehavior|Leak)Sanitizer'
# san_reports DIR...: a FAIL line naming the report files under DIR not yet
# named (they are listed in tests/out/san/reported), and their main lines
san_reports() {
  _new=$(find "$@" -type f \( -name 'asan.*' -o -name 'stderr.*' \) 2>/dev/null | sort | grep -vxF -f "$out/san/reported")
  [ -n "$_new" ] || return 0
  echo "$_new" >> "$out/san/reported"
  for _f in $_new; do
    echo "---- $_f"
    grep -aE "$SAN_PATTERN|^ *#[0-9]+ |^SUMMARY" "$_f" | head -20
  done
  echo "FAIL: sanitizer reports: $(echo $_new | sed "s|$top/||g")"
}
# late_reports DIR: san_reports, and a PASS line when there is none
late_reports() {
  _lr=$(san_reports "$@")
  if [ -n "$_lr" ]; then echo "$_lr"; else echo "PASS: no sanitizer report written after its test ended"; fi
}
san_one() {
  case "$1" in *${ONLY:-}*) ;; *) return ;; esac
  _sn=$1 _sd=$out/san/$(basename "$1"); shift
  rm -rf "$_sd" && mkdir -p "$_sd" && chmod 1777 "$_sd" || exit 111
  run_one "san/$_sn" san_test "$_sd" "$@"
}
SAN_SKIP="load.sh"
if { [ -z "${TESTS:-}" ] && [ -n "$san" ]; } || [ "${TESTS:-}" = san ]; then
  if [ ! -x san/bin/imc-send ]; then
    echo "FAIL san: san/bin is not built (make sanbin)"; fail=$((fail + 1))
  else
    mkdir -p "$out/san" && : > "$out/san/reported"
    for t in tests/integration/*.sh tests/integration/*.py; do
      [ -f "$t" ] || continue
      case " $SAN_SKIP " in *" $(basename "$t") "*)
        case "$t" in *${ONLY:-}*) echo "skip san/$t (SAN_SKIP)" ;; esac; continue ;; esac
      case "$t" in *.py) san_one "$t" "$PYTHON" "$t" ;; *) san_one "$t" sh "$t" ;; esac
    done
    # reports written after their test ended (a process that outlived it)
    sleep 1
    run_one san/late-reports late_reports "$out/san"
  fi
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
