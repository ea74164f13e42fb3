#!/bin/bash
# Port forwards through the API: `forward tcp PUBLIC to PORT` in a container's
# policy makes the host's public port reach the container from the outside
# world (a network namespace behind the daemon's uplink); a public port is
# one container's (409 for a second); only the provider's range may be
# forwarded; a forward goes with a policy change, a stop and a delete.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/hostd-env.sh"
command -v sqlite3 >/dev/null || skip_all "needs sqlite3"
BB=$(command -v busybox) || skip_all "needs busybox"

hd_start 1 --set uplink=up0 --set forward_ports=10000-10999
# The outside world, behind the host's uplink up0: 192.0.2.2 -> 192.0.2.1.
touch "$W/outns"
unshare --net="$W/outns" true || skip_all "cannot make a network namespace"
nsenter --net="$W/hostns" sleep 600 &
hs=$!
defer "kill $hs 2>/dev/null"
nsenter --net="$W/outns" ip link add out0 type veth peer name up0 netns "$hs"
nsenter --net="$W/outns" sh -c 'ip addr add 192.0.2.2/24 dev out0 && ip link set out0 up && ip link set lo up'
nsenter --net="$W/hostns" sh -c 'ip addr add 192.0.2.1/24 dev up0 && ip link set up0 up && sysctl -qw net.ipv4.ip_forward=1'
outside() { nsenter --net="$W/outns" "$BB" nc -w 3 192.0.2.1 "$1" </dev/null 2>&1; }
sql() { sqlite3 -readonly -cmd '.timeout 5000' "$W/state/sandhost.db" "$1"; }

api POST /1.0/plans '{"name": "p", "cpu_millis": 200, "memory_mib": 64, "pids": 64, "disk_mib": 128, "bandwidth_mbit": 100,
  "max_containers": 4, "total_cpu_millis": 1000, "total_memory_mib": 512, "total_disk_mib": 1024, "net_default": "allow",
  "seccomp": "default"}' >/dev/null
plan=$(j .id)
api POST /1.0/tenants "{\"name\": \"acme\", \"plan_id\": $plan}" >/dev/null; acme=$(j .id)
api POST /1.0/tenants "{\"name\": \"globex\", \"plan_id\": $plan}" >/dev/null; globex=$(j .id)
mk() { # mk NAME TENANT: a started container's id
  api POST /1.0/containers "{\"name\": \"$1\", \"tenant_id\": $2}" >/dev/null
  local id op
  op=$(j .operation.id) id=$(j .operation.container_id)
  wait_op "$op" >/dev/null
  echo "$id"
}
a=$(mk web "$acme")
b=$(mk other "$globex")

like "$(api PUT "/1.0/containers/$a/policy" '{"policy": "forward tcp 80 to 80\n"}')" \
  '^400 .*line 1, column 1: public port 80 is outside the ports this host forwards \(10000-10999\)","field":"policy"' \
  "a public port outside the provider's range: 400, naming line and column"
like "$(api PUT "/1.0/containers/$a/policy" '{"policy": "default in deny\nforward tcp 10080 to 80\n"}')" '^200 ' \
  "web (stopped) forwards tcp 10080 to its port 80, with inbound denied otherwise"
is "$(sql "SELECT proto || ' ' || public_port || ' ' || port FROM forwards WHERE container_id = $a")" "tcp 10080 80" "recorded as web's"
like "$(api PUT "/1.0/containers/$b/policy" '{"policy": "forward tcp 10080 to 22\n"}')" \
  '^409 .*public tcp port 10080 of the host is forwarded to another container","field":"policy"' \
  "another tenant's container asking for the same public port: 409"
is "$(sql "SELECT count(*) FROM forwards WHERE container_id = $b")" 0 "and nothing of it is recorded"
like "$(api PUT "/1.0/containers/$b/policy" '{"policy": "forward udp 10080 to 53\n"}')" '^200 ' "the same number over udp is another port: fine"

for id in "$a" "$b"; do api PUT "/1.0/containers/$id/state" '{"action": "start"}' >/dev/null; wait_op "$(j .operation.id)" >/dev/null; done
api GET "/1.0/containers/$a" >/dev/null
is "$(j .state)" running "web runs"
like "$(nsenter --net="$W/hostns" nft list table inet sandhost)" 'tcp \. 10080 : 10\.64\.[0-9]+\.[0-9]+ \. 80' \
  "the host's nft forwards tcp 10080 to web's address, port 80"
in_c "$a" 'nc -ll -p 80 -e echo forwarded-to-web' >/dev/null 2>&1 &
srv=$!
defer "kill $srv 2>/dev/null"
for _ in $(seq 50); do in_c "$a" 'netstat -ltn' 2>/dev/null | grep -q ':80 ' && break; sleep 0.1; done
is "$(outside 10080)" forwarded-to-web "from the outside world, the host's port 10080 reaches web's server (its inbound deny notwithstanding)"
like "$(outside 10081)" 'refused' "a port nobody forwards does not (refused: nothing of the host's listens there)"

like "$(api PUT "/1.0/containers/$a/policy" '{"policy": "default in deny\n"}')" '^202 ' "web's forward removed live: an operation"
is "$(wait_op "$(j .operation.id)")" success "that succeeds"
like "$(outside 10080)" 'refused' "and the port no longer reaches web"
ok $(nsenter --net="$W/hostns" nft list table inet sandhost | grep -q 'tcp \. 10080 :'; [ $? = 1 ]; echo $?) "nor is it in nft"
api PUT "/1.0/containers/$a/policy" '{"policy": "forward tcp 10080 to 80\n"}' >/dev/null
is "$(wait_op "$(j .operation.id)")" success "put back live"
is "$(outside 10080)" forwarded-to-web "and it reaches web again"

kill "$srv" 2>/dev/null
api PUT "/1.0/containers/$a/state" '{"action": "stop"}' >/dev/null; wait_op "$(j .operation.id)" >/dev/null
ok $(nsenter --net="$W/hostns" nft list table inet sandhost | grep -q 'tcp \. 10080 :'; [ $? = 1 ]; echo $?) \
  "a stopped container's forward is not in nft"
is "$(sql "SELECT count(*) FROM forwards WHERE container_id = $a")" 1 "but stays recorded for its next start"
api DELETE "/1.0/containers/$a" >/dev/null; wait_op "$(j .operation.id)" >/dev/null
is "$(sql "SELECT count(*) FROM forwards WHERE container_id = $a")" 0 "deleting web frees its public port"
like "$(api PUT "/1.0/containers/$b/policy" '{"policy": "forward tcp 10080 to 22\n"}')" '^202 ' "which another container may now take"
is "$(wait_op "$(j .operation.id)")" success "live"
like "$(nsenter --net="$W/hostns" nft list table inet sandhost)" 'tcp \. 10080 : 10\.64\.[0-9]+\.[0-9]+ \. 22' "and nft says so"
done_testing
