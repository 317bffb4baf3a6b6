# load.sh -- 1,000 concurrent SMTP sessions: tests/tools/loadclient.py opens
# 1,000 connections to imc-tcpd (from 10 source addresses, 100 each), waits
# until every one is greeted, then sends 5 messages on each, all at once
# (5,000 in all), relayed through imc-queue, imc-send and imc-remote to an
# SMTP sink (control/routes).  control/maxinbound and control/maxperip are
# raised to allow it, and the descriptor limit (ulimit -n) for the client.
# Meanwhile tests/tools/probe.py connects from another address every second
# and tests/tools/memwatch.py samples imc-tcpd's and the imc-smtpd
# processes' memory.
#
# Checked: every session greeted and every message accepted; every accepted
# message arrives at the sink (none missing, and no duplicate: nothing is
# killed here); the queue drains; every probe got its 220 within 5 s; no
# session was refused (imc-tcpd logs none); imc-tcpd's resident size stays
# under 8 MB and grows by less than 2 MB from its first sample (its tables
# are fixed-size, sized for TCPD_MAXCHILD: a connection costs it nothing);
# an imc-smtpd session costs less than 512 KB of private memory (about 75 KB
# measured).  Printed: connect and send times, messages/s accepted and end
# to end, the most sessions open at once, imc-tcpd's RSS, the sessions' RSS
# and private memory in all and per connection, and the probes' greeting
# times.  control/retry is 1 s, so that a deferral (bin/ being rebuilt under
# the test) does not hold a message for the default 15 minutes.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

CONNS=${LOAD_CONNS:-1000}
MSGS=${LOAD_MSGS:-5}
N=$((CONNS * MSGS))
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((CONNS + 200)) ] ||
  { fail setup "ulimit -n is $(ulimit -n), below $((CONNS + 200)) (hard limit $(ulimit -Hn))"; exit 1; }

start_sink sink "$(hip 3):25" || exit 1
I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo load.example > "$I/control/me"
echo load.example > "$I/control/sitedomains"
echo "far.test [$(hip 3)]" > "$I/control/routes"
echo 1 > "$I/control/retry"                         # a deferral retries at once
echo $((CONNS + 100)) > "$I/control/maxinbound"     # the sessions, the probe, room
echo 150 > "$I/control/maxperip"                    # 100 sessions per source address
t_start "$I" || { fail start "services did not come up"; exit 1; }
t_wait 10 sh -c "ss -Hltn | grep -q '127.0.0.1:$T_PORT '" || { fail start "no listener"; exit 1; }

SOURCES=$(for k in 10 11 12 13 14 15 16 17 18 19; do printf '%s,' "$(hip $k)"; done)
"$PYTHON" "$TOP/tests/tools/memwatch.py" --home "$I" --stop "$T_TMP/stop" > "$T_TMP/mem.out" 2> "$T_TMP/mem.err" &
MPID=$!
"$PYTHON" "$TOP/tests/tools/probe.py" --server "127.0.0.1:$T_PORT" --source "$(hip 9)" \
  --stop "$T_TMP/stop" --every 1 --timeout 5 > "$T_TMP/probe.out" 2> "$T_TMP/probe.err" &
PPID_=$!
T_PIDS="$T_PIDS $MPID $PPID_"
sleep 1                                             # a quiet sample and probe first

start=$(date +%s)
timeout 120 "$PYTHON" "$TOP/tests/tools/loadclient.py" --server "127.0.0.1:$T_PORT" \
  --conns "$CONNS" --msgs "$MSGS" --sources "$SOURCES" --remote far.test \
  --out "$T_TMP/accepted" > "$T_TMP/client.out" 2> "$T_TMP/client.err"
crc=$?
sent=$(date +%s)
check "queue drains" t_wait 90 t_queue_empty "$I"
check "every accepted message at the sink" t_wait 30 delivered_is sink "$(wc -l < "$T_TMP/accepted")"
end=$(date +%s)
touch "$T_TMP/stop"
wait "$MPID" "$PPID_" 2>/dev/null

sed 's/^/client: /' "$T_TMP/client.out"
[ -s "$T_TMP/client.err" ] && sed 's/^/client stderr: /' "$T_TMP/client.err" | head -5
sed 's/^/memory: /' "$T_TMP/mem.out"
[ -s "$T_TMP/mem.err" ] && sed 's/^/memwatch stderr: /' "$T_TMP/mem.err" | head -5
sed 's/^/probe: /' "$T_TMP/probe.out"
[ -s "$T_TMP/probe.err" ] && sed 's/^/probe stderr: /' "$T_TMP/probe.err" | head -5
get() { awk -v k="$2" '$1 == k { n = $2 } END { print n + 0 }' "$1"; }
acc=$(get "$T_TMP/client.out" accepted)
echo "accepted $acc messages in $(get "$T_TMP/client.out" send_seconds) s:" \
  "$(get "$T_TMP/client.out" rate) messages/s; end to end $N in $((end - start)) s:" \
  "$((N / (end - start + 1))) messages/s"
echo "peak connections: $(get "$T_TMP/client.out" peak_open) open at the client," \
  "$(get "$T_TMP/mem.out" smtpd_peak) imc-smtpd processes at once"
echo "imc-tcpd RSS: $(get "$T_TMP/mem.out" tcpd_rss_first) KB first, $(get "$T_TMP/mem.out" tcpd_rss_peak) KB peak;" \
  "imc-smtpd: $(get "$T_TMP/mem.out" per_conn_private) KB private and $(get "$T_TMP/mem.out" per_conn_rss) KB RSS per session," \
  "$(get "$T_TMP/mem.out" smtpd_private_peak) KB private and $(get "$T_TMP/mem.out" smtpd_rss_peak) KB RSS in all at the peak"

check "all $CONNS sessions greeted" test "$(get "$T_TMP/client.out" greeted)" = "$CONNS"
check "$CONNS sessions open at once" test "$(get "$T_TMP/client.out" peak_open)" = "$CONNS"
check "all $N messages accepted" test "$crc" = 0 -a "$acc" = "$N"
"$PYTHON" "$TOP/tests/tools/tally.py" --accepted "$T_TMP/accepted" --sink "$W/sink.md" > "$T_TMP/tally"
sed 's/^/tally: /' "$T_TMP/tally"
check "no accepted message missing" test "$(get "$T_TMP/tally" missing)" = 0
check "no duplicate, nothing misdelivered" \
  test "$(get "$T_TMP/tally" duplicates)" = 0 -a "$(get "$T_TMP/tally" misdelivered)" = 0
check "the probe was answered every second (220 within 5 s; failures: $(sed -n 's/^failure_list //p' "$T_TMP/probe.out"))" \
  test "$(get "$T_TMP/probe.out" failures)" = 0 -a "$(get "$T_TMP/probe.out" probes)" -ge 5
check "no session refused by imc-tcpd" t_lacks "$I/log/smtpd/current" refused
check "imc-smtpd processes seen at the peak" test "$(get "$T_TMP/mem.out" smtpd_peak)" -ge $((CONNS * 9 / 10))
check "imc-tcpd RSS under 8 MB" test "$(get "$T_TMP/mem.out" tcpd_rss_peak)" -gt 0 -a "$(get "$T_TMP/mem.out" tcpd_rss_peak)" -lt 8192
check "imc-tcpd RSS grew by less than 2 MB" \
  test $(( $(get "$T_TMP/mem.out" tcpd_rss_peak) - $(get "$T_TMP/mem.out" tcpd_rss_first) )) -lt 2048
check "an imc-smtpd session costs under 512 KB of private memory" \
  test "$(get "$T_TMP/mem.out" per_conn_private)" -gt 0 -a "$(get "$T_TMP/mem.out" per_conn_private)" -lt 512
t_done
