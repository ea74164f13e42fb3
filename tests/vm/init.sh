#!/bin/busybox sh
# Init of the VM test tier's initramfs (see docs/vm-tests.md).  vm-run.sh packs
# this file as /init next to a static busybox and the modules listed in
# /modules.load.  Two stages, both in this file:
#
#   stage 1 (PID 1 in the initramfs): load modules, mount the host's / read-only
#     over 9p at /newroot, fresh proc/sys/dev/cgroup2 and tmpfs on top, the
#     read-write shares, then switch_root (a real root, not a chroot: the kernel
#     refuses user namespaces to chrooted processes).
#   stage 2 (PID 1 in the host's tree): run the command with the caller's cwd
#     and environment, write its exit status to the control share, power off.
#
# The control share (9p tag "vmctl", a temp dir of vm-run.sh) holds:
#   mounts   lines "TAG PATH": read-write 9p shares to mount at PATH
#   env      shell lines "export NAME='value'" (cwd, PATH and VM_PASS_ENV)
#   cmd      shell line "set -- 'arg' ..." (the command)
#   flags    words: selinux
# and receives: out, err (the command's stdout and stderr), status (its exit code).
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
VMDIR=/run/sandhost-vm        # inside the new root: busybox, this script, ctl/

fail() {
  echo "sandhost-vm: $*" >&2
  echo "$*" > "$CTL/failed" 2>/dev/null   # vm-run.sh prints it
  sync
  poweroff -f
  exit 1
}

stage1() {
  /bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /newroot /ctl
  /bin/busybox --install -s
  mount -t devtmpfs devtmpfs /dev
  exec </dev/console >/dev/console 2>&1
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  CTL=/ctl
  ip link set lo up
  hostname sandhost-vm

  while read -r m; do
    insmod "/$m" || echo "sandhost-vm: insmod $m failed" >&2
  done < /modules.load

  # Large messages: the default 8 KiB msize makes 9p crawl.
  opts=trans=virtio,version=9p2000.L,msize=262144
  mount -t 9p -o "$opts,cache=mmap" vmctl /ctl || fail "cannot mount the control share"
  # The host's / does not change under a test (the writable parts are shares),
  # so it can be cached; qemu refuses writes to it.
  mkdir -p /lower /ovl
  mount -t 9p -o "$opts,cache=loose,ro" hostroot /lower || fail "cannot mount the host's / over 9p"
  # An overlay on it, with an upper layer in RAM, only so that directories the
  # host lacks can be made (/lib/modules/<kver>); it is made read-only below.
  R=/newroot
  mount -t tmpfs -o mode=755 tmpfs /ovl
  mkdir -p /ovl/upper /ovl/work
  if ! mount -t overlay -o lowerdir=/lower,upperdir=/ovl/upper,workdir=/ovl/work overlay $R; then
    echo "sandhost-vm: no overlay root; the host's / is used as is" >&2
    mount --bind /lower $R
  fi
  mount -t proc proc $R/proc
  mount -t sysfs sysfs $R/sys
  mount -t devtmpfs devtmpfs $R/dev
  mkdir -p $R/dev/pts $R/dev/shm $R/dev/mqueue
  mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts $R/dev/pts
  mount -t tmpfs -o mode=1777,nosuid,nodev shm $R/dev/shm
  mount -t mqueue mqueue $R/dev/mqueue 2>/dev/null
  # All v1 hierarchies are disabled (cgroup_no_v1=all): every controller is v2.
  mount -t cgroup2 -o nsdelegate cgroup2 $R/sys/fs/cgroup || fail "cannot mount cgroup2"
  for c in $(cat $R/sys/fs/cgroup/cgroup.controllers); do
    echo "+$c" > $R/sys/fs/cgroup/cgroup.subtree_control || echo "sandhost-vm: cannot enable $c" >&2
  done
  mount -t bpf bpf $R/sys/fs/bpf 2>/dev/null
  mount -t securityfs securityfs $R/sys/kernel/security 2>/dev/null
  mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null
  if grep -qw selinux /ctl/flags 2>/dev/null; then
    mount -t selinuxfs selinuxfs $R/sys/fs/selinux || echo "sandhost-vm: cannot mount selinuxfs" >&2
  fi

  for d in tmp var/tmp; do mount -t tmpfs -o mode=1777 tmpfs $R/$d; done
  mount -t tmpfs -o mode=755 tmpfs $R/run
  # State dirs start as the host's (dpkg's database, root's dotfiles) and take
  # writes in RAM.
  for d in var/lib root; do
    n=$(echo $d | tr / _)
    mkdir -p /ovl/$n/upper /ovl/$n/work
    mount -t overlay -o lowerdir=/lower/$d,upperdir=/ovl/$n/upper,workdir=/ovl/$n/work overlay $R/$d ||
      mount -t tmpfs -o mode=755 tmpfs $R/$d
  done

  # The extracted kernel's modules at their usual place, for modprobe and the
  # kernel's autoloading.
  kver=$(uname -r)
  moddir=$(cat /moddir)
  if [ -d "$R$moddir" ] && mkdir -p $R/lib/modules/$kver 2>/dev/null; then
    mount --bind "$R$moddir" $R/lib/modules/$kver
  else
    echo "sandhost-vm: $moddir not mounted at /lib/modules/$kver" >&2
  fi
  mount -o remount,ro $R || fail "cannot make the root read-only"

  mkdir -p $R$VMDIR/ctl
  cp /bin/busybox /init $R$VMDIR/
  # The kernel's module loader: the host's kmod if it has one, else busybox's
  # (which reads the text modules.dep that busybox depmod writes).
  if [ -x $R/sbin/modprobe ] && [ -f $R/lib/modules/$kver/modules.dep.bin ]; then
    echo /sbin/modprobe > /proc/sys/kernel/modprobe
  else
    ln -s busybox $R$VMDIR/modprobe
    echo $VMDIR/modprobe > /proc/sys/kernel/modprobe
  fi

  # Read-write shares, parents before children (vm-run.sh sorts them).
  while read -r tag path; do
    [ -n "$tag" ] || continue
    mkdir -p "$R$path" 2>/dev/null
    mount -t 9p -o "$opts,cache=mmap" "$tag" "$R$path" || fail "cannot mount share $path"
  done < /ctl/mounts

  mount --move /ctl $R$VMDIR/ctl
  umount /proc /sys 2>/dev/null
  # shellcheck disable=SC2093  # returns only on failure
  exec switch_root $R $VMDIR/busybox sh $VMDIR/init stage2
  fail "switch_root failed"
}

# shellcheck disable=SC2120  # its "$@" is the command, set from $CTL/cmd
stage2() {
  CTL=$VMDIR/ctl
  # The command runs in a clean environment: what vm-run.sh passed, nothing else.
  (
    for v in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v" 2>/dev/null; done
    export HOME=/root
    . $CTL/env
    . $CTL/cmd
    # This busybox prefers its applets to programs named alike (id, ls, ...):
    # look the command up in PATH ourselves and exec it by its path.
    cmd=$1
    case $cmd in
      */*) ;;
      *) IFS=:
         for d in $PATH; do
           if [ -f "$d/$cmd" ] && [ -x "$d/$cmd" ]; then cmd=$d/$cmd; break; fi
         done
         unset IFS
         case $cmd in */*) ;; *) echo "sandhost-vm: $cmd: command not found" >$CTL/err; exit 127 ;; esac ;;
    esac
    shift
    exec "$cmd" "$@" </dev/null >$CTL/out 2>$CTL/err
  )
  rc=$?
  echo "$rc" > $CTL/status.tmp && mv $CTL/status.tmp $CTL/status
  echo "SANDHOST-VM-EXIT=$rc" > /dev/console
  sync
  poweroff -f
}

case "${1:-}" in
  stage2) stage2 ;;
  *) stage1 ;;
esac
