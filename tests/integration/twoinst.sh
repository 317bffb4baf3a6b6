# twoinst.sh -- two imc instances on one machine: the first routes a domain
# to the second by control/routes, the second (imc-tcpd + imc-smtpd) takes it
# into a local mailbox; a route whose first host is dead falls over to the
# second host.
. "$(dirname "$0")/../lib.sh"

B=$T_TMP/b
t_instance "$B" || { fail setup "instance b"; exit 1; }
PB=$T_PORT
echo two.test > "$B/control/me"
echo two.test > "$B/control/sitedomains"
echo 'mailbox bob "Bob"' > "$B/control/directory"
IMC_HOME=$B imc-ctl compile > /dev/null

A=$T_TMP/a
t_instance "$A" || { fail setup "instance a"; exit 1; }
echo one.test > "$A/control/me"
echo one.test > "$A/control/sitedomains"
echo 'mailbox alice "Alice"' > "$A/control/directory"
echo 1 > "$A/control/retry"
echo "two.test [127.0.0.1]:$PB" > "$A/control/routes"
IMC_HOME=$A imc-ctl compile > /dev/null

t_start "$B" || { fail start "instance b did not come up"; exit 1; }
t_start "$A" || { fail start "instance a did not come up"; exit 1; }
check "instance b listens" t_wait 10 sh -c "ss -Hltn | grep -q '127.0.0.1:$PB '"

printf 'Subject: across\n\nfrom one to two\n' | IMC_HOME=$A sendmail -f alice@one.test bob@two.test
check "routed to the second instance and delivered" t_wait 20 t_count_is "$B/mail/bob" 1
f=$(find "$B/mail/bob/new" -type f | head -1)
check "it came in over SMTP (Received by two.test)" grep -q 'by two.test' "$f"
check "with the first instance's envelope sender" grep -q '^Return-Path: <alice@one.test>' "$f"
check "the first instance tracked the delivery" t_wait 5 grep -q 'delivered.*bob@two.test' "$A/log/track/current"
check "the second instance tracked the reception" t_wait 5 grep -q 'received.*alice@one.test.*bob@two.test' "$B/log/track/current"

# a route with a dead first host: the second host gets it
echo "two.test [127.0.0.1]:1,[127.0.0.1]:$PB" > "$A/control/routes"
printf 'Subject: failover\n\nvia the second host\n' | IMC_HOME=$A sendmail -f alice@one.test bob@two.test
check "a dead first route host falls over to the second" t_wait 20 t_count_is "$B/mail/bob" 2
check "nothing left in the first queue" t_wait 10 t_queue_empty "$A"
t_done
