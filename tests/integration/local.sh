#!/bin/sh
# local.sh -- imc-local (docs/INTERNALS.md section 5): Maildir deliveries
# byte-exact, several jobs and pairs per run, reports in input order,
# D for invalid mailboxes and loops, Z for unusable Maildirs and malformed
# job lines, the run limits, exit codes.  Queue files are written here by a
# small Python helper (no dependency on imc-queue) and passed open on fds.
. "$(dirname "$0")/../lib.sh"

H=$T_TMP/home
M=$H/mail
mkdir -p "$M" "$H/control"
echo 'transfer medium' > "$H/control/loglevel"     # every pair's result logged
IMC_HOME=$H
export IMC_HOME
W=$T_TMP/work
mkdir -p "$W"

# mkq QUEUEFILE MESSAGEFILE SENDER RCPT...: MESSAGE + ENVELOPE + TRAILER
cat > "$W/mkq.py" <<'EOF'
import sys, time
out, msgfile, sender = sys.argv[1:4]
msg = open(msgfile, 'rb').read()
env = b'F' + sender.encode() + b'\0'
env += b''.join(b'T' + r.encode() + b'\0' for r in sys.argv[4:]) + b'\0'
tr = ('IMCQ1 M%016x E%08x T%016x END' % (len(msg), len(env), int(time.time()))).ljust(63) + '\n'
open(out, 'wb').write(msg + env + tr.encode())
EOF
mkq() { "$PYTHON" "$W/mkq.py" "$@"; }
size() { wc -c < "$1" | tr -d ' '; }

# expect FILE SENDER RCPT MESSAGEFILE: the Maildir file is exactly the two lines + the message
expect() {
  printf 'Return-Path: <%s>\nDelivered-To: %s\n' "$2" "$3" > "$W/expected"
  cat "$4" >> "$W/expected"
  cmp -s "$W/expected" "$1"
}
# the one file in mailbox $1's new/
onefile() { set -- "$M/$1"/new/*; [ $# = 1 ] && [ -f "$1" ] && echo "$1"; }
tmp_empty() { [ -z "$(find "$M"/*/tmp -type f 2>/dev/null)" ]; }
tab=$(printf '\t')

# ---- messages
printf 'From: alice@example.com\nTo: bob@example.org\nSubject: one\n\nHello Bob.\n' > "$W/m1"
printf 'Subject: two\n\nSecond message, null sender.\n' > "$W/m2"
: > "$W/m0"
"$PYTHON" - "$W/mbig" <<'EOF'
import sys
body = b'Subject: binary\n\nNUL:\0\0 here\n' + b'x' * 100000 + b'\n' + bytes(range(256)) + b'\nend'
open(sys.argv[1], 'wb').write(body)
EOF
printf 'Received: from x\nDELIVERED-TO: Loop@Example.org\nSubject: loop\n\nbody\n' > "$W/mloop"

mkq "$W/q1" "$W/m1" alice@example.com bob@example.org carol@example.org
mkq "$W/q2" "$W/m2" "" bob@example.org
mkq "$W/q0" "$W/m0" zero@example.com dave@example.org
mkq "$W/qbig" "$W/mbig" big@example.com erin@example.org
mkq "$W/qloop" "$W/mloop" l@example.com loop@example.org

# ---- 1. several jobs, several pairs, odd messages, D and Z cases, in one run
: > "$M/blocked"                   # a file where a Maildir should be
exec 3< "$W/q1" 4< "$W/q2" 5< "$W/q0" 6< "$W/qbig" 7< "$W/qloop"
read -r _ <&6                      # moves fd 6's shared position: imc-local must not use it
{
  printf '3\t%s\t%s\tbob\t%s\tcarol\t%s\n' "$(size "$W/m1")" alice@example.com bob@example.org carol@example.org
  printf '4:6b0a42108275300043b\t%s\t\tbob2\tbob@example.org\tbad/name\tx@example.org\n' "$(size "$W/m2")"
  printf '5\t0\tzero@example.com\tdave\tdave@example.org\n'
  printf '6\t%s\tbig@example.com\terin\terin@example.org\n' "$(size "$W/mbig")"
  printf '7\t%s\tl@example.com\tloop\tloop@example.org\tother\tother@example.org\n' "$(size "$W/mloop")"
  printf '3\t%s\talice@example.com\tblocked\tb@example.org\tfrank\tfrank@example.org\n' "$(size "$W/m1")"
} > "$W/jobs1"
imc-local < "$W/jobs1" > "$W/rep1" 2> "$W/err1"
rc=$?
exec 3<&- 4<&- 5<&- 6<&- 7<&-
check "run exits 0" [ "$rc" = 0 ]
cut -c1 "$W/rep1" | tr -d '\n' > "$W/kinds1"
check "reports in order" [ "$(cat "$W/kinds1")" = "KKKDKKDKZK" ]
check "K text" [ "$(sed -n 1p "$W/rep1")" = "K2.0.0 delivered to mailbox bob" ]
check "D invalid mailbox" grep -q '^D5\.1\.3 ' "$W/rep1"
check "D loop text" [ "$(sed -n 7p "$W/rep1")" = "D5.4.6 mail loop: already delivered to loop@example.org" ]
check "Z unusable Maildir" sh -c "sed -n 9p '$W/rep1' | grep -q '^Z4\.3\.0 .*blocked'"
check "bob delivered" expect "$(onefile bob)" alice@example.com bob@example.org "$W/m1"
check "carol delivered" expect "$(onefile carol)" alice@example.com carol@example.org "$W/m1"
check "null sender" expect "$(onefile bob2)" "" bob@example.org "$W/m2"
check "0-byte message" expect "$(onefile dave)" zero@example.com dave@example.org "$W/m0"
check "NUL bytes and a 100,000-char line, byte-exact" expect "$(onefile erin)" big@example.com erin@example.org "$W/mbig"
check "no delivery on loop" [ ! -d "$M/loop" ]
check "other pair of the loop job delivered" expect "$(onefile other)" l@example.com other@example.org "$W/mloop"
check "pair after the failed one delivered" expect "$(onefile frank)" alice@example.com frank@example.org "$W/m1"
check "no invalid Maildir made" [ ! -e "$M/bad" ]
check "tmp/ left empty" tmp_empty
check "Maildir has tmp new cur" [ -d "$M/bob/tmp" -a -d "$M/bob/new" -a -d "$M/bob/cur" ]
check "Maildir mode 0700" [ "$(stat -c %a "$M/bob" "$M/bob/new" "$M/bob/tmp" "$M/bob/cur" | sort -u)" = 700 ]
check "file mode 0600" [ "$(stat -c %a "$(onefile bob)")" = 600 ]
n=$(basename "$(onefile bob)")
check "Maildir name SECONDS.MusecPpidQn.HOST" sh -c "echo '$n' | grep -Eq '^[0-9]+\.M[0-9]+P[0-9]+Q[0-9]+\..+$'"
check "no warnings for a good run but the blocked one" [ "$(grep -v '^imc-local: transfer: ' "$W/err1" | grep -vc blocked)" = 0 ]
check "failed and deferred pairs logged (loglevel transfer medium)" \
  [ "$(grep -c '^imc-local: transfer: \([0-9a-f]* \)\?\(failed\|deferred\) <' "$W/err1")" = 3 ]
check "the queue id of an FD:ID field heads its lines" \
  grep -q '^imc-local: transfer: 6b0a42108275300043b failed <x@example.org>: 5.1.3 ' "$W/err1"
check "every line of that job carries it" [ "$(grep -c '<bob@example.org>: .*bob2\|<x@example.org>' "$W/err1")" = \
  "$(grep -c '^imc-local: transfer: 6b0a42108275300043b ' "$W/err1")" ]

# ---- 2. a second run into existing Maildirs: names unique, nothing lost
exec 3< "$W/q1"
printf '3\t%s\ta@example.com\tbob\tbob@example.org\tbob\tbob@example.org\n' "$(size "$W/m1")" |
  imc-local > "$W/rep2" 2> "$W/err2"
rc=$?
exec 3<&-
check "second run exits 0" [ "$rc" = 0 ]
check "second run reports" [ "$(cat "$W/rep2")" = "K2.0.0 delivered to mailbox bob
K2.0.0 delivered to mailbox bob" ]
check "bob has 3 files" [ "$(t_count "$M/bob")" = 3 ]

# ---- 3. malformed job lines: one Z per claimed pair, or one when unparseable
exec 3< "$W/q1" 9<&-
{
  printf 'garbage\n'
  printf 'x\t10\ts@x\tbob\tb@x\tcarol\tc@x\n'
  printf '\n'
  printf '3\t%s\ta@x\tgrace\tgrace@example.org\n' "$(size "$W/m1")"
  printf '9\t10\ts@x\tbob\tb@x\n'                          # fd 9 is not open
  printf '3\t%s\ta@x\tgrace\tg\rx@example.org\n' "$(size "$W/m1")"
  printf '3\t999999\ta@x\tgrace\tgrace@example.org\n'      # longer than the file
  printf '3\t%s\ta@x\thenry\thenry@example.org' "$(size "$W/m1")"   # no newline at the end
} > "$W/jobs3"
imc-local < "$W/jobs3" > "$W/rep3" 2> "$W/err3"
rc=$?
exec 3<&-
check "malformed lines: exit 0" [ "$rc" = 0 ]
check "malformed lines: reports" [ "$(cut -c1 "$W/rep3" | tr -d '\n')" = "ZZZKZZZZ" ]
check "malformed lines: grace delivered once" [ "$(t_count "$M/grace")" = 1 ]
check "unterminated line not delivered" [ ! -d "$M/henry" ]
check "malformed lines warned" grep -q 'imc-local: warning: ' "$W/err3"

# ---- 4. limits: 1000 jobs and 10000 pairs per run; the excess gets Z
exec 3< "$W/q1"
"$PYTHON" - "$(size "$W/m1")" > "$W/jobs4" <<'EOF'
import sys
n = sys.argv[1]
for i in range(1001): print('3\t%s\ta@x\t.bad\tr@x' % n)
EOF
imc-local < "$W/jobs4" > "$W/rep4" 2> "$W/err4"
rc=$?
check "1001 jobs: exit 0" [ "$rc" = 0 ]
check "1001 jobs: 1000 tried, 1 Z" [ "$(grep -c '^D' "$W/rep4"):$(sed -n '$p' "$W/rep4")" = "1000:Z4.3.0 too many deliveries in one run" ]
"$PYTHON" - "$(size "$W/m1")" > "$W/jobs5" <<'EOF'
import sys
print('3\t%s\ta@x' % sys.argv[1] + '\t.bad\tr@x' * 10001 + '\t.bad\tr@x')
EOF
imc-local < "$W/jobs5" > "$W/rep5" 2> "$W/err5"
rc=$?
exec 3<&-
check "10002 pairs: exit 0" [ "$rc" = 0 ]
check "10002 pairs: 10000 tried, 2 Z" [ "$(grep -c '^D' "$W/rep5"):$(grep -c '^Z4.3.0 too many' "$W/rep5")" = "10000:2" ]

# ---- 5. exit codes: reports cannot be written; usage; no jobs
exec 3< "$W/q1"
printf '3\t%s\ta@x\tivan\tivan@example.org\n' "$(size "$W/m1")" > "$W/jobs6"
imc-local < "$W/jobs6" > /dev/full 2> "$W/err6"
rc=$?
check "unwritable fd 1: exit 111" [ "$rc" = 111 ]
check "unwritable fd 1: diagnostic" grep -q '^imc-local: fatal: unable to write reports' "$W/err6"
imc-local < "$W/jobs6" >&- 2> "$W/err6b"
rc=$?
exec 3<&-
check "closed fd 1: exit 111" [ "$rc" = 111 ]
check "closed fd 1: diagnostic" grep -q '^imc-local: fatal: ' "$W/err6b"
imc-local extra < /dev/null > /dev/null 2>&1
check "usage: exit 100" [ "$?" = 100 ]
imc-local < /dev/null > "$W/rep7" 2>&1
rc=$?
check "no jobs: exit 0, no output" [ "$rc" = 0 -a ! -s "$W/rep7" ]

# ---- 6. mail/ missing altogether: Z for every pair, exit 0
exec 3< "$W/q1"
printf '3\t%s\ta@x\tjudy\tjudy@example.org\tkim\tkim@example.org\n' "$(size "$W/m1")" |
  IMC_HOME=$T_TMP/nohome imc-local > "$W/rep8" 2> /dev/null
rc=$?
exec 3<&-
check "no mail/: exit 0, Z for each pair" [ "$rc:$(cut -c1-6 "$W/rep8" | tr -d '\n')" = "0:Z4.3.0Z4.3.0" ]

t_done
