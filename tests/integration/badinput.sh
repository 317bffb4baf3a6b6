# badinput.sh -- bad input gets a clear error or intact delivery, and
# nothing is lost or corrupted: an envelope without recipients, a 0-byte
# message, NUL bytes in the body, a 100,000-character line, a pickup file
# still being written (dot-name), and the disk below control/diskfree.
. "$(dirname "$0")/../lib.sh"

I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo bad.example > "$I/control/me"
echo bad.example > "$I/control/sitedomains"
printf 'mailbox bob "Bob"\nmailbox ann "Ann"\n' > "$I/control/directory"
imc-ctl compile > /dev/null
t_start "$I" || { fail start "services did not come up"; exit 1; }
M=$I/mail

# the envelope of imc-queue, written by python: F sender, T recipients
envelope() { "$PYTHON" -c 'import sys; sys.stdout.buffer.write(b"".join(bytes(a, "ascii") + b"\0" for a in sys.argv[1:]) + b"\0")' "$@"; }
# the message as delivered: the file minus the Return-Path and Delivered-To lines
body_of() { tail -n +3 "$1"; }
newest() { ls -t "$1"/new/* 2>/dev/null | head -1; }

# no recipients
sendmail -f bob@bad.example < /dev/null > "$T_TMP/out" 2>&1; rc=$?
check "sendmail without recipients: exit 64" test "$rc" = 64
check "sendmail without recipients: says so" grep -qi 'no recipients' "$T_TMP/out"
envelope Fbob@bad.example > "$T_TMP/env0"
echo hi | imc-queue 1< "$T_TMP/env0" 2> "$T_TMP/out"; rc=$?
check "imc-queue without recipients: exit 32" test "$rc" = 32
check "imc-queue without recipients: a diagnostic" grep -q '^imc-queue: ' "$T_TMP/out"
check "nothing queued for them" t_queue_empty "$I"

# a 0-byte message: through imc-queue it arrives as 0 bytes plus the two delivery lines
envelope Fann@bad.example Tbob@bad.example > "$T_TMP/env1"
imc-queue < /dev/null 1< "$T_TMP/env1"
check "0-byte message queued and delivered" t_wait 10 t_count_is "$M/bob" 1
check "0-byte message delivered empty" test "$(body_of "$(newest "$M/bob")" | wc -c)" = 0
sendmail -f ann@bad.example bob@bad.example < /dev/null
check "0-byte message through sendmail gets headers" t_wait 10 t_count_is "$M/bob" 2
check "sendmail added Date and Message-ID" sh -c "grep -q '^Date: ' '$(newest "$M/bob")' || true; f=\$(ls -t '$M'/bob/new/* | head -1); grep -q '^Date: ' \"\$f\" && grep -q '^Message-ID: ' \"\$f\""

# NUL bytes and a 100,000-character line, byte for byte
"$PYTHON" -c 'import sys; sys.stdout.buffer.write(b"Subject: nul\n\nbefore\0after\0\0end\n")' > "$T_TMP/nul"
imc-queue < "$T_TMP/nul" 1< "$T_TMP/env1"
check "NUL bytes delivered" t_wait 10 t_count_is "$M/bob" 3
body_of "$(newest "$M/bob")" > "$T_TMP/nul.out"
check "NUL bytes intact" cmp -s "$T_TMP/nul" "$T_TMP/nul.out"
"$PYTHON" -c 'import sys; sys.stdout.write("Subject: long\n\n" + "x" * 100000 + "\nend\n")' > "$T_TMP/long"
imc-queue < "$T_TMP/long" 1< "$T_TMP/env1"
check "100,000-character line delivered" t_wait 10 t_count_is "$M/bob" 4
body_of "$(newest "$M/bob")" > "$T_TMP/long.out"
check "100,000-character line intact" cmp -s "$T_TMP/long" "$T_TMP/long.out"
sendmail -f ann@bad.example bob@bad.example < "$T_TMP/long"
check "long line through sendmail" t_wait 10 t_count_is "$M/bob" 5
check "long line through sendmail intact" grep -q "^$(head -c 100000 /dev/zero | tr '\0' x)\$" "$(newest "$M/bob")"

# a pickup file still being written is not touched
printf 'From: ann@bad.example\nTo: bob@bad.example\nSubject: dot\n\nstill writing' > "$I/pickup/.inprogress"
sleep 2
check "dot-file left alone" test -f "$I/pickup/.inprogress"
check "dot-file not delivered" t_count_is "$M/bob" 5
mv "$I/pickup/.inprogress" "$I/pickup/done"
check "renamed file delivered" t_wait 10 t_count_is "$M/bob" 6

# below control/diskfree: a temporary error, nothing written; service resumes
echo 99% > "$I/control/diskfree"
echo hi | sendmail -f ann@bad.example bob@bad.example > "$T_TMP/out" 2>&1; rc=$?
check "below diskfree: sendmail exit 75" test "$rc" = 75
check "below diskfree: a clear error" grep -qi 'disk' "$T_TMP/out"
check "below diskfree: nothing written" sh -c "[ -z \"\$(find '$I/queue/tmp' '$I/queue/new' -type f)\" ]"
rm "$I/control/diskfree"
echo hi | sendmail -f ann@bad.example bob@bad.example
check "space back: delivered again" t_wait 10 t_count_is "$M/bob" 7
check "queue empty at the end" t_wait 10 t_queue_empty "$I"
t_done
