# docmodes.sh -- the documents agree with what imc-setup does.  Root only
# (system users, setuid programs): as another user one SKIP line.
#   - INSTALL's first-time steps (the commands of its section "Create the
#     instance", in their order) run on a fresh system instance: imc-setup and compile warn about
#     nothing, check says "control: ok" with the one warning INSTALL
#     announces (the self-signed certificate); after the commands of "The
#     TLS certificate"
#     (a certificate from a CA, made here by openssl) check warns about
#     nothing at all;
#   - every directory, file and program of that instance and its BIN against
#     the table of owners and modes in docs/SECURITY.md section 2.4
#     (tests/tools/docmodes.py: the first row that matches; a row that
#     matches nothing fails too), with control/auth and a route's password
#     file added as INSTALL's "Security" says (then imc-setup again);
#   - every "USER:GROUP MODE" that INSTALL, docs/*.md, README.md, the manual
#     pages and bin/imc-setup state is a row of that table.
. "$(dirname "$0")/../lib.sh"
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: docmodes: needs root (system-mode users, setuid programs)"
  exit 0
fi
command -v openssl > /dev/null || { echo "SKIP: docmodes: openssl is not installed"; exit 0; }
DM="$PYTHON $TOP/tests/tools/docmodes.py"
SEC=$TOP/docs/SECURITY.md
B=$T_TMP/bin
t_system_bin "$B" || exit 1
S=$T_TMP/var-imc
LE=$T_TMP/le

# steps TITLE: the indented command lines of the INSTALL section whose
# heading ("N. TITLE") is TITLE, with its paths made this test's
# (PREFIX/bin, /var/imc, the ACME client's directory)
steps() {
  awk -v t="$1" '/^[0-9]+\. / { h = $0; sub(/^[0-9]+\. /, "", h); on = (h == t) } on && /^    [^ ]/' "$TOP/INSTALL" |
    sed -e 's/^    //' -e "s|PREFIX/bin/|$B/|g" -e "s|/var/imc|$S|g" \
        -e "s|/etc/letsencrypt/live/mx.example.com|$LE|g" -e "s|^\(IMC_HOME=[^ ]*\) imc-ctl|\1 $B/imc-ctl|"
}
steps 'Create the instance' > "$T_TMP/steps4"
check "INSTALL's \"Create the instance\" has imc-setup, compile and check, in that order" \
  test "$(grep -o 'imc-setup\|imc-ctl [a-z]*' "$T_TMP/steps4" | tr '\n' ' ')" = "imc-setup imc-ctl compile imc-ctl check "
sed 's/^/  step: /' "$T_TMP/steps4"
n=0
while read -r cmd; do
  n=$((n + 1))
  (cd "$T_TMP" && sh -c "$cmd") > "$T_TMP/step$n.out" 2> "$T_TMP/step$n.err"
  echo "$?" > "$T_TMP/step$n.rc"
done < "$T_TMP/steps4"
check "first-time steps: imc-setup succeeds without a warning" sh -c "[ \$(cat '$T_TMP/step1.rc') = 0 ] && [ ! -s '$T_TMP/step1.err' ]"
check "first-time steps: compile succeeds without a warning" sh -c "[ \$(cat '$T_TMP/step2.rc') = 0 ] && [ ! -s '$T_TMP/step2.err' ]"
check "first-time steps: check says control: ok" grep -qx 'control: ok' "$T_TMP/step3.out"
check "first-time steps: check's one warning is the self-signed certificate INSTALL announces" \
  sh -c "[ \"\$(wc -l < '$T_TMP/step3.err')\" = 1 ] && grep -q 'cert.pem is self-signed' '$T_TMP/step3.err'"
check "INSTALL announces that warning" grep -q 'with one warning,' "$TOP/INSTALL"
cat "$T_TMP"/step*.err | sed 's/^/  stderr: /'
check "control/me is the --me of INSTALL's imc-setup line" grep -qx 'mx.example.com' "$S/control/me"

# "The TLS certificate": a certificate from a CA for control/me, installed with INSTALL's commands
mkdir -p "$LE"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=docmodes CA" -keyout "$T_TMP/ca.key" -out "$T_TMP/ca.pem" > "$T_TMP/ossl.log" 2>&1 &&
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=mx.example.com" \
  -keyout "$LE/privkey.pem" -out "$T_TMP/r.csr" >> "$T_TMP/ossl.log" 2>&1 &&
printf 'subjectAltName=DNS:mx.example.com\n' > "$T_TMP/ext" &&
openssl x509 -req -in "$T_TMP/r.csr" -CA "$T_TMP/ca.pem" -CAkey "$T_TMP/ca.key" -CAcreateserial -days 200 \
  -extfile "$T_TMP/ext" -out "$LE/cert.pem" >> "$T_TMP/ossl.log" 2>&1 &&
cat "$LE/cert.pem" "$T_TMP/ca.pem" > "$LE/fullchain.pem" || fail setup "openssl: $(tail -3 "$T_TMP/ossl.log")"
steps 'The TLS certificate' > "$T_TMP/steps8"
check "INSTALL's \"The TLS certificate\" has commands" test -s "$T_TMP/steps8"
sed 's/^/  step: /' "$T_TMP/steps8"
(cd "$T_TMP" && sh -e "$T_TMP/steps8") > "$T_TMP/s8.out" 2>&1     # from T_TMP: a step that misses its cd writes nothing elsewhere
check "its commands run, as one script" test $? = 0
check "they installed the CA's certificate" sh -c "openssl x509 -in '$S/control/tls/cert.pem' -noout -issuer | grep -q 'docmodes CA'"
IMC_HOME=$S "$B/imc-ctl" check > "$T_TMP/c8.out" 2> "$T_TMP/c8.err"
check "after them, check warns about nothing" sh -c "grep -qx 'control: ok' '$T_TMP/c8.out' && [ ! -s '$T_TMP/c8.err' ]"

# the secrets INSTALL's "Security" names, then imc-setup again (as it says)
printf 'u:$6$x$y\n' > "$S/control/auth"
printf 'relay.test [192.0.2.1] auth=u:PASSFILE\n' > "$S/control/routes"
printf 'secret\n' > "$S/control/PASSFILE"
chmod 0644 "$S/control/auth" "$S/control/routes" "$S/control/PASSFILE"
sh -c "$(head -1 "$T_TMP/steps4")" > "$T_TMP/again.out" 2>&1 || fail setup "imc-setup again: $(cat "$T_TMP/again.out")"

# every path against the table
$DM compare "$SEC" "$S" "$B" > "$T_TMP/compare.out" 2>&1
cat "$T_TMP/compare.out"
check "the table was compared with the instance" grep -q '^compared [0-9]* paths' "$T_TMP/compare.out"
check "the setuid programs are in the comparison" sh -c "grep -q '^PASS: BIN/imc-queue' '$T_TMP/compare.out' && grep -q '^PASS: BIN/imc-convert' '$T_TMP/compare.out'"
T_FAILS=$((T_FAILS + $(grep -c '^FAIL' "$T_TMP/compare.out")))

# what the documents state against the table
$DM stated "$SEC" "$TOP/INSTALL" "$TOP/README.md" "$TOP"/docs/*.md "$TOP"/man/* "$TOP/bin/imc-setup" > "$T_TMP/stated.out" 2>&1
sed "s|$TOP/||g" "$T_TMP/stated.out"
check "the statements of owners and modes were read" grep -q '^PASS: .*SECURITY.md: [1-9][0-9]* owner and mode statements' "$T_TMP/stated.out"
T_FAILS=$((T_FAILS + $(grep -c '^FAIL' "$T_TMP/stated.out")))

t_done
