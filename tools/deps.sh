#!/bin/sh
# deps.sh -- install the Debian packages imc builds, runs and tests with,
# when any is missing.  Run as root (CI and the README's commands are);
# as another user it only reports what is missing.
set -e
PKGS="gcc make libc6-dev libowfat-dev libbearssl-dev libcrypt-dev s6 execline
      swaks dnsmasq sharutils faketime python3 python3-aiosmtpd postfix
      clang libclang-rt-14-dev openssl iproute2 procps man-db groff-base"
missing=""
for p in $PKGS; do
  dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "deps.sh: fatal: missing Debian packages:$missing (run make deps as root)" >&2
  exit 100
fi
echo "deps.sh: installing:$missing" >&2
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 $missing >/dev/null
# postfix is here only for smtp-source and smtp-sink: its daemon never runs
if command -v postfix >/dev/null 2>&1; then postfix stop >/dev/null 2>&1 || true; fi
exit 0
