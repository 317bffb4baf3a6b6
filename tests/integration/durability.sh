# durability.sh -- the order of the system calls that make mail durable,
# recorded with strace -f over the whole supervision tree (s6-svscan and
# every process below it: imc-tcpd, its imc-smtpd workers, their long-lived
# imc-queue -s, imc-send, imc-local), in one trace file whose lines come in
# the order the kernel saw the calls.
#
# Checked for SMTP messages (swaks): imc-queue's fsync of queue/tmp/ID ends
# before its rename of tmp/ID to new/ID starts, the rename ends before the
# fsync of queue/new starts, that fsync ends before imc-queue writes its
# reply ("000 ID") and the reply before imc-smtpd, another process, sends
# "250 ... ID".  For each local delivery of those messages: imc-local's
# fsync of mail/BOX/tmp/NAME ends before its rename to new/NAME, the rename
# before the fsync of mail/BOX/new, and that before its report ("K...") to
# imc-send.  The kill -9 tests cannot see a missing fsync; this test fails
# when any one of these calls is removed or moved after the reply.
. "$(dirname "$0")/../lib.sh"

command -v strace > /dev/null || { echo "SKIP: durability: strace is not installed (tools/deps.sh test)"; exit 0; }
strace -f -qq -o /dev/null true 2> /dev/null \
  || { echo "SKIP: durability: strace cannot trace here (ptrace not permitted)"; exit 0; }
command -v swaks > /dev/null || { echo "SKIP: durability: swaks is not installed"; exit 0; }

I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo dur.example > "$I/control/me"
echo dur.example > "$I/control/sitedomains"
printf 'mailbox alice "Alice"\nmailbox bob "Bob"\n' > "$I/control/directory"
imc-ctl compile > /dev/null || { fail setup "imc-ctl compile failed"; exit 1; }

TR=$T_TMP/trace
strace -f -qq -y -s 200 -e trace=fsync,fdatasync,rename,renameat,renameat2,write,writev,sendto,sendmsg \
  -e signal=none -o "$TR" s6-svscan "$I/service" > "$T_TMP/svscan.out" 2>&1 &
T_PIDS="$T_PIDS $!"
T_SCANDIRS="$T_SCANDIRS $I/service"
port_listens() { ss -Hltn "( sport = :$1 )" | grep -q .; }
t_wait 20 port_listens "$T_PORT" || { fail start "the listener did not come up under strace"; exit 1; }
t_wait 10 test -p "$I/service/send/supervise/control"

# three messages over one connection each; the second reaches an existing
# Maildir (no parent directories made), the third a second mailbox
for to in alice alice bob; do
  swaks --server "127.0.0.1:$T_PORT" --from "x@dur.example" --to "$to@dur.example" \
    --header "Subject: durable to $to" --body "durable" > "$T_TMP/swaks.out" 2>&1 \
    || { fail swaks "swaks to $to failed: $(tail -3 "$T_TMP/swaks.out")"; }
  grep '250 2.0.0' "$T_TMP/swaks.out" | sed 's/.* //' >> "$T_TMP/ids"
done
check "three messages queued" test "$(wc -l < "$T_TMP/ids")" = 3
check "delivered to alice" t_wait 10 t_count_is "$I/mail/alice" 2
check "delivered to bob" t_wait 10 t_count_is "$I/mail/bob" 1
check "queue drained" t_wait 10 t_queue_empty "$I"
s6-svscanctl -t "$I/service"
t_wait 10 t_gone "s6-svscan $I/service"
sleep 0.5
check "trace recorded" test -s "$TR"

# durorder.py TRACE ID... : one line per checked order, "ok WHAT" or "bad WHAT"
"$PYTHON" - "$TR" "$I" $(cat "$T_TMP/ids") > "$T_TMP/order" 2>&1 <<'PY'
import re, sys, os
trace, home, ids = sys.argv[1], os.path.realpath(sys.argv[2]), sys.argv[3:]
calls, pending = [], {}
head = re.compile(r'^(\d+) +(\w+)\((.*)$')
resumed = re.compile(r'^(\d+) +<\.\.\. (\w+) resumed>(.*)$')
for n, line in enumerate(open(trace, errors="replace")):
    line = line.rstrip("\n")
    m = resumed.match(line)
    if m:
        c = pending.pop(int(m.group(1)), None)
        if c: c["end"] = n; c["args"] += m.group(3)
        continue
    m = head.match(line)
    if not m: continue
    c = {"pid": int(m.group(1)), "name": m.group(2), "args": m.group(3), "start": n, "end": n}
    if line.endswith("<unfinished ...>"):
        c["end"] = None; c["args"] = c["args"][:-len(" <unfinished ...>")]
        pending[c["pid"]] = c
    calls.append(c)

def find(name, pred, after=-1):
    for c in calls:
        if c["name"] in name and c["start"] > after and c["end"] is not None and pred(c["args"]):
            return c
    return None

def chain(what, steps):
    prev = None
    for label, c in steps:
        if c is None:
            print("bad %s: no %s" % (what, label)); return None
        if c["args"].rstrip().endswith("= -1") or re.search(r"= -1 E", c["args"]):
            print("bad %s: %s failed" % (what, label)); return None
        if prev and not prev[1]["end"] < c["start"]:
            print("bad %s: %s did not end before %s" % (what, prev[0], label)); return None
        prev = (label, c)
    print("ok %s" % what)
    return prev

FSYNC, RENAME, WRITE = ("fsync", "fdatasync"), ("rename", "renameat", "renameat2"), ("write", "writev", "sendto", "sendmsg")
q = home + "/queue/"
for i in ids:
    f = find(FSYNC, lambda a: ("<%stmp/%s>)" % (q, i)) in a)
    r = find(RENAME, lambda a: ("tmp/%s\"" % i) in a and ("new/%s\"" % i) in a, f["start"] if f else -1)
    d = find(FSYNC, lambda a: ("<%snew>)" % q) in a, r["start"] if r else -1)
    rep = find(WRITE, lambda a: ('"000 %s\\n"' % i) in a, d["start"] if d else -1)
    ok = find(WRITE, lambda a: "250 2.0.0" in a and i in a)
    chain("smtp %s" % i, [("fsync(tmp/ID)", f), ("rename(tmp/ID,new/ID)", r), ("fsync(new/)", d),
                          ("imc-queue's reply", rep), ("250 reply", ok)])
    if f and ok and f["pid"] == ok["pid"]:
        print("bad smtp %s: the 250 came from imc-queue's own process" % i)
    elif f and ok:
        print("ok smtp %s: across processes %d and %d" % (i, f["pid"], ok["pid"]))

# each Maildir file: tmp/NAME fsync'd, renamed, new/ fsync'd, then the report
mail = home + "/mail/"
for box in ("alice", "bob"):
    for name in sorted(os.listdir(mail + box + "/new")):
        f = find(FSYNC, lambda a: ("<%s%s/tmp/%s>)" % (mail, box, name)) in a)
        r = find(RENAME, lambda a: ("tmp/%s\"" % name) in a and ("%s/new/%s\"" % (box, name)) in a, f["start"] if f else -1)
        d = find(FSYNC, lambda a: ("<%s%s/new>)" % (mail, box)) in a, r["start"] if r else -1)
        k = find(WRITE, lambda a: re.match(r'1<[^>]*>, "K', a) is not None, d["start"] if d else -1)
        last = chain("local %s/%s" % (box, name), [("fsync(tmp/NAME)", f), ("rename(tmp/NAME,new/NAME)", r),
                                                  ("fsync(BOX/new)", d), ("report K", k)])
        if last and f["pid"] != k["pid"]:
            print("bad local %s/%s: the report came from another process" % (box, name))
PY
cat "$T_TMP/order"
check "three SMTP orders recorded" test "$(grep -c '^ok smtp .*: across processes' "$T_TMP/order")" = 3
check "three SMTP commits in order: fsync, rename, fsync new/, reply, 250" \
  test "$(grep -c '^ok smtp [0-9a-f]*$' "$T_TMP/order")" = 3
check "three Maildir deliveries in order: fsync, rename, fsync new/, report" \
  test "$(grep -c '^ok local ' "$T_TMP/order")" = 3
check "no order broken" t_lacks "$T_TMP/order" '^bad '
t_done
