#!/bin/bash
# The security audit: three tenants' containers, declared beside what the
# kernel holds; then drift made by hand (a cgroup limit raised, a policy
# program detached, an anti-spoofing element deleted) and each is found as a
# high finding with a fix hint; who may read it; the HTML report escapes what
# tenants name.  With AUDIT_SAMPLE=FILE the HTML report with the drift is
# written there (docs/audit-sample.html comes from this test).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/hostd-env.sh"

hd_start 1
report() { curl -s --unix-socket "$S" "http://sandhost/1.0/audit/report${1:-}"; }
api POST /1.0/plans '{"name": "p", "cpu_millis": 250, "memory_mib": 64, "pids": 64, "disk_mib": 128, "bandwidth_mbit": 100,
  "max_containers": 4, "total_cpu_millis": 1000, "total_memory_mib": 512, "total_disk_mib": 1024, "net_default": "allow",
  "seccomp": "default"}' >/dev/null
plan=$(j .id)
ids=()
for t in acme globex initech; do
  api POST /1.0/tenants "{\"name\": \"$t\", \"plan_id\": $plan}" >/dev/null
  tid=$(j .id)
  api POST /1.0/containers "{\"name\": \"web-$t\", \"tenant_id\": $tid}" >/dev/null
  id=$(j .operation.container_id)
  wait_op "$(j .operation.id)" >/dev/null
  api PUT "/1.0/containers/$id/state" '{"action": "start"}' >/dev/null
  wait_op "$(j .operation.id)" >/dev/null
  ids+=("$id")
done
api POST /1.0/containers "{\"name\": \"idle\", \"tenant_id\": $tid}" >/dev/null
wait_op "$(j .operation.id)" >/dev/null
api PUT "/1.0/containers/${ids[0]}/policy" '{"policy": "default out deny\nallow out udp 10.64.0.1 port 53\n"}' >/dev/null
wait_op "$(j .operation.id)" >/dev/null

report > "$W/r1.json"
is "$(jq '.summary.tenants, .summary.containers' "$W/r1.json" | tr '\n' ' ')" "3 4 " "the report covers 3 tenants and 4 containers"
is "$(jq '.summary.high' "$W/r1.json")" 0 "no high finding on a host as sandhostd made it"
sel=$(jq -r .host.selinux "$W/r1.json")
if [ "$sel" != enforcing ]; then
  like "$(jq -c '.findings[] | select(.check == "selinux")' "$W/r1.json")" "\"severity\":\"medium\".*SELinux is $sel" \
    "SELinux $sel on this host is a finding"
  like "$(cat "$W/out.1")" "SELinux is $sel on this host" "and sandhostd said so at start"
else
  ok 0 "SELinux enforcing: no finding"; ok 0 "nothing to say at start"
fi
c0() { jq -c ".tenants[] | .containers[] | select(.id == ${1:-${ids[0]}})" "${2:-$W/r1.json}"; }
is "$(c0 | jq -r '.actual.uid_map')" "$(c0 | jq -r '.declared.idmap')" "a running container's uid map in the kernel is the declared one"
is "$(c0 | jq -r '.actual.seccomp')" 2 "its init runs under a seccomp filter"
is "$(c0 | jq -r '.actual.no_new_privs')" 1 "with no_new_privs"
is "$(c0 | jq -r '.actual.cgroup.memory')" $((64 << 20)) "its cgroup's memory limit is the plan's"
is "$(c0 | jq -r '[.actual.bpf.hooks[] | .ours] | all')" true "sandhost's policy program runs at all six hooks of its cgroup"
is "$(c0 | jq -r '.actual.bpf.default_out, .actual.bpf.rules[0]' | tr '\n' ' ')" "deny 1 " \
  "its policy in the maps: outgoing denied but for one rule entry"
is "$(c0 | jq -r '.actual.nft_port.anti_spoofing')" true "its port is in the anti-spoofing set"
is "$(jq -c '.tenants[] | .containers[] | select(.name == "idle") | .actual' "$W/r1.json")" "{}" \
  "a stopped container has nothing in the kernel to show"
uniq_maps=$(jq -r '.tenants[].containers[] | select(.state == "running") | .actual.uid_map' "$W/r1.json" | sort -u | wc -l)
is "$uniq_maps" 3 "three running containers, three distinct id ranges in the kernel"

# ---- the probe, from inside each running container ----
report "?probe=1" > "$W/rp.json"
is "$(jq '.summary.high' "$W/rp.json")" 0 "with the probe run inside every running container, still no high finding"
is "$(c0 "" "$W/rp.json" | jq -r '.actual.probe.seccomp.mode')" 2 "the probe, inside, sees seccomp mode 2"
is "$(c0 "" "$W/rp.json" | jq -r '.actual.probe.ids.uid_map[0].outside')" "$(c0 "" "$W/rp.json" | jq -r '.declared.idmap' | cut -d' ' -f2)" \
  "and its uid map from inside is the declared range"
like "$(c0 "" "$W/rp.json" | jq -r '.actual.probe.kernel_files[] | select(.path == "/proc/sys/kernel/core_pattern") | .write')" '^E' \
  "and the host's core_pattern refuses it"
is "$(c0 "" "$W/rp.json" | jq '[.actual.probe.syscalls[] | select(.name == "keyctl" or .name == "bpf")] | map(.result != "ok") | (length == 2 and all)')" true \
  "and keyctl and bpf are refused to it"

# ---- drift, made by hand: each is found ----
a=${ids[0]} b=${ids[1]} c=${ids[2]}
api GET "/1.0/containers/$a" >/dev/null
ta=$(j .tenant_id)
for d in $(own_dirs); do
  f=$d/t$ta/c$a/memory.max; [ -f "$f" ] || f=$d/t$ta/c$a/memory.limit_in_bytes
  [ -f "$f" ] && echo $((128 << 20)) > "$f"
done
bpftool link detach pinned "$W/bpf/c$b/connect4" 2>/dev/null || {
  id=$(bpftool -j link show pinned "$W/bpf/c$b/connect4" | jq .id); bpftool link detach id "$id"; }
nsenter --net="$W/hostns" nft delete element bridge sandhost ports "{ \"sh$(printf %x "$c")\" }"
report > "$W/r2.json"
# The sample in the docs: the report of this moment, drift and all.
[ -n "${AUDIT_SAMPLE:-}" ] && report "?format=html" > "$AUDIT_SAMPLE"
like "$(jq -c ".findings[] | select(.scope == \"c$a\" and .check == \"cgroup\")" "$W/r2.json")" \
  '"severity":"high".*memory is 134217728 in its cgroup, but 67108864 is declared' "a raised memory limit: high, naming both values"
like "$(jq -c ".findings[] | select(.scope == \"c$b\" and .check == \"bpf\")" "$W/r2.json")" \
  '"severity":"high".*connect4 hook: its network policy is not enforced there.*"fix":"restart the container' \
  "a detached policy program: high, with a fix"
like "$(jq -c ".findings[] | select(.scope == \"c$c\" and .check == \"nft\")" "$W/r2.json")" \
  '"severity":"high".*not in the anti-spoofing set' "a deleted anti-spoofing element: high"
is "$(jq '.summary.high' "$W/r2.json")" 3 "and nothing else is high"
is "$(report "?container=$b" | jq '.summary.containers, (.findings | map(select(.severity == "high")) | length)' | tr '\n' ' ')" "1 1 " \
  "?container= narrows the report to one container"

CLI=${SANDHOST_CLI:-$(dirname "$SANDHOSTD")/sandhost}
"$CLI" --socket "$S" audit > "$W/cli.txt"
is "$?" 3 "sandhost audit exits 3: there are high findings"
like "$(cat "$W/cli.txt")" "high +c$a +cgroup +memory is 134217728" "and prints them for a terminal"
"$CLI" --socket "$S" audit --container "web-globex" --format json > "$W/cli.json"
is "$(jq '.summary.containers' "$W/cli.json")" 1 "--container takes a name; --format json"

# Put right through the API: a restart of each writes it all again.
for id in "$a" "$b" "$c"; do api PUT "/1.0/containers/$id/state" '{"action": "restart"}' >/dev/null; wait_op "$(j .operation.id)" >/dev/null; done
is "$(report | jq '.summary.high')" 0 "after a restart of each, no high finding is left"
"$CLI" --socket "$S" audit --format html > "$W/cli.html"
is "$?" 0 "and sandhost audit exits 0"
like "$(head -c 200 "$W/cli.html")" '<!doctype html>' "--format html prints the page"

# ---- a deliberately weakened container is flagged ----
api POST /1.0/containers "{\"name\": \"debug\", \"tenant_id\": $ta, \"seccomp\": \"unconfined\"}" >/dev/null
weak=$(j .operation.container_id)
wait_op "$(j .operation.id)" >/dev/null
api PUT "/1.0/containers/$weak/state" '{"action": "start"}' >/dev/null
wait_op "$(j .operation.id)" >/dev/null
report "?container=$weak&probe=1" > "$W/r3.json"
is "$(jq -r '.tenants[0].containers[0].actual.seccomp' "$W/r3.json")" 0 "a provider admin's debug container without seccomp runs so"
is "$(jq -r '.tenants[0].containers[0].actual.probe.seccomp.mode' "$W/r3.json")" 0 "as the probe inside sees too"
is "$(jq -r '[.findings[] | select(.check == "seccomp" and .severity == "high")] | length' "$W/r3.json")" 2 \
  "and is flagged twice, high: declared without seccomp, and running without a filter"
"$CLI" --socket "$S" audit --container debug >/dev/null
is "$?" 3 "sandhost audit exits 3 for it"
api DELETE "/1.0/containers/$weak" >/dev/null; wait_op "$(j .operation.id)" >/dev/null

# ---- who may read it ----
api POST /1.0/users '{"name": "sec", "role": "auditor"}' >/dev/null; aud=$(j .id)
api POST "/1.0/users/$aud/tokens" '{"name": "t"}' >/dev/null; tk_aud=$(j .token)
api POST /1.0/users "{\"name\": \"own\", \"role\": \"owner\", \"tenant_id\": $ta}" >/dev/null; own=$(j .id)
api POST "/1.0/users/$own/tokens" '{"name": "t"}' >/dev/null; tk_own=$(j .token)
api POST /1.0/users "{\"name\": \"mem\", \"role\": \"member\", \"tenant_id\": $ta}" >/dev/null; mem=$(j .id)
api POST "/1.0/users/$mem/tokens" '{"name": "t"}' >/dev/null; tk_mem=$(j .token)
like "$(api -t "$tk_aud" GET /1.0/audit/report)" '^200 .*"containers":4' "an auditor reads the whole report"
like "$(api -t "$tk_own" GET /1.0/audit/report)" '^200 .*"tenants":1,"containers":1' "a tenant's owner reads their tenant's part"
like "$(api -t "$tk_own" GET "/1.0/audit/report?container=$b")" '^404 ' "another tenant's container: 404"
like "$(api -t "$tk_mem" GET /1.0/audit/report)" '^403 ' "a member may not"
like "$(api -t "$tk_own" POST /1.0/containers '{"name": "nofilter", "seccomp": "unconfined"}')" '^403 .*only a provider admin' \
  "a tenant may not turn seccomp off"
like "$(api -t "$tk_own" POST /1.0/containers '{"name": "narrow", "seccomp": "strict"}')" '^202 ' "but may choose the strict profile"
wait_op -t "$tk_own" "$(j .operation.id)" >/dev/null
api -t "$tk_own" GET "/1.0/containers/$(j .container_id)" >/dev/null
is "$(j .seccomp)" strict "recorded as the container's own"
like "$(api GET '/1.0/audit/report?format=pdf')" '^400 .*format=json\|text\|html' "an unknown format: 400 naming the ones there are"

# ---- the HTML report: tenants' names escaped ----
api PATCH "/1.0/tenants/$ta" '{"name": "acme-x"}' >/dev/null
curl -s --unix-socket "$S" -D "$W/h" "http://sandhost/1.0/audit/report?format=html" > "$W/r.html"
like "$(grep -i '^content-type' "$W/h")" 'text/html' "format=html is a page"
like "$(cat "$W/r.html")" '<h2>Summary</h2>.*' "with a summary"
like "$(tr -d '\n' < "$W/r.html")" '<h2>Tenant [0-9]+: acme-x.*<h3>c[0-9]+ web-acme' "then each tenant and its containers"
like "$(tr -d '\n' < "$W/r.html")" 'default out deny&#10;|default out deny' "with what was declared beside the kernel's facts"
ok $(grep -q '<script' "$W/r.html"; [ $? = 1 ]; echo $?) "and no script at all"
curl -s --unix-socket "$S" "http://sandhost/1.0/audit/report?format=text" > "$W/r.txt"
like "$(head -3 "$W/r.txt" | tr '\n' ' ')" 'Sandhost security audit.*3 tenant\(s\), 5 container\(s\)' "format=text is for a terminal"
done_testing
