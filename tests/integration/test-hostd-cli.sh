#!/bin/bash
# The sandhost CLI against a real sandhostd, everything through the CLI:
# tenants and a container made with `api`, `create` and `start`; then
# `exec` over the websocket: output, exit codes, stdin to EOF, --env and
# --cwd, bytes both ways, a terminal (raw mode, its size, a resize, the
# terminal restored after, also when a signal ends it), and the refusals
# (no such container, not running, another tenant's, no sandhostd).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/hostd-env.sh"
: "${SANDHOST_CLI:?set SANDHOST_CLI}"
PY=/usr/bin/python3   # Debian's, for its pty module (not a pyenv shim)

sh_() { "$SANDHOST_CLI" --socket "$S" "$@"; }   # as root on the socket: the admin
hd_start 1
like "$(sh_ info)" '"role": "admin"' "sandhost info: root on the socket is the admin"

sh_ api POST /1.0/plans '{"name": "cli-test", "cpu_millis": 500, "memory_mib": 64, "pids": 64, "disk_mib": 256,
  "bandwidth_mbit": 10, "max_containers": 2, "total_cpu_millis": 1000, "total_memory_mib": 128, "total_disk_mib": 512,
  "net_default": "allow", "seccomp": "default"}' > "$W/plan"
plan=$(jq -r .id "$W/plan")
acme=$(sh_ api POST /1.0/tenants "{\"name\": \"acme\", \"plan_id\": $plan}" | jq -r .id)
globex=$(sh_ api POST /1.0/tenants "{\"name\": \"globex\", \"plan_id\": $plan}" | jq -r .id)
alice=$(sh_ api POST /1.0/users "{\"name\": \"alice\", \"role\": \"owner\", \"tenant_id\": $acme}" | jq -r .id)
gus=$(sh_ api POST /1.0/users "{\"name\": \"gus\", \"role\": \"owner\", \"tenant_id\": $globex}" | jq -r .id)
ta=$(sh_ api POST "/1.0/users/$alice/tokens" '{"name": "t"}' | jq -r .token)
tg=$(sh_ api POST "/1.0/users/$gus/tokens" '{"name": "t"}' | jq -r .token)
like "$(sh_ tenants | tr '\n' '|')" "\|$acme +acme +$plan +\|$globex +globex +$plan +\|" \
  "sandhost api made two tenants; sandhost tenants lists them"

is "$(sh_ create web1 --tenant "$acme")" "web1 created" "sandhost create web1 for acme"
sh_ create web2 --tenant "$acme" >/dev/null
sh_ start web1
ok $? "sandhost start web1"
like "$(sh_ list)" "web1 +$acme +running" "sandhost list: web1 is running"
c1=$(sh_ --json list | jq -r '.containers[] | select(.name == "web1") | .id')

# ---- exec without a terminal ----
status_is() { # status_is GOT WANT DESCRIPTION OUTPUT: is, and the output when it fails
  is "$1" "$2" "$3"
  [ "$1" = "$2" ] || printf '%s\n' "$4" | sed 's/^/#   output: /'
}
out=$(sh_ exec web1 id 2>&1)
status_is $? 0 "exec web1 id exits 0" "$out"
like "$out" '^uid=0\(root\) gid=0\(root\)' "and prints the container's root"
out=$(sh_ exec web1 sh -c 'exit 7' 2>&1)
status_is $? 7 "exec passes the command's exit status through (7)" "$out"
out=$(sh_ exec web1 -- no-such-command 2>&1)
status_is $? 127 "a command that is not there: the shell's 127" "$out"
is "$(echo hello | sh_ exec web1 cat)" hello "stdin goes to the command until EOF (echo hello | exec cat)"
is "$(sh_ exec "$c1" hostname)" web1 "the container by its id"
is "$(sh_ exec --env 'GREETING=a b' --env X=1 --cwd /tmp web1 sh -c 'echo "$GREETING/$X"; pwd')" "$(printf 'a b/1\n/tmp')" \
  "--env and --cwd"
is "$(sh_ exec web1 echo "it's" '$HOME' '*' ';' 'x  y')" "it's \$HOME * ; x  y" "arguments reach the command as they are"
is "$(sh_ exec web1 sh -c 'echo out; echo err >&2' 2>/dev/null | sort | tr '\n' ' ')" "err out " "stdout and stderr both come back"
head -c 3000000 /dev/urandom > "$W/blob"
is "$(sh_ exec web1 md5sum < "$W/blob" | cut -d' ' -f1)" "$(md5sum < "$W/blob" | cut -d' ' -f1)" \
  "3 MB of random bytes in arrive intact (md5sum inside)"
# Out: every queued frame goes before the close, however slow the reader.
sh_ exec web1 sh -c 'head -c 3000000 /dev/urandom > /tmp/blob'
is "$(sh_ exec web1 cat /tmp/blob | md5sum | cut -d' ' -f1)" "$(sh_ exec web1 md5sum /tmp/blob | cut -d' ' -f1)" \
  "3 MB of random bytes out arrive intact (cat of a file inside)"
is "$(sh_ exec web1 cat < "$W/blob" | md5sum | cut -d' ' -f1)" "$(md5sum < "$W/blob" | cut -d' ' -f1)" \
  "3 MB through cat, in and out at once"
# A command that does not read its input never stalls sandhostd: the input
# waits in the daemon (up to 8 MiB), the API answers meanwhile.
sh_ exec web1 sleep 60 < "$W/blob" &
stall=$!
sleep 1
like "$(sh_ list)" 'web1' "the API answers while an exec's command leaves 3 MB of input unread"
ok $(kill -0 "$stall"; echo $?) "(that exec still running meanwhile)"
kill "$stall"; wait "$stall" 2>/dev/null

# ---- refusals ----
err=$(sh_ exec nosuch id 2>&1)
is $? 125 "a container that does not exist: exit 125"
like "$err" 'nosuch: no such container' "with a clear message"
err=$(sh_ exec 99999 id 2>&1)
is $? 125 "an id that does not exist: 125"
like "$err" '^sandhost: .*\(not_found' "with the API's message"
err=$(sh_ exec web2 id 2>&1)
is $? 125 "a container that is not running: 125"
like "$err" 'not running \(conflict' "saying so"
err=$(sh_ --token "$tg" exec web1 id 2>&1)
is $? 125 "gus (globex's token) cannot exec in acme's web1 by name"
like "$err" 'web1: no such container' "it does not exist for him"
err=$(SANDHOST_TOKEN=$tg sh_ exec "$c1" id 2>&1)
is $? 125 "nor by its id"
like "$err" '\(not_found' "the API answers 404"
like "$(sh_ --token "$ta" exec web1 id)" '^uid=0\(root\)' "alice (acme's owner) can"
"$SANDHOST_CLI" --socket "$W/nothing.sock" exec 5 id 2>/dev/null
is $? 255 "no sandhostd on the socket: 255"
sh_ exec --env 1X=y web1 id 2>/dev/null
is $? 2 "a bad --env name: 2"
sh_ exec -t web1 tty < /dev/null 2>/dev/null
is $? 2 "exec -t with stdin not a terminal: 2"

# A server of our own on a socket, one way to answer per connection, for
# what sandhostd does not do: a wrong accept key, a session closed without
# an exit status, a connection dropped mid-session, frames in the same read
# as the answer's head.
cat > "$W/fake.py" <<'EOF'
import base64, hashlib, socket, sys
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1])
srv.listen(1)
frame = lambda op, data: bytes([0x80 | op, len(data)]) + data
for mode in sys.argv[2:]:
    c, _ = srv.accept()
    head = b""
    while b"\r\n\r\n" not in head:
        head += c.recv(4096)
    key = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n") if l.lower().startswith(b"sec-websocket-key:")][0]
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    if mode == "badaccept":
        accept = base64.b64encode(hashlib.sha1(b"not the key").digest())
    out = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    if mode == "noexit":
        out += frame(8, b"\x03\xe8")
    elif mode == "drop":
        out += frame(2, b"half")
    elif mode == "frames":
        out += frame(2, b"hello\n") + frame(1, b'{"exit":42}') + frame(8, b"\x03\xe8")
    c.sendall(out)
    c.close()
EOF
$PY "$W/fake.py" "$W/fake.sock" badaccept noexit drop frames & fake=$!
defer "kill $fake 2>/dev/null"
for _ in $(seq 100); do [ -S "$W/fake.sock" ] && break; sleep 0.05; done
fake_() { "$SANDHOST_CLI" --socket "$W/fake.sock" exec 1 true < /dev/null; }
err=$(fake_ 2>&1)
is $? 254 "a wrong Sec-WebSocket-Accept: 254"
like "$err" 'Sec-WebSocket-Accept does not match' "saying so"
err=$(fake_ 2>&1)
is $? 254 "a session closed without an exit status: 254"
like "$err" 'without an exit status' "saying so"
out=$(fake_ 2>&1)
is $? 255 "a connection dropped mid-session: 255"
like "$out" '^half.*connection to sandhostd was lost' "after the bytes that came"
out=$(fake_ 2>/dev/null)
is $? 42 "frames read along with the answer's head: the exit status"
is "$out" hello "and the output"

# ---- exec -t on a terminal ----
# pty.py ROWS COLS ACTION CMD...: CMD on a new terminal of that size.  Once
# the output says "ready", ACTION: "resize R C" (and a newline typed) or
# "term" (SIGTERM to CMD).  Prints the output, then whether the terminal was
# raw at "ready" and is back to cooked after, and how CMD ended.
cat > "$W/pty.py" <<'EOF'
import fcntl, os, select, signal, struct, sys, termios, time
rows, cols, action, cmd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(), sys.argv[4:]
m, s = os.openpty()
fcntl.ioctl(s, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(s, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(s, fd)
    os.execv(cmd[0], cmd)
cooked = termios.ECHO | termios.ICANON
out, acted, raw, status = b"", False, None, None
deadline = time.monotonic() + 40
while time.monotonic() < deadline:
    if select.select([m], [], [], 0.2)[0]:
        out += os.read(m, 65536)
    if not acted and b"ready" in out:
        acted = True
        raw = termios.tcgetattr(s)[3] & cooked == 0
        if action[0] == "resize":
            fcntl.ioctl(s, termios.TIOCSWINSZ, struct.pack("HHHH", int(action[1]), int(action[2]), 0, 0))
            os.write(m, b"\n")
        else:
            os.kill(pid, signal.SIGTERM)
    if status is None:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p:
            status = os.waitstatus_to_exitcode(st)
    elif not select.select([m], [], [], 0.2)[0]:
        break
if status is None:
    os.kill(pid, signal.SIGKILL)
print(out.decode(errors="replace").replace("\r", ""))
print("#raw-at-ready", raw)
print("#cooked-after", termios.tcgetattr(s)[3] & cooked == cooked)
print("#exit", status)
EOF
out=$($PY "$W/pty.py" 30 100 "resize 40 120" "$SANDHOST_CLI" --socket "$S" exec -t web1 \
  sh -c 'tty; stty size; echo ready; read x; stty size; exit 3' | tr '\n' '|')
like "$out" '^/dev/pts/[0-9]+\|' "exec -t: the command has a terminal (tty)"
like "$out" '\|30 100\|ready\|' "of the size of ours (stty size: 30 100)"
like "$out" '\|40 120\|' "resized when ours is (SIGWINCH, then stty size: 40 120)"
like "$out" '#raw-at-ready True' "our terminal is raw during the session"
like "$out" '#cooked-after True' "and restored after"
like "$out" '#exit 3' "the exit status of the command on the terminal (3)"
out=$($PY "$W/pty.py" 24 80 term "$SANDHOST_CLI" --socket "$S" exec -t web1 sh -c 'echo ready; exec sleep 300' | tr '\n' '|')
like "$out" '#exit 143' "exec -t ended by SIGTERM: 128 + 15"
like "$out" '#cooked-after True' "the terminal restored after the signal too"
for _ in $(seq 50); do sh_ exec web1 ps -o args | grep -q '^sleep 300' || break; sleep 0.1; done
ok $(sh_ exec web1 ps -o args | grep -q '^sleep 300'; [ $? = 1 ]; echo $?) "and the command on the closed terminal is gone (hung up)"

like "$(sh_ audit-log 100)" '"path": "/1.0/containers/'"$c1"'/exec",.*' "sandhost audit-log: the execs are in the audit log"
like "$(sh_ --json audit-log 100 | jq -r '.entries[] | select(.path == "/1.0/containers/'"$c1"'/exec") | .status' | sort -u | tr '\n' ' ')" \
  '^101 ' "with status 101"
out=$(sh_ --json audit-log 1000 --search "EXEC /containers/$c1/" | jq -r '.entries[] | .method + " " + .path' | sort -u)
is "$out" "GET /1.0/containers/$c1/exec" "audit-log --search: sandhostd keeps the entries with every word (case aside)"
sh_ api POST /1.0/plans '{"name": "no sizes"}' >/dev/null 2>&1   # refused (400), and audited
out=$(sh_ --json audit-log --failed 1000 | jq -r '([.entries[] | select(.status < 400)] | length), (.entries | length)' | tr '\n' ' ')
like "$out" '^0 [1-9][0-9]* $' "audit-log --failed: refused requests only (accepted, all: $out)"
out=$(sh_ audit-log 0 2>&1)
status=$?
ok $([ $status != 0 ] && [[ $out == *LIMIT* ]]; echo $?) "audit-log 0: refused, naming LIMIT ($out)"

# ---- the end ----
sh_ stop web1 && sh_ delete web1 && sh_ delete web2
ok $? "sandhost stop and delete"
is "$(sh_ --json list | jq '.containers | length')" 0 "sandhost list: none left"
done_testing
