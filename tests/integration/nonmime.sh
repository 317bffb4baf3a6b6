# nonmime.sh -- control/domains' nonmimecharset for inbound mail: 8-bit
# text without MIME headers, sent over SMTP by Python's smtplib (BODY=8BITMIME),
# reaches the Maildir labelled text/plain with the charset of the
# recipient's domain line, its bytes unchanged (Python's email package
# decodes the text):
#   example.com nonmimecharset=iso-8859-1: Latin-1 bytes labelled iso-8859-1;
#   example.org nonmimecharset=koi8-r: KOI8-R bytes labelled koi8-r;
#   valid UTF-8 is labelled utf-8 whatever the line says;
#   example.net falls under `*` (us-ascii): no label, as before;
#   a message with MIME headers, and a DKIM-signed one (signed=keep), are
#   delivered as they came.
. "$(dirname "$0")/../lib.sh"

I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo mx.example.com > "$I/control/me"
printf 'example.com\nexample.org\nexample.net\n' > "$I/control/sitedomains"
printf 'mailbox alice "Alice"\nmailbox bob "Bob"\nmailbox carol "Carol"\n' > "$I/control/directory"
imc-ctl compile > /dev/null || fail compile "imc-ctl compile"
cat > "$I/control/domains" <<'EOF'
example.com nonmimecharset=iso-8859-1
example.org nonmimecharset=koi8-r
EOF
imc-ctl check > "$T_TMP/check.out" 2>&1 && pass ctl-check || fail ctl-check "$(cat "$T_TMP/check.out")"
t_start "$I" || { fail start "services did not come up"; exit 1; }
M=$I/mail

# send SUBJECT RCPT CHARSET TEXT [EXTRA-FIELDS]: TEXT encoded in CHARSET, no MIME
# headers but the extra fields given ('|' between two)
send() {
  "$PYTHON" - "$T_PORT" "$@" <<'PY'
import smtplib, sys
port, subject, rcpt, cs, text = sys.argv[1:6]
extra = sys.argv[6].replace("|", "\r\n") + "\r\n" if len(sys.argv) > 6 else ""
msg = ("From: sender@outside.example\r\nTo: %s\r\nSubject: %s\r\n%s\r\n" % (rcpt, subject, extra)).encode()
msg += text.encode(cs) + b"\r\n"
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
s.ehlo("outside.example")
s.sendmail("sender@outside.example", [rcpt], msg, mail_options=["BODY=8BITMIME"])
s.quit()
PY
}
# delivered MAILBOX SUBJECT: the file
delivered() { grep -l "^Subject: $2\$" "$M/$1"/new/* 2>/dev/null | head -1; }
# label_is MAILBOX SUBJECT CHARSET TEXT: Python reads CHARSET from the copy and decodes TEXT
label_is() {
  _f=$(delivered "$1" "$2")
  [ -n "$_f" ] && "$PYTHON" - "$_f" "$3" "$4" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
assert m.get_content_type() == "text/plain", m.get_content_type()
assert m.get_content_charset() == sys.argv[2], m.get_content_charset()
assert m["MIME-Version"] == "1.0", m["MIME-Version"]
assert m["Content-Transfer-Encoding"] == "8bit", m["Content-Transfer-Encoding"]
body = m.get_payload(decode=True).decode(m.get_content_charset())
assert sys.argv[3] in body, body
PY
}

send latin alice@example.com iso-8859-1 'Grüße aus Köln, das Café'
send koi alice@example.org koi8-r 'Привет, мир'
send utf bob@example.com utf-8 'Grüße in UTF-8'
send plain carol@example.net iso-8859-1 'Grüße, no label here'
send mime alice@example.com iso-8859-1 'Grüße with its own label' \
  'MIME-Version: 1.0|Content-Type: text/plain; charset=windows-1252|Content-Transfer-Encoding: 8bit'
send signed bob@example.com iso-8859-1 'Grüße, signed' \
  'DKIM-Signature: v=1; a=rsa-sha256; d=outside.example; s=sel; h=from:subject; bh=x; b=y'
check "all six delivered" t_wait 20 sh -c "[ \$(find '$M/alice/new' '$M/bob/new' '$M/carol/new' -type f | wc -l) = 6 ]"

check "example.com: labelled iso-8859-1" label_is alice latin iso-8859-1 'Grüße aus Köln, das Café'
check "example.org: labelled koi8-r" label_is alice koi koi8-r 'Привет, мир'
check "valid UTF-8: labelled utf-8" label_is bob utf utf-8 'Grüße in UTF-8'
check "the Latin-1 bytes unchanged" grep -q "$(printf 'Gr\374\337e aus K\366ln')" "$(delivered alice latin)"
f=$(delivered carol plain)
check "example.net (under *): no label" t_lacks "$f" -qi '^Content-Type:'
check "example.net: no MIME-Version added" t_lacks "$f" -qi '^MIME-Version:'
f=$(delivered alice mime)
check "own MIME headers kept" grep -q '^Content-Type: text/plain; charset=windows-1252$' "$f"
check "own MIME headers: nothing added" sh -c "[ \$(grep -ci '^Content-Type:' '$f') = 1 ]"
f=$(delivered bob signed)
check "DKIM-signed (signed=keep): no label" t_lacks "$f" -qi '^Content-Type:'
check "the conversion was logged" grep -q 'labelled iso-8859-1 (nonmimecharset)' "$I/log/send/current"
t_stop "$I"
t_done
