#!/bin/sh
# run.sh -- run every test and end with the line "N passed, N failed".
#
# A test is a unit test binary (build/tests/t_*, and its sanitized twin in
# san/tests/) or an integration test (tests/integration/*.sh or *.py).  Each
# prints "PASS: name" and "FAIL: name: why" lines; a test that exits
# non-zero without printing a FAIL line counts as one failure.  The output
# of every test is kept in tests/out/NAME.log.
#   TESTS=unit|fuzz|integration   run only that kind;   ONLY=pattern  tests whose name matches
cd "$(dirname "$0")/.." || exit 111
top=$(pwd)
out=$top/tests/out
mkdir -p "$out"
pass=0 fail=0
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
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; echo "FAIL: $name: exit code $rc" >> "$log"; fi
  pass=$((pass + p)); fail=$((fail + f))
  secs=$(( $(date +%s) - start ))
  if [ "$f" = 0 ]; then echo "ok   $name ($p passed, ${secs}s)"
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
# fuzz targets: each for FUZZ_SECS (10 in make check, 60 in make fuzz) on a copy
# of its checked-in corpus tests/fuzz/corpus/NAME; a crash input is kept in tests/out/
if [ -z "${TESTS:-}" ] || [ "$TESTS" = fuzz ]; then
  for t in fuzz/bin/fuzz_*; do
    [ -x "$t" ] || continue
    n=$(basename "$t")
    run_one "fuzz/$n" sh tests/fuzz/run-one.sh "$t" "${FUZZ_SECS:-10}"
  done
fi
if [ -z "${TESTS:-}" ] || [ "$TESTS" = integration ]; then
  for t in tests/integration/*.sh tests/integration/*.py; do
    [ -f "$t" ] || continue
    case "$t" in *.py) run_one "$t" "$PYTHON" "$t" ;; *) run_one "$t" sh "$t" ;; esac
  done
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
