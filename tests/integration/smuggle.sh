#!/bin/sh
# smuggle.sh -- SMTP smuggling against a live imc-smtpd (under imc-tcpd,
# local delivery to Maildirs): a client sends, in ONE write after EHLO, a
# transaction whose text holds a look-alike of the end of data
# (\n.\n  \r.\r  \r\n.\n  \n.\r\n  \r.\n  \r.\r\n  \r\n.\r, each also after a
# 1,200-octet line) with a complete second transaction behind it (MAIL,
# RCPT, DATA, text, CR LF "." CR LF, QUIT).  Each must get 550 5.6.11 and a
# closed connection, no 250 for the second transaction and no 221 for its
# QUIT, and nothing of it may be queued or delivered.  Command lines ending
# in a bare LF (EHLO x\n, MAIL FROM:<a@b>\n) or holding a bare CR get
# 500 5.5.2 and a closed connection, the pipelined rest unread.
#
# Positive controls, in the same script and over the same connection code:
# a proper message is delivered, and the very same second transaction sent
# behind a proper end of data (CR LF "." CR LF) is delivered too, so the
# negative checks would see a smuggled message if one got through.
. "$(dirname "$0")/../lib.sh"

[ -x "$T_BIN/imc-tcpd" ] || { echo "SKIP: no imc-tcpd in $T_BIN"; exit 0; }
I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
P=$T_PORT
echo mx.site.test > "$I/control/me"
echo site.test > "$I/control/sitedomains"
printf 'mailbox alice "Alice"\nmailbox bob "Bob"\n' > "$I/control/directory"
echo medium > "$I/control/loglevel"
IMC_HOME=$I imc-ctl compile > /dev/null || fail compile "imc-ctl compile"
[ -d "$I/service/smtpd" ] || { fail setup "no service/smtpd in the instance"; exit 1; }
t_start "$I" || { fail start "services did not come up"; exit 1; }
M=$I/mail
SMTPDLOG=$I/log/smtpd/current
TRACK=$I/log/track/current

port_open() {
  "$PYTHON" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$1"
}
t_wait 10 port_open "$P" || { fail listen "imc-tcpd does not listen on $P"; exit 1; }

# peer.py PORT CASE...: one connection per case; after the 220 and EHLO's 250
# everything else goes in one sendall; then every reply is read until the
# server closes (or 15 s pass).  Prints PASS:/FAIL: lines.
cat > "$T_TMP/peer.py" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
LOOK = [b"\n.\n", b"\r.\r", b"\r\n.\n", b"\n.\r\n", b"\r.\n", b"\r.\r\n", b"\r\n.\r"]
NAMES = ["LF.LF", "CR.CR", "CRLF.LF", "LF.CRLF", "CR.LF", "CR.CRLF", "CRLF.CR"]
LONG = b"y" * 1200

def first(text, subject=b"outer"):
    return (b"MAIL FROM:<bob@site.test>\r\nRCPT TO:<alice@site.test>\r\nDATA\r\n"
            b"From: bob@site.test\r\nSubject: " + subject + b"\r\n\r\n" + text)

def second(sender, subject):
    return (b"MAIL FROM:<" + sender + b">\r\nRCPT TO:<alice@site.test>\r\nDATA\r\n"
            b"From: " + sender + b"\r\nSubject: " + subject + b"\r\n\r\nwire the money\r\n.\r\nQUIT\r\n")

def session(payload, ehlo=True):
    """the reply lines to payload (after the greeting and EHLO's) and whether
    the server closed the connection"""
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    f = s.makefile("rb")
    f.readline()
    if ehlo:
        s.sendall(b"EHLO client.test\r\n")
        while True:
            l = f.readline().decode("latin1").rstrip("\r\n")
            if len(l) < 4 or l[3] != "-":
                break
    s.sendall(payload)
    lines = []
    closed = False
    try:
        while True:
            l = f.readline()
            if not l:
                closed = True
                break
            lines.append(l.decode("latin1").rstrip("\r\n"))
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    s.close()
    return lines, closed

def result(name, ok, why):
    print(("PASS: %s" % name) if ok else ("FAIL: %s: %s" % (name, why)))
    sys.stdout.flush()

def smuggle(k, seq, name, long):
    text = b"text" + (b"\r\n" + LONG if long else b"") + seq
    lines, closed = session(first(text) + second(b"ceo@bank.test", b"smuggled-%d" % k))
    label = "smuggle %s%s" % (name, " after a 1,200-octet line" if long else "")
    after = lines[[l[:3] for l in lines].index("354") + 1:] if "354" in [l[:3] for l in lines] else None
    result(label + ": 354 then 550 5.6.11", after is not None and len(after) >= 1 and after[0].startswith("550 5.6.11"),
           "replies %r" % lines[-6:])
    result(label + ": no 250 for the second transaction, no 221",
           after is not None and not any(l.startswith(("250", "221", "354")) for l in after), "after 354: %r" % after)
    result(label + ": connection closed", closed, "still open after 15 s; replies %r" % lines[-4:])

def control():
    lines, closed = session(first(b"proper\r\n.\r\n", b"control-first") + second(b"ok@bank.test", b"control-second"))
    queued = [l for l in lines if l.startswith("250 2.0.0 ok: queued as")]
    result("control: a proper message and a second transaction behind it: two 250 queued, 221",
           len(queued) == 2 and lines[-1].startswith("221") and closed, "replies %r" % lines)

def command(name, payload, ehlo):
    lines, closed = session(payload, ehlo)
    result("command %s: 500 5.5.2" % name, len(lines) >= 1 and lines[0].startswith("500 5.5.2"), "replies %r" % lines)
    result("command %s: nothing after it answered" % name, len(lines) == 1, "replies %r" % lines)
    result("command %s: connection closed" % name, closed, "replies %r" % lines)

what = sys.argv[2]
if what == "control":
    control()
elif what == "smuggle":
    for k, (seq, name) in enumerate(zip(LOOK, NAMES)):
        smuggle(k, seq, name, False)
        smuggle(k + 10, seq, name, True)
elif what == "commands":
    rest = b"MAIL FROM:<ceo@bank.test>\r\nRCPT TO:<alice@site.test>\r\nDATA\r\nSubject: smuggled-cmd\r\n\r\nx\r\n.\r\nQUIT\r\n"
    command("EHLO x<LF>", b"EHLO x\n" + rest, False)
    command("MAIL FROM:<a@b><LF>", b"MAIL FROM:<a@b.test>\n" + rest, True)
    command("NOOP<LF> after EHLO", b"NOOP\n" + rest, True)
    command("bare CR in MAIL", b"MAIL FROM:<a@b.test>\rRCPT TO:<alice@site.test>\r\n" + rest, True)
PY
peer() { "$PYTHON" "$T_TMP/peer.py" "$P" "$1" > "$T_TMP/peer.$1" 2>&1; cat "$T_TMP/peer.$1"
  T_FAILS=$((T_FAILS + $(grep -c '^FAIL: ' "$T_TMP/peer.$1"))); }

# ---- the positive control first: both messages delivered
peer control
check "control: both messages in alice's Maildir" t_wait 15 t_count_is "$M/alice" 2
check "control: the second transaction delivered" sh -c "grep -l '^Subject: control-second' '$M'/alice/new/* > /dev/null"
check "control: its sender in the tracking log" t_wait 10 grep -q 'ok@bank.test' "$TRACK"

# ---- every look-alike, alone and after an overlong line; then the commands
peer smuggle
peer commands

# a sentinel message after them: once it is delivered, anything queued before it
# has had its chance to arrive too
"$PYTHON" - "$P" <<'PY' || fail sentinel "could not send the sentinel"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=15)
s.sendmail("bob@site.test", ["alice@site.test"], "From: bob@site.test\r\nSubject: sentinel\r\n\r\nlast\r\n")
s.quit()
PY
check "sentinel delivered" t_wait 15 sh -c "grep -l '^Subject: sentinel' '$M'/alice/new/* > /dev/null 2>&1"
sleep 1
check "Maildir alice/new exists" test -d "$M/alice/new"
check "exactly three messages for alice (control pair and sentinel)" t_count_is "$M/alice" 3
if grep -l 'smuggled\|ceo@bank.test\|Subject: outer' "$M"/alice/new/* > "$T_TMP/found" 2>/dev/null; then
  fail "no smuggled or refused message delivered" "$(cat "$T_TMP/found")"
else
  pass "no smuggled or refused message delivered"
fi
check "tracking log exists" test -s "$TRACK"
check "ceo@bank.test never in the tracking log" sh -c "! grep -q 'ceo@bank.test' '$TRACK'"
check "smtpd log exists" test -s "$SMTPDLOG"
check "smtpd log: three messages queued in all" test "$(grep -c 'result=queued' "$SMTPDLOG")" = 3
check "smtpd log: bare newlines in DATA logged" test "$(grep -c 'result=bare-newline-in-data' "$SMTPDLOG")" = 14
check "smtpd log: bare newlines in commands logged" test "$(grep -c 'result=bare-newline-in-command' "$SMTPDLOG")" = 4
check "queue empty" t_wait 10 t_queue_empty "$I"
t_done
