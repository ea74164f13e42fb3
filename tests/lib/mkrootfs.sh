#!/bin/bash
# Build a busybox rootfs from Debian's busybox-static, for tests, demos and benchmarks.
# usage: mkrootfs.sh DIR [UID_BASE]
#   DIR       the rootfs to create (replaced if it exists)
#   UID_BASE  host uid/gid that container root maps to; files are chowned to
#             UID_BASE+container id so the container owns its rootfs (default 0:
#             leave files owned by host root, readable but not writable inside)
set -euo pipefail
dir=${1:?usage: mkrootfs.sh DIR [UID_BASE]}
base=${2:-0}
bb=/bin/busybox
# The rootfs has no libraries: the binary must be busybox-static's.
if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed"; then
  echo "mkrootfs: busybox-static is not installed (apt-get install busybox-static)" >&2
  exit 1
fi

tmp="$dir.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mkdir -p "$tmp"/{bin,sbin,etc,proc,sys,dev,tmp,root,run,var/tmp,usr/bin,usr/sbin,home}
chmod 1777 "$tmp/tmp" "$tmp/var/tmp"
cp "$bb" "$tmp/bin/busybox"
for applet in $("$tmp/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$tmp/bin/$applet"
done
cat > "$tmp/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > "$tmp/etc/group" <<'G'
root:x:0:
nogroup:x:65534:
G
echo "sandhost" > "$tmp/etc/hostname"
if [ "$base" != 0 ]; then
  chown -R -h "$base:$base" "$tmp"
fi
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
