#!/usr/bin/env bash
# bench/smtp.sh -- how fast imc takes mail in over SMTP and relays it, beside Postfix in the same run.
# A benchmark, not a test: it prints figures and never passes or fails.
#
# One imc instance (user mode, in BENCH_DIR, running a copy of bin/ taken at the start) listens
# on 127.0.0.1:PORT; everything it relays goes to control/smarthost 127.0.0.1:SINK_PORT, where an
# smtp-sink counts the messages.  Load comes from Postfix's smtp-source, the same tool
# postfix-baseline.sh uses, with the same N and sessions.
#
#  1. Inbound into local mailboxes (bench.example, MBOXES Maildirs), N messages of 4 KB by SESS
#     sessions: first 1 message per connection, then -d (N/SESS messages per connection).  The
#     sessions are split over min(SESS, MBOXES) smtp-source processes, the Kth sending to rcptK
#     (smtp-source has one fixed recipient), all started together.  Figures:
#       accept      = N / (first smtp-source started .. the last one finished)
#       end to end  = N / (first smtp-source started .. the newest ctime in mail/*/new)
#     Then IDLE connections held open at once (smtpbench.py idle: each reads the greeting and
#     sits): private memory of the imc-tcpd tree (imc-tcpd and its imc-smtpd children) / IDLE,
#     and whether a new client still gets its greeting meanwhile.
#  2. Relay in smart-host mode: smtp-source -> imc-smtpd -> imc-queue -> imc-send -> imc-remote
#     -> smtp-sink, sender@example.org to rcpt@example.com (not a site domain; 127.0.0.1 relays
#     by the default control/rules), 1 message per connection: N x 4 KB, N100K x 100 KB,
#     N1M x 1 MB, SESS sessions each.  A fresh smtp-sink per run; smtpbench.py sinkwatch reads
#     its -c counter and stamps the moment it has all of them.  Figures:
#       end to end  = count / (smtp-source started .. the sink has counted the last message)
#       accept      = count / (smtp-source started .. smtp-source finished)
#  3. Postfix: postfix-baseline.sh (POSTFIX_BASELINE, default ../../shared/bench/ beside the
#     checkout), run once per relay scenario and repetition with SCENARIOS=inbound1|big100k|big1m,
#     REPS=1 and the same N/N100K/N1M/SESS, interleaved with imc's relay runs (odd repetitions
#     Postfix first, even ones imc first).  Its runs.tsv rows are collected in $OUT/postfix.tsv.
#  4. Summary: every figure (medians over REPS), the ratios imc / Postfix against the targets
#     (inbound accept >= 3x; relay >= 3x at 4 KB, >= 1.5x at 1 MB), the checks.
#  5. Email authentication (AUTH=1, the default, when dnsmasq and python3-dkim are here): DKIM
#     signing off and on for N x 4 KB relayed (signatures counted in the sink's dump), and the
#     SPF/DKIM/DMARC checks off and on for N messages of 4 KB signed by dkimpy into the local
#     mailboxes, against a dnsmasq on DNS_IP as the DNS cache (phase_auth): each one's CPU per
#     message as the difference of the two runs.
#
# CPU per message, per run (window: just before smtp-source starts .. all delivered, queue empty):
#   instance = user+sys of s6-svscan and every descendant (imc-tcpd, imc-smtpd, imc-queue,
#              imc-send, imc-local, imc-remote, s6-log ...) with the children they reaped
#              (bench/probe.c treecpu); Postfix's own figure is its master and children, the same way;
#              split into the smtpd service's tree (imc-tcpd, which reaps imc-smtpd, which reaps
#              imc-queue) and the send service's (imc-send with imc-local / imc-remote);
#   machine  = busy ticks of /proc/stat over the window, minus the memory sampler's CPU (as
#              postfix-baseline.sh leaves its sampler out): the load tools are included.
# Processes per message, per run: the `processes` counter of /proc/stat (forks since boot) over
#   the same window, divided by the messages.  It counts every process the machine started: the
#   load tools' (smtp-source is one), this script's polling (about 5 a second: the probe and its
#   shell) and anything else running.  Postfix's window is its baseline run's (the first and the
#   last line of its sampler's file), the counter read there from smtpbench.py procwatch, which
#   samples it every 0.1 s while postfix-baseline.sh runs.
# Memory: smtpbench.py memsample reads /proc/PID/smaps_rollup (Private_Clean + Private_Dirty) of
#   every imc-smtpd in the instance's tree every SAMPLE seconds; average over all sampled
#   processes and the maximum.
#
# Environment: N=5000 N100K=1000 N1M=200 SESS=20 MBOXES=10 IDLE=500 REPS=1 PORT=26025
#   SINK_PORT=26026 (another free port is picked when one is taken) MAXIN=1000 (maxinbound and
#   maxperip; raised above IDLE) CONTROL="file=value ..." (more control files for the instance,
#   e.g. "maxperhost=20 msgsperconn=100") POSTFIX=1 (0: imc only) POSTFIX_BASELINE=path
#   SAMPLE=0.5 STALL=120 (seconds without progress before a wait gives up) RUN_TIMEOUT=1800
#   COOLDOWN=0 (idle seconds before each imc run) BENCH_DIR=/var/tmp
#   OUT=/var/tmp/imc-smtp-bench.TIMESTAMP KEEP=1 (keep the instance) AUTH=1 (section 5; 0: not run)
#   DNS_IP=127.0.0.153 (section 5's dnsmasq)
# Raw data in $OUT: results.txt (every figure as "key value"), summary.txt, log.txt, control/,
#   TAG.src* (smtp-source output, and "wall user sys" from /usr/bin/time), TAG.mem (samples),
#   TAG.sink*, idle.*, postfix/ (each baseline run), postfix.tsv, logs/ (the instance's logs),
#   log-problems.txt (fatal/warning lines of the instance's logs).
set -euo pipefail
export LC_ALL=C

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PATH=$TOP/bin:$PATH
export PATH

N=${N:-5000}
N100K=${N100K:-1000}
N1M=${N1M:-200}
SESS=${SESS:-20}
MBOXES=${MBOXES:-10}
IDLE=${IDLE:-500}
REPS=${REPS:-1}
PORT=${PORT:-26025}
SINK_PORT=${SINK_PORT:-26026}
MAXIN=${MAXIN:-1000}
CONTROL=${CONTROL:-}
POSTFIX=${POSTFIX:-1}
POSTFIX_BASELINE=${POSTFIX_BASELINE:-$TOP/../shared/bench/postfix-baseline.sh}
SAMPLE=${SAMPLE:-0.5}
STALL=${STALL:-120}
RUN_TIMEOUT=${RUN_TIMEOUT:-1800}
COOLDOWN=${COOLDOWN:-0}
BENCH_DIR=${BENCH_DIR:-/var/tmp}
OUT=${OUT:-/var/tmp/imc-smtp-bench.$(date +%Y%m%dT%H%M%S)}
KEEP=${KEEP:-0}
AUTH=${AUTH:-1}
DNS_IP=${DNS_IP:-127.0.0.153}
PY=/usr/bin/python3
TOOLS=$TOP/bench/smtpbench.py
SOURCE=/usr/sbin/smtp-source
SINK=/usr/sbin/smtp-sink
FROM=sender@example.org
RELAY_RCPT=rcpt@example.com
HELO=bench-client.localdomain
HZ=$(getconf CLK_TCK)

DNS_PID='' TMPD='' INST='' PROBE='' SVSCAN_PID='' SINK_PID='' WATCH_PID='' SAMPLER_PID='' IDLE_PID='' PF_PID='' PROCWATCH_PID=''
SRC_PIDS=()
TREE_PIDS=()
declare -A R=()          # every figure, by name; written to $OUT/results.txt

note() { echo "# $*" >&2; echo "$*" >> "$OUT/log.txt"; }
die() { note "FATAL: $*"; exit 1; }

# ---------------------------------------------------------------- arithmetic (awk: floats)
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { if (a != "" && b != "" && b - a > 0) printf "%.1f", n / (b - a); else printf "n/a" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "n/a" && b != "n/a" && a != "" && b + 0 > 0) printf "%.2f", a / b; else printf "n/a" }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "") printf "%.2f", b - a; else printf "n/a" }'; }
# median VALUE...: the median of the numbers given (n/a when none)
median() {
  printf '%s\n' "$@" | awk '$1 != "n/a" && $1 != "" { print $1 }' | sort -g |
    awk '{ v[NR] = $1 } END { if (!NR) { print "n/a"; exit } if (NR % 2) { print v[(NR + 1) / 2]; exit }
      m = sprintf("%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2); sub(/0+$/, "", m); sub(/\.$/, "", m); print m }'
}
# med KEY: the median of R[TAG.REP.KEY] over the repetitions, for KEY = TAG.FIELD
med() {
  local tag=${1%%.*} field=${1#*.} r v=()
  for ((r = 1; r <= REPS; r++)); do v+=("${R[$tag.$r.$field]:-n/a}"); done
  median "${v[@]}"
}

# ---------------------------------------------------------------- counters
mail_count() { "$PROBE" count "$INST"/mail/*/new; }
queue_count() { "$PROBE" count "$INST/queue/new" "$INST"/queue/mess/?; }
newest_mail() { "$PROBE" times "$INST"/mail/*/new | awk '$1 > m { m = $1 } END { printf "%.6f", m }'; }
sys_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat; }
proc_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# track_count EVENT: lines of that event in the tracking log (current and rotated files)
track_count() {
  local f files=()
  for f in "$INST"/log/track/@*.s "$INST/log/track/current"; do [ -f "$f" ] && files+=("$f"); done
  ((${#files[@]})) || { echo 0; return; }
  awk -F'\t' -v e="$1" '$2 == e { n++ } END { print n + 0 }' "${files[@]}"
}

# procs_into VAR: the `processes` counter of /proc/stat into VAR, without starting a process
procs_into() {
  local k v rest
  while read -r k v rest; do [ "$k" = processes ] && { printf -v "$1" %s "$v"; return 0; }; done < /proc/stat
  printf -v "$1" %s 0
}

# cpu_mark TAG: the instance's and the machine's CPU counters now, into R[TAG.*]
# (and the same of the smtpd and send services' trees, as "PID SECONDS", for the split);
# the processes counter first, so that the mark's own probes fall outside the window at its start
cpu_mark() {
  local svc pid u s
  procs_into "R[$1.procs]"
  read -r "R[$1.inst_user]" "R[$1.inst_sys]" < <("$PROBE" treecpu "$SVSCAN_PID")
  read -r "R[$1.busy]" "R[$1.total]" < <(sys_busy)
  for svc in smtpd send; do
    pid=$(s6-svstat -p "$INST/service/$svc" 2>/dev/null || echo -1)
    if [[ $pid =~ ^[0-9]+$ ]] && ((pid > 1)) && read -r u s < <("$PROBE" treecpu "$pid"); then
      R[$1.$svc]="$pid $(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')"
    else R[$1.$svc]="- 0"; fi
  done
}

# cpu_split TAG MSGS: R[TAG.smtpd_ms] (imc-tcpd, imc-smtpd, imc-queue) and R[TAG.send_ms]
# (imc-send, imc-local, imc-remote) per message; n/a when the service restarted meanwhile
cpu_split() {
  local t=$1 svc a b
  for svc in smtpd send; do
    read -r -a a <<< "${R[$t.0.$svc]}"; read -r -a b <<< "${R[$t.1.$svc]}"
    if [ "${a[0]}" != - ] && [ "${a[0]}" = "${b[0]}" ]; then
      R[$t.${svc}_ms]=$(awk -v x="${a[1]}" -v y="${b[1]}" -v n="$2" 'BEGIN { printf "%.3f", 1000 * (y - x) / n }')
    else R[$t.${svc}_ms]=n/a; fi
  done
}

# cpu_account TAG MSGS: CPU between the marks TAG.0 and TAG.1 per message, into R[TAG.*];
# R[TAG.excl_ticks] (the sampler's CPU) is left out of the machine's figure
cpu_account() {
  local t=$1 k v
  while read -r k v; do R[$t.$k]=$v; done < <(awk -v n="$2" -v hz="$HZ" -v ex="${R[$t.excl_ticks]:-0}" \
    -v i0="${R[$t.0.inst_user]} ${R[$t.0.inst_sys]}" -v i1="${R[$t.1.inst_user]} ${R[$t.1.inst_sys]}" \
    -v b0="${R[$t.0.busy]} ${R[$t.0.total]}" -v b1="${R[$t.1.busy]} ${R[$t.1.total]}" \
    -v p0="${R[$t.0.procs]}" -v p1="${R[$t.1.procs]}" 'BEGIN {
      split(i0, a); split(i1, b); split(b0, c); split(b1, d)
      inst = b[1] + b[2] - a[1] - a[2]; if (inst < 0) inst = 0
      mach = (d[1] - c[1] - ex) / hz; tot = (d[2] - c[2]) / hz
      printf "inst_cpu %.2f\ninst_user_s %.2f\ninst_sys_s %.2f\nmach_cpu %.2f\n", inst, b[1] - a[1], b[2] - a[2], mach
      printf "busy_pct %.0f\n", (tot > 0) ? 100 * (d[1] - c[1]) / hz / tot : 0
      printf "inst_ms %.3f\nmach_ms %.3f\n", 1000 * inst / n, 1000 * mach / n
      printf "procs %d\nprocs_per_msg %.3f\n", p1 - p0, (p1 - p0) / n
    }')
}

# wait_count FUNC CMP TARGET: poll FUNC every 0.2 s until "count -CMP TARGET"; 1 after STALL
# seconds without change
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

# ---------------------------------------------------------------- ports
port_busy() { [ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ]; }
# free_port WANTED: WANTED when nothing listens there, else a free one in 26000-29999
free_port() {
  local p=$1
  while port_busy "$p" || [ "$p" = "${PORT_TAKEN:-}" ]; do p=$(( 26000 + $(od -An -N2 -tu2 /dev/urandom) % 4000 )); done
  echo "$p"
}
wait_listen() { local _; for _ in $(seq 200); do port_busy "$1" && return 0; sleep 0.05; done; return 1; }

# ---------------------------------------------------------------- the instance
build_probe() {
  PROBE=$TMPD/probe
  gcc -O2 -Wall -Wextra -o "$PROBE" "$TOP/bench/probe.c" || die "cannot build bench/probe.c"
}

# the instance runs a copy of bin/, so that a rebuild in the checkout during the run (make
# rewrites bin/ in place) cannot make an exec fail or change what is measured
snapshot_bin() {
  local f
  cp -a "$TOP/bin" "$TMPD/bin" || die "cannot copy $TOP/bin"
  for f in imc-setup imc-ctl imc-tcpd imc-smtpd imc-queue imc-send imc-local imc-remote; do
    [ -x "$TMPD/bin/$f" ] && [ -s "$TMPD/bin/$f" ] || die "bin/$f is missing or not executable (is a build running?)"
  done
  PATH=$TMPD/bin:$PATH
  R[env.bin]="copy of bin/ taken $(date -u +%H:%M:%SZ), newest file $(find "$TOP/bin" -type f -printf '%TY-%Tm-%Td %TH:%TM:%.2TSZ\n' | sort | tail -1)"
}

# set_control FILE VALUE: one control file, through imc-ctl set
set_control() {
  imc-ctl set "$1" "$2" >> "$OUT/setup.out" 2>&1 || die "imc-ctl set $1 $2 failed: $(tail -1 "$OUT/setup.out")"
}

make_instance() {
  local k kv maxin=$MAXIN
  INST=$TMPD/i
  export IMC_HOME=$INST
  imc-setup --user --port "$PORT" --no-submission "$INST" > "$OUT/setup.out" 2>&1 || die "imc-setup failed: $(cat "$OUT/setup.out")"
  echo bench.example > "$INST/control/me"
  echo bench.example > "$INST/control/sitedomains"
  for ((k = 1; k <= MBOXES; k++)); do
    echo "mailbox rcpt$k \"Bench Recipient $k\"" >> "$INST/control/directory"
    mkdir -p "$INST/mail/rcpt$k/tmp" "$INST/mail/rcpt$k/new" "$INST/mail/rcpt$k/cur"
  done
  imc-ctl compile >> "$OUT/setup.out" 2>&1 || die "imc-ctl compile failed: $(tail -3 "$OUT/setup.out")"
  (( maxin > IDLE + 50 )) || maxin=$((IDLE + 100))
  set_control maxinbound "$maxin"
  set_control maxperip "$maxin"
  set_control smarthost "127.0.0.1:$SINK_PORT"
  for kv in $CONTROL; do set_control "${kv%%=*}" "${kv#*=}"; done
  imc-ctl check >> "$OUT/setup.out" 2>&1 || die "imc-ctl check failed: $(tail -3 "$OUT/setup.out")"
  cp -r "$INST/control" "$OUT/control"
  R[env.limits]=$(imc-ctl show 2>/dev/null | awk '$1 ~ /^(maxinbound|maxperip|maxlocal|maxoutbound|maxperhost|msgsperconn|loglevel|tracking)$/ &&
    !seen[$1]++ { printf "%s%s=%s", sep, $1, $2; sep = " " }')
}

start_instance() {
  local g
  s6-svscan "$INST/service" > "$OUT/svscan.out" 2>&1 &
  SVSCAN_PID=$!
  for _ in $(seq 200); do [ -p "$INST/service/smtpd/supervise/control" ] && [ -p "$INST/service/send/supervise/control" ] && break; sleep 0.05; done
  s6-svwait -U -t 10000 "$INST/service/send" || die "send service did not come up"
  s6-svwait -U -t 10000 "$INST/service/smtpd" || die "smtpd service did not come up: $(tail -3 "$INST/log/smtpd/current" 2>/dev/null)"
  wait_listen "$PORT" || die "nothing listens on $PORT"
  g=$("$PY" "$TOOLS" greet 127.0.0.1 "$PORT" 10) || die "no greeting on $PORT: $g"
  note "s6-svscan pid $SVSCAN_PID; imc listens on 127.0.0.1:$PORT: $g"
}

# the pids of s6-svscan's tree now (to find a session that outlives imc-tcpd at the end)
tree_pids() { ps -e -o pid=,ppid= | awk -v r="$SVSCAN_PID" '{ p[$1] = $2 } END { for (k in p) { q = k; while (q in p && q != r && q > 1) q = p[q]; if (q == r) print k } }'; }

stop_instance() {
  local p k
  [ -n "$SVSCAN_PID" ] && kill -0 "$SVSCAN_PID" 2>/dev/null || return 0
  mapfile -t TREE_PIDS < <(tree_pids)
  s6-svscanctl -t "$INST/service" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$SVSCAN_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SVSCAN_PID" 2>/dev/null || true
  wait "$SVSCAN_PID" 2>/dev/null || true
  for _ in $(seq 50); do
    p=; for k in "${TREE_PIDS[@]}"; do [ "$k" != "$SVSCAN_PID" ] && kill -0 "$k" 2>/dev/null && p=$k; done
    [ -z "$p" ] && break; sleep 0.1
  done
  for k in "${TREE_PIDS[@]}"; do   # only what outlived s6-svscan by 5 s, and only imc's or s6's
    [ "$k" != "$SVSCAN_PID" ] && kill -0 "$k" 2>/dev/null || continue
    case $(cat "/proc/$k/comm" 2>/dev/null) in imc-*|s6-*) note "killing leftover $k $(cat "/proc/$k/comm")"; kill "$k" 2>/dev/null || true ;; esac
  done
  SVSCAN_PID=
}

# ---------------------------------------------------------------- helpers we start and stop
stop_pid() {  # stop_pid PID: TERM, wait for it
  [ -n "$1" ] || return 0
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# start_sampler TAG: memsample in the background; once it has written its first line, its CPU
# so far into R[TAG.excl0] (what it uses from there on is left out of the machine's figure)
start_sampler() {
  local k
  "$PY" "$TOOLS" memsample "$SVSCAN_PID" imc-smtpd "$SAMPLE" > "$OUT/$1.mem" &
  SAMPLER_PID=$!
  for ((k = 0; k < 50; k++)); do [ -s "$OUT/$1.mem" ] && break; sleep 0.05; done
  R[$1.excl0]=$(proc_ticks "$SAMPLER_PID")
}

# stop_sampler TAG: its CPU into R[TAG.excl_ticks]; smtpd memory into R[TAG.smtpd_*]
stop_sampler() {
  local t=$1
  R[$t.excl_ticks]=$(( $(proc_ticks "$SAMPLER_PID") - ${R[$t.excl0]:-0} ))
  stop_pid "$SAMPLER_PID"; SAMPLER_PID=
  read -r "R[$t.smtpd_priv_avg]" "R[$t.smtpd_priv_max]" "R[$t.smtpd_max_n]" < <(awk '
    $2 > 0 { s += $3; n += $2; if ($4 > m) m = $4; if ($2 > mn) mn = $2 }
    END { if (n) printf "%.0f %d %d\n", s / n, m, mn; else print "n/a n/a 0" }' "$OUT/$t.mem")
}

# start_sink TAG WANT: a fresh smtp-sink on SINK_PORT, its counter read by sinkwatch
start_sink() {
  local t=$1 user=()
  rm -f "$TMPD/sink.fifo" "$TMPD/sink.done" "$TMPD/sink.progress"
  mkfifo "$TMPD/sink.fifo"
  [ "$(id -u)" = 0 ] && user=(-u nobody)
  "$PY" "$TOOLS" sinkwatch "$2" "$TMPD/sink.done" "$TMPD/sink.progress" < "$TMPD/sink.fifo" > "$OUT/$t.sinkcount" &
  WATCH_PID=$!
  "$SINK" -c "${user[@]}" ${SINK_DUMP:+-D "$SINK_DUMP"} "127.0.0.1:$SINK_PORT" 1000 > "$TMPD/sink.fifo" 2> "$OUT/$t.sink.err" &
  SINK_PID=$!
  wait_listen "$SINK_PORT" || die "smtp-sink does not listen on $SINK_PORT: $(cat "$OUT/$t.sink.err")"
}

# stop_sink TAG: R[TAG.sink_count] (the sink's last counter) and R[TAG.sink_cpu_s]
stop_sink() {
  local t=$1
  [ -n "$SINK_PID" ] || return 0
  R[$t.sink_cpu_s]=$(awk -v t="$(proc_ticks "$SINK_PID")" -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }')
  stop_pid "$SINK_PID"; SINK_PID=
  wait "$WATCH_PID" 2>/dev/null || true; WATCH_PID=
  R[$t.sink_count]=$(cat "$OUT/$t.sinkcount" 2>/dev/null || echo n/a)
  rm -f "$TMPD/sink.fifo"
}

# wait_sink TAG: until the sink has counted its WANT (sinkwatch's stamp into R[TAG.t2]);
# 1 when its count has not moved for STALL seconds or RUN_TIMEOUT has passed
wait_sink() {
  local t=$1 c last=-1 since=$SECONDS start=$SECONDS
  while [ ! -s "$TMPD/sink.done" ]; do
    c=$(awk '{ print $2 }' "$TMPD/sink.progress" 2>/dev/null || echo 0)
    if [ "$c" != "$last" ]; then last=$c since=$SECONDS
    elif (( SECONDS - since >= STALL || SECONDS - start >= RUN_TIMEOUT )); then
      note "$t: the sink is stuck at ${c:-0} messages"; return 1
    fi
    sleep 0.1
  done
  R[$t.t2]=$(awk '{ print $1 }' "$TMPD/sink.done")
}

# ---------------------------------------------------------------- smtp-source
# source_bg TAG.K SESSIONS COUNT SIZE RCPT [FLAGS]: one smtp-source in the background, timed
# (SIZE "-": no -l, the message is a file given with -F)
# (timeout runs it in its own process group and passes a TERM on to the whole group)
source_bg() {
  local f=$1 s=$2 m=$3 l=(-l "$4") to=$5; shift 5
  [ "${l[1]}" = - ] && l=()            # the message comes from a file (-F)
  timeout "$RUN_TIMEOUT" /usr/bin/time -f "%e %U %S" -o "$OUT/$f.time" \
    "$SOURCE" -s "$s" -m "$m" "${l[@]}" "$@" -M "$HELO" -f "$FROM" -t "$to" "127.0.0.1:$PORT" > "$OUT/$f.out" 2>&1 &
  SRC_PIDS+=($!)
}

# wait_sources TAG: wait for every smtp-source; R[TAG.src_fails], R[TAG.src_cpu_s], R[TAG.t1]
wait_sources() {
  local t=$1 p fails=0
  for p in "${SRC_PIDS[@]}"; do wait "$p" || fails=$((fails + 1)); done
  R[$t.t1]=$EPOCHREALTIME
  SRC_PIDS=()
  R[$t.src_fails]=$fails
  R[$t.src_cpu_s]=$(cat "$OUT/$t".src*.time | awk 'NF == 3 { c += $2 + $3 } END { printf "%.2f", c }')
  ((fails == 0)) || note "$t: $fails smtp-source(s) failed: $(tail -qn 2 "$OUT/$t".src*.out | sort | uniq -c | head -5 | tr '\n' ' ')"
}

cooldown() { [ "$COOLDOWN" -gt 0 ] && sleep "$COOLDOWN"; return 0; }

# empty the Maildirs between runs, so that each run starts alike
clear_mail() { find "$INST"/mail/*/new "$INST"/mail/*/cur -type f -delete; }

# figures TAG COUNT SIZE: rates and CPU of a run from R[TAG.t0 t1 t2] and its marks
figures() {
  local t=$1 n=$2 size=$3
  R[$t.accept_s]=$(secs "${R[$t.t0]}" "${R[$t.t1]}")
  R[$t.e2e_s]=$(secs "${R[$t.t0]}" "${R[$t.t2]:-}")
  R[$t.accept_rate]=$(rate "$n" "${R[$t.t0]}" "${R[$t.t1]}")
  R[$t.e2e_rate]=$(rate "$n" "${R[$t.t0]}" "${R[$t.t2]:-}")
  R[$t.e2e_MBps]=$(awk -v r="${R[$t.e2e_rate]}" -v s="$size" 'BEGIN { if (r != "n/a") printf "%.1f", r * s / 1e6; else print "n/a" }')
  cpu_account "$t" "$n"
  cpu_split "$t" "$n"
}

# ---------------------------------------------------------------- 1. inbound, local mailboxes
# phase_inbound TAG REP MODE: N x 4 KB into the Maildirs; MODE 1 (a connection per message) or d
phase_inbound() {
  local t=$1.$2 mode=$3 k nsrc s m flag=() size=4096
  shift 3
  [ "${1:-}" = -F ] && size=-
  [ "$mode" = d ] && flag=(-d)
  flag+=("$@")
  clear_mail
  wait_count queue_count le 0 || die "queue not empty before $t"
  cooldown
  nsrc=$(( SESS < MBOXES ? SESS : MBOXES ))
  start_sampler "$t"
  R[$t.load1]=$(cut -d' ' -f1 /proc/loadavg)
  cpu_mark "$t.0"
  R[$t.t0]=$EPOCHREALTIME
  for ((k = 0; k < nsrc; k++)); do
    s=$(( SESS / nsrc + (k < SESS % nsrc ? 1 : 0) )) m=$(( N / nsrc + (k < N % nsrc ? 1 : 0) ))
    source_bg "$t.src$k" "$s" "$m" "$size" "rcpt$((k + 1))@bench.example" "${flag[@]}"
  done
  wait_sources "$t"
  wait_count mail_count ge "$N" || true
  wait_count queue_count le 0 || true
  R[$t.t2]=$(newest_mail)
  cpu_mark "$t.1"
  stop_sampler "$t"
  R[$t.delivered]=$(mail_count)
  figures "$t" "$N" 4096
  note "$t: accept ${R[$t.accept_rate]} msg/s, end to end ${R[$t.e2e_rate]} msg/s, delivered ${R[$t.delivered]} of $N," \
       "instance ${R[$t.inst_ms]} ms/msg, smtpd private ${R[$t.smtpd_priv_avg]} KB; load before ${R[$t.load1]}"
}

# ---------------------------------------------------------------- 1b. idle connections
# idle_mem TAG: the imc-tcpd tree's memory now into R[TAG.*]
idle_mem() {
  read -r "R[$1.n]" "R[$1.priv]" "R[$1.pss]" "R[$1.rss]" "R[$1.nsmtpd]" "R[$1.smtpd_priv]" \
    < <("$PY" "$TOOLS" treemem "$TCPD" imc-smtpd || echo "0 0 0 0 0 0")
}

phase_idle() {
  local line='' k
  TCPD=$(s6-svstat -p "$INST/service/smtpd")
  [[ $TCPD =~ ^[0-9]+$ ]] && ((TCPD > 1)) || { note "idle: imc-tcpd is not up (s6-svstat -p: $TCPD)"; return 0; }
  idle_mem idle.before
  "$PY" "$TOOLS" idle 127.0.0.1 "$PORT" "$IDLE" 30 > "$OUT/idle.out" 2> "$OUT/idle.err" &
  IDLE_PID=$!
  for ((k = 0; k < 1200; k++)); do line=$(grep '^ready' "$OUT/idle.out" || true); [ -n "$line" ] && break; sleep 0.1; done
  [ -n "$line" ] || note "idle: the clients never got ready: $(tail -3 "$OUT/idle.err")"
  read -r _ "R[idle.open]" "R[idle.greeted]" "R[idle.failed]" <<< "${line:-ready 0 0 $IDLE}"
  sleep 1
  idle_mem idle.with
  R[idle.greet]=$("$PY" "$TOOLS" greet 127.0.0.1 "$PORT" 10 || true)
  stop_pid "$IDLE_PID"; IDLE_PID=
  R[idle.per_conn_kb]=$(awk -v p="${R[idle.with.priv]}" -v n="$IDLE" 'BEGIN { printf "%.0f", p / n }')
  R[idle.incr_per_conn_kb]=$(awk -v a="${R[idle.before.priv]}" -v p="${R[idle.with.priv]}" -v n="$IDLE" 'BEGIN { printf "%.0f", (p - a) / n }')
  R[idle.smtpd_avg_kb]=$(awk -v p="${R[idle.with.smtpd_priv]}" -v n="${R[idle.with.nsmtpd]}" 'BEGIN { if (n) printf "%.0f", p / n; else print "n/a" }')
  for ((k = 0; k < 300; k++)); do idle_mem idle.after; (( ${R[idle.after.nsmtpd]} == 0 )) && break; sleep 0.1; done
  note "idle: ${R[idle.greeted]} of $IDLE greeted; imc-tcpd tree ${R[idle.with.n]} processes, ${R[idle.with.priv]} KB private" \
       "(${R[idle.per_conn_kb]} KB per connection); new client: ${R[idle.greet]}; ${R[idle.after.nsmtpd]} imc-smtpd left after"
}

# ---------------------------------------------------------------- 2. relay through the smart host
# phase_relay TAG REP SIZE COUNT
phase_relay() {
  local t=$1.$2 size=$3 n=$4 d0 f0 b0
  wait_count queue_count le 0 || die "queue not empty before $t"
  cooldown
  start_sink "$t" "$n"
  start_sampler "$t"
  d0=$(track_count delivered) f0=$(track_count deferred) b0=$(track_count bounced)
  R[$t.load1]=$(cut -d' ' -f1 /proc/loadavg)
  cpu_mark "$t.0"
  R[$t.t0]=$EPOCHREALTIME
  source_bg "$t.src" "$SESS" "$n" "$size" "$RELAY_RCPT"
  wait_sources "$t"
  wait_sink "$t" || true
  wait_count queue_count le 0 || true
  cpu_mark "$t.1"
  stop_sampler "$t"
  stop_sink "$t"
  R[$t.delivered]=$(( $(track_count delivered) - d0 ))
  R[$t.deferred]=$(( $(track_count deferred) - f0 ))
  R[$t.bounced]=$(( $(track_count bounced) - b0 ))
  figures "$t" "$n" "$size"
  note "$t: end to end ${R[$t.e2e_rate]} msg/s (${R[$t.e2e_MBps]} MB/s), accept ${R[$t.accept_rate]} msg/s; sink got" \
       "${R[$t.sink_count]} of $n, deferred ${R[$t.deferred]}, bounced ${R[$t.bounced]}; instance ${R[$t.inst_ms]} ms/msg; load before ${R[$t.load1]}"
}

# ---------------------------------------------------------------- 5. email authentication
# With AUTH=1 (and dnsmasq and dkimpy here): a dnsmasq on DNS_IP:53 is the instance's DNS
# (env/DNSCACHEIP) and serves example.org's SPF (ip4:127.0.0.1), DKIM key and DMARC (p=reject)
# records.  Signing: relay N x 4 KB from sender@example.org with control/dkim empty (s0),
# then with example.org's line (s1): the difference is a signature's cost.  Checks: control/rules
# made "accept 127.0.0.1" (checked, no relay) and N messages of 4 KB, signed by dkimpy with that
# key, into the local mailboxes with authpolicy checks=off (c0) and checks=on (c1); the delivered
# messages of c1 must say spf=pass dkim=pass dmarc=pass.
auth_ready() {
  ((AUTH)) || return 1
  command -v dnsmasq > /dev/null && "$PY" -c 'import dkim' 2> /dev/null && return 0
  note "AUTH: dnsmasq or python3-dkim missing: section 5 not run"; AUTH=0; return 1
}

auth_setup() {
  local rec
  imc-ctl dkim-keygen example.org bench > "$OUT/keygen.out" 2>&1 || die "imc-ctl dkim-keygen failed: $(tail -2 "$OUT/keygen.out")"
  mv "$INST/control/dkim" "$TMPD/dkim.line"
  : > "$INST/control/dkim"
  rec=$("$PY" -c 'import re,sys; print(",".join(chr(34) + s + chr(34) for s in re.findall(r"\"([^\"]*)\"", open(sys.argv[1]).read())))' "$OUT/keygen.out")
  printf 'keep-in-foreground\nport=53\nlisten-address=%s\nbind-interfaces\nno-resolv\nno-hosts\nlocal=/org/\n' "$DNS_IP" > "$TMPD/dns.conf"
  printf 'txt-record=example.org,"v=spf1 ip4:127.0.0.1 -all"\ntxt-record=_dmarc.example.org,"v=DMARC1; p=reject"\ntxt-record=bench._domainkey.example.org,%s\n' "$rec" >> "$TMPD/dns.conf"
  dnsmasq -C "$TMPD/dns.conf" --pid-file= 2> "$OUT/dnsmasq.err" &
  DNS_PID=$!
  for _ in $(seq 100); do ss -Hlun | grep -q "$DNS_IP:53 " && break; sleep 0.05; done
  ss -Hlun | grep -q "$DNS_IP:53 " || die "dnsmasq did not start on $DNS_IP: $(cat "$OUT/dnsmasq.err")"
  echo "$DNS_IP" > "$INST/env/DNSCACHEIP"
  "$PY" - "$INST/control/dkimkeys/bench.example.org.pem" "$TMPD/signed.eml" <<'PY'
import dkim, sys
line = b"0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789\r\n"
body = line * (4096 // len(line))
m = (b"From: Sender <sender@example.org>\r\nTo: rcpt@bench.example\r\nSubject: bench\r\n"
     b"Date: Sat, 05 Dec 2026 12:00:00 +0000\r\nMessage-ID: <bench@example.org>\r\n\r\n" + body)
sig = dkim.sign(m, b"bench", b"example.org", open(sys.argv[1], "rb").read())
open(sys.argv[2], "wb").write((sig + m).replace(b"\r\n", b"\n"))
PY
  [ -s "$TMPD/signed.eml" ] || die "dkimpy could not sign the inbound message"
}

# the Authentication-Results of one delivered message of the last run
auth_sample() { local f; f=$(find "$INST"/mail/*/new -type f | head -1); [ -n "$f" ] && sed -n '/^Authentication-Results:/,/^[^ \t]/p' "$f" | grep -o '\(spf\|dkim\|dmarc\)=[a-z]*' | tr '\n' ' '; }

phase_auth() {
  local rep=$1
  note "repetition $rep of $REPS: DKIM signing off and on (relay), checks off and on (inbound)"
  : > "$INST/control/dkim"
  phase_relay s0 "$rep" 4096 "$N"
  cp "$TMPD/dkim.line" "$INST/control/dkim"
  mkdir -p "$OUT/dump"; chmod 1777 "$OUT/dump"; rm -f "$OUT/dump/s1"*     # smtp-sink runs as nobody
  SINK_DUMP=$OUT/dump/s1 phase_relay s1 "$rep" 4096 "$N"
  : > "$INST/control/dkim"
  R[s1.$rep.signed]=$(cat "$OUT/dump/s1"* 2>/dev/null | grep -c '^DKIM-Signature: ' || true)
  rm -f "$OUT/dump/s1"*
  rm -f "$TMPD/rules.saved"
  [ -e "$INST/control/rules" ] && cp "$INST/control/rules" "$TMPD/rules.saved"
  echo 'accept 127.0.0.1' > "$INST/control/rules"
  s6-svc -h "$INST/service/smtpd"; sleep 1
  set_control authpolicy checks=off
  phase_inbound c0 "$rep" 1 -F "$TMPD/signed.eml"
  set_control authpolicy checks=on
  phase_inbound c1 "$rep" 1 -F "$TMPD/signed.eml"
  R[c1.$rep.ar]=$(auth_sample)
  clear_mail
  if [ -e "$TMPD/rules.saved" ]; then cp "$TMPD/rules.saved" "$INST/control/rules"; else rm -f "$INST/control/rules"; fi
  s6-svc -h "$INST/service/smtpd"; sleep 1
}

# ---------------------------------------------------------------- 3. Postfix
# run_postfix SCENARIO REP: one postfix-baseline.sh run; its rows appended to $OUT/postfix.tsv
run_postfix() {
  local sc=$1 rep=$2 dir=$OUT/postfix/$1.$2 rc=0
  ((POSTFIX)) || return 0
  mkdir -p "$OUT/postfix"
  note "postfix $sc rep $rep (postfix-baseline.sh, log in $dir.log)"
  "$PY" "$TOOLS" procwatch 0.1 > "$dir.procs" &
  PROCWATCH_PID=$!
  REPS=1 N=$N N100K=$N100K N1M=$N1M SESS=$SESS SCENARIOS=$sc OUT=$dir \
    bash "$POSTFIX_BASELINE" > "$dir.log" 2>&1 &
  PF_PID=$!
  wait "$PF_PID" || rc=$?
  PF_PID=
  stop_pid "$PROCWATCH_PID"; PROCWATCH_PID=
  ((rc == 0)) || { note "postfix-baseline.sh $sc exited $rc: $(tail -3 "$dir.log" | tr '\n' ' ')"; return 0; }
  read -r "R[pf.$sc.$rep.procs_per_msg]" "R[pf.$sc.$rep.procs]" \
    < <("$PY" "$TOOLS" procwindow "$dir.procs" "$dir/$sc.1.samples" "$(pf_n "$sc")")
  [ -s "$OUT/postfix.tsv" ] || head -1 "$dir/runs.tsv" > "$OUT/postfix.tsv"
  awk -F'\t' -v OFS='\t' -v r="$rep" 'NR > 1 { $2 = r; print }' "$dir/runs.tsv" >> "$OUT/postfix.tsv"
  note "postfix $sc: $(grep -v '^ *\[' "$dir/summary.txt" | grep -v concurrency | tr '\n' ' ')"
}

# pf_n SCENARIO: the messages of a Postfix scenario
pf_n() { case $1 in big100k) echo "$N100K" ;; big1m) echo "$N1M" ;; *) echo "$N" ;; esac; }
# pf_procs SCENARIO: Postfix's processes started per message, the median over the repetitions
pf_procs() { local r v=(); for ((r = 1; r <= REPS; r++)); do v+=("${R[pf.$1.$r.procs_per_msg]:-n/a}"); done; median "${v[@]}"; }

# pf SCENARIO FIELD: the median of a column of $OUT/postfix.tsv over that scenario's rows
pf() {
  [ -s "$OUT/postfix.tsv" ] || { echo n/a; return; }
  # shellcheck disable=SC2046
  median $(awk -F'\t' -v sc="$1" -v f="$2" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $1 == sc && (f in c) { print $c[f] }' "$OUT/postfix.tsv")
}
# pf_mem SCENARIO: Postfix's smtpd private KB, n/a when its sampler saw no smtpd (it writes 0)
pf_mem() { local m; m=$(pf "$1" smtpd_private_kb); [ "$m" = 0 ] && m=n/a; echo "$m"; }
# pf_machine_ms SCENARIO: Postfix's whole-machine CPU per message (its sampler left out)
pf_machine_ms() {
  [ -s "$OUT/postfix.tsv" ] || { echo n/a; return; }
  # shellcheck disable=SC2046
  median $(awk -F'\t' -v sc="$1" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $1 == sc { printf "%.3f\n", 1000 * ($c["pf_user_s"] + $c["pf_sys_s"] + $c["src_cpu_s"] + $c["sink_cpu_s"] + $c["other_cpu_s"]) / $c["n"] }' "$OUT/postfix.tsv")
}

# ---------------------------------------------------------------- the run
# relay_pair SCENARIO TAG SIZE COUNT REP: Postfix and imc for one scenario, order by repetition
relay_pair() {
  if (( $5 % 2 )); then run_postfix "$1" "$5"; phase_relay "$2" "$5" "$3" "$4"
  else phase_relay "$2" "$5" "$3" "$4"; run_postfix "$1" "$5"; fi
}

run_all() {
  local rep
  for ((rep = 1; rep <= REPS; rep++)); do
    note "repetition $rep of $REPS: inbound into $MBOXES local mailboxes"
    phase_inbound in1 "$rep" 1
    phase_inbound ind "$rep" d
    clear_mail
    [ "$rep" = 1 ] && [ "$IDLE" -gt 0 ] && phase_idle
    note "repetition $rep of $REPS: relay through the smart host, beside Postfix"
    relay_pair inbound1 r4k 4096 "$N" "$rep"
    relay_pair big100k r100k 102400 "$N100K" "$rep"
    relay_pair big1m r1m 1048576 "$N1M" "$rep"
    if ((AUTH)); then phase_auth "$rep"; fi
  done
}

# ---------------------------------------------------------------- checks
# log_problems: the instance's fatal/warning/alert lines, and how each session ended
log_problems() {
  local d
  mkdir -p "$OUT/logs"
  for d in "$INST"/log/*/; do
    d=${d%/}; [ -f "$d/current" ] || continue
    { cat "$d"/@*.s "$d/current" 2>/dev/null || true; } | s6-tai64nlocal > "$OUT/logs/${d##*/}.log"
  done
  grep -hE ': (fatal|warning|alert|error):' "$OUT"/logs/*.log > "$OUT/log-problems.txt" 2>/dev/null || true
  R[check.log_problems]=$(wc -l < "$OUT/log-problems.txt")
  R[check.smtpd_results]=$(grep -ho 'result=[^ ]*' "$OUT/logs/smtpd.log" 2>/dev/null | sort | uniq -c | awk '{ printf "%s%s %s", s, $2, $1; s = ", " }')
}

final_check() {
  local rep t bad=''
  for ((rep = 1; rep <= REPS; rep++)); do
    for t in in1 ind; do
      [ "${R[$t.$rep.delivered]:-x}" = "$N" ] && [ "${R[$t.$rep.src_fails]:-x}" = 0 ] ||
        bad+=" $t.$rep: ${R[$t.$rep.delivered]:-?} of $N delivered, ${R[$t.$rep.src_fails]:-?} smtp-source failures;"
    done
    for t in r4k:$N r100k:$N100K r1m:$N1M; do
      local n=${t#*:}; t=${t%%:*}
      [ "${R[$t.$rep.sink_count]:-x}" = "$n" ] && [ "${R[$t.$rep.delivered]:-x}" = "$n" ] &&
        [ "${R[$t.$rep.deferred]:-x}" = 0 ] && [ "${R[$t.$rep.bounced]:-x}" = 0 ] && [ "${R[$t.$rep.src_fails]:-x}" = 0 ] ||
        bad+=" $t.$rep: sink ${R[$t.$rep.sink_count]:-?} of $n, delivered ${R[$t.$rep.delivered]:-?}, deferred ${R[$t.$rep.deferred]:-?}, bounced ${R[$t.$rep.bounced]:-?}, ${R[$t.$rep.src_fails]:-?} smtp-source failures;"
    done
  done
  if [ "$IDLE" -gt 0 ]; then
    [ "${R[idle.greeted]:-0}" = "$IDLE" ] && [[ ${R[idle.greet]:-} == ok* ]] ||
      bad+=" idle: ${R[idle.greeted]:-0} of $IDLE greeted, new client: ${R[idle.greet]:-none};"
  fi
  R[check.queue_left]=$(queue_count)
  R[check.quarantine]=$("$PROBE" count "$INST/queue/quarantine")
  log_problems
  if [ -z "$bad" ] && [ "${R[check.queue_left]}" = 0 ] && [ "${R[check.quarantine]}" = 0 ]; then
    R[check]="every message arrived, queue empty, nothing quarantined"
  else
    R[check]="INCOMPLETE:$bad queue left ${R[check.queue_left]}, quarantined ${R[check.quarantine]}"
  fi
}

# ---------------------------------------------------------------- summary
row() { local l=$1; shift; printf '   %-22s%s\n' "$l" "$*"; }
cpu_row() {
  row "" "CPU per message: instance $(med "$1.inst_ms") ms (user $(med "$1.inst_user_s") s + sys $(med "$1.inst_sys_s") s in all)," \
         "machine $(med "$1.mach_ms") ms (busy $(med "$1.busy_pct")%)"
  row "" "processes started per message: $(med "$1.procs_per_msg") ($(med "$1.procs") in the run, machine-wide)"
  row "" "  of the instance's: smtpd service $(med "$1.smtpd_ms") ms (imc-tcpd, imc-smtpd, imc-queue)," \
         "send service $(med "$1.send_ms") ms (imc-send, imc-local or imc-remote)"
}
mem_row() {
  if [ "$(med "$1.smtpd_priv_avg")" = n/a ]; then row "" "imc-smtpd private memory: not sampled (the run is shorter than SAMPLE=${SAMPLE}s)"
  else row "" "imc-smtpd private memory: average $(med "$1.smtpd_priv_avg") KB, max $(med "$1.smtpd_priv_max") KB ($(med "$1.smtpd_max_n") at once at most)"; fi
}
target() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "n/a") print "(target >= " t "x)"; else if (r + 0 >= t) print "(target >= " t "x: met)"; else print "(target >= " t "x: NOT met)" }'; }

summary_inbound() {
  echo "1. inbound into $MBOXES local mailboxes: $N x 4 KB, $SESS sessions by $(( SESS < MBOXES ? SESS : MBOXES )) smtp-source processes"
  row "1 msg/connection" "accept $(med in1.accept_rate) msg/s ($(med in1.accept_s) s); end to end $(med in1.e2e_rate) msg/s ($(med in1.e2e_s) s)"
  cpu_row in1; mem_row in1
  row "$(( N / SESS )) msgs/connection" "accept $(med ind.accept_rate) msg/s ($(med ind.accept_s) s); end to end $(med ind.e2e_rate) msg/s ($(med ind.e2e_s) s)"
  cpu_row ind; mem_row ind
  if [ "$IDLE" -gt 0 ]; then
    row "$IDLE idle connections" "${R[idle.greeted]:-?} greeted; imc-tcpd tree ${R[idle.with.n]:-?} processes, ${R[idle.with.priv]:-?} KB private" \
      "= ${R[idle.per_conn_kb]:-?} KB per connection"
    row "" "(${R[idle.incr_per_conn_kb]:-?} KB per connection above the idle listener's ${R[idle.before.priv]:-?} KB; imc-smtpd ${R[idle.smtpd_avg_kb]:-?} KB each)"
    row "" "a new client meanwhile: ${R[idle.greet]:-?}"
  fi
}

summary_relay() {
  local t n s
  echo "2. relay through the smart host (smtp-source -> imc -> imc-remote -> smtp-sink), $SESS sessions, 1 msg/connection"
  for t in "r4k $N 4 KB" "r100k $N100K 100 KB" "r1m $N1M 1 MB"; do
    read -r t n s <<< "$t"
    row "$s x $n" "end to end $(med "$t.e2e_rate") msg/s ($(med "$t.e2e_MBps") MB/s, $(med "$t.e2e_s") s); accept $(med "$t.accept_rate") msg/s ($(med "$t.accept_s") s)"
    cpu_row "$t"; mem_row "$t"
  done
}

summary_postfix() {
  local sc
  echo "3. Postfix $(dpkg-query -W -f '${Version}' postfix 2>/dev/null || echo '?') in the same run (postfix-baseline.sh, the same N, sessions and smtp-source)"
  ((POSTFIX)) && [ -s "$OUT/postfix.tsv" ] || { row "" "not run (POSTFIX=$POSTFIX; see log.txt)"; return 0; }
  for sc in inbound1 big100k big1m; do
    row "$sc x $(pf "$sc" n)" "end to end $(pf "$sc" e2e_mps) msg/s ($(pf "$sc" e2e_MBps) MB/s); accept $(pf "$sc" inbound_mps) msg/s"
    row "" "CPU per message: postfix $(pf "$sc" pf_cpu_ms_per_msg) ms, machine $(pf_machine_ms "$sc") ms (busy $(pf "$sc" sys_busy_pct)%);" \
           "smtpd private $(pf_mem "$sc") KB; sent $(pf "$sc" sent), deferred $(pf "$sc" deferred)"
    row "" "processes started per message: $(pf_procs "$sc") (machine-wide)"
  done
}

summary_ratios() {
  local a
  echo "4. imc / Postfix"
  a=$(ratio "$(med in1.accept_rate)" "$(pf inbound1 inbound_mps)")
  row "inbound accept 4 KB" "$a $(target "$a" 3)  (imc into Maildirs, 1 msg/conn / Postfix inbound1 accept)"
  row "" "$(ratio "$(med r4k.accept_rate)" "$(pf inbound1 inbound_mps)") while relaying, as Postfix's inbound1 does; $(ratio "$(med ind.accept_rate)" "$(pf inbound1 inbound_mps)") with -d"
  a=$(ratio "$(med r4k.e2e_rate)" "$(pf inbound1 e2e_mps)"); row "end to end 4 KB" "$a $(target "$a" 3)"
  a=$(ratio "$(med r100k.e2e_rate)" "$(pf big100k e2e_mps)"); row "end to end 100 KB" "$a"
  a=$(ratio "$(med r1m.e2e_rate)" "$(pf big1m e2e_mps)"); row "end to end 1 MB" "$a $(target "$a" 1.5)"
  row "CPU per message" "4 KB $(ratio "$(med r4k.inst_ms)" "$(pf inbound1 pf_cpu_ms_per_msg)"), 100 KB $(ratio "$(med r100k.inst_ms)" "$(pf big100k pf_cpu_ms_per_msg)")," \
      "1 MB $(ratio "$(med r1m.inst_ms)" "$(pf big1m pf_cpu_ms_per_msg)") (imc's tree / Postfix's; below 1: imc uses less)"
  row "" "machine: 4 KB $(ratio "$(med r4k.mach_ms)" "$(pf_machine_ms inbound1)"), 100 KB $(ratio "$(med r100k.mach_ms)" "$(pf_machine_ms big100k)")," \
      "1 MB $(ratio "$(med r1m.mach_ms)" "$(pf_machine_ms big1m)"); inbound into Maildirs / Postfix inbound1: $(ratio "$(med in1.inst_ms)" "$(pf inbound1 pf_cpu_ms_per_msg)")"
  a=$(med r4k.procs_per_msg)
  row "processes per message" "imc / Postfix: 4 KB $a / $(pf_procs inbound1) $(awk -v p="$a" 'BEGIN { if (p == "n/a") print "(target <= 0.05)";
        else if (p + 0 <= 0.05) print "(target <= 0.05: met)"; else print "(target <= 0.05: NOT met)" }'), 100 KB $(med r100k.procs_per_msg) / $(pf_procs big100k)," \
      "1 MB $(med r1m.procs_per_msg) / $(pf_procs big1m); inbound into Maildirs $(med in1.procs_per_msg), with -d $(med ind.procs_per_msg)"
  row "memory per connection" "$(ratio "$(med r4k.smtpd_priv_avg)" "$(pf_mem inbound1)") imc-smtpd / Postfix smtpd private (4 KB relay run);" \
      "$(ratio "${R[idle.per_conn_kb]:-n/a}" "$(pf_mem inbound1)") idle connection / Postfix smtpd"
}

summary_auth() {
  local d
  echo "5. email authentication (dnsmasq on $DNS_IP as the DNS cache), $N x 4 KB, $SESS sessions, 1 msg/connection"
  ((AUTH)) || { row "" "not run (AUTH=0, or dnsmasq or python3-dkim missing)"; return 0; }
  row "relay, signing off" "end to end $(med s0.e2e_rate) msg/s; instance $(med s0.inst_ms) ms/msg (send service $(med s0.send_ms)), machine $(med s0.mach_ms) ms/msg"
  row "relay, signing on" "end to end $(med s1.e2e_rate) msg/s; instance $(med s1.inst_ms) ms/msg (send service $(med s1.send_ms)), machine $(med s1.mach_ms) ms/msg"
  d=$(awk -v a="$(med s0.send_ms)" -v b="$(med s1.send_ms)" 'BEGIN { if (a != "n/a" && b != "n/a") printf "%.3f", b - a; else print "n/a" }')
  row "" "a signature costs $d ms of CPU per message (send service, on minus off; rsa-sha256, 2048 bits);" \
         "signed at the sink: ${R[s1.1.signed]:-?} of $N"
  row "inbound, checks off" "accept $(med c0.accept_rate) msg/s, end to end $(med c0.e2e_rate) msg/s; instance $(med c0.inst_ms) ms/msg (smtpd service $(med c0.smtpd_ms)), machine $(med c0.mach_ms) ms/msg"
  row "inbound, checks on" "accept $(med c1.accept_rate) msg/s, end to end $(med c1.e2e_rate) msg/s; instance $(med c1.inst_ms) ms/msg (smtpd service $(med c1.smtpd_ms)), machine $(med c1.mach_ms) ms/msg"
  d=$(awk -v a="$(med c0.smtpd_ms)" -v b="$(med c1.smtpd_ms)" 'BEGIN { if (a != "n/a" && b != "n/a") printf "%.3f", b - a; else print "n/a" }')
  row "" "SPF + DKIM + DMARC cost $d ms of CPU per message in imc-smtpd (on minus off); a delivered message says: ${R[c1.1.ar]:-?}"
  row "" "ratios on/off: accept $(ratio "$(med c1.accept_rate)" "$(med c0.accept_rate)"), machine CPU $(ratio "$(med c1.mach_ms)" "$(med c0.mach_ms)")"
}

summary() {
  local -; set +u
  echo
  echo "==== imc SMTP benchmark beside Postfix, $(date -u +%Y-%m-%dT%H:%M:%SZ) ===="
  echo "machine: $(nproc) cpus, kernel $(uname -r), load at start ${R[env.load]}"
  echo "filesystem of $BENCH_DIR: ${R[env.fs]}"
  echo "tree ${R[env.git]}; N=$N N100K=$N100K N1M=$N1M SESS=$SESS MBOXES=$MBOXES IDLE=$IDLE REPS=$REPS (figures: medians)"
  echo "imc binaries: ${R[env.bin]}"
  echo "imc control: ${R[env.limits]}${CONTROL:+ (CONTROL=$CONTROL)}"
  echo "raw results: $OUT"
  echo
  summary_inbound; echo
  summary_relay; echo
  summary_postfix; echo
  summary_ratios; echo
  summary_auth
  row "load before runs" "imc: in1 $(med in1.load1), ind $(med ind.load1), r4k $(med r4k.load1), r100k $(med r100k.load1)," \
      "r1m $(med r1m.load1); Postfix: $(pf inbound1 load1), $(pf big100k load1), $(pf big1m load1) (1-minute load average)"
  row "check" "${R[check]}"
  row "instance logs" "${R[check.log_problems]} fatal/warning lines (log-problems.txt); imc-smtpd sessions: ${R[check.smtpd_results]}"
  echo
  echo "accept: smtp-source's wall time; end to end: to the newest ctime in mail/*/new (inbound) or"
  echo "the moment smtp-sink counted the last message (relay).  CPU: instance = s6-svscan's whole tree"
  echo "with reaped children (Postfix: master and children); machine = /proc/stat busy time over the"
  echo "run, the load tools included, the memory samplers left out."
}

# ---------------------------------------------------------------- setup and teardown
on_exit() {
  local p k
  for p in "${SRC_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "$PF_PID" ]; then   # postfix-baseline.sh stops Postfix in its own exit trap
    kill "$PF_PID" 2>/dev/null || true
    wait "$PF_PID" 2>/dev/null || true
  fi
  stop_pid "$IDLE_PID"; stop_pid "$SAMPLER_PID"; stop_pid "$PROCWATCH_PID"
  [ -n "$SINK_PID" ] && stop_sink aborted
  stop_pid "$WATCH_PID"
  stop_pid "$DNS_PID"
  stop_instance
  if ((${#R[@]})); then for k in "${!R[@]}"; do echo "$k ${R[$k]}"; done | sort > "$OUT/results.txt"; fi
  if [ -n "$TMPD" ]; then
    if [ "$KEEP" = 1 ]; then note "kept the instance: $INST"; else rm -rf "$TMPD"; fi
  fi
}

preflight() {
  [ -x "$SOURCE" ] && [ -x "$SINK" ] || die "smtp-source/smtp-sink not found (Debian package postfix)"
  [ -x /usr/bin/time ] || die "/usr/bin/time not found (Debian package time)"
  [ -x "$TOP/bin/imc-smtpd" ] && [ -x "$TOP/bin/imc-tcpd" ] || die "build imc first (make)"
  if ((POSTFIX)); then
    [ -f "$POSTFIX_BASELINE" ] || die "postfix-baseline.sh not found at $POSTFIX_BASELINE (set POSTFIX_BASELINE, or POSTFIX=0)"
    [ "$(id -u)" = 0 ] || die "postfix-baseline.sh needs root (or POSTFIX=0)"
  fi
  PORT=$(free_port "$PORT")
  PORT_TAKEN=$PORT SINK_PORT=$(free_port "$SINK_PORT")
}

main() {
  mkdir -p "$OUT" "$BENCH_DIR"
  OUT=$(cd "$OUT" && pwd) BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
  cd "$OUT"
  trap on_exit EXIT
  trap 'exit 130' INT TERM
  preflight
  TMPD=$(mktemp -d "$BENCH_DIR/imc-smtp-bench.XXXXXX")
  R[env.load]=$(cut -d' ' -f1-3 /proc/loadavg)
  R[env.fs]=$(findmnt -n -o FSTYPE,SOURCE,OPTIONS --target "$TMPD" 2>/dev/null || stat -f -c %T "$TMPD")
  R[env.git]="$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$TOP" diff --quiet 2>/dev/null || echo ' (modified)')"
  note "N=$N N100K=$N100K N1M=$N1M SESS=$SESS REPS=$REPS; ports $PORT (imc) $SINK_PORT (sink); instance in $TMPD; raw results in $OUT"
  build_probe
  snapshot_bin
  make_instance
  auth_ready && auth_setup
  start_instance
  run_all
  final_check
  summary | tee "$OUT/summary.txt"
}

main "$@"
