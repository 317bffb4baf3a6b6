# dsn.sh -- Delivery Status Notifications (RFC 3461, notices RFC 3464):
# imc-smtpd advertises DSN and takes NOTIFY, ORCPT, RET and ENVID (bad
# values get 501 5.5.4, a parameter of the other command 555 5.5.4);
# imc-inject takes -N, -R, -V.  Every notice lands in the sender's Maildir
# and is parsed with Python's email package: multipart/report with
# message/delivery-status (Original-Envelope-Id, Original-Recipient,
# Action, Status) and text/rfc822-headers (RET=HDRS, no RET, success and
# delay notices) or message/rfc822 (RET=FULL, in a notice of failure).  Cases: NOTIFY=NEVER and NOTIFY without
# FAILURE get no bounce; NOTIFY=SUCCESS gets "delivered" (local) or
# "relayed" (a next hop without DSN: smtp-sink -N); to a next hop with DSN
# (smtp-sink) the parameters arrive in MAIL and RCPT (its -v transcript)
# and no notice is sent; NOTIFY without DELAY gets no delay warning, with
# it or without NOTIFY one comes.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

command -v smtp-sink > /dev/null || { echo "SKIP: smtp-sink (postfix) is not installed"; exit 0; }
# ss_start NAME ADDR [smtp-sink options]: smtp-sink on ADDR:25, its transcript in W/NAME.ss
ss_start() {
  _n=$1 _a=$2; shift 2
  _u=; [ "$(id -u)" = 0 ] && _u="-u nobody"
  smtp-sink -v $_u "$@" "$_a:25" 100 > "$W/$_n.ss" 2>&1 &
  T_PIDS="$T_PIDS $!"
  t_wait 10 sh -c "ss -Htln | grep -q '$_a:25'" || { fail "smtp-sink $_n" "did not start: $(cat "$W/$_n.ss")"; return 1; }
}
ss_start dsn "$(hip 3)" || exit 1
ss_start nodsn "$(hip 4)" -N || exit 1
start_sink fail "$(hip 5):25" --rcpt-fail no@fail.test=550 --rcpt-fail no2@fail.test=550 || exit 1

I=$T_TMP/i
t_instance "$I" || { fail setup instance; exit 1; }
echo imc.test > "$I/control/me"
echo imc.test > "$I/control/sitedomains"
printf 'mailbox alice "Alice"\nmailbox bob "Bob"\nmailbox pm "Postmaster"\nlist team bob,pm\n' > "$I/control/directory"
echo pm@imc.test > "$I/control/postmaster"
printf 'dsn.test [%s]\nnodsn.test [%s]\nfail.test [%s]\ndead.test [%s]:1\n' \
  "$(hip 3)" "$(hip 4)" "$(hip 5)" "$DEAD" > "$I/control/routes"
echo 1h > "$I/control/retry"
echo 3 > "$I/control/delaywarn"
echo 800 > "$I/control/dsnfullmax"
IMC_HOME=$I imc-ctl compile > /dev/null || { fail setup compile; exit 1; }
IMC_HOME=$I; export IMC_HOME
t_start "$I" || { fail start "services did not come up"; exit 1; }
A=$I/mail/alice B=$I/mail/bob

# smtp RCPT[,RCPT...] MAILOPTS RCPTOPTS SUBJECT: one message from alice over SMTP; prints
# "ok", or the refused command's reply "CODE TEXT"
smtp() {
  "$PYTHON" - "$T_PORT" "$@" <<'PY'
import smtplib, sys
port, rcpt, mo, ro, subj = sys.argv[1:6]
s = smtplib.SMTP("127.0.0.1", int(port))
s.ehlo("client.test")
msg = "From: alice@imc.test\r\nTo: %s\r\nSubject: %s\r\n\r\nthe body of %s\r\n" % (rcpt, subj, subj)
try:
    s.sendmail("alice@imc.test", rcpt.split(","), msg, mail_options=mo.split(), rcpt_options=ro.split())
    print("ok")
except smtplib.SMTPRecipientsRefused as e:
    c, t = list(e.recipients.values())[0]
    print(c, t.decode())
except smtplib.SMTPResponseException as e:
    print(e.smtp_code, e.smtp_error.decode())
s.quit()
PY
}
cat > "$W/notice.py" <<'PY'
import email, glob, sys
md, envid, code = sys.argv[1:4]
found = []
for f in sorted(glob.glob(md + "/new/*") + glob.glob(md + "/cur/*")):
    m = email.message_from_binary_file(open(f, "rb"))
    if m.get_content_type() != "multipart/report":
        continue
    parts = m.get_payload()
    ds = [p for p in parts if p.get_content_type() == "message/delivery-status"]
    assert len(ds) == 1, f
    blocks = ds[0].get_payload()
    if blocks[0].get("Original-Envelope-Id") == envid:
        found.append((m, parts, blocks[0], blocks[1:]))
if code == "count":
    print(len(found))
    sys.exit(0)
if code.startswith("#all"):
    exec(code)
    sys.exit(0)
if len(found) != 1:
    sys.exit("%d notices for %s" % (len(found), envid))
m, parts, mf, rcpts = found[0]
exec(code)
PY
# notices ENVID: how many notices in alice's Maildir carry Original-Envelope-Id ENVID
notices() { "$PYTHON" "$W/notice.py" "$A" "$1" count; }
notices_is() { [ "$(notices "$1")" = "$2" ]; }
# notice NAME ENVID ASSERTIONS: waits for the one notice for ENVID, then
# runs the Python assertions on m, parts, mf (per-message fields), rcpts
notice() {
  if ! t_wait 15 notices_is "$2" 1; then fail "$1" "no notice for $2 ($(notices "$2") found)"; return; fi
  if _o=$("$PYTHON" "$W/notice.py" "$A" "$2" "$3" 2>&1); then pass "$1"; else fail "$1" "$_o"; fi
}
reply_is() { case "$1" in "$2"*) return 0 ;; esac; echo "got: $1" >&2; return 1; }

# ---- the parameters at imc-smtpd
check "EHLO advertises DSN" sh -c "swaks --server 127.0.0.1:$T_PORT --quit-after EHLO 2>&1 | grep -q '250-DSN'"
for c in "NOTIFY=NEVER,SUCCESS|501 5.5.4" "NOTIFY=SUCCESS,SUCCESS|501 5.5.4" "NOTIFY=SOMETIMES|501 5.5.4" \
         "NOTIFY=|501 5.5.4" "ORCPT=rfc822;a+2|501 5.5.4" "ORCPT=rfc822;a+zzb|501 5.5.4" "ORCPT=rfc822;a=b|501 5.5.4" \
         "ORCPT=rfc822|501 5.5.4" "ORCPT=;a@b|501 5.5.4" "ORCPT=rfc822;a+0Ab|501 5.5.4" \
         "ORCPT=rfc822;$(head -c 494 /dev/zero | tr '\0' a)|501 5.5.4" \
         "NOTIFY=FAILURE NOTIFY=DELAY|501 5.5.4" "RET=FULL|555 5.5.4" "ENVID=x|555 5.5.4"; do
  p=${c%|*} want=${c#*|}
  r=$(smtp bob@imc.test "" "$p" bad)
  check "RCPT $p: $want" reply_is "$r" "$want"
done
for c in "RET=PARTIAL|501 5.5.4" "RET=FULL RET=HDRS|501 5.5.4" "ENVID=|501 5.5.4" "ENVID=a=b|501 5.5.4" \
         "ENVID=$(head -c 101 /dev/zero | tr '\0' e)|501 5.5.4" "NOTIFY=NEVER|555 5.5.4" "ORCPT=rfc822;a@b|555 5.5.4"; do
  p=${c%|*} want=${c#*|}
  r=$(smtp bob@imc.test "$p" "" bad)
  check "MAIL $p: $want" reply_is "$r" "$want"
done
check "the longest ORCPT (500) and ENVID (100) are taken" reply_is \
  "$(smtp bob@imc.test "ENVID=$(head -c 100 /dev/zero | tr '\0' e)" "NOTIFY=NEVER ORCPT=rfc822;$(head -c 493 /dev/zero | tr '\0' a)" long)" ok
check "the long ones delivered, no refused message queued" t_wait 10 sh -c "[ \"\$(grep -l '^Subject: long' '$B'/new/* | wc -l)\" = 1 ] && ! grep -q '^Subject: bad' '$B'/new/*"

# ---- local delivery: NOTIFY=SUCCESS gets "delivered"
check "local NOTIFY=SUCCESS accepted" reply_is "$(smtp bob@imc.test "RET=HDRS ENVID=loc+2B1" "NOTIFY=SUCCESS ORCPT=rfc822;Bob+2Bx@imc.test" local1)" ok
notice "local success: a delivered notice with ENVID, ORCPT, status 2" "loc+1" '
assert m["To"] == "<alice@imc.test>", m["To"]
assert m["Subject"] == "Successful mail delivery report", m["Subject"]
assert mf["Reporting-MTA"] == "dns; imc.test", mf["Reporting-MTA"]
assert len(rcpts) == 1
r = rcpts[0]
assert r["Action"] == "delivered", r["Action"]
assert r["Status"].startswith("2."), r["Status"]
assert r["Original-Recipient"] == "rfc822;Bob+x@imc.test", r["Original-Recipient"]
assert r["Final-Recipient"] == "rfc822; bob@imc.test", r["Final-Recipient"]
assert parts[2].get_content_type() == "text/rfc822-headers", parts[2].get_content_type()
assert "Subject: local1" in parts[2].get_payload() and "the body of" not in parts[2].get_payload()
'
check "local success: the message itself was delivered" t_wait 10 sh -c "grep -q '^Subject: local1' '$B'/new/*"
check "local default NOTIFY: delivered, no notice" reply_is "$(smtp bob@imc.test "ENVID=loc2" "" local2)" ok
check "local NOTIFY=FAILURE,DELAY: no success notice" reply_is "$(smtp bob@imc.test "ENVID=loc3" "NOTIFY=FAILURE,DELAY" local3)" ok
check "a list with NOTIFY=SUCCESS accepted" reply_is "$(smtp team@imc.test "ENVID=lst" "NOTIFY=SUCCESS ORCPT=rfc822;Team@imc.test" list1)" ok
check "list: a success notice for each member" t_wait 15 "$PYTHON" "$W/notice.py" "$A" lst '#all
r = [b for f in found for b in f[3]]
assert len(r) == 2, len(r)
assert sorted(b["Final-Recipient"] for b in r) == ["rfc822; bob@imc.test", "rfc822; pm@imc.test"], r
assert all(b["Action"] == "delivered" and b["Original-Recipient"] == "rfc822;Team@imc.test" for b in r), r
'
check "local: delivered" t_wait 10 sh -c "grep -q '^Subject: local3' '$B'/new/* && grep -q '^Subject: local2' '$B'/new/*"
check "queue empty after the local deliveries" t_wait 10 t_queue_empty "$I"
check "local without SUCCESS: no notice" [ "$(notices loc2)$(notices loc3)" = 00 ]

# ---- failures: NOTIFY=NEVER, NOTIFY=SUCCESS, NOTIFY=FAILURE with RET=FULL, no NOTIFY
check "failing NOTIFY=NEVER accepted" reply_is "$(smtp no@fail.test "ENVID=f-never" "NOTIFY=NEVER" never)" ok
check "failing NOTIFY=SUCCESS accepted" reply_is "$(smtp no2@fail.test "ENVID=f-succ" "NOTIFY=SUCCESS" succonly)" ok
check "failing NOTIFY=FAILURE RET=FULL accepted" reply_is "$(smtp no@fail.test "RET=FULL ENVID=f-full" "NOTIFY=FAILURE ORCPT=rfc822;no@fail.test" full)" ok
check "failing, no NOTIFY accepted" reply_is "$(smtp no2@fail.test "ENVID=f-dflt" "" dflt)" ok
notice "NOTIFY=FAILURE RET=FULL: failed, the whole message returned" "f-full" '
assert m["Subject"] == "Undelivered mail returned to sender", m["Subject"]
r = rcpts[0]
assert r["Action"] == "failed" and r["Status"].startswith("5."), (r["Action"], r["Status"])
assert r["Original-Recipient"] == "rfc822;no@fail.test", r["Original-Recipient"]
assert parts[2].get_content_type() == "message/rfc822", parts[2].get_content_type()
inner = parts[2].get_payload()[0]
assert inner["Subject"] == "full" and "the body of full" in inner.get_payload(), inner.as_string()
'
notice "no NOTIFY: failed as before, headers only" "f-dflt" '
assert rcpts[0]["Action"] == "failed", rcpts[0]["Action"]
assert rcpts[0]["Original-Recipient"] is None, rcpts[0]["Original-Recipient"]    # RFC 3461 6.3 (d): only from ORCPT
assert parts[2].get_content_type() == "text/rfc822-headers", parts[2].get_content_type()
'
check "NOTIFY=NEVER and NOTIFY=SUCCESS: settled without a notice" t_wait 10 sh -c \
  "[ \"\$(grep -c '	bounced	.*no notice: the sender asked for none' '$I/log/track/current')\" = 2 ]"
check "NOTIFY=NEVER, NOTIFY=SUCCESS: no bounce in the Maildir" [ "$(notices f-never)$(notices f-succ)" = 00 ]
check "one delivered and one failed recipient accepted" reply_is "$(smtp ok@fail.test,no@fail.test "ENVID=mixed" "NOTIFY=SUCCESS,FAILURE" mixed)" ok
notice "relayed and failed recipients of one transaction: one report" "mixed" '
assert m["Subject"] == "Undelivered mail returned to sender", m["Subject"]
acts = sorted((b["Final-Recipient"], b["Action"], b["Status"][0]) for b in rcpts)
assert acts == [("rfc822; no@fail.test", "failed", "5"), ("rfc822; ok@fail.test", "relayed", "2")], acts
'
check "a message bigger than control/dsnfullmax with RET=FULL: headers only" reply_is \
  "$(smtp no@fail.test "RET=FULL ENVID=f-big" "" "big $(head -c 900 /dev/zero | tr '\0' b)")" ok
notice "RET=FULL above dsnfullmax: text/rfc822-headers" "f-big" '
assert parts[2].get_content_type() == "text/rfc822-headers", parts[2].get_content_type()
'

# ---- next hops: with DSN the parameters go on, without it a "relayed" notice
check "to a DSN next hop accepted" reply_is "$(smtp c@dsn.test "RET=HDRS ENVID=r+2Bdsn" "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;C+40x" hop1)" ok
check "DSN next hop: MAIL carries RET and ENVID" t_wait 15 grep -q 'MAIL FROM:<alice@imc.test>.* RET=HDRS ENVID=r+2Bdsn' "$W/dsn.ss"
check "DSN next hop: RCPT carries NOTIFY and ORCPT" t_wait 15 grep -q 'RCPT TO:<c@dsn.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;C+40x' "$W/dsn.ss"
check "to a next hop without DSN accepted" reply_is "$(smtp d@nodsn.test "ENVID=r-nodsn" "NOTIFY=SUCCESS ORCPT=rfc822;d@nodsn.test" hop2)" ok
notice "no-DSN next hop: a relayed notice" "r-nodsn" '
r = rcpts[0]
assert r["Action"] == "relayed", r["Action"]
assert r["Status"].startswith("2."), r["Status"]
assert r["Final-Recipient"] == "rfc822; d@nodsn.test", r["Final-Recipient"]
assert "250" in r["Diagnostic-Code"], r["Diagnostic-Code"]
'
check "no-DSN next hop: no DSN parameters sent" sh -c "grep -q 'RCPT TO:<d@nodsn.test>\$' '$W/nodsn.ss' && ! grep -q 'NOTIFY\|ENVID' '$W/nodsn.ss'"
check "no-DSN next hop, no NOTIFY: accepted" reply_is "$(smtp e@nodsn.test "ENVID=r-plain" "" hop3)" ok
check "queue empty after the relays" t_wait 15 t_queue_empty "$I"
check "DSN next hop, no-DSN without NOTIFY=SUCCESS: no notice" [ "$(notices r+dsn)$(notices r-plain)" = 00 ]

# ---- delays: NOTIFY without DELAY gets no warning
check "delayed NOTIFY=FAILURE accepted" reply_is "$(smtp w1@dead.test "ENVID=d-fail" "NOTIFY=FAILURE" delay1)" ok
check "delayed no NOTIFY accepted" reply_is "$(smtp w2@dead.test "ENVID=d-dflt" "" delay2)" ok
check "delayed NOTIFY=DELAY accepted" reply_is "$(smtp w3@dead.test "ENVID=d-delay" "NOTIFY=DELAY" delay3)" ok
notice "no NOTIFY: a delay warning" "d-dflt" '
assert rcpts[0]["Action"] == "delayed" and rcpts[0]["Status"].startswith("4."), (rcpts[0]["Action"], rcpts[0]["Status"])
'
notice "NOTIFY=DELAY: a delay warning" "d-delay" 'assert rcpts[0]["Action"] == "delayed", rcpts[0]["Action"]'
sleep 2
check "NOTIFY=FAILURE: no delay warning" [ "$(notices d-fail)" = 0 ]
check "NOTIFY=FAILURE: the message still waits" sh -c "grep -q '	deferred	.*w1@dead.test' '$I/log/track/current'"
wid=$(awk -F'\t' '$2 == "deferred" && $6 == "w1@dead.test" { print $3; exit }' "$I/log/track/current")
check "imc-qread shows the DSN records" sh -c "imc-qread '$wid' > '$W/qread.out' && grep -q '^ *dsn: *ENVID=d-fail\$' '$W/qread.out' && grep -q '^ *dsn: *NOTIFY=FAILURE\$' '$W/qread.out'"

# ---- imc-inject (sendmail) -N, -R, -V
printf 'Subject: inj1\n\nthe body of inj1\n' | sendmail -f alice@imc.test -N success,failure -R full -V 'inj 1' bob@imc.test
check "sendmail -N success -R full -V: queued" [ $? = 0 ]
notice "sendmail -N success: delivered notice, ENVID decoded, headers only (RET is for failures)" "inj 1" '
assert rcpts[0]["Action"] == "delivered", rcpts[0]["Action"]
assert parts[2].get_content_type() == "text/rfc822-headers", parts[2].get_content_type()
'
printf 'Subject: inj6\n\nthe body of inj6\n' | sendmail -f alice@imc.test -N failure -R full -V inj6 no2@fail.test
check "sendmail -N failure -R full: queued" [ $? = 0 ]
notice "sendmail -R full: the failure notice returns the message whole" "inj6" '
assert rcpts[0]["Action"] == "failed", rcpts[0]["Action"]
assert parts[2].get_content_type() == "message/rfc822", parts[2].get_content_type()
assert "the body of inj6" in parts[2].get_payload()[0].get_payload()
'
printf 'Subject: inj2\n\nx\n' | sendmail -f alice@imc.test -N never -V inj2 no@fail.test
check "sendmail -N never: queued" [ $? = 0 ]
check "sendmail -N never: settled without a notice" t_wait 10 sh -c \
  "[ \"\$(grep -c '	bounced	.*no notice: the sender asked for none' '$I/log/track/current')\" = 3 ]"
check "sendmail -N never: no bounce" [ "$(notices inj2)" = 0 ]
out=$(printf 'Subject: inj3\n\nx\n' | sendmail -N sometimes bob@imc.test 2>&1; echo "rc=$?")
check "sendmail -N sometimes: usage error 64" sh -c "echo '$out' | grep -q 'rc=64' && echo '$out' | grep -q 'invalid -N'"
out=$(printf 'Subject: inj4\n\nx\n' | sendmail -R most bob@imc.test 2>&1; echo "rc=$?")
check "sendmail -R most: usage error 64" sh -c "echo '$out' | grep -q 'rc=64'"
out=$(printf 'Subject: inj5\n\nx\n' | sendmail -V "$(head -c 101 /dev/zero | tr '\0' v)" bob@imc.test 2>&1; echo "rc=$?")
check "sendmail -V longer than 100: usage error 64" sh -c "echo '$out' | grep -q 'rc=64'"
t_done
