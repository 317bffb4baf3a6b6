# notify.sh -- message archival (control/archive) and the connector-fault
# notices of control/notify: a copy of each message in archive/in or
# archive/out named by its queue id (none while archive is none); a bad
# control file, free space below control/diskfree and a message older than
# control/queuewarn each tell the postmaster once, not again within the hour;
# the disk notice gets into the queue although imc-queue refuses other mail.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

start_sink ok "$(hip 3):25" || exit 1
I=$T_TMP/i
t_instance "$I" || { fail setup instance; exit 1; }
echo imc.test > "$I/control/me"
echo imc.test > "$I/control/sitedomains"
printf 'mailbox alice "Alice"\nmailbox pm "Postmaster"\n' > "$I/control/directory"
echo pm@imc.test > "$I/control/postmaster"
printf 'out.test [%s]\ndead.test [%s]:1\n' "$(hip 3)" "$(hip 3)" > "$I/control/routes"
echo 1h > "$I/control/retry"
IMC_HOME=$I imc-ctl compile > /dev/null || { fail setup compile; exit 1; }
IMC_HOME=$I; export IMC_HOME
t_start "$I" || { fail start "services did not come up"; exit 1; }
A=$I/mail/alice PM=$I/mail/pm
hup() { s6-svc -h "$I/service/send"; }
send() { _s=$1; shift; printf 'Subject: %s\n\nbody of %s\n' "$_s" "$_s" | sendmail -v -f alice@imc.test "$@" 2>&1 >/dev/null | sed -n 's/.*queued as //p'; }
notices() { grep -l "^Subject: Connector fault: $1" "$PM"/new/* 2>/dev/null | wc -l | tr -d ' '; }
notices_is() { [ "$(notices "$1")" = "$2" ]; }
narchived() { find "$I/archive/in" "$I/archive/out" -type f | wc -l | tr -d ' '; }

# ---- archival
id0=$(send none alice@imc.test)
check "archive none: delivered" t_wait 10 t_count_is "$A" 1
check "archive none: nothing archived" [ "$(narchived)" = 0 ]
echo both > "$I/control/archive"
hup
t_wait 10 grep -q 'reread the control files' "$I/log/send/current"
id1=$(send inonly alice@imc.test)
id2=$(send outonly bob@out.test)
id3=$(send both alice@imc.test carol@out.test)
check "archive both: all delivered" t_wait 10 sh -c "[ \"\$(find '$A/new' -type f | wc -l)\" = 3 ] && [ \"\$(find '$W/ok.md' -type f -name 'msg*' | wc -l)\" = 2 ]"
check "archive: local mail in archive/in, by id" sh -c "[ -f '$I/archive/in/$id1' ] && [ ! -e '$I/archive/out/$id1' ]"
check "archive: remote mail in archive/out, by id" sh -c "[ -f '$I/archive/out/$id2' ] && [ ! -e '$I/archive/in/$id2' ]"
check "archive: a message for both sides in both" sh -c "[ -f '$I/archive/in/$id3' ] && [ -f '$I/archive/out/$id3' ]"
check "archive: the copy holds the message" grep -q '^body of outonly$' "$I/archive/out/$id2"
check "archive: the copy is a valid queue file (trailer)" sh -c "tail -c 64 '$I/archive/in/$id1' | grep -q '^IMCQ1 M'"
check "archive: the copy stays after the queue is empty" sh -c "[ -f '$I/archive/in/$id1' ] && [ ! -e '$I/queue/new/$id1' ]"
echo out > "$I/control/archive"
hup
sleep 1
id4=$(send outagain alice@imc.test dave@out.test)
check "archive out: only archive/out" t_wait 10 sh -c "[ -f '$I/archive/out/$id4' ] && [ ! -e '$I/archive/in/$id4' ]"

# ---- a control file that does not parse
echo banana > "$I/control/maxlocal"
hup
check "bad control file: the postmaster is told" t_wait 10 notices_is 'bad control file' 1
check "bad control file: the notice names the file and line" sh -c "grep -l '^Subject: Connector fault: bad control file' '$PM'/new/* | xargs grep -q 'control/maxlocal:1'"
hup
sleep 2
check "bad control file: not again within the hour" [ "$(notices 'bad control file')" = 1 ]
rm -f "$I/control/maxlocal"
hup

# ---- free space below control/diskfree
echo 99% > "$I/control/diskfree"
hup
check "disk low: the postmaster is told although the queue refuses mail" t_wait 10 notices_is 'disk space low' 1
out=$(printf 'Subject: x\n\nx\n' | sendmail -f alice@imc.test alice@imc.test 2>&1; echo "rc=$?")
check "disk low: other mail is refused meanwhile (temporary)" sh -c "echo '$out' | grep -q 'rc=75'"
hup
sleep 2
check "disk low: not again within the hour" [ "$(notices 'disk space low')" = 1 ]
rm -f "$I/control/diskfree"
hup

# ---- a message older than control/queuewarn
send stuck erin@dead.test > /dev/null
check "backlog: the message waits (deferred)" t_wait 10 grep -q "	deferred	.*erin@dead.test" "$I/log/track/current"
echo 1 > "$I/control/queuewarn"
sleep 2
hup
check "backlog: the postmaster is told" t_wait 10 notices_is 'queue backlog' 1
check "backlog: the notice names the message" sh -c "grep -l '^Subject: Connector fault: queue backlog' '$PM'/new/* | xargs grep -q 'has waited'"
hup
sleep 2
check "backlog: not again within the hour" [ "$(notices 'queue backlog')" = 1 ]
check "notices come from MAILER-DAEMON, marked auto-generated" sh -c "grep -l '^Subject: Connector fault' '$PM'/new/* | xargs grep -L '^Auto-Submitted: auto-generated' | grep -q . && exit 1 || exit 0"
t_done
