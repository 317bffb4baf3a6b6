# cost.sh -- connector choice by cost: control/routes lines with cost= and
# control/addressspace costs, and route hosts of equal /PREF, against three
# Postfix smtp-sink instances on random ports of 127.0.0.1 (A, B: cost 10,
# C: cost 20) and a fourth on port 25 of a test address that dnsmasq names
# as an MX.  The connection cache is off (control/connectioncache 0), so
# that every message is a new choice: the load is shared per connection.
#
# Checked: 60 messages one after another to share.test are shared between
# A and B (each gets at least 10), C gets none; 30 to pref.test, whose one
# route lists A/10, B/10, C/20, are shared between A and B, C none; with A
# and B stopped, 10 messages to each domain all reach C at their first try
# (no deferred line in the tracking log, the queue empty); DNS joins the
# ways at the cost of the domain's addressspace line: cheaper than the
# route, the MX gets the mail; dearer, the route does; imc-ctl check
# reports bad cost= and /PREF syntax as control/routes:LINE: reason.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

command -v smtp-sink > /dev/null || { echo "SKIP: cost: smtp-sink (postfix) is not installed"; exit 0; }
command -v dnsmasq > /dev/null || { echo "SKIP: cost: dnsmasq is not installed"; exit 0; }

# sink NAME ADDR:PORT: a Postfix smtp-sink writing each message to a file in
# W/NAME.d/ (as nobody: the directories on the way are opened to it)
chmod 0711 "$T_TMP" "$W"
sink() {
  mkdir -p -m 0777 "$W/$1.d"
  smtp-sink -u nobody -d "$W/$1.d/msg." "$2" 64 2> "$W/$1.err" &
  eval "SPID_$1=$!"
  T_PIDS="$T_PIDS $!"
  t_wait 10 in_use "$2" || { fail "sink $1" "smtp-sink did not listen on $2: $(cat "$W/$1.err")"; return 1; }
}
unsink() { eval "kill \$SPID_$1; wait \$SPID_$1" 2> /dev/null; }
got() { find "$W/$1.d" -type f -name 'msg.*' | wc -l | tr -d ' '; }
total() { echo $(( $(got A) + $(got B) + $(got C) + $(got D) )); }
total_is() { [ "$(total)" = "$1" ]; }

PA=$(t_port); PB=$(t_port); PC=$(t_port)
while [ "$PB" = "$PA" ]; do PB=$(t_port); done
while [ "$PC" = "$PA" ] || [ "$PC" = "$PB" ]; do PC=$(t_port); done
sink A "127.0.0.1:$PA" || exit 1
sink B "127.0.0.1:$PB" || exit 1
sink C "127.0.0.1:$PC" || exit 1
sink D "$(hip 6):25" || exit 1
printf 'mx-host=dns1.test,mx.dns.test,10\nmx-host=dns2.test,mx.dns.test,10\naddress=/mx.dns.test/%s\n' "$(hip 6)" > "$W/dns.conf.extra"
start_dns || exit 1

I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo "$DNSCACHEIP" > "$I/env/DNSCACHEIP"
echo cost.test > "$I/control/me"
echo cost.test > "$I/control/sitedomains"
echo 0 > "$I/control/connectioncache"
echo 1 > "$I/control/retry"
cat > "$I/control/routes" <<EOF
share.test [127.0.0.1]:$PA tls=none cost=10
share.test [127.0.0.1]:$PB tls=none cost=10
share.test [127.0.0.1]:$PC tls=none cost=20
pref.test [127.0.0.1]:$PA/10,[127.0.0.1]:$PB/10,[127.0.0.1]:$PC/20 tls=none
dns1.test [127.0.0.1]:$PC tls=none cost=5
dns2.test [127.0.0.1]:$PC tls=none cost=5
EOF
printf 'dns1.test 1\ndns2.test 90\n* 50\n' > "$I/control/addressspace"
imc-ctl check > "$T_TMP/check.out" 2>&1
check "imc-ctl check accepts the cost routes" test $? = 0
t_start "$I" || { fail start "services did not come up"; exit 1; }
TRACK=$I/log/track/current

# send N DOMAIN TAG: N messages one after another, each delivered before the next
send() {
  _k=1
  while [ "$_k" -le "$1" ]; do
    _t=$(( $(total) + 1 ))
    printf 'Subject: %s %d\n\nbody\n' "$3" "$_k" | sendmail -f alice@cost.test "u$_k@$2"
    t_wait 20 total_is "$_t" || { fail "$3" "message $_k to $2 was not delivered"; return 1; }
    _k=$((_k + 1))
  done
}

send 60 share.test share || { t_done; exit 1; }
echo "share.test: A $(got A), B $(got B), C $(got C)"
check "equal costs share: A got at least 10 of 60" test "$(got A)" -ge 10
check "equal costs share: B got at least 10 of 60" test "$(got B)" -ge 10
check "equal costs share: the dearer C got none" test "$(got C)" = 0
a0=$(got A) b0=$(got B)
send 30 pref.test pref
echo "pref.test: A $(( $(got A) - a0 )), B $(( $(got B) - b0 )), C $(got C)"
check "equal /PREF hosts share: A got at least 5 of 30" test $(( $(got A) - a0 )) -ge 5
check "equal /PREF hosts share: B got at least 5 of 30" test $(( $(got B) - b0 )) -ge 5
check "equal /PREF hosts share: the less preferred C got none" test "$(got C)" = 0

unsink A
unsink B
both_down() { ! in_use "127.0.0.1:$PA" && ! in_use "127.0.0.1:$PB"; }
check "A and B are down" t_wait 5 both_down
send 10 share.test failover
check "failover: the dearer C got all 10" test "$(got C)" = 10
send 10 pref.test preffail
check "failover to the less preferred host: C got 10 more" test "$(got C)" = 20
check "nothing deferred on the way to C" t_lacks "$TRACK" '	deferred	'
check "queue empty" t_wait 10 t_queue_empty "$I"

send 3 dns1.test dns1
check "addressspace cost 1 below the route's 5: the MX got 3" test "$(got D)" = 3
send 3 dns2.test dns2
check "addressspace cost 90 above the route's 5: the route's C got 3" test "$(got C)" = 23
check "the MX got no more" test "$(got D)" = 3

# imc-ctl check: bad cost and /PREF syntax with file and line
printf 'x.test h1 cost=0\nx.test h1/5,h2\ny.test h1 cost=3\ny.test h2\n' > "$I/control/routes"
imc-ctl check > "$T_TMP/bad.out" 2>&1
check "imc-ctl check fails on bad routes" test $? != 0
check "cost=0 refused with its line" grep -q 'control/routes:1: cost= must be a number from 1 to 100' "$T_TMP/bad.out"
check "/PREF on some hosts refused with its line" grep -q 'control/routes:2: give every host a /PREF or none' "$T_TMP/bad.out"
check "a second line without cost= refused with its line" grep -q 'control/routes:4: pattern listed twice' "$T_TMP/bad.out"
t_done
