#!/bin/sh
# dkim_sign.sh -- outbound DKIM signing end to end: imc-ctl dkim-keygen makes
# the key and the control/dkim line and prints the TXT record; messages sent
# through imc-remote to sinks are verified by an independent implementation,
# Debian's python3-dkim (dkimpy), the printed record served by a dnsmasq:
# a plain message; a From: subdomain signed by its parent's line; each
# conversion profile of control/domains (charset and wrap, uuencoded
# attachments, display names dropped); an 8-bit message downgraded for a
# next hop without 8BITMIME.  A From: domain without a control/dkim line is
# not signed; a local delivery is never signed; an unusable key defers the
# message (4.3.5) instead of sending it unsigned; imc-ctl check reports the
# key's faults as control/dkim:LINE.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

if ! "$PYTHON" -c 'import dkim' 2>/dev/null; then echo "SKIP: python3-dkim (dkimpy) is not installed"; t_done; exit; fi

start_sink ok "$(hip 3):25" || exit 1
start_sink old "$(hip 4):25" --no-8bitmime || exit 1
I=$T_TMP/i
t_instance "$I" || { fail setup instance; exit 1; }
echo imc.test > "$I/control/me"
echo imc.test > "$I/control/sitedomains"
echo 'mailbox alice "Alice"' > "$I/control/directory"
printf 'plain.test [%s]\nconv.test [%s]\nuu.test [%s]\neight.test [%s]\n' "$(hip 3)" "$(hip 3)" "$(hip 3)" "$(hip 4)" > "$I/control/routes"
cat > "$I/control/domains" <<EOF2
conv.test charset=iso-8859-1 wrap=60 displaynames=no
uu.test attachments=uuencode
* charset=utf-8
EOF2
IMC_HOME=$I; export IMC_HOME
imc-ctl compile > /dev/null || { fail setup compile; exit 1; }
imc-ctl dkim-keygen Example.ORG sel1 > "$W/keygen.out"
check "dkim-keygen: exit 0, the record printed" grep -q '^sel1._domainkey.example.org. IN TXT' "$W/keygen.out"
check "dkim-keygen: the control/dkim line" grep -qx 'example.org sel1 dkimkeys/sel1.example.org.pem' "$I/control/dkim"
check "dkim-keygen: the key is 0400" sh -c "[ \"\$(stat -c %a '$I/control/dkimkeys/sel1.example.org.pem')\" = 400 ]"
# the TXT record as one string, as a resolver would give it
"$PYTHON" -c 'import re,sys; t=open(sys.argv[1]).read(); print("".join(re.findall(r"\"([^\"]*)\"", t)))' "$W/keygen.out" > "$W/record"
check "dkim-keygen: the record is v=DKIM1 with a 2048-bit key" "$PYTHON" -c '
import base64, sys
r = open(sys.argv[1]).read().strip()
assert r.startswith("v=DKIM1; k=rsa; p="), r
der = base64.b64decode(r.split("p=")[1])
assert 290 <= len(der) <= 300, len(der)' "$W/record"
check "imc-ctl check: the key is fine" imc-ctl check
t_start "$I" || { fail start "services did not come up"; exit 1; }

# the printed record, published as it is (its quoted strings) by a dnsmasq on 127.A.B.53
printf 'local=/org/\ntxt-record=sel1._domainkey.example.org,%s\n' \
  "$("$PYTHON" -c 'import re,sys; print(",".join(chr(34) + x + chr(34) for x in re.findall(r"\"([^\"]*)\"", open(sys.argv[1]).read())))' "$W/keygen.out")" > "$W/dns.conf.extra"
start_dns || exit 1

# verify FILE: dkimpy's verdict on a delivered message, the key from the dnsmasq
cat > "$W/verify.py" <<'PY'
import dkim, dns.resolver, sys
r = dns.resolver.Resolver(configure=False)
r.nameservers = [sys.argv[2]]
dns.resolver.default_resolver = r
m = open(sys.argv[1], 'rb').read()
d = dkim.DKIM(m)
ok = d.verify()
print('pass' if ok else 'fail', d.domain.decode() if d.domain else '-')
PY
last() { ls -t "$W/$1.md"/msg* | head -1; }
verified() { [ "$("$PYTHON" "$W/verify.py" "$(last "$1")" "$DNSCACHEIP")" = "pass example.org" ]; }
signed() { grep -q '^DKIM-Signature:' "$(last "$1")"; }

printf 'From: Alice <alice@example.org>\nTo: bob@plain.test\nSubject: plain\n\nHello,  Bob.\n\n' \
  | sendmail -f alice@example.org bob@plain.test
check "plain: delivered" t_wait 20 delivered_is ok 1
check "plain: signed, and dkimpy verifies it" verified ok
check "plain: From signed twice, the usual fields signed" grep -q 'h=from:from:to:subject' "$(last ok)"

printf 'From: news@lists.example.org\nTo: bob@plain.test\nSubject: sub\n\nsubdomain\n' \
  | sendmail -f news@lists.example.org bob@plain.test
check "subdomain: delivered" t_wait 20 delivered_is ok 2
check "subdomain: signed with the parent's line (d=example.org), verifies" verified ok

"$PYTHON" - "$W" <<'PY'
import sys
from email.message import EmailMessage
w = sys.argv[1]
m = EmailMessage()
m['From'] = 'Alice Example <alice@example.org>'
m['To'] = 'Carol Example <carol@conv.test>'
m['Subject'] = 'Grüße'
m.set_content(('Grüße aus Köln, das Café öffnet um acht Uhr und die Straße ist sehr lang. ' * 3) + '\n', charset='utf-8', cte='8bit')
open(w + '/conv.eml', 'wb').write(m.as_bytes())
m.replace_header('To', 'dave@uu.test')
m.add_attachment(bytes(range(256)) * 4, maintype='application', subtype='octet-stream', filename='b.bin')
open(w + '/uu.eml', 'wb').write(m.as_bytes())
e = EmailMessage()
e['From'] = 'alice@example.org'
e['To'] = 'erin@eight.test'
e['Subject'] = 'eight'
e.set_content('Ünïcödé body, 8-bit\n', charset='utf-8', cte='8bit')
open(w + '/eight.eml', 'wb').write(e.as_bytes())
PY
sendmail -f alice@example.org carol@conv.test < "$W/conv.eml"
check "profile charset/wrap/displaynames: delivered" t_wait 20 delivered_is ok 3
check "profile charset/wrap/displaynames: converted (Latin-1, no display name)" \
  sh -c "grep -qi 'charset=\"*iso-8859-1' '$(last ok)' && ! grep -q '^From: Alice Example' '$(last ok)'"
check "profile charset/wrap/displaynames: signed after the conversion, verifies" verified ok
sendmail -f alice@example.org dave@uu.test < "$W/uu.eml"
check "profile uuencode: delivered" t_wait 20 delivered_is ok 4
check "profile uuencode: converted (begin 644)" grep -q '^begin 6' "$(last ok)"
check "profile uuencode: signed after the conversion, verifies" verified ok
sendmail -f alice@example.org erin@eight.test < "$W/eight.eml"
check "8-bit to a server without 8BITMIME: delivered" t_wait 20 delivered_is old 1
check "8-bit: downgraded (no byte above 127)" sh -c "! LC_ALL=C grep -q '[^ -~	]' '$(last old)'"
check "8-bit: signed after the downgrade, verifies" verified old

printf 'From: someone@other.test\nTo: bob@plain.test\nSubject: nokey\n\nno key\n' | sendmail -f someone@other.test bob@plain.test
check "no control/dkim line: delivered" t_wait 20 delivered_is ok 5
check "no control/dkim line: not signed" sh -c "! grep -q '^DKIM-Signature:' '$(last ok)'"
printf 'From: alice@example.org\nTo: alice@imc.test\nSubject: local\n\nlocal\n' | sendmail -f alice@example.org alice@imc.test
check "local delivery: delivered" t_wait 20 t_count_is "$I/mail/alice" 1
check "local delivery: never signed" sh -c "! grep -q '^DKIM-Signature:' '$I'/mail/alice/new/*"

# an unusable key: the message waits (4.3.5), it does not leave unsigned
echo 'garbage' > "$I/control/dkimkeys/bad.pem"
chmod 400 "$I/control/dkimkeys/bad.pem"
echo 'example.net bad dkimkeys/bad.pem' >> "$I/control/dkim"
check "imc-ctl check: an unparsable key is reported with its line" sh -c "imc-ctl check | grep -q 'control/dkim:2: the key file does not hold a private key'"
printf 'From: x@example.net\nTo: bob@plain.test\nSubject: badkey\n\nbad key\n' | sendmail -f x@example.net bob@plain.test
check "unusable key: deferred with 4.3.5" t_wait 20 grep -q 'deferred	.*bob@plain.test.*4.3.5 the DKIM key' "$I/log/track/current"
check "unusable key: nothing sent unsigned" sh -c "! grep -rq 'bad key' '$W/ok.md'"
t_done
