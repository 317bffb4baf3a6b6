# checkdns.sh -- imc-ctl check --dns: against a dnsmasq on 127.A.B.53, each
# site domain's MX records are compared with this host (control/me, by name
# or by address): an MX naming this host, a domain with no MX whose own
# address is this host (implicit MX), an MX elsewhere, an implicit MX
# elsewhere, a null MX, a domain not in the DNS, a DNS server that does not
# answer; the exact lines and exit codes (0, 1, 111, and 100 with no DNS
# asked when the control files have errors).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

H=$T_TMP/home
mkdir -p "$H/control"
IMC_HOME=$H; export IMC_HOME
ME=$(hip 25) AWAY=$(hip 9) AWAY2=$(hip 10)
cat > "$W/dns.conf.extra" <<EOF2
address=/gw.site.test/$ME
mx-host=good.test,mail.good.test,10
mx-host=good.test,backup.elsewhere.test,20
address=/mail.good.test/$ME
mx-host=other.test,mx1.elsewhere.test,10
mx-host=other.test,mx2.elsewhere.test,20
address=/mx1.elsewhere.test/$AWAY
address=/mx2.elsewhere.test/$AWAY2
address=/backup.elsewhere.test/$AWAY2
address=/bare.test/$ME
address=/away.test/$AWAY
dns-rr=nullmx.test,15,000000
mx-host=named.test,nodns.site.test,10
mx-host=second.test,mx1.elsewhere.test,10
mx-host=second.test,gw.site.test,20
EOF2
start_dns || exit 1

# run NAME SITEDOMAINS...: imc-ctl check --dns; output in $W/NAME.out, exit code in RC
run() {
  _n=$1; shift
  printf '%s\n' "$@" > "$H/control/sitedomains"
  timeout 60 imc-ctl check --dns > "$W/$_n.out" 2>&1
  RC=$?
}
# has NAME LINE: the output holds exactly this line
has() { grep -qxF -- "$2" "$W/$1.out" || { echo "--- $1:"; cat "$W/$1.out"; return 1; }; }
lines_are() { [ "$(grep -c . "$W/$1.out")" = "$2" ]; }

echo gw.site.test > "$H/control/me"

run fine good.test bare.test second.test
check "fine: exit 0" test "$RC" = 0
check "fine: control ok" has fine "control: ok"
check "fine: MX by address" has fine "good.test: MX mail.good.test [$ME] is this host"
check "fine: implicit MX" has fine "bare.test: no MX record; the domain's own address [$ME] is this host (implicit MX)"
check "fine: second MX is this host" has fine "second.test: MX gw.site.test [$ME] is this host"
check "fine: one line per domain" lines_are fine 4

run elsewhere good.test other.test bare.test
check "MX elsewhere: exit 1" test "$RC" = 1
check "MX elsewhere: warning" has elsewhere "imc-ctl: warning: other.test: no MX record points at this host (mx1.elsewhere.test [$AWAY], mx2.elsewhere.test [$AWAY2])"
check "MX elsewhere: the others still fine" has elsewhere "good.test: MX mail.good.test [$ME] is this host"
check "MX elsewhere: one line per domain" lines_are elsewhere 4

run bad away.test nullmx.test missing.test
check "bad: exit 1" test "$RC" = 1
check "bad: implicit MX elsewhere" has bad "imc-ctl: warning: away.test: no MX record points at this host (implicit MX away.test [$AWAY])"
check "bad: null MX" has bad "imc-ctl: warning: nullmx.test: null MX: the domain accepts no mail"
check "bad: not in the DNS" has bad "imc-ctl: warning: missing.test: no MX and no address records: mail to it cannot be delivered"

echo nodns.site.test > "$H/control/me"
run byname named.test
check "MX named like control/me: exit 0" test "$RC" = 0
check "MX named like control/me: this host" has byname "named.test: MX nodns.site.test [no address] is this host"
run noaddr other.test
check "control/me without address: exit 1" test "$RC" = 1
check "control/me without address: said" has noaddr "imc-ctl: warning: other.test: no MX record points at this host (mx1.elsewhere.test [$AWAY], mx2.elsewhere.test [$AWAY2]); control/me nodns.site.test has no address records"

echo gw.site.test > "$H/control/me"
echo 'not a number' > "$H/control/maxrcpt"
run errors other.test
check "control errors: exit 100" test "$RC" = 100
check "control errors: reported" has errors "control/maxrcpt:1: extra words after the value"
check "control errors: no DNS check" t_lacks "$W/errors.out" other.test
rm "$H/control/maxrcpt"

# nothing listens on port 53 there: the lookups fail, temporarily
DNSCACHEIP=$DEAD run dead good.test
check "DNS down: exit 111" test "$RC" = 111
check "DNS down: said" grep -q "good.test: DNS temporary failure looking up its MX records" "$W/dead.out"
t_done
