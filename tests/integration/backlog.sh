# backlog.sh -- a backlog larger than imc-send's descriptor limit: 1,500
# messages queued while imc-send is down drain completely once it starts
# with a hard limit of 256 descriptors (imc-send opens a queue file only
# while a delivery needs it), at a steady rate, and injection goes on.
. "$(dirname "$0")/../lib.sh"

N=${BACKLOG_N:-1500}
I=$T_TMP/i
IMC_HOME=$I; export IMC_HOME
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo b.example > "$I/control/me"
echo b.example > "$I/control/sitedomains"
for k in 0 1 2 3 4; do echo "mailbox m$k \"M $k\""; done > "$I/control/directory"
imc-ctl compile > /dev/null
sed -i 's|^exec s6-envdir|ulimit -n 256 \&\& ulimit -Hn 256\nexec s6-envdir|' "$I/service/send/run"
check "the run script limits descriptors" grep -q 'ulimit -Hn 256' "$I/service/send/run"
touch "$I/service/send/down"
t_start "$I" || true
printf 'Fa@b.example\0Tm0@b.example\0Tm1@b.example\0\0' > "$T_TMP/env"
printf 'Subject: backlog\n\nbody\n' > "$T_TMP/msg"
i=0
while [ $i -lt "$N" ]; do imc-queue < "$T_TMP/msg" 1< "$T_TMP/env" || break; i=$((i + 1)); done
check "$N messages queued with imc-send down" test "$(find "$I/queue/new" -type f | wc -l)" = "$N"
rm -f "$I/service/send/down"
s6-svc -u "$I/service/send"
check "the backlog drains" t_wait 120 t_queue_empty "$I"
check "every copy delivered" sh -c "[ \$(find '$I/mail/m0/new' '$I/mail/m1/new' -type f | wc -l) = $((2 * N)) ]"
check "no descriptor trouble" t_lacks "$I/log/send/current" 'Too many open files'
t_done
