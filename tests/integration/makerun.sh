# makerun.sh -- `make run` on a fresh clone brings up the demo instance,
# and a message sent the way the README and the demo's banner say arrives
# in the mailbox they name.  Needs the repository's committed state (git
# clone of HEAD), as CI has it.
. "$(dirname "$0")/../lib.sh"

C=$T_TMP/clone
git clone -q "$TOP" "$C" || { fail clone "git clone failed"; exit 1; }
setsid make -C "$C" run > "$T_TMP/run.out" 2>&1 &
MPID=$!
T_PIDS="$T_PIDS $MPID"
T_SCANDIRS="$T_SCANDIRS $C/run/service"
check "make run prints how to send a first message" t_wait 120 grep -q 'Send a first message' "$T_TMP/run.out"
check "the send service comes up" t_wait 20 sh -c "s6-svstat '$C/run/service/send' | grep -q '^up'"
cmd=$(grep -m1 'sendmail alice@example.com' "$T_TMP/run.out" | sed 's/^ *//')
check "the banner names a sendmail command" test -n "$cmd"
(cd "$C" && sh -c "$cmd") > "$T_TMP/send.out" 2>&1
check "the command succeeds" test $? = 0
check "the message arrives in run/mail/alice/new" t_wait 20 t_count_is "$C/run/mail/alice" 1
# the pickup example as printed: a list (team) of alice, bob and carol
cmd=$(grep -m1 'run/pickup/msg1' "$T_TMP/run.out" | sed 's/^ *//')
check "the banner names a pickup example" test -n "$cmd"
(cd "$C" && sh -c "$cmd") > "$T_TMP/pickup.out" 2>&1
check "the pickup example runs" test $? = 0
check "the pickup example arrives for bob (team)" t_wait 20 t_count_is "$C/run/mail/bob" 1
check "and for alice" t_wait 20 t_count_is "$C/run/mail/alice" 2
check "the pickup file was not set aside in pickup/bad" test -z "$(ls -A "$C/run/pickup/bad" 2>/dev/null)"
# the SMTP example as printed, when swaks is there
cmd=$(grep -m1 'swaks --server' "$T_TMP/run.out" | sed 's/^ *//')
check "the banner names a swaks command" test -n "$cmd"
(cd "$C" && sh -c "$cmd") > "$T_TMP/swaks.out" 2>&1
check "the swaks example succeeds" test $? = 0
check "the swaks example arrives for alice" t_wait 20 t_count_is "$C/run/mail/alice" 3
grep -q 'IMC_HOME=\$PWD/run' "$TOP/README.md" && grep -q 'sendmail alice@example.com' "$TOP/README.md"
check "README shows the same command" test $? = 0
s6-svscanctl -t "$C/run/service"
check "make run ends when the demo is stopped" t_wait 20 sh -c "! kill -0 $MPID"
t_done
