# dequeue.sh -- dial-up dequeueing (control/dequeue, imc-dequeue, ETRN of
# RFC 1985) between three imc instances on one machine: two providers, P1
# and P2, that route our.test to our instance O, and O itself.  While O is
# down each provider takes a message for bob@our.test, fails to deliver it
# (connection refused) and holds it (control/retry 1h).  Then O starts with
#     [127.0.0.1]:P1 every=2s etrn=our.test,lists.our.test
#     [127.0.0.1]:P2 at=HH:MM etrn=our.test     (twelve hours from now)
# Checked: O's imc-dequeue sends ETRN our.test to P1 on schedule, P1 answers
# 250 and delivers its held message to O; P2's message stays held (its time
# has not come) until `imc-qctl dequeue [127.0.0.1]:P2` asks for it, then it
# arrives too; the messages came in over SMTP from the providers; imc-qctl
# refuses a malformed host and fails while imc-dequeue is down; imc-ctl
# check and set report bad control/dequeue lines as control/dequeue:LINE:
# reason.  Each provider accepts ETRN in one session a minute from a
# client, hence two providers rather than one.
. "$(dirname "$0")/../lib.sh"

mkprov() {    # mkprov DIR NAME: a provider holding mail for our.test for O
  t_instance "$1" || { fail setup "instance $2"; return 1; }
  echo "$2" > "$1/control/me"
  echo "$2" > "$1/control/sitedomains"
  echo 1h > "$1/control/retry"
  echo "our.test [127.0.0.1]:$PO" > "$1/control/routes"
  echo "smtp medium" > "$1/control/loglevel"      # the ETRN in the smtpd log
}

O=$T_TMP/o
t_instance "$O" || { fail setup "instance o"; exit 1; }
PO=$T_PORT
echo our.test > "$O/control/me"
echo our.test > "$O/control/sitedomains"
echo 'mailbox bob "Bob"' > "$O/control/directory"
IMC_HOME=$O imc-ctl compile > /dev/null

P1=$T_TMP/p1
mkprov "$P1" prov1.test || exit 1
PP1=$T_PORT
P2=$T_TMP/p2
mkprov "$P2" prov2.test || exit 1
PP2=$T_PORT
t_start "$P1" || { fail start "provider 1 did not come up"; exit 1; }
t_start "$P2" || { fail start "provider 2 did not come up"; exit 1; }

held() { grep -q "	deferred	.*	bob@our.test	.*refused" "$1/log/track/current"; }
printf 'Subject: held by one\n\nfrom provider one\n' | IMC_HOME=$P1 sendmail -f carol@prov1.test bob@our.test
printf 'Subject: held by two\n\nfrom provider two\n' | IMC_HOME=$P2 sendmail -f dave@prov2.test bob@our.test
check "provider 1 holds the message (our instance is down)" t_wait 20 held "$P1"
check "provider 2 holds the message (our instance is down)" t_wait 20 held "$P2"

LATER=$(date -u -d '+12 hours' +%H:%M)
cat > "$O/control/dequeue" <<EOF
# the providers that hold our mail
[127.0.0.1]:$PP1 every=2s etrn=our.test,lists.our.test
[127.0.0.1]:$PP2 at=$LATER etrn=our.test
EOF
IMC_HOME=$O imc-ctl check > "$T_TMP/check.out" 2>&1
check "imc-ctl check accepts control/dequeue" test $? = 0
t_start "$O" || { fail start "our instance did not come up"; exit 1; }
check "the dequeue service runs" t_wait 10 sh -c "s6-svstat '$O/service/dequeue' | grep -q '^up'"

check "on schedule: provider 1's message arrives" t_wait 30 t_count_is "$O/mail/bob" 1
f=$(grep -l '^Subject: held by one' "$O"/mail/bob/new/* 2> /dev/null | head -1)
check "it is the message provider 1 held" test -n "$f"
check "it came over SMTP from provider 1" grep -q 'by our.test' "$f"
check "provider 1 tracked the delivery" t_wait 5 grep -q "	delivered	.*bob@our.test" "$P1/log/track/current"
check "our imc-dequeue logged the ETRN and its 250" t_wait 5 grep -q "127.0.0.1\]:$PP1: ETRN our.test: 250" "$O/log/dequeue/current"
check "provider 1's imc-smtpd took the ETRN" t_wait 5 grep -rq 'etrn=our.test' "$P1/log/smtpd"
check "the second domain's ETRN in the same session got 250" t_wait 5 grep -q "127.0.0.1\]:$PP1: ETRN lists.our.test: 250" "$O/log/dequeue/current"

sleep 3
check "provider 2 still holds its message (not its time yet)" t_count_is "$O/mail/bob" 1
check "provider 2 has not delivered" t_lacks "$P2/log/track/current" "	delivered	"

IMC_HOME=$O imc-qctl dequeue "[127.0.0.1]:$PP2" > "$T_TMP/qctl.out" 2>&1
check "imc-qctl dequeue asks imc-dequeue" grep -q "dequeue \[127.0.0.1\]:$PP2: asked imc-dequeue" "$T_TMP/qctl.out"
check "on request: provider 2's message arrives" t_wait 30 t_count_is "$O/mail/bob" 2
check "it is the message provider 2 held" sh -c "grep -q '^Subject: held by two' '$O'/mail/bob/new/*"
check "our imc-dequeue logged the ETRN to provider 2" t_wait 5 grep -q "127.0.0.1\]:$PP2: ETRN our.test: 250" "$O/log/dequeue/current"
check "provider 1's queue is empty" t_wait 10 t_queue_empty "$P1"
check "provider 2's queue is empty" t_wait 10 t_queue_empty "$P2"

IMC_HOME=$O imc-qctl dequeue 'bad host!' > "$T_TMP/bad.out" 2>&1
check "imc-qctl dequeue refuses a malformed host (exit 100)" test $? = 100
s6-svc -d "$O/service/dequeue"
s6-svwait -D -t 10000 "$O/service/dequeue" 2> /dev/null
IMC_HOME=$O imc-qctl dequeue > "$T_TMP/down.out" 2>&1
check "imc-qctl dequeue with imc-dequeue down fails (exit 111)" test $? = 111
check "and says imc-dequeue is not running" grep -q 'imc-dequeue is not running' "$T_TMP/down.out"

IMC_HOME=$O imc-ctl set dequeue 'mx.provider.test every=0' > "$T_TMP/set.out" 2>&1
check "imc-ctl set refuses a bad dequeue line" test $? = 100
check "with its reason" grep -q 'control/dequeue:1: every= takes a time' "$T_TMP/set.out"
IMC_HOME=$O imc-ctl set dequeue 'mx.provider.test every=30m etrn=our.test' > "$T_TMP/set.out" 2>&1
check "imc-ctl set writes a good dequeue line" grep -qx 'mx.provider.test every=30m etrn=our.test' "$O/control/dequeue"

printf '[127.0.0.1]:%s every=0\nhost.test at=25:00\nhost2.test every=5m etrn=-bad-\nhost3.test\n[127.0.0.1]:%s at=01:00\n' "$PP1" "$PP1" > "$O/control/dequeue"
IMC_HOME=$O imc-ctl check > "$T_TMP/check.out" 2>&1
check "imc-ctl check fails on bad dequeue lines" test $? != 0
check "every=0 with its line" grep -q 'control/dequeue:1: every= takes a time' "$T_TMP/check.out"
check "a bad at= time with its line" grep -q 'control/dequeue:2: at= takes times HH:MM' "$T_TMP/check.out"
check "a bad etrn= domain with its line" grep -q 'control/dequeue:3: etrn= takes domain names' "$T_TMP/check.out"
check "a line without a schedule" grep -q 'control/dequeue:4: expected a schedule' "$T_TMP/check.out"
check "good line 5 (the first line was refused)" t_lacks "$T_TMP/check.out" 'control/dequeue:5:'
t_done
