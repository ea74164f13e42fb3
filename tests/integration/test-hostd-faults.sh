#!/bin/bash
# Faults over sandhostd's real socket.  Bad input: a table of bad requests
# (malformed JSON, wrong types, an oversized and a deeply nested body, bad
# names, unknown fields, stale and malformed If-Match, bad ids and query
# parameters), each a 4xx whose message names the problem, with the
# database's tables unchanged and the refusals in the audit log.  A
# database write-locked by another process: 503, reads go on, the same
# request succeeds once the lock is gone.  A full disk: first with room left
# in the database's log (an operation fails at the file it cannot write, and
# is undone), then with none (507, reads go on, nothing half-written);
# everything works again once there is room.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/hostd-env.sh"
command -v sqlite3 >/dev/null || skip_all "needs the sqlite3 command"

# The state directory on a small filesystem of the test's own, so the test
# can fill it.  The storage pool (state_dir/pools: a sparse loop file with
# btrfs) must not live there: a full backing file fails btrfs's writes
# underneath it, which aborts its transaction and leaves it read-only until
# remounted.  So state_dir/pools is a bind mount of a directory on the
# machine's disk, and the small filesystem holds what this test is about:
# the database (with its WAL) and the containers' bundles.  hostd-env.sh's
# cleanup unmounts everything below $W once the daemon has stopped.
mkdir -p "$W/state" "$W/pools"
mount -t tmpfs -o size=32m,mode=0700 sandhost-faults "$W/state" || skip_all "cannot mount a tmpfs"
mkdir "$W/state/pools"
mount --bind "$W/pools" "$W/state/pools"
DB=$W/state/sandhost.db
hd_start 1 --set max_body=65536
like "$(api GET /1.0)" '^200 ' "sandhostd starts with its state on a 32 MiB tmpfs"

q() { sqlite3 -readonly "$DB" "$@"; }
# Every table but the audit log (refusals are recorded there), row by row.
dump() {
  local t
  for t in $(q "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'audit_log' ORDER BY name"); do
    echo "== $t"
    q -cmd '.mode quote' "SELECT * FROM $t ORDER BY rowid"
  done
}
last_audit() { q 'SELECT coalesce(max(id), 0) FROM audit_log'; }
alive() { kill -0 "$pid" 2>/dev/null && [ "$(curl -s --unix-socket "$S" -o /dev/null -w '%{http_code}' http://sandhost/1.0)" = 200 ]; }

# What the bad requests aim at: a tenant, its owner, a container.
api POST /1.0/tenants '{"name": "acme", "plan_id": 1}' >/dev/null; acme=$(j .id)
api POST /1.0/users "{\"name\": \"alice\", \"role\": \"owner\", \"tenant_id\": $acme}" >/dev/null; alice=$(j .id)
api POST /1.0/containers "{\"name\": \"web1\", \"tenant_id\": $acme}" >/dev/null
is "$(wait_op "$(j .operation.id)")" success "a container to aim at"
web1=$(j .container_id)

# ---- bad input ----
deep=$(printf '%*s' 10000 '' | tr ' ' '['; printf '%*s' 10000 '' | tr ' ' ']')
big="{\"name\": \"$(head -c 70000 /dev/zero | tr '\0' a)\", \"plan_id\": 1}"
long=$(printf 'a%.0s' $(seq 64))
# One bad request a line: what | method | path | If-Match (- for none) |
# body (@deep, @big, @latin1 stand for generated ones; - for none) | status |
# the error's field (- for none) | a regex its message must match.
cat > "$W/bad" <<EOF
malformed JSON (trailing comma)|POST|/1.0/tenants|-|{"name": "x", "plan_id": 1,}|400|-|malformed JSON at line 1, column
malformed JSON (cut short)|POST|/1.0/tenants|-|{"name": "x", "plan|400|-|malformed JSON at line 1
a key given twice|POST|/1.0/tenants|-|{"name": "x", "name": "y", "plan_id": 1}|400|-|malformed JSON.*duplicate
not UTF-8|POST|/1.0/tenants|-|@latin1|400|-|malformed JSON.*decode byte 0xe9
a bare string for the body|POST|/1.0/tenants|-|"acme"|400|-|malformed JSON
an array for the body|POST|/1.0/tenants|-|[{"name": "x", "plan_id": 1}]|400|-|body must be a JSON object
an array for the body of a state change|PUT|/1.0/containers/$web1/state|-|["start"]|400|-|body must be a JSON object
an array for the body of a container|POST|/1.0/containers|-|[]|400|-|body must be a JSON object
null for the body|PATCH|/1.0/tenants/$acme|-|null|400|-|malformed JSON
no body|POST|/1.0/tenants|-|-|400|-|JSON body is expected
10,000 nested arrays|POST|/1.0/tenants|-|@deep|400|-|maximum parsing depth
10,000 nested arrays in a field|PATCH|/1.0/tenants/$acme|-|{"name": @deep}|400|-|maximum parsing depth
a body over max_body|POST|/1.0/tenants|-|@big|413|-|too large
a string for an integer|POST|/1.0/tenants|-|{"name": "x", "plan_id": "1"}|400|plan_id|integer is expected
a fraction for an integer|POST|/1.0/tenants|-|{"name": "x", "plan_id": 1.5}|400|plan_id|integer is expected
a boolean for an integer|PATCH|/1.0/plans/1|-|{"pids": true}|400|pids|integer is expected
null for an integer|POST|/1.0/tenants|-|{"name": "x", "plan_id": null}|400|plan_id|integer is expected
a number for a string|POST|/1.0/tenants|-|{"name": 5, "plan_id": 1}|400|name|string is expected
an array for a string|POST|/1.0/tenants|-|{"name": ["x"], "plan_id": 1}|400|name|string is expected
an object for a string|PATCH|/1.0/plans/1|-|{"seccomp": {"profile": "default"}}|400|seccomp|string is expected
null for a string|PATCH|/1.0/users/$alice|-|{"role": null}|400|role|string is expected
a number for a choice|PATCH|/1.0/containers/$web1|-|{"restart_policy": 1}|400|restart_policy|string is expected
a value outside the choices|PATCH|/1.0/containers/$web1|-|{"restart_policy": "sometimes"}|400|restart_policy|not one of the allowed values
a string for a container's tenant|POST|/1.0/containers|-|{"name": "w2", "tenant_id": "$acme"}|400|tenant_id|must be an integer
a string for a container's size|POST|/1.0/containers|-|{"name": "w2", "tenant_id": $acme, "memory_mib": "64"}|400|memory_mib|integer is expected
an object for a container's name|POST|/1.0/containers|-|{"name": {"x": 1}, "tenant_id": $acme}|400|name|must be a string
a number for an action|PUT|/1.0/containers/$web1/state|-|{"action": 1}|400|action|must be a string
a string for a timeout|PUT|/1.0/containers/$web1/state|-|{"action": "start", "timeout": "5"}|400|timeout|must be an integer
a timeout out of range|PUT|/1.0/containers/$web1/state|-|{"action": "start", "timeout": 99999}|400|timeout|0 to 3600
an unknown action|PUT|/1.0/containers/$web1/state|-|{"action": "fly"}|400|action|start, stop, restart or rebuild
a number for a policy|PUT|/1.0/containers/$web1/policy|-|{"policy": 5}|400|policy|policy's text
a policy that does not parse|PUT|/1.0/containers/$web1/policy|-|{"policy": "allow everything please"}|400|policy|^policy: 
a number for a snapshot's name|POST|/1.0/containers/$web1/snapshots|-|{"name": 5}|400|name|must be a string
a number for a token's name|POST|/1.0/users/$alice/tokens|-|{"name": 5}|400|name|must be a string
an empty name|POST|/1.0/tenants|-|{"name": "", "plan_id": 1}|400|name|1 to 63 of a-z
a name of 64 characters|POST|/1.0/tenants|-|{"name": "$long", "plan_id": 1}|400|name|1 to 63 of a-z
a name in capitals|POST|/1.0/tenants|-|{"name": "Acme", "plan_id": 1}|400|name|1 to 63 of a-z
a name with a space|PATCH|/1.0/tenants/$acme|-|{"name": "ac me"}|400|name|1 to 63 of a-z
a name starting with a dash|POST|/1.0/users|-|{"name": "-alice", "role": "auditor"}|400|name|1 to 63 of a-z
a name with a slash|POST|/1.0/containers|-|{"name": "../web1", "tenant_id": $acme}|400|name|1 to 63 of a-z
a name with markup|POST|/1.0/users|-|{"name": "<b>x</b>", "role": "auditor"}|400|name|1 to 63 of a-z
a name outside ASCII|POST|/1.0/tenants|-|{"name": "acmé", "plan_id": 1}|400|name|1 to 63 of a-z
a container name of 64 characters|POST|/1.0/containers|-|{"name": "$long", "tenant_id": $acme}|400|name|1 to 63 of a-z
an empty snapshot name|POST|/1.0/containers/$web1/snapshots|-|{"name": ""}|400|name|1 to 63 of a-z
a token name with a newline|POST|/1.0/users/$alice/tokens|-|{"name": "a\\nb"}|400|name|1 to 63 of a-z
an empty token name|POST|/1.0/users/$alice/tokens|-|{"name": ""}|400|name|1 to 63 of a-z
an unknown field|POST|/1.0/tenants|-|{"name": "x", "plan_id": 1, "colour": "red"}|400|colour|unknown field of a tenant
an id in the body|PATCH|/1.0/tenants/$acme|-|{"id": 7}|400|id|unknown field
a field that is read-only|PATCH|/1.0/containers/$web1|-|{"state": "running"}|400|state|unknown field of a container
a field fixed at creation|PATCH|/1.0/users/$alice|-|{"name": "alicia"}|400|name|cannot be changed after creation
an unknown field of a container|POST|/1.0/containers|-|{"name": "w2", "tenant_id": $acme, "privileged": true}|400|privileged|unknown or unsupported field
an unknown field of a state change|PUT|/1.0/containers/$web1/state|-|{"action": "start", "force": true}|400|force|unknown or unsupported field
an unknown field of a token|POST|/1.0/users/$alice/tokens|-|{"name": "t", "scope": "all"}|400|scope|unknown or unsupported field
an unknown field of a snapshot|POST|/1.0/containers/$web1/snapshots|-|{"name": "s", "live": true}|400|live|unknown or unsupported field
an unknown field of a policy|PUT|/1.0/containers/$web1/policy|-|{"policy": null, "mode": 1}|400|mode|unknown or unsupported field
a stale If-Match|PATCH|/1.0/tenants/$acme|"99"|{"name": "acme2"}|412|-|changed since "99" \(now "1"\)
a weak If-Match (never matches)|PATCH|/1.0/tenants/$acme|W/"1"|{"name": "acme2"}|412|-|changed since
a stale If-Match on a delete|DELETE|/1.0/users/$alice|"42"|-|412|-|changed since "42"
an If-Match without quotes|PATCH|/1.0/tenants/$acme|1|{"name": "acme2"}|400|If-Match|not an entity tag
an If-Match cut short|PATCH|/1.0/tenants/$acme|"1|{"name": "acme2"}|400|If-Match|not an entity tag
id 0|GET|/1.0/tenants/0|-|-|404|-|no such resource: /1.0/tenants/0
a negative id|DELETE|/1.0/tenants/-1|-|-|404|-|no such resource: /1.0/tenants/-1
a huge id|PATCH|/1.0/tenants/99999999999999999999999|-|{"name": "x"}|404|-|no tenant
an id that is not a number|DELETE|/1.0/containers/web1|-|-|404|-|no such resource
an id of nothing|PUT|/1.0/containers/987654/state|-|{"action": "start"}|404|-|no container 987654
a user that does not exist|POST|/1.0/users/987654/tokens|-|{"name": "t"}|404|-|no user 987654
a snapshot that does not exist|DELETE|/1.0/containers/$web1/snapshots/987654|-|-|404|-|has no snapshot 987654
a bad query parameter|GET|/1.0/usage?format=xml|-|-|400|-|unknown query parameter "format=xml"
a query parameter that is not a number|GET|/1.0/containers/$web1/logs?lines=many|-|-|400|lines|lines: 1 to 100000
a query parameter of events|GET|/1.0/events?since=yesterday|-|-|400|-|unknown query parameter "since=yesterday"
EOF

before=$(dump)
mark=$(last_audit)
: > "$W/refused"
while IFS='|' read -r what method path ifm body status field words; do
  args=(-s --unix-socket "$S" -X "$method" -o "$W/body" -w '%{http_code}')
  [ "$ifm" = - ] || args+=(-H "If-Match: $ifm")
  case $body in
    -) ;;
    @deep) printf '%s' "$deep" > "$W/req" ;;
    @big) printf '%s' "$big" > "$W/req" ;;
    @latin1) printf '{"name": "acm\xe9", "plan_id": 1}' > "$W/req" ;;
    *) printf '%s' "${body//@deep/$deep}" > "$W/req" ;;
  esac
  [ "$body" = - ] || args+=(-H 'Content-Type: application/json' --data-binary "@$W/req")
  got=$(curl "${args[@]}" "http://sandhost$path")
  # h2o refuses an oversized body itself, in plain text.
  msg=$(jq -r '.error.message // empty' "$W/body" 2>/dev/null || cat "$W/body")
  gotfield=$(jq -r '.error.field // "-"' "$W/body" 2>/dev/null || echo -)
  desc="$what: $method ${path:0:40}: $status"
  [ "$field" = - ] || desc+=" naming $field"
  if [ "$got" = "$status" ] && [ "$gotfield" = "$field" ] && printf '%s' "$msg" | grep -Eq -- "$words"; then
    ok 0 "$desc"
  else
    ok 1 "$desc"
    diag "got $got, field $gotfield, message: ${msg:0:300}"
  fi
  # Every mutating request reaches the audit log, except what h2o refuses itself.
  [ "$method" != GET ] && [ "$status" != 413 ] && echo "$method|${path%%\?*}|$status" >> "$W/refused"
done < "$W/bad"
ok $(alive; echo $?) "the daemon still answers after the whole table"
after=$(dump)
is "$(diff <(echo "$before") <(echo "$after") | head -5)" "" "nothing changed in the database (every table but the audit log)"
is "$(q "SELECT method || '|' || path || '|' || status FROM audit_log WHERE id > $mark ORDER BY id")" "$(cat "$W/refused")" \
  "every refused change is in the audit log, with its status"
like "$(q "SELECT detail FROM audit_log WHERE id > $mark AND status = 412 ORDER BY id LIMIT 1")" 'changed since "99"' \
  "with its message"

# ---- the database locked by another process ----
# A writer of its own holding the write lock (WAL: readers go on) past the
# daemon's 5 s busy timeout, with a change of its own not yet committed;
# it signals once it holds the lock, and rolls back when told.
mkfifo "$W/lockctl"
sqlite3 "$DB" < "$W/lockctl" > "$W/lock.out" 2>&1 &
locker=$!
defer '[ -n "$locker" ] && kill "$locker" 2>/dev/null'
exec 7> "$W/lockctl"
printf '.bail on\n.timeout 10000\nBEGIN EXCLUSIVE;\nUPDATE tenants SET name = %s WHERE id = %s;\n.shell touch %s\n' \
  "'held'" "$acme" "$W/locked" >&7
for _ in $(seq 150); do [ -e "$W/locked" ] && break; sleep 0.1; done
ok $([ -e "$W/locked" ]; echo $?) "another process holds the database's write lock"
before=$(dump)
mark=$(last_audit)
r=$(api POST /1.0/tenants '{"name": "globex", "plan_id": 1}')
like "$r" '^503 ' "creating a tenant meanwhile: 503"
is "$(j .error.code)" unavailable "code unavailable"
like "$(j .error.message)" 'database is busy.*nothing was changed' "saying the database is busy and nothing changed"
like "$(api PUT "/1.0/containers/$web1/state" '{"action": "start"}')" '^503 .*database is busy' "starting a container: 503 too"
like "$(api GET /1.0/tenants)" '^200 .*"name":"acme"' "reads go on (WAL), without the other writer's uncommitted change"
like "$(api GET "/1.0/containers/$web1")" '^200 .*"state":"stopped"' "the container is still stopped"
is "$(dump)" "$before" "nothing changed"
ok $(alive; echo $?) "the daemon still answers"
printf 'ROLLBACK;\n' >&7
exec 7>&-
wait "$locker"
is "$?" 0 "the other process lets go of the lock"
locker=""
like "$(api POST /1.0/tenants '{"name": "globex", "plan_id": 1}')" '^201 ' "then the same request succeeds"
globex=$(j .id)
is "$(q "SELECT count(*) FROM tenants WHERE name = 'globex'")" 1 "once"
is "$(q "SELECT status FROM audit_log WHERE id > $mark ORDER BY id")" 201 \
  "the audit log has the change (the refusals could not be written while the lock was held)"
is "$(q 'PRAGMA integrity_check')" ok "PRAGMA integrity_check: ok"

# ---- a full disk ----
fill() {
  fallocate -l "$(df -B1 --output=avail "$W/state" | tail -n 1)" "$W/state/filler"
  dd if=/dev/zero of="$W/state/filler2" bs=4096 2>/dev/null   # what fallocate's rounding left
  is "$(df -B1 --output=avail "$W/state" | tail -n 1 | tr -d ' ')" 0 "the state filesystem is full"
}
checkpoint() { sqlite3 -cmd '.timeout 5000' "$DB" "PRAGMA wal_checkpoint($1)" | cut -d'|' -f1; }
# SQLite writes a change into its write-ahead log, which starts over from
# its beginning after a checkpoint: changes that fit into the room the log
# already has need no new room on the disk.  So first the daemon's files
# run out of room before its database does: an operation whose step cannot
# write its file fails and is undone, and says why.
is "$(checkpoint RESTART)" 0 "the write-ahead log is checkpointed (the next change starts it over)"
fill
like "$(api PUT "/1.0/containers/$web1/state" '{"action": "start"}')" '^202 ' \
  "starting a container on a full disk: accepted (the change fits into the log's room)"
api GET "/1.0/operations/$(j .operation.id)/wait?timeout=60" >/dev/null
is "$(j .status)" failure "its operation fails"
like "$(j .error)" 'config.*No space left on device' "at the step writing config.json, saying the disk is full"
like "$(api GET "/1.0/containers/$web1")" '^200 .*"state":"stopped"' "the container is stopped again"
is "$(ls -A "$W/state/bundles/c$web1" 2>/dev/null)" "" "no half-written file is left in its bundle (config.json or its temporary)"
rm -f "$W/state/filler" "$W/state/filler2"
# Then the database: truncating the log leaves it no room, as a long log
# would have used it up.
is "$(checkpoint TRUNCATE)" 0 "the write-ahead log is checkpointed and emptied"
is "$(stat -c %s "$DB-wal")" 0 "it is empty"
fill
before=$(dump)
audit_before=$(q 'SELECT count(*) FROM audit_log')
files_before=$(ls -RA "$W/state/bundles")
# A change of each kind: tenant, user, token, container, a rename, a snapshot, a start.
cat > "$W/full" <<EOF
POST|/1.0/tenants|{"name": "full-t", "plan_id": 1}|201
POST|/1.0/users|{"name": "full-u", "role": "member", "tenant_id": $acme}|201
POST|/1.0/users/$alice/tokens|{"name": "full-tok"}|201
POST|/1.0/containers|{"name": "full-c", "tenant_id": $acme}|202
PATCH|/1.0/tenants/$globex|{"name": "full-globex"}|200
POST|/1.0/containers/$web1/snapshots|{"name": "full-s"}|202
PUT|/1.0/containers/$web1/state|{"action": "start"}|202
EOF
while IFS='|' read -r method path body _; do
  r=$(api "$method" "$path" "$body")
  if [[ $r == "507 "* ]] && [ "$(j .error.code)" = insufficient_storage ] && j .error.message | grep -q 'disk.*full.*nothing was changed'; then
    ok 0 "$method $path on a full disk: 507, the disk is full, nothing changed"
  else
    ok 1 "$method $path on a full disk: 507, the disk is full, nothing changed"
    diag "got ${r:0:300}"
  fi
done < "$W/full"
ok $(alive; echo $?) "the daemon stays up"
like "$(api GET /1.0/tenants)" '^200 .*"name":"globex"' "reads still work"
like "$(api GET "/1.0/containers/$web1")" '^200 .*"state":"stopped"' "the container is still stopped"
is "$(dump)" "$before" "nothing changed in the database"
is "$(q 'SELECT count(*) FROM audit_log')" "$audit_before" "not even the audit log (the refusals are in the daemon's log)"
like "$(grep -c 'not recorded: database or disk is full' "$W/out.1")" '^[1-9]' "which says so"
is "$(ls -RA "$W/state/bundles")" "$files_before" "no file was written"

rm -f "$W/state/filler" "$W/state/filler2"
# The rows the requests above make, by their names (all "full-...").
full_rows() {
  q "SELECT (SELECT count(*) FROM tenants WHERE name LIKE 'full-%') + (SELECT count(*) FROM users WHERE name LIKE 'full-%')
    + (SELECT count(*) FROM api_tokens WHERE name LIKE 'full-%') + (SELECT count(*) FROM containers WHERE name LIKE 'full-%')
    + (SELECT count(*) FROM snapshots WHERE name LIKE 'full-%')"
}
is "$(full_rows)" 0 "no row of the refused requests exists"
while IFS='|' read -r method path body want; do
  r=$(api "$method" "$path" "$body")
  like "$r" "^$want " "with room again, $method $path: $want"
  if [ "$want" = 202 ]; then
    is "$(wait_op "$(j .operation.id)")" success "and its operation succeeds"
  fi
done < "$W/full"
like "$(api GET "/1.0/containers/$web1")" '^200 .*"state":"running"' "web1 runs (its bundle written on the once-full filesystem)"
is "$(q 'PRAGMA integrity_check')" ok "PRAGMA integrity_check: ok"
is "$(full_rows)" 6 "each change made once (5 new rows, a tenant renamed)"
hd_stop
is "$?" 0 "SIGTERM stops the daemon cleanly"
pid=""
done_testing
