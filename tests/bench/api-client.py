#!/usr/bin/env python3
"""api-client.py SOCKET TENANT N CONCURRENCY PREFIX: provision N containers through
sandhostd's API (POST create, wait, PUT start, wait), CONCURRENCY at a time, each on its own
keep-alive connection; print each one's latency in microseconds, request to running."""
import http.client, json, socket, sys, threading, time

sock_path, tenant, n, conc, prefix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(sock_path)

def call(c, method, path, body=None):
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"Content-Type": "application/json"} if body is not None else {})
    r = c.getresponse()
    return json.loads(r.read() or b"{}")

def wait(c, op):
    o = call(c, "GET", f"/1.0/operations/{op}/wait?timeout=300")
    if o.get("status") != "success":
        raise SystemExit(f"operation {op}: {o}")
    return o

out, lock, failed = [], threading.Lock(), []
def one(i):
    c = Conn("sandhost")
    t0 = time.monotonic()
    r = call(c, "POST", "/1.0/containers", {"name": f"{prefix}{i}", "tenant_id": tenant})
    o = wait(c, r["operation"]["id"])
    r = call(c, "PUT", f"/1.0/containers/{o['container_id']}/state", {"action": "start"})
    wait(c, r["operation"]["id"])
    with lock:
        out.append(int((time.monotonic() - t0) * 1e6))

def worker(ids):
    try:
        for i in ids:
            one(i)
    except BaseException as e:
        failed.append(str(e))

threads = [threading.Thread(target=worker, args=(range(k, n, conc),)) for k in range(conc)]
for t in threads: t.start()
for t in threads: t.join()
if failed:
    sys.exit("; ".join(failed))
print("\n".join(map(str, out)))
