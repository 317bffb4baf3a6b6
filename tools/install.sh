#!/bin/sh
# install.sh install|uninstall -- make install and make uninstall.
#
#   DESTDIR= BINDIR= MANDIR= UNITDIR= MANIFEST= sh tools/install.sh install PROGRAM... -- MANPAGE...
#   DESTDIR= BINDIR= MANDIR= UNITDIR= MANIFEST= sh tools/install.sh uninstall PROGRAM... -- MANPAGE...
#
# install copies each PROGRAM into DESTDIR/BINDIR, adds the links sendmail,
# mailq and newaliases to imc-inject there (imc-inject acts on the name it
# is called by), the manual pages into DESTDIR/MANDIR/manN and, when
# UNITDIR is set, the systemd unit imc.service made from
# tools/imc.service.in with BINDIR filled in.  Every file is written beside
# its destination and renamed over it, so a running instance never sees
# half a program.
#
# Upgrades.  A program that is already there keeps its owner, group and
# mode: imc-setup --system made imc-queue, imc-local, imc-remote and
# imc-convert setuid (bin/imc-setup's header), and an instance stops
# delivering mail if they lose it.  When that cannot be done (not root),
# the old program is left in place, nothing else is changed, and the
# message says what to run.
#
# MANIFEST (a path below DESTDIR, empty for none): the list of what this
# install and the earlier ones wrote, files and links first, then each
# directory they created.
# uninstall removes exactly what the MANIFEST names (directories only when
# empty); without a MANIFEST it removes the files of the given lists.
#
# Exit 0 done, 100 usage error, 111 a file could not be written or removed.
set -e
PROG=install.sh
die() { code=$1; shift; echo "$PROG: fatal: $*" >&2; exit "$code"; }
[ $# -ge 1 ] || die 100 "usage: $PROG install|uninstall PROGRAM... -- MANPAGE..."
action=$1; shift
[ -n "${BINDIR:-}" ] && [ -n "${MANDIR:-}" ] || die 100 "BINDIR and MANDIR must be set"
D=${DESTDIR:-}
progs= mans=
while [ $# -gt 0 ] && [ "$1" != -- ]; do progs="$progs $1"; shift; done
[ $# -eq 0 ] || shift
mans="$*"
LINKS="sendmail mailq newaliases"

# the paths (below DESTDIR) this install writes, in the order it writes them
paths() {
  for p in $progs; do echo "$BINDIR/$(basename "$p")"; done
  for l in $LINKS; do echo "$BINDIR/$l"; done
  for m in $mans; do echo "$MANDIR/man${m##*.}/$(basename "$m")"; done
  [ -z "${UNITDIR:-}" ] || echo "$UNITDIR/imc.service"
}

# mkdirs DIR: create DIR and its missing parents, each new one noted in $created
created= kept=
mkdirs() {
  [ -d "$D$1" ] && return 0
  case $1 in /|.) mkdir -p -- "$D$1" || die 111 "unable to create $D$1"; return 0 ;; esac
  mkdirs "$(dirname "$1")"
  mkdir -m 0755 "$D$1" || die 111 "unable to create $D$1"
  created="$1
$created"
}

# put SRC DEST MODE: copy SRC to DESTDIR/DEST, keeping an existing file's owner
# and mode (its setuid bit among them), else with MODE
put() {
  dst=$D$2 tmp=$D$2.imc-new
  rm -f -- "$tmp"
  cp -- "$1" "$tmp" || die 111 "unable to write $tmp"
  if [ -f "$dst" ] && [ ! -L "$dst" ]; then
    own=$(stat -c %u:%g -- "$dst") mode=$(stat -c %a -- "$dst")
    if { [ "$(stat -c %u:%g -- "$tmp")" != "$own" ] && ! chown "$own" "$tmp" 2>/dev/null; } ||
       ! chmod "$mode" "$tmp"; then
      rm -f -- "$tmp"
      die 111 "unable to give the new $2 the owner $(stat -c %U:%G -- "$dst") and mode $mode of the installed one (run make install as root; or install, then run imc-setup --system on each instance as root and restart it): $dst is unchanged"
    fi
    case $mode in [1-7]???) kept="$kept $(basename "$2")" ;; esac
  else
    chmod "$3" "$tmp" || { rm -f -- "$tmp"; die 111 "unable to chmod $tmp"; }
  fi
  mv -f -- "$tmp" "$dst" || { rm -f -- "$tmp"; die 111 "unable to rename $tmp to $dst"; }
}

# link NAME: BINDIR/NAME -> imc-inject
link() {
  ln -sfn imc-inject "$D$BINDIR/$1.imc-new" && mv -fT -- "$D$BINDIR/$1.imc-new" "$D$BINDIR/$1" \
    || die 111 "unable to link $D$BINDIR/$1 to imc-inject"
}

case $action in
install)
  mkdirs "$BINDIR"
  for m in $mans; do mkdirs "$MANDIR/man${m##*.}"; done
  [ -z "${MANIFEST:-}" ] || mkdirs "$(dirname "$MANIFEST")"
  for p in $progs; do put "$p" "$BINDIR/$(basename "$p")" 0755; done
  for l in $LINKS; do link "$l"; done
  for m in $mans; do put "$m" "$MANDIR/man${m##*.}/$(basename "$m")" 0644; done
  if [ -n "${UNITDIR:-}" ]; then
    mkdirs "$UNITDIR"
    unit=$D$UNITDIR/imc.service.imc-src
    sed "s|@BINDIR@|$BINDIR|g" "$(dirname "$0")/imc.service.in" > "$unit" || die 111 "unable to write $unit"
    put "$unit" "$UNITDIR/imc.service" 0644
    rm -f -- "$unit"
  fi
  if [ -n "$kept" ]; then
    echo "$PROG: kept the owners and setuid modes of$kept; restart each instance that runs them (s6-svc -r DIR/service/*, or systemctl restart imc)"
  fi
  if [ -n "${MANIFEST:-}" ]; then
    # what an earlier install wrote stays on the list (a program since
    # dropped from the tree is still removed by make uninstall)
    oldfiles= olddirs=
    if [ -f "$D$MANIFEST" ]; then
      oldfiles=$(sed -n 's|^file ||p' "$D$MANIFEST") olddirs=$(sed -n 's|^dir ||p' "$D$MANIFEST")
    fi
    { { paths; printf '%s\n' "$oldfiles"; } | sed '/^$/d' | awk '!seen[$0]++' | sed 's/^/file /'
      printf '%s\n%s\n' "$created" "$olddirs" | sed '/^$/d' | awk '!seen[$0]++' | sed 's/^/dir /'
    } > "$D$MANIFEST.imc-new" && mv -f -- "$D$MANIFEST.imc-new" "$D$MANIFEST" \
      || die 111 "unable to write $D$MANIFEST"
  fi
  ;;
uninstall)
  if [ -n "${MANIFEST:-}" ] && [ -f "$D$MANIFEST" ]; then
    files=$(sed -n 's|^file ||p' "$D$MANIFEST") dirs=$(sed -n 's|^dir ||p' "$D$MANIFEST")
  else
    files=$(paths) dirs=
  fi
  for f in $files; do rm -f -- "$D$f" || die 111 "unable to remove $D$f"; done
  if [ -n "${MANIFEST:-}" ]; then rm -f -- "$D$MANIFEST" || die 111 "unable to remove $D$MANIFEST"; fi
  # deepest first; a directory that holds anything else stays
  for d in $(echo "$dirs" | awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2-); do
    rmdir -- "$D$d" 2>/dev/null || true
  done
  ;;
*) die 100 "unknown action $action (install or uninstall)" ;;
esac
exit 0
