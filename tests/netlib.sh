# netlib.sh -- network peers for the integration tests (sourced after lib.sh):
# a random 127.A.B.0/24 for this run (NET, hip N), Python SMTP sinks
# (tests/tools/sink.py) and a dnsmasq, each started in the background,
# recorded in T_PIDS and stopped by pid.  Sinks write what they accept to
# W/NAME.md/ and count connections in W/NAME.count.

W=${W:-$T_TMP/w}
mkdir -p "$W"
SINK=$TOP/tests/tools/sink.py
_r=$(( ($$ * 7919 + $(date +%s) + $(od -An -N2 -tu2 /dev/urandom)) % 50000 ))
NET=127.$((_r % 200 + 20)).$((_r / 200 % 250 + 1))
hip() { echo "$NET.$1"; }       # not ip: that is iproute2
DEAD=$(hip 2)                        # nothing listens there: connection refused
in_use() { ss -Htln 2>/dev/null | awk '{print $4}' | grep -q -e "^$1\$"; }

# start_sink NAME ADDR:PORT [sink options]
start_sink() {
  _n=$1 _l=$2; shift 2
  if in_use "$_l"; then fail "sink $_n" "$_l is in use"; return 1; fi
  rm -rf "$W/$_n.md" "$W/$_n.ready" "$W/$_n.count" "$W/$_n.log"
  mkdir -p "$W/$_n.md"
  "$PYTHON" "$SINK" --listen "$_l" --maildir "$W/$_n.md" --count-file "$W/$_n.count" \
    --log "$W/$_n.log" --ready-file "$W/$_n.ready" "$@" 2> "$W/$_n.err" &
  eval "PID_$_n=$!"
  T_PIDS="$T_PIDS $!"
  t_wait 10 test -e "$W/$_n.ready" || { fail "sink $_n" "did not start: $(cat "$W/$_n.err")"; return 1; }
}
stop_sink() {
  eval "_p=\${PID_$1:-}"
  case "$_p" in ''|*[!0-9]*) return ;; esac
  kill "$_p" 2>/dev/null
  wait "$_p" 2>/dev/null
  eval "PID_$1="
}
delivered() { find "$W/$1.md" -type f -name 'msg*' 2>/dev/null | wc -l | tr -d ' '; }
delivered_is() { [ "$(delivered "$1")" = "$2" ]; }
conns() { cat "$W/$1.count" 2>/dev/null || echo 0; }

# start_dns: dnsmasq on NET.53 with the lines of W/dns.conf.extra (local=/test/);
# sets DNSCACHEIP
start_dns() {
  { printf 'keep-in-foreground\nport=53\nlisten-address=%s\nbind-interfaces\nno-resolv\nno-hosts\nlocal=/test/\n' "$(hip 53)"
    cat "$W/dns.conf.extra"; } > "$W/dns.conf"
  dnsmasq -C "$W/dns.conf" --pid-file= --log-facility="$W/dns.log" 2> "$W/dns.err" &
  T_PIDS="$T_PIDS $!"
  DNSCACHEIP=$(hip 53); export DNSCACHEIP
  t_wait 10 sh -c "ss -Hlun | grep -q '$(hip 53):53'" || { fail dns "dnsmasq did not start: $(cat "$W/dns.err")"; return 1; }
}

# bounce_check MAILDIR-FILE PYTHON-ASSERTIONS: parse a DSN with Python's email package;
# the assertions see `m` (the message) and `rcpts` (the per-recipient blocks)
dsn_check() {
  "$PYTHON" - "$1" "$2" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
assert m.get_content_type() == "multipart/report", m.get_content_type()
parts = m.get_payload()
ds = [p for p in parts if p.get_content_type() == "message/delivery-status"][0]
rcpts = ds.get_payload()[1:]
exec(sys.argv[2])
PY
}
