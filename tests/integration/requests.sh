# requests.sh -- imc-send carries out the administrator's requests in
# queue/ctl/ (docs/INTERNALS.md section 13), written here by hand the way
# imc-qctl writes them: hold and release a destination (mail waits, then
# goes at once), hold a message, delete silently, delete with a bounce,
# requeue a quarantined file; a request made while imc-send is down is
# carried out when it starts.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

start_sink sink "$(hip 3):25" || exit 1
I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo site.test > "$I/control/me"
echo site.test > "$I/control/sitedomains"
echo 'mailbox alice "Alice"' > "$I/control/directory"
printf 'held.test [%s]\nfree.test [%s]\ndead.test [127.0.0.1]:1\n' "$(hip 3)" "$(hip 3)" > "$I/control/routes"
IMC_HOME=$I imc-ctl compile > /dev/null
t_start "$I" || { fail start "services did not come up"; exit 1; }
n=0
request() {
  n=$((n + 1))
  printf '%s\n' "$1" > "$I/queue/ctl/.r$n"
  mv "$I/queue/ctl/.r$n" "$I/queue/ctl/r$n.$$"
  poke C
}
# poke LINE: write a line to the trigger without blocking (nobody may be reading)
poke() {
  "$PYTHON" -c 'import os, sys
try:
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK); os.write(fd, sys.argv[2].encode() + b"\n"); os.close(fd)
except OSError:
    pass' "$I/queue/trigger" "$1"
}
send() { _s=$1; shift; printf 'Subject: %s\n\nbody\n' "$_s" | sendmail -f alice@site.test "$@"; }
sink_has() { grep -l "^Subject: $1\$" "$W"/sink.md/msg* > /dev/null 2>&1; }
qid_of() { awk -F'\t' -v r="$1" '$2=="received" && $6==r {id=$3} END {print id}' "$I/log/track/current"; }

request 'hold @held.test'
check "the request is carried out and removed" t_wait 5 sh -c "[ -z \"\$(ls '$I/queue/ctl')\" ]"
check "the held destination is remembered" grep -qx 'held.test' "$I/queue/info/held"
send one x@held.test
send two y@free.test
check "other destinations flow" t_wait 10 sink_has two
sleep 2
check "the held destination waits" sh -c "! grep -l '^Subject: one' '$W'/sink.md/msg* >/dev/null 2>&1"
request 'release @held.test'
check "release sends it at once" t_wait 10 sink_has one

send three z@dead.test
check "deferred to a dead route" t_wait 10 grep -q 'deferred.*z@dead.test' "$I/log/track/current"
id=$(qid_of z@dead.test)
request "hold $id"
check "a held message is marked in its state file" t_wait 5 sh -c "grep -q '^q	[0-9]*	h' '$I'/queue/info/*/$id"
request "delete $id"
check "delete removes it silently" t_wait 10 sh -c "! ls '$I'/queue/mess/*/$id >/dev/null 2>&1"
check "delete is tracked" grep -q "	deleted	$id	" "$I/log/track/current"
check "no bounce for a silent delete" t_count_is "$I/mail/alice" 0

send four w@dead.test
t_wait 10 sh -c "grep -q 'received.*w@dead.test' '$I/log/track/current'"
id=$(qid_of w@dead.test)
check "a dead destination is not retried per message: it waits" t_wait 10 sh -c "ls '$I'/queue/info/*/$id >/dev/null 2>&1"
request "bounce $id"
check "delete with a bounce: the sender gets it" t_wait 10 t_count_is "$I/mail/alice" 1
check "the bounce names the recipient" grep -q 'w@dead.test' "$I"/mail/alice/new/*

# a request made while imc-send is down waits in queue/ctl/ and is carried out at start
s6-svc -d "$I/service/send"; s6-svwait -D -t 10000 "$I/service/send"
printf 'not a queue file' > "$I/queue/quarantine/6b0a4210827530043b1"
"$PYTHON" - "$I/queue/quarantine/6b0a44e5ea653000b6b" <<'PY'
import sys, time
msg = b"Subject: five\n\nrequeued\n"; env = b"Falice@site.test\0Tv@free.test\0\0"
tr = (b"IMCQ1 M%016x E%08x T%016x END" % (len(msg), len(env), int(time.time()))).ljust(63) + b"\n"
open(sys.argv[1], "wb").write(msg + env + tr)
PY
request 'requeue 6b0a44e5ea653000b6b'
check "the request waits while imc-send is down" test -n "$(ls "$I/queue/ctl")"
s6-svc -u "$I/service/send"
check "carried out at start: the requeued message is delivered" t_wait 10 sink_has five
check "the other quarantined file stays" test -f "$I/queue/quarantine/6b0a4210827530043b1"
t_done
