#!/bin/bash
# Containers through sandhostd: create, start, stop, restart and delete as
# operations; what the container really is (its ids, cgroup, hostname,
# parent); tenants kept apart; plan limits; a daemon restart that leaves
# containers running and adopts them; nothing left after delete.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/hostd-env.sh"

hd_start 1
ok $([ -S "$S" ]; echo $?) "sandhostd starts, making the default pool and the busybox image"
like "$(api GET /1.0/images)" '"name":"busybox"' "the image is listed"
two_tenants '{"name": "tiny", "cpu_millis": 500, "memory_mib": 64, "pids": 64, "disk_mib": 256, "bandwidth_mbit": 10,
  "max_containers": 2, "total_cpu_millis": 1000, "total_memory_mib": 128, "total_disk_mib": 512, "net_default": "allow",
  "seccomp": "default"}' owner

# Event streams, as alice and as gus, from here on.
curl -sN --unix-socket "$S" -H "Authorization: Bearer $ta" 'http://sandhost/1.0/events?stream=1' > "$W/events.alice" &
ev_a=$!
curl -sN --unix-socket "$S" -H "Authorization: Bearer $tg" 'http://sandhost/1.0/events?stream=1' > "$W/events.gus" &
ev_g=$!
defer "kill $ev_a $ev_g 2>/dev/null"

# ---- create and start, as the tenant ----
like "$(api -t "$ta" POST /1.0/containers '{"name": "web1"}')" '^202 ' "alice creates web1: 202 with an operation"
op=$(j .operation.id)
is "$(wait_op -t "$ta" "$op")" success "the create operation succeeds"
api -t "$ta" GET /1.0/containers >/dev/null
c1=$(j '.containers[0].id')
is "$(j '.containers[0].state')" stopped "web1 is stopped"
is "$(j '.containers[0].memory_mib')" 64 "with the plan's sizes"
is "$(nsenter --net="$W/hostns" nft list tables | grep -c sandhost)" 0 "nft is not touched until a container starts"
api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "start"}' >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "start succeeds"
api -t "$ta" GET "/1.0/containers/$c1" >/dev/null
is "$(j .state)" running "web1 is running"
ipid=$(j .pid)
ok $([ -d "/proc/$ipid" ]; echo $?) "its init runs (pid $ipid)"
is "$(awk '/^Uid:/ {print $2}' "/proc/$ipid/status")" 3000000 "as the first id range from idmap_start"
is "$(awk '/^PPid:/ {print $2}' "/proc/$ipid/status")" "$pid" "as a child of sandhostd (its subreaper)"
like "$(grep '^0::' "/proc/$ipid/cgroup")" "^0::${own%/}/$CG/t$acme/c$c1\$" "in a cgroup below the tenant's, below ours"
is "$(nsenter -t "$ipid" -u hostname)" web1 "with its name as hostname"
ok $([ "$(readlink "/proc/$ipid/ns/user")" != "$(readlink /proc/self/ns/user)" ]; echo $?) "in a user namespace of its own"
sleep 0.6
like "$(cat "$W/events.alice")" '"type":"container-state".*"state":"running"' "alice's event stream shows web1 running"
like "$(grep '"type":"operation"' "$W/events.alice" | tail -1)" '"kind":"start".*"status":"success"' "and the start operation's end"
is "$(grep -c web1 "$W/events.gus")" 0 "gus's stream shows nothing of acme's"
like "$(api -t "$ta" GET /1.0/events?since=0)" '^200 .*"events":\[\{' "events since 0, as a list"
like "$(api -t "$ta" GET /1.0/events?bogus=1)" '^400 ' "an unknown parameter: 400"
like "$(awk '$2 ~ "bundles/c'"$c1"'/rootfs" {print $4}' /proc/mounts)" 'idmapped|rw' "its rootfs is the pool volume, idmapped"

# The tenant's cgroup carries the plan's totals (128 MiB, 2 x 64 pids, one cpu).
tfile() { # tfile NAME...: the first of these files in the tenant's cgroup, in any hierarchy
  local d f
  for d in $(own_dirs); do for f in "$@"; do [ -f "$d/t$acme/$f" ] && { cat "$d/t$acme/$f"; return; }; done; done
}
is "$(tfile memory.max memory.limit_in_bytes)" $((128 << 20)) "the tenant's cgroup limits its memory to the plan's total"
is "$(tfile pids.max)" 128 "and its pids"
like "$(tfile cpu.max cpu.cfs_quota_us)" '^100000' "and its cpu (one cpu's worth)"

# ---- networks: a subnet per tenant, an address per container, isolation ----
like "$(in_c "$c1" 'ip -4 addr show eth0')" 'inet 10\.64\.0\.2/24' "web1 has the first address of acme's subnet"
like "$(in_c "$c1" 'ip -6 addr show eth0')" 'inet6 fd53:6e64:7374::2/64' "and an IPv6 one (ULA)"
api GET "/1.0/containers/$c1" >/dev/null
is "$(j .ipv4) $(j .ipv6)" "10.64.0.2 fd53:6e64:7374::2" "the API shows both addresses"
api GET /1.0/containers >/dev/null
is "$(j ".containers[] | select(.id == $c1) | .ipv4")" 10.64.0.2 "and so does the list"
like "$(in_c "$c1" 'ip route')" 'default via 10\.64\.0\.1' "its default route is the tenant's gateway"
in_c "$c1" 'ping -c 1 -W 2 10.64.0.1' >/dev/null 2>&1
ok $? "web1 reaches its gateway"
like "$(nsenter --net="$W/hostns" nft list table inet sandhost 2>&1)" '"sb1" : jump t1' "the host's nft table has acme's network"
like "$(nsenter --net="$W/hostns" nft list table bridge sandhost 2>&1)" "\"sh$(printf %x "$c1")\" \. [0-9a-f:]+ \. 10\.64\.0\.2" \
  "and web1's port in the anti-spoofing sets"
is "$(ip link show "sb1" 2>&1 | grep -c 'does not exist')" 1 "nothing of it in the machine's own namespace"
like "$(nsenter --net="$W/hostns" tc qdisc show dev "sh$(printf %x "$c1")")" 'tbf .*rate 10Mbit' \
  "the plan's bandwidth (10 Mbit/s) shapes what web1 receives"
like "$(nsenter --net="$W/hostns" tc qdisc show dev "ish$(printf %x "$c1")")" 'tbf .*rate 10Mbit' "and what it sends (through its ifb)"

# ---- network policy: the socket-layer programs, pinned, changed live ----
like "$(api -t "$ta" GET "/1.0/containers/$c1/policy")" '"plan_default":true' "web1 has its plan's default policy"
ok $([ -e "$W/bpf/c$c1/connect4" ]; echo $?) "its programs are pinned under bpf_dir"
like "$(api -t "$ta" PUT "/1.0/containers/$c1/policy" '{"policy": "default out allow\nallow out tcp 10.0.0.0/8 port 99999"}')" \
  '^400 .*line 2' "a policy with an out-of-range port: 400 with its position"
like "$(api -t "$tg" PUT "/1.0/containers/$c1/policy" '{"policy": "default out deny"}')" '^404 ' "gus cannot set acme's policy"
api -t "$ta" PUT "/1.0/containers/$c1/policy" '{"policy": "default out allow\ndeny out 10.64.0.1/32\n"}' >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "a policy denying the gateway, applied live"
like "$(in_c "$c1" 'nc -w 2 10.64.0.1 53 </dev/null 2>&1')" 'not permitted' "a TCP connect to it fails with EPERM"
like "$(in_c "$c1" 'nslookup example 10.64.0.1 2>&1')" 'not permitted' "and so does a UDP send (a DNS query)"
api -t "$ta" PUT "/1.0/containers/$c1/policy" '{"policy": null}' >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "back to the plan's default"
like "$(in_c "$c1" 'nc -w 2 10.64.0.1 53 </dev/null 2>&1')" 'refused' "and the connect gets through (refused: nothing listens)"

# Metrics: state and usage from the cgroups, within what the caller may read.
curl -s --unix-socket "$S" -H "Authorization: Bearer $ta" http://sandhost/1.0/metrics > "$W/metrics"
like "$(grep '^sandhost_container_state{.*web1.*state="running"}' "$W/metrics")" ' 1$' "metrics: web1 is running"
mem=$(sed -n 's/^sandhost_container_memory_bytes{container="web1".*} //p' "$W/metrics")
check "${mem:-0} > 0" "metrics: web1's memory in use ($mem bytes)"
like "$(grep -c '^# TYPE' "$W/metrics")" '^[0-9]+$' "metrics are Prometheus text"
ok $(curl -s --unix-socket "$S" -H "Authorization: Bearer $tg" http://sandhost/1.0/metrics | grep -q web1; [ $? = 1 ]; echo $?) \
  "gus's metrics do not show acme's web1"
is "$(grep -c '^sandhost_host_\|^sandhost_pool_' "$W/metrics")" 0 "nor the host's capacity (the provider's)"
curl -s --unix-socket "$S" http://sandhost/1.0/metrics > "$W/metrics.admin"
is "$(sed -n 's/^sandhost_host_cpus //p' "$W/metrics.admin")" "$(getconf _NPROCESSORS_ONLN)" "the admin's metrics: the host's cpus"
is "$(sed -n 's/^sandhost_host_memory_bytes{kind="total"} //p' "$W/metrics.admin")" \
  "$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 1024 ))" "its memory"
curl -s --unix-socket "$S" -H "Authorization: Bearer $ta" \
  'http://sandhost/1.0/metrics?name=sandhost_container_memory_bytes&name=sandhost_container_pids' > "$W/metrics.some"
is "$(grep -v '^#' "$W/metrics.some" | sed 's/{.*//' | sort -u | tr '\n' ' ')" "sandhost_container_memory_bytes sandhost_container_pids " \
  "?name= keeps only the families asked for"
like "$(api -t "$ta" GET '/1.0/metrics?name=nope')" '^400 .*"field":"name"' "an unknown family: 400 naming it"
psize=$(sed -n 's/^sandhost_pool_bytes{kind="size"} //p' "$W/metrics.admin")
pused=$(sed -n 's/^sandhost_pool_bytes{kind="used"} //p' "$W/metrics.admin")
check "${psize:-0} >= 1000000000 && ${pused:-0} > 0 && ${pused:-0} < ${psize:-0}" "the pool's size and use ($pused of $psize bytes; 2G here)"

# Usage for billing, sampled every second here.
sleep 2.2
curl -s --unix-socket "$S" -H "Authorization: Bearer $ta" 'http://sandhost/1.0/usage?format=csv' > "$W/usage.csv"
is "$(head -1 "$W/usage.csv")" "tenant_id,container_id,container,samples,from,to,cpu_seconds,memory_avg_bytes,memory_max_bytes,disk_max_bytes,net_in_bytes,net_out_bytes" \
  "usage as CSV, with a header"
check "$(awk -F, '$3 == "web1" {print $4}' "$W/usage.csv") >= 2" "web1 has usage samples"
check "$(awk -F, '$3 == "web1" {print $9}' "$W/usage.csv") > 0" "with its memory"
like "$(api -t "$tg" GET "/1.0/usage?tenant=$acme")" '^404 ' "gus cannot read acme's usage"
like "$(api -t "$ta" GET "/1.0/usage?bogus=1")" '^400 .*bogus' "an unknown parameter is named"

# exec over a websocket: a command, then an interactive shell on a terminal.
WSX="$(dirname "$0")/../lib/ws-exec.py"
PY=/usr/bin/python3   # Debian's, with python3-websocket (not a pyenv shim)
out=$($PY "$WSX" "$S" "/1.0/containers/$c1/exec?command=id%3B+hostname&tty=0" "$ta")
like "$out" 'uid=0\(root\)' "exec id: root inside"
like "$out" 'web1' "and the container's hostname"
like "$out" '#ctl \{"exit":0\}' "the exit code comes last"
out=$($PY "$WSX" "$S" "/1.0/containers/$c1/exec?command=exit+3&tty=0" "$ta")
like "$out" '#ctl \{"exit":3\}' "a command's own exit code"
out=$($PY "$WSX" "$S" "/1.0/containers/$c1/exec?cols=100&rows=30" "$ta" 'stty size; tty' $'\n' '{"resize": [120, 40]}' 'stty size' $'\n' 'exit 7' $'\n')
like "$out" '30 100' "a terminal of the size asked"
like "$out" '40 120' "resized on the fly"
like "$out" '/dev/pts/' "on a pty"
like "$out" '#ctl \{"exit":7\}' "and the shell's exit code"
like "$($PY "$WSX" "$S" "/1.0/containers/$c1/exec?command=id" "$tg" 2>&1)" '404' "gus cannot exec in web1"
like "$(api -t "$ta" GET "/1.0/containers/$c1/exec?command=id")" '^400 .*websocket' "exec without the websocket handshake: 400"
like "$(api GET /1.0/audit?limit=50)" '"path":"/1.0/containers/'"$c1"'/exec","status":101' "exec is audited"

# Logs: the container's output file, its last lines.
printf 'one\ntwo\nthree\n' >> "$W/state/bundles/c$c1/console.log"
is "$(curl -s --unix-socket "$S" -H "Authorization: Bearer $ta" "http://sandhost/1.0/containers/$c1/logs?lines=2")" "$(printf 'two\nthree')" \
  "logs: the last lines of web1's output"
like "$(api -t "$ta" GET "/1.0/containers/$c1/logs?lines=0")" '^400 .*lines' "a bad lines count: 400"
like "$(api -t "$tg" GET "/1.0/containers/$c1/logs")" '^404 ' "gus cannot read them"

# ---- tenants apart ----
like "$(api -t "$tg" GET "/1.0/containers/$c1")" '^404 ' "gus gets 404 on acme's container"
like "$(api -t "$tg" PUT "/1.0/containers/$c1/state" '{"action": "stop"}')" '^404 ' "and cannot stop it"
like "$(api -t "$tg" DELETE "/1.0/containers/$c1")" '^404 ' "nor delete it"
api -t "$tg" GET /1.0/containers >/dev/null
is "$(j '.containers | length')" 0 "gus lists no containers"
like "$(api -t "$tg" GET "/1.0/operations/$op")" '^404 ' "nor sees acme's operations"

# ---- plan limits ----
like "$(api -t "$ta" POST /1.0/containers '{"name": "big", "memory_mib": 100}')" '^422 .*memory_mib' \
  "a size above the plan's: 422 naming it"
like "$(api -t "$ta" POST /1.0/containers '{"name": "web1"}')" '^409 .*name' "a second web1: 409"
like "$(api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "start"}')" '^409 .*running' "starting a running container: 409"
api -t "$ta" POST /1.0/containers '{"name": "web2"}' >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "web2 is created"
like "$(api -t "$ta" POST /1.0/containers '{"name": "web3"}')" '^422 .*2 of the 2 containers' \
  "a third container on a plan of two: 422"

# ---- a daemon restart leaves containers running and adopts them ----
hd_stop
ok $([ -d "/proc/$ipid" ]; echo $?) "web1 keeps running while sandhostd is stopped"
hd_start 2
api GET "/1.0/containers/$c1" >/dev/null
is "$(j .state)/$(j .pid)" "running/$ipid" "after the restart it is still running, same init"
api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "stop"}' >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "the adopted container stops"
ok $([ ! -d "/proc/$ipid" ]; echo $?) "its init is gone"

# A pid is its init only while its start time matches: a pid that another
# process took while sandhostd was down is not adopted as the container.
api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "start"}' >/dev/null
wait_op -t "$ta" "$(j .operation.id)" >/dev/null
api GET "/1.0/containers/$c1" >/dev/null
rpid=$(j .pid)
is "$(sqlite3 "$W/state/sandhost.db" "SELECT pid_start FROM containers WHERE id = $c1")" "$(sed 's/.*) //' "/proc/$rpid/stat" | cut -d' ' -f20)" \
  "the init's start time is recorded beside its pid"
hd_stop
sqlite3 "$W/state/sandhost.db" "UPDATE containers SET pid_start = pid_start + 1 WHERE id = $c1"
hd_start 2b
for _ in $(seq 100); do api GET "/1.0/containers/$c1" >/dev/null; [ "$(j .state)" = stopped ] && break; sleep 0.1; done
is "$(j .state)" stopped "after a restart, a recorded pid whose start time differs is not the container's init: it is cleaned up as ended"
like "$(cat "$W/out.2b")" "c$c1: its init \(pid $rpid\) exited" "and the log says so"

# ---- stop: SIGTERM, exit code recorded ----
api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "start"}' >/dev/null
wait_op -t "$ta" "$(j .operation.id)" >/dev/null
api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "restart"}' >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "restart succeeds"
api GET "/1.0/containers/$c1" >/dev/null
new=$(j .pid)
check "$new != $ipid" "with a new init"
is "$(j .last_exit)" 0 "and the old one's clean exit (0) recorded"
# An init that exits on its own is noticed.
kill -KILL "$new"
for _ in $(seq 50); do api GET "/1.0/containers/$c1" >/dev/null; [ "$(j .state)" = stopped ] && break; sleep 0.1; done
is "$(j .state)/$(j .last_exit)" "stopped/137" "an init killed from outside: stopped, exit 137 recorded"

# ---- restart policy ----
like "$(api -t "$ta" PATCH "/1.0/containers/$c1" '{"restart_policy": "on-failure"}')" '^200 ' "web1 restarts on failure"
api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "start"}' >/dev/null
wait_op -t "$ta" "$(j .operation.id)" >/dev/null
api GET "/1.0/containers/$c1" >/dev/null
first=$(j .pid)
kill -KILL "$first"
for _ in $(seq 100); do
  api GET "/1.0/containers/$c1" >/dev/null
  [ "$(j .state)" = running ] && [ "$(j .pid)" != "$first" ] && break
  sleep 0.1
done
is "$(j .state)/$(j .last_exit)/$(j .restarts)" "running/137/1" "killed, it is started again (exit 137 recorded, one restart)"
ok $([ -d "/proc/$(j .pid)" ] && [ "$(j .pid)" != "$first" ]; echo $?) "with a new init"
api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "stop"}' >/dev/null
wait_op -t "$ta" "$(j .operation.id)" >/dev/null
sleep 2
api GET "/1.0/containers/$c1" >/dev/null
is "$(j .state)" stopped "stopped by hand, it stays stopped"
api -t "$ta" PATCH "/1.0/containers/$c1" '{"restart_policy": "never"}' >/dev/null

# ---- snapshots: take one, change the files, restore ----
api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "start"}' >/dev/null
wait_op -t "$ta" "$(j .operation.id)" >/dev/null
api GET "/1.0/containers/$c1" >/dev/null
# As the container's root (its user namespace: host root is not in its range).
in_c1() { nsenter -t "$(api GET "/1.0/containers/$c1" >/dev/null; j .pid)" -m -U sh -c "$1"; }
in_c1 'echo before > /root/mark'
like "$(api -t "$ta" POST "/1.0/containers/$c1/snapshots" '{"name": "s1"}')" '^202 ' "snapshot s1 of the running web1"
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "the snapshot is taken"
like "$(api -t "$ta" POST "/1.0/containers/$c1/snapshots" '{"name": "s1"}')" '^409 .*s1' "a second s1: 409"
like "$(api -t "$ta" POST "/1.0/containers/$c1/snapshots" '{"name": "../x"}')" '^400 .*name' "a bad snapshot name: 400"
api -t "$ta" GET "/1.0/containers/$c1/snapshots" >/dev/null
is "$(j '.snapshots[0].name')" s1 "it is listed"
sid=$(j '.snapshots[0].id')
like "$(api -t "$tg" GET "/1.0/containers/$c1/snapshots")" '^404 ' "not to gus"
like "$(api -t "$tg" POST "/1.0/containers/$c1/snapshots/$sid/restore")" '^404 ' "who cannot restore it either"
in_c1 'echo after > /root/mark'
is "$(in_c1 'cat /root/mark')" after "the file changes after the snapshot"
like "$(api -t "$ta" POST "/1.0/containers/$c1/snapshots/$sid/restore")" '^409 .*stop it first' "restoring a running container: 409"
api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "stop"}' >/dev/null
wait_op -t "$ta" "$(j .operation.id)" >/dev/null
api -t "$ta" POST "/1.0/containers/$c1/snapshots/$sid/restore" >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "restore s1 on the stopped web1"
api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "start"}' >/dev/null
wait_op -t "$ta" "$(j .operation.id)" >/dev/null
is "$(in_c1 'cat /root/mark')" before "the file is as it was at the snapshot"
api -t "$ta" DELETE "/1.0/containers/$c1/snapshots/$sid" >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "delete the snapshot"
api -t "$ta" GET "/1.0/containers/$c1/snapshots" >/dev/null
is "$(j '.snapshots | length')" 0 "none is listed"
api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "stop"}' >/dev/null
wait_op -t "$ta" "$(j .operation.id)" >/dev/null

# ---- a crash in the middle of an operation, and orphans ----
# A runtime that takes its time, so that the daemon dies mid-step.
SBX=$(dirname "$SANDHOSTD")/../sandbox/sbx
printf '#!/bin/sh\nsleep 1\nexec %s "$@"\n' "$SBX" > "$W/slow-sbx"
chmod +x "$W/slow-sbx"
hd_stop
hd_start 3 --set "sbx=$W/slow-sbx"
api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "start"}' >/dev/null
op=$(j .operation.id)
sleep 0.6
kill -KILL "$pid"; wait "$pid" 2>/dev/null
sqlite3 "$W/state/sandhost.db" "SELECT status || '/' || step FROM operations WHERE id = $op" > "$W/opstate"
like "$(cat "$W/opstate")" '^(running|pending)/' "sandhostd killed (SIGKILL) with the start operation unfinished ($(cat "$W/opstate"))"
"$SBX_STORAGE" --pool "$W/state/pools/default" volume create c999 busybox >/dev/null
mkdir -p "$W/state/bundles/c999"
sleep 1   # the slow runtime it had started finishes on its own
hd_start 4
is "$(wait_op "$op")" success "after a restart the interrupted operation is finished"
api GET "/1.0/containers/$c1" >/dev/null
is "$(j .state)" running "and the container runs"
ok $([ -d "/proc/$(j .pid)" ]; echo $?) "its init exists"
is "$("$SBX" --root "$W/run/sbx" list | jq length)" 1 "the runtime knows one container, not two"
like "$(cat "$W/out.4")" 'removed orphan c999' "an orphan volume and bundle (c999) are removed at start"
ok $([ ! -e "$W/state/bundles/c999" ]; echo $?) "its bundle is gone"
is "$("$SBX_STORAGE" --pool "$W/state/pools/default" volume list | jq '[.[] | select(.id == "c999")] | length')" 0 "and its volume"

# ---- the sandhost CLI, as gus ----
CLI=$(dirname "$SANDHOSTD")/sandhost
sh_() { SANDHOST_TOKEN=$tg "$CLI" --socket "$S" "$@"; }
like "$(sh_ info)" '"principal": "gus"' "sandhost info: gus, through \$SANDHOST_TOKEN"
like "$(sh_ create cli1 2>&1)" 'cli1 created' "sandhost create waits for the operation"
like "$(sh_ list)" 'cli1 +[0-9]+ +stopped' "sandhost list shows it, stopped"
is "$(sh_ --json list | jq -r '.containers[] | select(.name == "cli1") | .state')" stopped "and --json gives the API's JSON"
is "$(sh_ start cli1 --json 2>/dev/null | jq -r '.kind + "/" + .status')" "start/success" "sandhost start cli1 (--json: the operation it ended with)"
like "$(sh_ show cli1)" '"state": "running"' "sandhost show: running"
cli1=$(sh_ show cli1 | jq .id)
like "$(in_c "$cli1" 'ip -4 addr show eth0')" 'inet 10\.64\.1\.2/24' "globex's cli1 is on globex's own subnet"
api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "start"}' >/dev/null
wait_op -t "$ta" "$(j .operation.id)" >/dev/null
in_c "$cli1" 'ping -c 1 -W 2 10.64.1.1' >/dev/null 2>&1
ok $? "cli1 reaches its gateway"
in_c "$cli1" 'ping -c 1 -W 2 10.64.0.2' >/dev/null 2>&1
ok $((! $?)) "but not acme's web1: tenants are apart"
in_c "$c1" 'ping -c 1 -W 2 10.64.1.2' >/dev/null 2>&1
ok $((! $?)) "nor web1 cli1"
api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "stop"}' >/dev/null
wait_op -t "$ta" "$(j .operation.id)" >/dev/null
sh_ stop cli1 --timeout 3 >/dev/null 2>&1; ok $? "sandhost stop cli1 --timeout 3"
like "$(sh_ start web1 2>&1)" 'no such container' "acme's web1 does not exist for gus"
ok $([ "$(sh_ start web1 >/dev/null 2>&1; echo $?)" = 1 ]; echo $?) "and the exit status says so"
like "$(sh_ create bad --memory 99999 2>&1)" 'memory_mib.*quota_exceeded' "a refusal prints the message, code and field"
like "$(sh_ api GET /1.0/plans)" '"name": "tiny"' "sandhost api GET prints any reply"
sh_ delete cli1 >/dev/null 2>&1; ok $? "sandhost delete cli1"
like "$(sh_ list)" '^id' "and it is gone"
ok $(sh_ list | grep -q cli1; [ $? = 1 ]; echo $?) "no cli1 in the list"

# ---- delete: nothing left ----
for c in $(api GET /1.0/containers >/dev/null; j '.containers[].id'); do
  api -t "$ta" DELETE "/1.0/containers/$c" >/dev/null
  is "$(wait_op -t "$ta" "$(j .operation.id)")" success "delete c$c"
done
api GET /1.0/containers >/dev/null
is "$(j '.containers | length')" 0 "no container is listed"
is "$("$SBX_STORAGE" --pool "$W/state/pools/default" volume list | jq length)" 0 "no volume is left in the pool"
is "$(ls "$W/state/bundles" | wc -l)" 0 "no bundle is left"
is "$(ls "$W/run/sbx" | wc -l)" 0 "no runtime state is left"
is "$(for d in $(own_dirs); do [ -d "$d/t$acme" ] && find "$d/t$acme" -mindepth 1 -type d; done | wc -l)" 0 \
  "no container cgroup is left (in any hierarchy)"
is "$(awk '$2 ~ "'"$W"'/state/bundles" ' /proc/mounts | wc -l)" 0 "no rootfs mount is left"
is "$(nsenter --net="$W/hostns" ip -o link show | grep -c ' sh[0-9a-f]*@')" 0 "no container veth is left"
is "$(nsenter --net="$W/hostns" ip -o link show | grep -o ' ish[0-9a-f]*:' | tr -d '\n')" "" "nor an ifb"
is "$(ls "$W/bpf" | grep -v "\.debug$" | tr "\n" " ")" "" "no policy pin is left"
like "$(api GET /1.0/audit?limit=200)" '"path":"/1.0/containers/[0-9]+/state"' "the state changes are audited"
like "$(api GET "/1.0/usage?tenant=$acme")" "\"container_id\":$c1" "usage outlives the deleted container (billing)"
hd_stop; pid=""
# What the daemons said, when something failed.
[ "$_tap_fail" = 0 ] || for f in "$W"/out.*; do echo "# --- $f"; sed 's/^/# /' "$f"; done
done_testing
