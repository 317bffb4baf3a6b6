#!/bin/sh
# run-all.sh SECONDS [BINARY...] -- run libFuzzer targets for SECONDS each,
# FUZZ_JOBS at a time (default 2, one per core), each through run-one.sh on a
# copy of its checked-in corpus.  Without BINARY, every fuzz/bin/fuzz_*.
# The output of each target (its PASS or FAIL line, and the end of its log
# when it fails) is printed once its batch is done, in the order of the
# arguments, so the output does not depend on which target finishes first.
# Exit 0 when every target passed, 1 otherwise.
secs=${1:?usage: run-all.sh SECONDS [BINARY...]}
shift
jobs=${FUZZ_JOBS:-2}
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ $# -eq 0 ]; then
  for t in "$top"/fuzz/bin/fuzz_*; do [ -x "$t" ] && set -- "$@" "$t"; done
fi
[ $# -gt 0 ] || { echo "FAIL: fuzz: no fuzz targets (make fuzzers)"; exit 1; }
out=$(mktemp -d "${TMPDIR:-/tmp}/imc-fuzz-all.XXXXXX")
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$out"' EXIT
trap 'exit 1' INT TERM
failed=0 i=0 batch=

# wait for the running batch, then print its outputs in order
finish() {
  for p in $pids; do wait "$p" || failed=1; done
  pids=
  for k in $batch; do cat "$out/$k"; done
  batch=
}

for t in "$@"; do
  i=$((i + 1))
  sh "$top/tests/fuzz/run-one.sh" "$t" "$secs" > "$out/$i" 2>&1 &
  pids="$pids $!"
  batch="$batch $i"
  [ $((i % jobs)) -eq 0 ] && finish
done
finish
exit $failed
