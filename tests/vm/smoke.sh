#!/bin/bash
# vm-smoke: the VM tier itself works.  Run on the host (TAP); it boots the VM
# once with this script's --inside part, which reports facts as KEY=VALUE
# lines and exits 3, and checks them here: pure cgroup v2 with every controller,
# a child cgroup's memory.max enforced, binaries and libraries from the host,
# writable shares, the environment passed, the exit status propagated.
set -u
here=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" = --inside ]; then
  cg=/sys/fs/cgroup
  echo "fstype=$(stat -fc %T $cg)"
  echo "controllers=$(cat $cg/cgroup.controllers)"
  echo "subtree=$(cat $cg/cgroup.subtree_control)"
  child=$cg/vm-smoke
  mkdir $child
  echo 33554432 > $child/memory.max && echo 0 > $child/memory.swap.max
  echo "child_memory_max=$(cat $child/memory.max)"
  # tail keeps a line in memory until its end: /dev/zero has none, so it
  # grows until the cgroup's limit kills it.
  sh -c "echo \$\$ > $child/cgroup.procs && exec head -c 100000000 /dev/zero | tail -n 1 >/dev/null"
  echo "hog_status=$?"
  echo "oom_kills=$(awk '/^oom_kill /{print $2}' $child/memory.events)"
  rmdir $child && echo "child_removed=yes"
  echo "id=$(/usr/bin/id -un)"                       # dynamically linked, from the 9p root
  echo "python=$(python3 -c 'print(6 * 7)' 2>&1)"
  echo "root_rw=$(touch /usr/.vm-smoke 2>/dev/null && echo rw || echo ro)"
  echo "tmp=$(stat -fc %T /tmp)"
  echo "userns=$(unshare -Ur id -u 2>&1)"
  echo "pass_env=${SMOKE_VALUE:-unset}"
  echo "not_passed=${SMOKE_HIDDEN:-unset}"
  echo "cwd=$(pwd)"
  echo "from the VM" > "$SMOKE_SHARE/written"
  echo "to stderr" >&2
  exit 3
fi

. "$here/../lib/tap.sh"
work=$(mktemp -d /tmp/vm-smoke.XXXXXX)
defer "rm -rf '$work'"
mkdir "$work/share"

out=$(cd "$work" && SMOKE_VALUE="a 'quoted' value" SMOKE_HIDDEN=x SMOKE_SHARE=$work/share \
      VM_PASS_ENV="SMOKE_VALUE SMOKE_SHARE" \
      "$here/vm-run.sh" --timeout "${SMOKE_TIMEOUT:-240}" --share "$work/share" -- \
      bash "$here/smoke.sh" --inside 2>"$work/err")
rc=$?
if [ $rc = 77 ]; then skip_all "$(grep -v SKIP "$work/err" | head -n1)"; fi
get() { printf '%s\n' "$out" | sed -n "s/^$1=//p"; }

is "$rc" 3 "the command's exit status comes back through the VM"
is "$(get fstype)" cgroup2fs "/sys/fs/cgroup is cgroup2"
for c in cpuset cpu io memory pids; do
  like " $(get controllers) " " $c " "cgroup2 has the $c controller"
  like " $(get subtree) " " $c " "$c is enabled in the root's cgroup.subtree_control"
done
is "$(get child_memory_max)" 33554432 "a child cgroup takes memory.max"
is "$(get hog_status)" 137 "a hog in that cgroup is killed (SIGKILL)"
like "$(get oom_kills)" '^[1-9]' "the kernel counted the OOM kill in the child's memory.events"
is "$(get child_removed)" yes "the child cgroup is removed"
is "$(get id)" root "host binaries run with the host's libraries (/usr/bin/id)"
is "$(get python)" 42 "python3 from the host runs"
is "$(get root_rw)" ro "the host's / is read-only"
is "$(get tmp)" tmpfs "/tmp is a fresh tmpfs"
is "$(get userns)" 0 "user namespaces work (unshare -Ur)"
is "$(get pass_env)" "a 'quoted' value" "variables named in VM_PASS_ENV are passed verbatim"
is "$(get not_passed)" unset "other variables are not"
is "$(get cwd)" "$(cd "$work" && pwd -P)" "the command runs in the caller's cwd"
is "$(cat "$work/share/written" 2>/dev/null)" "from the VM" "a --share dir is writable from the VM"
like "$(cat "$work/err")" "to stderr" "the command's stderr comes out on stderr"
[ "$rc" = 3 ] || { diag "output:"; printf '%s\n' "$out" | sed 's/^/#   /'; sed 's/^/#   err: /' "$work/err"; }
done_testing
