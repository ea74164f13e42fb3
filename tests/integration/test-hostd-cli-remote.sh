#!/bin/bash
# The sandhost CLI from a tenant's side: through sandhost-portal over HTTPS
# (--url, --cacert, an API token), never sandhostd's socket.  info, list,
# show, stop and start; exec over the portal's websocket (output, exit
# status, stdin, bytes both ways, a terminal); another tenant's container out
# of reach; and the refusals, each with a nonzero exit and a message that
# names what failed: a self-signed certificate without --cacert (or with the
# wrong one), a wrong token (401), --url without a token or not https
# (refused before any request).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/portal-env.sh"
: "${SANDHOST_CLI:?set SANDHOST_CLI}"
command -v script >/dev/null || skip_all "needs script (util-linux)"

hd_start 1
pt_start
ok $? "sandhostd, and the portal on $PURL in the test's namespace"

# Tenants, an owner's token, a container each: as the admin on the socket.
two_tenants '{"name": "tiny", "cpu_millis": 500, "memory_mib": 64, "pids": 64, "disk_mib": 256, "bandwidth_mbit": 10,
  "max_containers": 2, "total_cpu_millis": 1000, "total_memory_mib": 128, "total_disk_mib": 512, "net_default": "allow",
  "seccomp": "default"}' owner
started() { # started NAME TENANT: the new, running container's id
  local id
  api POST /1.0/containers "{\"name\": \"$1\", \"tenant_id\": $2}" >/dev/null
  [ "$(wait_op "$(j .operation.id)")" = success ] || return 1
  api GET /1.0/containers >/dev/null
  id=$(j ".containers[] | select(.name == \"$1\") | .id")
  api PUT "/1.0/containers/$id/state" '{"action": "start"}' >/dev/null
  [ "$(wait_op "$(j .operation.id)")" = success ] && echo "$id"
}
c1=$(started web1 "$acme")
c2=$(started other1 "$globex")
ok $([ -n "$c1" ] && [ -n "$c2" ]; echo $?) "web1 (acme's) and other1 (globex's) running, made on the admin socket"

# The CLI in the portal's namespace, as alice: only the portal is there to reach.
CA=$P/cert.pem
cli() { innet "$SANDHOST_CLI" --url "$PURL" --cacert "$CA" --token "$ta" "$@"; }
status_is() { # status_is GOT WANT DESCRIPTION OUTPUT: is, and the output when it fails
  is "$1" "$2" "$3"
  [ "$1" = "$2" ] || printf '%s\n' "$4" | sed 's/^/#   output: /'
}

# ---- REST through the portal ----
out=$(cli info 2>&1)
status_is $? 0 "sandhost --url $PURL --cacert cert.pem info: exit 0" "$out"
like "$out" '"principal": "alice"' "the principal is alice (her token, through the portal)"
like "$out" '"role": "owner"' "an owner"
out=$(cli list 2>&1)
like "$out" "web1 +$acme +running" "list: acme's web1, running"
ok $(grep -q other1 <<< "$out"; [ $? = 1 ]; echo $?) "list: not globex's other1"
out=$(cli show other1 2>&1)
status_is $? 1 "show other1 (globex's, by name): exit 1" "$out"
like "$out" 'other1: no such container' "it does not exist for alice"
out=$(cli show "$c2" 2>&1)
status_is $? 1 "show $c2 (other1's id): exit 1" "$out"
like "$out" '\(not_found' "the API's 404"
is "$(cli show web1 | jq -r .name)" web1 "show web1: its JSON"
out=$(cli stop web1 2>&1)
status_is $? 0 "stop web1 through the portal (the operation waited for)" "$out"
like "$(cli list)" "web1 +$acme +stopped" "web1 is stopped"
out=$(cli start web1 2>&1)
status_is $? 0 "start web1" "$out"
like "$(cli list)" "web1 +$acme +running" "web1 is running again"

# ---- exec over the portal's websocket (TLS, Origin) ----
out=$(cli exec web1 id 2>&1)
status_is $? 0 "exec web1 id: exit 0" "$out"
like "$out" '^uid=0\(root\) gid=0\(root\)' "prints the container's root"
out=$(cli exec web1 sh -c 'exit 7' 2>&1)
status_is $? 7 "exec passes the command's exit status through (7)" "$out"
is "$(echo hi | cli exec web1 cat)" hi "stdin goes through to EOF (echo hi | exec cat)"
head -c 3000000 /dev/urandom > "$W/blob"
is "$(cli exec web1 cat < "$W/blob" | md5sum | cut -d' ' -f1)" "$(md5sum < "$W/blob" | cut -d' ' -f1)" \
  "3 MB of random bytes in and out through cat, intact"
out=$(innet "$SANDHOST_CLI" --url https://localhost:8443 --cacert "$CA" --token "$ta" exec web1 hostname 2>&1)
status_is $? 0 "by the name localhost (SNI, the certificate's DNS name; Host and Origin localhost:8443)" "$out"
is "$out" web1 "the same container"
# A quiet session has TCP keepalive on: a portal that vanishes ends it instead of hanging it.
cli exec web1 sleep 3 >/dev/null 2>&1 &
xp=$! ka=""
for _ in $(seq 50); do
  ka=$(innet ss -tnoH state established '( dport = :8443 )' | grep -o 'timer:(keepalive,[^)]*)' | head -1)
  [ -n "$ka" ] && break
  sleep 0.1
done
wait "$xp"
like "$ka" '^timer:\(keepalive,' "exec's TCP connection has keepalive on (${ka:-no timer})"
out=$(cli exec "$c2" id 2>&1)
status_is $? 125 "exec in globex's other1 by its id: 125" "$out"
like "$out" '\(not_found' "the API's 404"
out=$(cli exec other1 id 2>&1)
status_is $? 125 "nor by its name" "$out"
# exec -t: script(1) gives the CLI a terminal.
out=$(innet script -qec "'$SANDHOST_CLI' --url $PURL --cacert '$CA' --token $ta exec -t web1 sh -c 'tty; exit 3'" /dev/null \
  < /dev/null 2>&1)
status_is $? 3 "exec -t on a terminal: the command's exit status (3)" "$out"
like "$out" '/dev/pts/[0-9]+' "the command has a terminal of its own (tty)"

# ---- the environment instead of options ----
out=$(SANDHOST_URL=$PURL SANDHOST_CACERT=$CA SANDHOST_TOKEN=$ta innet "$SANDHOST_CLI" exec web1 hostname 2>&1)
status_is $? 0 "\$SANDHOST_URL, \$SANDHOST_CACERT and \$SANDHOST_TOKEN instead of options" "$out"
out=$(SANDHOST_URL=$PURL innet "$SANDHOST_CLI" --socket "$S" info 2>&1)
status_is $? 0 "--socket wins over \$SANDHOST_URL" "$out"
like "$out" '"role": "admin"' "(root on the socket: the admin)"

# ---- refusals ----
nocert() { innet "$SANDHOST_CLI" --url "$PURL" --token "$ta" "$@"; }
out=$(nocert list 2>&1)
status_is $? 1 "without --cacert, the portal's self-signed certificate is refused: exit 1" "$out"
like "$out" "^sandhost: $PURL: certificate verify failed: self-signed certificate \(give --cacert\)$" "saying so"
out=$(nocert exec 1 id 2>&1)
status_is $? 255 "exec too: 255" "$out"
like "$out" "^sandhost: $PURL: certificate verify failed: self-signed certificate \(give --cacert\)$" "with the same message"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$W/other.key" -out "$W/other.pem" 2>/dev/null
out=$(CA=$W/other.pem cli list 2>&1)
status_is $? 1 "--cacert of another certificate: exit 1" "$out"
like "$out" 'certificate verify failed: self-signed certificate \(not signed by --cacert' "saying so"
out=$(CA=$W/other.pem cli exec web1 id 2>&1)
status_is $? 255 "exec with it: 255" "$out"
like "$out" 'certificate verify failed: self-signed certificate \(not signed by --cacert' "saying so"
# A server (openssl s_server) whose certificate, trusted with --cacert, is for another
# name: the URL's address or name must be in it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=other.example \
  -addext subjectAltName=DNS:other.example -keyout "$W/name.key" -out "$W/name.pem" 2>/dev/null
innet openssl s_server -quiet -accept 127.0.0.1:9443 -cert "$W/name.pem" -key "$W/name.key" -www >/dev/null 2>&1 &
sserver=$!
defer "kill $sserver 2>/dev/null"
for _ in $(seq 100); do innet bash -c 'echo > /dev/tcp/127.0.0.1/9443' 2>/dev/null && break; sleep 0.1; done
other() { innet "$SANDHOST_CLI" --url "https://$1:9443" --cacert "$W/name.pem" --token "$ta" "${@:2}"; }
out=$(other 127.0.0.1 list 2>&1)
status_is $? 1 "a trusted certificate for another name than the URL's address: exit 1" "$out"
like "$out" '^sandhost: https://127\.0\.0\.1:9443: certificate verify failed: .*(matches target host name|mismatch)' "saying so"
out=$(other 127.0.0.1 exec 1 id 2>&1)
status_is $? 255 "exec: 255" "$out"
like "$out" '^sandhost: https://127\.0\.0\.1:9443: certificate verify failed: IP address mismatch$' "saying so"
out=$(other localhost exec 1 id 2>&1)
status_is $? 255 "by the name localhost: 255" "$out"
like "$out" '^sandhost: https://localhost:9443: certificate verify failed: hostname mismatch$' "saying so"
kill $sserver

out=$(CA=$W/nothing.pem cli list 2>&1)
status_is $? 2 "--cacert of a file that is not there: 2" "$out"
like "$out" "^sandhost: --cacert $W/nothing.pem: No such file" "naming it"

bad=sht_0000000000000000000000000000000000000000
out=$(innet "$SANDHOST_CLI" --url "$PURL" --cacert "$CA" --token "$bad" --json api GET /1.0/containers 2>&1)
status_is $? 1 "a wrong token: exit 1" "$out"
like "$out" '\(unauthorized' "sandhostd's 401 (unauthorized)"
is "$(innet curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" -H "Authorization: Bearer $bad" "$PURL/1.0/containers")" 401 \
  "(what curl sees for it: 401)"
out=$(innet "$SANDHOST_CLI" --url "$PURL" --cacert "$CA" --token "$bad" exec 1 id 2>&1)
status_is $? 125 "exec with a wrong token: 125" "$out"
like "$out" '\(unauthorized' "the 401's message"

# Port 1 has no listener: a request would fail there; the check comes first.
out=$(SANDHOST_TOKEN='' innet "$SANDHOST_CLI" --url https://127.0.0.1:1 --cacert "$CA" list 2>&1)
status_is $? 2 "--url without a token: 2" "$out"
like "$out" '^sandhost: https://127\.0\.0\.1:1: needs a token' "refused before any request"
out=$(SANDHOST_TOKEN='' innet "$SANDHOST_CLI" --url https://127.0.0.1:1 exec web1 id 2>&1)
status_is $? 2 "exec too" "$out"
like "$out" 'needs a token' "saying so"
out=$(innet "$SANDHOST_CLI" --url http://127.0.0.1:1 --token "$ta" list 2>&1)
status_is $? 2 "an http:// URL: 2" "$out"
like "$out" 'http://127.0.0.1:1: not https' "the token never goes in the clear"
out=$(innet "$SANDHOST_CLI" --url https://127.0.0.1:8443/x --token "$ta" list 2>&1)
status_is $? 2 "a URL with a path: 2" "$out"
out=$(innet "$SANDHOST_CLI" --url "$PURL" --socket "$S" --token "$ta" list 2>&1)
status_is $? 2 "--url and --socket both: 2" "$out"
out=$(innet "$SANDHOST_CLI" --url https://127.0.0.1:1 --cacert "$CA" --token "$ta" list 2>&1)
status_is $? 1 "no portal there: exit 1" "$out"
like "$out" '^sandhost: https://127\.0\.0\.1:1: .*(connect|Connection refused)' "naming the URL"
out=$(innet "$SANDHOST_CLI" --url https://127.0.0.1:1 --cacert "$CA" --token "$ta" exec 1 id 2>&1)
status_is $? 255 "exec with no portal there: 255" "$out"
like "$out" '^sandhost: https://127\.0\.0\.1:1: .*(connect|Connection refused)' "naming the URL"

# What alice did went through the portal: sandhostd's audit log has her execs.
api GET /1.0/audit?limit=1000 >/dev/null
check "$(j "[.entries[] | select(.path == \"/1.0/containers/$c1/exec\" and .status == 101)] | length") >= 5" \
  "sandhostd's audit log has her execs of web1, upgraded (101)"
done_testing
