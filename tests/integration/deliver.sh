# deliver.sh -- the first working path: mail submitted on this machine
# (imc-inject / sendmail, and pickup/) reaches the right Maildirs under s6;
# lists expand; postmaster always works; an unknown local recipient bounces
# to the sender as an RFC 3464 report that Python's email package parses;
# nothing is left in the queue; the tracking log has every event.
. "$(dirname "$0")/../lib.sh"

I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo test.example > "$I/control/me"
printf 'example.com\ntest.example\n' > "$I/control/sitedomains"
cat > "$I/control/directory" <<'DIR'
mailbox alice "Alice Example"
mailbox bob "Bob Example"
mailbox carol "Carol Example"
list team alice,bob
list all team, carol, Alice
contact dave "Dave Remote" dave@remote.example
DIR
echo 'remote.example [127.0.0.1]:1' > "$I/control/routes"
echo alice > "$I/control/senders.allow"       # only alice may send out through the connector
imc-ctl compile > /dev/null || fail compile "imc-ctl compile failed"
t_start "$I" || { fail start "services did not come up"; exit 1; }
M=$I/mail

msg() { printf 'Subject: %s\n\nbody of %s\n' "$1" "$1"; }

msg one | sendmail -f alice@example.com bob@example.com
check "inject to a mailbox" t_wait 10 t_count_is "$M/bob" 1
f=$(find "$M/bob/new" -type f | head -1)
check "Return-Path line" grep -q '^Return-Path: <alice@example.com>$' "$f"
check "Delivered-To line" grep -q '^Delivered-To: bob@example.com$' "$f"
check "headers added" grep -q '^Message-ID: <' "$f"

msg two | sendmail -f alice@example.com TEAM@Example.COM
check "list expands" t_wait 10 sh -c "[ \$(find '$M/alice/new' -type f | wc -l) = 1 ] && [ \$(find '$M/bob/new' -type f | wc -l) = 2 ]"

msg three | sendmail -f bob@example.com all@test.example
check "nested list, each member once" t_wait 10 sh -c "[ \$(find '$M/carol/new' -type f | wc -l) = 1 ] && [ \$(find '$M/alice/new' -type f | wc -l) = 2 ] && [ \$(find '$M/bob/new' -type f | wc -l) = 3 ]"

msg four | sendmail -f alice@example.com PostMaster@TEST.example
check "postmaster without a directory entry" t_wait 10 t_count_is "$M/postmaster" 1

msg five | sendmail -f carol@example.com nobody@example.com bob@example.com
check "known recipient of a half-bad message delivered" t_wait 10 t_count_is "$M/bob" 4
check "unknown recipient bounces to the sender" t_wait 10 t_count_is "$M/carol" 2
b=$(grep -l '^Content-Type: multipart/report' "$M"/carol/new/* | head -1)
if [ -n "$b" ] && "$PYTHON" - "$b" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
assert m.get_content_type() == "multipart/report", m.get_content_type()
assert m.get_param("report-type") == "delivery-status"
parts = m.get_payload()
assert parts[0].get_content_type() == "text/plain"
ds = parts[1]
assert ds.get_content_type() == "message/delivery-status"
blocks = ds.get_payload()
assert blocks[0]["Reporting-MTA"] == "dns; test.example", blocks[0]["Reporting-MTA"]
r = blocks[1]
assert r["Final-Recipient"] == "rfc822; nobody@example.com", r["Final-Recipient"]
assert r["Action"] == "failed" and r["Status"] == "5.1.1", (r["Action"], r["Status"])
assert len(blocks) == 2, "only the unknown recipient is reported"
assert parts[2].get_content_type() == "text/rfc822-headers"
assert "Subject: five" in parts[2].get_payload()
assert m["Auto-Submitted"] == "auto-replied"
assert m["Return-Path"] == "<>", m["Return-Path"]
PY
then pass "bounce is a multipart/report Python parses"; else fail "bounce is a multipart/report Python parses" "see log"; fi

# a bounce that cannot be delivered goes to the postmaster once, and no further
msg ghost | sendmail -f ghost@example.com nobody@example.com
check "undeliverable bounce reaches the postmaster" t_wait 10 t_count_is "$M/postmaster" 2
check "it is marked as an undeliverable bounce" sh -c "grep -l '^Subject: Undeliverable bounce' '$M'/postmaster/new/* | grep -q ."
sleep 1
check "and nothing loops" t_count_is "$M/postmaster" 2

# pickup/: envelope from X-Sender / X-Receiver, and from the headers
printf 'X-Sender: bob@example.com\nX-Receiver: carol@example.com\nSubject: six\n\nsix\n' > "$I/pickup/.w1"
mv "$I/pickup/.w1" "$I/pickup/m1"
check "pickup with X-Receiver" t_wait 10 t_count_is "$M/carol" 3
printf 'From: alice@example.com\nTo: Bob <bob@example.com>\nBcc: carol@example.com\nSubject: seven\n\nseven\n' > "$I/pickup/.w2"
mv "$I/pickup/.w2" "$I/pickup/m2"
check "pickup with To and Bcc" t_wait 10 sh -c "[ \$(find '$M/carol/new' -type f | wc -l) = 4 ] && [ \$(find '$M/bob/new' -type f | wc -l) = 5 ]"
check "Bcc removed" sh -c "! grep -l '^Subject: seven' '$M'/carol/new/* | xargs grep -q '^Bcc:'"
check "pickup file removed" t_wait 5 test ! -e "$I/pickup/m2"

# the contact goes out through imc-remote: its route leads to a closed port, so it waits in the queue
msg eight | sendmail -f alice@example.com dave@example.com
check "contact deferred" t_wait 10 grep -q '	deferred	.*dave@remote.example' "$I/log/track/current"
check "contact stays queued" t_wait 10 sh -c "find '$I/queue/mess' -type f | grep -q ."
check "a contact's message has a state file" t_wait 5 sh -c "find '$I/queue/info' -type f -name '[0-9a-f]*' | grep -q ."
check "nothing else left in the queue" t_wait 10 sh -c "[ -z \"\$(find '$I/queue/new' '$I/queue/tmp' -type f)\" ] && [ \$(find '$I/queue/mess' -type f | wc -l) = 1 ]"

# delivery restrictions apply to locally submitted mail too: bob may not send out
msg nine | sendmail -f bob@example.com dave@example.com
check "a refused sender's remote mail bounces" t_wait 10 sh -c "grep -l '^Subject: nine' '$M'/bob/new/* 2>/dev/null | xargs grep -l '^Content-Type: multipart/report' | grep -q ."
check "with 5.7.1" sh -c "grep -l '^Subject: nine' '$M'/bob/new/* | xargs grep -q '^Status: 5.7.1'"
check "and is tracked" grep -q 'bounced.*bob@example.com.*dave@remote.example' "$I/log/track/current"

# tracking: received and delivered for one message id
id=$(grep -h 'Subject: one' -l "$M"/bob/new/* >/dev/null; awk -F'\t' '$2=="received" && $6=="bob@example.com" {print $3; exit}' "$I/log/track/current")
check "tracking has received" test -n "$id"
check "tracking has delivered" sh -c "awk -F'\t' '\$2==\"delivered\" && \$3==\"$id\"' '$I/log/track/current' | grep -q ."
check "tracking has bounced" grep -q "	bounced	" "$I/log/track/current"
t_done
