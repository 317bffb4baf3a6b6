# crash_remote.sh -- crash safety of remote delivery: 500 messages to an
# SMTP sink while imc-send and its imc-remote runs are killed with SIGKILL at
# random moments (s6 restarts imc-send).  Afterwards none is missing at the
# sink and the queue is empty; the number of duplicates is printed.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

N=${CRASH_N:-500}
start_sink sink "$(hip 3):25" || exit 1
I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo crash.example > "$I/control/me"
echo crash.example > "$I/control/sitedomains"
echo 1 > "$I/control/retry"                # a killed run defers: retry at once
echo "far.test [$(hip 3)]" > "$I/control/routes"
t_start "$I" || { fail start "services did not come up"; exit 1; }

t_killer "$I" imc-remote "$T_TMP/stop" &
T_PIDS="$T_PIDS $!"
KPID=$!

fails=0 i=0
# N messages, and more (up to 4 N) until both kinds of kill have happened
while [ $i -lt "$N" ] || { [ $i -lt $((4 * N)) ] && ! t_bothkilled "$T_TMP/stop" imc-remote; }; do
  printf 'Subject: crash %d\nX-Crash: %d\n\nmessage %d\n' $i $i $i | sendmail -f a@crash.example "r$((i % 7))@far.test" || fails=$((fails + 1))
  i=$((i + 1))
done
sleep 2
touch "$T_TMP/stop"
wait "$KPID" 2>/dev/null
echo "kills: $(tr '\n' ' ' < "$T_TMP/stop.kills" 2>/dev/null)"
check "imc-send was killed at least once" test "$(t_kills "$T_TMP/stop" imc-send)" -ge 1
check "imc-remote was killed at least once" test "$(t_kills "$T_TMP/stop" imc-remote)" -ge 1
check "every injection accepted" test "$fails" = 0
check "queue drains after the kills" t_wait 120 t_queue_empty "$I"
"$PYTHON" - "$W/sink.md" "$i" <<'PY' > "$T_TMP/tally"
import os, sys, collections
d, n = sys.argv[1], int(sys.argv[2])
seen = collections.Counter()
for f in os.listdir(d):
    for line in open(os.path.join(d, f), "rb"):
        if line.startswith(b"X-Crash: "):
            seen[int(line.split()[1])] += 1
            break
missing = [k for k in range(n) if seen[k] == 0]
print("missing", len(missing), missing[:10])
print("duplicates", sum(c - 1 for c in seen.values() if c > 1))
PY
cat "$T_TMP/tally"
check "no message missing at the sink" grep -q '^missing 0 ' "$T_TMP/tally"
t_done
