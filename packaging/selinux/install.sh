#!/bin/bash
# Install (or remove) Sandhost's SELinux policy with semodule: refpolicy's
# "container" module as Debian's source builds it (container.pp) and
# Sandhost's own (sandhost.cil).  Both go in at priority 200, above the
# distribution's 100, so a distribution container module, should one be
# installed, is overridden by the version this package was built against.
#
# usage: install.sh [--root DIR] [--remove] [MODULE_DIR]
#   MODULE_DIR  where container.pp and sandhost.cil are (default: this
#               script's own directory, where meson installs all three)
#   --root DIR  work on a copy of this host's policy store made under DIR
#               (DIR/etc/selinux, DIR/var/lib/selinux; copied when absent)
#               and do not load the result: for tests and image builds
#   --remove    remove both modules
# For Debian maintainer scripts: postinst calls `install.sh` when the policy
# store exists (/var/lib/selinux/<type>), prerm on remove `install.sh --remove`.
set -euo pipefail
prog=sandhost-selinux-install
root="" remove=0
while [ $# -gt 0 ]; do
  case $1 in
    --root) root=${2:?}; shift 2 ;;
    --remove) remove=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    -*) echo "$prog: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
mods=${1:-$(dirname "$(readlink -f "$0")")}
priority=200

command -v semodule >/dev/null || { echo "$prog: semodule not found (apt-get install policycoreutils)" >&2; exit 1; }
# SELINUXTYPE names the store: /etc/selinux/<type>, /var/lib/selinux/<type>.
# Under --root, the copy is made from this host's, so the host's config names it.
type=$(sed -n 's/^SELINUXTYPE=//p' /etc/selinux/config 2>/dev/null | tail -n1) || true
[ -n "$type" ] || { echo "$prog: no SELINUXTYPE in /etc/selinux/config (apt-get install selinux-policy-default)" >&2; exit 1; }

args=(-X "$priority")
if [ -n "$root" ]; then
  [ -d "/var/lib/selinux/$type" ] || { echo "$prog: no policy store /var/lib/selinux/$type to copy" >&2; exit 1; }
  mkdir -p "$root/etc" "$root/var/lib/selinux"
  [ -d "$root/etc/selinux" ] || cp -a /etc/selinux "$root/etc/"
  [ -d "$root/var/lib/selinux/$type" ] || cp -a "/var/lib/selinux/$type" "$root/var/lib/selinux/"
  root=$(cd "$root" && pwd -P)
  # -p: the store and the policy under that root; -n: load nothing.
  args+=(-p "$root" -n)
fi
[ -d "${root:-}/var/lib/selinux/$type" ] || { echo "$prog: no policy store ${root:-}/var/lib/selinux/$type" >&2; exit 1; }

if [ $remove = 1 ]; then
  # Only what is there: removing an absent module is an error to semodule.
  present=$(semodule "${args[@]}" -l 2>/dev/null | awk '$1 == "sandhost" || $1 == "container" { print $1 }' | sort -r)
  rm_args=()
  for m in $present; do rm_args+=(-r "$m"); done
  [ ${#rm_args[@]} = 0 ] || semodule "${args[@]}" "${rm_args[@]}"
  exit 0
fi
for f in container.pp sandhost.cil; do
  [ -f "$mods/$f" ] || { echo "$prog: $mods/$f missing" >&2; exit 1; }
done
# One transaction: both modules or neither.
semodule "${args[@]}" -i "$mods/container.pp" -i "$mods/sandhost.cil"
