# outbound.sh -- imc-send with imc-remote against real peers on 127.0.0.0/8:
# dnsmasq with MX records (first MX dead, null MX, A only) reached through
# DNSCACHEIP in the instance's env/, and SMTP sinks on port 25 that accept,
# greet with 421, answer 451 to the first RCPT, refuse one recipient of
# three, drop the connection in DATA.  Each case ends at the right host or
# as the right bounce in the local sender's Maildir, parsed by Python's
# email package; retries follow control/retry; ten queued messages travel
# over one connection; expiry and the delay warning under libfaketime.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

cat > "$W/dns.conf.extra" <<EOF
mx-host=mx.test,mx1.mx.test,10
mx-host=mx.test,mx2.mx.test,20
address=/mx1.mx.test/$DEAD
address=/mx2.mx.test/$(hip 3)
dns-rr=nullmx.test,15,000000
address=/aonly.test/$(hip 3)
address=/three.test/$(hip 4)
address=/busy.test/$(hip 5)
address=/flaky.test/$(hip 6)
address=/drop.test/$(hip 7)
address=/ten.test/$(hip 8)
EOF
start_dns || exit 1
start_sink ok "$(hip 3):25" || exit 1
start_sink three "$(hip 4):25" --rcpt-fail bad@three.test=550 || exit 1
start_sink busy "$(hip 5):25" --greet 421 || exit 1
start_sink flaky "$(hip 6):25" --rcpt-tempfail-first || exit 1
start_sink drop "$(hip 7):25" --drop-in-data || exit 1
start_sink ten "$(hip 8):25" || exit 1

# instance DIR: site imc.test with mailbox alice, fast retries, our DNS
instance() {
  t_instance "$1" || return 1
  echo imc.test > "$1/control/me"
  echo imc.test > "$1/control/sitedomains"
  echo 'mailbox alice "Alice"' > "$1/control/directory"
  echo 1 > "$1/control/retry"
  echo 3 > "$1/control/timeoutconnect"
  echo 'host-not-found, expired' > "$1/control/notify"
  echo "$DNSCACHEIP" > "$1/env/DNSCACHEIP"
  IMC_HOME=$1 imc-ctl compile > /dev/null
}
I=$T_TMP/i
instance "$I" || { fail setup "instance"; exit 1; }
IMC_HOME=$I; export IMC_HOME
t_start "$I" || { fail start "services did not come up"; exit 1; }
M=$I/mail/alice
send() { _s=$1; shift; printf 'Subject: %s\nX-Case: %s\n\nbody\n' "$_s" "$_s" | sendmail -f alice@imc.test "$@"; }
newest_dsn() { grep -l '^Content-Type: multipart/report' "$M"/new/* 2>/dev/null | xargs ls -t 2>/dev/null | head -1; }

send mx u@mx.test
check "first MX dead: delivered to the second" t_wait 20 delivered_is ok 1
send aonly v@aonly.test
check "A record only: the implicit MX" t_wait 20 delivered_is ok 2
send nullmx w@nullmx.test
check "null MX: bounced" t_wait 20 t_count_is "$M" 1
check "null MX: the bounce says failed, 5.x.x" dsn_check "$(newest_dsn)" '
r = rcpts[0]
assert r["Final-Recipient"] == "rfc822; w@nullmx.test", r["Final-Recipient"]
assert r["Action"] == "failed" and r["Status"].startswith("5."), (r["Action"], r["Status"])'

check "control/notify host-not-found: the postmaster gets a copy" t_wait 10 t_count_is "$I/mail/postmaster" 1

send three a@three.test bad@three.test c@three.test
check "one of three refused: the others delivered" t_wait 20 delivered_is three 1
check "one of three refused: a bounce" t_wait 20 t_count_is "$M" 2
check "the bounce names only the refused one" dsn_check "$(newest_dsn)" '
assert len(rcpts) == 1, len(rcpts)
r = rcpts[0]
assert r["Final-Recipient"] == "rfc822; bad@three.test", r["Final-Recipient"]
assert r["Action"] == "failed" and r["Status"].startswith("5."), (r["Action"], r["Status"])
assert "550" in r["Diagnostic-Code"], r["Diagnostic-Code"]'
check "no copy of an ordinary bounce" t_count_is "$I/mail/postmaster" 1
check "the sink got the two others" sh -c "grep -h '^X-Sink-To:' '$W'/three.md/msg* | grep -q 'a@three.test' && grep -h '^X-Sink-To:' '$W'/three.md/msg* | grep -q 'c@three.test' && ! grep -qh '^X-Sink-To:.*bad@three.test' '$W'/three.md/msg*"

send flaky f@flaky.test
check "451 first, accepted on the retry" t_wait 20 delivered_is flaky 1
check "the 451 was tracked as deferred" grep -q 'deferred.*f@flaky.test.*451' "$I/log/track/current"

send busy b@busy.test
check "421 greeting: deferred" t_wait 20 grep -q 'deferred.*b@busy.test' "$I/log/track/current"
check "421 greeting: retried on the schedule" t_wait 20 sh -c "[ \$(cat '$W/busy.count') -ge 3 ]"
check "421 greeting: no bounce" t_count_is "$M" 2

send drop d@drop.test
check "dropped in DATA: deferred" t_wait 20 grep -q 'deferred.*d@drop.test' "$I/log/track/current"
check "dropped in DATA: nothing delivered" delivered_is drop 0

# ten messages queued while imc-send is down travel over one connection
s6-svc -d "$I/service/send"; s6-svwait -D -t 10000 "$I/service/send"
for k in 1 2 3 4 5 6 7 8 9 10; do send "ten$k" "t$k@ten.test"; done
s6-svc -u "$I/service/send"
check "ten messages delivered" t_wait 30 delivered_is ten 10
check "over one connection" test "$(conns ten)" = 1

# transfermode none holds remote mail back while local delivery goes on;
# allowing it again (HUP) sends it at once
echo none > "$I/control/transfermode"
s6-svc -h "$I/service/send"
sleep 1
send held h@aonly.test
send local alice@imc.test
check "transfermode none: local delivery goes on" t_wait 10 sh -c "grep -l '^X-Case: local' '$M'/new/* | grep -q ."
sleep 2
check "transfermode none: remote mail waits" delivered_is ok 2
echo both > "$I/control/transfermode"
s6-svc -h "$I/service/send"
check "transfermode both again: sent at once" t_wait 10 delivered_is ok 3

# a destination retried on request (ETRN, imc-qctl) through the trigger, not the schedule
echo 1h > "$I/control/retry"
s6-svc -h "$I/service/send"
sleep 1
before=$(conns busy)
sleep 3
check "busy destination waits for its retry time" test "$(conns busy)" -le $((before + 1))
before=$(conns busy)
printf 'R@busy.test\n' > "$I/queue/trigger"
check "R@domain on the trigger retries it now" t_wait 10 sh -c "[ \$(cat '$W/busy.count') -gt $before ]"

# expiry and the delay warning: a second instance whose clock the test moves
F=$T_TMP/faketime
echo "+0" > "$F"
I2=$T_TMP/i2
instance "$I2" || { fail setup "instance 2"; exit 1; }
echo /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 > "$I2/env/LD_PRELOAD"
echo "$F" > "$I2/env/FAKETIME_TIMESTAMP_FILE"
echo 1 > "$I2/env/FAKETIME_NO_CACHE"
echo 1 > "$I2/env/FAKETIME_DONT_FAKE_MONOTONIC"
t_start "$I2" || { fail start "instance 2 did not come up"; exit 1; }
M2=$I2/mail/alice
printf 'Subject: slow\n\nbody\n' | IMC_HOME=$I2 sendmail -f alice@imc.test s@busy.test
check "deferred on the fake clock" t_wait 20 grep -q 'deferred.*s@busy.test' "$I2/log/track/current"
echo "+5h" > "$F"
check "after delaywarn: one delay warning" t_wait 20 t_count_is "$M2" 1
check "the warning says delayed" dsn_check "$(ls -t "$M2"/new/* | head -1)" '
r = rcpts[0]
assert r["Action"] == "delayed", r["Action"]
assert r["Final-Recipient"] == "rfc822; s@busy.test"'
echo "+49h" > "$F"
check "after the lifetime: bounced" t_wait 20 t_count_is "$M2" 2
check "the bounce says expired (4.4.7)" dsn_check "$(ls -t "$M2"/new/* | head -1)" '
r = rcpts[0]
assert r["Action"] == "failed" and r["Status"] == "4.4.7", (r["Action"], r["Status"])'
check "only one delay warning" sh -c "[ \$(grep -l '^Subject: Delayed' '$M2'/new/* | wc -l) = 1 ]"
check "expired message gone" t_wait 10 t_queue_empty "$I2"
t_done
