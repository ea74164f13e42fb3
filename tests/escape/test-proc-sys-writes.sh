#!/bin/bash
# Host-wide kernel knobs a root in a container must not reach:
#  - kernel.core_pattern: a "|/path" pattern runs a program as host root on
#    any crash.  https://pwning.systems/posts/escaping-containers-for-fun/
#  - binfmt_misc register: an interpreter the kernel runs for matching files
#    (with the "C" flag, with the file's credentials).
#    https://terenceli.github.io/%E6%8A%80%E6%9C%AF/2023/06/17/binfmt_misc-escape
#  - /sys/kernel/uevent_helper (kernel.hotplug): run as host root on every
#    uevent.  https://blog.trailofbits.com/2019/07/19/understanding-docker-container-escapes/
# /proc/sys and /sys are read-only mounts, and, beneath that, the files are
# host root's (the container's ids are unprivileged): a fresh proc or sysfs
# mount inside the container gets EACCES.  binfmt_misc is per user
# namespace since Linux 6.7, so a container may register in its own
# instance; the host's instance must stay as it was.
. "$(dirname "$0")/escape-env.sh"

files="/proc/sys/kernel/core_pattern /proc/sys/kernel/core_uses_pid /proc/sys/kernel/modprobe /sys/kernel/uevent_helper /proc/sys/kernel/hotplug"
before=$(fingerprint $files)
host_binfmt() { # the host's binfmt_misc entries, seen from a private mount namespace
  unshare -m sh -c 'mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null; ls /proc/sys/fs/binfmt_misc' | sort | tr '\n' ' '
}
binfmt_before=$(host_binfmt)
run_hardened esc
ok $? "a hardened container runs"

like "$(sbx exec esc sbx-check write /proc/sys/kernel/core_pattern '|/tmp/pwn')" "EROFS|EACCES" "core_pattern through /proc/sys: refused"
like "$(sbx exec esc sbx-check write /proc/sys/kernel/modprobe /tmp/pwn)" "EROFS|EACCES|ENOENT" "kernel.modprobe: refused (or absent: a kernel without modules)"
like "$(sbx exec esc sbx-escape mount-fs proc sys/kernel/core_pattern '|/tmp/pwn')" \
  "^mount-proc EPERM|mount-proc sys/kernel/core_pattern (EACCES|EROFS|EPERM)" "core_pattern through a fresh proc mount: refused"
like "$(sbx exec esc sbx-check write /proc/sys/fs/binfmt_misc/register ':pwn:E::pwn::/tmp/pwn:')" "ENOENT|EROFS|EACCES" \
  "the host's binfmt_misc register is not reachable"
out=$(sbx exec esc sbx-escape mount-fs binfmt_misc register ':sbxescape:E::sbxescape::/bin/true:')
like "$out" "^mount-binfmt_misc (EPERM|ok)" "binfmt_misc inside: a mount of the container's own instance, or none ($(echo $out))"
is "$(host_binfmt)" "$binfmt_before" "the host's binfmt_misc entries are unchanged (no sbxescape)"
printf '\x7fpwn' > "$WORK/probe.sbxescape"
chmod 0755 "$WORK/probe.sbxescape"
like "$(python3 -c 'import os,sys
try: os.execv(sys.argv[1], [sys.argv[1]])
except OSError as e: print(e.strerror)' "$WORK/probe.sbxescape")" "Exec format error" "and the host runs no interpreter for a .sbxescape file"

if [ -e /sys/kernel/uevent_helper ]; then
  like "$(sbx exec esc sbx-check write /sys/kernel/uevent_helper /tmp/pwn)" "EROFS|EACCES" "uevent_helper: refused"
  like "$(sbx exec esc sbx-escape mount-fs sysfs kernel/uevent_helper /tmp/pwn)" "EPERM|EACCES|EROFS" "through a fresh sysfs: refused"
else
  # A kernel built without CONFIG_UEVENT_HELPER (this one) has no such knob.
  like "$(sbx exec esc sbx-check write /sys/kernel/uevent_helper /tmp/pwn)" "ENOENT|EROFS" \
    "uevent_helper: this kernel has none (CONFIG_UEVENT_HELPER off), and nothing can create it"
  skip "a write to a real uevent_helper: this kernel is built without CONFIG_UEVENT_HELPER"
fi
like "$(sbx exec esc sbx-check write /sys/kernel/mm/transparent_hugepage/enabled never)" "EROFS|EACCES|ENOENT" "a host-wide sysfs knob: refused"
is "$(fingerprint $files)" "$before" "core_pattern, modprobe, uevent_helper and hotplug of the host are unchanged"
sbx delete --force esc
done_testing
