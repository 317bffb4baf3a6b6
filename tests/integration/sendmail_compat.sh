# sendmail_compat.sh -- the sendmail modes of imc-inject (bin/sendmail):
# -bs, an SMTP session on stdin and stdout (imc-smtpd -l) driven by Python's
# smtplib, by swaks --pipe and by a script piping its commands in; -bp and the mailq name
# list a deferred message by its id; -q sends it at once when its next hop
# is back; -bi and the newaliases name compile control/directory.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo site.test > "$I/control/me"
echo site.test > "$I/control/sitedomains"
echo 'mailbox alice "Alice"' > "$I/control/directory"
echo 1h > "$I/control/retry"
printf 'later.test [%s]\n' "$(hip 3)" > "$I/control/routes"
imc-ctl compile > /dev/null || fail setup "imc-ctl compile"
t_start "$I" || { fail start "services did not come up"; exit 1; }
# the names the package installs: links to sendmail
mkdir "$T_TMP/names"
for n in sendmail mailq newaliases; do ln -s "$T_BIN/sendmail" "$T_TMP/names/$n"; done
MYUID=$(id -u)

# bs FROM TO SUBJECT: one message through sendmail -bs with smtplib over a
# socket pair (the subprocess's stdin and stdout); prints the replies
bs() {
  "$PYTHON" - "$T_TMP/names/sendmail" "$@" <<'PY'
import smtplib, socket, subprocess, sys
prog, frm, to, subj = sys.argv[1:5]
a, b = socket.socketpair()
p = subprocess.Popen([prog, "-bs"], stdin=b, stdout=b)
b.close()
s = smtplib.SMTP()
s.sock = a
s.file = None
print("greeting", *s.getreply())
code, text = s.ehlo("client.site.test")
print("ehlo", code, text.decode().replace("\n", " "))
msg = "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nsent by -bs\r\n" % (frm, to, subj)
try:
    s.sendmail(frm, [to], msg)
    print("queued")
except smtplib.SMTPRecipientsRefused as e:
    print("refused", e.recipients[to][0])
s.quit()
print("exit", p.wait(10))
PY
}

out=$(bs alice@site.test alice@site.test one)
echo "$out" | sed 's/^/  bs: /'
check "-bs greets with control/me" sh -c "echo \"\$1\" | grep -q '^greeting 220 .*site.test'" - "$out"
check "-bs: the message is queued" sh -c "echo \"\$1\" | grep -qx queued" - "$out"
check "-bs: imc-smtpd -l ends with the session (exit 0)" sh -c "echo \"\$1\" | grep -qx 'exit 0'" - "$out"
check "-bs: delivered to the local mailbox" t_wait 10 t_count_is "$I/mail/alice" 1
f=$(find "$I/mail/alice/new" -type f | head -1)
check "-bs: the Received line names the caller's uid, no peer address" grep -q "^Received: from client.site.test (uid $MYUID)" "$f"
check "-bs: no STARTTLS or AUTH offered to a local submitter" sh -c "echo \"\$1\" | grep '^ehlo 250' | grep -qv -e STARTTLS -e AUTH" - "$out"

out=$(bs alice@site.test nobody@site.test two)
check "-bs: the same policy as imc-smtpd (unknown mailbox: 550)" sh -c "echo \"\$1\" | grep -q '^refused 550'" - "$out"

# a script piping its commands: no early-talker refusal for a local submitter
out=$(printf 'HELO script\r\nMAIL FROM:<alice@site.test>\r\nRCPT TO:<alice@site.test>\r\nDATA\r\nSubject: piped\r\n\r\nbody\r\n.\r\nQUIT\r\n' \
  | "$T_TMP/names/sendmail" -bs 2>/dev/null)
check "-bs: commands piped in at once are served" sh -c "echo \"\$1\" | grep -q '^250 .*queued as'" - "$out"
check "-bs: the piped message is delivered" t_wait 10 t_count_is "$I/mail/alice" 2

# swaks as the client, running sendmail -bs itself (--pipe)
if command -v swaks > /dev/null; then
  swaks --pipe "$T_TMP/names/sendmail -bs" --from alice@site.test --to alice@site.test \
    --header 'Subject: by swaks' --body 'swaks over -bs' > "$T_TMP/swaks.out" 2>&1
  check "swaks --pipe 'sendmail -bs': the session succeeds" test $? = 0
  check "swaks --pipe: 250 with a queue id after DATA" grep -q '<- *250 .*queued as' "$T_TMP/swaks.out"
  check "swaks --pipe: delivered" t_wait 10 t_count_is "$I/mail/alice" 3
else
  echo "SKIP: swaks --pipe (swaks is not installed)"
fi

# relay from a local submitter: deferred while the next hop is down
out=$(bs alice@site.test bob@later.test three)
check "-bs: a local submitter may relay" sh -c "echo \"\$1\" | grep -qx queued" - "$out"
check "the relayed message is deferred" t_wait 10 grep -q 'deferred.*bob@later.test' "$I/log/track/current"
id=$(awk -F'\t' '$2=="received" && $6=="bob@later.test" {id=$3} END {print id}' "$I/log/track/current")
check "its queue id is known" test -n "$id"
bp=$("$T_TMP/names/sendmail" -bp)
check "-bp lists the deferred message by its id" sh -c "echo \"\$1\" | grep -q \"^$id .*bob@later.test=deferred\"" - "$bp"
mq=$("$T_TMP/names/mailq")
check "mailq (by its name) lists it too" sh -c "echo \"\$1\" | grep -q \"^$id .*bob@later.test=deferred\"" - "$mq"
check "mailq and -bp agree" test "$bp" = "$mq"
env=$(imc-qread "$id")
check "the envelope of a -bs message: via=inject and the caller's uid" sh -c "echo \"\$1\" | grep -q 'via=inject' && echo \"\$1\" | grep -q 'uid=$MYUID'" - "$env"

# -q: the next hop is back; control/retry is 1h, so only -q sends it now
start_sink sink "$(hip 3):25" || exit 1
check "-q exits 0" "$T_TMP/names/sendmail" -q
check "-q: the deferred message goes at once" t_wait 10 delivered_is sink 1
check "-q: the queue is empty after" t_wait 10 t_queue_empty "$I"
"$T_TMP/names/sendmail" -q30m 2> "$T_TMP/q.err"
check "-qINTERVAL is refused with a usage exit (64)" test $? = 64
check "-qINTERVAL: the error says why" grep -q 'imc-send runs the queue' "$T_TMP/q.err"

# newaliases compiles control/directory
echo 'mailbox carol "Carol"' >> "$I/control/directory"
out=$(bs alice@site.test carol@site.test four)
check "before newaliases, carol is unknown" sh -c "echo \"\$1\" | grep -q '^refused 550'" - "$out"
check "newaliases (by its name) exits 0" "$T_TMP/names/newaliases"
out=$(bs alice@site.test carol@site.test five)
check "after newaliases, carol is known" sh -c "echo \"\$1\" | grep -qx queued" - "$out"
echo 'mailbox dave "Dave"' >> "$I/control/directory"
check "sendmail -bi compiles it too" "$T_TMP/names/sendmail" -bi
out=$(bs alice@site.test dave@site.test six)
check "after -bi, dave is known" sh -c "echo \"\$1\" | grep -qx queued" - "$out"
echo 'mailbox bad name here' >> "$I/control/directory"
"$T_TMP/names/newaliases" > "$T_TMP/na.err" 2>&1
check "newaliases fails on a bad directory" test $? != 0
check "and names the file and line" grep -q 'control/directory:4' "$T_TMP/na.err"

t_done
