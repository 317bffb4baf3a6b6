# restrict_list.sh -- delivery restrictions (control/senders.allow,
# senders.deny) that name a distribution list cover the list's members,
# nested lists too:
#   senders.allow: staff (a list of alice and the list team: bob, carol);
#   senders.deny: interns (a list of carol);
# bin/sendmail from bob (a member through team) reaches the remote sink;
# from dave (in no list) and from carol (denied through interns) it bounces
# with 5.7.1 (parsed with Python's email package); over SMTP (swaks, a
# relay client) bob gets 250 at RCPT and dave and carol 550 5.7.1.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

command -v swaks > /dev/null || { echo "SKIP: swaks is not installed"; exit 0; }
I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo mx.example.com > "$I/control/me"
echo example.com > "$I/control/sitedomains"
cat > "$I/control/directory" <<'DIR'
mailbox alice "Alice"
mailbox bob "Bob"
mailbox carol "Carol"
mailbox dave "Dave"
list team bob,carol
list staff alice,team
list interns carol
DIR
imc-ctl compile > /dev/null || fail compile "imc-ctl compile"
echo staff > "$I/control/senders.allow"
echo interns@example.com > "$I/control/senders.deny"
start_sink out "$(hip 25):25" || exit 1
printf 'remote.example [%s]:25\n' "$(hip 25)" > "$I/control/routes"
imc-ctl check > "$T_TMP/check.out" 2>&1 && pass ctl-check || fail ctl-check "$(cat "$T_TMP/check.out")"
t_start "$I" || { fail start "services did not come up"; exit 1; }
M=$I/mail

# bounced_571 MAILBOX SUBJECT: the mailbox holds a bounce of SUBJECT for x@remote.example, 5.7.1
bounced_571() {
  _b=$(grep -l "^Subject: $2\$" "$M/$1"/new/* 2>/dev/null | xargs grep -l '^Content-Type: multipart/report' 2>/dev/null | head -1)
  [ -n "$_b" ] && dsn_check "$_b" "
r = rcpts[0]
assert len(rcpts) == 1 and r['Final-Recipient'] == 'rfc822; x@remote.example', r['Final-Recipient']
assert r['Action'] == 'failed' and r['Status'] == '5.7.1', (r['Action'], r['Status'])
assert 'not allowed to send out' in r['Diagnostic-Code'], r['Diagnostic-Code']
"
}

printf 'Subject: from-bob\n\nbody\n' | sendmail -f bob@example.com x@remote.example
check "bob (staff through team) sends out" t_wait 15 delivered_is out 1
printf 'Subject: from-alice\n\nbody\n' | sendmail -f alice@example.com x@remote.example
check "alice (staff) sends out" t_wait 15 delivered_is out 2
printf 'Subject: from-dave\n\nbody\n' | sendmail -f dave@example.com x@remote.example
check "dave (in no list) bounces with 5.7.1" t_wait 15 bounced_571 dave from-dave
printf 'Subject: from-carol\n\nbody\n' | sendmail -f carol@example.com x@remote.example
check "carol (denied through interns) bounces with 5.7.1" t_wait 15 bounced_571 carol from-carol
check "nothing more reached the sink" delivered_is out 2
check "bob's copy is at the sink" sh -c "grep -l '^Subject: from-bob' '$W/out.md'/msg* | grep -q ."

# over SMTP: loopback relays by default
sw() { swaks --server "127.0.0.1:$T_PORT" --from "$1@example.com" --to x@remote.example --quit-after RCPT > "$T_TMP/sw-$1.out" 2>&1; }
sw bob
check "SMTP: bob 250 at RCPT" grep -q '^<-  250 2\.1\.5' "$T_TMP/sw-bob.out"
for u in dave carol; do
  sw $u
  check "SMTP: $u 550 5.7.1 at RCPT" grep -q '^<\*\* 550 5\.7\.1 sender not allowed to send out' "$T_TMP/sw-$u.out"
done
t_stop "$I"
t_done
