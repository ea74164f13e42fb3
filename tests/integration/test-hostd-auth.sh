#!/bin/bash
# Logins on the portal's socket (issue 7 A), over curl against a real
# sandhostd: the first admin password, sessions and their header, CSRF,
# lockout with its backoff, TOTP (codes computed here with python3's hmac),
# passwords set and reset, expiry (idle and absolute), logout and rotation,
# root on the portal socket being nobody, tenants kept apart through
# sessions, and X-Forwarded-For as the audit source.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/hostd-env.sh"
P=$W/run/portal.sock

papi() { # papi [-s SESSION] [-c CSRF] [-x XFF] METHOD PATH [BODY]: "STATUS BODY" over the portal's socket; headers in $W/hdr
  local h=()
  while :; do
    case "$1" in
      -s) h+=(-H "Authorization: Session $2"); shift 2 ;;
      -c) h+=(-H "X-CSRF-Token: $2"); shift 2 ;;
      -x) h+=(-H "X-Forwarded-For: $2"); shift 2 ;;
      *) break ;;
    esac
  done
  curl -s --unix-socket "$P" -X "$1" -D "$W/hdr" -o "$W/body" -w '%{http_code}' "${h[@]}" \
    ${3:+-H 'Content-Type: application/json' --data-binary "$3"} "http://sandhost$2"
  echo " $(cat "$W/body")"
}
hdr() { sed -n "s/^$1: *//Ip" "$W/hdr" | tr -d '\r'; }
st() { "$@" | cut -d' ' -f1; }   # the status alone
login() { # login NAME PASSWORD [TOTP] [OLD-SESSION]: sets ls (the status), sess and csrf
  local body="{\"name\": \"$1\", \"password\": \"$2\"${3:+, \"totp\": \"$3\"}}"
  ls=$(st papi ${4:+-s "$4"} POST /1.0/auth/login "$body")
  sess=$(hdr sandhost-session) csrf=$(j .csrf)
}
totp() { # totp BASE32 [STEP-OFFSET]: the current code, computed here
  python3 -c 'import base64, hmac, struct, sys, time
k = base64.b32decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 8))
m = hmac.new(k, struct.pack(">Q", int(time.time()) // 30 + int(sys.argv[2])), "sha1").digest()
o = m[-1] & 15
print("%06d" % ((struct.unpack(">I", m[o:o + 4])[0] & 0x7fffffff) % 1000000))' "$1" "${2:-0}"
}

hd_start 1 --set login_max_failures=3 --set login_lockout=2 --set totp_required_roles=auditor

# ---- the first admin password ----
pw=$(sed -n 's/^sandhostd: admin password (shown once): //p' "$W/out.1")
like "$pw" '^[A-Za-z0-9]{20}$' "the first start prints a 20-character admin password"
is "$(cat "$W/state/initial-admin-password")" "$pw" "and writes it to <state_dir>/initial-admin-password"
is "$(stat -c '%a %u' "$W/state/initial-admin-password")" "600 0" "0600, root's"
ok $([ -S "$P" ]; echo $?) "the portal socket exists"

# ---- root on the portal's socket is nobody ----
is "$(st papi GET /1.0/containers)" 401 "uid 0 on the portal socket without a credential: 401"
is "$(st papi POST /1.0/plans '{"name": "x"}')" 401 "and cannot change anything"
is "$(st papi GET /1.0/auth/session)" 401 "nor has a session"

# ---- logging in ----
login admin "$pw"; is "$ls" 200 "the admin logs in with the printed password"
like "$sess" '^shs_[A-Za-z0-9_-]{43}$' "the session is in the Sandhost-Session header"
ok $(grep -q "$sess" "$W/body"; [ $? = 1 ]; echo $?) "and not in the body"
like "$csrf" '^[A-Za-z0-9_-]{43}$' "the body has the CSRF token"
is "$(j '.user.name + " " + .user.role + " " + (.must_enroll_totp | tostring)')" "admin admin false" "and the user"
admin_sess=$sess admin_csrf=$csrf
is "$(st papi -s "$admin_sess" GET /1.0/tenants)" 200 "the session works for a GET"

papi POST /1.0/auth/login '{"name": "admin"}' >/dev/null
is "$(j .error.field)" password "a login without a password: 400 naming password"
papi POST /1.0/auth/login '{"name": "admin", "password": "wrong-password"}' > "$W/bad1"
papi POST /1.0/auth/login '{"name": "no-such-user", "password": "wrong-password"}' > "$W/bad2"
is "$(cat "$W/bad2")" "$(cat "$W/bad1")" "an unknown user and a wrong password: the same answer"
like "$(cat "$W/bad1")" '^401 .*"code":"bad_credentials"' "401 bad_credentials"

# ---- CSRF ----
plan_body='{"name": "p", "cpu_millis": 250, "memory_mib": 64, "pids": 64, "disk_mib": 128, "bandwidth_mbit": 100,
  "max_containers": 4, "total_cpu_millis": 1000, "total_memory_mib": 512, "total_disk_mib": 1024, "net_default": "allow",
  "seccomp": "default"}'
like "$(papi -s "$admin_sess" POST /1.0/plans "$plan_body")" '^403 .*"code":"csrf"' "a POST by session without X-CSRF-Token: 403 csrf"
is "$(st papi -s "$admin_sess" -c wrong POST /1.0/plans "$plan_body")" 403 "with a wrong one: 403"
is "$(st papi -s "$admin_sess" -c "$admin_csrf" -x "9.9.9.9, 192.0.2.7" POST /1.0/plans "$plan_body")" 201 \
  "with the session's token: created"
plan=$(j .id)

# ---- the audit source ----
api GET "/1.0/audit?limit=5" >/dev/null
is "$(j '[.entries[] | select(.path == "/1.0/plans" and .status == 201)][0] | .principal + " " + .source')" \
  "admin portal:ip=192.0.2.7" "the audit log names the user and X-Forwarded-For's last address"
curl -s --unix-socket "$S" -H 'X-Forwarded-For: 203.0.113.9' -X PATCH -H 'Content-Type: application/json' \
  --data-binary '{"pids": 65}' "http://sandhost/1.0/plans/$plan" >/dev/null
api GET "/1.0/audit?limit=1" >/dev/null
like "$(j '.entries[0].source')" '^unix:uid=0,' "on the admin socket X-Forwarded-For is ignored"

# ---- tenants, users with passwords ----
acme=$(new_id /1.0/tenants "{\"name\": \"acme\", \"plan_id\": $plan}")
globex=$(new_id /1.0/tenants "{\"name\": \"globex\", \"plan_id\": $plan}")
papi -s "$admin_sess" -c "$admin_csrf" POST /1.0/users \
  "{\"name\": \"alice\", \"role\": \"owner\", \"tenant_id\": $acme, \"password\": \"short\"}" >/dev/null
is "$(j .error.field)" password "a password under password_min_length: 400 naming password"
papi -s "$admin_sess" -c "$admin_csrf" POST /1.0/users \
  "{\"name\": \"alice\", \"role\": \"owner\", \"tenant_id\": $acme, \"password\": \"alice-password\"}" >/dev/null
alice=$(j .id)
is "$(j '.has_password, .totp_enabled' | tr '\n' ' ')" "true false " "alice made with a password (has_password, totp_enabled)"
gus=$(new_id /1.0/users "{\"name\": \"gus\", \"role\": \"owner\", \"tenant_id\": $globex, \"password\": \"gus-password\"}")
for t in acme:$acme globex:$globex; do
  api POST /1.0/containers "{\"name\": \"web-${t%%:*}\", \"tenant_id\": ${t#*:}}" >/dev/null
  eval "c_${t%%:*}=$(j .operation.container_id)"
  wait_op "$(j .operation.id)" >/dev/null
done

login alice alice-password; is "$ls" 200 "alice logs in"
a_sess=$sess a_csrf=$csrf
papi -s "$a_sess" GET /1.0/containers >/dev/null
is "$(j '[.containers[].name] | join(",")')" web-acme "her session lists acme's containers only"
is "$(st papi -s "$a_sess" GET "/1.0/containers/$c_globex")" 404 "globex's container is 404 to her"
is "$(st papi -s "$a_sess" -c "$a_csrf" PATCH "/1.0/containers/$c_globex" '{"restart_policy": "always"}')" 404 \
  "and cannot be changed"
is "$(st papi -s "$a_sess" GET "/1.0/containers/$c_acme")" 200 "acme's is hers"

# ---- rotation and logout ----
login alice alice-password "" "$a_sess"; is "$ls" 200 "a second login carrying the session"
ok $([ "$sess" != "$a_sess" ]; echo $?) "gets a new session id"
like "$(papi -s "$a_sess" GET /1.0/containers)" '^401 .*"code":"session_expired"' "the old one is dead: 401 session_expired"
a_sess=$sess a_csrf=$csrf
is "$(st papi -s "$a_sess" POST /1.0/auth/logout)" 403 "logout without the CSRF token: 403"
is "$(st papi -s "$a_sess" -c "$a_csrf" POST /1.0/auth/logout)" 200 "logout"
is "$(grep -ci '^sandhost-session: *.$' "$W/hdr")" 1 "clears the session (an empty Sandhost-Session header)"
is "$(st papi -s "$a_sess" GET /1.0/containers)" 401 "the session is dead"

# ---- passwords ----
login alice alice-password
a_sess=$sess a_csrf=$csrf
login alice alice-password
a2_sess=$sess
papi -s "$a_sess" -c "$a_csrf" PUT "/1.0/users/$alice/password" '{"password": "alice-password-2"}' >/dev/null
is "$(j .error.field)" current_password "changing your own password needs current_password"
is "$(st papi -s "$a_sess" -c "$a_csrf" PUT "/1.0/users/$alice/password" \
  '{"password": "alice-password-2", "current_password": "alice-password"}')" 200 "with it: changed"
is "$(st papi -s "$a_sess" GET /1.0/containers)" 200 "the session that changed it lives on"
is "$(st papi -s "$a2_sess" GET /1.0/containers)" 401 "her other session ended"
login alice alice-password; is "$ls" 401 "the old password no longer works"
login alice alice-password-2; is "$ls" 200 "the new one does"
a2_sess=$sess
is "$(st papi -s "$admin_sess" -c "$admin_csrf" PUT "/1.0/users/$alice/password" '{"password": "alice-password-3"}')" 200 \
  "the admin resets it without the current one"
is "$(st papi -s "$a_sess" GET /1.0/containers)" 401 "which ends all her sessions"
is "$(st papi -s "$a2_sess" GET /1.0/containers)" 401 "(both)"
login gus gus-password
is "$(st papi -s "$sess" -c "$csrf" PUT "/1.0/users/$alice/password" '{"password": "gus-was-here"}')" 404 \
  "another tenant's owner cannot reset it (404)"
ok $([ -f "$W/state/initial-admin-password" ]; echo $?) "another user's new password leaves initial-admin-password"
papi -s "$admin_sess" GET /1.0/auth/session >/dev/null
admin_id=$(j .user.id)
is "$(st papi -s "$admin_sess" -c "$admin_csrf" PUT "/1.0/users/$admin_id/password" \
  "{\"password\": \"admin-password-2\", \"current_password\": \"$pw\"}")" 200 "the admin chooses a password"
ok $([ ! -e "$W/state/initial-admin-password" ]; echo $?) "and initial-admin-password is gone"
grep -q 'removed .*initial-admin-password' "$W/out.1"; ok $? "the log says so"

# ---- lockout ----
for i in 1 2 3; do login alice wrong-password; done
out=$(papi POST /1.0/auth/login '{"name": "alice", "password": "alice-password-3"}')
like "$out" '^429 .*"code":"locked"' "after 3 failures the right password gets 429 locked"
like "$(hdr retry-after)" '^[12]$' "with Retry-After"
is "$(j '.error.retry_after > 0')" true "and retry_after in the error"
api GET "/1.0/users/$alice" >/dev/null
check "$(j .locked_until) > $(date +%s) - 1" "the user shows locked_until"
sleep 2.5
login alice alice-password-3; is "$ls" 200 "after the backoff the right password works"
api GET "/1.0/users/$alice" >/dev/null
is "$(j .locked_until)" null "and the lock is cleared"

# ---- TOTP ----
a_sess=$sess a_csrf=$csrf
papi -s "$a_sess" -c "$a_csrf" POST "/1.0/users/$gus/totp" >/dev/null
is "$(st papi -s "$a_sess" -c "$a_csrf" POST "/1.0/users/$gus/totp")" 404 "enrolling someone else (another tenant's): 404"
is "$(st papi -s "$a_sess" -c "$a_csrf" POST "/1.0/users/$alice/totp")" 200 "alice starts enrollment"
secret=$(j .secret)
like "$(j .uri)" "^otpauth://totp/Sandhost:alice\?secret=$secret&issuer=Sandhost$" "with an otpauth URI"
papi -s "$a_sess" -c "$a_csrf" POST "/1.0/users/$alice/totp/confirm" "{\"code\": \"$(totp "$secret" 5)\"}" >/dev/null
is "$(j .error.field)" code "a wrong code does not confirm (400 code)"
is "$(st papi -s "$a_sess" -c "$a_csrf" POST "/1.0/users/$alice/totp/confirm" "{\"code\": \"$(totp "$secret")\"}")" 200 \
  "the current code confirms"
is "$(j .totp_enabled)" true "2FA is on"
stored=$(sqlite3 -readonly -cmd '.timeout 5000' "$W/state/sandhost.db" "SELECT totp_secret FROM users WHERE id = $alice")
like "$stored" '^v1:[0-9a-f]+$' "the database holds the secret sealed (v1:...)"
ok $(case $stored in *"$secret"*) echo 1;; *) echo 0;; esac) "and not in clear"
is "$(stat -c '%a %u %s' "$W/state/totp.key")" "600 0 32" "under <state_dir>/totp.key: 0600, root's, 32 bytes"
out=$(papi POST /1.0/auth/login '{"name": "alice", "password": "alice-password-3"}')
like "$out" '^401 .*"code":"totp_required".*"field":"totp"' "a login without a code: 401 totp_required"
like "$(papi POST /1.0/auth/login "{\"name\": \"alice\", \"password\": \"alice-password-3\", \"totp\": \"$(totp "$secret" 5)\"}")" \
  '^401 .*"code":"bad_totp"' "a wrong code: 401 bad_totp"
login alice alice-password-3 "$(totp "$secret")"; is "$ls" 200 "the right code: logged in"
is "$(j .user.totp_enabled)" true "(totp_enabled in the answer)"
is "$(st papi -s "$admin_sess" -c "$admin_csrf" DELETE "/1.0/users/$alice/totp")" 204 "the admin resets her 2FA"
login alice alice-password-3; is "$ls" 200 "and she logs in with the password alone"

# ---- totp_required_roles ----
sec=$(new_id /1.0/users '{"name": "sec", "role": "auditor", "password": "sec-password"}')
login sec sec-password; is "$ls" 200 "an auditor (totp_required_roles=auditor) logs in"
is "$(j .must_enroll_totp)" true "must_enroll_totp"
like "$(papi -s "$sess" GET /1.0/containers)" '^403 .*"code":"totp_enrollment_required"' \
  "and may do nothing else: 403 totp_enrollment_required"
is "$(st papi -s "$sess" GET /1.0/auth/session)" 200 "but read the session"
is "$(st papi -s "$sess" -c "$csrf" POST "/1.0/users/$sec/totp")" 200 "and enroll"
s_secret=$(j .secret)
papi -s "$sess" -c "$csrf" POST "/1.0/users/$sec/totp/confirm" "{\"code\": \"$(totp "$s_secret")\"}" >/dev/null
is "$(st papi -s "$sess" GET /1.0/containers)" 200 "once enrolled, the same session works"

# ---- a token on the portal socket ----
tok=$(api POST "/1.0/users/$alice/tokens" '{"name": "cli"}' >/dev/null; j .token)
curl -s --unix-socket "$P" -H "Authorization: Bearer $tok" -o "$W/body" http://sandhost/1.0/auth/session
is "$(j .user.name)" alice "a bearer token works on the portal socket (no CSRF: not a session)"

# ---- expiry: a daemon with short sessions ----
hd_stop 2>/dev/null
hd_start 2 --set session_idle=3 --set session_max=6
ok $(grep -q 'admin password' "$W/out.2"; [ $? = 1 ]; echo $?) "a restart with an admin password set prints none"
login alice alice-password-3
idle=$sess
login alice alice-password-3
busy=$sess
sleep 4
like "$(papi -s "$idle" GET /1.0/containers)" '^401 .*"code":"session_expired"' "unused past session_idle: 401 session_expired"
is "$(st papi -s "$busy" GET /1.0/containers)" 401 "(the other one too)"
login alice alice-password-3
busy=$sess
# Used every second (never idle for session_idle): it still ends at session_max.
n=0 last_ok=0
while [ $n -lt 12 ]; do
  sleep 1
  n=$((n + 1))
  s=$(st papi -s "$busy" GET /1.0/containers)
  [ "$s" = 200 ] && last_ok=$n
  [ "$s" = 401 ] && break
done
is "$s" 401 "a session in use ends at session_max"
check "$n - $last_ok == 1 && $last_ok >= 2" "though it had been used a second before ($last_ok uses)"

# ---- logins off the event loop (hostd/login-queue.c) ----
mk_users() { # mk_users PREFIX N: users PREFIX1..PREFIXN, each with the password PREFIXi-password
  local i
  for i in $(seq "$2"); do
    api POST /1.0/users "{\"name\": \"$1$i\", \"role\": \"member\", \"tenant_id\": $acme, \"password\": \"$1$i-password\"}" >/dev/null
  done
}
flood() { # flood PREFIX N DIR: N logins at once on the portal socket, odd ones with a wrong password; for each
  # login i: DIR/i.st (status), DIR/i.h (headers), DIR/i.t (when its answer was complete, date +%s%N); pids in fl_pids
  local i pw
  mkdir -p "$3"
  fl_pids=()
  for i in $(seq "$2"); do
    pw=$1$i-password
    [ $((i % 2)) = 1 ] && pw=wrong-password
    ( curl -s --unix-socket "$P" -X POST -D "$3/$i.h" -o "$3/$i.body" -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary "{\"name\": \"$1$i\", \"password\": \"$pw\"}" http://sandhost/1.0/auth/login > "$3/$i.st"
      date +%s%N > "$3/$i.t" ) &
    fl_pids+=($!)
  done
}
# verdicts DIR N: one word per login: "ok" when it got its right answer (200 with a session for the right password,
# 401 bad_credentials for a wrong one), "busy" for 503 unavailable with Retry-After: 1, else what came
verdicts() {
  local i s
  for i in $(seq "$2"); do
    s=$(cat "$1/$i.st")
    if [ "$s" = 503 ] && [ "$(jq -r .error.code "$1/$i.body")" = unavailable ] &&
       [ "$(sed -n 's/^retry-after: *//Ip' "$1/$i.h" | tr -d '\r')" = 1 ]; then echo busy
    elif [ $((i % 2)) = 1 ] && [ "$s" = 401 ] && [ "$(jq -r .error.code "$1/$i.body")" = bad_credentials ]; then echo ok
    elif [ $((i % 2)) = 0 ] && [ "$s" = 200 ] && grep -qi '^sandhost-session: shs_' "$1/$i.h"; then echo ok
    else echo "login$i:$s"; diag "login $i: $s $(cat "$1/$i.body" 2>/dev/null)" >&2; fi
  done | sort | uniq -c | awk '{printf "%s%s=%s", (NR > 1 ? " " : ""), $2, $1}'
}
# hold_db NAME: another process holds the database's write lock (BEGIN IMMEDIATE) until release_db NAME
hold_db() {
  python3 -c 'import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2] + ".held", "w").close()
while not os.path.exists(sys.argv[2] + ".release"):
    time.sleep(0.01)
c.execute("ROLLBACK")' "$W/state/sandhost.db" "$W/$1" &
  hold_pid=$!
  for _ in $(seq 100); do [ -e "$W/$1.held" ] && break; sleep 0.05; done
}
release_db() { touch "$W/$1.release"; wait "$hold_pid"; }
now() { date +%s%N; }

hd_stop 2>/dev/null
hd_start 3
mk_users a 12
mk_users b 12
mk_users c 12
mk_users d 12

flood a 12 "$W/fa"
curl -s --unix-socket "$S" -o "$W/get-a" http://sandhost/1.0; get_t=$(now)
wait "${fl_pids[@]}"
is "$(jq -r .api_version "$W/get-a")" 1.0 "GET /1.0 on the admin socket amid 12 logins"
last=$(sort -n "$W"/fa/*.t | tail -1)
check "$get_t < $last" "was answered before the last login"
is "$(verdicts "$W/fa" 12)" "ok=12" "and each login got its answer (200 with a session, or 401 bad_credentials)"

# The logins' transactions wait on a lock another process holds: on the old single thread the first one
# would hold up every request; here the loop answers while all of them wait.
hold_db lockb
flood b 12 "$W/fb"
sleep 0.3   # (the logins reach the daemon)
curl -s --unix-socket "$S" -o "$W/get-b" http://sandhost/1.0; get_t=$(now)
answered=$(cat "$W"/fb/*.t 2>/dev/null | wc -l)
release_db lockb
wait "${fl_pids[@]}"
is "$(jq -r .api_version "$W/get-b")" 1.0 "GET /1.0 while 12 logins wait for the database's write lock"
is "$answered" 0 "answered before any of them"
first=$(sort -n "$W"/fb/*.t | head -1)
check "$get_t < $first" "(its answer came before the first login's)"
is "$(verdicts "$W/fb" 12)" "ok=12" "once the lock is free every login completes with its right answer"

# Clients that leave: some before their login starts, some while it runs.
hold_db lockc
python3 -c 'import socket, sys
body = b"{\"name\": \"c2\", \"password\": \"c2-password\"}"
req = b"POST /1.0/auth/login HTTP/1.1\r\nHost: sandhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
for _ in range(6):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(req)
    s.close()' "$P"
curl -s --unix-socket "$P" --max-time 0.2 -o /dev/null -H 'Content-Type: application/json' \
  --data-binary '{"name": "c4", "password": "c4-password"}' http://sandhost/1.0/auth/login
sleep 0.3
release_db lockc
login c6 c6-password; is "$ls" 200 "after 7 logins whose clients left (6 closed at once, 1 timed out) logins work"
is "$(st api GET /1.0)" 200 "and the daemon answers"
ok $(kill -0 "$pid"; echo $?) "(it is alive)"

# SIGTERM amid logins: the running ones finish, the rest answer 503 or never connect; the daemon exits 0.
flood d 12 "$W/fd"
sleep 0.1
kill -TERM "$pid"; wait "$pid"; is "$?" 0 "SIGTERM during 12 logins: exit status 0"
wait "${fl_pids[@]}"
diag "logins at SIGTERM: $(verdicts "$W/fd" 12)"
v=$(verdicts "$W/fd" 12 | tr ' ' '\n' | grep -v -e '^ok=' -e '^busy=' -e '^login[0-9]*:000=')
is "$v" "" "each login got its right answer, a 503, or no connection"
ok $(grep -qE 'AddressSanitizer|runtime error|Segmentation|Assertion|assert' "$W/out.3"; [ $? = 1 ]; echo $?) \
  "and the log shows no crash"
pid=""

# A full queue: two logins run (on the lock), one waits (login_queue=1); the others get 503 at once.
hd_start 4 --set login_queue=1
mk_users e 12
hold_db locke
flood e 12 "$W/fe"
for _ in $(seq 40); do [ "$(grep -l 503 "$W"/fe/*.st 2>/dev/null | wc -l)" -ge 1 ] && break; sleep 0.1; done
sleep 0.3
release_db locke
wait "${fl_pids[@]}"
v=$(verdicts "$W/fe" 12)
like "$v" '^busy=[0-9]+ ok=[0-9]+$' "login_queue=1 and 12 logins at once: each is refused or right ($v)"
busy=$(echo "$v" | sed -n 's/^busy=\([0-9]*\) .*/\1/p') right=$(echo "$v" | sed -n 's/.* ok=\([0-9]*\)$/\1/p')
check "${busy:-0} >= 1 && ${right:-0} >= 2" "at least one 503 unavailable with Retry-After: 1, at least two run"
kill -TERM "$pid"; wait "$pid"; is "$?" 0 "that daemon exits 0 on SIGTERM too"
pid=""
ok $(cat "$W"/out.* | grep -qE 'AddressSanitizer|runtime error|Segmentation|Assertion'; [ $? = 1 ]; echo $?) \
  "no daemon of this test logged a crash or a sanitizer's report"
done_testing
