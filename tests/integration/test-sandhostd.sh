#!/bin/bash
# sandhostd as a process: first start, the unix socket and who it lets in,
# HTTP-level refusals (malformed JSON, oversized bodies), a restart that
# keeps everything, a second daemon refused, SIGTERM removing the socket.
. "$(dirname "$0")/../lib/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
: "${SANDHOSTD:?set SANDHOSTD to the sandhostd binary}"
command -v curl >/dev/null || skip_all "needs curl"

W=$(mktemp -d /tmp/sandhostd-test.XXXXXX)
chmod 755 "$W"   # so that only the socket's own mode keeps other users out
defer "rm -rf '$W'"
: "${SBX_STORAGE:=$(dirname "$SANDHOSTD")/../sandbox/sbx-storage}"
defer "'$SBX_STORAGE' --pool '$W/state/pools/default' pool unmount"
defer "for m in \$(awk '\$2 ~ \"^$W/\" {print \$2}' /proc/mounts | sort -r); do umount -l \"\$m\"; done"
S=$W/run/sandhostd.sock
pid=""
defer '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null'

start() { # start: sandhostd in the foreground on $W, its output in $W/out.N
  "$SANDHOSTD" --foreground --set "state_dir=$W/state" --set "runtime_dir=$W/run" --set max_body=4096 --set pool_size=1G \
    > "$W/out.$1" 2> "$W/err.$1" &
  pid=$!
  # Serving, not just a socket file.
  for _ in $(seq 300); do curl -sf --unix-socket "$S" -o /dev/null http://sandhost/1.0 && break; sleep 0.1; done
}
api() { # api METHOD PATH [BODY] [curl args...]: prints "STATUS BODY"
  local m=$1 p=$2 b=${3:-}
  shift 3 2>/dev/null || shift $#
  curl -s --unix-socket "$S" -X "$m" -o "$W/body" -w '%{http_code}' \
    ${b:+-H 'Content-Type: application/json' --data-binary "$b"} "$@" "http://sandhost$p"
  echo " $(cat "$W/body")"
}
field() { jq -r "$1" "$W/body"; }

start 1
ok $([ -S "$S" ]; echo $?) "sandhostd serves its socket"
is "$(stat -c %a "$S")" "$(getent group sandhost-admin >/dev/null && echo 660 || echo 600)" \
  "the socket is open to root (and the admin group, if there is one) only"
token=$(sed -n 's/^\(sht_[A-Za-z0-9_-]*\)$/\1/p' "$W/out.1")
like "$token" '^sht_.{43}$' "first start prints the admin's API token once"
is "$(stat -c %a "$W/state")" 700 "the state directory is private"

like "$(api GET /1.0)" '^200 .*"role":"admin"' "root on the socket is the provider admin"
like "$(api GET /1.0 '' -H "Authorization: Bearer $token")" '^200 .*"principal":"admin"' "the printed token is the admin user"
like "$(api GET /1.0 '' -H 'Authorization: Bearer sht_nope')" '^401 .*"code":"unauthorized"' "a bad token: 401"
# Another local user: no token, no entry.
like "$(setpriv --reuid=65534 --regid=65534 --clear-groups curl -s --unix-socket "$S" -o - -w ' %{http_code}' http://x/1.0 2>&1)" \
  ' 000$' "an unprivileged local user cannot connect to the socket"

like "$(api POST /1.0/tenants '{"name": "acme", "plan_id": 1,}')" '^400 .*malformed JSON at line 1' \
  "malformed JSON: 400 with its position"
like "$(api POST /1.0/tenants '{"name": "acme", "name": "x", "plan_id": 1}')" '^400 ' "duplicate keys: 400"
big=$(printf '{"name": "%05000d", "plan_id": 1}' 0)
like "$(api POST /1.0/tenants "$big")" '^413' "a body over max_body: 413"
like "$(curl -s --unix-socket "$S" -X POST -d 'name=x' -w ' %{http_code}' http://x/1.0/tenants)" '415$' \
  "a body that is not JSON: 415"
like "$(api POST /1.0/tenants '{"name": "acme", "plan_id": 1}')" '^201 ' "create a tenant"
is "$(field .name)" acme "it is returned"
like "$(api GET /1.0/tenants/1 '' -D "$W/headers")" '^200 ' "read it back"
like "$(grep -i '^etag' "$W/headers")" '"1"' "with an ETag"

# Restart: same database, no new admin token.
kill "$pid"; wait "$pid"; rc=$?
is "$rc" 0 "SIGTERM stops the daemon cleanly"
ok $([ ! -e "$S" ]; echo $?) "and removes its socket"
start 2
is "$(grep -c '^sht_' "$W/out.2")" 0 "a restart prints no new token"
like "$(api GET /1.0/tenants/1)" '^200 .*"acme"' "the tenant is still there"
like "$(api GET /1.0 '' -H "Authorization: Bearer $token")" '^200 ' "and the token still works"
"$SANDHOSTD" --foreground --set "state_dir=$W/state2" --set "runtime_dir=$W/run" > "$W/out.3" 2>&1
rc=$?
ok $((rc == 0)) "a second daemon on the same socket refuses to start"
ok $([ ! -e "$W/state2/pools/default" ]; echo $?) "before touching any storage"
like "$(cat "$W/out.3")" "another sandhostd" "saying why"
like "$(api GET /1.0)" '^200 ' "and the first keeps serving"
"$SANDHOSTD" --set bogus=1 > "$W/out.4" 2>&1
like "$(cat "$W/out.4")" "bogus: unknown key" "an unknown configuration key is named"
printf 'state_dir = %s\nidmap_count = 100000\n' "$W/state" > "$W/bad.conf"
"$SANDHOSTD" --config "$W/bad.conf" > "$W/out.5" 2>&1
like "$(cat "$W/out.5")" "idmap_count.*multiple of 65536" "a bad value in the file is named"
like "$(api GET /1.0/audit)" '"status":415.*"status":400,"detail":"malformed JSON' "refused requests are in the audit log"
kill "$pid"; wait "$pid"
pid=""
done_testing
