#!/bin/bash
# Both seccomp profiles, from inside real containers: sandhost-probe is
# bind-mounted read-only into a container of `sbx spec --hardened --seccomp
# PROFILE` and run there with sbx exec, as the container's root.  Every
# syscall check the profile denies must fail with the errno (or the kill)
# the deciding rule names; the table of what each rule says comes from the
# profile in the container's config.json, read by seccomp-expect.  The
# report must also parse and show the container's uid map, no_new_privs,
# seccomp mode 2 and the capabilities the bounding set dropped.
. "$(dirname "$0")/../lib/sbx-env.sh"
: "${SANDHOST_PROBE:?set SANDHOST_PROBE to the sandhost-probe binary}"
: "${SECCOMP_EXPECT:?set SECCOMP_EXPECT to the seccomp-expect helper}"

PROBE_IN=/.sandhost-probe
mount_probe=$(jq -cn --arg src "$SANDHOST_PROBE" --arg dst "$PROBE_IN" \
  '{destination: $dst, type: "bind", source: $src, options: ["bind", "ro", "nosuid", "nodev"]}')

for profile in default strict; do
  # sbx names the cgroup after the id (sbx/ID below the caller's cgroup):
  # the pid keeps runs of this test in other checkouts apart.
  id=sec-$profile-$$
  b=$(make_bundle "$id" ".process.args = [\"/bin/sleep\", \"600\"] | .mounts += [$mount_probe]" --seccomp "$profile")
  jq .linux.seccomp "$b/config.json" > "$WORK/$profile.json"
  is "$(jq -S . "$WORK/$profile.json" | sha256sum)" "$(jq -S . "$SANDHOST_SRC/policy/seccomp/$profile.json" | sha256sum)" \
    "$profile: sbx spec --seccomp $profile writes policy/seccomp/$profile.json into config.json"
  sbx run --detach --bundle "$b" "$id"
  ok $? "$profile: the container runs"

  report=$WORK/$profile-report.json
  sbx exec "$id" "$PROBE_IN" --connect udp:192.0.2.1:9 --timeout 300 > "$report"
  ok $? "$profile: the probe runs inside and exits 0"
  jq -e . "$report" > /dev/null
  ok $? "$profile: the report is one JSON document"

  # What the container is, as the probe sees it.
  is "$(jq -r '.ids.uid_map[] | "\(.inside) \(.outside) \(.count)"' "$report")" "0 100000 65536" \
    "$profile: uid_map is the container's range"
  is "$(jq -r '.ids.gid_map[] | "\(.inside) \(.outside) \(.count)"' "$report")" "0 100000 65536" \
    "$profile: gid_map is the container's range"
  is "$(jq -r .ids.uid "$report")" 0 "$profile: the probe runs as the container's root"
  is "$(jq -r .no_new_privs "$report")" true "$profile: no_new_privs is set"
  is "$(jq -r .seccomp.mode "$report")" 2 "$profile: seccomp mode 2 (filter)"
  check "$(jq -r .seccomp.filters "$report") >= 1" "$profile: at least one filter is attached"
  is "$(jq -r '.capabilities.bounding.names | sort | join(" ")' "$report")" \
     "$(jq -r '.process.capabilities.bounding | sort | join(" ")' "$b/config.json")" \
     "$profile: the bounding set is the one config.json asks for"
  is "$(jq -r '[.capabilities.bounding.names[] as $b | .capabilities.dropped | index($b)] | map(select(. != null)) | length' "$report")" 0 \
    "$profile: nothing is both kept and dropped"
  for cap in CAP_SYS_MODULE CAP_SYS_RAWIO CAP_SYS_BOOT CAP_SYS_PTRACE CAP_SYS_TIME CAP_MAC_ADMIN CAP_BPF; do
    is "$(jq -r --arg c "$cap" '.capabilities.dropped | index($c) != null' "$report")" true \
      "$profile: $cap is among the dropped capabilities"
  done
  is "$(jq -r '.capabilities.effective.hex' "$report")" "$(jq -r '.capabilities.bounding.hex' "$report")" \
    "$profile: root's effective set is its bounding set"
  is "$(jq -r .network[0].result "$report")" ENETUNREACH \
    "$profile: the container's own network namespace routes nowhere"

  # Every check the profile denies fails as the rule says.
  "$SECCOMP_EXPECT" "$WORK/$profile.json" "$report" > "$WORK/$profile.expect"
  ok $? "$profile: seccomp-expect reads the profile and the report"
  denied=0 allowed=0
  while IFS=$'\t' read -r name expected got why; do
    case "$expected" in
      allowed) allowed=$((allowed + 1)) ;;
      *)
        denied=$((denied + 1))
        is "$got" "$expected" "$profile: $name is $expected ($why)"
        ;;
    esac
  done < "$WORK/$profile.expect"
  total=$(jq '.syscalls | length' "$report")
  is "$((denied + allowed))" "$total" "$profile: every one of the $total checks was decided"
  diag "$profile: $denied checks denied by the profile, $allowed left to the kernel"

  # Calls the profile lets through reach the kernel: the filter is not
  # simply refusing everything.
  result() { jq -r --arg n "$1" '.syscalls[] | select(.name == $n) | .result' "$report"; }
  is "$(result int80-getpid)" ok "$profile: the 32-bit entry point works, so its denials come from the filter"
  is "$(result clone-plain)" ok "$profile: fork-like clone works"
  is "$(result socket-inet-stream)" ok "$profile: a TCP socket can be made"
  is "$(result unshare-files)" ok "$profile: unshare(CLONE_FILES) works"
  is "$(result mknod-fifo)" ok "$profile: a FIFO can be made"

  # The abilities summary agrees.
  is "$(jq -r .abilities.namespaces.user "$report")" EPERM "$profile: no user namespace can be made"
  if [ "$profile" = default ]; then
    check "$denied >= 50" "default: the probe ran the default profile's denials ($denied)"
    is "$(jq -r .abilities.namespaces.net "$report")" ok "default: a network namespace can be made (a VPS runs its own)"
    is "$(jq -r .abilities.mount.tmpfs "$report")" ok "default: root mounts a tmpfs in its own mount namespace"
    is "$(result personality-addr-no-randomize)" ok "default: gdb may turn ASLR off for itself"
  else
    check "$denied >= 110" "strict: the probe ran the strict profile's denials ($denied)"
    is "$(jq -r '[.abilities.namespaces[]] | unique | join(" ")' "$report")" EPERM \
      "strict: no namespace of any type can be made"
    is "$(jq -r .abilities.mount.tmpfs "$report")" EPERM "strict: no mount"
    is "$(jq -r .abilities.mount.tmpfs_in_new_mount_ns.result "$report")" skipped \
      "strict: not even in a new mount namespace (unshare is refused first)"
    is "$(jq -r '[.abilities.sockets[]] | unique | join(" ")' "$report")" "EAFNOSUPPORT EPERM" \
      "strict: raw sockets are EPERM, packet sockets EAFNOSUPPORT"
  fi

  sbx delete --force "$id"
  assert_gone "$id" "$profile: delete removes everything"
done
done_testing
