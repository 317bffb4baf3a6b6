#!/bin/sh
# limits.sh -- what keeps an inbound session from holding its slot (issue 11
# item 3) and the senders imc-remote could not carry (item 4), end to end
# through imc-tcpd and imc-smtpd on a user instance under s6.
#
# Checked: control/timeoutsession ends a client that sends NOOP every second
# (421 4.4.2, closed within a bound); control/mindatarate (after
# control/mindatagrace) ends a DATA trickle (421 4.4.2, nothing queued or
# delivered) while a client above the rate for longer than the grace gets its
# 250; 20 refused RCPTs are answered, the 21st is 421 4.7.0 and the end;
# AUTH failures wait longer each time, imc-tcpd counts them per address
# across sessions and past control/authfailures AUTH is 454 4.7.0 for that
# address only; one ETRN session a minute per client, 16 domains in it
# (then 458 4.7.0), across sessions;
# quoted senders and recipients the job line cannot carry get 553 5.1.7 /
# 553 5.1.3 while a quoted local part with a space still works; imc-ctl check
# names a bad control/ipv6prefix.  As root, with addresses of one /64 added
# to lo (removed at the end): maxperip 1 counts the /64 as one client,
# ipv6prefix 128 counts each address.
# Clients use source addresses 127.0.0.2.. so that the per-address counts
# of one check do not touch another.
. "$(dirname "$0")/../lib.sh"

cat > "$T_TMP/lim.py" <<'PY'
# lim.py MODE HOST PORT SRC [ARGS]: one timed SMTP client; prints what it saw
import base64, socket, sys, time
mode, host, port, src = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
args = sys.argv[5:]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam)
s.settimeout(30)
if src != "-":
    s.bind((src, 0))
s.connect((host, port))
f = s.makefile("rb")
t0 = time.time()
def reply():
    lines = []
    while True:
        l = f.readline()
        if not l:
            return lines or ["EOF"]
        lines.append(l.decode("latin1").rstrip("\r\n"))
        if len(l) < 4 or l[3:4] != b"-":
            return lines
def cmd(c):
    s.sendall(c.encode() + b"\r\n")
    r = reply()
    print("%6.2f %s -> %s" % (time.time() - t0, c[:40], r[-1]))
    sys.stdout.flush()
    return r[-1]
def closed():
    s.settimeout(15)
    try:
        rest = f.read()
    except OSError as e:
        print("%6.2f read: %s" % (time.time() - t0, e)); return
    print("%6.2f closed (%d bytes more)" % (time.time() - t0, len(rest)))
print("greeting", reply()[-1])
cmd("EHLO client.example")
try:
    if mode == "noop":                 # NOOP every second until the server ends it
        for i in range(int(args[0])):
            r = cmd("NOOP")
            if not r.startswith("250"):
                break
            time.sleep(1)
        closed()
    elif mode == "trickle":            # DATA at one byte every half second
        cmd("MAIL FROM:<bob@example.com>")
        cmd("RCPT TO:<alice@example.com>")
        cmd("DATA")
        s.sendall(b"Subject: trickle\r\n\r\n")
        try:
            for i in range(int(args[0])):
                s.sendall(b"x")
                time.sleep(0.5)
        except OSError as e:
            print("%6.2f send: %s" % (time.time() - t0, e))
        r = reply()
        print("%6.2f data -> %s" % (time.time() - t0, r[-1]))
        closed()
    elif mode == "steady":             # DATA at RATE bytes a second for SECS seconds, then the end
        rate, secs = int(args[0]), float(args[1])
        cmd("MAIL FROM:<bob@example.com>")
        cmd("RCPT TO:<alice@example.com>")
        cmd("DATA")
        s.sendall(b"Subject: steady\r\n\r\n")
        line = b"y" * 98 + b"\r\n"
        end = time.time() + secs
        while time.time() < end:
            for i in range(max(1, rate // 100 // 10)):
                s.sendall(line)
            time.sleep(0.1)
        cmd(".")
        cmd("QUIT")
    elif mode == "rcpts":              # N unknown recipients
        cmd("MAIL FROM:<bob@example.com>")
        for i in range(int(args[0])):
            r = cmd("RCPT TO:<nobody%d@example.com>" % i)
            if r.startswith("421") or r == "EOF":
                break
        closed()
    elif mode == "auth":               # AUTH PLAIN USER PASS, each pair in turn
        for i in range(0, len(args), 2):
            tok = base64.b64encode(b"\0" + args[i].encode() + b"\0" + args[i + 1].encode()).decode()
            cmd("AUTH PLAIN " + tok)
        cmd("QUIT")
    elif mode == "etrn":               # ETRN DOMAIN, N times
        for i in range(int(args[1])):
            cmd("ETRN " + args[0])
        cmd("QUIT")
    elif mode == "cmds":               # the commands given, in turn
        for c in args:
            cmd(c)
        cmd("QUIT")
    elif mode == "hold":               # stay connected for ARGS[0] seconds
        time.sleep(float(args[0]))
        cmd("QUIT")
except OSError as e:
    print("%6.2f error: %s" % (time.time() - t0, e))
PY
# lim NAME MODE SRC ARGS...: run lim.py against the instance, output in $T_TMP/NAME.out
lim() {
  _n=$1 _m=$2 _s=$3; shift 3
  "$PYTHON" "$T_TMP/lim.py" "$_m" "${LIM_HOST:-127.0.0.1}" "$P" "$_s" "$@" > "$T_TMP/$_n.out" 2>&1
}
out() { tr '\n' '|' < "$T_TMP/$1.out" | head -c 1500; }
# seconds of the line matching PATTERN (the first field)
at() { grep -m1 -- "$2" "$T_TMP/$1.out" | awk '{print $1}'; }
# le A B: A <= B (decimals)
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 <= b + 0) }'; }

# ---- the instance
I=$T_TMP/i
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
I=$(cd "$I" && pwd -P)
P=$T_PORT
IMC_HOME=$I; export IMC_HOME
echo mx.example.com > "$I/control/me"
printf 'example.com\nexample.org\n' > "$I/control/sitedomains"
printf 'mailbox alice "Alice"\nmailbox bob "Bob"\n' > "$I/control/directory"
imc-ctl compile > /dev/null || fail compile "imc-ctl compile"
HASH=$(openssl passwd -6 secret)
printf 'alice:%s\n' "$HASH" > "$I/control/auth"
echo medium > "$I/control/loglevel"
echo 3 > "$I/control/authfailures"
echo 60 > "$I/control/maxperip"
imc-ctl check > "$T_TMP/check.out" 2>&1 && pass ctl-check || fail ctl-check "$(cat "$T_TMP/check.out")"

# imc-ctl check and set know the new settings
echo 16 > "$I/control/ipv6prefix"
imc-ctl check > "$T_TMP/check.out" 2>&1
grep -q '^control/ipv6prefix:1: not a prefix length from 32 to 128$' "$T_TMP/check.out" &&
  pass ctl-check-ipv6prefix || fail ctl-check-ipv6prefix "$(cat "$T_TMP/check.out")"
rm -f "$I/control/ipv6prefix"
imc-ctl set mindatarate fast > "$T_TMP/set.out" 2>&1
[ $? = 100 ] && grep -q '^control/mindatarate:1: not a number$' "$T_TMP/set.out" &&
  pass ctl-set-mindatarate-refused || fail ctl-set-mindatarate-refused "$(cat "$T_TMP/set.out")"
imc-ctl show > "$T_TMP/show.out" 2>&1
grep -q '^timeoutsession 1h (default)$' "$T_TMP/show.out" && grep -q '^mindatarate 500 (default)$' "$T_TMP/show.out" &&
  grep -q '^mindatagrace 30 (default)$' "$T_TMP/show.out" && grep -q '^ipv6prefix 64 (default)$' "$T_TMP/show.out" &&
  grep -q '^authfailures 3$' "$T_TMP/show.out" && pass ctl-show-limits || fail ctl-show-limits "$(grep -E 'timeoutsession|mindata|ipv6|authfail' "$T_TMP/show.out")"

# IPv6 addresses of one /64 on lo, as root, for the maxperip check at the end
NET6=
if [ "$(id -u)" = 0 ] && command -v ip > /dev/null; then
  NET6=fd00:$(od -An -N2 -tx2 /dev/urandom | tr -d ' '):11
  if ip -6 addr add "$NET6::1/128" dev lo nodad 2>/dev/null; then
    ip -6 addr add "$NET6::2/128" dev lo nodad 2>/dev/null
    ip -6 addr add "$NET6::3/128" dev lo nodad 2>/dev/null
    trap 'for _a in 1 2 3; do ip -6 addr del "$NET6::$_a/128" dev lo 2>/dev/null; done; t_cleanup' EXIT
    echo "127.0.0.1 $NET6::1" > "$I/env/IMC_LISTEN"
  else
    NET6=
  fi
fi

t_start "$I" || { fail start "services did not come up"; exit 1; }
s6-svwait -U -t 10000 "$I/service/smtpd" 2>/dev/null || { fail smtpd-up "$(tail -5 "$I/log/smtpd/current")"; exit 1; }

# ---- control/timeoutsession: a NOOP every second does not keep the session
echo 3 > "$I/control/timeoutsession"
lim noop noop 127.0.0.2 20
t=$(at noop '421 4.4.2')
if [ -n "$t" ] && le "$t" 5 && grep -q '421 4.4.2 mx.example.com session time limit reached' "$T_TMP/noop.out"
then pass session-limit-421; else fail session-limit-421 "$(out noop)"; fi
t=$(at noop 'closed')
le "$t" 6 && pass session-limit-closed || fail session-limit-closed "$(out noop)"
check session-limit-logged t_wait 5 grep -q 'result=session-time-limit' "$I/log/smtpd/current"

# ---- control/mindatarate after control/mindatagrace: a DATA trickle ends, nothing queued
echo 60 > "$I/control/timeoutsession"
echo 1000 > "$I/control/mindatarate"
echo 2 > "$I/control/mindatagrace"
lim trickle trickle 127.0.0.2 40
t=$(at trickle 'data -> 421 4.4.2')
if [ -n "$t" ] && le "$t" 5 && grep -q 'data -> 421 4.4.2' "$T_TMP/trickle.out"
then pass data-rate-421; else fail data-rate-421 "$(out trickle)"; fi
grep -q 'closed' "$T_TMP/trickle.out" && pass data-rate-closed || fail data-rate-closed "$(out trickle)"
check data-rate-logged t_wait 5 grep -q 'result=data-rate-too-low' "$I/log/smtpd/current"
sleep 1
[ -d "$I/queue/mess" ] && t_queue_empty "$I" && pass data-rate-nothing-queued || fail data-rate-nothing-queued "$(find "$I/queue" -type f)"
# a client above the rate for longer than the grace is fine
lim steady steady 127.0.0.2 3000 4
grep -q '\. -> 250 2.0.0' "$T_TMP/steady.out" && pass data-rate-steady-accepted || fail data-rate-steady-accepted "$(out steady)"
check data-rate-steady-delivered t_wait 10 t_count_is "$I/mail/alice" 1
# the one message in alice's Maildir is the steady one: the trickle never got there
sleep 1
[ "$(t_count "$I/mail/alice")" = 1 ] && grep -q '^Subject: steady' "$(find "$I/mail/alice/new" -type f | head -1)" &&
  pass data-rate-trickle-not-delivered || fail data-rate-trickle-not-delivered "alice has $(t_count "$I/mail/alice")"
[ -f "$I/log/smtpd/current" ] && [ "$(grep -c ' result=queued' "$I/log/smtpd/current")" = 1 ] &&
  pass data-rate-only-steady-queued || fail data-rate-only-steady-queued "$(grep result= "$I/log/smtpd/current")"
rm -f "$I/control/timeoutsession" "$I/control/mindatarate" "$I/control/mindatagrace"

# ---- directory harvesting: 20 refused RCPTs answered, the 21st ends the session
lim harvest rcpts 127.0.0.3 30
n550=$(grep -c 'nobody[0-9]*@example.com> -> 550 5.1.1' "$T_TMP/harvest.out")
[ "$n550" = 20 ] && grep -q 'nobody20@example.com> -> 421 4.7.0 mx.example.com too many refused recipients' "$T_TMP/harvest.out" &&
  ! grep -q 'nobody21@' "$T_TMP/harvest.out" && pass harvest-421-after-20 || fail harvest-421-after-20 "$n550 x 550: $(out harvest)"
grep -q 'closed' "$T_TMP/harvest.out" && pass harvest-closed || fail harvest-closed "$(out harvest)"

# ---- quoted addresses the job line cannot carry
lim quoted cmds 127.0.0.3 'MAIL FROM:<"a>b"@example.org>' 'MAIL FROM:<"a\"b c"@example.org>' \
  'MAIL FROM:<"a b"@remote.example>' 'RCPT TO:<"x>y"@remote.example>' 'RCPT TO:<"x<y"@remote.example>' \
  'RCPT TO:<"x y"@remote.example>'
grep -q 'MAIL FROM:<"a>b"@example.org> -> 553 5.1.7' "$T_TMP/quoted.out" && pass quoted-sender-553 || fail quoted-sender-553 "$(out quoted)"
grep -q 'MAIL FROM:<"a\\"b c"@example.org> -> 553 5.1.7' "$T_TMP/quoted.out" && pass quoted-escaped-sender-553 || fail quoted-escaped-sender-553 "$(out quoted)"
grep -q 'MAIL FROM:<"a b"@remote.example> -> 250' "$T_TMP/quoted.out" && pass quoted-space-sender-250 || fail quoted-space-sender-250 "$(out quoted)"
grep -q 'RCPT TO:<"x>y"@remote.example> -> 553 5.1.3' "$T_TMP/quoted.out" &&
  grep -q 'RCPT TO:<"x<y"@remote.example> -> 553 5.1.3' "$T_TMP/quoted.out" && pass quoted-rcpt-553 || fail quoted-rcpt-553 "$(out quoted)"
grep -q 'RCPT TO:<"x y"@remote.example> -> 250' "$T_TMP/quoted.out" && pass quoted-space-rcpt-250 || fail quoted-space-rcpt-250 "$(out quoted)"

# ---- AUTH failures: growing delays, counted per address across sessions
lim auth1 auth 127.0.0.4 alice wrong1 alice wrong2
t1=$(at auth1 'AUTH PLAIN AGFsaWNlAHdyb25nMQ== -> 535')
t2=$(at auth1 'AUTH PLAIN AGFsaWNlAHdyb25nMg== -> 535')
if [ -n "$t1" ] && [ -n "$t2" ] && le 1 "$t1" && le "$(awk -v a="$t1" 'BEGIN{print a + 2}')" "$t2"
then pass auth-delay-grows; else fail auth-delay-grows "first at $t1, second at $t2: $(out auth1)"; fi
lim auth2 auth 127.0.0.4 alice wrong3
grep -q '> 535 5.7.8' "$T_TMP/auth2.out" && pass auth-third-failure-535 || fail auth-third-failure-535 "$(out auth2)"
sleep 1
lim auth3 auth 127.0.0.4 alice secret
grep -q 'AUTH PLAIN [^ ]* -> 454 4.7.0 too many authentication failures' "$T_TMP/auth3.out" &&
  pass auth-blocked-454 || fail auth-blocked-454 "$(out auth3)"
lim auth4 auth 127.0.0.5 alice secret
grep -q 'AUTH PLAIN [^ ]* -> 235 2.7.0' "$T_TMP/auth4.out" && pass auth-other-address-235 || fail auth-other-address-235 "$(out auth4)"
# within one session: the limit applies as soon as it is reached
lim auth5 auth 127.0.0.6 alice w1 alice w2 alice w3 alice secret
grep -q 'AUTH PLAIN [^ ]* -> 454 4.7.0' "$T_TMP/auth5.out" && ! grep -q '235' "$T_TMP/auth5.out" &&
  pass auth-blocked-in-session || fail auth-blocked-in-session "$(out auth5)"

# ---- ETRN: one session a minute per client, across sessions; that session
# may name 16 domains (a provider's customer asks for each of its domains)
lim etrn1 etrn 127.0.0.7 remote.example 17
[ "$(grep -c 'ETRN remote.example -> 250 2.0.0' "$T_TMP/etrn1.out")" = 16 ] &&
  [ "$(grep -c 'ETRN remote.example -> 458 4.7.0' "$T_TMP/etrn1.out")" = 1 ] &&
  pass etrn-16-then-458 || fail etrn-16-then-458 "$(out etrn1)"
sleep 1
lim etrn2 etrn 127.0.0.7 remote.example 1
grep -q 'ETRN remote.example -> 458 4.7.0' "$T_TMP/etrn2.out" && pass etrn-next-session-458 || fail etrn-next-session-458 "$(out etrn2)"
lim etrn3 etrn 127.0.0.8 remote.example 1
grep -q 'ETRN remote.example -> 250 2.0.0' "$T_TMP/etrn3.out" && pass etrn-other-client-250 || fail etrn-other-client-250 "$(out etrn3)"

# ---- maxperip counts an IPv6 /64 as one client (root only: addresses on lo)
hup() {
  _c=$(grep -c 'reread the control files' "$I/log/smtpd/current" 2>/dev/null)
  s6-svc -h "$I/service/smtpd"
  t_wait 5 sh -c "[ \$(grep -c 'reread the control files' '$I/log/smtpd/current') -gt $_c ]"
}
if [ -n "$NET6" ]; then
  echo 1 > "$I/control/maxperip"
  check hup-maxperip hup
  LIM_HOST=$NET6::1 lim v6hold hold "$NET6::2" 3 &
  h=$!
  T_PIDS="$T_PIDS $h"
  t_wait 5 grep -q 'EHLO' "$T_TMP/v6hold.out"
  LIM_HOST=$NET6::1 lim v6second cmds "$NET6::3"
  grep -q '^greeting 421 4.7.0 mx.example.com too many connections' "$T_TMP/v6second.out" &&
    pass maxperip-ipv6-64 || fail maxperip-ipv6-64 "$(out v6second)"
  wait "$h"
  grep -q 'QUIT -> 221' "$T_TMP/v6hold.out" && pass maxperip-ipv6-first-served || fail maxperip-ipv6-first-served "$(out v6hold)"
  echo 128 > "$I/control/ipv6prefix"
  check hup-ipv6prefix hup
  LIM_HOST=$NET6::1 lim v6hold2 hold "$NET6::2" 3 &
  h=$!
  T_PIDS="$T_PIDS $h"
  t_wait 5 grep -q 'EHLO' "$T_TMP/v6hold2.out"
  LIM_HOST=$NET6::1 lim v6other cmds "$NET6::3"
  grep -q '^greeting 220 ' "$T_TMP/v6other.out" && pass ipv6prefix-128-per-address || fail ipv6prefix-128-per-address "$(out v6other)"
  wait "$h"
else
  echo "note: not root or no ip(8): the IPv6 /64 count is checked by the unit test t_tcpd only"
fi
t_done
