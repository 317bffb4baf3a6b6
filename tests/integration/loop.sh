#!/bin/sh
# loop.sh -- mail whose next hop is this gateway bounces at once with
# "5.4.6 mail for DOMAIN loops back to myself" (docs/SECURITY.md 11.4f;
# remote/ownaddr.c, remote/session.c).  Checked:
#   - an instance whose route points at its own listener: the sender gets a
#     bounce with 5.4.6 and that text within seconds, the tracking log has
#     one failure and no deferral, and nothing came in over its SMTP port;
#   - an instance listening on port 25 of a test address, a domain whose MX
#     (dnsmasq) is that address: the same bounce (root only: port 25);
#     a domain where it is only the backup MX: delivered to the better one;
#   - imc-remote on job lines: a host greeting with control/me: D 5.4.6 and
#     no MAIL sent; control/localips at any port; a wildcard listener
#     (env/IMC_LISTEN 0.0.0.0) takes every 127.x address at its port only.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"
command -v dnsmasq > /dev/null || { echo "SKIP: loop: dnsmasq is not installed"; exit 0; }

cat > "$W/dns.conf.extra" <<EOF
mx-host=mxloop.test,mx.mxloop.test,10
address=/mx.mxloop.test/$(hip 1)
mx-host=backup.test,mx1.backup.test,10
mx-host=backup.test,mx.mxloop.test,20
address=/mx1.backup.test/$(hip 3)
EOF
start_dns || exit 1

# ---- 1. a route to the instance's own listener
I=$T_TMP/i
t_instance "$I" || { fail setup "instance"; exit 1; }
P=$T_PORT
echo one.test > "$I/control/me"
echo one.test > "$I/control/sitedomains"
echo 'mailbox alice "Alice"' > "$I/control/directory"
echo 1 > "$I/control/retry"
echo "self.test [127.0.0.1]:$P" > "$I/control/routes"
IMC_HOME=$I imc-ctl compile > /dev/null
t_start "$I" || { fail start "the instance did not come up"; exit 1; }
t_wait 10 sh -c "ss -Hltn | grep -q '127.0.0.1:$P '" || { fail start "no listener on $P"; exit 1; }
start=$(date +%s)
printf 'Subject: to myself\n\nround and round\n' | IMC_HOME=$I sendmail -f alice@one.test bob@self.test
check "route to our own listener: the sender gets a bounce" t_wait 20 t_count_is "$I/mail/alice" 1
took=$(( $(date +%s) - start ))
b=$(find "$I/mail/alice/new" -type f | head -1)
check "the bounce says 5.4.6" grep -q '5\.4\.6' "${b:-/nonexistent}"
check "the bounce says: mail for self.test loops back to myself" grep -q 'mail for self.test loops back to myself' "${b:-/nonexistent}"
check "promptly (${took}s, at most 15)" [ "$took" -le 15 ]
T=$I/log/track/current
check "tracked as bounced, once" [ "$(grep -c 'bounced.*bob@self.test' "$T")" = 1 ]
check "never deferred (no trip through the queue again)" sh -c "[ -s '$T' ] && ! grep -q 'deferred.*bob@self.test' '$T'"
check "received once only: the injection, nothing again over SMTP" \
  [ "$(grep -c 'received.*bob@self.test' "$T")" = 1 ]
check "the queue is empty afterwards" t_wait 10 t_queue_empty "$I"
t_stop "$I"

# ---- 2. MX records that lead back here (port 25 on a test address: root only)
if [ "$(id -u)" = 0 ] && ! in_use "$(hip 1):25"; then
  M=$T_TMP/m
  t_instance "$M" --port 25 --no-submission --listen "$(hip 1)" || { fail setup "instance m"; exit 1; }
  echo two.test > "$M/control/me"
  echo two.test > "$M/control/sitedomains"
  echo 'mailbox carol "Carol"' > "$M/control/directory"
  echo 1 > "$M/control/retry"
  IMC_HOME=$M imc-ctl compile > /dev/null
  start_sink mx1 "$(hip 3):25" || exit 1
  t_start "$M" || { fail start "instance m did not come up"; exit 1; }
  t_wait 10 sh -c "ss -Hltn | grep -q '$(hip 1):25 '" || { fail start "no listener on $(hip 1):25"; exit 1; }
  printf 'Subject: via MX\n\nround\n' | IMC_HOME=$M sendmail -f carol@two.test dave@mxloop.test
  check "MX pointing here: the sender gets a bounce" t_wait 20 t_count_is "$M/mail/carol" 1
  b=$(find "$M/mail/carol/new" -type f | head -1)
  check "MX pointing here: 5.4.6 mail for mxloop.test loops back to myself" \
    grep -q 'mail for mxloop.test loops back to myself' "${b:-/nonexistent}"
  check "MX pointing here: never deferred" sh -c "! grep -q 'deferred.*dave@mxloop.test' '$M/log/track/current'"
  printf 'Subject: backup\n\nto the better MX\n' | IMC_HOME=$M sendmail -f carol@two.test erin@backup.test
  check "we are the backup MX: delivered to the better one" t_wait 20 delivered_is mx1 1
  check "no second bounce" t_count_is "$M/mail/carol" 1
  t_stop "$M"
  stop_sink mx1
else
  echo "SKIP: loop: MX on port 25 (needs root and a free $(hip 1):25)"
fi

# ---- 3. imc-remote on job lines: the greeting's name, control/localips, a wildcard listener
H=$T_TMP/home
mkdir -p "$H/control"
echo 5 > "$H/control/timeoutconnect"
SP=$(t_port)
start_sink s "$(hip 5):$SP" || exit 1
printf 'Subject: j\n\nhello\n' > "$W/m1"
JOB=$(printf '3\t%s\tnormal\tsender@imc.test\tx@dest.test' "$(wc -c < "$W/m1" | tr -d ' ')")
remote() { echo "$JOB" | IMC_HOME=$H imc-remote dest.test 3< "$W/m1" > "$W/$1.rep" 2> "$W/$1.err"; }

echo sink.test > "$H/control/me"
echo "dest.test [$(hip 5)]:$SP" > "$H/control/routes"
remote c1
check "a host greeting with control/me: D 5.4.6 loops back to myself" \
  grep -q "^D\[$(hip 5)\]: 5\.4\.6 mail for dest.test loops back to myself" "$W/c1.rep"
check "a host greeting with control/me: no MAIL sent" sh -c "[ -s '$W/s.log' ] && ! grep -q '< MAIL' '$W/s.log'"
echo imc.test > "$H/control/me"
remote c2
check "another name: delivered (K)" grep -q '^K' "$W/c2.rep"

echo "$(hip 5)" > "$H/control/localips"
remote c3
check "control/localips: D 5.4.6 before connecting" grep -q '^D5\.4\.6 mail for dest.test loops back to myself' "$W/c3.rep"
check "control/localips: no connection made" [ "$(conns s)" = 2 ]
printf '%s\nnot-an-address\n' "$(hip 5)" > "$H/control/localips"
IMC_HOME=$H imc-ctl check > "$W/ctl.out" 2>&1
check "imc-ctl check: a bad control/localips line named" grep -q 'control/localips:2: expected one IPv4 or IPv6 address' "$W/ctl.out"
rm -f "$H/control/localips"

mkdir -p "$H/env"
echo 0.0.0.0 > "$H/env/IMC_LISTEN"
echo "$SP" > "$H/env/IMC_PORT"
echo "dest.test [$(hip 9)]:$SP" > "$H/control/routes"
remote c4
check "wildcard listener: another 127.x address at our port is us (D 5.4.6)" grep -q '^D5\.4\.6 mail for dest.test loops back' "$W/c4.rep"
echo "dest.test [$(hip 5)]:$((SP + 1)),[$(hip 5)]:$SP" > "$H/control/routes"
echo "$((SP + 1))" > "$H/env/IMC_PORT"
remote c5
check "wildcard listener: a route whose first host is us: loop (D 5.4.6), the later host not tried" grep -q '^D5\.4\.6' "$W/c5.rep"
echo "dest.test [$(hip 5)]:$SP,[$(hip 5)]:$((SP + 1))" > "$H/control/routes"
remote c6
check "wildcard listener: a route's first host (another port) is used, ours after it dropped" grep -q '^K' "$W/c6.rep"
echo "127.0.0.1" > "$H/env/IMC_LISTEN"
echo "dest.test [$(hip 5)]:$((SP + 1))" > "$H/control/routes"
remote c7
check "a specific listener: another 127.x address is not us (Z: nothing listens)" grep -q '^Z' "$W/c7.rep"
stop_sink s
t_done
