# addrspace.sh -- control/addressspace for local submitters: mail from
# bin/sendmail and from pickup/ to a domain outside the address space
# bounces with status 5.7.1 (the bounce parsed with Python's email
# package), as an SMTP relay client is refused at RCPT (swaks, 550 5.7.1);
# a recipient inside it (routed to a Python sink) and a local one are
# delivered; a list member outside the space is not checked (as for SMTP);
# the null sender's mail is not refused.
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
list mixed bob,carol@faraway.example
DIR
imc-ctl compile > /dev/null || fail compile "imc-ctl compile"
printf 'inside.example\n.sub.example\n' > "$I/control/addressspace"
start_sink in "$(hip 25):25" || exit 1
printf 'inside.example [%s]:25\nx.sub.example [%s]:25\nfaraway.example [%s]:25\noutside.example [%s]:25\n' \
  "$(hip 25)" "$(hip 25)" "$(hip 25)" "$(hip 25)" > "$I/control/routes"
imc-ctl check > "$T_TMP/check.out" 2>&1 && pass ctl-check || fail ctl-check "$(cat "$T_TMP/check.out")"
t_start "$I" || { fail start "services did not come up"; exit 1; }
M=$I/mail

# the bounce in MAILBOX whose copy has Subject SUBJECT
bounce_of() { grep -l "^Subject: $2\$" "$M/$1"/new/* 2>/dev/null | xargs grep -l '^Content-Type: multipart/report' 2>/dev/null | head -1; }
has_bounce() { [ -n "$(bounce_of "$1" "$2")" ]; }
# one_failed SUBJECT RCPT: alice's bounce of SUBJECT reports RCPT alone, failed with 5.7.1
one_failed() {
  _b=$(bounce_of alice "$1")
  [ -n "$_b" ] && dsn_check "$_b" "
assert len(rcpts) == 1, [r['Final-Recipient'] for r in rcpts]
r = rcpts[0]
assert r['Final-Recipient'] == 'rfc822; $2', r['Final-Recipient']
assert r['Action'] == 'failed' and r['Status'] == '5.7.1', (r['Action'], r['Status'])
assert 'address space' in r['Diagnostic-Code'], r['Diagnostic-Code']
"
}

# ---- sendmail: one recipient outside, one inside, one local
printf 'Subject: one\n\nbody\n' | sendmail -f alice@example.com x@outside.example y@inside.example bob@example.com
check "sendmail: outside recipient bounces" t_wait 15 has_bounce alice one
check "sendmail bounce: 5.7.1 for the outside recipient only" one_failed one x@outside.example
check "inside recipient delivered to the sink" t_wait 15 delivered_is in 1
check "local recipient delivered" t_wait 10 t_count_is "$M/bob" 1
check "the sink got only y@inside.example" sh -c "grep -l 'one' '$W/in.md'/msg* | xargs grep -qi 'y@inside.example'"

# ---- pickup/: a subdomain pattern, and a domain outside
printf 'X-Sender: alice@example.com\nX-Receiver: z@other.example\nX-Receiver: w@x.sub.example\nSubject: two\n\ntwo\n' > "$I/pickup/.w1"
mv "$I/pickup/.w1" "$I/pickup/m1"
check "pickup: outside recipient bounces" t_wait 15 has_bounce alice two
check "pickup bounce: 5.7.1 for z@other.example only" one_failed two z@other.example
check "subdomain recipient delivered" t_wait 15 delivered_is in 2

# ---- a list member outside the space is not checked (as for SMTP clients)
printf 'Subject: three\n\nbody\n' | sendmail -f alice@example.com mixed@example.com
check "list: local member delivered" t_wait 10 t_count_is "$M/bob" 2
check "list: outside member sent to its route" t_wait 15 delivered_is in 3

# ---- the null sender: no bounce, the message goes to its route
printf 'Subject: four\n\nbody\n' | sendmail -f '' n@outside.example
check "null sender to outside: delivered" t_wait 15 delivered_is in 4
check "tracked as delivered" t_wait 5 grep -q '	delivered	.*n@outside.example' "$I/log/track/current"

# ---- an SMTP relay client (loopback relays by default) gets 550 5.7.1 at RCPT
swaks --server "127.0.0.1:$T_PORT" --from alice@example.com --to q@outside.example > "$T_TMP/sw.out" 2>&1
grep -q '^<\*\* 550 5\.7\.1 relaying denied: the domain is outside the address space' "$T_TMP/sw.out" &&
  pass "SMTP relay client: 550 5.7.1" || fail "smtp relay" "$(tail -5 "$T_TMP/sw.out")"
check "bounces are tracked" grep -q '	bounced	.*x@outside.example' "$I/log/track/current"
t_stop "$I"
t_done
