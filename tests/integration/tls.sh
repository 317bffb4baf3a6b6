# tls.sh -- lib/tls.c against OpenSSL and Python's ssl, with throwaway
# certificates made here: an RSA 2048 self-signed one, an EC P-256 one
# (traditional key file with an EC PARAMETERS block), and a chain (an RSA
# CA signing an EC server certificate; cert.pem holds server + CA).
#   server side: build/tests/t_tls as a TLS server, driven by
#     `openssl s_client -tls1_2` (RSA, EC, chain verified with -CAfile and
#     -verify_hostname), by `openssl s_client -starttls smtp`, and by a
#     Python client that pipelines plaintext after STARTTLS (it must be
#     discarded: CVE-2011-0411);
#   client side: t_tls as a client against `openssl s_server -tls1_2 -rev`:
#     opportunistic, verified (right name, wrong name: -2), and the system
#     bundle against a self-signed certificate (-2).
. "$(dirname "$0")/../lib.sh"

T=$TOP/build/tests/t_tls
[ -x "$T" ] || make -C "$TOP" build/tests/t_tls > "$T_TMP/make.out" 2>&1 || { fail build "no $T"; exit 1; }
C=$T_TMP/certs
mkdir -p "$C"

# ---- certificates
mk() { openssl "$@" >> "$T_TMP/openssl.out" 2>&1; }
mk req -x509 -newkey rsa:2048 -nodes -keyout "$C/rsa.key" -out "$C/rsa.pem" -days 2 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost -addext basicConstraints=critical,CA:FALSE
mk ecparam -name prime256v1 -genkey -out "$C/ec.key"
mk req -x509 -key "$C/ec.key" -out "$C/ec.pem" -days 2 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost -addext basicConstraints=critical,CA:FALSE
mk req -x509 -newkey rsa:2048 -nodes -keyout "$C/ca.key" -out "$C/ca.pem" -days 2 -subj "/CN=imc test CA"
mk req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/srv.key" -out "$C/srv.csr" -subj /CN=localhost
printf 'subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$C/srv.ext"
mk x509 -req -in "$C/srv.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial -out "$C/srv.pem" -days 2 -extfile "$C/srv.ext"
cat "$C/srv.pem" "$C/ca.pem" > "$C/cert.pem"
check "certificates made" test -s "$C/rsa.pem" -a -s "$C/ec.pem" -a -s "$C/cert.pem" -a -s "$C/srv.key"
check "the EC key is traditional, with EC PARAMETERS" grep -q 'BEGIN EC PARAMETERS' "$C/ec.key"

# ---- helpers
# a free TCP port in 20000-29999, random per run
pick_port() {
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    _p=$(( 20000 + ( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') + $$ ) % 10000 ))
    ss -Htan "( sport = :$_p or dport = :$_p )" 2>/dev/null | grep -q . || { echo "$_p"; return 0; }
  done
  return 1
}
# stop_pid PID: a process this script started
stop_pid() {
  kill "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  T_PIDS=$(echo " $T_PIDS " | sed "s/ $1 / /")
}
# start_tserver NAME CERT KEY [starttls]: t_tls as a server; sets PORT and SPID
start_tserver() {
  _n=$1; shift
  PORT=$(pick_port) || return 1
  "$T" server "$PORT" "$@" > "$T_TMP/$_n.server" 2>&1 &
  SPID=$!
  T_PIDS="$T_PIDS $SPID"
  t_wait 10 grep -q '^ready' "$T_TMP/$_n.server"
}
# s_client NAME [options]: one session with HELLO, CIPHER, QUIT; output in $T_TMP/NAME.client
s_client() {
  _n=$1; shift
  printf 'HELLO\nCIPHER\nQUIT\n' | timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 \
    -crlf -ign_eof "$@" > "$T_TMP/$_n.client" 2>&1
}
# the suite s_client negotiated and the one tls_cipher() named must agree
same_cipher() {
  _a=$(sed -n 's/.*Cipher is \([^ ]*\).*/\1/p' "$T_TMP/$1.client" | head -1)
  _b=$(sed -n 's/^250 \([^ ]*\) TLSv1\.2.*/\1/p' "$T_TMP/$1.client" | head -1)
  [ -n "$_a" ] && [ "$_a" != "(NONE)" ] && [ "$_a" = "$_b" ]
}

# ---- (1) t_tls as the server
for kind in rsa ec chain; do
  case $kind in
    rsa) cert=$C/rsa.pem key=$C/rsa.key ca=$C/rsa.pem ;;
    ec) cert=$C/ec.pem key=$C/ec.key ca=$C/ec.pem ;;
    chain) cert=$C/cert.pem key=$C/srv.key ca=$C/ca.pem ;;
  esac
  if ! start_tserver "$kind" "$cert" "$key"; then fail "server $kind: start" "$(cat "$T_TMP/$kind.server")"; continue; fi
  s_client "$kind" -CAfile "$ca" -verify_hostname localhost
  check "server $kind: s_client exchanged a line" grep -q '^250 echo: HELLO' "$T_TMP/$kind.client"
  check "server $kind: QUIT answered" grep -q '^221 bye' "$T_TMP/$kind.client"
  check "server $kind: TLSv1.2" grep -q 'Protocol *: TLSv1.2' "$T_TMP/$kind.client"
  check "server $kind: cipher named alike by OpenSSL and tls_cipher" same_cipher "$kind"
  check "server $kind: Verify return code: 0" grep -q 'Verify return code: 0 (ok)' "$T_TMP/$kind.client"
  check "server $kind: server logged the session" grep -q '^server: tls ok TLSv1.2 ' "$T_TMP/$kind.server"
  case $kind in
    rsa) check "server rsa: an ECDHE-RSA suite" grep -q 'Cipher is ECDHE-RSA-' "$T_TMP/$kind.client"
         # other suites the client may insist on, each named as OpenSSL names it
         for suite in ECDHE-RSA-AES256-GCM-SHA384 ECDHE-RSA-AES128-SHA256 AES128-GCM-SHA256; do
           s_client "rsa-$suite" -cipher "$suite"
           check "server rsa: $suite negotiated and named" sh -c \
             "grep -q 'Cipher is $suite' '$T_TMP/rsa-$suite.client' && grep -q '^250 $suite TLSv1.2' '$T_TMP/rsa-$suite.client'"
         done ;;
    *) check "server $kind: an ECDHE-ECDSA suite" grep -q 'Cipher is ECDHE-ECDSA-' "$T_TMP/$kind.client"
       s_client "$kind-gcm" -cipher ECDHE-ECDSA-AES128-GCM-SHA256
       check "server $kind: ECDHE-ECDSA-AES128-GCM-SHA256 negotiated and named" \
         grep -q '^250 ECDHE-ECDSA-AES128-GCM-SHA256 TLSv1.2' "$T_TMP/$kind-gcm.client" ;;
  esac
  stop_pid "$SPID"
done

# an unverifiable chain for s_client: the wrong CA file
if start_tserver wrongca "$C/cert.pem" "$C/srv.key"; then
  s_client wrongca -CAfile "$C/rsa.pem" -verify_hostname localhost
  check "server chain: s_client with the wrong CA does not verify" sh -c "! grep -q 'Verify return code: 0 (ok)' '$T_TMP/wrongca.client'"
  stop_pid "$SPID"
else fail "server wrongca: start" "$(cat "$T_TMP/wrongca.server")"; fi

# STARTTLS: s_client -starttls smtp, then a client that pipelines plaintext after STARTTLS
if start_tserver starttls "$C/cert.pem" "$C/srv.key" starttls; then
  s_client starttls -starttls smtp -CAfile "$C/ca.pem" -verify_hostname localhost
  check "starttls: s_client -starttls smtp exchanged a line" grep -q '^250 echo: HELLO' "$T_TMP/starttls.client"
  check "starttls: verified" grep -q 'Verify return code: 0 (ok)' "$T_TMP/starttls.client"
  check "starttls: cipher named alike" same_cipher starttls
  "$PYTHON" - "$PORT" > "$T_TMP/inject.out" 2>&1 <<'EOF'
import socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb", buffering=0)
def line():
    b = b""
    while not b.endswith(b"\n"):
        c = f.read(1)
        if not c:
            break
        b += c
    return b.decode().rstrip("\r\n")
print("plain:", line())
s.sendall(b"EHLO py\r\n")
print("plain:", line(), line())
s.sendall(b"STARTTLS\r\nRCPT TO:<injected@example>\r\n")   # one segment: the server buffers both
print("plain:", line())
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
t = ctx.wrap_socket(s, server_hostname="localhost")
t.sendall(b"NOOP\r\nPENDING\r\nQUIT\r\n")
data = b""
while True:
    try:
        d = t.recv(4096)
    except (ssl.SSLError, OSError) as e:
        print("error:", e)
        break
    if not d:
        break
    data += d
for l in data.decode().split("\r\n"):
    if l:
        print("tls:", l)
EOF
  check "starttls: injected plaintext is not read after TLS" sh -c "! grep -q 'tls:.*injected' '$T_TMP/inject.out'"
  check "starttls: the first TLS line is the client's" sh -c "grep '^tls:' '$T_TMP/inject.out' | head -1 | grep -qx 'tls: 250 echo: NOOP'"
  check "starttls: the server saw 28 pipelined bytes and dropped them" grep -q '^tls: 250 pending 28$' "$T_TMP/inject.out"
  check "starttls: QUIT answered over TLS" grep -q '^tls: 221 bye$' "$T_TMP/inject.out"
  stop_pid "$SPID"
else fail "starttls: start" "$(cat "$T_TMP/starttls.server")"; fi

# ---- (2) t_tls as the client against openssl s_server -rev (echoes each line reversed)
# start_sserver NAME CERT KEY: sets PORT and SPID
start_sserver() {
  _n=$1
  PORT=$(pick_port) || return 1
  openssl s_server -accept "127.0.0.1:$PORT" -cert "$2" -key "$3" -tls1_2 -rev < /dev/null > "$T_TMP/$_n.sserver" 2>&1 &
  SPID=$!
  T_PIDS="$T_PIDS $SPID"
  t_wait 10 grep -q '^ACCEPT' "$T_TMP/$_n.sserver"
}
# tclient NAME HOST VERIFY [ANCHORS]: exit code in RC, output in $T_TMP/NAME.tclient
tclient() {
  _n=$1; shift
  timeout 30 "$T" client "$PORT" "$@" > "$T_TMP/$_n.tclient" 2>&1
  RC=$?
}

if start_sserver self "$C/rsa.pem" "$C/rsa.key"; then
  tclient opp localhost 0
  check "client: opportunistic TLS with a self-signed certificate" test "$RC" = 0
  check "client: line reversed by s_server" grep -q '^client: got 1 slt_t morf olleh$' "$T_TMP/opp.tclient"
  check "client: an ECDHE-RSA suite" grep -q '^client: tls ok TLSv1.2 ECDHE-RSA-' "$T_TMP/opp.tclient"
  tclient sys localhost 1 /etc/ssl/certs/ca-certificates.crt
  check "client: system bundle refuses a self-signed certificate (-2)" test "$RC" = 2
  check "client: says it is not trusted" grep -q '^client: refused: certificate not trusted' "$T_TMP/sys.tclient"
  tclient selfanchor localhost 1 "$C/rsa.pem"
  check "client: the self-signed certificate as its own anchor verifies" test "$RC" = 0
  stop_pid "$SPID"
else fail "s_server self: start" "$(cat "$T_TMP/self.sserver")"; fi

if start_sserver chain "$C/cert.pem" "$C/srv.key"; then
  tclient good localhost 1 "$C/ca.pem"
  check "client: chain verified against ca.pem, host name matches" test "$RC" = 0
  check "client: verified session exchanged a line" grep -q '^client: got 1 slt_t morf olleh$' "$T_TMP/good.tclient"
  check "client: an ECDHE-ECDSA suite" grep -q '^client: tls ok TLSv1.2 ECDHE-ECDSA-' "$T_TMP/good.tclient"
  tclient badname wrong.example 1 "$C/ca.pem"
  check "client: host name mismatch refused (-2)" test "$RC" = 2
  check "client: says the name is wrong" grep -q '^client: refused: server name mismatch' "$T_TMP/badname.tclient"
  tclient wrongca localhost 1 "$C/rsa.pem"
  check "client: chain against the wrong anchor refused (-2)" test "$RC" = 2
  tclient chainopp mx.other.example 0
  check "client: opportunistic ignores the name" test "$RC" = 0
  stop_pid "$SPID"
else fail "s_server chain: start" "$(cat "$T_TMP/chain.sserver")"; fi

t_done
