#!/bin/bash
# create, start, state, exec, pause/resume, kill, delete, run.
. "$(dirname "$0")/../lib/sbx-env.sh"

b=$(make_bundle life '.process.args = ["/bin/sleep", "300"]')
sbx create --bundle "$b" --pid-file "$WORK/life.pid" life
ok $? "create"
is "$(sbx state life | jq -r .status)" created "state is created"
pid=$(sbx state life | jq -r .pid)
is "$(cat "$WORK/life.pid")" "$pid" "pid file holds the init pid"
is "$(sbx list | jq -r '.[0].id')" life "list shows it"
sbx start life
ok $? "start"
is "$(sbx state life | jq -r .status)" running "state is running"
like "$(cat /proc/$pid/cmdline | tr '\0' ' ')" "^/bin/sleep 300" "init became the configured process"

# exec joins every namespace of the container and its cgroup.
for ns in user mnt pid uts ipc net cgroup; do
  want=$(readlink /proc/$pid/ns/$ns)
  got=$(sbx exec life readlink /proc/self/ns/$ns)
  is "$got" "$want" "exec joins the $ns namespace"
done
is "$(sbx exec life cat /proc/self/attr/current 2>/dev/null || echo none)" \
   "$(cat /proc/$pid/attr/current 2>/dev/null || echo none)" "exec gets the container's label"
like "$(sbx exec life grep Seccomp: /proc/self/status)" "Seccomp:[[:space:]]+2" "exec is under seccomp"
is "$(sbx exec life grep CapEff /proc/self/status)" "$(grep CapEff /proc/$pid/status)" "exec has the container's capabilities"
is "$(sbx exec life cat /proc/1/cmdline | tr '\0' ' ')" "/bin/sleep 300 " "exec sees the container's pid 1"
sbx exec life sh -c 'exit 3'
is "$?" 3 "exec passes the exit code through"
is "$(sbx exec -e FOO=bar life sh -c 'echo $FOO')" bar "exec --env"
is "$(sbx exec --cwd /tmp life pwd)" /tmp "exec --cwd"
is "$(sbx exec --user 1000:1000 life id -u)" 1000 "exec --user"
like "$(sbx exec -t life tty < /dev/null | tr -d '\r')" "^/dev/pts/[0-9]+" "exec -t gives a pty"

sbx pause life
ok $? "pause"
is "$(sbx state life | jq -r .status)" paused "state is paused"
like "$(grep State: /proc/$pid/status)" "[ST] \(|D" "init is frozen"
sbx resume life
ok $? "resume"
is "$(sbx state life | jq -r .status)" running "state is running again"

sbx delete life 2>"$WORK/err"
ok $((! $?)) "delete refuses a running container"
like "$(cat "$WORK/err")" "running" "and says why"
sbx kill life KILL
ok $? "kill"
for _ in $(seq 50); do [ "$(sbx state life | jq -r .status)" = stopped ] && break; sleep 0.1; done
is "$(sbx state life | jq -r .status)" stopped "state is stopped after SIGKILL"
sbx delete life
ok $? "delete"
assert_gone life "delete removes state and cgroups"
sbx state life 2>/dev/null
ok $((! $?)) "state of a deleted container fails"

# run: create + start + wait, exit code passed through, removed afterwards.
b=$(make_bundle run '.process.args = ["/bin/sh", "-c", "exit 7"]')
sbx run --bundle "$b" runner
is "$?" 7 "run passes the exit code through"
assert_gone runner "run removes the container when it exits"

# A requested SELinux label on a host without SELinux: the container runs and
# the state says what was not applied.
b=$(make_bundle label '.process.selinuxLabel = "system_u:system_r:container_t:s0:c1,c2" | .process.args = ["/bin/true"]')
sbx create --bundle "$b" label
ok $? "create with selinuxLabel"
if [ "$(cat /sys/fs/selinux/enforce 2>/dev/null)" = "" ]; then
  like "$(sbx state label | jq -r '.annotations["org.sandhost.warning.selinux"]')" "SELinux is disabled" \
    "the state records that the label was not applied"
fi
sbx delete --force label

# Time namespace: boottime and monotonic offsets.
b=$(make_bundle timens '.linux.namespaces += [{"type": "time"}] | .linux.timeOffsets = {"boottime": {"secs": 86400, "nanosecs": 0}} | .process.args = ["/bin/cat", "/proc/uptime"]')
up_in=$(sbx run --bundle "$b" timens | cut -d. -f1)
up_host=$(cut -d. -f1 /proc/uptime)
check "up_in - up_host >= 86390 && up_in - up_host <= 86410" "timeOffsets shift the container's boottime by a day ($up_in vs $up_host)"

# Joining a namespace by path: a network namespace the test made and bound to a file.
touch "$WORK/netns"
if unshare --net="$WORK/netns" true; then
  defer "umount '$WORK/netns'"
  want=$(stat -L -c %i "$WORK/netns")
  b=$(make_bundle joinnet ".linux.namespaces |= map(if .type == \"network\" then .path = \"$WORK/netns\" else . end) | .process.args = [\"/bin/sh\", \"-c\", \"stat -L -c %i /proc/self/ns/net; ls /sys/class/net | tr '\\\\n' ' '\"]")
  out=$(sbx run --bundle "$b" joinnet)
  is "$(echo "$out" | head -1)" "$want" "a network namespace given by path is joined"
  like "$(echo "$out" | tail -1)" "lo" "and /sys (bound read-only from the host) still works"
else
  ok 1 "could not make a network namespace for the path test"
fi

# root.readonly
b=$(make_bundle rofs '.root.readonly = true | .process.args = ["/bin/sh", "-c", "touch /x 2>&1; touch /tmp/x 2>&1; echo done"]')
like "$(sbx run --bundle "$b" rofs)" "Read-only file system" "root.readonly makes / read-only"

# --console-socket receives the pty master (runc protocol).
b=$(make_bundle con '.process.terminal = true | .process.args = ["/bin/sh", "-c", "tty; sleep 2"]')
python3 - "$WORK/console.sock" > "$WORK/console.out" <<'PY' &
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
fds = array.array("i")
msg, anc, _, _ = c.recvmsg(64, socket.CMSG_SPACE(fds.itemsize))
for level, kind, data in anc:
    fds.frombytes(data[:fds.itemsize])
print(os.read(fds[0], 100).decode().strip())
PY
srv=$!
defer "kill $srv"
# (Python starts slowly under TCG on a busy host: up to 60 s.)
for _ in $(seq 600); do [ -S "$WORK/console.sock" ] && break; sleep 0.1; done
sbx create --bundle "$b" --console-socket "$WORK/console.sock" con
rc=$?
ok $rc "create with --console-socket"
sbx start con
# A server that never got the terminal would wait for ever.
[ "$rc" = 0 ] || kill "$srv" 2>/dev/null
wait $srv
like "$(cat "$WORK/console.out")" "^/dev/console|^/dev/pts/" "the pty master reached the console socket"
sbx delete --force con
assert_gone con "delete --force removes a running container"
done_testing
