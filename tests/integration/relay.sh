# relay.sh -- no open relay: from a client that may not relay, none of the
# tricks that route through a site domain to another domain is accepted
# (percent hack, double @, quoted @, source route, bang path, trailing dot,
# address literal, plain other domain), while a site address in another
# case is local and delivered.
. "$(dirname "$0")/../lib.sh"

I=$T_TMP/i
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo site.test > "$I/control/me"
echo site.test > "$I/control/sitedomains"
echo 'mailbox bob "Bob"' > "$I/control/directory"
echo 'accept 127.0.0.0/8' > "$I/control/rules"      # loopback may not relay here
IMC_HOME=$I imc-ctl compile > /dev/null
t_start "$I" || { fail start "services did not come up"; exit 1; }
t_wait 10 sh -c "ss -Hltn | grep -q '127.0.0.1:$T_PORT '" || { fail start "no listener"; exit 1; }

"$PYTHON" - "$T_PORT" <<'PY'
import smtplib, sys
port = int(sys.argv[1])
refused = ['user%other.test@site.test', 'user@other.test@site.test', '"user@other.test"@site.test',
           '@site.test:user@other.test', 'other.test!user@site.test', 'user@other.test.',
           'user@[192.0.2.1]', 'user@other.test', 'bob@site.test.', 'bob@site.test..']
local = ['bob@SITE.TEST', 'BOB@site.test', 'Bob@Site.Test']
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("client.test")
for a in refused:
    s.rset()
    s.mail("x@client.test")
    code, text = s.rcpt("<%s>" % a)
    print(("PASS" if 500 <= code < 600 else "FAIL") + ": refused %s (%d %s)" % (a, code, text.decode(errors="replace")))
for a in local:
    s.rset()
    s.mail("x@client.test")
    code, text = s.rcpt("<%s>" % a)
    print(("PASS" if code == 250 else "FAIL") + ": local %s (%d)" % (a, code))
    if code == 250:
        code, text = s.data("Subject: %s\r\n\r\nlocal\r\n" % a)
        print(("PASS" if code == 250 else "FAIL") + ": local %s accepted (%d)" % (a, code))
s.quit()
PY
check "each local form delivered to bob" t_wait 10 t_count_is "$I/mail/bob" 3
check "nothing queued for anyone else" t_wait 10 t_queue_empty "$I"
check "no remote delivery was ever tried" t_lacks "$I/log/track/current" 'other.test\|192.0.2.1'
t_done
