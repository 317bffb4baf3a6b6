#!/bin/sh
# run-one.sh BINARY SECONDS -- run one libFuzzer target for SECONDS on a
# copy of its corpus (tests/fuzz/corpus/NAME, which stays as checked in);
# print PASS or FAIL; a crashing input is saved under tests/out/.
# SECONDS 0 replays the corpus: every input once, nothing new generated, the
# same run every time (make check); a target without a corpus fails.
bin=$1 secs=$2
name=$(basename "$bin")
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/imc-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$top/tests/out"
[ -d "$top/tests/fuzz/corpus/$name" ] && cp -r "$top/tests/fuzz/corpus/$name/." "$work/corpus/"
if [ "$secs" = 0 ]; then
  n=$(find "$work/corpus" -type f | wc -l)
  [ "$n" -gt 0 ] || { echo "FAIL: $name: no corpus in tests/fuzz/corpus/$name"; exit 1; }
  if "$bin" -runs=0 -timeout=10 -rss_limit_mb=1024 \
       -artifact_prefix="$top/tests/out/$name-" "$work/corpus" > "$work/log" 2>&1; then
    echo "PASS: $name (replayed $n corpus inputs)"
    exit 0
  fi
  tail -40 "$work/log"
  echo "FAIL: $name: a corpus input crashes, saved as tests/out/$name-*"
  exit 1
fi
if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
     -artifact_prefix="$top/tests/out/$name-" "$work/corpus" > "$work/log" 2>&1; then
  echo "PASS: $name ($(grep -m1 'stat::number_of_executed_units' "$work/log" | awk '{print $2}') runs in ${secs}s)"
else
  tail -40 "$work/log"
  echo "FAIL: $name: crash or leak, input saved as tests/out/$name-*"
  exit 1
fi
