# conncache.sh -- the outbound connection cache (control/connectioncache):
# ten messages injected one by one, 0.1 s apart, for one smart host (a sink
# counting connections) use at most two connections and one imc-remote
# process or two; a kept connection the server closes while it is idle
# (the sink's --idle-close), or one the server drops at the next command
# after RSET (--drop-after-rset), is replaced with no deferral: the
# tracking log has no deferred line and the queue is empty.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

PORT=$((20000 + ($$ * 17 + $(date +%s)) % 9000))
start_sink keep "$(hip 3):$PORT" || exit 1
start_sink idle "$(hip 4):$PORT" --idle-close 1 || exit 1
start_sink drop "$(hip 5):$PORT" --drop-after-rset || exit 1

I=$T_TMP/i
t_instance "$I" || { fail setup "instance"; exit 1; }
echo imc.test > "$I/control/me"
echo imc.test > "$I/control/sitedomains"
echo 1 > "$I/control/retry"
echo 'transfer medium' > "$I/control/loglevel"
echo "$(hip 3):$PORT" > "$I/control/smarthost"
IMC_HOME=$I; export IMC_HOME
t_start "$I" || { fail start "services did not come up"; exit 1; }
TRACK=$I/log/track/current

send() { printf 'Subject: %s\n\nbody\n' "$1" | sendmail -f alice@imc.test "$2"; }
no_deferral() { [ -f "$TRACK" ] && grep -q "	delivered	" "$TRACK" && ! grep -q "	deferred	" "$TRACK"; }
remote_pids() { grep -c '' "$W/pids.$1" 2>/dev/null || echo 0; }

# the pids of the imc-remote processes imc-send runs, sampled while the test
# sends (a separate sh: a subshell of this one would run its EXIT trap)
: > "$W/watching"
sh -c 'while [ -e "$1" ]; do pgrep -P "$2" -x imc-remote; sleep 0.05; done | sort -u > "$3"' \
  watch "$W/watching" "$(s6-svstat -p "$I/service/send")" "$W/pids.ten" &
_w=$!
for n in 1 2 3 4 5 6 7 8 9 10; do send "ten $n" "u$n@far.test"; sleep 0.1; done
check "ten messages one by one: all at the smart host" t_wait 20 delivered_is keep 10
rm -f "$W/watching"; wait "$_w"
check "ten messages one by one: at most two connections ($(conns keep))" [ "$(conns keep)" -le 2 ]
check "ten messages one by one: at most two imc-remote processes ($(remote_pids ten))" [ "$(remote_pids ten)" -ge 1 -a "$(remote_pids ten)" -le 2 ]
check "ten messages one by one: nothing deferred" no_deferral
check "ten messages one by one: the queue is empty" t_wait 5 t_queue_empty "$I"

# a server that closes the idle connection after 1 s
echo "$(hip 4):$PORT" > "$I/control/smarthost"
s6-svc -h "$I/service/send"
sleep 1
send idle1 a@far.test
check "idle close: the first message arrives" t_wait 20 delivered_is idle 1
sleep 2.5
check "idle close: the server closed the kept connection" grep -q 'idle for 1s: closing' "$W/idle.log"
send idle2 b@far.test
check "idle close: the second message arrives over a new connection" t_wait 20 delivered_is idle 2
check "idle close: two connections" [ "$(conns idle)" = 2 ]
check "idle close: imc-remote noticed it" t_wait 5 grep -q 'imc-remote: transfer: .*the server closed the kept connection' "$I/log/send/current"
check "idle close: nothing deferred" no_deferral

# a server that drops the kept connection when it is used again
echo "$(hip 5):$PORT" > "$I/control/smarthost"
s6-svc -h "$I/service/send"
sleep 1
send drop1 c@far.test
check "dropped at reuse: the first message arrives" t_wait 20 delivered_is drop 1
sleep 0.5
send drop2 d@far.test
check "dropped at reuse: the second message arrives" t_wait 20 delivered_is drop 2
check "dropped at reuse: the sink dropped a kept connection" grep -q 'dropping the connection after RSET' "$W/drop.log"
check "dropped at reuse: a new connection replaced it" [ "$(conns drop)" = 2 ]
check "dropped at reuse: nothing deferred" no_deferral
check "dropped at reuse: the queue is empty" t_wait 5 t_queue_empty "$I"

t_stop "$I"
t_done
