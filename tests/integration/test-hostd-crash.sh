#!/bin/bash
# Crash consistency: sandhostd is killed with SIGKILL at a random moment
# while 50 requests (creates, starts, stops and deletes) run at once; after
# each restart every interrupted operation is finished, and the kernel and
# the database agree: no orphaned cgroup, veth, nft element, bpffs pin,
# mount, runtime state or volume; no container whose create was accepted
# is lost; containers that were running and left alone still run, with the
# same init (adopted).  CRASH_ROUNDS rounds (default 5).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/hostd-env.sh"
command -v sqlite3 >/dev/null || skip_all "needs sqlite3"
ROUNDS=${CRASH_ROUNDS:-5}
DB=$W/state/sandhost.db
SBX_LIST() { "$SBX_BIN" --root "$W/run/sbx" list 2>/dev/null | jq -r '.[].id' | sort; }
sql() { sqlite3 -readonly -cmd '.timeout 5000' "$DB" "$1"; }

hd_start 0
ok $([ -S "$S" ]; echo $?) "sandhostd starts"
like "$(api POST /1.0/plans '{"name": "many", "cpu_millis": 100, "memory_mib": 32, "pids": 32, "disk_mib": 64, "bandwidth_mbit": 1000,
  "max_containers": 200, "total_cpu_millis": 20000, "total_memory_mib": 8192, "total_disk_mib": 20000, "net_default": "allow",
  "seccomp": "default"}')" '^201 ' "a plan for many containers"
plan=$(j .id)
api POST /1.0/tenants "{\"name\": \"acme\", \"plan_id\": $plan}" >/dev/null; t1=$(j .id)
api POST /1.0/tenants "{\"name\": \"globex\", \"plan_id\": $plan}" >/dev/null; t2=$(j .id)

# Operations left to run (the daemon finishes them after a restart).
settle() {
  local n
  for _ in $(seq 600); do
    n=$(sql "SELECT count(*) FROM operations WHERE status IN ('pending', 'running')" 2>/dev/null)
    [ "$n" = 0 ] && return 0
    sleep 0.2
  done
  diag "operations still open after 120 s: $n"
  stuck
  return 1
}
# What a stuck operation waits on: the operations, the daemon's last words,
# and every process of this test's runtime with its kernel wait channel.
stuck() {
  sql "SELECT id, kind, container_id, status, error FROM operations WHERE status IN ('pending', 'running')" | sed 's/^/#   open: /'
  tail -n 30 "$W"/out.* 2>/dev/null | sed 's/^/#   /'
  ps -e -o pid=,ppid=,stat=,etimes=,wchan:32=,args= | grep -F -e "$W" -e sandhostd | grep -v grep | sed 's/^/#   ps: /'
}
# A daemon that cannot come back, or operations that never end, make every
# later round wait out its timeouts: stop there, with what was seen.
must() { ok "$1" "$2"; [ "$1" = 0 ] || { echo "Bail out! $2"; exit 1; }; }

# What exists, by kind, as sorted lists of container ids.
k_cgroups() { for d in $(own_dirs); do ls -d "$d"/t*/c[0-9]*/ 2>/dev/null; done | sed 's|.*/c\([0-9]*\)/$|\1|' | sort -un; }
k_veths() { nsenter --net="$W/hostns" ip -o link show 2>/dev/null | sed -n 's/^[0-9]*: sh\([0-9a-f]*\)[@:].*/\1/p' |
            while read -r x; do echo $((16#$x)); done | sort -n; }
k_pins() { ls "$W/bpf" 2>/dev/null | sed -n 's/^c\([0-9]*\)$/\1/p' | sort -n; }
k_mounts() { awk -v w="$W/" 'index($2, w) == 1 && $2 ~ "/bundles/c[0-9]+/rootfs$" {print $2}' /proc/mounts | sed 's|.*/bundles/c\([0-9]*\)/rootfs|\1|' | sort -n; }
k_runtime() { SBX_LIST | sed -n 's/^c//p' | sort -n; }
k_volumes() { "$SBX_STORAGE" --pool "$W/state/pools/default" volume list 2>/dev/null | jq -r '.[].id' | sed -n 's/^c//p' | sort -n; }
k_nft() { nsenter --net="$W/hostns" nft list table bridge sandhost 2>/dev/null | grep -o '"sh[0-9a-f]*"' | tr -d '"' | sed 's/^sh//' |
          sort -u | while read -r x; do echo $((16#$x)); done | sort -n; }
d_running() { sql "SELECT id FROM containers WHERE state = 'running' ORDER BY id"; }
d_all() { sql "SELECT id FROM containers ORDER BY id"; }
list() { tr '\n' ' ' | sed 's/ $//'; }

# agree KIND IDS DESCRIPTION: the kernel's objects of KIND are those of IDS;
# when not, the story of each container in between: its operations and
# what every daemon of the test said of it.
agree() {
  local got id
  got=$("k_$1" | list)
  is "$got" "$2" "$3" && return
  for id in $(printf '%s\n' $got $2 | sort -n | uniq -u); do
    sql "SELECT id, kind, status, step, coalesce(error, '') FROM operations WHERE container_id = $id ORDER BY id" | sed "s/^/#   c$id op: /"
    grep -h "c$id[^0-9]" "$W"/out.* | sed "s/^/#   c$id: /"
  done
}
check_round() { # check_round ROUND
  local r=$1 running all
  running=$(d_running | list); all=$(d_all | list)
  is "$(sql "SELECT count(*) FROM containers WHERE state NOT IN ('running', 'stopped')")" 0 \
    "round $r: every container is running or stopped"
  is "$(sql "SELECT count(*) FROM operations WHERE status = 'failure' AND id > $last_op")" 0 "round $r: no operation failed"
  sql "SELECT id, kind, error FROM operations WHERE status = 'failure' AND id > $last_op" | sed 's/^/# failed: /'
  agree cgroups "$running" "round $r: cgroups exist for the running containers only"
  agree veths "$running" "round $r: veths exist for the running containers only"
  agree nft "$running" "round $r: nft anti-spoofing elements name the running containers' ports only"
  agree pins "$running" "round $r: policy pins exist for the running containers only"
  agree mounts "$running" "round $r: rootfs mounts exist for the running containers only"
  agree runtime "$running" "round $r: the runtime knows the running containers only"
  agree volumes "$all" "round $r: a volume for every container, and no other"
  local dead=0 id p
  for id in $running; do
    p=$(sql "SELECT pid FROM containers WHERE id = $id")
    [ -d "/proc/$p" ] && grep -q "/$CG/t[0-9]*/c$id\$" "/proc/$p/cgroup" || dead=$((dead + 1))
  done
  is "$dead" 0 "round $r: every running container's init lives, in its own cgroup"
}

last_op=0
names=0
declare -A accepted=() deleted=()   # ids whose create was accepted (202); ids asked to go
for r in $(seq "$ROUNDS"); do
  last_op=$(sql "SELECT coalesce(max(id), 0) FROM operations")
  # Running containers no request of this round touches: they must survive.
  mapfile -t running < <(d_running)
  mapfile -t stopped < <(sql "SELECT id FROM containers WHERE state = 'stopped' ORDER BY id")
  keep=() victims=() starts=()
  for i in "${!running[@]}"; do if (( i % 2 )); then keep+=("${running[$i]}"); else victims+=("${running[$i]}"); fi; done
  starts=("${stopped[@]:0:10}")
  declare -A keep_pid=()
  for id in "${keep[@]}"; do keep_pid[$id]=$(sql "SELECT pid FROM containers WHERE id = $id"); done
  # 50 requests at once: creates (with a start right after), starts, stops and deletes.
  mkdir -p "$W/round$r"
  n=0
  for ((i = 0; n < 50; i++)); do
    if (( i < ${#victims[@]} )); then
      id=${victims[$i]}
      if (( i % 2 )); then
        deleted[$id]=1
        curl -s -m 60 --unix-socket "$S" -X DELETE -o "$W/round$r/$n" "http://sandhost/1.0/containers/$id" &
      else
        curl -s -m 60 --unix-socket "$S" -X PUT -H 'Content-Type: application/json' --data '{"action": "stop"}' \
          -o "$W/round$r/$n" "http://sandhost/1.0/containers/$id/state" &
      fi
    elif (( i - ${#victims[@]} < ${#starts[@]} )); then
      id=${starts[$((i - ${#victims[@]}))]}
      curl -s -m 60 --unix-socket "$S" -X PUT -H 'Content-Type: application/json' --data '{"action": "start"}' \
        -o "$W/round$r/$n" "http://sandhost/1.0/containers/$id/state" &
    else
      names=$((names + 1))
      t=$(( names % 2 ? t1 : t2 ))
      ( curl -s -m 60 --unix-socket "$S" -X POST -H 'Content-Type: application/json' \
          --data "{\"name\": \"k$names\", \"tenant_id\": $t}" -o "$W/round$r/$n" http://sandhost/1.0/containers
        id=$(jq -r '.operation.container_id // empty' "$W/round$r/$n" 2>/dev/null)
        [ -n "$id" ] && echo "$id" > "$W/round$r/$n.accepted"
        [ -n "$id" ] && curl -s -m 60 --unix-socket "$S" -X PUT -H 'Content-Type: application/json' --data '{"action": "start"}' \
          -o /dev/null "http://sandhost/1.0/containers/$id/state" ) &
    fi
    n=$((n + 1))
  done
  # The kill lands somewhere in the middle of it all.
  sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  wait
  for f in "$W/round$r"/*.accepted; do [ -f "$f" ] && accepted[$(cat "$f")]=1; done
  # Orphans of every kind the daemon might have left in another crash: a
  # container (99999) and a tenant (99998) the database does not know, and a
  # veth of a stopped container.
  # (In the hierarchies the runtime uses: v1 cpu, memory, pids, freezer, and v2.)
  for d in $(own_dirs); do
    case $d in /sys/fs/cgroup/systemd/*|/sys/fs/cgroup/blkio/*|/sys/fs/cgroup/devices/*|/sys/fs/cgroup/cpuset/*|\
               /sys/fs/cgroup/net_*|/sys/fs/cgroup/perf_event/*|/sys/fs/cgroup/hugetlb/*|/sys/fs/cgroup/rdma/*|/sys/fs/cgroup/misc/*) continue;;
    esac
    mkdir -p "$d/t$t1/c99999" "$d/t99998/c99997"
  done
  mkdir -p "$W/bpf/c99999"
  nsenter --net="$W/hostns" ip link add sh1869f type veth peer name sp1869f
  st=$(sql "SELECT id FROM containers WHERE state = 'stopped' LIMIT 1")
  [ -n "$st" ] && nsenter --net="$W/hostns" ip link add "sh$(printf %x "$st")" type veth peer name "sp$(printf %x "$st")"
  ok $([ "$(k_cgroups | grep -c '^99999$')" = 1 ] && [ "$(k_veths | grep -c '^99999$')" = 1 ]; echo $?) \
    "round $r: orphans made (cgroups, veths, pins) before the restart"
  diag "round $r: killed sandhostd with $(sql "SELECT count(*) FROM operations WHERE status IN ('pending', 'running')") operations open"
  hd_start "$r" || stuck
  must $(settle; echo $?) "round $r: after a restart every interrupted operation ends"
  check_round "$r"
  is "$(for d in $(own_dirs); do ls -d "$d"/t99998 2>/dev/null; done | wc -l)" 0 "round $r: the cgroup of a tenant that is gone, removed"
  lost=0
  for id in "${!accepted[@]}"; do
    [ -n "${deleted[$id]:-}" ] || [ -n "$(sql "SELECT id FROM containers WHERE id = $id")" ] || lost=$((lost + 1))
  done
  is "$lost" 0 "round $r: every container whose create was accepted exists (${#accepted[@]} so far), but those deleted on request"
  moved=0
  for id in "${keep[@]}"; do
    [ "$(sql "SELECT state || ' ' || pid FROM containers WHERE id = $id")" = "running ${keep_pid[$id]}" ] || moved=$((moved + 1))
  done
  is "$moved" 0 "round $r: the ${#keep[@]} running containers no request touched still run, with the same init"
  unset keep_pid
done

# After it all: one more orderly restart changes nothing, and everything goes away on request.
running=$(d_running | list)
hd_stop 2>/dev/null
hd_start final
ok $(settle; echo $?) "an orderly restart leaves nothing to do"
is "$(d_running | list)" "$running" "and the same containers run"
for id in $(d_all); do curl -s -m 60 --unix-socket "$S" -X DELETE -o /dev/null "http://sandhost/1.0/containers/$id"; done
ok $(settle; echo $?) "deleting every container ends"
is "$(d_all | wc -l)" 0 "no container is left in the database"
is "$(for k in cgroups veths pins mounts runtime volumes nft; do echo "$k: $("k_$k" | list)"; done | list)" \
  "cgroups:  veths:  pins:  mounts:  runtime:  volumes:  nft: " "nor any cgroup, veth, pin, mount, runtime state, volume or nft element of one"
done_testing
