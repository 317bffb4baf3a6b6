#!/bin/sh
# settings.sh -- a program reads only the control files it uses
# (config_load_only), so a broken file that it does not use cannot stop it.
#   - imc-inject and imc-queue queue a message while control/lifetime cannot
#     be read at all (a directory: read fails even for root) and
#     control/maxrcpt is malformed; imc-queue still refuses a message when
#     control/databytes, which it does use, is malformed.
#   - a running instance delivers to a routed sink after control/retry is
#     made malformed under it: imc-send keeps the retry schedule it loaded,
#     and imc-remote, which never reads control/retry, delivers instead of
#     deferring every recipient for "errors in the control files".
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/netlib.sh"

start_sink sink "$(hip 3):25" || exit 1
I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo set.example > "$I/control/me"
echo set.example > "$I/control/sitedomains"
echo "far.test [$(hip 3)]" > "$I/control/routes"
nqueued() { find "$I/queue/new" "$I/queue/mess" -type f 2>/dev/null | wc -l | tr -d ' '; }

# ---- imc-inject and imc-queue, no daemons
mkdir "$I/control/lifetime"
echo 'many' > "$I/control/maxrcpt"
check "imc-ctl check sees the broken files" sh -c "! imc-ctl check > '$T_TMP/check.out' 2>&1"
check "  it names control/maxrcpt" grep -q 'control/maxrcpt' "$T_TMP/check.out"
printf 'Subject: one\n\nbody\n' | sendmail -f a@set.example b@far.test > "$T_TMP/inject.out" 2>&1
check "sendmail queues with an unreadable control/lifetime and a bad maxrcpt" test $? = 0
check "  the message is in the queue" test "$(nqueued)" = 1
echo 'lots' > "$I/control/databytes"
printf 'Subject: two\n\nbody\n' | sendmail -f a@set.example b@far.test > "$T_TMP/inject2.out" 2>&1
rc=$?
check "a malformed control/databytes (used by imc-queue) still refuses" test "$rc" != 0
check "  the refusal names control/databytes" grep -q 'databytes' "$T_TMP/inject2.out"
check "  nothing more queued" test "$(nqueued)" = 1
rm -f "$I/control/databytes" "$I/control/maxrcpt"
rmdir "$I/control/lifetime"
rm -rf "$I/queue/new/"* "$I/queue/mess/"*/* "$I/queue/info/"*/* 2>/dev/null

# ---- imc-remote under a running imc-send
t_start "$I" || { fail start "services did not come up"; exit 1; }
echo '15m,banana' > "$I/control/retry"
printf 'Subject: three\n\nbody\n' | sendmail -f a@set.example c@far.test
check "delivered to the route with a malformed control/retry" t_wait 20 delivered_is sink 1
check "the queue is empty" t_wait 10 t_queue_empty "$I"
check "no delivery deferred for control file errors" t_lacks "$I/log/track/current" 'errors in the control files'
t_done
