#!/bin/sh
# authcheck.sh -- SPF, DKIM and DMARC checks of inbound mail in imc-smtpd,
# against a dnsmasq on 127.A.B.53 that serves the SPF, DKIM key and DMARC
# records of the test domains.  Clients come from 127.0.0.2 (control/rules:
# accept, no relay); messages are signed by Debian's python3-dkim (dkimpy);
# the Authentication-Results field imc puts on top is parsed with
# python3-authres, and every SPF result is compared with python3-spf's for
# the same client, sender and HELO.
#
# Cases: DKIM valid, body altered, header altered, key missing; SPF pass,
# fail, softfail, include, redirect, over the lookup limit, temperror, the
# null sender; DMARC aligned by SPF only, by DKIM only (relaxed, a From:
# subdomain), neither with p=none, p=quarantine, p=reject (550 5.7.1),
# sp= for a subdomain, the organizational domain through the Public
# Suffix List (example.co.uk); forged Authentication-Results fields with
# this host's name removed, others kept, the header section ended by a
# line that is not a field (the rest is body, kept); relaying and authenticated
# clients not checked; control/authpolicy spffail=reject (550 5.7.23),
# temperror=defer (451 4.7.24), dmarcreject=mark, checks=off, each read by
# the running workers.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

for m in dkim spf authres dns.resolver; do
  "$PYTHON" -c "import $m" 2>/dev/null || { echo "SKIP: authcheck.sh: $PYTHON cannot import $m (python3-dkim, python3-spf, python3-authres)"; exit 0; }
done
[ -r /usr/share/publicsuffix/public_suffix_list.dat ] || { echo "SKIP: authcheck.sh: the publicsuffix package is not installed"; exit 0; }

# ---- keys and DNS
openssl genrsa -out "$W/key.pem" 2048 2> /dev/null || { fail setup "openssl genrsa"; exit 1; }
P64=$(openssl rsa -in "$W/key.pem" -pubout -outform DER 2> /dev/null | base64 -w0)
# a TXT record's text as dnsmasq strings of at most 200 octets
txt() { printf '%s' "$1" | fold -w 200 | sed 's/.*/"&"/' | paste -sd, -; }
KEY=$(txt "v=DKIM1; k=rsa; p=$P64")
C=127.0.0.2
cat > "$W/dns.conf.extra" <<EOF2
local=/co.uk/
txt-record=good.test,"v=spf1 ip4:$C -all"
txt-record=_dmarc.good.test,"v=DMARC1; p=reject"
txt-record=sel._domainkey.good.test,$KEY
txt-record=fail.test,"v=spf1 ip4:192.0.2.1 -all"
txt-record=soft.test,"v=spf1 ip4:192.0.2.1 ~all"
txt-record=inc.test,"v=spf1 include:good.test -all"
txt-record=redir.test,"v=spf1 ip4:192.0.2.1 redirect=good.test"
txt-record=limit.test,"v=spf1 a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test a:h.limit.test ip4:$C -all"
host-record=h.limit.test,203.0.113.250
txt-record=temp.test,"v=spf1 a:host.dead.test -all"
server=/dead.test/$DEAD
txt-record=client.test,"v=spf1 ip4:$C -all"
txt-record=signed.test,"v=spf1 -all"
txt-record=_dmarc.signed.test,"v=DMARC1; p=reject"
txt-record=sel._domainkey.signed.test,$KEY
txt-record=_dmarc.pnone.test,"v=DMARC1; p=none"
txt-record=_dmarc.quar.test,"v=DMARC1; p=quarantine"
txt-record=_dmarc.rej.test,"v=DMARC1; p=reject"
txt-record=_dmarc.parent.test,"v=DMARC1; p=none; sp=reject"
txt-record=_dmarc.example.co.uk,"v=DMARC1; p=reject"
txt-record=xn--bcher-kva.test,"v=spf1 ip4:$C -all"
txt-record=_dmarc.xn--bcher-kva.test,"v=DMARC1; p=reject"
txt-record=xn--mller-kva.test,"v=spf1 -all"
txt-record=_dmarc.xn--mller-kva.test,"v=DMARC1; p=reject"
EOF2
start_dns || exit 1

# ---- the instance
I=$T_TMP/i
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
I=$(cd "$I" && pwd -P)
P=$T_PORT
IMC_HOME=$I; export IMC_HOME
echo mx.auth.test > "$I/control/me"
echo auth.test > "$I/control/sitedomains"
printf 'mailbox alice "Alice"\nmailbox carol "Carol"\n' > "$I/control/directory"
printf 'relay 127.0.0.1\naccept 127.0.0.2\n' > "$I/control/rules"
printf 'carol:%s\n' "$(openssl passwd -6 secret)" > "$I/control/auth"
printf 'minimum\nsmtp medium\n' > "$I/control/loglevel"
echo "$DNSCACHEIP" > "$I/env/DNSCACHEIP"
imc-ctl compile > /dev/null || { fail setup compile; exit 1; }
t_start "$I" || { fail start "services did not come up"; exit 1; }
t_wait 10 sh -c "ss -Hltn | grep -q '127.0.0.1:$P '" || { fail start "no listener"; exit 1; }
MAIL=$I/mail/alice

# ---- helpers
cat > "$W/cl.py" <<'PY'
# cl.py PORT SRC HELO MAILFROM RCPT MSGFILE [USER PASS]: one transaction; prints each reply
import smtplib, sys
port, src, helo, mailfrom, rcpt, msgfile = sys.argv[1:7]
s = smtplib.SMTP(timeout=60, source_address=(src, 0))
s.connect("127.0.0.1", int(port))
s.ehlo(helo)
if len(sys.argv) > 8:
    print("auth", s.login(sys.argv[7], sys.argv[8])[0])
def show(name, r):
    print(name, r[0], r[1].decode(errors="replace").replace("\n", " "))
r = s.docmd("MAIL FROM:<%s>" % mailfrom); show("mail", r)
if r[0] == 250:
    r = s.docmd("RCPT TO:<%s>" % rcpt); show("rcpt", r)
    if r[0] == 250:
        r = s.docmd("DATA")
        if r[0] == 354:
            data = open(msgfile, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            data = data.replace(b"\r\n.", b"\r\n..")
            s.send(data + b".\r\n")
            show("data", s.getreply())
        else:
            show("data", r)
s.quit()
PY
cat > "$W/sign.py" <<'PY'
# sign.py KEY DOMAIN SELECTOR IN OUT [body|header]: dkimpy signs; then maybe alters
import dkim, sys
key, d, sel, src, dst = sys.argv[1:6]
m = open(src, "rb").read().replace(b"\n", b"\r\n")
sig = dkim.sign(m, sel.encode(), d.encode(), open(key, "rb").read(),
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
m = sig + m
if sys.argv[6:] == ["body"]:
    m = m.replace(b"hello there", b"hello th3re")
if sys.argv[6:] == ["header"]:
    m = m.replace(b"Subject: case", b"Subject: Case")
open(dst, "wb").write(m)
PY
cat > "$W/ar.py" <<'PY'
# ar.py FILE ME: there must be one Authentication-Results with authserv-id ME,
# above every Received field (only imc-local's Return-Path and Delivered-To
# before it); prints "spf=R dkim=R[,R] dmarc=R" and the properties
import authres, email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.compat32)
names = [k.lower() for k, v in m._headers]
first = [n for n in names if n not in ("return-path", "delivered-to")][0]
ours = [v for k, v in m._headers if k.lower() == "authentication-results"
        and authres.AuthenticationResultsHeader.parse("Authentication-Results: " + v).authserv_id == sys.argv[2]]
if first != "authentication-results" or len(ours) != 1:
    print("first field %s, %d of ours" % (first, len(ours))); sys.exit(0)
h = authres.AuthenticationResultsHeader.parse("Authentication-Results: " + ours[0].replace("\n", " "))
got = {}
props = []
for r in h.results:
    got.setdefault(r.method, []).append(r.result)
    props += ["%s.%s=%s" % (p.type, p.name, p.value) for p in r.properties]
print(" ".join("%s=%s" % (k, ",".join(got.get(k, ["-"]))) for k in ("spf", "dkim", "dmarc")))
print(" ".join(props))
PY

# msg NAME FROM [BODY]: a message file W/NAME.eml with Subject "case NAME"
msg() {
  printf 'From: %s\nTo: alice@auth.test\nSubject: case %s\nDate: Sat, 05 Dec 2026 12:00:00 +0000\nMessage-ID: <%s@test>\n\n%s\n' \
    "$2" "$1" "$1" "${3:-hello there}" > "$W/$1.eml"
}
# send NAME MAILFROM [HELO [SRC [USER PASS]]]: W/NAME.out has the replies
send() {
  "$PYTHON" "$W/cl.py" "$P" "${4:-$C}" "${3:-client.test}" "$2" alice@auth.test "$W/$1.eml" ${5:+"$5"} ${6:+"$6"} > "$W/$1.out" 2>&1
}
replied() { grep -q "^$2" "$W/$1.out"; }
file_of() { grep -il "^Subject: case $1\$" "$MAIL"/new/* 2>/dev/null | head -1; }
delivered() { t_wait 10 sh -c "grep -qi '^Subject: case $1\$' '$MAIL'/new/* 2>/dev/null"; }
# ar NAME: the parsed Authentication-Results of the delivered message
ar() { f=$(file_of "$1"); [ -n "$f" ] && "$PYTHON" "$W/ar.py" "$f" mx.auth.test > "$W/$1.ar" 2>&1; }
ar_is() { [ "$(head -1 "$W/$1.ar")" = "$2" ]; }
ar_has() { sed -n 2p "$W/$1.ar" | tr ' ' '\n' | grep -qx -- "$2"; }
ar_all() { _a=$1; shift; for _p; do ar_has "$_a" "$_p" || return 1; done; }
# case NAME MAILFROM WANT-A-R [HELO]: sent, delivered, and the results as wanted
case_ar() {
  send "$1" "$2" "${4:-}"
  if replied "$1" "data 250" && delivered "$1" && ar "$1" && ar_is "$1" "$3"; then pass "$1: $3"
  else fail "$1" "wanted '$3'; replies: $(tr '\n' '|' < "$W/$1.out"); got: $(tr '\n' '|' < "$W/$1.ar" 2>/dev/null)"
  fi
}
sign() { "$PYTHON" "$W/sign.py" "$W/key.pem" "$2" "${4:-sel}" "$W/$1.eml" "$W/$1.s" ${3:+"$3"} && mv "$W/$1.s" "$W/$1.eml"; }

# ---- DKIM, signed by dkimpy (MAIL FROM in good.test, so SPF passes and DMARC passes by SPF)
msg dkim-valid a@good.test; sign dkim-valid good.test
case_ar dkim-valid a@good.test "spf=pass dkim=pass dmarc=pass"
check "dkim-valid: header.d, header.s, smtp.mailfrom, header.from" ar_all dkim-valid header.d=good.test header.s=sel smtp.mailfrom=a@good.test header.from=good.test
msg dkim-body a@good.test; sign dkim-body good.test body
case_ar dkim-body a@good.test "spf=pass dkim=fail dmarc=pass"
msg dkim-header a@good.test; sign dkim-header good.test header
case_ar dkim-header a@good.test "spf=pass dkim=fail dmarc=pass"
msg dkim-nokey a@good.test; sign dkim-nokey good.test "" gone
case_ar dkim-nokey a@good.test "spf=pass dkim=permerror dmarc=pass"
f=$(file_of dkim-valid)
check "dkim-valid: Authentication-Results above Received" sh -c "grep -m1 '^Authentication-Results:\|^Received:' '$f' | grep -q '^Authentication-Results: mx.auth.test;'"
check "dkim-valid: the message, as delivered, still verifies with dkimpy" "$PYTHON" -c "
import dkim, sys, dns.resolver
r = dns.resolver.Resolver(configure=False); r.nameservers = ['$DNSCACHEIP']; dns.resolver.default_resolver = r
m = open('$f', 'rb').read().replace(b'\n', b'\r\n')
sys.exit(0 if dkim.verify(m) else 1)"

# ---- SPF: each result also compared with pyspf (client 127.0.0.2)
cat > "$W/spfcases" <<'EOF2'
spf-pass u@good.test client.test pass
spf-fail u@fail.test client.test fail
spf-softfail u@soft.test client.test softfail
spf-include u@inc.test client.test pass
spf-redirect u@redir.test client.test pass
spf-limit u@limit.test client.test permerror
spf-temperror u@temp.test client.test temperror
spf-none u@nothing.test client.test none
spf-null <> client.test pass
EOF2
"$PYTHON" - "$DNSCACHEIP" "$W/spfcases" "$C" > "$W/pyspf.out" 2> "$W/pyspf.err" <<'PY'
import sys, dns.resolver, spf
r = dns.resolver.Resolver(configure=False)
r.nameservers = [sys.argv[1]]
r.lifetime = 8
dns.resolver.default_resolver = r
for line in open(sys.argv[2]):
    name, s, h, _ = line.split()
    print(name, spf.check2(i=sys.argv[3], s="" if s == "<>" else s, h=h, querytime=8)[0])
PY
while read -r name from helo want; do
  py=$(sed -n "s/^$name //p" "$W/pyspf.out")
  [ "$from" = "<>" ] && from=
  msg "$name" x@elsewhere.test
  send "$name" "$from" "$helo"
  if replied "$name" "data 250" && delivered "$name" && ar "$name" && head -1 "$W/$name.ar" | grep -q "^spf=$want " && [ "$py" = "$want" ]
  then pass "$name: spf=$want (imc and pyspf)"
  else fail "$name" "wanted spf=$want, pyspf said $py; replies: $(tr '\n' '|' < "$W/$name.out"); got: $(tr '\n' '|' < "$W/$name.ar" 2>/dev/null)"
  fi
done < "$W/spfcases"
check "spf-null: the HELO name is what was checked (smtp.helo)" ar_has spf-null smtp.helo=client.test

# ---- DMARC
msg dmarc-spf a@good.test
case_ar dmarc-spf bounce@good.test "spf=pass dkim=none dmarc=pass"
msg dmarc-dkim a@signed.test; sign dmarc-dkim signed.test
case_ar dmarc-dkim bounce@fail.test "spf=fail dkim=pass dmarc=pass"
msg dmarc-relaxed a@news.good.test; sign dmarc-relaxed good.test
case_ar dmarc-relaxed bounce@fail.test "spf=fail dkim=pass dmarc=pass"
msg dmarc-none a@pnone.test
case_ar dmarc-none bounce@fail.test "spf=fail dkim=none dmarc=fail"
msg dmarc-quarantine a@quar.test
case_ar dmarc-quarantine bounce@fail.test "spf=fail dkim=none dmarc=fail"
check "dmarc-quarantine: marked with its disposition" grep -q 'dmarc=fail (p=quarantine dis=quarantine) header.from=quar.test' "$(file_of dmarc-quarantine)"
msg dmarc-reject a@rej.test
send dmarc-reject bounce@fail.test
check "dmarc-reject: 550 5.7.1 naming the domain" replied dmarc-reject "data 550 5.7.1 message refused by the DMARC policy of rej.test"
msg dmarc-sp a@sub.parent.test
send dmarc-sp bounce@fail.test
check "dmarc-sp: a subdomain gets sp=reject: 550 5.7.1" replied dmarc-sp "data 550 5.7.1"
msg dmarc-p a@parent.test
case_ar dmarc-p bounce@fail.test "spf=fail dkim=none dmarc=fail"
msg dmarc-psl a@mail.example.co.uk
send dmarc-psl bounce@fail.test
check "dmarc-psl: the policy of example.co.uk (organizational domain by the PSL) rejects" replied dmarc-psl "data 550 5.7.1 message refused by the DMARC policy of mail.example.co.uk"
imc-ctl dmarc mail.example.co.uk > "$W/ctl-dmarc.out" 2>&1
check "imc-ctl dmarc: found at _dmarc.example.co.uk" grep -qx 'record at: example.co.uk' "$W/ctl-dmarc.out"
check "imc-ctl dmarc: organizational domain example.co.uk" grep -qx 'organizational domain: example.co.uk' "$W/ctl-dmarc.out"
t_wait 5 sh -c "grep -q 'result=550 5.7.1' '$I/log/smtpd/current'"
check "log: the refused message's line has its results" grep -q 'spf=fail dkim=none dmarc=fail result=550 5.7.1' "$I/log/smtpd/current"

# ---- forged Authentication-Results
printf 'Authentication-Results: mx.auth.test; spf=pass smtp.mailfrom=a@good.test\nAuthentication-Results: (comment) "MX.Auth.Test"; dkim=pass\nAuthentication-Results: other.example; dkim=pass header.d=other.example\nFrom: a@good.test\nTo: alice@auth.test\nSubject: case forged\n\nhello there\n' > "$W/forged.eml"
case_ar forged a@good.test "spf=pass dkim=none dmarc=pass"
f=$(file_of forged)
check "forged: the fields claiming this host removed" sh -c "[ \$(grep -ci 'mx.auth.test;' '$f') = 1 ]"
check "forged: a field of another host kept" grep -q '^Authentication-Results: other.example; dkim=pass' "$f"

# a header section ended by a line that is not a field (no empty line): that line and what
# follows are the body, left as they are
printf 'Authentication-Results: mx.auth.test; spf=pass\nFrom: a@good.test\nTo: alice@auth.test\nSubject: case nofield\nthis line is not a field\nAuthentication-Results: mx.auth.test; quoted in the body\n' > "$W/nofield.eml"
case_ar nofield a@good.test "spf=pass dkim=none dmarc=pass"
f=$(file_of nofield)
check "nofield: the forged field of the header removed, the body's line kept" \
  sh -c "[ \$(grep -c '^Authentication-Results: mx.auth.test; spf=pass\$' '$f') = 0 ] && grep -q '^this line is not a field\$' '$f' && grep -q '^Authentication-Results: mx.auth.test; quoted in the body\$' '$f'"

# ---- clients that are not checked: relaying, authenticated
msg relay a@fail.test
send relay bounce@fail.test client.test 127.0.0.1
check "relay client: accepted" replied relay "data 250"
no_ar() { delivered "$1" && f=$(file_of "$1") && ! grep -q '^Authentication-Results' "$f"; }
check "relay client: no Authentication-Results added" no_ar relay
msg authed a@rej.test
send authed carol@auth.test client.test "$C" carol secret
if replied authed "auth 235"; then
  check "authenticated client: not checked (p=reject does not refuse)" replied authed "data 250"
  check "authenticated client: no Authentication-Results" no_ar authed
else
  fail "authenticated client" "AUTH refused: $(tr '\n' '|' < "$W/authed.out")"
fi

# ---- SMTPUTF8 (RFC 6531): a UTF-8 domain's SPF and DMARC records are those
# of its A-label form (bücher.test: xn--bcher-kva.test), RFC 8616
cat > "$W/u8.py" <<'PY'
# u8.py PORT SRC NAME DOMAIN: MAIL FROM:<u@DOMAIN> SMTPUTF8, From: u@DOMAIN
import smtplib, sys
port, src, name, dom = sys.argv[1:5]
s = smtplib.SMTP(timeout=60, source_address=(src, 0))
s.connect("127.0.0.1", int(port))
s.ehlo("client.test")
s.command_encoding = "utf-8"
def show(n, r): print(n, r[0], r[1].decode(errors="replace").replace("\n", " "))
r = s.docmd("MAIL FROM:<u@%s> SMTPUTF8" % dom); show("mail", r)
r = s.docmd("RCPT TO:<alice@auth.test>"); show("rcpt", r)
r = s.docmd("DATA")
msg = "From: u@%s\r\nTo: alice@auth.test\r\nSubject: case %s\r\nMessage-ID: <%s@test>\r\n\r\nhello\r\n.\r\n" % (dom, name, name)
s.send(msg.encode("utf-8"))
show("data", s.getreply())
s.quit()
PY
"$PYTHON" "$W/u8.py" "$P" "$C" idn-pass "bücher.test" > "$W/idn-pass.out" 2>&1
if replied idn-pass "data 250" && delivered idn-pass && ar idn-pass && ar_is idn-pass "spf=pass dkim=none dmarc=pass"; then
  pass "a UTF-8 domain: SPF and DMARC found at its A-label name"
else fail "idn-pass" "replies: $(tr '\n' '|' < "$W/idn-pass.out"); got: $(tr '\n' '|' < "$W/idn-pass.ar" 2>/dev/null)"; fi
check "a UTF-8 domain: header.from in A-labels" ar_has idn-pass header.from=xn--bcher-kva.test
"$PYTHON" "$W/u8.py" "$P" "$C" idn-rej "müller.test" > "$W/idn-rej.out" 2>&1
check "a UTF-8 domain whose A-label DMARC says reject: 550 5.7.1" replied idn-rej "data 550 5.7.1"

# ---- control/authpolicy, read by the running workers
imc-ctl set authpolicy "spffail=reject temperror=defer dmarcreject=mark" > /dev/null 2>&1 ||
  printf 'spffail=reject temperror=defer dmarcreject=mark\n' > "$I/control/authpolicy"
msg pol-fail x@fail.test
send pol-fail u@fail.test
check "spffail=reject: 550 5.7.23 at MAIL" replied pol-fail "mail 550 5.7.23"
msg pol-temp x@temp.test
send pol-temp u@temp.test
check "temperror=defer: 451 4.7.24 at MAIL" replied pol-temp "mail 451 4.7.24"
msg pol-mark a@rej.test
case_ar pol-mark bounce@good.test "spf=pass dkim=none dmarc=fail"
echo 'checks=off' > "$I/control/authpolicy"
msg pol-off a@rej.test
send pol-off bounce@fail.test
check "checks=off: accepted" replied pol-off "data 250"
check "checks=off: no Authentication-Results" no_ar pol-off
echo 'spffail=maybe' > "$I/control/authpolicy"
imc-ctl check > "$W/ctl-check.out" 2>&1
check "imc-ctl check: a bad authpolicy value named with its line" grep -q 'control/authpolicy:1: ' "$W/ctl-check.out"
t_done
