#!/bin/bash
# Raw-socket spoofing: a container's root opens a raw socket and sends
# packets with a forged source (another container's address, or an address
# no one has), to impersonate a neighbour or to hide an attack.  Docker's
# default CAP_NET_RAW made this the classic in-cluster spoofing vector.
# Write-up: https://www.paloaltonetworks.com/blog/prisma-cloud/cap-net-raw-kubernetes/ (CAP_NET_RAW in containers)
# Also: https://github.com/kubernetes/kubernetes/issues/92315 (CVE-2020-14386 needed CAP_NET_RAW)
# Sandhost's system containers keep CAP_NET_RAW inside their own network
# namespace (ping, tcpdump), so the socket opens: what stops the spoofing is
# netfw's anti-spoofing (table bridge sandhost: each veth may only send from
# its container's MAC and addresses).  This runs the whole product:
# sandhostd in a network namespace of the test's own (tests/lib/hostd-env.sh),
# two containers on a tenant's network, the receiver in the second one.
. "$(dirname "$0")/../lib/tap.sh"
[ -n "${SBX_ESCAPE:-}" ] && [ -x "$SBX_ESCAPE" ] || skip_all "sbx-escape is not built (SBX_ESCAPE)"
. "$(dirname "$0")/../lib/hostd-env.sh"

hd_start 1
api POST /1.0/plans '{"name": "p", "cpu_millis": 200, "memory_mib": 64, "pids": 64, "disk_mib": 128, "bandwidth_mbit": 100,
  "max_containers": 4, "total_cpu_millis": 1000, "total_memory_mib": 512, "total_disk_mib": 1024, "net_default": "allow",
  "seccomp": "default"}' >/dev/null
plan=$(j .id)
api POST /1.0/tenants "{\"name\": \"acme\", \"plan_id\": $plan}" >/dev/null; acme=$(j .id)
mk() { # mk NAME: a started container's id
  local id op
  api POST /1.0/containers "{\"name\": \"$1\", \"tenant_id\": $acme}" >/dev/null
  op=$(j .operation.id) id=$(j .operation.container_id)
  wait_op "$op" >/dev/null
  api PUT "/1.0/containers/$id/state" '{"action": "start"}' >/dev/null
  wait_op "$(j .operation.id)" >/dev/null
  echo "$id"
}
a=$(mk attacker)
b=$(mk victim)
addr() { in_c "$1" 'ip -4 -o addr show eth0' | awk '{print $4}' | cut -d/ -f1; }
A=$(addr "$a") B=$(addr "$b")
like "$A $B" '^10\.[0-9.]+ 10\.[0-9.]+$' "two containers on acme's network ($A, $B)"
# The attacker acts as the container's own root: sbx exec, with its seccomp
# filter and capabilities (in_c is only for the receiver).
sbxc() { "$SBX_BIN" --root "$W/run/sbx" "$@"; }
ida=$(ls "$W/run/sbx" | while read -r c; do
  [ "$(sbxc state "$c" | jq -r .pid)" = "$(api GET "/1.0/containers/$a" >/dev/null; j .pid)" ] && echo "$c"; done)
sbxc exec "$ida" /bin/sh -c 'cat > /tmp/sbx-escape && chmod 0755 /tmp/sbx-escape' < "$SBX_ESCAPE"
is "$(sbxc exec "$ida" /tmp/sbx-escape raw | tr '\n' ' ')" "raw-inet ok raw-packet ok " \
  "raw sockets open inside (CAP_NET_RAW in the container's own network namespace)"

# The receiver: every datagram to B's port 9999 for a few seconds.
pb=$(api GET "/1.0/containers/$b" >/dev/null; j .pid)
nsenter -t "$pb" -n python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 9999)); s.settimeout(0.5)
end = time.time() + 8
while time.time() < end:
    try: d, src = s.recvfrom(512)
    except socket.timeout: continue
    print(src[0], d.decode(errors="replace"), flush=True)
' > "$W/received" 2>&1 &
rcv=$!
defer "kill $rcv"
sleep 1
send() { sbxc exec "$ida" /tmp/sbx-escape spoof "$1" "$B" 9999 "$2"; }
like "$(send "$A" genuine)" "spoof send ok" "a datagram with A's own source is sent"
like "$(send "$B" as-victim)" "spoof send ok" "one forged as B itself is sent from the socket"
like "$(send 10.64.0.250 as-unused)" "spoof send ok" "one forged as an unused address of the subnet"
like "$(send 192.0.2.77 as-outsider)" "spoof send ok" "one forged as an outside address"
like "$(send 10.64.1.2 as-other-tenant)" "spoof send ok" "one forged as another tenant's subnet"
# Control: the same kind of forgery from the host's side of the bridge (not
# a container port, so no anti-spoofing rule) does reach B, so B itself
# accepts forged sources and what stopped A's is the bridge.
like "$(nsenter --net="$W/hostns" "$SBX_ESCAPE" spoof 10.64.0.251 "$B" 9999 control)" "spoof send ok" \
  "a forged datagram is sent from the host's namespace (control)"
wait "$rcv"
is "$(grep -c genuine "$W/received")" 1 "B receives the genuine datagram (from $A)"
like "$(grep genuine "$W/received")" "^$A genuine" "with A's address"
like "$(grep control "$W/received")" "^10.64.0.251 control" "B accepts a forged source when it does not come from a container's port"
is "$(grep -vc 'genuine\|control' "$W/received")" 0 "and none of A's forged ones: they never left A's port"
diag "received: $(tr '\n' ';' < "$W/received")"
like "$(nsenter --net="$W/hostns" nft list table bridge sandhost 2>&1)" "ip saddr" "the anti-spoofing rules are netfw's bridge table"
done_testing
