#!/bin/bash
# Build refpolicy's "container" module from Debian's own policy source, with
# Debian's policy tools: the .te and .fc from selinux-policy-src (the exact
# source of the installed selinux-policy-default), compiled against the
# interfaces selinux-policy-dev ships.  Debian builds the module but does not
# ship it in selinux-policy-default (docs/selinux.md).
# usage: build-container-pp.sh OUTPUT.pp
set -euo pipefail
out=${1:?usage: build-container-pp.sh OUTPUT.pp}
src=/usr/src/selinux-policy-src.tar.zst
mk=/usr/share/selinux/devel/Makefile
for f in "$src" "$mk"; do
  [ -f "$f" ] || { echo "build-container-pp: $f missing (apt-get install selinux-policy-src selinux-policy-dev)" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar --zstd -xf "$src" -C "$tmp" --strip-components=4 \
  selinux-policy-src/policy/modules/services/container.te \
  selinux-policy-src/policy/modules/services/container.fc
# The devel Makefile wants to run where the module is; its output is quiet
# unless it fails.
if ! make -s -C "$tmp" -f "$mk" container.pp > "$tmp/log" 2>&1; then
  cat "$tmp/log" >&2
  exit 1
fi
cp "$tmp/container.pp" "$out.tmp"
mv "$out.tmp" "$out"
