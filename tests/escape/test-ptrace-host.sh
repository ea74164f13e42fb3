#!/bin/bash
# ptrace of a host process from a container: with a shared pid namespace or
# CAP_SYS_PTRACE, a container attaches to a host process (or to the
# runtime as it joins, CVE-2016-9962 for runc) and runs code as it.
# Write-up: https://blog.pentesteracademy.com/privilege-escalation-breaking-out-of-containers-part-1-fa6ff7da9aa5 (ptrace into a host process)
# CVE-2016-9962: https://nvd.nist.gov/vuln/detail/CVE-2016-9962
# In Sandhost the container has its own pid namespace (host pids do not
# exist there: ESRCH), no CAP_SYS_PTRACE, and every runtime process that
# enters it is non-dumpable (EPERM).  tests/escape/test-cve-2019-5736-runtime-exe.sh
# races exec's joining processes too.
. "$(dirname "$0")/escape-env.sh"

sleep 300 >/dev/null 2>&1 &
victim=$!
defer "kill $victim"
run_hardened esc
ok $? "a hardened container runs"
init=$(sbx state esc | jq -r .pid)
# Host pids: this test, the sleeper, the container's init as the host numbers it.
for p in $$ $victim $init; do
  out=$(sbx exec esc sbx-escape ptrace "$p")
  for what in ptrace pidfd kill0 vm_readv; do
    like "$(echo "$out" | grep "^$what ")" "^$what $p ESRCH$" "$what of host pid $p: ESRCH (not in the container's pid namespace)"
  done
done
nhost=$(ls /proc | grep -c '^[0-9]*$')
nin=$(sbx exec esc ls /proc | grep -c '^[0-9]*$')
check "nin < 10 && nhost > nin" "the container sees only its own processes ($nin of the host's $nhost)"
like "$(sbx exec esc sbx-check caps | grep CapEff)" "CapEff:" "capabilities are readable"
cap=$(sbx exec esc sbx-check caps | awk '/CapEff/ {print $2}')
check "(0x$cap >> 19 & 1) == 0" "CAP_SYS_PTRACE (19) is not in the effective set ($cap)"

# The runtime as it joins: loop execs while the container attacks every
# runtime process it can see.
sbx exec esc sbx-escape exe-race 8 "$(stat -L -c '%d:%i' "$SBX")" > "$WORK/race" &
r=$!
sleep 1
for i in $(seq 20); do sbx exec esc /bin/true; done
wait $r
race=$(grep '^exe-race seen=' "$WORK/race")
diag "$race"
like "$race" "ptrace_ok=0$" "no runtime process joining the container could be ptrace-attached"
like "$race" "seen=[1-9]" "(the attacker saw runtime processes)"
is "$(cat /proc/$victim/status | awk '/TracerPid/ {print $2}')" 0 "the host process is not traced"
sbx delete --force esc
done_testing
