# loglevel.sh -- control/loglevel: the same SMTP session (one message to a
# local mailbox, one relayed through a control/routes host to a sink) runs
# under each setting, and the lines each program writes to log/smtpd and
# log/send are counted.  Every category at none, minimum, medium and
# maximum; then one category at maximum with the others at none; then a
# mix.  The counts must be exactly what the code logs at each level (below,
# per program and category), so a level adds what it should and nothing
# else, and a category never changes another's count.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

SP=$(t_port)
start_sink out "$(hip 9):$SP" || exit 1
PROGS="imc-tcpd imc-smtpd imc-local imc-remote imc-send"
CATS="init addressing transfer smtp internal protocol archival"

# The lines the session costs, by program, category and level (minimum,
# medium, maximum; none is 0 everywhere).  Protocol counts are the SMTP
# transcript: inbound, the lines the client sent and read (counted by the
# client, in $W/proto.in); outbound, imc-remote's session with the sink:
# greeting, EHLO and its 3 reply lines, MAIL, RCPT, DATA, their 3 replies,
# the final 250, QUIT and 221 = 14.
expect() {  # expect PROG CAT LEVEL
  case "$1 $2 $3" in
    "imc-tcpd init "*) echo 2 ;;                      # listening on 127.0.0.1; stopped listening
    "imc-smtpd smtp minimum") echo 1 ;;               # the session's summary
    "imc-smtpd smtp "*) echo 3 ;;                     # and one line per message
    "imc-tcpd smtp minimum") echo 0 ;;
    "imc-tcpd smtp "*) echo 1 ;;                      # the connection
    "imc-local transfer medium") echo 1 ;;            # delivered <bob@site.test>
    "imc-local transfer maximum") echo 2 ;;           # and the job
    "imc-remote transfer medium") echo 2 ;;           # connected, delivered
    "imc-remote transfer maximum") echo 3 ;;          # and the address found
    "imc-smtpd protocol maximum") cat "$W/proto.in" ;;
    "imc-remote protocol maximum") echo 14 ;;
    "imc-send init "*) echo 2 ;;                      # started; stopped
    "imc-send transfer "*) echo 2 ;;                  # a result per delivery: delivered, delivered
    "imc-send addressing medium") echo 2 ;;           # each message: from <a@client.test> to 1 recipients
    "imc-send addressing maximum") echo 4 ;;          # and where each recipient goes
    *) echo 0 ;;
  esac
}

# one client session: EHLO, two messages, QUIT; the transcript lines it
# sent and read (message text excluded) go to $W/proto.in
session() {
  "$PYTHON" - "$1" "$W/proto.in" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
f = s.makefile("rb")
n = 0
def reply():
    global n
    while True:
        l = f.readline().decode()
        n += 1
        if l[3:4] != "-":
            return int(l[:3])
def cmd(c, want):
    global n
    s.sendall(c.encode() + b"\r\n")
    n += 1
    code = reply()
    assert code == want, (c, code)
assert reply() == 220
cmd("EHLO client.test", 250)
for rcpt in ("bob@site.test", "x@other.test"):
    cmd("MAIL FROM:<a@client.test>", 250)
    cmd("RCPT TO:<%s>" % rcpt, 250)
    cmd("DATA", 354)
    s.sendall(b"Subject: loglevel\r\n\r\none line\r\n.\r\n")
    assert reply() == 250
cmd("QUIT", 221)
open(sys.argv[2], "w").write("%d\n" % n)
PY
}

# stop_instance DIR: s6-svscan and the loggers gone, so the logs are complete
# (t_stop's `sh -c pgrep` matches itself and always waits its full 10 s)
gone() { ! pgrep -f "$1" > /dev/null; }
stop_instance() {
  s6-svscanctl -t "$1/service" 2>/dev/null
  t_wait 10 gone "s6-svscan $1/service" && t_wait 10 gone "s6-log .*$1/log/"
}

RUN=0
# run NAME LOGLEVEL-LINES...: a fresh instance with that control/loglevel, the
# session, deliveries done, services stopped; counts in $W/NAME.count
run() {
  _n=$1; shift
  RUN=$((RUN + 1))
  I=$T_TMP/i$RUN
  t_instance "$I" --listen 127.0.0.1 || { fail "$_n: setup" "imc-setup failed"; return 1; }
  echo site.test > "$I/control/me"
  echo site.test > "$I/control/sitedomains"
  echo 'mailbox bob "Bob"' > "$I/control/directory"
  echo "other.test [$(hip 9)]:$SP" > "$I/control/routes"
  echo 0 > "$I/control/connectioncache"    # exact line counts: no kept connection (RSET, then a later QUIT)
  printf '%s\n' "$@" > "$I/control/loglevel"
  IMC_HOME=$I imc-ctl compile > /dev/null
  _before=$(delivered out)
  t_start "$I" || { fail "$_n: start" "services did not come up"; return 1; }
  t_wait 10 sh -c "ss -Hltn | grep -q '127.0.0.1:$T_PORT '" || { fail "$_n: start" "no listener"; return 1; }
  session "$T_PORT" || { fail "$_n: session" "the SMTP session failed"; return 1; }
  t_wait 20 t_count_is "$I/mail/bob" 1 && t_wait 20 delivered_is out $((_before + 1)) && t_wait 10 t_queue_empty "$I" ||
    { fail "$_n: deliveries" "not done: $(tail -3 "$I/log/send/current")"; return 1; }
  stop_instance "$I" || { fail "$_n: stop" "the services did not stop"; return 1; }
  for p in $PROGS; do
    echo "$p $(cat "$I"/log/smtpd/current "$I"/log/send/current | grep -c " $p: ")"
  done > "$W/$_n.count"
  cp "$I/log/smtpd/current" "$W/$_n.smtpd.log"; cp "$I/log/send/current" "$W/$_n.send.log"
}

# level CAT LOGLEVEL-LINES...: the level of CAT under those lines
level() {
  _c=$1; _l=minimum; shift
  for _line in "$@"; do
    set -f; set -- $_line; set +f
    if [ $# = 1 ]; then _l=$1; elif [ "$1" = "*" ] || [ "$1" = "$_c" ]; then _l=$2; fi
  done
  echo "$_l"
}

# verify NAME LOGLEVEL-LINES...: each program's count is the sum over the categories
verify() {
  _n=$1; shift
  [ -s "$W/$_n.count" ] || return
  for p in $PROGS; do
    _want=0
    for c in $CATS; do
      _l=$(level "$c" "$@")
      [ "$_l" = none ] || _want=$((_want + $(expect "$p" "$c" "$_l")))
    done
    _got=$(awk -v p="$p" '$1 == p { print $2 }' "$W/$_n.count")
    if [ "$_got" = "$_want" ]; then pass "$_n: $p wrote $_want lines"
    else fail "$_n: $p" "wrote $_got lines, expected $_want: $(grep " $p: " "$W/$_n.smtpd.log" "$W/$_n.send.log" | head -40 | cut -d' ' -f2- | tr '\n' '|')"; fi
  done
}

total() { awk '{ t += $2 } END { print t + 0 }' "$W/$1.count"; }

for l in none minimum medium maximum; do
  run "all-$l" "$l" && verify "all-$l" "$l"
done
check "none < minimum < medium < maximum" \
  test "$(total all-none)" -lt "$(total all-minimum)" -a "$(total all-minimum)" -lt "$(total all-medium)" \
  -a "$(total all-medium)" -lt "$(total all-maximum)"
check "nothing at all at none" test "$(total all-none)" = 0

for c in $CATS; do
  run "only-$c" "* none" "$c maximum" && verify "only-$c" "* none" "$c maximum"
done
run mixed "smtp medium" "transfer minimum" "protocol maximum" "init none" &&
  verify mixed "smtp medium" "transfer minimum" "protocol maximum" "init none"
check "imc-send writes nothing at loglevel none" test "$(awk '$1 == "imc-send" { print $2 }' "$W/all-none.count")" = 0
t_done
