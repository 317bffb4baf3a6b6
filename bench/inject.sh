#!/usr/bin/env bash
# bench/inject.sh -- how fast imc takes in and delivers local mail, next to the disk's limit.
# A benchmark, not a test: it prints figures and never passes or fails.  `make bench` runs it.
#
# Everything is measured in ONE run, so that the ratios compare figures taken on the same
# (noisy, shared, 2-core) machine within minutes of each other:
#
#  1. Raw limit (bench/probe.c "disk"): create a 4 KB file, fsync, rename, fsync the directory,
#     unlink the file 256 commits later (as a queue deletes delivered mail) -- what imc-queue does
#     per message.  1 process, then P processes (each in its own subdirectory), PROBE_SECS each,
#     on the filesystem of the instance.  Figure: commits per second.
#  2. Local injection, empty queue, send service running.  N messages of 4 KB by 1 injector,
#     then N by P injectors (N/P each).  An injector is a bash loop of
#         sendmail -f sender@bench.example rcptK@bench.example < msg
#     (a fork+exec of imc-inject, which runs imc-queue: the real cost of a local submission),
#     K spreading the recipients over MBOXES Maildirs.  Figures:
#       end to end = N / (first injection started .. last message renamed into mail/*/new, the
#                    newest ctime there)
#       injection  = N / (first injection started .. every injector finished)
#  3. Full queue.  Send service down (s6-svc -d, s6-svwait -D); Q messages by P injectors.
#     Injection rate per BLOCK messages, from the ctimes of the queue/new files (set by
#     imc-queue's commit rename): is the last block (BLOCK..Q already queued) slower than the
#     first?  Then send up (s6-svc -u) and the drain: queue files (queue/new + queue/mess/*)
#     counted every second, a rate per WINDOW seconds until the queue is empty.
#  4. Summary: every figure and the ratios, also written to $OUT/summary.txt.
#
# CPU, per phase (printed as milliseconds per message):
#   instance = user+sys of s6-svscan and all its descendants (s6-supervise, imc-send, imc-local,
#              imc-pickup, s6-log), including the children they reaped (cutime/cstime)
#              ("probe treecpu", read at the start and the end of the phase);
#   submit   = user+sys of the injector shells and of their reaped children (bash's fork,
#              imc-inject, imc-queue), from /proc/$BASHPID/stat at the end of each loop;
#   machine  = busy ticks of /proc/stat (user nice system irq softirq steal) over the phase:
#              everything on the machine, the benchmark's own polling and other users included.
#
# Environment: N=10000 Q=100000 P=10 MBOXES=10 BLOCK=min(10000,Q/10) PROBE_SECS=10 WINDOW=10
#   STALL=300 (seconds without progress before a wait gives up)  BENCH_DIR=/var/tmp (instance
#   and probe directory: mktemp -d there)  OUT=/var/tmp/imc-bench.TIMESTAMP (raw data, summary)
#   KEEP=1 (keep the instance afterwards).
# Raw data in $OUT: probe.txt, results.txt (every figure as "key value"), *.inj.* (per
# injector: utime stime cutime cstime failures, in ticks), full.times (queue/new ctimes),
# full.blocks, drain.tsv, log.txt, control/, msg.4k, send.log.
set -euo pipefail
export LC_ALL=C

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PATH=$TOP/bin:$PATH
export PATH

N=${N:-10000}
Q=${Q:-100000}
P=${P:-10}
MBOXES=${MBOXES:-10}
BLOCK=${BLOCK:-$(( Q / 10 < 10000 ? Q / 10 : 10000 ))}
PROBE_SECS=${PROBE_SECS:-10}
WINDOW=${WINDOW:-10}
STALL=${STALL:-300}
BENCH_DIR=${BENCH_DIR:-/var/tmp}
OUT=${OUT:-/var/tmp/imc-bench.$(date +%Y%m%dT%H%M%S)}
KEEP=${KEEP:-0}
SENDER=sender@bench.example
HZ=$(getconf CLK_TCK)

TMPD='' INST='' PROBE='' MSG='' SVSCAN_PID=''
INJ_PIDS=()
declare -A R=()          # every figure, by name; written to $OUT/results.txt

note() { echo "# $*" >&2; echo "$*" >> "$OUT/log.txt"; }
die() { note "FATAL: $*"; exit 1; }

# ---------------------------------------------------------------- arithmetic (awk: floats)
# rate COUNT T0 T1: COUNT / (T1 - T0), or n/a
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { if (b - a > 0) printf "%.1f", n / (b - a); else printf "n/a" }'; }
# ratio A B: A / B with two decimals, or n/a
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "n/a" && b != "n/a" && b + 0 > 0) printf "%.2f", a / b; else printf "n/a" }'; }
# secs T0 T1: T1 - T0 with two decimals
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

# ---------------------------------------------------------------- counters
mail_count() { "$PROBE" count "$INST"/mail/*/new; }
queue_count() { "$PROBE" count "$INST/queue/new" "$INST"/queue/mess/?; }
# the newest ctime in mail/*/new: when the last message arrived
newest_mail() { "$PROBE" times "$INST"/mail/*/new | awk '$1 > m { m = $1 } END { printf "%.6f", m }'; }
sys_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat; }

# cpu_mark TAG: the instance's and the machine's CPU counters now, into R[TAG.*]
cpu_mark() {
  read -r "R[$1.inst_user]" "R[$1.inst_sys]" < <("$PROBE" treecpu "$SVSCAN_PID")
  read -r "R[$1.busy]" "R[$1.total]" < <(sys_busy)
}

# cpu_account TAG MSGS: CPU used between the marks TAG.0 and TAG.1, per message, into R[TAG.*]
cpu_account() {
  local t=$1 k v
  while read -r k v; do R[$t.$k]=$v; done < <(awk -v n="$2" -v hz="$HZ" -v sub_cpu="${R[$t.sub_cpu]:-0}" \
    -v i0="${R[$t.0.inst_user]} ${R[$t.0.inst_sys]}" -v i1="${R[$t.1.inst_user]} ${R[$t.1.inst_sys]}" \
    -v b0="${R[$t.0.busy]} ${R[$t.0.total]}" -v b1="${R[$t.1.busy]} ${R[$t.1.total]}" 'BEGIN {
      split(i0, a); split(i1, b); split(b0, c); split(b1, d)
      inst = b[1] + b[2] - a[1] - a[2]; if (inst < 0) inst = 0     # tick rounding when a process is reaped
      mach = (d[1] - c[1]) / hz; tot = (d[2] - c[2]) / hz
      printf "inst_cpu %.2f\ninst_user_s %.2f\ninst_sys_s %.2f\nmach_cpu %.2f\n", inst, b[1] - a[1], b[2] - a[2], mach
      pct = (tot > 0) ? 100 * mach / tot : 0
      printf "busy_pct %.0f\n", pct
      printf "inst_ms %.2f\nsub_ms %.2f\nmach_ms %.2f\n", 1000 * inst / n, 1000 * sub_cpu / n, 1000 * mach / n
    }')
}

# wait_count FUNC CMP TARGET: poll FUNC (prints a count) every 0.2 s until "count -CMP TARGET";
# 1 when the count has not moved for STALL seconds
wait_count() {
  local fn=$1 cmp=$2 want=$3 n last=-1 since=$SECONDS
  while :; do
    n=$($fn)
    case $cmp in ge) ((n >= want)) && return 0 ;; le) ((n <= want)) && return 0 ;; esac
    if [ "$n" != "$last" ]; then last=$n since=$SECONDS
    elif (( SECONDS - since >= STALL )); then note "$fn stuck at $n for ${STALL}s (want -$cmp $want)"; return 1; fi
    sleep 0.2
  done
}

# ---------------------------------------------------------------- setup and teardown
build_probe() {
  PROBE=$TMPD/probe
  gcc -O2 -Wall -Wextra -o "$PROBE" "$TOP/bench/probe.c" || die "cannot build bench/probe.c"
}

# a 4 KB message (headers and printable text; no line is a lone ".")
make_message() {
  MSG=$OUT/msg.4k
  awk -v size=4096 'BEGIN {
    h = "From: Bench Sender <sender@bench.example>\nTo: Bench Recipient <rcpt@bench.example>\nSubject: imc benchmark message, 4 KB of text\n\n"
    printf "%s", h; n = length(h)
    t = "the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs"
    for (i = 1; n + 76 <= size; i++) { printf "%s\n", substr(sprintf("%04d %s", i, t), 1, 75); n += 76 }
    if (n < size) printf "%s\n", substr(t, 1, size - n - 1)
  }' > "$MSG"
  [ "$(stat -c %s "$MSG")" = 4096 ] || die "message is not 4096 bytes"
}

make_instance() {
  local k
  INST=$TMPD/i
  export IMC_HOME=$INST
  imc-setup --user "$INST" > "$OUT/setup.out" 2>&1 || die "imc-setup failed: $(cat "$OUT/setup.out")"
  echo bench.example > "$INST/control/me"
  echo bench.example > "$INST/control/sitedomains"
  for ((k = 1; k <= MBOXES; k++)); do
    echo "mailbox rcpt$k \"Bench Recipient $k\"" >> "$INST/control/directory"
    mkdir -p "$INST/mail/rcpt$k/tmp" "$INST/mail/rcpt$k/new" "$INST/mail/rcpt$k/cur"
  done
  imc-ctl compile > "$OUT/compile.out" 2>&1 || die "imc-ctl compile failed: $(cat "$OUT/compile.out")"
  cp -r "$INST/control" "$OUT/control"
}

start_instance() {
  s6-svscan "$INST/service" > "$OUT/svscan.out" 2>&1 &
  SVSCAN_PID=$!
  for _ in $(seq 200); do [ -p "$INST/service/send/supervise/control" ] && break; sleep 0.05; done
  s6-svwait -U -t 10000 "$INST/service/send" || die "send service did not come up"
  note "s6-svscan pid $SVSCAN_PID"
}

# stop what we started, by pid; s6-svscanctl -t takes the supervisors and services down
on_exit() {
  local p k kids=''
  for p in "${INJ_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "$SVSCAN_PID" ] && kill -0 "$SVSCAN_PID" 2>/dev/null; then
    kids=$(ps -o pid= --ppid "$SVSCAN_PID" 2>/dev/null || true)
    s6-svscanctl -t "$INST/service" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SVSCAN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SVSCAN_PID" 2>/dev/null || true
    wait "$SVSCAN_PID" 2>/dev/null || true
    for _ in $(seq 50); do
      p=; for k in $kids; do kill -0 "$k" 2>/dev/null && p=$k; done
      [ -z "$p" ] && break; sleep 0.1
    done
    for k in $kids; do kill "$k" 2>/dev/null || true; done   # only if a supervisor outlived s6-svscan
  fi
  if [ -n "$INST" ] && [ -f "$INST/log/send/current" ]; then cp "$INST/log/send/current" "$OUT/send.log"; fi
  if ((${#R[@]})); then for k in "${!R[@]}"; do echo "$k ${R[$k]}"; done | sort > "$OUT/results.txt"; fi
  if [ -n "$TMPD" ]; then
    if [ "$KEEP" = 1 ]; then note "kept the instance: $INST"; else rm -rf "$TMPD"; fi
  fi
}

# ---------------------------------------------------------------- 1. raw disk limit
run_disk_probe() {
  local np line
  mkdir -p "$TMPD/disk"
  for np in 1 "$P"; do
    line=$("$PROBE" disk "$TMPD/disk" "$np" "$PROBE_SECS") || die "probe failed"
    echo "$line" >> "$OUT/probe.txt"
    [[ $line =~ ops_per_s=([0-9.]+) ]] && R[raw.$np.ops]=${BASH_REMATCH[1]}
    [[ $line =~ cpu_ms_per_op=([0-9.]+) ]] && R[raw.$np.cpu_ms]=${BASH_REMATCH[1]}
    note "raw disk, $np process(es): $line"
  done
}

# ---------------------------------------------------------------- injectors
# injector FIRST COUNT TAG: COUNT messages to rcpt((FIRST+i) mod MBOXES + 1); then writes
# "utime stime cutime cstime failures" (ticks) of this shell to $OUT/TAG.inj.FIRST
injector() {
  local first=$1 count=$2 tag=$3 i fails=0 st f
  for ((i = 0; i < count; i++)); do
    sendmail -f "$SENDER" "rcpt$(( (first + i) % MBOXES + 1 ))@bench.example" < "$MSG" || fails=$((fails + 1))
  done
  read -r st < "/proc/$BASHPID/stat"
  read -r -a f <<< "${st##*) }"      # fields from the 3rd (state): utime is f[11]
  echo "${f[11]} ${f[12]} ${f[13]} ${f[14]} $fails" > "$OUT/$tag.inj.$first"
}

# inject_parallel NPAR TOTAL TAG: NPAR injectors share TOTAL messages; R[TAG.t0 t1 sub_cpu fails]
inject_parallel() {
  local np=$1 total=$2 tag=$3 k
  R[$tag.t0]=$EPOCHREALTIME
  for ((k = 0; k < np; k++)); do
    injector "$k" $(( total / np + (k < total % np ? 1 : 0) )) "$tag" &
    INJ_PIDS+=($!)
  done
  wait "${INJ_PIDS[@]}"
  R[$tag.t1]=$EPOCHREALTIME
  INJ_PIDS=()
  read -r "R[$tag.sub_cpu]" "R[$tag.fails]" < <(cat "$OUT/$tag".inj.* |
    awk -v hz="$HZ" '{ c += $1 + $2 + $3 + $4; f += $5 } END { printf "%.2f %d\n", c / hz, f }')
}

# ---------------------------------------------------------------- 2. empty queue, send running
# phase_local NPAR TAG: N messages by NPAR injectors, until all are in the Maildirs
phase_local() {
  local np=$1 t=$2 before
  before=$(mail_count)
  cpu_mark "$t.0"
  inject_parallel "$np" "$N" "$t"
  wait_count mail_count ge $((before + N)) || true
  wait_count queue_count le 0 || true
  R[$t.t2]=$(newest_mail)
  cpu_mark "$t.1"
  R[$t.delivered]=$(( $(mail_count) - before ))
  R[$t.inject_s]=$(secs "${R[$t.t0]}" "${R[$t.t1]}")
  R[$t.e2e_s]=$(secs "${R[$t.t0]}" "${R[$t.t2]}")
  R[$t.inject_rate]=$(rate "$N" "${R[$t.t0]}" "${R[$t.t1]}")
  R[$t.e2e_rate]=$(rate "$N" "${R[$t.t0]}" "${R[$t.t2]}")
  cpu_account "$t" "$N"
  note "$t: $np injector(s), $N messages: injection ${R[$t.inject_rate]} msg/s, end to end ${R[$t.e2e_rate]} msg/s," \
       "delivered ${R[$t.delivered]}, failures ${R[$t.fails]}"
}

# ---------------------------------------------------------------- 3. full queue, then drain
# block_rates FILE T0: injection rate per BLOCK from the sorted commit times in FILE;
# lines "block queued_before seconds msg_per_s"
block_rates() {
  awk -v b="$BLOCK" -v t0="$2" '
    { t[NR] = $1 }
    END {
      prev = t0
      for (s = 0; s < NR; s = e) {
        e = s + b; if (e > NR) e = NR
        r = (t[e] > prev) ? sprintf("%.1f", (e - s) / (t[e] - prev)) : "n/a"
        printf "%d\t%d\t%.3f\t%s\n", s / b + 1, s, t[e] - prev, r
        prev = t[e]
      }
    }' "$1"
}

phase_fullqueue() {
  s6-svc -d "$INST/service/send"
  s6-svwait -D -t 60000 "$INST/service/send" || die "send service did not go down"
  cpu_mark full.0
  inject_parallel "$P" "$Q" full
  cpu_mark full.1
  "$PROBE" times "$INST/queue/new" | sort -n > "$OUT/full.times"
  R[full.queued]=$(wc -l < "$OUT/full.times")
  { echo -e "block\tqueued_before\tseconds\tmsg_per_s"; block_rates "$OUT/full.times" "${R[full.t0]}"; } > "$OUT/full.blocks"
  R[full.first_block]=$(awk 'NR == 2 { print $4 }' "$OUT/full.blocks")
  R[full.last_block]=$(awk 'END { print $4 }' "$OUT/full.blocks")
  R[full.last_before]=$(awk 'END { print $2 }' "$OUT/full.blocks")
  R[full.blocks]=$(awk 'NR > 1 { printf "%s%s", sep, $4; sep = " " }' "$OUT/full.blocks")
  R[full.inject_s]=$(secs "${R[full.t0]}" "${R[full.t1]}")
  R[full.inject_rate]=$(rate "$Q" "${R[full.t0]}" "${R[full.t1]}")
  cpu_account full "$Q"
  note "full: $Q messages by $P injectors, send down: ${R[full.inject_rate]} msg/s; per $BLOCK: ${R[full.blocks]}"
}

# drain_window K START END LEFT DELIVERED FULL: one line of $OUT/drain.tsv
drain_window() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$(secs "${R[drain.t0]}" "$2")" "$(secs "${R[drain.t0]}" "$3")" \
    "$4" "$5" "$(rate "$5" "$2" "$3")" "$6" >> "$OUT/drain.tsv"
}

phase_drain() {
  local total n prev k=1 wstart wend_us last_change=$SECONDS t
  total=$(queue_count)
  prev=$total
  echo -e "window\tstart_s\tend_s\tqueued_at_end\tdelivered\tmsg_per_s\tfull_window" > "$OUT/drain.tsv"
  cpu_mark drain.0
  R[drain.t0]=$EPOCHREALTIME
  s6-svc -u "$INST/service/send"
  wstart=${R[drain.t0]}
  wend_us=$(( $(now_us) + WINDOW * 1000000 ))
  while :; do
    sleep 1
    n=$(queue_count)
    [ "$n" != "$prev" ] && last_change=$SECONDS
    if [ "$n" = 0 ]; then
      t=$(newest_mail)
      drain_window "$k" "$wstart" "$t" 0 "$prev" 0
      break
    fi
    if (( $(now_us) >= wend_us )); then
      t=$EPOCHREALTIME
      drain_window "$k" "$wstart" "$t" "$n" $((prev - n)) 1
      prev=$n wstart=$t k=$((k + 1)) wend_us=$((wend_us + WINDOW * 1000000))
    fi
    (( SECONDS - last_change < STALL )) || { note "drain stuck at $n queued for ${STALL}s"; break; }
  done
  wait_count mail_count ge $((2 * N + Q)) || true
  R[drain.t1]=$(newest_mail)
  cpu_mark drain.1
  R[drain.total]=$total
  R[drain.left]=$(queue_count)
  R[drain.s]=$(secs "${R[drain.t0]}" "${R[drain.t1]}")
  R[drain.rate]=$(rate $((total - ${R[drain.left]})) "${R[drain.t0]}" "${R[drain.t1]}")
  drain_stats
  cpu_account drain "$total"
  note "drain: $total messages in ${R[drain.s]} s: ${R[drain.rate]} msg/s; windows min/median/max ${R[drain.min]}/${R[drain.median]}/${R[drain.max]}"
}

# drain_stats: min, median and max of the full windows' rates (of every window when none is full)
drain_stats() {
  local sel=1
  awk -F'\t' 'NR > 1 && $7 == 1 { f = 1 } END { exit !f }' "$OUT/drain.tsv" || sel=0
  read -r "R[drain.windows]" "R[drain.min]" "R[drain.median]" "R[drain.max]" < <(
    awk -F'\t' -v sel="$sel" 'NR > 1 && (sel == 0 || $7 == 1) && $6 != "n/a" { print $6 }' "$OUT/drain.tsv" | sort -n |
    awk '{ v[NR] = $1 } END { if (!NR) { print "0 n/a n/a n/a"; exit }
          m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%d %s %.1f %s\n", NR, v[1], m, v[NR] }')
  if [ "$sel" = 1 ]; then R[drain.which]="${R[drain.windows]} full windows (the last, partial one left out)"
  else R[drain.which]="one partial window (the queue emptied within the first)"; fi
  R[drain.window_rates]=$(awk -F'\t' 'NR > 1 { printf "%s%s", sep, $6; sep = " " }' "$OUT/drain.tsv")
}

# ---------------------------------------------------------------- 4. check and summary
final_check() {
  local want=$((2 * N + Q)) got fails
  got=$(mail_count)
  fails=$(( ${R[one.fails]} + ${R[par.fails]} + ${R[full.fails]} ))
  R[check.expected]=$want R[check.delivered]=$got R[check.queue_left]=$(queue_count)
  R[check.quarantine]=$("$PROBE" count "$INST/queue/quarantine")
  R[check.fails]=$fails
  if [ "$got" = "$want" ] && [ "${R[check.queue_left]}" = 0 ] && [ "$fails" = 0 ]; then
    R[check]="every message arrived: $got of $want in mail/*/new, queue empty, no injection failed"
  else
    R[check]="INCOMPLETE: $got of $want in mail/*/new, ${R[check.queue_left]} left in the queue," \
             "${R[check.quarantine]} quarantined, $fails injections failed"
  fi
}

# row LABEL TEXT...: one line of the summary, labels in a column
row() { local l=$1; shift; printf '   %-24s%s\n' "$l" "$*"; }
cpu_row() {  # cpu_row TAG: the CPU figures of a phase
  row "" "CPU per message: instance ${R[$1.inst_ms]} ms + submit ${R[$1.sub_ms]} ms;" \
         "machine ${R[$1.mach_ms]} ms (busy ${R[$1.busy_pct]}%)"
}

summary() {
  local -; set +u           # a figure that is missing prints as empty, the rest still prints
  local one=${R[one.e2e_rate]} par=${R[par.e2e_rate]} raw1=${R[raw.1.ops]} rawp=${R[raw.$P.ops]}
  echo
  echo "==== imc injection benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ) ===="
  echo "machine: $(nproc) cpus, kernel $(uname -r), load at start ${R[env.load]}"
  echo "filesystem of $BENCH_DIR: ${R[env.fs]}"
  echo "tree ${R[env.git]}; N=$N Q=$Q P=$P MBOXES=$MBOXES BLOCK=$BLOCK WINDOW=${WINDOW}s PROBE_SECS=$PROBE_SECS"
  echo "raw results: $OUT"
  echo
  echo "1. raw disk limit: create 4 KB + fsync + rename + fsync dir; unlink 256 later"
  row "1 process" "$raw1 commits/s (${R[raw.1.cpu_ms]} ms CPU each)"
  row "$P processes" "$rawp commits/s (${R[raw.$P.cpu_ms]} ms CPU each)"
  echo
  echo "2. local injection, empty queue, send running: $N messages of 4 KB, $MBOXES Maildirs"
  row "1 injector" "end to end $one msg/s (${R[one.e2e_s]} s); injection only ${R[one.inject_rate]} msg/s (${R[one.inject_s]} s)"
  cpu_row one
  row "$P injectors" "end to end $par msg/s (${R[par.e2e_s]} s); injection only ${R[par.inject_rate]} msg/s (${R[par.inject_s]} s)"
  cpu_row par
  echo
  echo "3. full queue: send down, $Q messages by $P injectors; then send up"
  row "injection" "${R[full.inject_rate]} msg/s overall (${R[full.inject_s]} s)"
  cpu_row full
  row "injection per $BLOCK" "first ${R[full.first_block]} msg/s, last ${R[full.last_block]} msg/s (${R[full.last_before]} already queued)"
  row "" "every block: ${R[full.blocks]}"
  row "drain" "${R[drain.rate]} msg/s overall (${R[drain.total]} messages in ${R[drain.s]} s)"
  row "drain per ${WINDOW}s" "min ${R[drain.min]}, median ${R[drain.median]}, max ${R[drain.max]} msg/s over ${R[drain.which]}"
  row "" "every window: ${R[drain.window_rates]}"
  cpu_row drain
  echo
  echo "4. ratios"
  row "1 injector / raw 1" "$(ratio "$one" "$raw1") end to end, $(ratio "${R[one.inject_rate]}" "$raw1") injection only"
  row "$P injectors / raw $P" "$(ratio "$par" "$rawp") end to end (target >= 0.5), $(ratio "${R[par.inject_rate]}" "$rawp") injection only"
  row "full queue injection" "$(ratio "${R[full.last_block]}" "${R[full.first_block]}") last block / first block"
  row "" "$(ratio "${R[full.inject_rate]}" "${R[par.inject_rate]}") full queue, send down / empty queue, send running ($P injectors)"
  row "drain / raw $P" "$(ratio "${R[drain.rate]}" "$rawp")"
  row "check" "${R[check]}"
  echo
  echo "End to end: from the first injection to the newest ctime in mail/*/new; injection only:"
  echo "to the last injector's exit.  CPU: instance = s6-svscan and every descendant (s6-supervise,"
  echo "imc-send, imc-local, imc-pickup, s6-log) with the children they reaped; submit = the"
  echo "injector shells with their reaped children (fork, imc-inject, imc-queue); machine = all"
  echo "busy CPU in /proc/stat over the phase (other users and the benchmark's polling included)."
}

# ---------------------------------------------------------------- main
main() {
  mkdir -p "$OUT" "$BENCH_DIR"
  OUT=$(cd "$OUT" && pwd) BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
  cd "$OUT"                # nothing is written elsewhere by accident
  trap on_exit EXIT
  trap 'exit 130' INT TERM
  TMPD=$(mktemp -d "$BENCH_DIR/imc-bench.XXXXXX")
  R[env.load]=$(cut -d' ' -f1-3 /proc/loadavg)
  R[env.fs]=$(findmnt -n -o FSTYPE,SOURCE,OPTIONS --target "$TMPD" 2>/dev/null || stat -f -c %T "$TMPD")
  R[env.git]="$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$TOP" diff --quiet 2>/dev/null || echo ' (modified)')"
  note "N=$N Q=$Q P=$P; instance and probe in $TMPD; raw results in $OUT"
  build_probe
  make_message
  make_instance
  note "1. raw disk limit, ${PROBE_SECS}s per case"
  run_disk_probe
  start_instance
  note "2. local injection, empty queue"
  phase_local 1 one
  phase_local "$P" par
  note "3. full queue: $Q messages with send down, then the drain"
  phase_fullqueue
  phase_drain
  final_check
  summary | tee "$OUT/summary.txt"
}

main "$@"
