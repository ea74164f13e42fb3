#!/bin/bash
# fetch-kernel.sh [CACHE_DIR]
#
# Downloads Debian's current kernel (the package linux-image-amd64 depends on,
# e.g. linux-image-6.1.0-56-amd64) with `apt-get download`, unpacks it with
# `dpkg -x` and prints the directory that holds it:
#
#   DIR/vmlinuz              -> boot/vmlinuz-<kver>
#   DIR/vmlinux              the same kernel uncompressed (ELF with a PVH entry),
#                            when it can be unpacked: qemu boots it ~2 s faster
#                            under TCG, which decompresses slowly
#   DIR/kver                 the kernel release (uname -r inside the VM)
#   DIR/lib/modules/<kver>/  its modules (with modules.dep)
#
# Cache: CACHE_DIR, else $SANDHOST_VM_CACHE, else $XDG_CACHE_HOME/sandhost-vm,
# else /var/cache/sandhost-vm (root) or ~/.cache/sandhost-vm.  Idempotent: a
# kernel already unpacked there is not downloaded again, and while apt's
# package lists are unchanged apt is not even asked (a few ms).  Without a
# usable package list (offline) the newest kernel in the cache is used.  When
# a newer kernel is unpacked, older ones are removed (~400 MB each).
set -euo pipefail

die() { echo "fetch-kernel: $*" >&2; exit 1; }

cache=${1:-${SANDHOST_VM_CACHE:-}}
if [ -z "$cache" ]; then
  if [ -n "${XDG_CACHE_HOME:-}" ]; then cache=$XDG_CACHE_HOME/sandhost-vm
  elif [ "$(id -u)" = 0 ]; then cache=/var/cache/sandhost-vm
  else cache=${HOME:?}/.cache/sandhost-vm; fi
fi
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# The real package behind the metapackage, and its candidate version.
resolve() {
  local pkg ver
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1) || true
  [ -n "$pkg" ] || return 1
  ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p' | head -n1) || true
  [ -n "$ver" ] && [ "$ver" != "(none)" ] || return 1
  echo "$pkg $ver"
}

complete() { # complete DIR: a finished unpack (written last, so never half there)
  [ -f "$1/kver" ] && [ -e "$1/vmlinuz" ] && [ -f "$1/lib/modules/$(cat "$1/kver")/modules.dep" ]
}

newest_cached() {
  local d best=""
  for d in "$cache"/linux-image-*/; do
    d=${d%/}
    complete "$d" && best=$d   # glob order: sorts by name, good enough as a fallback
  done
  [ -n "$best" ] && echo "$best"
}

# Fast path: the kernel resolved last time, while apt's package lists are
# unchanged since (apt-cache takes a second).  ctime, not mtime: apt dates the
# lists with the archive's Last-Modified.
if [ -f "$cache/current" ]; then
  cur=$cache/$(cat "$cache/current")
  if complete "$cur" && [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -cnewer "$cache/current" -print -quit 2>/dev/null)" ]; then
    echo "$cur"; exit 0
  fi
fi
remember() { echo "${1##*/}" > "$cache/current.$$" && mv "$cache/current.$$" "$cache/current"; }

if ! res=$(resolve); then
  if best=$(newest_cached); then echo "$best"; exit 0; fi
  # No package lists at all (fresh container): fetch them once.
  apt-get update -qq >&2 || true
  res=$(resolve) || die "cannot resolve the package behind linux-image-amd64 (apt-cache depends)"
fi
read -r pkg ver <<<"$res"
dir=$cache/${pkg}_${ver//:/%3a}

if complete "$dir"; then remember "$dir"; echo "$dir"; exit 0; fi

# One download at a time per cache (parallel test runs); the second waits and
# then finds the kernel there.
exec 9>"$cache/.lock"
flock 9
if complete "$dir"; then remember "$dir"; echo "$dir"; exit 0; fi

tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# apt-get download writes into the cwd; let apt's sandbox user write there too.
chmod 755 "$tmp"
if id _apt >/dev/null 2>&1; then chown _apt "$tmp" 2>/dev/null || true; fi
if ! (cd "$tmp" && apt-get download -q "$pkg=$ver" >&2); then
  echo "fetch-kernel: download failed; running apt-get update and trying again" >&2
  apt-get update -qq >&2 || die "apt-get update failed"
  if ! res=$(resolve); then die "cannot resolve linux-image-amd64 after apt-get update"; fi
  read -r pkg ver <<<"$res"
  dir=$cache/${pkg}_${ver//:/%3a}
  if complete "$dir"; then remember "$dir"; echo "$dir"; exit 0; fi
  (cd "$tmp" && apt-get download -q "$pkg=$ver" >&2) || die "apt-get download $pkg=$ver failed"
fi
deb=$(ls "$tmp"/*.deb | head -n1)
mkdir "$tmp/x"
dpkg -x "$deb" "$tmp/x"

# Modules live in lib/ or usr/lib/ depending on the release; normalise to lib/.
if [ ! -d "$tmp/x/lib/modules" ] && [ -d "$tmp/x/usr/lib/modules" ]; then
  mkdir -p "$tmp/x/lib"
  mv "$tmp/x/usr/lib/modules" "$tmp/x/lib/modules"
fi
kver=$(ls "$tmp/x/lib/modules" | head -n1)
[ -n "$kver" ] && [ -f "$tmp/x/boot/vmlinuz-$kver" ] || die "unexpected layout in $deb"
# The package ships no modules.dep (its postinst runs depmod); make one with
# kmod's depmod, or busybox's (busybox-static is needed for the initramfs anyway).
if [ ! -f "$tmp/x/lib/modules/$kver/modules.dep" ]; then
  PATH=$PATH:/sbin:/usr/sbin
  if command -v depmod >/dev/null; then depmod -b "$tmp/x" "$kver" >&2
  elif [ -x /bin/busybox ]; then /bin/busybox depmod -b "$tmp/x" "$kver" >&2
  else die "no depmod (install kmod or busybox-static)"; fi
fi
ln -s "boot/vmlinuz-$kver" "$tmp/x/vmlinuz"
# The bzImage carries the kernel compressed; unpack the ELF inside it when the
# kernel has a PVH entry (CONFIG_PVH), which qemu can boot directly.
if grep -qx 'CONFIG_PVH=y' "$tmp/x/boot/config-$kver" 2>/dev/null; then
  img=$tmp/x/boot/vmlinuz-$kver
  for fmt in 'xz:\xfd7zXZ\x00:xz -dc --single-stream' 'zstd:\x28\xb5\x2f\xfd:zstd -dcq' 'gzip:\x1f\x8b\x08:gzip -dcq'; do
    IFS=: read -r name magic tool <<<"$fmt"
    command -v "$name" >/dev/null || continue
    for off in $(LC_ALL=C grep -obUaP "$magic" "$img" 2>/dev/null | cut -d: -f1 | head -n 3); do
      tail -c +$((off + 1)) "$img" | $tool > "$tmp/vmlinux" 2>/dev/null || true
      if [ "$(head -c 4 "$tmp/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ]; then
        mv "$tmp/vmlinux" "$tmp/x/vmlinux"; break 2
      fi
    done
  done
  rm -f "$tmp/vmlinux"
fi
echo "$kver" > "$tmp/x/kver"

rm -rf "$dir"
mv "$tmp/x" "$dir"
remember "$dir"
for old in "$cache"/linux-image-*/; do
  old=${old%/}
  [ "$old" = "$dir" ] || rm -rf "$old"
done
echo "$dir"
