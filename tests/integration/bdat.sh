#!/bin/sh
# bdat.sh -- CHUNKING (RFC 3030) inbound: raw-socket sessions against
# imc-smtpd run per connection on an instance that is never started, so
# that each accepted message stays in its queue/new/ and is compared byte
# for byte with what was sent (CR LF made LF, the Received line on top).
#
# Checked: CHUNKING in the EHLO reply; MAIL, RCPT and BDAT chunks pipelined
# in one write with a 250 per chunk and one 250 with the queue id at BDAT
# LAST; a CR LF split across two chunks; "\r\n.\r\n" and a whole second
# transaction inside a chunk stored as text, never run; a 0-octet BDAT
# LAST; a text without its last line end gets one; DATA after BDAT refused
# (503) and the transaction going on; RCPT after BDAT refused; RSET in the
# middle drops the message; BDAT without MAIL (503) or without a
# recipient (554) has its chunk read and dropped (a QUIT inside it is not
# obeyed); a chunk size that does not parse: 501 5.5.4, 421 and close; a
# bare LF, a bare CR (also at the very end) refused with 550 5.6.11 and a
# closed connection, nothing queued; control/databytes over two chunks:
# 552 5.3.4 after the chunk, the next BDAT 503, the session going on; a
# line over 1000 octets across chunks: 500 5.5.2; a forged
# Authentication-Results field split across chunks removed as after DATA;
# a chunk that stops coming: 421 4.4.2 at control/timeoutsmtpd; one that
# trickles: 421 4.4.2 at control/mindatarate after control/mindatagrace.
#
# Then a started instance (imc-tcpd and its pool of imc-smtpd workers,
# imc-send, imc-local): a message in chunks is delivered to a Maildir with
# its text intact; a client that goes away in the middle of a chunk leaves
# nothing behind, and the worker's next session takes BDAT again.
. "$(dirname "$0")/../lib.sh"

J=$T_TMP/j
P=$(t_port)
imc-setup --user --port "$(t_port)" --no-submission "$J" > "$T_TMP/setup.out" 2>&1 \
  || { fail setup "imc-setup: $(cat "$T_TMP/setup.out")"; exit 1; }
echo mx.example.com > "$J/control/me"
echo example.com > "$J/control/sitedomains"
printf 'mailbox alice "Alice"\nmailbox bob "Bob"\n' > "$J/control/directory"
IMC_HOME=$J imc-ctl compile > /dev/null || fail compile "imc-ctl compile"
echo 127.0.0.1 > "$J/env/DNSCACHEIP"

# imc-smtpd per connection (tests/tools/acceptor.py), on the instance never started
IMC_HOME=$J "$PYTHON" "$TOP/tests/tools/acceptor.py" "$P" "$T_BIN/imc-smtpd" "$T_TMP/pids" \
  > /dev/null 2> "$T_TMP/smtpd.log" &
T_PIDS="$T_PIDS $!"
port_open() {
  "$PYTHON" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$1"
}
t_wait 10 port_open "$P" || { fail listen "the acceptor does not listen on $P"; exit 1; }

cat > "$T_TMP/bdat.py" <<'PY'
import os, socket, sys, time
port, queue, control = int(sys.argv[1]), sys.argv[2], sys.argv[3]
HDR = b"From: bob@example.com\r\nTo: alice@example.com\r\nSubject: chunks\r\n\r\n"
ENV = b"MAIL FROM:<bob@example.com>\r\nRCPT TO:<alice@example.com>\r\n"

def result(name, ok, why=""):
    print(("PASS: %s" % name) if ok else ("FAIL: %s: %s" % (name, why)))
    sys.stdout.flush()

def queued():
    return set(os.listdir(os.path.join(queue, "new")))

def stored(qid):
    """the message text of queue/new/ID, its Received line (and any
    Authentication-Results field imc-smtpd put on top) removed"""
    b = open(os.path.join(queue, "new", qid), "rb").read()
    trailer = b[-64:]
    msglen = int(trailer[7:23], 16)
    text = b[:msglen]
    lines = text.split(b"\n")
    i = 0
    while i < len(lines) and (lines[i].startswith((b"Received:", b"Authentication-Results:")) or lines[i][:1] == b"\t"):
        i += 1
    return text, b"\n".join(lines[i:])

class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.f = self.s.makefile("rb")
        self.greeting = self.reply()
    def send(self, b):
        self.s.sendall(b)
    def reply(self):
        """one reply: its lines; [] when the server closed"""
        lines = []
        while True:
            try:
                l = self.f.readline()
            except (ConnectionResetError, socket.timeout):
                return lines
            if not l:
                return lines
            lines.append(l.decode("latin1").rstrip("\r\n"))
            if len(l) < 4 or l[3:4] != b"-":
                return lines
    def replies(self, n):
        return [(self.reply() or ["(closed)"])[-1] for _ in range(n)]
    def closed(self):
        try:
            return self.f.readline() == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
    def ehlo(self):
        self.send(b"EHLO client.example\r\n")
        return self.reply()

def bdat(chunk, last=False):
    return b"BDAT %d%s\r\n" % (len(chunk), b" LAST" if last else b"") + chunk

def expect_lf(raw):
    return raw.replace(b"\r\n", b"\n")

def one_message(name, chunks, want_text, forbid=None):
    """chunks sent pipelined with MAIL and RCPT in one write; the last one is
    BDAT LAST; want_text is the text as it must be stored"""
    before = queued()
    c = Conn()
    c.ehlo()
    w = ENV + b"".join(bdat(ch, i == len(chunks) - 1) for i, ch in enumerate(chunks)) + b"QUIT\r\n"
    c.send(w)
    r = c.replies(2 + len(chunks) + 1)
    new = queued() - before
    oks = [x for x in r[2:2 + len(chunks) - 1]]
    result(name + ": 250 for MAIL, RCPT and each chunk", all(x.startswith("250") for x in r[:2] + oks)
           and all(" octets received" in x for x in oks), "replies %r" % r)
    result(name + ": one 250 with the queue id at BDAT LAST", r[1 + len(chunks)].startswith("250 2.0.0 ok: queued as ")
           and len(new) == 1 and r[1 + len(chunks)].split()[-1] in new, "replies %r, new %r" % (r, new))
    result(name + ": QUIT answered after it", r[-1].startswith("221"), "replies %r" % r)
    if len(new) == 1:
        whole, text = stored(new.pop())
        result(name + ": stored byte for byte (LF line ends)", text == want_text, "stored %r want %r" % (text[:300], want_text[:300]))
        if forbid:
            result(name + ": gone from the whole message", forbid not in whole, "stored %r" % whole[:400])
        result(name + ": the Received line on top, with ESMTP", whole.startswith(b"Received: from client.example") and b"with ESMTP" in whole,
               "stored %r" % whole[:200])
    return r

def nothing_new(name, before):
    time.sleep(0.2)
    result(name + ": nothing queued", queued() == before, "new %r" % (queued() - before))

# ---- the EHLO reply
c = Conn()
e = c.ehlo()
result("EHLO offers CHUNKING", "250-CHUNKING" in e or "250 CHUNKING" in e, "EHLO reply %r" % e)
result("EHLO offers PIPELINING", "250-PIPELINING" in e, "EHLO reply %r" % e)
c.send(b"QUIT\r\n"); c.reply()

# ---- messages that must be queued exactly
body = HDR + b"line one\r\n.\r\n..two dots kept\r\nMAIL FROM:<ceo@bank.example>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n.\r\n"
one_message("one chunk with CRLF.CRLF and a transaction inside", [body], expect_lf(body))
one_message("CR LF split across chunks", [HDR + b"first\r", b"\nsecond\r\n"], expect_lf(HDR + b"first\r\nsecond\r\n"))
one_message("three chunks and a 0-octet BDAT LAST", [HDR, b"a\r\n", b"b\r\n", b""], expect_lf(HDR + b"a\r\nb\r\n"))
one_message("no line end at the end of the last chunk", [HDR + b"no end"], expect_lf(HDR) + b"no end\n")
split = [b"Authentication-Results: mx.exam", b"ple.com; spf=pass smtp.mailfrom=ceo@bank.example\r\n" + HDR + b"text\r\n"]
one_message("a forged Authentication-Results split across chunks removed", split, expect_lf(HDR + b"text\r\n"),
            b"smtp.mailfrom=ceo@bank.example")

# ---- DATA and RCPT after BDAT; RSET in the middle
before = queued()
c = Conn(); c.ehlo()
c.send(ENV + bdat(HDR) + b"DATA\r\nRCPT TO:<bob@example.com>\r\n" + bdat(b"end\r\n", True))
r = c.replies(6)
result("DATA after BDAT: 503 5.5.1", r[3].startswith("503 5.5.1"), "replies %r" % r)
result("RCPT after BDAT: 503 5.5.1", r[4].startswith("503 5.5.1"), "replies %r" % r)
result("the transaction goes on: BDAT LAST queues it", r[5].startswith("250 2.0.0 ok: queued as"), "replies %r" % r)
new = queued() - before
if len(new) == 1:
    result("... with both chunks", stored(new.pop())[1] == expect_lf(HDR + b"end\r\n"), "stored wrong")
else:
    result("... one message queued", False, "new %r" % new)
before = queued()
c.send(ENV + bdat(HDR) + b"RSET\r\n" + ENV + bdat(HDR + b"after rset\r\n", True))
r = c.replies(7)
result("RSET in the middle: 250, then a new transaction queued", r[3].startswith("250 2.0.0") and r[6].startswith("250 2.0.0 ok: queued"),
       "replies %r" % r)
new = queued() - before
result("RSET: only the second message queued", len(new) == 1 and stored(list(new)[0])[1] == expect_lf(HDR + b"after rset\r\n"),
       "new %r" % new)
c.send(b"QUIT\r\n"); c.reply()

# ---- BDAT after a DATA that was refused: the transaction is over, a new one works
before = queued()
c = Conn(); c.ehlo()
c.send(ENV + b"DATA\r\n")
r = c.replies(3)
c.send(HDR + b"z" * 1200 + b"\r\n.\r\n" + bdat(b"after the refused DATA\r\n", True) + ENV + bdat(HDR + b"fresh\r\n", True))
r += c.replies(5)
result("DATA with a 1,200-octet line: 500 5.5.2", r[3].startswith("500 5.5.2"), "replies %r" % r)
result("BDAT after it: 503 5.5.1 (no transaction), its chunk dropped", r[4].startswith("503 5.5.1"), "replies %r" % r)
result("a new transaction by BDAT: queued", r[-1].startswith("250 2.0.0 ok: queued as"), "replies %r" % r)
new = queued() - before
result("only the new transaction's text queued", len(new) == 1 and stored(list(new)[0])[1] == expect_lf(HDR + b"fresh\r\n"),
       "new %r" % new)
c.send(b"QUIT\r\n"); c.reply()

# ---- BDAT that cannot be taken: the chunk is read and dropped
before = queued()
c = Conn(); c.ehlo()
c.send(bdat(b"QUIT\r\nMAIL FROM:<x@example.com>\r\n", True) + b"NOOP\r\n")
r = c.replies(2)
result("BDAT without MAIL: 503 5.5.1", r[0].startswith("503 5.5.1"), "replies %r" % r)
result("BDAT without MAIL: its chunk dropped (the QUIT in it not obeyed, NOOP answered)", r[1].startswith("250"), "replies %r" % r)
c.send(b"MAIL FROM:<bob@example.com>\r\nRCPT TO:<nobody@example.com>\r\n" + bdat(b"QUIT\r\n", True) + b"NOOP\r\n")
r = c.replies(4)
result("BDAT without a recipient: 554 5.5.1", r[1].startswith("550") and r[2].startswith("554 5.5.1"), "replies %r" % r)
result("BDAT without a recipient: its chunk dropped", r[3].startswith("250"), "replies %r" % r)
c.send(b"QUIT\r\n"); c.reply()
nothing_new("refused BDATs", before)

# ---- a chunk size that does not parse
for arg in (b"abc", b"12x", b"-1", b"", b"10 LAST now", b"1234567890123456789"):
    c = Conn(); c.ehlo()
    c.send(b"MAIL FROM:<bob@example.com>\r\nBDAT " + arg + b"\r\nNOOP\r\n")
    r = c.replies(3)
    result("BDAT %r: 501 5.5.4 then 421" % arg, r[1].startswith("501 5.5.4") and r[2].startswith("421"), "replies %r" % r)
    result("BDAT %r: connection closed" % arg, c.closed(), "still open")

# ---- bare CR and LF, as in DATA
for name, chunks in (("bare LF", [HDR + b"one\ntwo\r\n"]), ("bare CR", [HDR + b"one\rtwo\r\n"]),
                     ("CR at the end of the last chunk", [HDR, b"end\r"]),
                     ("bare LF after a split CR", [HDR + b"x\r", b"\r\n"])):
    before = queued()
    c = Conn(); c.ehlo()
    c.send(ENV + b"".join(bdat(ch, i == len(chunks) - 1) for i, ch in enumerate(chunks)) + b"NOOP\r\n")
    r = c.replies(2 + len(chunks))
    result(name + ": 550 5.6.11", r[-1].startswith("550 5.6.11"), "replies %r" % r)
    result(name + ": connection closed, NOOP not answered", c.closed(), "still open")
    nothing_new(name, before)

# ---- control/databytes over two chunks, and a long line
open(os.path.join(control, "databytes"), "w").write("1000\n")
before = queued()
c = Conn(); c.ehlo()
c.send(ENV + bdat(HDR + b"x" * 500 + b"\r\n") + bdat(b"y" * 600 + b"\r\n") + bdat(b"more\r\n", True) + b"NOOP\r\n")
r = c.replies(6)
result("over databytes: the first chunk 250", r[2].startswith("250 2.0.0"), "replies %r" % r)
result("over databytes: 552 5.3.4 after the second", r[3].startswith("552 5.3.4"), "replies %r" % r)
result("over databytes: the next BDAT 503, its chunk dropped", r[4].startswith("503") and r[5].startswith("250"), "replies %r" % r)
c.send(b"QUIT\r\n"); c.reply()
nothing_new("over databytes", before)
os.unlink(os.path.join(control, "databytes"))
before = queued()
c = Conn(); c.ehlo()
c.send(ENV + bdat(HDR + b"x" * 600) + bdat(b"y" * 600 + b"\r\n", True) + b"NOOP\r\n")
r = c.replies(5)
result("a 1,200-octet line across chunks: 500 5.5.2", r[3].startswith("500 5.5.2"), "replies %r" % r)
result("a long line: the session goes on", r[4].startswith("250"), "replies %r" % r)
c.send(b"QUIT\r\n"); c.reply()
nothing_new("a long line", before)

# ---- a chunk that stops coming: the idle timeout (control/timeoutsmtpd is 2)
open(os.path.join(control, "timeoutsmtpd"), "w").write("2\n")
before = queued()
c = Conn(); c.ehlo()
c.send(ENV + b"BDAT 100 LAST\r\n" + b"only ten\r\n")
r = c.replies(3)
result("a stalled chunk: 421 4.4.2", r[2].startswith("421 4.4.2"), "replies %r" % r)
result("a stalled chunk: connection closed", c.closed(), "still open")
os.unlink(os.path.join(control, "timeoutsmtpd"))
nothing_new("a stalled chunk", before)

# ---- a chunk that trickles: control/mindatarate after control/mindatagrace, per chunk
open(os.path.join(control, "mindatarate"), "w").write("1000\n")
open(os.path.join(control, "mindatagrace"), "w").write("1\n")
before = queued()
c = Conn(); c.ehlo()
c.send(ENV + bdat(HDR + b"quick\r\n") + b"BDAT 100000 LAST\r\n")
start = time.monotonic()
r = c.replies(3)
try:
    for _ in range(40):
        c.send(b"x" * 10)
        time.sleep(0.25)
except OSError:
    pass
r += c.replies(1)
took = time.monotonic() - start
result("a trickling chunk after a quick one: 421 4.4.2 data arriving too slowly",
       r[2].startswith("250") and r[3].startswith("421 4.4.2") and "too slowly" in r[3], "replies %r" % r)
result("a trickling chunk: cut off within 6 s", took < 6, "took %.1f s" % took)
os.unlink(os.path.join(control, "mindatarate"))
os.unlink(os.path.join(control, "mindatagrace"))
nothing_new("a trickling chunk", before)
PY
"$PYTHON" "$T_TMP/bdat.py" "$P" "$J/queue" "$J/control" > "$T_TMP/bdat.out" 2>&1
cat "$T_TMP/bdat.out"
grep -q '^PASS: ' "$T_TMP/bdat.out" || fail bdat.py "no result from the peer: $(tail -5 "$T_TMP/bdat.out")"
T_FAILS=$((T_FAILS + $(grep -c '^FAIL: ' "$T_TMP/bdat.out")))
grep -q 'Traceback' "$T_TMP/bdat.out" && fail bdat.py "the peer crashed"
check "no imc-smtpd crashed" t_lacks "$T_TMP/smtpd.log" -E 'Sanitizer|runtime error|fatal'

# ---- a started instance: the pool's workers, delivery to a Maildir
I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup I failed"; t_done; exit; }
echo mx.example.com > "$I/control/me"
echo example.com > "$I/control/sitedomains"
printf 'mailbox alice "Alice"\nmailbox bob "Bob"\n' > "$I/control/directory"
imc-ctl compile > /dev/null || fail compile "imc-ctl compile I"
t_start "$I" || { fail start "services did not come up"; t_done; exit; }
t_wait 10 port_open "$T_PORT" || fail listen "imc-tcpd does not listen on $T_PORT"
cat > "$T_TMP/live.py" <<'PY'
import socket, sys
port = int(sys.argv[1])
HDR = b"From: bob@example.com\r\nTo: alice@example.com\r\nSubject: %s\r\n\r\n"
def talk(payload, n, close_early=False):
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"EHLO client.example\r\n")
    while f.readline()[3:4] == b"-":
        pass
    s.sendall(payload)
    if close_early:
        s.close()
        return []
    r = []
    for _ in range(n):
        l = f.readline()
        r.append(l.decode("latin1").rstrip())
        while l[3:4] == b"-":
            l = f.readline()
    s.close()
    return r
ENV = b"MAIL FROM:<bob@example.com>\r\nRCPT TO:<alice@example.com>\r\n"
def bdat(c, last=False):
    return b"BDAT %d%s\r\n" % (len(c), b" LAST" if last else b"") + c
what = sys.argv[2]
if what == "first":
    r = talk(ENV + bdat(HDR % b"chunked-one" + b"line\r") + bdat(b"\n.\r\n.line\r\n", True) + b"QUIT\r\n", 5)
elif what == "cut":
    r = talk(ENV + b"BDAT 1000 LAST\r\n" + HDR % b"cut-off" + b"only part of it", 0, True)
else:
    r = talk(ENV + bdat(HDR % b"chunked-two" + b"after\r\n", True) + b"QUIT\r\n", 4)
print("\n".join(r))
PY
"$PYTHON" "$T_TMP/live.py" "$T_PORT" first > "$T_TMP/live1.out" 2>&1
check "live: BDAT chunks answered 250, 250, 250 queued, 221" \
  sh -c "grep -c '^250' '$T_TMP/live1.out' | grep -qx 4 && grep -q '^250 2.0.0 ok: queued as' '$T_TMP/live1.out' && grep -q '^221' '$T_TMP/live1.out'"
"$PYTHON" "$T_TMP/live.py" "$T_PORT" cut > /dev/null 2>&1
"$PYTHON" "$T_TMP/live.py" "$T_PORT" second > "$T_TMP/live2.out" 2>&1
check "live: after a client cut off in a chunk, the next session's BDAT queues" grep -q '^250 2.0.0 ok: queued as' "$T_TMP/live2.out"
check "live: both messages in alice's Maildir" t_wait 15 t_count_is "$I/mail/alice" 2
ends_with() {
  "$PYTHON" -c 'import glob, sys
f = [g for g in glob.glob(sys.argv[1] + "/new/*") if b"Subject: chunked-one" in open(g, "rb").read()]
sys.exit(0 if len(f) == 1 and open(f[0], "rb").read().endswith(b"Subject: chunked-one\n\nline\n.\n.line\n") else 1)' "$1"
}
check "live: the chunked text delivered as sent (LF line ends, dots kept)" ends_with "$I/mail/alice"
sleep 1
check "live: the message cut off in its chunk is nowhere" sh -c "[ -d '$I/mail/alice/new' ] && [ -d '$I/queue/mess' ] && ! grep -rq 'cut-off' '$I/mail' '$I/queue'"
check "live: the cut session logged as disconnected in data" grep -q 'result=disconnected-in-data' "$I/log/smtpd/current"
t_done
