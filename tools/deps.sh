#!/bin/sh
# deps.sh [build] [run] [test] [deb] -- install the Debian packages that imc
# needs for the named purposes (the first three without arguments) when any
# is missing.
# Run as root (CI and the README's commands are); as another user it only
# reports what is missing and exits 100.
#   build: what compiles imc and links it
#   run:   what an instance needs at run time (s6 supervises it)
#   test:  the test peers and tools of make check: SMTP clients and sinks,
#          dnsmasq, clang and libFuzzer, the clock faker, man page rendering,
#          strace (the order of the durability calls: durability.sh)
#   deb:   what builds the Debian package and tests it (make deb, make
#          check-deb): debhelper, lintian, mmdebstrap for a fresh Debian root
# `make deps` installs the first three; `make run` build and run; the test
# targets the first three; make deb build and deb; make check-deb build,
# run and deb; `make` and `make install` install nothing.
set -e
BUILD="gcc make libc6-dev libowfat-dev libbearssl-dev libcrypt-dev nettle-dev libgmp-dev"
RUN="s6 execline publicsuffix openssl"
TEST="swaks dnsmasq sharutils faketime python3 python3-aiosmtpd postfix
      python3-dkim python3-spf python3-authres strace
      clang libclang-rt-14-dev openssl iproute2 procps util-linux man-db groff-base"
DEB="build-essential dpkg-dev debhelper fakeroot lintian mmdebstrap swaks util-linux"
[ $# -gt 0 ] || set -- build run test
want=
for k in "$@"; do
  case "$k" in
    build) want="$want $BUILD" ;;
    run) want="$want $RUN" ;;
    test) want="$want $TEST" ;;
    deb) want="$want $DEB" ;;
    *) echo "deps.sh: fatal: unknown purpose $k (build, run, test or deb)" >&2; exit 100 ;;
  esac
done
missing=""
for p in $want; do
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
