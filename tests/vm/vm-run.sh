#!/bin/bash
# vm-run.sh [OPTIONS] -- CMD [ARGS...]
#
# Runs CMD as root inside a qemu (TCG) VM with Debian's kernel: the host's / is
# the VM's root, read-only over 9p, with fresh /proc /sys /dev, cgroup2 (every
# controller, all enabled at the root), empty tmpfs on /tmp /run /var/tmp, and
# /var/lib and /root writable with the writes kept in RAM.  The caller's cwd
# (unless one of those) and each --share DIR are mounted read-write at the
# same path.  CMD's stdout and stderr come out on ours; we exit with its status.
#
# Options:
#   --timeout SEC   kill the VM after SEC seconds and exit 124 (default 600)
#   --mem MB        guest memory (default 2048)
#   --smp N         guest cpus (default 2)
#   --selinux       boot with SELinux (security=selinux selinux=1 enforcing=0)
#                   and selinuxfs mounted; no policy is loaded yet
#   --share DIR     mount DIR read-write at the same path (repeatable)
#   --append ARGS   more kernel command line
#   --verbose       copy the kernel console to stderr as it boots
#   --tap           CMD speaks TAP: a missing prerequisite prints "1..0 # SKIP"
#                   and exits 0, a failed VM prints "Bail out!" (for meson's
#                   tap protocol, which takes any non-zero exit as an error)
# Environment:
#   VM_PASS_ENV         names of variables to pass to CMD (space separated);
#                       PATH is always passed
#   SANDHOST_VM_CACHE   where the kernel and initramfs are cached (fetch-kernel.sh)
#   SANDHOST_VM_KERNEL  an unpacked kernel dir to use instead (vmlinuz, kver, lib/modules)
#   SANDHOST_VM_STRICT  1: a missing prerequisite is an error (exit 125), not a skip
#   SANDHOST_VM_BZIMAGE 1: boot the compressed vmlinuz even if vmlinux exists
# Exit: CMD's status; 124 timeout; 125 the VM failed (console log printed);
#       77 (skip) when qemu, busybox or the kernel cannot be had.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prog=vm-run

timeout=600 mem=2048 smp=2 selinux=0 verbose=0 tap=0 append=""
shares=()
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --timeout) timeout=${2:?}; shift 2 ;;
    --mem) mem=${2:?}; shift 2 ;;
    --smp) smp=${2:?}; shift 2 ;;
    --selinux) selinux=1; shift ;;
    --share) shares+=("${2:?}"); shift 2 ;;
    --append) append="$append ${2:?}"; shift 2 ;;
    --verbose) verbose=1; shift ;;
    --tap) tap=1; shift ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) echo "$prog: unknown option $1" >&2; usage ;;
  esac
done
[ $# -gt 0 ] || usage
[[ $timeout =~ ^[0-9]+$ && $mem =~ ^[0-9]+$ && $smp =~ ^[0-9]+$ ]] || { echo "$prog: --timeout, --mem, --smp take numbers" >&2; exit 2; }

missing() {
  echo "$prog: $*" >&2
  if [ "${SANDHOST_VM_STRICT:-0}" = 1 ]; then
    [ $tap = 0 ] || echo "Bail out! $prog: $*"
    exit 125
  fi
  echo "$prog: SKIP (set SANDHOST_VM_STRICT=1 to make this an error)" >&2
  if [ $tap = 1 ]; then echo "1..0 # SKIP $prog: $*"; exit 0; fi
  exit 77
}
qemu=$(command -v qemu-system-x86_64) || missing "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
busybox=/bin/busybox
[ -x "$busybox" ] && "$busybox" --list 2>/dev/null | grep -qx switch_root ||
  missing "$busybox with switch_root not found (apt-get install busybox-static)"
command -v cpio >/dev/null || missing "cpio not found (apt-get install cpio)"
if ldd "$busybox" >/dev/null 2>&1; then missing "$busybox is not static (apt-get install busybox-static)"; fi

if [ -n "${SANDHOST_VM_KERNEL:-}" ]; then
  kdir=$SANDHOST_VM_KERNEL
else
  kdir=$("$here/fetch-kernel.sh" | tail -n1) || missing "cannot fetch Debian's kernel (tests/vm/fetch-kernel.sh)"
fi
kver=$(cat "$kdir/kver") && [ -e "$kdir/vmlinuz" ] || missing "no kernel in $kdir"
# The uncompressed ELF boots ~2 s faster (TCG inflates xz slowly); qemu enters
# it through its PVH note.
kernel=$kdir/vmlinuz
[ ! -f "$kdir/vmlinux" ] || [ "${SANDHOST_VM_BZIMAGE:-0}" = 1 ] || kernel=$kdir/vmlinux
moddir=$kdir/lib/modules/$kver

tmp=$(mktemp -d /tmp/sandhost-vm.XXXXXX)
qpid="" wdpid="" tails=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$wdpid" ]; then kill "$wdpid" 2>/dev/null || true; wait "$wdpid" 2>/dev/null || true; fi
  if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then kill -KILL "$qpid" 2>/dev/null || true; wait "$qpid" 2>/dev/null || true; fi
  for p in "${tails[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- initramfs: busybox, /init, the modules needed to reach the 9p root -------
# The rest of the kernel's modules are reachable from inside the VM at
# /lib/modules/<kver> (bind-mounted from the cache through the 9p root).
want=(virtio_pci 9pnet_virtio 9p overlay)
declare -A modpath=() moddeps=() added=()
while IFS=: read -r path deps; do
  name=${path##*/}; name=${name%%.ko*}; name=${name//-/_}
  modpath[$name]=$path; moddeps[$name]=$deps
done < "$moddir/modules.dep"
order=()
add_mod() {
  local n=${1##*/} d
  n=${n%%.ko*}; n=${n//-/_}
  [ -n "${added[$n]:-}" ] && return 0
  [ -n "${modpath[$n]:-}" ] || return 0   # built in
  added[$n]=1
  for d in ${moddeps[$n]}; do add_mod "$d"; done
  order+=("${modpath[$n]}")
}
for m in "${want[@]}"; do add_mod "$m"; done

key=$( { echo "$kver $moddir"; printf '%s\n' "${order[@]}"; cat "$here/init.sh"; sha256sum < "$busybox"; } |
       sha256sum | cut -c1-16)
initrd=$kdir/initramfs-$key.cpio
if [ ! -s "$initrd" ]; then
  ird=$tmp/initramfs
  mkdir -p "$ird/bin"
  cp "$busybox" "$ird/bin/busybox"
  cp "$here/init.sh" "$ird/init"
  chmod 755 "$ird/init"
  echo "$moddir" > "$ird/moddir"
  : > "$ird/modules.load"
  for p in "${order[@]}"; do
    mkdir -p "$ird/m/$(dirname "$p")"
    out=$ird/m/${p%%.ko*}.ko
    case $p in
      *.ko) cp "$moddir/$p" "$out" ;;
      *.ko.xz) xz -dc "$moddir/$p" > "$out" ;;
      *.ko.zst) zstd -qdc "$moddir/$p" > "$out" ;;
      *.ko.gz) gzip -dc "$moddir/$p" > "$out" ;;
      *) echo "$prog: unknown module format $p" >&2; exit 125 ;;
    esac
    echo "m/${p%%.ko*}.ko" >> "$ird/modules.load"
  done
  # Uncompressed: TCG would spend longer inflating it than reading it.
  (cd "$ird" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) > "$tmp/initrd"
  # Initramfs of earlier init.sh versions: keep a week (other worktrees).
  find "$kdir" -maxdepth 1 -name 'initramfs-*.cpio' -mtime +7 -delete 2>/dev/null || true
  if ! { cp "$tmp/initrd" "$initrd.$$" 2>/dev/null && mv "$initrd.$$" "$initrd"; }; then
    rm -f "$initrd.$$"; initrd=$tmp/initrd   # read-only cache: use it just this once
  fi
  rm -rf "$ird"
fi

# --- control share: what to mount, the environment, the command ----------------
ctl=$tmp/ctl
mkdir -p "$ctl"
q() { local s=$1; printf "'%s'" "${s//\'/\'\\\'\'}"; }   # quote for sh

cwd=$(pwd -P)
paths=()
# The cwd is shared unless it is one of the VM's own fresh dirs.
case $cwd in /|/tmp|/run|/var/tmp|/var/lib|/root) ;; *) paths+=("$cwd") ;; esac
# The checkout this script belongs to is always shared: it may live under a dir
# the VM replaces with tmpfs (CI clones into /tmp), and its tests run from it.
paths+=("$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)")
for s in "${shares[@]}"; do
  [ -d "$s" ] || { echo "$prog: --share $s: not a directory" >&2; exit 2; }
  paths+=("$(cd "$s" && pwd -P)")
done
# Parents first; a dir under one already shared is shared with it.
mapfile -t sorted < <(printf '%s\n' "${paths[@]}" | LC_ALL=C sort -u)
accepted=()
for p in "${sorted[@]}"; do
  [ -n "$p" ] || continue
  case $p in *$'\n'*|*[[:space:]]) echo "$prog: cannot share $p (newline or trailing blank)" >&2; exit 2 ;; esac
  [ "$p" != / ] || { echo "$prog: cannot share / read-write" >&2; exit 2; }
  under=0
  for a in "${accepted[@]}"; do case $p/ in "$a"/*) under=1 ;; esac; done
  [ $under = 1 ] || accepted+=("$p")
done

esc() { printf '%s' "${1//,/,,}"; }   # qemu option values: ',' doubles
# shellcheck disable=SC2054  # commas separate qemu suboptions, not array elements
qargs=(
  -nodefaults -no-user-config -nographic -no-reboot
  -machine q35 -accel tcg,thread=multi -cpu max -smp "$smp" -m "$mem"
  -kernel "$kernel" -initrd "$initrd"
  -serial "file:$(esc "$tmp/console.log")" -monitor none
  -fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
  -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
  -fsdev "local,id=vmctl,path=$(esc "$ctl"),security_model=none,multidevs=remap"
  -device virtio-9p-pci,fsdev=vmctl,mount_tag=vmctl
)
: > "$ctl/mounts"
i=0
for p in "${accepted[@]}"; do
  qargs+=(-fsdev "local,id=sh$i,path=$(esc "$p"),security_model=none,multidevs=remap"
          -device "virtio-9p-pci,fsdev=sh$i,mount_tag=sh$i")
  echo "sh$i $p" >> "$ctl/mounts"
  i=$((i + 1))
done

{
  echo "export PATH=$(q "$PATH")"
  for v in ${VM_PASS_ENV:-}; do
    [[ $v =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { echo "$prog: VM_PASS_ENV: bad name $v" >&2; exit 2; }
    if [ -n "${!v+x}" ]; then echo "export $v=$(q "${!v}")"; fi
  done
  echo "cd -- $(q "$cwd") 2>>\"\$CTL/err\" || exit 125"
} > "$ctl/env"
{
  printf 'set --'
  for a in "$@"; do printf ' %s' "$(q "$a")"; done
  echo
} > "$ctl/cmd"
flags=""
[ $selinux = 0 ] || flags="$flags selinux"
echo "$flags" > "$ctl/flags"
: > "$ctl/out"; : > "$ctl/err"

cmdline="console=ttyS0 loglevel=3 quiet panic=-1 rdinit=/init"
# Pure cgroup v2: no v1 hierarchy may claim a controller.
cmdline="$cmdline cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1"
# TCG's clocks are jittery; skip the checks that would distrust them.
cmdline="$cmdline no_timer_check tsc=reliable"
[ $selinux = 0 ] || cmdline="$cmdline security=selinux selinux=1 enforcing=0"
cmdline="$cmdline$append"

# --- run ---------------------------------------------------------------------
: > "$tmp/console.log"
"$qemu" "${qargs[@]}" -append "$cmdline" </dev/null >"$tmp/qemu.log" 2>&1 &
qpid=$!
# Watchdog: kill this qemu (by its pid) when the time is up.
(
  trap 'kill "$sp" 2>/dev/null; exit 0' TERM
  sleep "$timeout" & sp=$!
  wait "$sp"
  touch "$tmp/timedout"
  kill -KILL "$qpid" 2>/dev/null
) &
wdpid=$!
tail -s 0.1 -c +1 -f --pid="$qpid" "$ctl/out" & tails+=($!)
tail -s 0.1 -c +1 -f --pid="$qpid" "$ctl/err" >&2 & tails+=($!)
if [ $verbose = 1 ]; then tail -s 0.1 -c +1 -f --pid="$qpid" "$tmp/console.log" >&2 & tails+=($!); fi

set +e
wait "$qpid" 2>/dev/null   # quiet: a timeout kill is reported below
qrc=$?
qpid=""
kill "$wdpid" 2>/dev/null; wait "$wdpid" 2>/dev/null
wdpid=""
# tail drains what was written before qemu died, then ends by itself.
for p in "${tails[@]}"; do wait "$p" 2>/dev/null; done
tails=()

# The console log without the firmware's terminal escapes.
console_tail() {
  [ $verbose = 1 ] && return 0
  tail -n "$1" "$tmp/console.log" | sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; s/\r$//' |
    awk -v p="$prog: console: " '{ print p $0 }' >&2
  echo "$prog: (for the whole boot log: --verbose --append loglevel=7)" >&2
}
if [ -e "$tmp/timedout" ]; then
  echo "$prog: timed out after ${timeout}s; killed the VM" >&2
  [ $tap = 0 ] || echo "Bail out! $prog: timed out after ${timeout}s"
  console_tail 20
  exit 124
fi
status=""
if [ -f "$ctl/status" ]; then
  status=$(cat "$ctl/status")
else
  status=$(sed -n 's/^SANDHOST-VM-EXIT=\([0-9]*\).*/\1/p' "$tmp/console.log" | tail -n1)
fi
if [[ ! $status =~ ^[0-9]+$ ]]; then
  echo "$prog: the VM ended without the command's status (qemu exit $qrc)" >&2
  [ $tap = 0 ] || echo "Bail out! $prog: the VM ended without the command's status"
  [ ! -s "$ctl/failed" ] || echo "$prog: $(cat "$ctl/failed")" >&2
  sed "s/^/$prog: qemu: /" "$tmp/qemu.log" >&2
  console_tail 40
  exit 125
fi
exit "$status"
