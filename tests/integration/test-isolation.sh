#!/bin/bash
# What a container of `sbx spec --hardened` can and cannot do, seen from inside.
. "$(dirname "$0")/../lib/sbx-env.sh"
[ -x "$ROOTFS/bin/sbx-check" ] || skip_all "sbx-check is not built (SBX_CHECK)"

b=$(make_bundle iso '.process.args = ["/bin/sleep", "600"]')
sbx run --detach --bundle "$b" iso
ok $? "a hardened container runs"
pid=$(sbx state iso | jq -r .pid)
inside() { sbx exec iso "$@"; }

# User namespace: an unprivileged range, never host root.
map=$(inside cat /proc/self/uid_map | awk '{print $1, $2, $3}')
is "$map" "0 100000 65536" "uid_map maps root to an unprivileged range"
is "$(awk '{print $2}' /proc/$pid/uid_map)" 100000 "seen from the host too"
is "$(stat -c %u /proc/$pid)" 100000 "init runs as host uid 100000"

# pid namespace: host processes are invisible.
is "$(inside cat /proc/1/cmdline | tr '\0' ' ')" "/bin/sleep 600 " "the container's pid 1 is its init"
nproc_in=$(inside ls /proc | grep -c '^[0-9]*$')
check "nproc_in <= 5" "only the container's processes are visible ($nproc_in pids)"
inside test -e /proc/$$/status 2>/dev/null && [ "$$" -gt 10 ]
ok $((! $?)) "the test's own host pid is invisible"

# /proc: masked and read-only paths.
for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do
  [ -e "$p" ] || continue
  like "$(inside sbx-check read $p)" "ok 0$" "$p is masked (reads nothing)"
done
like "$(inside sbx-check write /proc/sys/kernel/hostname evil)" "EROFS|EACCES" "writes to /proc/sys fail"
if [ -e /proc/sysrq-trigger ]; then
  like "$(inside sbx-check write /proc/sysrq-trigger h)" "EROFS|EACCES" "/proc/sysrq-trigger is read-only"
fi
like "$(inside sbx-check write /sys/kernel/uevent_helper x)" "EROFS|EACCES|ENOENT" "/sys is read-only"
inside sh -c 'touch /sys/x' 2>/dev/null
ok $((! $?)) "nothing can be created in /sys"

# Capabilities and seccomp as configured.
want=$(printf '%016x' $(( (1<<21)|(1<<12)|(1<<0)|(1<<1)|(1<<4)|(1<<3)|(1<<6)|(1<<7)|(1<<31)|(1<<8)|(1<<10)|(1<<13)|(1<<18)|(1<<5)|(1<<29) )))
is "$(inside grep CapEff /proc/self/status | awk '{print $2}')" "$want" "CapEff is the hardened set"
is "$(inside grep CapBnd /proc/self/status | awk '{print $2}')" "$want" "CapBnd is the hardened set"
is "$(inside grep CapAmb /proc/self/status | awk '{print $2}')" 0000000000000000 "no ambient capabilities"
is "$(inside grep Seccomp: /proc/self/status | awk '{print $2}')" 2 "Seccomp: 2 (filter mode)"
is "$(inside grep NoNewPrivs /proc/self/status | awk '{print $2}')" 1 "no_new_privs is set"

# Denied syscalls: EPERM or ENOSYS, never success.
inside sbx-check --all-denied > "$WORK/denied" 2>&1
while read -r name res _; do
  case "$res" in
    EPERM|ENOSYS|EACCES|ENOTBLK|ENODEV|EINVAL) ok 0 "$name is denied ($res)" ;;
    *) ok 1 "$name is denied (got $res)" ;;
  esac
done < "$WORK/denied"
check "$(wc -l < "$WORK/denied") >= 20" "the denied-syscall table ran ($(wc -l < "$WORK/denied") checks)"
for s in keyctl bpf unshare-user kexec_load userfaultfd io_uring_setup open_by_handle_at int80-keyctl mount-blockdev; do
  like "$(inside sbx-check syscall $s)" "^$s (EPERM|ENOSYS|EACCES|ENOTBLK|ENOENT|ENODEV)" "$s fails inside"
done
like "$(inside sbx-check syscall int80-getpid)" "^int80-getpid ok" "the 32-bit entry point itself works, so the denials come from the filter"
like "$(inside sbx-check syscall clone3)" "^clone3 ENOSYS" "clone3 returns ENOSYS so libc falls back to clone"
like "$(inside sbx-check syscall unshare-net)" "^unshare-net ok" "namespaces other than user can still be made"

# Hostname is the container's own.
is "$(inside hostname)" sbx "hostname is set inside"
is "$(hostname)" "$(cat /proc/sys/kernel/hostname)" "the host's hostname is untouched"
inside hostname changed 2>/dev/null
is "$(hostname)" "$(cat /proc/sys/kernel/hostname)" "changing it inside does not reach the host"

# Devices: no mknod, no host devices.
like "$(inside sbx-check syscall mknod-char)" "EPERM" "mknod of a char device fails"
like "$(inside sbx-check syscall mknod-block)" "EPERM" "mknod of a block device fails"
for d in /dev/kmsg /dev/mem /dev/sda /dev/vda; do
  like "$(inside sbx-check open $d r)" "ENOENT|EPERM|EACCES" "host device $d cannot be opened"
done
like "$(inside sbx-check open /dev/null w)" "ok" "/dev/null works"
# The device cgroup program refuses nodes outside the allowlist even if they exist.
like "$(inside sbx-check open /dev/tty r)" "ok|ENXIO" "/dev/tty is allowed by the device program"

# The device program, alone: /dev/full is mode 0666 and bound from the host, so
# without the program any user could open it.  Drop its allow rule and it is refused.
b=$(make_bundle devs '.linux.resources.devices |= map(select(.minor != 7)) | .process.args = ["/bin/sbx-check", "open", "/dev/full", "w"]')
is "$(sbx run --bundle "$b" devs)" "/dev/full EPERM" "the eBPF device program refuses a node outside the allowlist"
b=$(make_bundle devs2 '.process.args = ["/bin/sbx-check", "open", "/dev/full", "w"]')
is "$(sbx run --bundle "$b" devs2)" "/dev/full ok" "and allows it while a rule names it"
b=$(make_bundle devs3 '.linux.resources.devices += [{"allow": false, "type": "c", "major": 1, "minor": 7, "access": "w"}] | .process.args = ["/bin/sh", "-c", "/bin/sbx-check open /dev/full w; /bin/sbx-check open /dev/full r"]')
is "$(sbx run --bundle "$b" devs3 | tr '\n' ' ')" "/dev/full EPERM /dev/full ok " "a later rule wins, per access bit"

# Only stdio crosses execve.
is "$(inside sbx-check fds)" "fds 0 1 2" "no stray fds reach the container"

# The runtime is not reachable through /proc/PID/exe (CVE-2019-5736 class).
like "$(readlink /proc/$pid/exe)" "^/bin/busybox|/rootfs/bin/busybox" "init runs the container's binary"
sbx delete --force iso
assert_gone iso "delete removes everything"
done_testing
