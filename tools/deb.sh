#!/bin/sh
# deb.sh [OUTDIR] -- make deb: build the Debian package imc with Debian's
# tools (dpkg-buildpackage, debhelper) and check it with lintian.
#
# The build runs in a copy of the source tree under a temporary directory
# (the package build runs make clean), so the checkout's build/ and bin/
# stay as they are.  The copy holds the files git knows of, tracked or not
# ignored, or, outside a git checkout, the tree without build products.
# IMC_DEB_VERSION=V adds a changelog entry for version V to the copy first
# (tests/deb/package.sh builds an upgrade that way).  OUTDIR (default dist/)
# gets the .deb and lintian.txt, lintian's tags one a line (empty when
# there are none beyond debian/imc.lintian-overrides).
#
# Exit 0 built (whatever lintian says), 100 usage error, 111 the build failed.
set -e
PROG=deb.sh
die() { code=$1; shift; echo "$PROG: fatal: $*" >&2; exit "$code"; }
[ $# -le 1 ] || die 100 "usage: $PROG [OUTDIR]"
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/dist}
mkdir -p "$out" && out=$(cd "$out" && pwd) || die 111 "unable to create $out"
for t in dpkg-buildpackage dh lintian; do
  command -v "$t" > /dev/null || die 111 "$t not found (make check-deb installs it: tools/deps.sh deb)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/imc-deb.XXXXXX") || die 111 "unable to make a temporary directory"
trap 'rm -rf "$work"' EXIT
src=$work/imc
mkdir "$src"
cd "$top"
if [ -d .git ] || [ -f .git ]; then
  git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$src" ||
    die 111 "unable to copy the source tree"
else
  tar -cf - --exclude=./build --exclude=./san --exclude=./fuzz --exclude=./dist --exclude=./run \
    --exclude=./tests/out . | (cd "$src" && tar -xf -) || die 111 "unable to copy the source tree"
fi
# files git lists but the work tree has deleted are simply not copied

cd "$src"
if [ -n "${IMC_DEB_VERSION:-}" ]; then
  {
    echo "imc ($IMC_DEB_VERSION) unstable; urgency=medium"
    echo
    echo "  * Rebuilt as version $IMC_DEB_VERSION."
    echo
    echo " -- $(sed -n 's/^Maintainer: //p' debian/control)  $(date -R)"
    echo
    cat debian/changelog
  } > debian/changelog.new && mv debian/changelog.new debian/changelog
fi
version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
echo "$PROG: building imc $version" >&2
dpkg-buildpackage -b -us -uc > "$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; die 111 "dpkg-buildpackage failed"; }
deb=imc_${version}_$arch.deb
[ -f "$work/$deb" ] || die 111 "dpkg-buildpackage made no $deb"
# lintian warns that it runs as root: that line is no tag
lintian --tag-display-limit 0 "$work/$deb" 2>&1 | grep -v "^running with root privileges" > "$work/lintian.txt" || true
cp "$work/$deb" "$out/" && cp "$work/lintian.txt" "$out/lintian.txt" || die 111 "unable to copy to $out"
echo "$PROG: $out/$deb" >&2
if [ -s "$out/lintian.txt" ]; then
  echo "$PROG: lintian says:" >&2
  cat "$out/lintian.txt" >&2
fi
exit 0
