# hostops.sh -- small things of running imc on a real host:
#   - imc-setup warns when control/me is a name without a dot, and --me HOST
#     sets control/me (and control/sitedomains and the certificate of a new
#     instance) without a warning; a bad --me is a usage error;
#   - imc-ctl reset FILE returns a setting to its default: a running
#     imc-smtpd advertises SIZE from control/databytes (smtplib), then the
#     default after reset, without a restart;
#   - the queue tools' errors name the path they could not read.
. "$(dirname "$0")/../lib.sh"

# ---- the host name
I=$T_TMP/one
mkdir -p "$I/control"
echo vm > "$I/control/me"
imc-setup --user --port "$(t_port)" --no-submission "$I" > "$T_TMP/one.out" 2> "$T_TMP/one.err"
check "imc-setup with a one-label control/me succeeds" test $? = 0
check "... and warns that the name has no dot" grep -q "^imc-setup: warning: control/me is 'vm', a name without a dot" "$T_TMP/one.err"
check "... naming the way out (--me)" grep -q -- '--me HOST' "$T_TMP/one.err"
I=$T_TMP/me
imc-setup --user --me mx.site.test --port "$(t_port)" --no-submission "$I" > "$T_TMP/me.out" 2> "$T_TMP/me.err"
check "imc-setup --me succeeds without a warning" sh -c "[ $? = 0 ] && [ ! -s '$T_TMP/me.err' ]"
check "--me: control/me" grep -qx mx.site.test "$I/control/me"
check "--me: control/sitedomains of a new instance" grep -qx mx.site.test "$I/control/sitedomains"
if command -v openssl > /dev/null; then
  check "--me: the certificate's name" sh -c "openssl x509 -in '$I/control/tls/cert.pem' -noout -subject | grep -q 'CN *= *mx.site.test\$'"
else
  echo "SKIP: the certificate's name (openssl is not installed)"
fi
imc-setup --user --me other.site.test "$I" > /dev/null 2>&1
check "--me again replaces control/me" grep -qx other.site.test "$I/control/me"
check "--me again keeps control/sitedomains" grep -qx mx.site.test "$I/control/sitedomains"
imc-setup --user --me 'bad name' "$I" > /dev/null 2> "$T_TMP/bad.err"
check "--me with a space: usage error (100)" test $? = 100
check "... saying why" grep -q "bad --me" "$T_TMP/bad.err"

# ---- imc-ctl reset, seen by a running imc-smtpd
I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" --me site.test || { fail setup "imc-setup failed"; exit 1; }
imc-ctl compile > /dev/null
imc-ctl set databytes 100000 > /dev/null
t_start "$I" || { fail start "services did not come up"; exit 1; }
t_wait 10 sh -c "ss -Hltn | grep -q ':$T_PORT '"
size() {
  "$PYTHON" - "$T_PORT" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.ehlo("client.test")
print(s.esmtp_features.get("size", "none"))
s.quit()
PY
}
check "imc-smtpd advertises SIZE from control/databytes" test "$(size)" = 100000
imc-ctl reset databytes > "$T_TMP/reset.out" 2>&1
check "imc-ctl reset exits 0" test $? = 0
check "imc-ctl reset removed control/databytes" test ! -e "$I/control/databytes"
check "imc-ctl reset shows the default now in effect" grep -qx 'databytes 26214400 (default)' "$T_TMP/reset.out"
check "the next session advertises the default SIZE, without a restart" test "$(size)" = 26214400
imc-ctl reset databytes > "$T_TMP/reset2.out" 2>&1
check "reset of a file that is not there: exit 0, said so" sh -c "[ $? = 0 ] && grep -q 'was not there' '$T_TMP/reset2.out'"
imc-ctl reset frobnicate > /dev/null 2> "$T_TMP/reset3.err"
check "reset of an unknown file: exit 100, named" sh -c "[ $? = 100 ] && grep -q 'unknown control file: frobnicate' '$T_TMP/reset3.err'"
imc-ctl reset ../env/IMC_HOME > /dev/null 2>&1
check "reset of a path outside control/ is refused, nothing removed" sh -c "[ $? = 100 ] && [ -e '$I/env/IMC_HOME' ]"

# ---- the queue tools name the path they could not read
for t in imc-qstat imc-qread; do
  IMC_HOME=$T_TMP/nothere $t > /dev/null 2> "$T_TMP/$t.err"
  check "$t on a missing instance: exit 111, naming its queue directory" \
    sh -c "[ $? = 111 ] && grep -q 'fatal: unable to read $T_TMP/nothere/queue: ' '$T_TMP/$t.err'"
done
IMC_HOME=$T_TMP/nothere imc-qctl retry all > /dev/null 2> "$T_TMP/qctl.err"
check "imc-qctl on a missing instance names the path" grep -q "$T_TMP/nothere/queue" "$T_TMP/qctl.err"
if [ "$(id -u)" = 0 ]; then
  chmod 0711 "$T_TMP"
  echo 10 > "$I/control/maxrcpt" && chmod 0600 "$I/control/maxrcpt"
  setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups sh -c "IMC_HOME='$I' imc-qread" > /dev/null 2> "$T_TMP/unread.err"
  check "a control file the tool cannot read is named with its path" grep -q "fatal: unable to read $I/control/maxrcpt: Permission denied" "$T_TMP/unread.err"
  rm -f "$I/control/maxrcpt"
else
  echo "SKIP: an unreadable control file (needs root to run as another user)"
fi

t_done
