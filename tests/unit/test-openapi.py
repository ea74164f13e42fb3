#!/usr/bin/env python3
"""docs/api.yaml against the daemon: the same paths and methods both ways,
every $ref resolves, every error response uses the one error shape, and the
error codes are the ones hostd/api.c has (TAP)."""
import re, subprocess, sys, yaml

daemon, doc, api_c = sys.argv[1:4]
spec = yaml.safe_load(open(doc))
n = 0
fails = 0
def ok(cond, what):
    global n, fails
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, what))
    fails += 0 if cond else 1

# Path parameters compare by position: {id}, {snapshot}... are all {}.
norm = lambda r: re.sub(r"\{[^}]+\}", "{}", r)
routes = {norm(r) for r in subprocess.run([daemon, "--routes"], check=True, capture_output=True, text=True).stdout.split("\n")} - {""}
documented = set()
for path, item in spec["paths"].items():
    for method in item:
        if method in ("get", "post", "put", "patch", "delete"):
            documented.add(norm(f"{method.upper()} {path}"))
ok(len(routes) > 20, f"sandhostd --routes lists {len(routes)} routes")
for r in sorted(routes - documented):
    ok(False, f"{r}: served but not in docs/api.yaml")
for r in sorted(documented - routes):
    ok(False, f"{r}: in docs/api.yaml but not served")
ok(routes == documented, "docs/api.yaml documents exactly the routes served")

def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)
def resolve(ref):
    node = spec
    for part in ref.lstrip("#/").split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node
bad = [r for r in refs(spec) if resolve(r) is None]
ok(not bad, "every $ref resolves" + (f" (not: {bad})" if bad else ""))
shape = []
for path, item in spec["paths"].items():
    for method, op in item.items():
        if not isinstance(op, dict) or "responses" not in op:
            continue
        for status, resp in op["responses"].items():
            if int(status) >= 400 and resp.get("$ref") != "#/components/responses/Error":
                shape.append(f"{method.upper()} {path} {status}")
ok(not shape, "every error response is the Error shape" + (f" (not: {shape})" if shape else ""))
codes = set(re.findall(r'\{ \d+, "([a-z_]+)" \}', open(api_c).read())) - {"accepted"}
doc_codes = set(spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"])
ok(codes == doc_codes, f"the error codes match hostd/api.c ({sorted(codes ^ doc_codes) or 'all'})")
print(f"1..{n}")
sys.exit(1 if fails else 0)
