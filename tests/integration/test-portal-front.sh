#!/bin/bash
# sandhost-portal in front of a real sandhostd, from a client's side: TLS
# versions and ciphers, the security headers and index.html's CSP nonce,
# static files (no listing, no way out of the assets), the API through the
# portal socket (bearer tokens; session cookies, CSRF, idle expiry, lockout
# from sandhostd's login), the login rate limit, bodies too big or
# malformed, the websocket Origin check and a console through it, the
# running portal's privileges read from /proc, and a certificate reload.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/portal-env.sh"
command -v python3 >/dev/null || skip_all "needs python3"
PY=/usr/bin/python3   # Debian's, for python3-websocket

# ---- configuration errors name what is wrong ----
out=$("$SANDHOST_PORTAL" --foreground --set listen=nowhere 2>&1)
ok $([ $? = 1 ]; echo $?) "a bad listen address: exit 1"
like "$out" 'listen: "nowhere" is not ADDRESS:PORT' "and the message names the key"
out=$("$SANDHOST_PORTAL" --foreground --set login_burst=0 2>&1)
like "$out" 'login_burst' "a login_burst of 0 is refused, naming the key"
printf 'assets = /x\nno_such_key = 1\n' > "$W/bad.conf"
like "$("$SANDHOST_PORTAL" --foreground --config "$W/bad.conf" 2>&1)" "$W/bad.conf:2: no_such_key: unknown key" \
  "an unknown key in the file: its file, line and name"

idle=4
hd_start 1 --set "session_idle=$idle" --set login_max_failures=3
printf '<!doctype html><html><head><link rel="stylesheet" href="app.css"><style nonce="__CSP_NONCE__"></style></head><body data-n="__CSP_NONCE__">ui</body></html>\n' > "$P/assets/index.html"
echo 'body { color: black }' > "$P/assets/app.css"
mkdir -p "$P/assets/sub"
echo 'x' > "$P/assets/sub/x.js"
pt_start --set login_burst=6
ok $? "the portal starts and serves https://127.0.0.1:8443 in the test's namespace"
like "$(cat "$W/portal.out")" 'made a self-signed certificate' "with no certificate given, it makes a self-signed one"
is "$(stat -c '%a %U %G' "$P/key.pem")" "640 root $PT_USER" "the key it made: 0640 root:$PT_USER"
like "$(openssl x509 -in "$P/cert.pem" -noout -text)" 'ASN1 OID: prime256v1' "an ECDSA P-256 key"
like "$(openssl x509 -in "$P/cert.pem" -noout -ext subjectAltName)" 'DNS:localhost, IP Address:127.0.0.1' \
  "for localhost and 127.0.0.1"

# A fresh host has no /etc/sandhost: the directories above the certificate are made too.
nsenter --net="$W/webns" "$SANDHOST_PORTAL" --foreground --set listen=127.0.0.1:8444 --set "api_socket=$W/run/portal.sock" \
  --set "cert=$P/fresh/tls/cert.pem" --set "key=$P/fresh/tls/key.pem" --set "assets=$P/assets" > "$W/portal2.out" 2>&1 &
p2=$!   # nsenter execs the portal: its own pid (a shell function here would leave it behind)
for _ in $(seq 100); do pcurl -o /dev/null https://127.0.0.1:8444/ && break; kill -0 $p2 2>/dev/null || break; sleep 0.1; done
is "$(stat -c '%a %U' "$P/fresh" "$P/fresh/tls" 2>&1 | tr '\n' ' ')" "755 root 755 root " \
  "a second portal with its certificate in missing directories makes them (0755 root)"
ok $([ -s "$P/fresh/tls/cert.pem" ] && [ -s "$P/fresh/tls/key.pem" ]; echo $?) "and its certificate and key there" || sed 's/^/# /' "$W/portal2.out"
kill $p2 2>/dev/null; wait $p2 2>/dev/null

# ---- TLS ----
tls() { echo | innet timeout 10 openssl s_client -connect 127.0.0.1:8443 -servername localhost "$@" 2>&1; }
for v in tls1 tls1_1; do
  out=$(tls -$v -cipher 'DEFAULT:@SECLEVEL=0')
  like "$out" 'New, \(NONE\), Cipher is \(NONE\)' "-$v (from a client willing to speak it) is refused: no session"
done
out=$(tls -tls1_2)
like "$out" 'New, TLSv1\.2, Cipher is ECDHE-' "TLS 1.2 is accepted"
like "$out" 'Cipher is ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)' "with an ECDHE AEAD cipher"
like "$(tls -tls1_3)" 'New, TLSv1\.3, Cipher is TLS_' "TLS 1.3 is accepted"
like "$(tls -tls1_2 -cipher 'AES128-SHA:AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0')" \
  'New, \(NONE\), Cipher is \(NONE\)' "TLS 1.2 without ECDHE or without AEAD is refused"
like "$(tls -alpn http/1.1)" 'ALPN protocol: http/1.1' "ALPN: http/1.1"
like "$(tls -alpn h2,http/1.1)" 'ALPN protocol: http/1.1' "ALPN: http/1.1 even when h2 is offered first"

# ---- index.html, static files, headers ----
get() { # get URL-PATH [curl args]: headers in $W/h, body in $W/b, prints the status
  local p=$1; shift
  pcurl -D "$W/h" -o "$W/b" -w '%{http_code}' "$@" "$PURL$p"
}
hdr() { sed -n "s/^$1: //Ip" "$W/h" | tr -d '\r' | head -1; }
is "$(get /)" 200 "GET / : 200"
csp=$(hdr content-security-policy)
n1=$(sed -n "s/.*style-src 'self' 'nonce-\([^']*\)'.*/\1/p" <<< "$csp")
check "${#n1} >= 22" "index.html's CSP has a style-src nonce of 128 bits ($n1)"
is "$(grep -o 'nonce="[^"]*"' "$W/b")" "nonce=\"$n1\"" "the page's __CSP_NONCE__ is that nonce"
ok $(grep -q __CSP_NONCE__ "$W/b"; [ $? = 1 ]; echo $?) "every mark is replaced"
get / >/dev/null
n2=$(hdr content-security-policy | sed -n "s/.*'nonce-\([^']*\)'.*/\1/p")
ok $([ -n "$n2" ] && [ "$n2" != "$n1" ]; echo $?) "a fresh nonce in each response"
is "$(get /index.html)" 200 "/index.html is the same page"
like "$(hdr content-security-policy)" "'nonce-" "with its nonce"
want_csp="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
check_headers() { # check_headers WHAT
  is "$(hdr strict-transport-security)" "max-age=31536000; includeSubDomains" "$1: HSTS"
  is "$(hdr x-content-type-options)" nosniff "$1: nosniff"
  is "$(hdr referrer-policy)" no-referrer "$1: Referrer-Policy"
  is "$(hdr x-frame-options)" DENY "$1: X-Frame-Options"
  is "$(hdr cross-origin-opener-policy)" same-origin "$1: Cross-Origin-Opener-Policy"
  ok $(grep -qi 'unsafe-inline' "$W/h"; [ $? = 1 ]; echo $?) "$1: no 'unsafe-inline'"
}
check_headers "index.html"
is "$(get /app.css)" 200 "a static file: 200"
is "$(cat "$W/b")" 'body { color: black }' "its bytes"
is "$(hdr content-security-policy)" "$want_csp" "its CSP, frame-ancestors 'none', no nonce"
check_headers "a static file"
is "$(get /sub/)" 403 "a directory is not listed (403)"
is "$(get /sub/x.js)" 200 "a file below it is served"
st=$(get /../../../../etc/passwd --path-as-is)
ok $(! grep -q root: "$W/b"; echo $?) "/../../etc/passwd does not leave the assets ($st)"
st=$(get /%2e%2e/%2e%2e/%2e%2e/etc/passwd --path-as-is)
ok $(! grep -q root: "$W/b"; echo $?) "nor does /%2e%2e/... ($st)"
is "$(get /nope.js)" 404 "a missing file: 404"
check_headers "a 404"

# ---- the API through the portal socket ----
two_tenants '{"name": "tiny", "cpu_millis": 500, "memory_mib": 64, "pids": 64, "disk_mib": 256, "bandwidth_mbit": 10,
  "max_containers": 2, "total_cpu_millis": 1000, "total_memory_mib": 128, "total_disk_mib": 512, "net_default": "allow",
  "seccomp": "default"}' owner
is "$(get /1.0/containers)" 401 "no credentials: 401 (root's peer credentials are the portal's, which grant nothing)"
is "$(get /1.0/containers -H "Authorization: Bearer $ta")" 200 "a bearer token: 200"
is "$(jq -r '.containers | length' "$W/b")" 0 "alice's list"
is "$(hdr cache-control)" no-store "Cache-Control: no-store on /1.0"
is "$(hdr content-security-policy)" "$want_csp" "the API's answers carry the CSP too"
check_headers "an API answer"
like "$(hdr server)" '^sandhost-portal$' "sandhostd's Server header is not passed on"
# Upstream keep-alive: many requests, each answered.
n=0
for _ in $(seq 20); do [ "$(get /1.0/containers -H "Authorization: Bearer $ta")" = 200 ] && n=$((n + 1)); done
is "$n" 20 "20 requests in a row through the pooled upstream connections"

# ---- bodies ----
head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' 'a' > "$W/big"
is "$(get /1.0/containers -H "Authorization: Bearer $ta" -H 'Content-Type: application/json' --data-binary @"$W/big")" 413 \
  "a body over max_body (1 MiB): 413"
is "$(get /1.0/containers -H "Authorization: Bearer $ta" -H 'Content-Type: application/json' --data-binary '{"name": ')" 400 \
  "malformed JSON: 400"
is "$(jq -r .error.code "$W/b")" bad_request "with sandhostd's error body"
raw=$(printf 'GET / HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n' | innet timeout 10 openssl s_client -quiet \
  -connect 127.0.0.1:8443 -alpn http/1.1 2>/dev/null | head -1 | tr -d '\r')
like "$raw" '^HTTP/1\.1 400' "a request the front cannot parse: 400"

# ---- websocket: Origin, and a console through the portal ----
api -t "$ta" POST /1.0/containers '{"name": "web1"}' >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "alice creates web1"
api -t "$ta" GET /1.0/containers >/dev/null
c1=$(j '.containers[0].id')
api -t "$ta" PUT "/1.0/containers/$c1/state" '{"action": "start"}' >/dev/null
is "$(wait_op -t "$ta" "$(j .operation.id)")" success "and starts it"
ws() { # ws ORIGIN: exec `id` through the portal's websocket; prints the status or the output
  innet "$PY" - "$1" "$c1" "$ta" <<'PYEOF'
import ssl, sys, websocket
origin, cid, token = sys.argv[1], sys.argv[2], sys.argv[3]
hdrs = [f"Authorization: Bearer {token}"]
try:
    w = websocket.create_connection(f"wss://127.0.0.1:8443/1.0/containers/{cid}/exec?command=id&tty=0",
                                    header=hdrs, origin=origin or None, suppress_origin=not origin,
                                    sslopt={"cert_reqs": ssl.CERT_NONE}, timeout=10)
except websocket.WebSocketBadStatusException as e:
    print("status", e.status_code); sys.exit(0)
out = b""
while True:
    try:
        op, data = w.recv_data()
    except Exception:
        break
    if op == websocket.ABNF.OPCODE_CLOSE:
        break
    if op == websocket.ABNF.OPCODE_BINARY:
        out += data
print(out.decode(errors="replace"))
PYEOF
}
is "$(ws https://evil.example)" "status 403" "a websocket from another Origin: 403"
is "$(ws '')" "status 403" "a websocket without Origin: 403"
is "$(ws http://127.0.0.1:8443)" "status 403" "an Origin of plain http: 403"
like "$(ws https://127.0.0.1:8443)" 'uid=0\(root\)' "from https://<Host>: the console runs id in web1 through the portal"

# ---- sessions: login, the cookie, CSRF, logout, idle expiry, lockout ----
pw='correct horse battery'
pat=$(new_id /1.0/users "{\"name\": \"pat\", \"role\": \"owner\", \"tenant_id\": $acme, \"password\": \"$pw\"}")
login() { # login NAME PASSWORD [curl args]: the status; headers in $W/h, body in $W/b
  local n=$1 p=$2; shift 2
  get /1.0/auth/login -H 'Content-Type: application/json' --data-binary "{\"name\": \"$n\", \"password\": \"$p\"}" "$@"
}
is "$(login pat wrong-password)" 401 "a wrong password: 401"
is "$(jq -r .error.code "$W/b")" bad_credentials "bad_credentials"
ok $(! grep -qi '^set-cookie' "$W/h"; echo $?) "and no cookie"
is "$(login pat "$pw")" 200 "the right password: 200"
cookie=$(hdr set-cookie)
like "$cookie" '^__Host-sandhost-session=shs_[A-Za-z0-9_-]{43}; Path=/; Secure; HttpOnly; SameSite=Strict$' \
  "Set-Cookie: __Host-sandhost-session, Path=/, Secure, HttpOnly, SameSite=Strict"
ok $(! grep -qi '^sandhost-session:' "$W/h"; echo $?) "sandhostd's Sandhost-Session header does not reach the client"
ok $(! grep -q 'shs_' "$W/b"; echo $?) "the secret is not in the body"
csrf=$(jq -r .csrf "$W/b")
sess=${cookie%%;*}
is "$(get /1.0/auth/session -H "Cookie: theme=dark; $sess")" 200 "the cookie authenticates (Authorization: Session from it)"
is "$(jq -r .user.name "$W/b")" pat "as pat"
is "$(get /1.0/auth/session -H "Cookie: $sess" -H "Authorization: Bearer $tg")" 200 "a client's own Authorization wins over the cookie"
is "$(jq -r .user.name "$W/b")" gus "(gus's token)"
is "$(get "/1.0/users/$pat/tokens" -H "Cookie: $sess" -H 'Content-Type: application/json' --data-binary '{"name": "x"}')" 403 \
  "a POST with the cookie and no X-CSRF-Token: 403"
is "$(jq -r .error.code "$W/b")" csrf "code csrf"
is "$(get "/1.0/users/$pat/tokens" -H "Cookie: $sess" -H "X-CSRF-Token: wrong$csrf" -H 'Content-Type: application/json' \
  --data-binary '{"name": "x"}')" 403 "a wrong X-CSRF-Token: 403"
st=$(get "/1.0/users/$pat/tokens" -H "Cookie: $sess" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
  -H 'X-Forwarded-For: 192.0.2.66' --interface 127.0.0.11 --data-binary '{"name": "x"}')
like "$st" '^20[01]$' "with the token: done ($st)"
api GET "/1.0/audit?limit=5" >/dev/null
is "$(j "[.entries[] | select(.path == \"/1.0/users/$pat/tokens\" and .status == $st)][0] | .source")" "portal:ip=127.0.0.11" \
  "sandhostd's audit names the client's address, which the portal appended to a forged X-Forwarded-For"
is "$(get /1.0/auth/logout -X POST -H "Cookie: $sess" -H "X-CSRF-Token: $csrf")" 200 "logout: 200"
like "$(hdr set-cookie)" '^__Host-sandhost-session=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict$' \
  "and the cookie is cleared (Max-Age=0)"
is "$(get /1.0/auth/session -H "Cookie: $sess")" 401 "the old cookie no longer works"
login pat "$pw" >/dev/null
sess=$(hdr set-cookie | sed 's/;.*//')
is "$(get /1.0/auth/session -H "Cookie: $sess")" 200 "a new session"
sleep $((idle + 2))
is "$(get /1.0/auth/session -H "Cookie: $sess")" 401 "unused for longer than session_idle ($idle s): 401"
is "$(jq -r .error.code "$W/b")" session_expired "session_expired"
new_id /1.0/users "{\"name\": \"lee\", \"role\": \"owner\", \"tenant_id\": $acme, \"password\": \"$pw\"}" >/dev/null
for i in 1 2 3; do login lee "nope$i" >/dev/null; done
is "$(login lee "$pw")" 429 "after login_max_failures (3) bad passwords even the right one is refused: 429"
is "$(jq -r .error.code "$W/b")" locked "code locked"
like "$(hdr retry-after)" '^[0-9]+$' "with Retry-After"

# ---- the login rate limit, per client address ----
# (A different unknown name each time: sandhostd's own lockout, which
# counts unknown names as it does real ones, stays out of it.)  The bucket
# holds login_burst (default 10, here 6) and refills one every login_refill
# s (6): the first 6 pass, and within 16 in a row (however slowly a loaded
# machine answers them) some are refused.
codes="" first=""
for i in $(seq 16); do
  c=$(login "nobody$i" x --interface 127.0.0.9)
  codes+="$c "
  [ "$c" = 429 ] && { first=$i; break; }
done
is "${codes:0:24}" "401 401 401 401 401 401 " "from one address, a burst of login_burst (6) logins passes"
ok $([ -n "$first" ]; echo $?) "and then the portal refuses one (attempt ${first:-none}: $codes)"
is "$(jq -r .error.code "$W/b")" rate_limited "code rate_limited"
like "$(hdr retry-after)" '^[1-9][0-9]*$' "with Retry-After"
is "$(login nobody12 x --interface 127.0.0.10)" 401 "another address is not limited"
is "$(get /1.0/containers -H "Authorization: Bearer $ta" --interface 127.0.0.9)" 200 "other routes are not limited"

# ---- the running portal's privileges ----
st() { sed -n "s/^$1:[[:space:]]*//p" "/proc/$ppid/status"; }
uid=$(id -u "$PT_USER")
gid=$(id -g "$PT_USER")
is "$(st Uid | tr -s '\t ' ' ')" "$uid $uid $uid $uid" "runs as $PT_USER (real, effective, saved, fs uid)"
is "$(st Gid | tr -s '\t ' ' ')" "$gid $gid $gid $gid" "and its group"
is "$(st Groups)" "" "no supplementary groups"
for c in CapInh CapPrm CapEff CapBnd CapAmb; do is "$(st $c)" 0000000000000000 "$c is empty"; done
is "$(st NoNewPrivs)" 1 "NoNewPrivs"
is "$(st Seccomp)" 2 "a seccomp filter"
ok $(ls -l "/proc/$ppid/fd" | grep -q "$W/state"; [ $? = 1 ]; echo $?) "no open file in the state dir"
ok $(setpriv --reuid="$uid" --regid="$gid" --clear-groups cat "$W/state/sandhost.db" >/dev/null 2>&1; [ $? != 0 ]; echo $?) \
  "the state dir is unreadable to $PT_USER"
ok $(setpriv --reuid="$uid" --regid="$gid" --clear-groups curl -s --unix-socket "$S" http://x/1.0 >/dev/null 2>&1; [ $? != 0 ]; echo $?) \
  "and so is sandhostd's admin socket"

# ---- SIGHUP: a new certificate; a bad one keeps the current ----
fp() { tls -tls1_3 | openssl x509 -noout -fingerprint -sha256 2>/dev/null; }
old=$(fp)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=reloaded \
  -keyout "$P/key.new" -out "$P/cert.new" 2>/dev/null
chgrp "$PT_USER" "$P/key.new"; chmod 0640 "$P/key.new"
mv "$P/key.new" "$P/key.pem"; mv "$P/cert.new" "$P/cert.pem"
kill -HUP "$ppid"; sleep 0.5
new=$(fp)
ok $([ -n "$new" ] && [ "$new" != "$old" ]; echo $?) "after SIGHUP new connections get the new certificate"
is "$(openssl x509 -in "$P/cert.pem" -noout -fingerprint -sha256)" "$new" "the one in the file"
echo garbage > "$P/cert.pem"
kill -HUP "$ppid"; sleep 0.5
is "$(fp)" "$new" "a bad certificate file: the current one stays"
like "$(cat "$W/portal.out")" "reload refused.*$P/cert.pem" "and the log names the file"
ok $(kill -0 "$ppid"; echo $?) "the portal is still running (nothing it did hit the seccomp filter)"
kill "$ppid"
wait "$ppid"
is "$?" 0 "SIGTERM ends it with status 0"
ppid=""
done_testing
