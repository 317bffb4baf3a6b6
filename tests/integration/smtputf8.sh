#!/bin/sh
# smtputf8.sh -- SMTPUTF8 (RFC 6531/6532) end to end, on a user instance
# under s6 with two next hops on routes: aiosmtpd (Python's SMTP server,
# with SMTPUTF8 enabled) for utf.test, and Postfix's smtp-sink, which does
# not offer SMTPUTF8, for plain.test.
#
# Checked: SMTPUTF8 in the EHLO reply; without the parameter an address
# with UTF-8 is refused at MAIL and at RCPT with 553 5.6.7; with it,
# ill-formed UTF-8 (Latin-1, overlong, a C1 control) is a syntax error
# (501), and so is a header section that is not UTF-8 (554 5.6.0);
# Python's smtplib sends with SMTPUTF8 to a mailbox whose directory
# alias is UTF-8 (jörg), which gets it in its Maildir with the UTF-8
# Subject intact and "with UTF8SMTP" in the Received line; a message with
# SMTPUTF8 relayed to aiosmtpd arrives with the SMTPUTF8 parameter and the
# UTF-8 sender and recipient, and one to a U-label domain goes by the
# route of its A-label (xn--fsqu00a.test); the same to smtp-sink fails with 5.6.7 and
# the sender gets a bounce (RFC 3464, Status 5.6.7), also jörg in the
# Maildir of a UTF-8 alias, while an ordinary
# message to smtp-sink is delivered; the smtpd log at loglevel maximum and
# the tracking log stay printable UTF-8 (no control octets but its TABs, no stray
# 8-bit octets) though the client sent escape sequences and Latin-1, and
# the tracking log names jörg readably.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

"$PYTHON" -c 'import aiosmtpd' 2> /dev/null || { echo "SKIP: python3-aiosmtpd is not installed"; exit 0; }
command -v smtp-sink > /dev/null || { echo "SKIP: smtp-sink (postfix) is not installed"; exit 0; }

I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
P=$T_PORT
UTF=$(hip 3) PLAIN=$(hip 4)
echo mx.example.com > "$I/control/me"
echo example.com > "$I/control/sitedomains"
printf 'mailbox bob "Bob"\nmailbox j\303\266rg "J\303\266rg"\n' > "$I/control/directory"
# the U-label domain 例子.test is routed by its A-label, as DNS would know it
printf 'utf.test [%s]\nxn--fsqu00a.test [%s]\nplain.test [%s]\n' "$UTF" "$UTF" "$PLAIN" > "$I/control/routes"
echo maximum > "$I/control/loglevel"
imc-ctl compile > "$T_TMP/compile.out" 2>&1 || fail compile "imc-ctl compile: $(cat "$T_TMP/compile.out")"
imc-ctl check > "$T_TMP/check.out" 2>&1 || fail ctl-check "$(cat "$T_TMP/check.out")"

# ---- the next hops
cat > "$T_TMP/hop.py" <<'PY'
import json, os, sys, time
from aiosmtpd.controller import Controller
addr, out = sys.argv[1], sys.argv[2]
class Keep:
    async def handle_DATA(self, server, session, env):
        name = os.path.join(out, "msg%d.json" % time.monotonic_ns())
        with open(name + ".tmp", "w", encoding="utf-8") as f:
            json.dump({"from": env.mail_from, "options": env.mail_options, "rcpts": env.rcpt_tos,
                       "text": env.content.decode("utf-8", "replace")}, f, ensure_ascii=False)
        os.rename(name + ".tmp", name)
        return "250 2.0.0 kept"
c = Controller(Keep(), hostname=addr, port=25, enable_SMTPUTF8=True)
c.start()
open(os.path.join(out, "ready"), "w").close()
while True:
    time.sleep(3600)
PY
mkdir -p "$T_TMP/hop"
"$PYTHON" "$T_TMP/hop.py" "$UTF" "$T_TMP/hop" 2> "$T_TMP/hop.err" &
T_PIDS="$T_PIDS $!"
smtp-sink -u nobody "$PLAIN:25" 10 2> "$T_TMP/sink.err" &
T_PIDS="$T_PIDS $!"
t_wait 10 test -e "$T_TMP/hop/ready" || { fail hop "aiosmtpd did not start: $(cat "$T_TMP/hop.err")"; exit 1; }
t_wait 10 in_use "$PLAIN:25" || { fail sink "smtp-sink did not start: $(cat "$T_TMP/sink.err")"; exit 1; }

# the premise of the relay checks: aiosmtpd offers SMTPUTF8, smtp-sink does not
ehlo_has() {
  "$PYTHON" -c 'import smtplib, sys
s = smtplib.SMTP(sys.argv[1], 25, timeout=10); s.ehlo("probe.example")
sys.exit(0 if s.has_extn("smtputf8") else 1)' "$1"
}
check "aiosmtpd offers SMTPUTF8" ehlo_has "$UTF"
ehlo_lacks() { "$PYTHON" -c 'import smtplib, sys
s = smtplib.SMTP(sys.argv[1], 25, timeout=10); s.ehlo("probe.example")
sys.exit(1 if s.has_extn("smtputf8") or not s.has_extn("8bitmime") else 0)' "$1"; }
check "smtp-sink does not offer SMTPUTF8 (but answers EHLO with 8BITMIME)" ehlo_lacks "$PLAIN"

t_start "$I" || { fail start "services did not come up"; exit 1; }
port_open() {
  "$PYTHON" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$1"
}
t_wait 10 port_open "$P" || { fail listen "imc-tcpd does not listen on $P"; exit 1; }
M=$I/mail
TRACK=$I/log/track/current
SMTPDLOG=$I/log/smtpd/current

# ---- the SMTP dialogue: raw lines, so that any octet can be sent
cat > "$T_TMP/dialogue.py" <<'PY'
import socket, sys
port = int(sys.argv[1])
def result(name, ok, why=""):
    print(("PASS: %s" % name) if ok else ("FAIL: %s: %s" % (name, why)))
class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.f = self.s.makefile("rb")
        self.reply()
    def reply(self):
        lines = []
        while True:
            l = self.f.readline()
            if not l:
                return lines or ["(closed)"]
            lines.append(l.decode("utf-8", "replace").rstrip("\r\n"))
            if l[3:4] != b"-":
                return lines
    def cmd(self, b):
        self.s.sendall(b + b"\r\n")
        return self.reply()
c = Conn()
e = c.cmd(b"EHLO client.example")
result("EHLO offers SMTPUTF8", "250-SMTPUTF8" in e or "250 SMTPUTF8" in e, "%r" % e)
r = c.cmd("MAIL FROM:<jörg@example.com>".encode())
result("UTF-8 sender without SMTPUTF8: 553 5.6.7", r[-1].startswith("553 5.6.7"), "%r" % r)
r = c.cmd(b"MAIL FROM:<bob@example.com>")
r2 = c.cmd("RCPT TO:<jörg@example.com>".encode())
result("UTF-8 recipient without SMTPUTF8: 553 5.6.7", r[-1].startswith("250") and r2[-1].startswith("553 5.6.7"), "%r %r" % (r, r2))
c.cmd(b"RSET")
for name, addr in (("Latin-1", b"j\xf6rg@example.com"), ("overlong", b"j\xc0\xafrg@example.com"),
                   ("a C1 control", b"j\xc2\x9b31mrg@example.com"), ("a cut sequence", b"j\xc3@example.com")):
    r = c.cmd(b"MAIL FROM:<" + addr + b"> SMTPUTF8")
    result("ill-formed UTF-8 sender (%s): 501 5.1.7" % name, r[-1].startswith("501 5.1.7"), "%r" % r)
r = c.cmd(b"MAIL FROM:<bob@example.com> SMTPUTF8")
r2 = c.cmd(b"RCPT TO:<j\xf6rg@example.com>")
result("ill-formed UTF-8 recipient: 501 5.1.3", r2[-1].startswith("501 5.1.3"), "%r" % r2)
r2 = c.cmd("RCPT TO:<nobody\u00e9@example.com>".encode())
result("unknown UTF-8 local recipient: 550 5.1.1", r2[-1].startswith("550 5.1.1"), "%r" % r2)
c.cmd(b"RSET")
c.cmd(b"MAIL FROM:<bob@example.com> SMTPUTF8")
c.cmd("RCPT TO:<jörg@example.com>".encode())
c.cmd(b"DATA")
r = c.cmd(b"From: bob@example.com\r\nSubject: caf\xe9 latin-1\r\n\r\nx\r\n.")
result("SMTPUTF8 message with a Latin-1 Subject: 554 5.6.0", r[-1].startswith("554 5.6.0"), "%r" % r)
r = c.cmd(b"NOOP \x1b[2J\xe9\xc2\x85")
c.cmd(b"QUIT")
PY
"$PYTHON" "$T_TMP/dialogue.py" "$P" > "$T_TMP/dialogue.out" 2>&1
cat "$T_TMP/dialogue.out"
T_FAILS=$((T_FAILS + $(grep -c '^FAIL: ' "$T_TMP/dialogue.out")))
grep -q '^PASS: ' "$T_TMP/dialogue.out" || fail dialogue "no result: $(tail -3 "$T_TMP/dialogue.out")"

# ---- smtplib with SMTPUTF8: local, to aiosmtpd, to smtp-sink
cat > "$T_TMP/send.py" <<'PY'
import smtplib, sys
port, sender, rcpt, subject, utf8 = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1"
msg = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
       "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
       "Grüße, 世界\r\n" % (sender, rcpt, subject)).encode("utf-8")
s = smtplib.SMTP("127.0.0.1", port, timeout=15)
s.ehlo("client.example")
assert s.has_extn("smtputf8"), "no SMTPUTF8 offered"
s.sendmail(sender, [rcpt], msg, mail_options=["SMTPUTF8", "BODY=8BITMIME"] if utf8 else ["BODY=8BITMIME"])
s.quit()
PY
send() { "$PYTHON" "$T_TMP/send.py" "$P" "$@" > "$T_TMP/send.out" 2>&1 || { cat "$T_TMP/send.out"; return 1; }; }
SUBJ='Grüße aus Köln — 你好'
check "smtplib sends to jörg@example.com with SMTPUTF8" send 'bob@example.com' 'jörg@example.com' "$SUBJ" 1
JM="$M/jörg"
check "delivered into jörg's Maildir" t_wait 15 t_count_is "$JM" 1
cat > "$T_TMP/read.py" <<'PY'
import email, email.policy, glob, sys
f = glob.glob(sys.argv[1] + "/new/*")[0]
m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.SMTPUTF8)
assert str(m["Subject"]) == sys.argv[2], "Subject %r" % str(m["Subject"])
assert "jörg@example.com" in str(m["To"]), "To %r" % str(m["To"])
assert "with UTF8SMTP" in " ".join(str(r) for r in m.get_all("Received")), m.get_all("Received")
assert m.get_content().strip() == "Grüße, 世界", repr(m.get_content())
PY
check "jörg's message: UTF-8 Subject, To and body intact, with UTF8SMTP" "$PYTHON" "$T_TMP/read.py" "$JM" "$SUBJ"

check "smtplib relays 用户@utf.test from jörg@example.com with SMTPUTF8" send 'jörg@example.com' '用户@utf.test' "$SUBJ" 1
check "aiosmtpd got it" t_wait 20 sh -c "ls '$T_TMP'/hop/msg*.json > /dev/null 2>&1"
cat > "$T_TMP/hopcheck.py" <<'PY'
import email, email.policy, glob, json, sys
d = [json.load(open(f, encoding="utf-8")) for f in glob.glob(sys.argv[1] + "/msg*.json")]
d = [x for x in d if x["rcpts"] == ["用户@utf.test"]][0]
assert "SMTPUTF8" in [o.upper() for o in d["options"]], "MAIL options %r" % d["options"]
assert d["from"] == "jörg@example.com", "sender %r" % d["from"]
assert d["rcpts"] == ["用户@utf.test"], "recipients %r" % d["rcpts"]
m = email.message_from_string(d["text"], policy=email.policy.SMTPUTF8)
assert str(m["Subject"]) == sys.argv[2], "Subject %r" % str(m["Subject"])
PY
check "the next hop saw SMTPUTF8, the UTF-8 sender, recipient and Subject" "$PYTHON" "$T_TMP/hopcheck.py" "$T_TMP/hop" "$SUBJ"

check "smtplib relays 张三@例子.test (a U-label domain) with SMTPUTF8" send 'bob@example.com' '张三@例子.test' 'idn' 1
check "aiosmtpd got it through the route of xn--fsqu00a.test" t_wait 20 sh -c "grep -l '张三@例子.test' '$T_TMP'/hop/msg*.json > /dev/null 2>&1"

check "an ordinary message to smtp-sink is sent" send 'bob@example.com' 'someone@plain.test' 'plain' 0
check "... and delivered (tracking log)" t_wait 20 sh -c "grep 'delivered' '$TRACK' | grep -q 'someone@plain.test'"
check "smtplib sends a SMTPUTF8 message to smtp-sink's domain" send 'bob@example.com' 'other@plain.test' "$SUBJ" 1
check "bob gets the bounce" t_wait 30 t_count_is "$M/bob" 1
B=$(find "$M/bob/new" -type f | head -1)
check "the bounce says 5.6.7 for other@plain.test" dsn_check "$B" '
assert any(r["Status"] == "5.6.7" and "other@plain.test" in r["Final-Recipient"] for r in rcpts), [dict(r) for r in rcpts]
assert any("SMTPUTF8" in str(r.get("Diagnostic-Code", "")) for r in rcpts), [dict(r) for r in rcpts]'
check "jörg@example.com sends to smtp-sink's domain too" send 'jörg@example.com' 'third@plain.test' "$SUBJ" 1
check "jörg gets that bounce in the UTF-8 Maildir" t_wait 30 t_count_is "$JM" 2
JB=$(grep -l 'third@plain.test' "$JM"/new/* 2> /dev/null | head -1)
check "jörg's bounce is a DSN with 5.6.7 for third@plain.test" dsn_check "${JB:-/nonexistent}" '
assert any(r["Status"] == "5.6.7" and "third@plain.test" in r["Final-Recipient"] for r in rcpts), [dict(r) for r in rcpts]'
check "the tracking log has the bounce of other@plain.test" sh -c "grep 'other@plain.test' '$TRACK' | grep -q bounced"
check "nothing more reached aiosmtpd" sh -c "[ \$(ls '$T_TMP'/hop/msg*.json | wc -l) = 2 ]"

# ---- the logs: printable UTF-8, and jörg readable in the tracking log
cat > "$T_TMP/printable.py" <<'PY'
import sys
ok = True
for f in sys.argv[1:]:
    b = open(f, "rb").read()
    try:
        t = b.decode("utf-8")
    except UnicodeDecodeError as e:
        print("%s: not UTF-8: %s" % (f, e)); ok = False; continue
    bad = [c for c in t if (ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f]
    if bad:
        print("%s: control characters %r" % (f, bad[:5])); ok = False
sys.exit(0 if ok else 1)
PY
check "the smtpd log logged the escape-laden NOOP" grep -q 'NOOP ?\[2J' "$SMTPDLOG"
check "the smtpd and tracking logs are printable UTF-8" "$PYTHON" "$T_TMP/printable.py" "$SMTPDLOG" "$TRACK"
check "the tracking log names jörg@example.com readably" grep -q 'jörg@example.com' "$TRACK"
check "the queue is empty at the end" t_wait 20 t_queue_empty "$I"
check "jörg got the message and the bounce only (not the Latin-1 message)" t_count_is "$JM" 2
t_done
