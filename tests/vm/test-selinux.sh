#!/bin/bash
# SELinux enforcing with Sandhost's policy (docs/selinux.md), in the VM tier:
#   tests/vm/vm-run.sh --selinux -- bash tests/vm/test-selinux.sh
# The VM boots Debian's kernel with SELinux on and no policy.  This loads the
# policy store that packaging/selinux/install.sh built on the host (Debian's
# selinux-policy-default plus container.pp and sandhost.cil, the meson target
# policy/selinux/root.stamp), switches to enforcing, and runs real sbx
# containers, each labelled container_t with its own MCS pair:
#   - a container's processes carry container_t and its pair; its files
#     container_file_t and the same pair;
#   - two containers get different pairs;
#   - a file of container B bind-mounted into A with DAC wide open (mode
#     0666, owned by both containers' root) is denied to A by SELinux
#     (EACCES), and the kernel logs the AVC naming both pairs;
#   - `sbx exec` into a container gets the container's label.
# Needs SBX, SBX_CHECK, SANDHOST_BUILD.  A missing prerequisite skips, or
# fails under SANDHOST_VM_STRICT=1 (CI: the test must run).

# Containers inherit this script's stdio.  The VM's are files on 9p, which
# carry no label a container may use (SELinux would close them at execve,
# with an AVC each): run under a pipe, as a daemon hands its containers pipes.
if [ -z "${SELINUX_TEST_PIPED:-}" ]; then
  SELINUX_TEST_PIPED=1 bash "$0" "$@" 2>&1 </dev/null | cat
  exit "${PIPESTATUS[0]}"
fi
. "$(dirname "$0")/../lib/sbx-env.sh"

prereq() {
  if [ "${SANDHOST_VM_STRICT:-0}" = 1 ]; then echo "Bail out! $*"; exit 1; fi
  skip_all "$*"
}
[ -x "$ROOTFS/bin/sbx-check" ] || prereq "sbx-check is not built (SBX_CHECK)"
[ -e /sys/fs/selinux/enforce ] || prereq "SELinux is not active here (run under tests/vm/vm-run.sh --selinux)"
for p in load_policy setenforce getenforce compute_av restorecon; do
  command -v $p >/dev/null || prereq "$p not found (scripts/setup.sh installs policycoreutils, selinux-utils)"
done
store=${SANDHOST_BUILD:?}/policy/selinux/root
type=$(sed -n 's/^SELINUXTYPE=//p' "$store/etc/selinux/config" 2>/dev/null | tail -n1)
[ -n "$type" ] && ls "$store/etc/selinux/$type/policy/"policy.* >/dev/null 2>&1 ||
  prereq "no policy store in $store (ninja -C \$build policy/selinux/root.stamp; needs selinux-policy-default, -dev, -src)"

proc_label() { echo "system_u:system_r:container_t:$1"; }
file_label() { echo "system_u:object_r:container_file_t:$1"; }

# ---- the policy ----------------------------------------------------------------
# The VM's /etc is the host's, read-only: the store's etc goes over it from
# RAM.  load_policy needs nothing else (the store itself, /var/lib/selinux,
# is for semodule, which ran on the host).
mkdir -p /run/selinux-etc
cp -a "$store/etc/selinux/." /run/selinux-etc/
mount --bind /run/selinux-etc /etc/selinux
defer "umount /etc/selinux"
load_policy
ok $? "load_policy loads Debian's policy with both modules"
# The kernel knows refpolicy's container types, and sandhost.cil's rules are in.
valid() { printf %s "$1" 2>/dev/null > /sys/fs/selinux/context && echo valid || echo invalid; }
is "$(valid "$(proc_label s0:c1,c2)")" valid "container_t:s0:c1,c2 is a valid context"
is "$(valid system_u:system_r:no_such_container_t:s0:c1,c2)" invalid "(an unknown type is not)"
like "$(compute_av system_u:system_r:kernel_t:s0 "$(proc_label s0:c1,c2)" process)" "allowed=.*\btransition\b" \
  "sandhost.cil lets the runtime's domain enter container_t"
# The VM's devtmpfs was made before the policy was loaded; a booted host has
# its device nodes labelled (udev), and containers get these bind-mounted.
restorecon -F /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty
is "$(stat -c %C /dev/null)" system_u:object_r:null_device_t:s0 "/dev/null carries its label, as on a booted host"
# Every AVC must reach the kernel log: no printk rate limit in this VM.
sysctl -qw kernel.printk_ratelimit=0 2>/dev/null
dmesg -C
setenforce 1
is "$(getenforce)" Enforcing "SELinux is enforcing"
defer "setenforce 0"

# ---- two containers, two pairs ---------------------------------------------------
A=s0:c11,c12 B=s0:c13,c14

# bundle NAME LEVEL [JQ]: a hardened bundle with a rootfs of its own.
bundle() {
  local b
  b=$(make_bundle "$1" ".process.selinuxLabel = \"$(proc_label "$2")\" | ${3:-.}")
  cp -a "$ROOTFS" "$WORK/rootfs-$1"
  ln -sfn "$WORK/rootfs-$1" "$b/rootfs"
  echo "$b"
}
bb=$(bundle b "$B" '.process.args = ["/bin/sh", "-c", "echo secret-of-b > /secret && chmod 0666 /secret && exec sleep 600"]')
sbx run --detach --bundle "$bb" b
ok $? "container b runs at $B"
# Container b writes its file itself, so it carries b's pair.
for _ in $(seq 50); do [ -s "$WORK/rootfs-b/secret" ] && break; sleep 0.2; done
is "$(stat -c %C "$WORK/rootfs-b/secret")" "$(file_label "$B")" \
  "b's file carries container_file_t and b's pair"
is "$(stat -c '%a %u' "$WORK/rootfs-b/secret")" "666 100000" "DAC lets anyone read it (0666, owned by the containers' root)"

ba=$(bundle a "$A" '.process.args = ["/bin/sleep", "600"] |
  .mounts += [{"destination": "/mnt/b-secret", "type": "bind", "source": "'"$WORK/rootfs-b/secret"'", "options": ["bind"]},
              {"destination": "/mnt/a-own", "type": "bind", "source": "'"$WORK/rootfs-a/etc/hostname"'", "options": ["bind", "ro"]}]')
sbx run --detach --bundle "$ba" a
ok $? "container a runs at $A"

pa=$(sbx state a | jq -r .pid) pb=$(sbx state b | jq -r .pid)
is "$(tr -d '\0' < /proc/"$pa"/attr/current)" "$(proc_label "$A")" "a's init runs as container_t at a's pair (seen from the host)"
is "$(tr -d '\0' < /proc/"$pb"/attr/current)" "$(proc_label "$B")" "b's init runs as container_t at b's pair"
isnt() { if [ "$1" != "$2" ]; then ok 0 "$3"; else ok 1 "$3"; echo "#   both: '$1'"; fi; }
isnt "$(tr -d '\0' < /proc/"$pa"/attr/current)" "$(tr -d '\0' < /proc/"$pb"/attr/current)" "the two containers' labels differ"
is "$(stat -c %C "$WORK/rootfs-a/bin/busybox")" "$(file_label "$A")" \
  "a's rootfs is labelled container_file_t at a's pair"
is "$(stat -c %C "$WORK/rootfs-b/bin/busybox")" "$(file_label "$B")" \
  "b's rootfs at b's pair"

# ---- from inside, and through sbx exec ----------------------------------------------
is "$(sbx exec a sbx-check label)" "label $(proc_label "$A")" "sbx exec into a gets a's label"
is "$(sbx exec b sbx-check label)" "label $(proc_label "$B")" "sbx exec into b gets b's label"
# Inside a's mount namespace, seen through /proc/PID/root.
in_a() { local f; for f in "$@"; do stat -c %C "/proc/$pa/root$f"; done 2>&1 | sort -u | tr '\n' ' '; }
is "$(in_a /dev /dev/shm /dev/pts /dev/pts/ptmx /dev/mqueue /dev/stdout)" "$(file_label "$A") " \
  "a's tmpfs, devpts and mqueue mounts carry its pair (context=)"
is "$(in_a /mnt /bin /)" "$(file_label "$A") " "so do the rootfs and the mount points the runtime made in it"
sbx exec a sh -c 'echo made > /tmp/new && mkdir /root/d'
ok $? "a writes its own rootfs"
is "$(in_a /tmp/new /root/d)" "$(file_label "$A") " "files a creates carry its pair"
is "$(sbx exec a sbx-check read /mnt/a-own | awk '{print $2}')" ok "a reads its own file through a bind mount"

# ---- the cross-container read ----------------------------------------------------------
is "$(sbx exec a sbx-check read /mnt/b-secret)" "/mnt/b-secret EACCES" "a cannot read b's file (mode 0666) bind-mounted into it: EACCES"
is "$(sbx exec a sbx-check write /mnt/b-secret x)" "/mnt/b-secret EACCES" "nor write it"
is "$(sbx exec a stat -c %a /mnt/b-secret 2>&1 | grep -c 'Permission denied')" 1 "nor stat it (sandhost.cil's MCS rule: the base policy's leaves stat to DAC)"
is "$(cat "$WORK/rootfs-b/secret")" secret-of-b "b's file is unchanged"
is "$(sbx exec b sbx-check read /secret | awk '{print $2}')" ok "b itself reads it"
sleep 1   # the AVC goes through kauditd to the log
avc=$(dmesg | grep 'avc:  denied' | grep 'scontext=system_u:system_r:container_t:s0:c11,c12 ' |
      grep 'tcontext=system_u:object_r:container_file_t:s0:c13,c14 ' | grep -E 'name="secret"|path="/mnt/b-secret"' | head -n1)
like "$avc" 'denied  \{ (read|open|getattr)' "the kernel log has the AVC: container_t at a's pair denied on b's file"
[ -n "$avc" ] && diag "${avc#*audit: }"
# The denial is SELinux's alone: permissive, the same read succeeds.
setenforce 0
is "$(sbx exec a sbx-check read /mnt/b-secret | awk '{print $2}')" ok "with SELinux permissive the same read succeeds (DAC allows it)"
setenforce 1

# What else the containers were denied: each would be a gap in the policy.
others=$(dmesg | grep 'avc:  denied' | grep -v 'tcontext=system_u:object_r:container_file_t:s0:c13,c14 ' || true)
is "$(echo -n "$others" | grep -c .)" 0 "no other AVC denial while the containers ran"
[ -z "$others" ] || echo "$others" | sed 's/^/#   /' | head -n 20

sbx delete --force a; sbx delete --force b
done_testing
