# spf.sh -- imc-ctl spf against a dnsmasq on 127.A.B.53 serving SPF records
# for test domains, each case compared with python3-spf (pyspf, pointed at
# the same dnsmasq): both must give the expected result, and for exp= the
# same explanation.  Cases: pass, fail, softfail, neutral, none, include,
# redirect, exp= with macros, exists with macros, over the 10-lookup limit,
# over the void-lookup limit, two records, a syntax error, a record split
# in strings, temperror (a zone delegated to an address where nothing
# answers), ip6, mx, a with a CIDR length, ptr, the null sender
# (postmaster@HELO).  imc-ctl reads the server from the instance's
# env/DNSCACHEIP (DNSCACHEIP is removed from its environment).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

"$PYTHON" -c 'import spf, dns.resolver' 2>/dev/null || { echo "SKIP: spf.sh: python3-spf (pyspf) is not installed"; exit 0; }

H=$T_TMP/home
mkdir -p "$H/control" "$H/env"
IMC_HOME=$H; export IMC_HOME
echo mx.receiver.test > "$H/control/me"

cat > "$W/dns.conf.extra" <<EOF2
txt-record=pass.test,"v=spf1 ip4:192.0.2.0/24 -all"
txt-record=soft.test,"v=spf1 ip4:192.0.2.0/24 ~all"
txt-record=neutral.test,"v=spf1 ip4:192.0.2.0/24 ?all"
txt-record=include.test,"v=spf1 include:pass.test include:soft.test -all"
txt-record=redirect.test,"v=spf1 ip4:10.0.0.1 redirect=pass.test"
txt-record=exp.test,"v=spf1 ip4:192.0.2.0/24 -all exp=why.exp.test"
txt-record=why.exp.test,"%{i} is not one of %{d}'s designated mail servers (%{l}, %{o}, %{v}, %{h})"
txt-record=macro.test,"v=spf1 exists:%{ir}.%{l1r+}._spf.%{d} -all"
host-record=10.100.51.198.alice._spf.macro.test,127.0.0.2
txt-record=exists.test,"v=spf1 exists:%{i}.allowed.exists.test -all"
host-record=198.51.100.20.allowed.exists.test,127.0.0.2
txt-record=limit.test,"v=spf1 a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test -all"
host-record=h.limit.test,203.0.113.250
txt-record=deep.test,"v=spf1 include:d1.deep.test -all"
txt-record=d1.deep.test,"v=spf1 include:d2.deep.test ?all"
txt-record=d2.deep.test,"v=spf1 a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test include:pass.test ?all"
txt-record=void.test,"v=spf1 a:nx1.void.test a:nx2.void.test a:nx3.void.test ip4:192.0.2.0/24 -all"
txt-record=twovoid.test,"v=spf1 a:nx1.void.test a:nx2.void.test ip4:192.0.2.0/24 -all"
txt-record=two.test,"v=spf1 -all"
txt-record=two.test,"v=spf1 +all"
txt-record=syntax.test,"v=spf1 ip4:192.0.2.0/24 bogus:x.test -all"
txt-record=badcidr.test,"v=spf1 ip4:192.0.2.0/33 -all"
txt-record=split.test,"v=spf1 ip4:192.0.2.0/24"," -all"
txt-record=temp.test,"v=spf1 a:host.dead.test -all"
server=/dead.test/$DEAD
txt-record=ip6.test,"v=spf1 ip6:2001:db8:5::/48 -all"
txt-record=mx.test,"v=spf1 mx -all"
mx-host=mx.test,mx1.mx.test,10
mx-host=mx.test,mx2.mx.test,20
host-record=mx1.mx.test,203.0.113.5
host-record=mx2.mx.test,2001:db8:7::25
txt-record=acidr.test,"v=spf1 a:web.acidr.test/24 a:web.acidr.test//64 -all"
host-record=web.acidr.test,203.0.113.77,2001:db8:9:1::77
txt-record=ptr.test,"v=spf1 ptr -all"
host-record=mail.ptr.test,192.0.2.99
local=/2.0.192.in-addr.arpa/
txt-record=helo.test,"v=spf1 ip4:198.51.100.7 -all"
txt-record=other.test,"some other record"
EOF2
start_dns || exit 1
echo "$DNSCACHEIP" > "$H/env/DNSCACHEIP"

# the cases: NAME IP MAILFROM HELO EXPECTED
cat > "$W/cases" <<'EOF2'
pass 192.0.2.10 user@pass.test h.test pass
fail 198.51.100.1 user@pass.test h.test fail
softfail 198.51.100.1 user@soft.test h.test softfail
neutral 198.51.100.1 user@neutral.test h.test neutral
none 198.51.100.1 user@other.test h.test none
nxdomain 198.51.100.1 user@nowhere.test h.test none
include-pass 192.0.2.10 user@include.test h.test pass
include-nomatch 198.51.100.1 user@include.test h.test fail
redirect-pass 192.0.2.10 user@redirect.test h.test pass
redirect-own 10.0.0.1 user@redirect.test h.test pass
redirect-fail 198.51.100.1 user@redirect.test h.test fail
exp 198.51.100.1 strong-bad@exp.test helo.example fail
macro-pass 198.51.100.10 alice@macro.test h.test pass
macro-fail 198.51.100.11 alice@macro.test h.test fail
exists-pass 198.51.100.20 x@exists.test h.test pass
exists-fail 198.51.100.21 x@exists.test h.test fail
limit 192.0.2.10 user@limit.test h.test permerror
limit-nested 192.0.2.10 user@deep.test h.test permerror
void 192.0.2.10 user@void.test h.test permerror
two-voids 192.0.2.10 user@twovoid.test h.test pass
two-records 192.0.2.10 user@two.test h.test permerror
syntax 192.0.2.10 user@syntax.test h.test permerror
bad-cidr 192.0.2.10 user@badcidr.test h.test permerror
split 198.51.100.1 user@split.test h.test fail
split-pass 192.0.2.10 user@split.test h.test pass
temperror 192.0.2.10 user@temp.test h.test temperror
ip6-pass 2001:db8:5::1 user@ip6.test h.test pass
ip6-fail 2001:db8:6::1 user@ip6.test h.test fail
ip6-v4client 192.0.2.10 user@ip6.test h.test fail
mx-pass 203.0.113.5 user@mx.test h.test pass
mx6-pass 2001:db8:7::25 user@mx.test h.test pass
mx-fail 203.0.113.6 user@mx.test h.test fail
a-cidr 203.0.113.200 user@acidr.test h.test pass
a-cidr-fail 203.0.112.77 user@acidr.test h.test fail
a-cidr6 2001:db8:9:1:ffff::1 user@acidr.test h.test pass
a-cidr6-fail 2001:db8:9:2::77 user@acidr.test h.test fail
ptr-pass 192.0.2.99 user@ptr.test h.test pass
null-sender 198.51.100.7 <> helo.test pass
null-sender-fail 198.51.100.8 <> helo.test fail
EOF2

# pyspf's verdicts, one line per case: NAME RESULT|EXPLANATION
"$PYTHON" - "$DNSCACHEIP" "$W/cases" > "$W/pyspf.out" 2> "$W/pyspf.err" <<'PY'
import sys, dns.resolver, spf
r = dns.resolver.Resolver(configure=False)
r.nameservers = [sys.argv[1]]
r.lifetime = 8
dns.resolver.default_resolver = r
for line in open(sys.argv[2]):
    name, ip, s, h, _ = line.split()
    if s == "<>":
        s = ""
    res, exp = spf.check2(i=ip, s=s, h=h, querytime=8)
    print("%s %s|%s" % (name, res, exp if res == "fail" else ""))
PY
[ -s "$W/pyspf.out" ] || { fail pyspf "gave no output: $(tail -3 "$W/pyspf.err")"; exit 1; }

# the value of a "name: value" line of imc-ctl's output
field() { sed -n "s/^$2: //p" "$1"; }

while read -r name ip from helo want; do
  [ "$from" = "<>" ] && from=""
  env -u DNSCACHEIP timeout 60 imc-ctl spf "$ip" "$from" "$helo" > "$W/$name.out" 2>&1
  rc=$?
  got=$(field "$W/$name.out" spf)
  py=$(sed -n "s/^$name \([a-z]*\)|.*/\1/p" "$W/pyspf.out")
  if [ "$rc" = 0 ] && [ "$got" = "$want" ] && [ "$py" = "$want" ]; then pass "$name: $want (imc-ctl and pyspf)"
  else fail "$name" "expected $want, imc-ctl said $got (exit $rc), pyspf said $py; imc-ctl: $(tr '\n' ';' < "$W/$name.out")"
  fi
done < "$W/cases"

# the explanation: the same text from both, and what the macros make of it
pyexp=$(sed -n 's/^exp fail|//p' "$W/pyspf.out")
exp=$(field "$W/exp.out" explanation)
check "exp: explanation expanded" test "$exp" = "198.51.100.1 is not one of exp.test's designated mail servers (strong-bad, exp.test, in-addr, helo.example)"
check "exp: pyspf gives the same explanation" test "$exp" = "$pyexp"
check "mechanism that decided is named" test "$(field "$W/include-pass.out" mechanism)" = "include:pass.test (record of include.test)"
check "redirect: the deciding record is the target's" test "$(field "$W/redirect-fail.out" mechanism)" = "-all (record of pass.test)"
check "null sender: checked as postmaster@HELO" test "$(field "$W/null-sender.out" sender)" = "postmaster@helo.test"
check "limit: the problem said" grep -qx "problem: more than 10 DNS-querying terms" "$W/limit.out"
check "limit through includes: the problem said" grep -qx "problem: more than 10 DNS-querying terms" "$W/limit-nested.out"
check "void: the problem said" grep -q "^problem: more than 2 void DNS lookups" "$W/void.out"
check "temperror: the problem said" grep -q "^problem: DNS temporary failure looking up host.dead.test" "$W/temperror.out"

# usage errors: exit 100
imc-ctl spf 1.2.3 user@pass.test h.test > /dev/null 2>&1
check "a bad IP address: exit 100" test $? = 100
imc-ctl spf 192.0.2.1 "" > /dev/null 2>&1
check "null sender without HELO: exit 100" test $? = 100
t_done
