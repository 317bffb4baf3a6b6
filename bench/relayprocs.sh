#!/bin/sh
# bench/relayprocs.sh -- processes started per relayed message on the delivery side.
# A measurement, not a test: it prints figures and never passes or fails.  Root only
# (it needs a pid namespace).
#
#     sh bench/relayprocs.sh [BIN]        (BIN: the programs to measure, default ./bin)
#
# N messages (default 200) are injected one by one, SPACING seconds apart (default 0.1),
# each with `sendmail` to a smart host: an smtp-sink on 127.0.0.1 outside the namespace.
# Everything else (s6-svscan, imc-send, imc-remote, the injector loop) runs in a new pid
# namespace, whose /proc/sys/kernel/ns_last_pid counts every process (and thread) started
# in it and nothing else on this shared machine.  Two rounds:
#   A  the send service up: injection and delivery;
#   B  the send service down: injection only (the same loop, nothing delivered).
# Each round ends with SETTLE seconds (default 5) of waiting, so that the workers'
# idle time is inside it.  (A - B) / N is what delivery costs in processes per message: imc-send's imc-remote
# (and imc-local, imc-convert) runs.  The kernel's own counter (/proc/stat processes)
# is printed beside it for round A; it counts the whole machine.
set -eu
BIN=$(cd "${1:-bin}" && pwd)
N=${N:-200}
SPACING=${SPACING:-0.1}
PORT=${PORT:-$((30000 + $$ % 5000))}

if [ "${RELAYPROCS_INNER:-}" != 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "relayprocs.sh: SKIP: needs root (a pid namespace)"; exit 0; }
  command -v smtp-sink > /dev/null || { echo "relayprocs.sh: SKIP: no smtp-sink"; exit 0; }
  DIR=$(mktemp -d /var/tmp/imc-relayprocs.XXXXXX)
  smtp-sink -u nobody 127.0.0.1:"$PORT" 1000 > /dev/null 2>&1 &
  SINK=$!
  RELAYPROCS_INNER=1 DIR=$DIR PORT=$PORT unshare -fp --mount-proc sh "$0" "$BIN" || true
  kill "$SINK" 2>/dev/null || true
  [ -n "${KEEP:-}" ] && echo "kept $DIR" || rm -rf "$DIR"
  exit 0
fi

PATH=$BIN:$PATH
export PATH
I=$DIR/i
imc-setup --user --port $((PORT + 1)) --no-submission "$I" > /dev/null
echo relay.test > "$I/control/me"
echo "127.0.0.1:$PORT" > "$I/control/smarthost"
echo 1 > "$I/control/retry"
echo 'transfer medium' > "$I/control/loglevel"
IMC_HOME=$I
export IMC_HOME
s6-svscan "$I/service" > /dev/null 2>&1 &
sleep 2
last() { cat /proc/sys/kernel/ns_last_pid; }
machine() { awk '$1 == "processes" { print $2 }' /proc/stat; }
inject() {
  k=0
  while [ "$k" -lt "$N" ]; do
    printf 'Subject: m%s\n\n%s\n' "$k" "$(head -c 3000 /dev/zero | tr '\0' x)" | sendmail -f a@relay.test "r$k@far.test"
    sleep "$SPACING"
    k=$((k + 1))
  done
}
queued() { find "$I/queue/new" "$I/queue/mess" -type f | wc -l; }

# the same steps in both rounds: the loop, then a fixed wait (no polling to count)
a0=$(last); m0=$(machine)
inject
sleep "${SETTLE:-5}"
a1=$(last); m1=$(machine)
left=$(queued)
s6-svc -d "$I/service/send"
s6-svwait -D "$I/service/send"
b0=$(last)
inject
sleep "${SETTLE:-5}"
b1=$(last)
A=$((a1 - a0)); B=$((b1 - b0))
echo "bin: $BIN"
echo "messages: $N, one every ${SPACING}s, to a smart host"
echo "processes in the namespace: with delivery $A, injection only $B"
echo "delivery: $((A - B)) processes for $N messages ($(awk -v a="$A" -v b="$B" -v n="$N" 'BEGIN { printf "%.3f", (a - b) / n }') per message)"
echo "still queued after round A: $left (0 expected)"
echo "imc-remote connections: $(grep -c 'connected to' "$I/log/send/current")"
echo "machine-wide /proc/stat processes over round A: $((m1 - m0)) (other users included)"
s6-svscanctl -t "$I/service"
sleep 1
