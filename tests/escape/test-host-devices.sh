#!/bin/bash
# Host devices: /dev/mem, /dev/kmem and /dev/port give the physical memory
# and I/O ports, /dev/kmsg the kernel log (and injection into it); a
# container that can open them, or mknod them, owns the host.
# Write-up: https://www.cyberark.com/resources/threat-research-blog/the-route-to-root-container-escape-using-kernel-exploitation (device nodes)
# Docker's rationale: https://docs.docker.com/engine/security/#linux-kernel-capabilities (no mknod by default)
# In Sandhost /dev is a tmpfs with six bound nodes, mknod in a user namespace
# fails (EPERM), and the eBPF device program refuses any node off its list.
. "$(dirname "$0")/escape-env.sh"

run_hardened esc
ok $? "a hardened container runs"
for d in mem kmem port kmsg; do
  like "$(sbx exec esc sbx-check open /dev/$d r)" "ENOENT|EPERM|EACCES" "/dev/$d cannot be opened for reading"
  like "$(sbx exec esc sbx-check open /dev/$d w)" "ENOENT|EPERM|EACCES" "/dev/$d cannot be opened for writing"
done
declare -A node=([mem]="1 1" [kmem]="1 2" [port]="1 4" [kmsg]="1 11")
for d in "${!node[@]}"; do
  out=$(sbx exec esc sbx-escape mknod-open "$d" ${node[$d]})
  like "$(echo "$out" | grep '^mknod /dev/')" "EPERM" "mknod of $d (${node[$d]}) in /dev: EPERM"
  like "$(echo "$out" | grep '^mknod /tmp/')" "EPERM" "mknod of $d in /tmp: EPERM"
  ok "$(echo "$out" | grep -q '^open .* ok'; echo $((! $?)))" "no $d node was opened"
done
like "$(sbx exec esc sbx-check syscall syslog)" "^syslog (EPERM|ENOSYS)" "syslog(2) of the kernel log: refused"
like "$(sbx exec esc sbx-check read /proc/kcore)" "/proc/kcore (ok 0|ENOENT|EACCES|EPERM)" "/proc/kcore reads nothing"
like "$(sbx exec esc sbx-check syscall iopl)" "^iopl (EPERM|ENOSYS)" "iopl (the I/O ports directly): refused"
# Even a node that exists in the container is refused when it is off the
# device program's list: bind the host's /dev/kmsg as a device with no rule.
b=$(make_bundle esc-kmsg '.linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}] | .process.args = ["/bin/sbx-check", "open", "/dev/kmsg", "r"]')
like "$(sbx run --bundle "$b" esc-kmsg 2>&1)" "/dev/kmsg (EPERM|EACCES)" "a host /dev/kmsg bound in without a device rule: refused by the device program"
sbx delete --force esc
done_testing
