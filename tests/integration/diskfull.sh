# diskfull.sh -- the disk fills up during DATA: the client gets 452 4.3.1,
# nothing half-written stays in the queue, and service is normal again once
# there is space.  The instance lives on a small tmpfs (needs root, as CI
# runs; skipped otherwise).
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" != 0 ]; then echo "SKIP: diskfull: mounting a tmpfs needs root"; exit 0; fi
FS=$T_TMP/fs
mkdir -p "$FS"
mount -t tmpfs -o size=3m tmpfs "$FS" || { fail mount "unable to mount a tmpfs"; exit 1; }
T_MOUNTS="$FS"
I=$FS/i
t_instance "$I" || { fail setup "imc-setup failed"; exit 1; }
echo full.test > "$I/control/me"
echo full.test > "$I/control/sitedomains"
echo 'mailbox bob "Bob"' > "$I/control/directory"
echo 0 > "$I/control/diskfree"               # let the disk really fill
IMC_HOME=$I imc-ctl compile > /dev/null
t_start "$I" || { fail start "services did not come up"; exit 1; }
t_wait 10 sh -c "ss -Hltn | grep -q '127.0.0.1:$T_PORT '" || { fail start "no listener"; exit 1; }

"$PYTHON" - "$T_PORT" <<'PY'
import smtplib, sys
port = int(sys.argv[1])
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
big = "Subject: big\r\n\r\n" + ("x" * 998 + "\r\n") * 4500        # 4.5 MB into 3 MB
try:
    s.sendmail("a@full.test", ["bob@full.test"], big)
    print("FAIL: disk full: the big message was accepted")
except smtplib.SMTPDataError as e:
    ok = e.smtp_code == 452 and b"4.3.1" in e.smtp_error
    print(("PASS: disk full during DATA: 452 4.3.1" if ok else
           "FAIL: disk full during DATA: got %d %r" % (e.smtp_code, e.smtp_error)))
s.quit()
PY
check "nothing half-written in the queue" t_queue_empty "$I"
check "no Maildir file for it" t_count_is "$I/mail/bob" 0
"$PYTHON" - "$T_PORT" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.sendmail("a@full.test", ["bob@full.test"], "Subject: small\r\n\r\nfits\r\n")
s.quit()
print("PASS: space back: a small message accepted")
PY
check "and delivered" t_wait 10 t_count_is "$I/mail/bob" 1
t_done
