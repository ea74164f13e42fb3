#!/bin/bash
# Quotas are enforced by the kernel: memory, pids and cpu.  Runs on the host
# (cgroup v1 hybrid) and in the VM tier (pure cgroup v2).
. "$(dirname "$0")/../lib/sbx-env.sh"
[ -x "$ROOTFS/bin/sbx-check" ] || skip_all "sbx-check is not built (SBX_CHECK)"
mode=$( [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && echo v2 || echo v1-hybrid)
diag "cgroup mode: $mode"

# Memory: a hog is OOM-killed at its limit; the host keeps running.
# swap = limit: no swap either, so the kernel has to kill.
b=$(make_bundle mem '.linux.resources.memory = {"limit": 33554432, "swap": 33554432} | .process.args = ["/bin/sbx-check", "hog", "256"]')
marker=$WORK/alive
echo alive > "$marker"
sbx run --bundle "$b" mem > "$WORK/hog.out" 2>&1
rc=$?
is "$rc" 137 "the memory hog is killed with SIGKILL (exit 137)"
last=$(grep -o 'hog [0-9]*' "$WORK/hog.out" | tail -1 | awk '{print $2}')
check "${last:-0} < 48" "it got no further than its 32 MiB limit (last report ${last:-none} MiB)"
is "$(cat "$marker")" alive "the host side is untouched"
assert_gone mem "the container is removed after the kill"

# The OOM kill is recorded by the kernel in the container's cgroup.
b=$(make_bundle mem2 '.linux.resources.memory = {"limit": 33554432} | .process.args = ["/bin/sh", "-c", "sbx-check hog 256; sleep 600"]')
sbx run --detach --bundle "$b" mem2 >"$WORK/mem2.out" 2>&1
cgm=$(jq -r '.cgroup.v1.memory // .cgroup.unified' "$SBX_ROOT/mem2/state.json")
for _ in $(seq 50); do
  if [ "$mode" = v2 ]; then n=$(awk '/^oom_kill /{print $2}' "$cgm/memory.events"); else n=$(awk '/^oom_kill /{print $2}' "$cgm/memory.oom_control"); fi
  [ "${n:-0}" -gt 0 ] && break
  sleep 0.1
done
check "${n:-0} > 0" "the kernel counted an OOM kill in the container's cgroup ($n)"
sbx delete --force mem2

# pids: a fork bomb stops at pids.max.
b=$(make_bundle pids '.linux.resources.pids = {"limit": 20} | .process.args = ["/bin/sbx-check", "fork-bomb", "200"]')
out=$(sbx run --bundle "$b" pids 2>&1)
forked=$(echo "$out" | awk '/^forked/{print $2}')
like "$out" "^forked [0-9]+ EAGAIN" "fork fails with EAGAIN at the limit"
check "${forked:-99} < 20" "fewer than 20 processes were created ($forked)"
assert_gone pids "the container is removed"

# cpu: a quota of 0.2 cpu keeps a busy loop near 20%.
b=$(make_bundle cpu '.linux.resources.cpu = {"quota": 20000, "period": 100000} | .process.args = ["/bin/sbx-check", "spin", "3"]')
out=$(sbx run --bundle "$b" cpu)
cpu=$(echo "$out" | sed -n 's/.*cpu_ms=\([0-9]*\).*/\1/p')
wall=$(echo "$out" | sed -n 's/.*wall_ms=\([0-9]*\).*/\1/p')
pct=$(( ${cpu:-0} * 100 / ${wall:-1} ))
diag "cpu ${cpu} ms over ${wall} ms wall = ${pct}%"
# The mechanism, not the timing: unthrottled this is ~100%.
check "pct >= 5 && pct <= 45" "cpu usage is throttled near 20% ($pct%)"
b=$(make_bundle cpu2 '.process.args = ["/bin/sbx-check", "spin", "1"]')
out=$(sbx run --bundle "$b" cpu2)
cpu=$(echo "$out" | sed -n 's/.*cpu_ms=\([0-9]*\).*/\1/p'); wall=$(echo "$out" | sed -n 's/.*wall_ms=\([0-9]*\).*/\1/p')
diag "unthrottled: $(( ${cpu:-0} * 100 / ${wall:-1} ))%"

# Limits land in the cgroup files the kernel enforces.
b=$(make_bundle files '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 77} | .process.args = ["/bin/sleep", "60"]')
sbx create --bundle "$b" files
st=$SBX_ROOT/files/state.json
if [ "$mode" = v2 ]; then
  u=$(jq -r .cgroup.unified "$st")
  is "$(cat "$u/memory.max")" 67108864 "memory.max is set"
  is "$(cat "$u/pids.max")" 77 "pids.max is set"
  case "$u" in "$(awk -F: '$1=="0"{print "/sys/fs/cgroup"$3}' /proc/self/cgroup | sed 's#/$##')"/*) r=0 ;; *) r=1 ;; esac
  ok $r "the cgroup lies below the caller's own cgroup"
else
  is "$(cat "$(jq -r .cgroup.v1.memory "$st")/memory.limit_in_bytes")" 67108864 "memory.limit_in_bytes is set"
  is "$(cat "$(jq -r .cgroup.v1.pids "$st")/pids.max")" 77 "pids.max is set"
  own=$(awk -F: '$2=="memory"{print $3}' /proc/self/cgroup)
  like "$(jq -r .cgroup.v1.memory "$st")" "^/sys/fs/cgroup/memory$own/" "the memory cgroup lies below the caller's own"
fi
sbx delete --force files
assert_gone files "delete removes the cgroups"
done_testing
