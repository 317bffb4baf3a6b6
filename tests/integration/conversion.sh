# conversion.sh -- the queue's conversion stage end to end: imc-send runs
# imc-convert once per profile and delivers the copy.  A message relayed to
# a domain with `attachments=uuencode charset=iso-8859-1 wrap=76
# richtext=never displaynames=no` arrives at a sink in that form (parsed by
# Python's email package, the attachment uudecoded to its exact bytes); an
# automatic reply to an `autoreplies=no` domain never arrives and is tracked
# as suppressed; plain text goes unconverted; an 8-bit message to a server
# without 8BITMIME arrives downgraded to 7 bits; a message over a domain's
# maxsize bounces with 5.3.4; a uuencoded block received over SMTP reaches
# the local mailbox as a MIME attachment; a failing conversion delivers the
# original and tells the postmaster.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

start_sink ok "$(hip 3):25" || exit 1
start_sink old "$(hip 4):25" --no-8bitmime || exit 1
I=$T_TMP/i
t_instance "$I" || { fail setup instance; exit 1; }
echo imc.test > "$I/control/me"
echo imc.test > "$I/control/sitedomains"
echo 'mailbox alice "Alice"' > "$I/control/directory"
echo alice@imc.test > "$I/control/postmaster"
echo conversion-failed > "$I/control/notify"
printf 'conv.test [%s]\nplain.test [%s]\nauto.test [%s]\neight.test [%s]\nbig.test [%s]\n' \
  "$(hip 3)" "$(hip 3)" "$(hip 3)" "$(hip 4)" "$(hip 3)" > "$I/control/routes"
cat > "$I/control/domains" <<EOF
conv.test attachments=uuencode charset=iso-8859-1 wrap=76 richtext=never displaynames=no
auto.test autoreplies=no
plain.test autoreplies=yes
big.test maxsize=2000
* charset=utf-8
EOF
IMC_HOME=$I imc-ctl compile > /dev/null || { fail setup compile; exit 1; }
IMC_HOME=$I; export IMC_HOME
t_start "$I" || { fail start "services did not come up"; exit 1; }
M=$I/mail/alice
TRACK=$I/log/track/current

# the rich message: display names, an encoded-word subject, Latin-1 text with a long
# line, an HTML alternative, a binary attachment and a winmail.dat
"$PYTHON" - "$W" <<'EOF'
import os, sys, random
from email.message import EmailMessage
w = sys.argv[1]
random.seed(7)
blob = bytes(random.randrange(256) for _ in range(5000))
open(w + '/blob', 'wb').write(blob)
m = EmailMessage()
m['From'] = 'Alice Example <alice@imc.test>'
m['To'] = 'Bob Builder <bob@conv.test>'
m['Subject'] = 'Grüße aus Köln'
text = ('Grüße aus Köln! Das Café öffnet um acht Uhr, und die Straße ist lang. ' * 3).strip() + '\n'
open(w + '/text', 'w').write(text)
m.set_content(text, charset='utf-8', cte='8bit')
m.add_alternative('<html><body><p>Grüße aus Köln</p></body></html>', subtype='html')
m.make_mixed()
m.add_attachment(blob, maintype='application', subtype='octet-stream', filename='data.bin')
m.add_attachment(b'\x78\x9f\x3e\x22' + bytes(200), maintype='application', subtype='ms-tnef', filename='winmail.dat')
open(w + '/rich.eml', 'wb').write(m.as_bytes())
a = EmailMessage()
a['From'] = 'alice@imc.test'
a['To'] = 'carol@auto.test'
a['Subject'] = 'Automatic reply: your message'
a['Auto-Submitted'] = 'auto-replied'
a.set_content('I am away.\n')
open(w + '/auto.eml', 'wb').write(a.as_bytes())
e = EmailMessage()
e['From'] = 'alice@imc.test'
e['To'] = 'erin@eight.test'
e['Subject'] = 'eight bits'
e.set_content('Größe: 3 €, naïve café — 日本語 😀\n', charset='utf-8', cte='8bit')
open(w + '/eight.eml', 'wb').write(e.as_bytes())
EOF

sendmail -f alice@imc.test bob@conv.test < "$W/rich.eml"
check "uuencode profile: the message arrives" t_wait 20 delivered_is ok 1
cat > "$W/check_rich.py" <<'EOF'
import sys, glob, binascii, email
from email import policy
w = sys.argv[1]
raw = open(glob.glob(w + '/ok.md/**/msg*', recursive=True)[0], 'rb').read()
m = email.message_from_bytes(raw, policy=policy.default)
fails = []
def ok(cond, what):
    print(('PASS: ' if cond else 'FAIL: ') + 'uuencode profile: ' + what + ('' if cond else ': ' + repr(raw[:3000])))
ok(not m.is_multipart(), 'no MIME structure left (single text body)')
ok(m.get_content_type() == 'text/plain' and m.get_content_charset() == 'iso-8859-1', 'text/plain in iso-8859-1 (%s)' % m.get('Content-Type'))
ok(str(m['From']).strip() == 'alice@imc.test' and str(m['To']).strip() == 'bob@conv.test', 'bare addresses in From and To (%s / %s)' % (m['From'], m['To']))
ok(str(m['Subject']) == 'Grüße aus Köln', 'subject decodes to the same characters')
body = m.get_payload(decode=True)
lines = body.split(b'\n')
ok(all(len(l.rstrip(b'\r')) <= 76 for l in lines), 'every body line within 76 columns (longest %d)' % max(len(l) for l in lines))
text = body.decode('iso-8859-1')
want = ' '.join(open(w + '/text').read().split())
ok(want in ' '.join(text.split()), 'the text has the same characters, rewrapped')
ok(b'<html' not in raw.lower() and b'winmail.dat' not in raw, 'the HTML alternative and winmail.dat are dropped')
start = [i for i, l in enumerate(lines) if l.startswith(b'begin ') and l.rstrip().endswith(b'data.bin')]
ok(len(start) == 1, 'one uuencoded block named data.bin')
if start:
    out = b''
    for l in lines[start[0] + 1:]:
        l = l.rstrip(b'\r')
        if l in (b'end', b'`', b''):
            if l == b'end': break
            continue
        out += binascii.a2b_uu(l)
    ok(out == open(w + '/blob', 'rb').read(), 'the attachment uudecodes to the exact bytes (%d)' % len(out))
EOF
"$PYTHON" "$W/check_rich.py" "$W"
check "uuencode profile: tracked as converted" grep -q "	converted	.*bob@conv.test	.*profile conv.test" "$TRACK"

# an automatic reply to autoreplies=no: never sent, tracked; then a normal message goes
sendmail -f alice@imc.test carol@auto.test < "$W/auto.eml"
check "auto-reply: tracked as suppressed" t_wait 20 grep -q "	suppressed	.*carol@auto.test" "$TRACK"
printf 'Subject: normal\n\nnormal\n' | sendmail -f alice@imc.test carol@auto.test
check "auto-reply: only the normal message arrived" t_wait 20 delivered_is ok 2
check "auto-reply: never reached the sink" sh -c "! grep -rq 'I am away' '$W/ok.md'"

# plain text: no conversion at all
printf 'Subject: plain\n\nline one\nline two\n' | sendmail -f alice@imc.test dave@plain.test
check "plain text: delivered" t_wait 20 delivered_is ok 3
check "plain text: no copy made" t_lacks "$TRACK" '	converted	.*dave@plain.test'
check "plain text: body unchanged" sh -c "grep -rl 'dave@plain.test' '$W/ok.md' | xargs grep -q '^line two'"

# 8-bit message, server without 8BITMIME: downgraded by imc-remote
sendmail -f alice@imc.test erin@eight.test < "$W/eight.eml"
check "8-bit downgrade: arrives at the old server" t_wait 20 delivered_is old 1
"$PYTHON" - "$W" <<'EOF'
import sys, glob, email
from email import policy
w = sys.argv[1]
raw = open(glob.glob(w + '/old.md/**/msg*', recursive=True)[0], 'rb').read()
m = email.message_from_bytes(raw, policy=policy.default)
seven = all(b < 128 for b in raw)
print(('PASS' if seven else 'FAIL') + ': 8-bit downgrade: every byte is 7-bit')
cte = m.get('Content-Transfer-Encoding', '').lower()
print(('PASS' if cte in ('quoted-printable', 'base64') else 'FAIL') + ': 8-bit downgrade: encoded as ' + cte)
got = m.get_content()
print(('PASS' if got == 'Größe: 3 €, naïve café — 日本語 😀\n' else 'FAIL') + ': 8-bit downgrade: the text decodes to the same characters (%r)' % got)
EOF

# maxsize: a bounce with 5.3.4
{ printf 'Subject: big\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\n\n'
  i=0; while [ $i -lt 100 ]; do echo "line $i of a message that is too big for big.test, caf$(printf '\351')"; i=$((i + 1)); done; } \
  | sendmail -f alice@imc.test frank@big.test
check "maxsize: a bounce reaches the sender" t_wait 20 t_count_is "$M" 1
check "maxsize: the bounce says 5.3.4" dsn_check "$(ls "$M"/new/* | head -1)" '
r = rcpts[0]
assert r["Action"] == "failed" and r["Status"] == "5.3.4", r'
check "maxsize: nothing reached the sink" sh -c "! grep -rq 'frank@big.test' '$W/ok.md'"

# inbound: a uuencoded block received over SMTP becomes a MIME attachment
"$PYTHON" - "$W" "$T_PORT" <<'EOF'
import sys, smtplib, binascii
w, port = sys.argv[1], int(sys.argv[2])
data = bytes(range(256)) * 4
open(w + '/inblob', 'wb').write(data)
lines = ['begin 644 table.bin']
for i in range(0, len(data), 45):
    lines.append(binascii.b2a_uu(data[i:i + 45]).decode().rstrip('\n'))
lines += ['`', 'end']
msg = 'From: x@outside.test\r\nTo: alice@imc.test\r\nSubject: uu in\r\n\r\nHere is the table:\r\n' + '\r\n'.join(lines) + '\r\nbye\r\n'
with smtplib.SMTP('127.0.0.1', port) as s:
    s.sendmail('x@outside.test', ['alice@imc.test'], msg)
EOF
check "inbound: delivered to alice" t_wait 20 t_count_is "$M" 2
"$PYTHON" - "$W" "$M" <<'EOF'
import sys, glob, email
from email import policy
w, m = sys.argv[1], sys.argv[2]
for f in glob.glob(m + '/new/*'):
    msg = email.message_from_bytes(open(f, 'rb').read(), policy=policy.default)
    if msg['Subject'] == 'uu in': break
else:
    print('FAIL: inbound: message not found'); sys.exit(0)
atts = [p for p in msg.iter_attachments() if p.get_filename()]
ok = msg.is_multipart() and len(atts) == 1 and atts[0].get_filename() == 'table.bin'
print(('PASS' if ok else 'FAIL') + ': inbound: the uuencoded block is a MIME attachment named table.bin' + ('' if ok else ': ' + str(msg)[:1500]))
print(('PASS' if ok and atts[0].get_content() == open(w + '/inblob', 'rb').read() else 'FAIL') + ': inbound: the attachment has the exact bytes')
texts = ''.join(p.get_content() for p in msg.walk() if p.get_content_type() == 'text/plain')
print(('PASS' if 'Here is the table' in texts and 'bye' in texts else 'FAIL') + ': inbound: the text around it is kept')
EOF

# a conversion that fails (control/domains broken behind imc-send's back): the original
# is delivered and the postmaster told
echo 'conv.test wrap=banana' >> "$I/control/domains"
sendmail -f alice@imc.test bob@conv.test < "$W/rich.eml"
check "failed conversion: the original is delivered" t_wait 20 delivered_is ok 4
check "failed conversion: it went unconverted (MIME kept)" sh -c "grep -rl 'bob@conv.test' '$W/ok.md' | xargs grep -l 'multipart/mixed' | grep -q ."
check "failed conversion: the postmaster is told" t_wait 20 sh -c "grep -l '^Subject: Content conversion failed' '$M'/new/* | grep -q ."
check "queue empty at the end" t_wait 20 t_queue_empty "$I"
check "no converted copy left behind" sh -c "! find '$I/queue/mess' -type f | grep -q ."
t_done
