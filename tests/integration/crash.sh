# crash.sh -- crash safety: 500 messages injected while imc-send and its
# imc-local runs are killed with SIGKILL at random moments and restarted by
# s6.  Afterwards every message is in its Maildir at least once, none is
# missing, the queue is empty, and the number of duplicates is printed.
. "$(dirname "$0")/../lib.sh"

N=${CRASH_N:-500}
I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo crash.example > "$I/control/me"
echo crash.example > "$I/control/sitedomains"
echo 1 > "$I/control/retry"          # a killed imc-local defers: retry at once
for k in 0 1 2 3 4; do echo "mailbox m$k \"M $k\""; done > "$I/control/directory"
imc-ctl compile > /dev/null
t_start "$I" || { fail start "services did not come up"; exit 1; }

t_killer "$I" imc-local "$T_TMP/stop" &
KPID=$!
T_PIDS="$T_PIDS $KPID"

fails=0
i=0
# N messages, and more (up to 4 N) until both kinds of kill have happened
while [ $i -lt "$N" ] || { [ $i -lt $((4 * N)) ] && ! t_bothkilled "$T_TMP/stop" imc-local; }; do
  printf 'Subject: crash %d\nX-Crash: %d\n\nmessage %d\n' $i $i $i | sendmail -f m0@crash.example "m$((i % 5))@crash.example" || fails=$((fails + 1))
  i=$((i + 1))
done
sleep 2
touch "$T_TMP/stop"
wait "$KPID" 2>/dev/null
echo "kills: $(tr '\n' ' ' < "$T_TMP/stop.kills" 2>/dev/null)"
check "imc-send was killed at least once" test "$(t_kills "$T_TMP/stop" imc-send)" -ge 1
check "imc-local was killed at least once" test "$(t_kills "$T_TMP/stop" imc-local)" -ge 1
check "every injection accepted" test "$fails" = 0
check "queue drains after the kills" t_wait 120 t_queue_empty "$I"

"$PYTHON" - "$I/mail" "$i" <<'PY' > "$T_TMP/tally"
import os, sys, collections
mail, n = sys.argv[1], int(sys.argv[2])
seen = collections.Counter()
for box in os.listdir(mail):
    d = os.path.join(mail, box, "new")
    for f in os.listdir(d):
        for line in open(os.path.join(d, f), "rb"):
            if line.startswith(b"X-Crash: "):
                k = int(line.split()[1])
                if box != "m%d" % (k % 5):
                    print("misdelivered", k, box)
                seen[k] += 1
                break
missing = [k for k in range(n) if seen[k] == 0]
dups = sum(c - 1 for c in seen.values() if c > 1)
print("missing", len(missing), missing[:10])
print("duplicates", dups)
PY
cat "$T_TMP/tally"
check "no message missing" grep -q '^missing 0 ' "$T_TMP/tally"
check "no message misdelivered" t_lacks "$T_TMP/tally" misdelivered
t_done
