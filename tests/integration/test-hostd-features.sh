#!/bin/bash
# Container features through sandhostd: files pushed and pulled (running or
# stopped, owners as the container sees them, a hostile rootfs's symlinks
# never followed out), rebuild from the image, limits changed live, clones,
# SSH keys given at create.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/hostd-env.sh"

hd_start 1
two_tenants '{"name": "tiny", "cpu_millis": 500, "memory_mib": 64, "pids": 64, "disk_mib": 256, "bandwidth_mbit": 10,
  "max_containers": 3, "total_cpu_millis": 1500, "total_memory_mib": 160, "total_disk_mib": 768, "net_default": "allow",
  "seccomp": "default"}' member
ts=$(new_token sec auditor)

api -t "$ta" POST /1.0/containers '{"name": "web1"}' >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "alice (a member) creates web1"
c1=$(j .container_id)
state() { # state ID ACTION: run a state change and wait for it
  api -t "$ta" PUT "/1.0/containers/$1/state" "{\"action\": \"$2\"}" >/dev/null
  wait_op -t "$ta" "$(j .operation.id)"
}
field() { api GET "/1.0/containers/$1" >/dev/null; j ".$2"; }
is "$(state "$c1" start)" success "web1 starts"
in_c() { # in_c ID CMD: CMD as the container's root, in its mount and user namespaces
  nsenter -t "$(field "$1" pid)" -m -U sh -c "$2"
}
hs=$(sqlite3 "$W/state/sandhost.db" "SELECT host_start FROM idmap_ranges WHERE container_id = $c1")
data=$W/state/pools/default/data/containers/c$c1

# ---- files: push and pull ----
# curl for bytes: FILE STATUS BODY-FILE METHOD PATH [DATA-FILE]
fapi() { # fapi [-t TOKEN] METHOD PATH [DATA-FILE]: the status; the body in $W/body
  local auth=()
  if [ "$1" = -t ]; then auth=(-H "Authorization: Bearer $2"); shift 2; fi
  curl -s --unix-socket "$S" -X "$1" -o "$W/body" -w '%{http_code}' "${auth[@]}" \
    ${3:+-H 'Content-Type: application/octet-stream' --data-binary "@$3"} "http://sandhost$2"
}
head -c 3000 /dev/urandom > "$W/blob"
is "$(fapi -t "$ta" PUT "/1.0/containers/$c1/files?path=/etc/blob&uid=1000&gid=1001&mode=0640" "$W/blob")" 201 \
  "push 3000 random bytes to the running web1 as /etc/blob, owned by 1000:1001, mode 0640: 201"
is "$(j .size)/$(j .uid)/$(j .gid)/$(j .mode)" "3000/1000/1001/0640" "the answer is the file's stat, ids as the container sees them"
is "$(in_c "$c1" 'stat -c "%u:%g %a %s" /etc/blob')" "1000:1001 640 3000" "inside the container: owned by 1000:1001, mode 640, 3000 bytes"
is "$(in_c "$c1" 'md5sum < /etc/blob')" "$(md5sum < "$W/blob")" "with the bytes pushed"
is "$(stat -c %u:%g "$W/state/bundles/c$c1/rootfs/etc/blob")" "$((hs + 1000)):$((hs + 1001))" \
  "through its rootfs mount on the host: host ids $((hs + 1000)):$((hs + 1001)) (its range)"
is "$(stat -c %u:%g "$data/etc/blob")" "1000:1001" "on disk in the btrfs volume: the unshifted ids (the mount maps them)"
is "$(fapi -t "$ta" GET "/1.0/containers/$c1/files?path=/etc/blob")" 200 "pull it back: 200"
ok "$(cmp -s "$W/body" "$W/blob"; echo $?)" "the pulled bytes are the pushed ones"
in_c "$c1" 'printf "written inside\n" > /root/note; chown 7:8 /root/note'
is "$(fapi -t "$ta" GET "/1.0/containers/$c1/files?path=/root/note")" 200 "pull a file the container wrote"
is "$(cat "$W/body")" "written inside" "its bytes"
fapi -t "$ta" GET "/1.0/containers/$c1/files?path=/root/note&stat=1" >/dev/null
is "$(j .type)/$(j .uid)/$(j .gid)/$(j .size)" "file/7/8/15" "stat=1: type, owner as inside (7:8) and size"
fapi -t "$ta" GET "/1.0/containers/$c1/files?path=/etc" >/dev/null
is "$(j '.type')/$(j '[.entries[] | select(.name == "blob")][0].uid')" directory/1000 "a directory: a listing with each entry's stat"
printf 'v2' > "$W/v2"
is "$(fapi -t "$ta" PUT "/1.0/containers/$c1/files?path=/etc/blob" "$W/v2")" 200 "replacing a file: 200"
is "$(in_c "$c1" 'stat -c "%u:%g %a" /etc/blob; cat /etc/blob')" "$(printf '0:0 644\nv2')" "with the defaults: owner 0:0, mode 0644"
ls -a "$data/etc" > "$W/etc.list"
is "$(grep -c sandhost-put "$W/etc.list")" 0 "no temporary file is left beside it"
is "$(fapi -t "$ta" PUT "/1.0/containers/$c1/files?path=/srv&type=directory&uid=33&gid=33")" 201 "make a directory (type=directory)"
is "$(in_c "$c1" 'stat -c "%u:%g %a %F" /srv')" "33:33 755 directory" "owned 33:33, mode 0755"
is "$(fapi -t "$ta" DELETE "/1.0/containers/$c1/files?path=/root/note")" 204 "delete a file: 204"
ok "$(in_c "$c1" 'test ! -e /root/note'; echo $?)" "it is gone inside"
is "$(fapi -t "$ta" GET "/1.0/containers/$c1/files?path=/root/note")" 404 "pulling it now: 404"
is "$(fapi -t "$ta" PUT "/1.0/containers/$c1/files?path=/nodir/x" "$W/v2")" 404 "pushing into a missing directory: 404"
is "$(fapi -t "$ta" PUT "/1.0/containers/$c1/files?path=etc/x" "$W/v2")" 400 "a relative path: 400"
is "$(fapi -t "$ta" PUT "/1.0/containers/$c1/files?path=/etc/x&uid=65536" "$W/v2")" 400 "a uid outside the container's range: 400"
is "$(fapi -t "$ta" PUT "/1.0/containers/$c1/files?path=/etc/x&mode=999" "$W/v2")" 400 "a mode that is not octal: 400"
like "$(j .error.field)" mode "naming the parameter"
is "$(api -t "$ta" PUT "/1.0/containers/$c1/files?path=/etc/x" '{"a": 1}' | cut -c1-3)" 415 "a JSON body: 415"
head -c $((1024 * 1024 + 1)) /dev/zero > "$W/big"
is "$(fapi -t "$ta" PUT "/1.0/containers/$c1/files?path=/big" "$W/big")" 413 "more than max_body (1 MiB): 413"
in_c "$c1" 'head -c 1100000 /dev/zero > /root/big'
is "$(fapi -t "$ta" GET "/1.0/containers/$c1/files?path=/root/big")" 413 "pulling more than max_body: 413"
in_c "$c1" 'mkfifo /root/fifo'
is "$(fapi -t "$ta" GET "/1.0/containers/$c1/files?path=/root/fifo")" 409 "a FIFO is not read: 409"
is "$(fapi -t "$ta" PUT "/1.0/containers/$c1/files?path=/root/fifo" "$W/v2")" 409 "nor replaced by a file: 409"

# ---- a hostile rootfs: its symlinks resolve inside it ----
sum_shadow=$(sha256sum /etc/shadow)
stat_shadow=$(stat -c '%Y %s %i' /etc/shadow)
in_c "$c1" 'ln -s /etc/shadow /root/evil; ln -s ../../../../../etc /root/up; rm -f /etc/shadow'
is "$(fapi -t "$ta" GET "/1.0/containers/$c1/files?path=/root/evil")" 404 \
  "a symlink to /etc/shadow resolves in the container's tree (which has none): 404, not the host's"
is "$(fapi -t "$ta" GET "/1.0/containers/$c1/files?path=/root/up/shadow")" 404 "nor through ../../.. (clamped at its root)"
is "$(fapi -t "$ta" GET "/1.0/containers/$c1/files?path=/../../../../etc/shadow")" 404 "nor through a path of ..s"
printf 'owned\n' > "$W/owned"
is "$(fapi -t "$ta" PUT "/1.0/containers/$c1/files?path=/root/up/shadow" "$W/owned")" 201 "a write through the ../.. link lands..."
is "$(in_c "$c1" 'cat /etc/shadow')" owned "...in the container's own /etc/shadow"
is "$(fapi -t "$ta" PUT "/1.0/containers/$c1/files?path=/root/evil" "$W/owned")" 200 "a write to the symlink itself..."
is "$(in_c "$c1" 'stat -c %F /root/evil')" "regular file" "...replaces the link with a file"
is "$(sha256sum /etc/shadow)" "$sum_shadow" "the host's /etc/shadow: same bytes"
is "$(stat -c '%Y %s %i' /etc/shadow)" "$stat_shadow" "same mtime, size and inode"

# ---- who may ----
is "$(fapi -t "$tg" GET "/1.0/containers/$c1/files?path=/etc/blob")" 404 "another tenant's owner: 404"
is "$(fapi -t "$tg" PUT "/1.0/containers/$c1/files?path=/etc/x" "$W/v2")" 404 "also for writes"
is "$(fapi -t "$ts" GET "/1.0/containers/$c1/files?path=/etc/blob")" 200 "an auditor reads files"
is "$(fapi -t "$ts" PUT "/1.0/containers/$c1/files?path=/etc/x" "$W/v2")" 403 "but may not write them: 403"
api GET "/1.0/audit?limit=100" >/dev/null
like "$(j '.entries[] | select(.method == "PUT" and .status == 201) | .detail' | tr '\n' ' ')" 'wrote /etc/blob \(3000 bytes, 1000:1001 0640\)' \
  "writes are audited with the path, size, owner and mode"
like "$(j '.entries[] | select(.method == "DELETE" and .status == 204) | .detail')" 'removed file /root/note' "and removals"

in_c "$c1" 'chown 5:5 /'
is "$(fapi -t "$ta" GET "/1.0/containers/$c1/files?path=/&stat=1")/$(j .uid)" 200/5 "a tenant that chowns its / still reaches its files"
in_c "$c1" 'chown 0:0 /'

# ---- a stopped container's files ----
is "$(state "$c1" stop)" success "web1 stops"
printf 'while stopped\n' > "$W/stopped"
is "$(fapi -t "$ta" PUT "/1.0/containers/$c1/files?path=/etc/motd&uid=5&gid=6" "$W/stopped")" 201 "push to the stopped web1"
is "$(fapi -t "$ta" GET "/1.0/containers/$c1/files?path=/etc/blob")" 200 "and pull from it"
is "$(cat "$W/body")" v2 "its bytes"
is "$(awk -v d="$W/" 'index($2, d) == 1 && $2 ~ /rootfs/' /proc/mounts | wc -l)" 0 "no mount is left behind (the view was detached)"
is "$(state "$c1" start)" success "web1 starts again"
is "$(in_c "$c1" 'stat -c "%u:%g" /etc/motd; cat /etc/motd')" "$(printf '5:6\nwhile stopped')" "and sees the file, owned 5:6"

# ---- rebuild: a new rootfs from the image, the same container ----
addr() { nsenter -t "$(field "$1" pid)" -n ip -4 -o addr show eth0 | awk '{print $4}'; }
addr1=$(addr "$c1")
uid1=$(awk '/^Uid:/ {print $2}' "/proc/$(field "$c1" pid)/status")
like "$addr1" '^10\.64\.0\.[0-9]+/24$' "web1 has its address ($addr1)"
api -t "$ta" POST "/1.0/containers/$c1/snapshots" '{"name": "before"}' >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "a snapshot of web1 before the rebuild"
like "$(api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "rebuild"}')" '^409 .*stop it first' "rebuilding a running container: 409"
is "$(state "$c1" stop)" success "web1 stops"
like "$(api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "rebuild", "image": "nope"}')" '^400 .*"field":"image"' \
  "rebuild from an image that does not exist: 400"
like "$(api -t "$tg" PUT "/1.0/containers/$c1/state" '{"action": "rebuild"}')" '^404 ' "another tenant cannot rebuild it"
api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "rebuild"}' >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")/$(j .kind)/$(j .steps_done)" success/rebuild/2 "rebuild web1: an operation of two steps"
is "$(fapi -t "$ta" GET "/1.0/containers/$c1/files?path=/etc/blob")" 404 "the files pushed are gone"
is "$(fapi -t "$ta" GET "/1.0/containers/$c1/files?path=/bin/busybox&stat=1")/$(j .type)" 200/file "the image's are there"
is "$(state "$c1" start)" success "web1 starts on its new rootfs"
ok "$(in_c "$c1" 'test ! -e /etc/blob && test ! -e /root/evil && test -x /bin/busybox'; echo $?)" "inside: the image's content, nothing of before"
is "$(field "$c1" name)/$(addr "$c1")" "web1/$addr1" "the same container, with the same address"
is "$(awk '/^Uid:/ {print $2}' "/proc/$(field "$c1" pid)/status")" "$uid1" "and the same id range ($uid1)"
api -t "$ta" GET "/1.0/containers/$c1/snapshots" >/dev/null
is "$(j '.snapshots[0].name')" before "its snapshot is kept"
sid=$(j '.snapshots[0].id')
is "$(state "$c1" stop)" success "web1 stops"
api -t "$ta" POST "/1.0/containers/$c1/snapshots/$sid/restore" >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "and is restored to the snapshot"
is "$(fapi -t "$ta" GET "/1.0/containers/$c1/files?path=/etc/blob")/$(cat "$W/body")" 200/v2 "which brings back the files of before"
is "$(state "$c1" start)" success "web1 starts"

# ---- limits, changed live ----
cfile() { # cfile ID FILE...: the first of these files in the container's cgroup, in any hierarchy
  local d f
  for d in $(own_dirs); do for f in "${@:2}"; do [ -f "$d/t$acme/c$1/$f" ] && { cat "$d/t$acme/c$1/$f"; return; }; done; done
}
ipid=$(field "$c1" pid)
is "$(cfile "$c1" memory.max memory.limit_in_bytes)" $((64 << 20)) "web1's cgroup has the plan's 64 MiB"
like "$(api -t "$ta" PATCH "/1.0/containers/$c1" '{"memory_mib": 48, "cpu_millis": 250, "pids": 40}')" '^200 .*"memory_mib":48' \
  "PATCH web1's memory, cpu and pids: 200 with the new sizes"
is "$(cfile "$c1" memory.max memory.limit_in_bytes)" $((48 << 20)) "its cgroup's memory limit is 48 MiB at once"
like "$(cfile "$c1" cpu.max cpu.cfs_quota_us)" '^25000( |$)' "its cpu quota a quarter of a cpu"
is "$(cfile "$c1" pids.max)" 40 "its pids limit 40"
is "$(field "$c1" pid)/$(field "$c1" state)" "$ipid/running" "the same init runs on"
like "$(api -t "$ta" PATCH "/1.0/containers/$c1" '{"memory_mib": 65}')" '^422 .*"field":"memory_mib"' "above the plan's 64 MiB: 422"
like "$(api -t "$ta" PATCH "/1.0/containers/$c1" '{"bandwidth_mbit": 5}')" '^400 ' "bandwidth is not changed live: 400"
like "$(api -t "$tg" PATCH "/1.0/containers/$c1" '{"memory_mib": 8}')" '^404 ' "another tenant: 404"
is "$(cfile "$c1" memory.max memory.limit_in_bytes)" $((48 << 20)) "the refusals changed nothing"
like "$(api -t "$ta" PATCH "/1.0/containers/$c1" '{"disk_mib": 128}')" '^200 ' "PATCH its disk to 128 MiB"
is "$("$SBX_STORAGE" --pool "$W/state/pools/default" volume usage "c$c1" | jq .limit)" $((128 << 20)) "the volume's quota is 128 MiB"
like "$(api GET '/1.0/audit?limit=20' | grep -o '"detail":"sizes[^"]*live)"' | head -1)" 'cpu_millis 250, memory_mib 48, pids 40, disk_mib 128' \
  "the change is audited, with the sizes"
is "$(state "$c1" restart)" success "web1 restarts"
is "$(cfile "$c1" memory.max memory.limit_in_bytes)/$(cfile "$c1" pids.max)" "$((48 << 20))/40" "and keeps its new limits (recorded)"

# ---- clone: a new container from a stopped one's volume ----
like "$(api -t "$ta" POST "/1.0/containers/$c1/clone" '{"name": "web2"}')" '^409 .*clone a stopped container' "cloning a running container: 409"
is "$(state "$c1" stop)" success "web1 stops"
like "$(api -t "$tg" POST "/1.0/containers/$c1/clone" '{"name": "web2"}')" '^404 ' "another tenant cannot clone it"
like "$(api -t "$ta" POST "/1.0/containers/$c1/clone" '{"name": "big", "memory_mib": 64, "cpu_millis": 500}')" \
  '^202 ' "a clone with sizes of its own"
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "is made"
big=$(j .container_id)
like "$(api -t "$ta" POST "/1.0/containers/$c1/clone" '{"name": "web2", "memory_mib": 64}')" '^422 .*memory_mib.*total of 160' \
  "a clone counts against the tenant's totals (48 + 64 + 64 MiB > 160): 422"
api -t "$ta" DELETE "/1.0/containers/$big" >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "the big clone is deleted"
api -t "$ta" POST "/1.0/containers/$c1/clone" '{"name": "web2"}' >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")/$(j .kind)" success/clone "clone web1 as web2"
c2=$(j .container_id)
is "$(field "$c2" name)/$(field "$c2" state)/$(field "$c2" memory_mib)/$(field "$c2" image_id)" "web2/stopped/48/$(field "$c1" image_id)" \
  "web2 is stopped, with web1's sizes and image"
is "$(state "$c2" start)/$(state "$c1" start)" success/success "web2 and web1 start"
is "$(in_c "$c2" 'cat /etc/blob; echo; stat -c %u:%g /etc/motd')" "$(printf 'v2\n5:6')" "web2 has web1's files, with their owners inside"
uid2=$(awk '/^Uid:/ {print $2}' "/proc/$(field "$c2" pid)/status")
is "$uid2" $((uid1 + 65536)) "web2 runs in an id range of its own ($uid2, web1 $uid1)"
is "$(stat -c %u "$W/state/bundles/c$c2/rootfs/etc/motd")" $((uid1 + 65536 + 5)) "its files show in its own range on the host"
addr2=$(addr "$c2")
like "$addr2" '^10\.64\.0\.[0-9]+/24$' "web2 has an address ($addr2)"
check "$([ "$addr2" != "$addr1" ]; echo $?) == 0" "of its own"
is "$(fapi -t "$ta" PUT "/1.0/containers/$c2/files?path=/etc/only2" "$W/v2")" 201 "a file pushed to web2"
is "$(fapi -t "$ta" GET "/1.0/containers/$c1/files?path=/etc/only2")" 404 "is not in web1"
api -t "$ta" DELETE "/1.0/containers/$c2" >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "web2 is deleted"
is "$("$SBX_STORAGE" --pool "$W/state/pools/default" volume list | jq -r '[.[].id] | join(" ")')" "c$c1" "only web1's volume is left"
is "$(in_c "$c1" 'cat /etc/blob')" v2 "and web1 is as it was"

# ---- SSH keys given at create ----
ssh-keygen -q -t ed25519 -N '' -C one@test -f "$W/k1"
ssh-keygen -q -t ecdsa -N '' -C two@test -f "$W/k2"
bad=$(printf '%s\nssh-ed25519 AAAA!\n' "$(cat "$W/k1.pub")" | jq -Rs .)
like "$(api -t "$ta" POST /1.0/containers "{\"name\": \"keyed\", \"ssh_authorized_keys\": $bad}")" \
  '^400 .*line 2: its data is not base64.*"field":"ssh_authorized_keys"' "a bad second key: 400 naming ssh_authorized_keys and line 2"
api -t "$ta" POST /1.0/containers "{\"name\": \"keyed\", \"ssh_authorized_keys\": $(cat "$W/k1.pub" "$W/k2.pub" | jq -Rs .)}" >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")/$(j .steps_done)" success/3 "create keyed with two keys: volume, ssh-keys, stopped"
ck=$(j .container_id)
is "$(state "$ck" start)" success "keyed starts"
is "$(in_c "$ck" 'cat /root/.ssh/authorized_keys')" "$(cat "$W/k1.pub" "$W/k2.pub")" "inside: /root/.ssh/authorized_keys holds both keys"
is "$(in_c "$ck" 'stat -c "%u:%g %a" /root/.ssh /root/.ssh/authorized_keys')" "$(printf '0:0 700\n0:0 600')" \
  "owned by the container's root: /root/.ssh 0700, the file 0600"
fapi -t "$ta" GET "/1.0/containers/$ck/files?path=/root/.ssh/authorized_keys" >/dev/null
is "$(ssh-keygen -l -f "$W/body" | awk '{print $3}' | tr '\n' ' ')" "one@test two@test " "ssh-keygen reads both keys from it"
api GET "/1.0/audit?limit=50" >/dev/null
is "$(j '[.entries[] | select(.method == "POST" and .path == "/1.0/containers" and .status == 202)][0].detail')" "with 2 SSH keys" \
  "the audit says how many keys"
is "$(grep -c "$(cut -d' ' -f2 "$W/k1.pub" | cut -c1-40)" "$W/body")" 0 "and never a key"
is "$(state "$ck" stop)" success "keyed stops"
api -t "$ta" DELETE "/1.0/containers/$ck" >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "keyed is deleted"
# The CLI: --ssh-key FILE, repeatable, - for stdin; a refusal names the file and its line.
printf '# mine\nssh-rsa AAAAB3NzaC1yc2E=\n' > "$W/bad.pub"
"$SANDHOST_CLI" --socket "$S" create keyed2 --tenant "$acme" --ssh-key "$W/k1.pub" --ssh-key "$W/bad.pub" 2> "$W/cli.err"
is "$?/$(cat "$W/cli.err")" "1/sandhost: --ssh-key $W/bad.pub: line 2: its data is not a key of the type it names" \
  "sandhost create --ssh-key with a bad key: refused, naming the file and its line"
like "$("$SANDHOST_CLI" --socket "$S" create keyed2 --tenant "$acme" --ssh-key "$W/nope.pub" 2>&1)" "^sandhost: --ssh-key $W/nope.pub: No such file" \
  "a missing file: named"
is "$("$SANDHOST_CLI" --socket "$S" create keyed2 --tenant "$acme" --ssh-key - --ssh-key "$W/k1.pub" < "$W/k2.pub")" "keyed2 created" \
  "sandhost create keyed2 --ssh-key - (stdin) --ssh-key FILE"
ck=$(sqlite3 "$W/state/sandhost.db" "SELECT id FROM containers WHERE name = 'keyed2'")
fapi -t "$ta" GET "/1.0/containers/$ck/files?path=/root/.ssh/authorized_keys" >/dev/null
is "$(cat "$W/body")" "$(cat "$W/k2.pub" "$W/k1.pub")" "its authorized_keys: stdin's key, then the file's"
api -t "$ta" DELETE "/1.0/containers/$ck" >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "keyed2 is deleted"

# What the daemons said, when something failed.
[ "$_tap_fail" = 0 ] || for f in "$W"/out.*; do echo "# --- $f"; sed 's/^/# /' "$f"; done
done_testing
