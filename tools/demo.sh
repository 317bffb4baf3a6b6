#!/bin/sh
# demo.sh -- what `make run` runs: the gateway on a demo instance in ./run,
# in the foreground, until Ctrl-C (or s6-svscanctl -t run/service).
#
# The instance is made with imc-setup --user --port 2525 (idempotent: mail,
# queue and control files are kept).  The first time only, it gets a sample
# directory (mailboxes alice, bob, carol, a list `team`, a contact `dave`),
# control/me imc.example and control/sitedomains example.com and
# imc.example; delete run/ to start again from scratch.  The directory is
# compiled with imc-ctl compile on every start.
set -e
PROG=demo.sh
die() { code=$1; shift; echo "$PROG: fatal: $*" >&2; exit "$code"; }

cd "$(dirname "$0")/.." || die 111 "unable to find the repository"
top=$(pwd -P)
run=$top/run
PATH=$top/bin:$PATH
export PATH

for p in imc-setup imc-start imc-ctl; do
  [ -x "bin/$p" ] || die 111 "bin/$p is missing: build first (make all)"
done
if [ -d run/service ] && s6-svscanctl -a run/service > /dev/null 2>&1; then
  die 111 "the demo already runs (stop it with: s6-svscanctl -t run/service)"
fi

# the first time, control/me (and the certificate imc-setup makes for it) is imc.example
me=
[ -e "$run/.demo" ] || me='--me imc.example'
imc-setup --user --port 2525 $me "$run" > /dev/null

if [ ! -e "$run/.demo" ]; then
  cat > "$run/control/directory" <<'EOF'
# control/directory of the demo instance (written once by tools/demo.sh)
#   mailbox ALIAS "Display Name"          local mailbox: mail/ALIAS/
#   list ALIAS MEMBER,MEMBER,...          distribution list
#   contact ALIAS "Display Name" ADDRESS  custom recipient, mail goes on to ADDRESS
mailbox alice "Alice Example"
mailbox bob   "Bob Example"
mailbox carol "Carol Example"
list    team  alice,bob,carol
contact dave  "Dave Remote" dave@example.net
EOF
  printf 'example.com\nimc.example\n' > "$run/control/sitedomains"
  : > "$run/.demo"
fi

IMC_HOME=$run imc-ctl compile || die 111 "imc-ctl compile failed: fix run/control/directory"

services=$(cd "$run/service" && ls -d */ 2>/dev/null | tr -d / | tr '\n' ' ')
cat <<EOF

imc demo instance: $run   (IMC_HOME)
services under s6: ${services}(each with an s6-log logger)
mailboxes: alice bob carol (list team, contact dave) at example.com and imc.example
local mail is delivered to Maildirs: run/mail/alice/new/, run/mail/bob/new/, ...

Send a first message, from another terminal in $top:
  echo 'Subject: hello' | IMC_HOME=\$PWD/run PATH=\$PWD/bin:\$PATH sendmail alice@example.com
or drop a file into the pickup directory (write it under a dot name, then rename):
  printf 'From: carol@example.com\nTo: team@example.com\nSubject: hi\n\nhello\n' > run/pickup/.tmp && mv run/pickup/.tmp run/pickup/msg1
EOF
if [ -x bin/imc-tcpd ]; then
  cat <<EOF
or by SMTP on 127.0.0.1:2525:
  swaks --server 127.0.0.1:2525 --to alice@example.com
EOF
else
  echo "(SMTP on port 2525 comes with a later issue: bin/imc-tcpd is not built yet.)"
fi
cat <<EOF

Logs: run/log/send/current and run/log/pickup/current; readable times with
  s6-tai64nlocal < run/log/send/current
Stop with Ctrl-C here, or: s6-svscanctl -t run/service

EOF
exec imc-start "$run"
