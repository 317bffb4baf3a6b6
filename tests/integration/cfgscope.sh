#!/bin/sh
# cfgscope.sh -- each daemon reads and reports only the control files it
# uses (docs/INTERNALS.md section 19), on a running instance:
#   1. a syntax error in control/retry (imc-send's, not imc-smtpd's) and a
#      HUP: imc-send names control/retry:2 and keeps its settings; imc-smtpd,
#      which reloads when control/databytes changes, takes the new databytes
#      (EHLO's SIZE), answers 220 and 250, queues a message, and never names
#      control/retry; the message is delivered.
#   2. a syntax error in control/greetdelay (imc-smtpd's, not imc-send's nor
#      imc-queue's): imc-smtpd answers 421 4.3.5 and its warning names
#      control/greetdelay:2; imc-send rereads its files after a HUP without
#      a warning of its own about greetdelay, and a message injected through
#      sendmail (imc-inject, imc-queue) is delivered by imc-send and imc-local.
. "$(dirname "$0")/../lib.sh"

command -v swaks > /dev/null || { echo "SKIP: cfgscope: swaks is not installed"; exit 0; }

I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo mx.scope.test > "$I/control/me"
echo scope.test > "$I/control/sitedomains"
printf 'mailbox alice "Alice"\nmailbox bob "Bob"\n' > "$I/control/directory"
imc-ctl compile > /dev/null || fail compile "imc-ctl compile"
printf 'relay 127.0.0.1\n' > "$I/control/rules"
echo 20000 > "$I/control/databytes"
M=$I/mail
SLOG=$I/log/smtpd/current
QLOG=$I/log/send/current
t_start "$I" || { fail start "services did not come up"; exit 1; }
t_wait 10 sh -c "ss -Hltn '( sport = :$T_PORT )' | grep -q ." || { fail listen "nothing on port $T_PORT"; exit 1; }

# the EHLO reply and one message through SMTP: the session's output in $T_TMP/$1.out
smtp_send() {
  swaks --server "127.0.0.1:$T_PORT" --from alice@scope.test --to "$2" \
    --header "Subject: $1" > "$T_TMP/$1.out" 2>&1
}
reread_count() { grep -c ' imc-send: init: reread the control files' "$QLOG"; }

# ---- 1. an error in imc-send's control/retry
printf '15m,30m\nnow and then\n' > "$I/control/retry"
echo 30000 > "$I/control/databytes"
s6-svc -h "$I/service/send"
s6-svc -h "$I/service/smtpd"
check "retry: imc-send names control/retry:2" \
  t_wait 10 grep -q ' imc-send: warning: control/retry:2: ' "$QLOG"
check "retry: imc-send keeps its old settings" \
  t_wait 10 grep -q ' imc-send: warning: control files have errors: keeping the old settings' "$QLOG"
smtp_send one bob@scope.test
check "retry: imc-smtpd greets with 220" grep -q '^<-  220 mx.scope.test ESMTP' "$T_TMP/one.out"
check "retry: imc-smtpd took the new databytes (SIZE 30000)" grep -q '^<-  250-SIZE 30000$' "$T_TMP/one.out"
check "retry: imc-smtpd queues the message (250)" grep -q '^<-  250 2.0.0 ok: queued as ' "$T_TMP/one.out"
check "retry: the message is delivered" t_wait 10 t_count_is "$M/bob" 1
check "retry: imc-smtpd never names control/retry" t_lacks "$SLOG" 'control/retry'
check "retry: imc-smtpd refuses nothing" t_lacks "$SLOG" 'imc-smtpd: warning: control files have errors'
rm -f "$I/control/retry"
n=$(reread_count)
s6-svc -h "$I/service/send"
check "retry fixed: imc-send rereads" t_wait 10 sh -c "[ \$(grep -c ' imc-send: init: reread the control files' '$QLOG') -gt $n ]"

# ---- 2. an error in imc-smtpd's control/greetdelay
printf '# seconds\nsoon\n' > "$I/control/greetdelay"
n=$(reread_count)
s6-svc -h "$I/service/send"
s6-svc -h "$I/service/smtpd"
smtp_send two bob@scope.test
check "greetdelay: imc-smtpd answers 421 4.3.5" grep -q '421 4.3.5 service not available' "$T_TMP/two.out"
check "greetdelay: imc-smtpd names control/greetdelay:2" \
  t_wait 10 grep -q ' imc-smtpd: warning: control/greetdelay:2: not a number' "$SLOG"
check "greetdelay: imc-smtpd refuses until it is fixed" \
  grep -q ' imc-smtpd: warning: control files have errors: refusing connections' "$SLOG"
check "greetdelay: imc-send rereads its files" \
  t_wait 10 sh -c "[ \$(grep -c ' imc-send: init: reread the control files' '$QLOG') -gt $n ]"
check "greetdelay: imc-send has no warning of its own about it" t_lacks "$QLOG" 'imc-send: warning: control/greetdelay'
printf 'Subject: three\n\nbody\n' | sendmail -f bob@scope.test alice@scope.test > "$T_TMP/inject.out" 2>&1
check "greetdelay: sendmail (imc-queue) queues" test $? = 0
check "greetdelay: imc-send and imc-local deliver" t_wait 10 t_count_is "$M/alice" 1
rm -f "$I/control/greetdelay"
smtp_send four alice@scope.test
check "greetdelay fixed: imc-smtpd queues again" grep -q '^<-  250 2.0.0 ok: queued as ' "$T_TMP/four.out"
check "greetdelay fixed: delivered" t_wait 10 t_count_is "$M/alice" 2
t_done
