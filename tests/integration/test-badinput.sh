#!/bin/bash
# Bad input: a clear error that names the problem, and nothing left behind.
. "$(dirname "$0")/../lib/sbx-env.sh"

# Processes running as the container's host uids: none may survive a failed create.
# A killed init is reaped by the host's init a moment later, so poll briefly.
range_procs() {
  local n
  for _ in $(seq 30); do
    n=$(ps -eo uid=,stat= | awk '$1 >= 100000 && $1 < 165536' | wc -l)
    [ "$n" = "${before:-x}" ] && break
    sleep 0.1
  done
  echo "$n"
}
before=$(range_procs)

# expect_fail NAME REGEX DESCRIPTION: create must fail, say REGEX, leave nothing.
expect_fail() {
  local id=$1 re=$2 desc=$3
  sbx create --bundle "$WORK/$id" "$id" 2>"$WORK/$id.err"
  local rc=$?
  ok $((rc == 0)) "$desc: create fails"
  like "$(cat "$WORK/$id.err")" "$re" "$desc: the error names it"
  assert_gone "$id" "$desc: no state dir or cgroup left"
  is "$(range_procs)" "$before" "$desc: no process left"
}

b=$(make_bundle malformed)
printf '{"ociVersion": "1.2.0", "process": {' > "$b/config.json"
expect_fail malformed "config.json.*line 1" "malformed JSON"

make_bundle unknown '.process.bogusField = 1' >/dev/null
expect_fail unknown "process\.bogusField.*unknown" "an unknown field"

make_bundle unsupported '.linux.intelRdt = {"closID": "x"}' >/dev/null
expect_fail unsupported "linux\.intelRdt" "an unsupported field"

make_bundle norootfs '.root.path = "/nonexistent/rootfs"' >/dev/null
expect_fail norootfs "root\.path.*/nonexistent/rootfs" "a missing rootfs"

# A rootfs whose /proc points at / must not get procfs mounted over its root.
evil=$WORK/evilroot
cp -a "$ROOTFS" "$evil"
rmdir "$evil/proc" && ln -s / "$evil/proc"
make_bundle evilproc ".root.path = \"$evil\"" >/dev/null
expect_fail evilproc "/proc.*symlink is not allowed" "a rootfs whose /proc is a symlink to /"
is "$(stat -fc %T "$evil")" "$(stat -fc %T "$WORK")" "nothing was mounted on the evil rootfs"

make_bundle overlap '.linux.uidMappings = [{"containerID":0,"hostID":100000,"size":1000},{"containerID":500,"hostID":200000,"size":1000}]' >/dev/null
expect_fail overlap "uidMappings\[1\].*overlaps" "an overlapping idmap"

make_bundle hostroot '.linux.uidMappings = [{"containerID":0,"hostID":0,"size":65536}]' >/dev/null
expect_fail hostroot "uidMappings\[0\].*host root" "an idmap of container root to host root"

make_bundle nouserns '.linux.namespaces |= map(select(.type != "user"))' >/dev/null
expect_fail nouserns "user namespace is required" "a config without a user namespace"

make_bundle badlimit '.linux.resources.unified = {"memory.high": "1G"}' >/dev/null
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
  expect_fail badlimit "unified.*cgroup v2" "a limit this host cannot enforce"
else
  sbx create --bundle "$WORK/badlimit" badlimit && sbx delete --force badlimit
  ok $? "unified limits apply on cgroup v2"
fi

# A duplicate ID: the second create fails and the first container is untouched.
b=$(make_bundle dup '.process.args = ["/bin/sleep", "60"]')
sbx create --bundle "$b" dup
ok $? "first create of an ID works"
pid=$(sbx state dup | jq -r .pid)
sbx create --bundle "$b" dup 2>"$WORK/dup.err"
ok $((! $?)) "a duplicate ID is refused"
like "$(cat "$WORK/dup.err")" "dup.*already exists" "the error says the ID exists"
is "$(sbx state dup | jq -r '"\(.status) \(.pid)"')" "created $pid" "the first container is untouched"
sbx delete --force dup
assert_gone dup "the first container deletes cleanly"
is "$(range_procs)" "$before" "no container process is left"
done_testing
