#!/bin/bash
# The kernel keyring is not namespaced: keys are global objects found by
# serial number, and a container whose ids overlapped the host's (or another
# container's) could read or replace their keys (Docker disallowed keyctl in
# its default profile after exactly this).
# Write-up: https://www.projectatomic.io/blog/2014/09/yet-another-reason-containers-don-t-contain-kernel-keyrings/
# Docker's profile note: https://docs.docker.com/engine/security/seccomp/ (keyctl, add_key, request_key)
# In Sandhost: keyctl, add_key and request_key fail with EPERM (seccomp), the
# 32-bit entry points too, and /proc/keys is masked.
. "$(dirname "$0")/escape-env.sh"
H=$SBX_ESCAPE

# A host key anyone may read (permissions 0x3f3f3f3f), so that only the
# container's isolation stands in the way; it expires by itself in 300 s.
serial=$("$H" key-add "sbx-escape-$$" "host-secret-$$")
check "serial > 0" "the host holds a readable key (serial $serial)"
defer "'$H' key-drop $serial"
run_hardened esc
ok $? "a hardened container runs"

out=$(sbx exec esc sbx-escape keyctl-read "$serial")
like "$(echo "$out" | grep '^keyctl-read')" "EPERM" "keyctl READ of the host's key: EPERM"
like "$(echo "$out" | grep '^keyctl-describe')" "EPERM" "keyctl DESCRIBE: EPERM"
like "$(echo "$out" | grep '^keyctl-update')" "EPERM" "keyctl UPDATE (overwrite): EPERM"
like "$(echo "$out" | grep '^add_key-user')" "EPERM" "add_key to the user keyring: EPERM"
for s in keyctl add_key request_key int80-keyctl x32-keyctl; do
  like "$(sbx exec esc sbx-check syscall $s)" "^$s (EPERM|ENOSYS)$" "$s fails inside"
done
is "$(sbx exec esc sbx-check read /proc/keys)" "/proc/keys ok 0" "/proc/keys shows nothing"
is "$("$H" key-show "$serial")" "key $serial host-secret-$$" "the host's key still holds what the host put in it"
sbx delete --force esc
done_testing
