# daemon.sh -- imc-send as a daemon: quarantine of files that fail
# validation (never a crash), removal of debris, deferral with a durable
# recipient state and a retry on schedule, SIGHUP rereads control files but
# keeps the old ones when the new ones do not parse, SIGTERM stops cleanly.
. "$(dirname "$0")/../lib.sh"

I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo d.example > "$I/control/me"
echo d.example > "$I/control/sitedomains"
echo 2 > "$I/control/retry"
printf 'mailbox bob "Bob"\nmailbox ann "Ann"\n' > "$I/control/directory"
imc-ctl compile > /dev/null
# debris from a crashed writer: an old one goes, a young one stays
echo junk > "$I/queue/tmp/00000001000000000001"; touch -d '3 days ago' "$I/queue/tmp/00000001000000000001"
echo junk > "$I/queue/tmp/00000001000000000002"
t_start "$I" || { fail start "services did not come up"; exit 1; }
M=$I/mail
pid=$(s6-svstat -p "$I/service/send")
check "old debris removed at start" t_wait 5 test ! -e "$I/queue/tmp/00000001000000000001"
check "young tmp file kept" test -e "$I/queue/tmp/00000001000000000002"
rm -f "$I/queue/tmp/00000001000000000002"

# files that fail validation are quarantined and imc-send goes on
printf 'not a queue file' > "$I/queue/new/6b0a4210827530043b1"
echo hi | sendmail -f ann@d.example bob@d.example
check "garbage quarantined" t_wait 10 test -f "$I/queue/quarantine/6b0a4210827530043b1"
check "quarantine logged" t_wait 5 grep -q 'quarantined 6b0a4210827530043b1' "$I/log/send/current"
check "delivery goes on" t_wait 10 t_count_is "$M/bob" 1
"$PYTHON" - "$I/queue/new/6b0a4210827530043c2" <<'PY'
import sys
msg = b"Subject: cut\n\nx\n"; env = b"Fann@d.example\0Tbob@d.example\0\0"
tr = b"IMCQ1 M%016x E%08x T%016x END" % (len(msg), len(env), 0)
tr = tr + b" " * (63 - len(tr)) + b"\n"
open(sys.argv[1], "wb").write((msg + env + tr)[:-10])
PY
printf '\n' > "$I/queue/trigger"
check "truncated file quarantined" t_wait 10 test -f "$I/queue/quarantine/6b0a4210827530043c2"
check "imc-send never restarted" test "$(s6-svstat -p "$I/service/send")" = "$pid"

# a temporary local failure: state file, then a retry that succeeds
mkdir -p "$M" && : > "$M/ann"
echo hi | sendmail -f bob@d.example ann@d.example
check "deferred message moves to mess/" t_wait 10 sh -c "find '$I/queue/mess' -type f | grep -q ."
info=$(find "$I/queue/info" -type f -name '[0-9a-f]*' | head -1)
check "state file records the pending recipient" sh -c "grep -q '^r	P	1	' '$info'"
check "state file ends with its count" sh -c "tail -1 '$info' | grep -q '^end	1$'"
check "deferral tracked" t_wait 5 grep -q '	deferred	' "$I/log/track/current"
rm "$M/ann"
check "retried on schedule and delivered" t_wait 15 t_count_is "$M/ann" 1
check "queue empty after the retry" t_wait 5 t_queue_empty "$I"

# HUP: a bad control file is refused and the old settings kept; a good one is taken
echo 'not a domain!' > "$I/control/sitedomains"
s6-svc -h "$I/service/send"
check "bad control file refused on HUP" t_wait 5 grep -q 'keeping the old settings' "$I/log/send/current"
echo hi | sendmail -f bob@d.example ann@d.example
check "old settings still deliver" t_wait 10 t_count_is "$M/ann" 2
printf 'd.example\nother.example\n' > "$I/control/sitedomains"
s6-svc -h "$I/service/send"
check "good control file taken on HUP" t_wait 5 grep -q 'reread the control files' "$I/log/send/current"
echo hi | sendmail -f bob@d.example ann@other.example
check "new site domain delivers" t_wait 10 t_count_is "$M/ann" 3

# TERM: a clean stop
s6-svc -d "$I/service/send"
check "stops on TERM" s6-svwait -D -t 10000 "$I/service/send"
check "says it stopped" t_wait 5 grep -q 'imc-send: init: stopped' "$I/log/send/current"
check "exit code 0" sh -c "s6-svstat -e '$I/service/send' | grep -q '^0$'"
t_done
