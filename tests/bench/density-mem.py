#!/usr/bin/env python3
"""density-mem.py: what tests/bench/density reads, and its tables.

  sample RUNTIME N MEMCG MATCH [PIDFILE]
      one JSON line: /proc/meminfo, /proc/slabinfo, the charge of the memory cgroup MEMCG
      (the benchmark's own: every runtime's containers are below it), the BPF programs and
      maps on the host, and the runtime's processes: those whose command line contains MATCH
      or whose pid is in PIDFILE, with all their descendants. Processes running busybox are
      the containers' own; the rest are the runtime's (daemons, monitors, conmon).
  bpf PINDIR
      one sandhostd container's programs and maps, from its pins (links -> programs -> maps).
  report SAMPLES [EXTRA]
      the markdown tables: per runtime, least-squares slopes over its samples (KiB per
      container). EXTRA is a JSON file of notes the script collected (set-ups, errors, BPF).
"""
import json, os, subprocess, sys

KIB = 1024


def meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            out[k] = int(v.split()[0])
    return out


def slabinfo():
    out = {}
    with open("/proc/slabinfo") as f:
        for line in f:
            if line.startswith(("slabinfo", "#")):
                continue
            p = line.split()
            # name active_objs num_objs objsize objperslab pagesperslab : tunables ... : slabdata active_slabs num_slabs ...
            out[p[0]] = int(p[14]) * int(p[5]) * 4  # KiB: num_slabs * pages per slab
    return out


def memcg(d):
    def read(name):
        try:
            with open(os.path.join(d, name)) as f:
                return f.read()
        except OSError:
            return None
    v1 = read("memory.usage_in_bytes")
    if v1 is not None:
        return {"usage": int(v1) // KIB, "kmem": int(read("memory.kmem.usage_in_bytes") or 0) // KIB}
    stat = dict(l.split() for l in (read("memory.stat") or "").splitlines())
    return {"usage": int(read("memory.current") or 0) // KIB, "kmem": int(stat.get("kernel", 0)) // KIB}


def usage(d):
    for name in ("memory.usage_in_bytes", "memory.current"):
        try:
            with open(os.path.join(d, name)) as f:
                return int(f.read()) // KIB
        except OSError:
            pass
    return 0


def others(d):
    """The memory charged to every cgroup that is neither ours, below ours nor above ours
    (the other sessions on the host), in KiB."""
    d = os.path.realpath(d)
    with open("/proc/self/mounts") as f:
        mounts = [l.split()[1] for l in f if l.split()[2] in ("cgroup", "cgroup2")]
    root = max((m for m in mounts if d.startswith(m + "/")), key=len, default=None)
    total, level = 0, d
    while root and level != root:
        parent = os.path.dirname(level)
        for e in os.scandir(parent):
            if e.is_dir(follow_symlinks=False) and e.path != level:
                total += usage(e.path)
        level = parent
    return total


def bpftool(*args):
    r = subprocess.run(["bpftool", "-j", *args], capture_output=True, text=True)
    try:
        return json.loads(r.stdout or "null")
    except ValueError:
        return None


def bpf_totals():
    progs, maps = bpftool("prog", "show") or [], bpftool("map", "show") or []
    return {"progs": len(progs), "prog_memlock": sum(p.get("bytes_memlock", 0) for p in progs) // KIB,
            "maps": len(maps), "map_memlock": sum(m.get("bytes_memlock", 0) for m in maps) // KIB}


def processes():
    procs = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        procs[int(pid)] = (ppid, comm, cmd)
    return procs


def rollup(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                p = line.split()
                if len(p) == 3 and p[2] == "kB":
                    out[p[0].rstrip(":")] = int(p[1])
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return None, None
    return out, exe


def runtime_processes(match, pidfile):
    procs = processes()
    me = {os.getpid(), os.getppid()}
    roots = {p for p, (_, _, cmd) in procs.items() if match and match in cmd and p not in me}
    if pidfile and os.path.exists(pidfile):
        with open(pidfile) as f:
            roots |= {int(x) for x in f.read().split() if int(x) in procs}
    kids = {}
    for p, (pp, _, _) in procs.items():
        kids.setdefault(pp, []).append(p)
    seen, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo += kids.get(p, [])
    own = {"n": 0, "Rss": 0, "Pss": 0, "Pss_Anon": 0, "Pss_File": 0, "Pss_Shmem": 0}
    rt = {}
    for p in seen:
        r, exe = rollup(p)
        if r is None:
            continue
        if exe == "busybox":
            own["n"] += 1
            for k in own:
                if k != "n":
                    own[k] += r.get(k, 0)
        else:
            c = rt.setdefault(procs[p][1], {"n": 0, "Rss": 0, "Pss": 0})
            c["n"] += 1
            c["Rss"] += r.get("Rss", 0)
            c["Pss"] += r.get("Pss", 0)
    return own, rt


def sample(runtime, n, cg, match, pidfile=None):
    own, rt = runtime_processes(match, pidfile)
    o, mi = others(cg), meminfo()
    print(json.dumps({"runtime": runtime, "n": int(n), "meminfo": mi, "others": o, "slab": slabinfo(), "memcg": memcg(cg),
                      "bpf": bpf_totals(), "own": own, "rt": rt}))


def bpf(pindir):
    progs, maps = {}, {}
    for name in sorted(os.listdir(pindir)):
        path = os.path.join(pindir, name)
        link = bpftool("link", "show", "pinned", path)
        if isinstance(link, dict) and "prog_id" in link:
            p = bpftool("prog", "show", "id", str(link["prog_id"]))
            progs[p["id"]] = p
        else:
            m = bpftool("map", "show", "pinned", path)
            if isinstance(m, dict) and "id" in m:
                maps[m["id"]] = m
    for p in progs.values():
        for mid in p.get("map_ids", []):
            if mid not in maps:
                maps[mid] = bpftool("map", "show", "id", str(mid))
    print(json.dumps({
        "progs": [{k: p.get(k) for k in ("name", "type", "bytes_xlated", "bytes_jited", "bytes_memlock")} for p in progs.values()],
        "maps": [{k: m.get(k) for k in ("name", "type", "max_entries", "bytes_key", "bytes_value", "bytes_memlock")}
                 for m in maps.values() if m]}))


# ---- report ----

def fit(xs, ys):
    """Least-squares slope, intercept and R^2."""
    n = len(xs)
    if n < 2:
        return None, None, None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if not sxx:
        return None, None, None
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a = my - b * mx
    sst = sum((y - my) ** 2 for y in ys)
    r2 = 1 - sum((y - a - b * x) ** 2 for x, y in zip(xs, ys)) / sst if sst else 1.0
    return b, a, r2


def host_used(s):
    return s["meminfo"]["MemTotal"] - s["meminfo"]["MemAvailable"]


def metrics(s):
    """Every figure a sample gives, in KiB."""
    mi = s["meminfo"]
    m = {
        "host": host_used(s),
        "host-others": mi["MemTotal"] - mi["MemFree"] - s["others"],
        "memcg": s["memcg"]["usage"],
        "memcg kmem": s["memcg"]["kmem"],
        "own Pss": s["own"]["Pss"], "own Rss": s["own"]["Rss"],
        "own Pss_Anon": s["own"]["Pss_Anon"] + s["own"]["Pss_Shmem"], "own Pss_File": s["own"]["Pss_File"],
        "own procs": s["own"]["n"],
        "rt Pss": sum(c["Pss"] for c in s["rt"].values()),
        "rt Rss": sum(c["Rss"] for c in s["rt"].values()),
        "bpf memlock": s["bpf"]["prog_memlock"] + s["bpf"]["map_memlock"],
        "bpf progs": s["bpf"]["progs"], "bpf maps": s["bpf"]["maps"],
    }
    for k in ("AnonPages", "Mapped", "Cached", "Shmem", "Buffers", "SReclaimable", "SUnreclaim", "KernelStack",
              "PageTables", "Percpu", "VmallocUsed"):
        m["mi " + k] = mi.get(k, 0)
    for comm, c in s["rt"].items():
        m["rt:" + comm] = c["Pss"]
    for name, kib in s["slab"].items():
        m["slab:" + name] = kib
    return m


def slopes(samples):
    ms = [metrics(s) for s in samples]
    xs = [s["n"] for s in samples]
    out = {}
    for k in set().union(*ms):
        b, a, r2 = fit(xs, [m.get(k, 0) for m in ms])
        if b is not None:
            out[k] = (b, r2)
    return out


def f(v, digits=0):
    return "–" if v is None else f"{v:,.{digits}f}"


def mib(v):
    return "–" if v is None else f"{v / 1024:.2f}"


def report(path, extra_path=None):
    by = {}
    with open(path) as fh:
        for line in fh:
            s = json.loads(line)
            by.setdefault(s["runtime"], []).append(s)
    extra = {}
    if extra_path and os.path.exists(extra_path):
        with open(extra_path) as fh:
            for line in fh:
                e = json.loads(line)
                x = extra.setdefault(e.pop("runtime"), {"notes": []})
                x["notes"] += e.pop("notes", [])
                x.update(e)
    order = [r for r in ("sandhostd", "lxc", "podman", "bwrap", "unshare") if r in by or r in extra]
    sl = {r: slopes(by[r]) for r in order if r in by and len(by[r]) >= 2}
    g = lambda r, k: sl.get(r, {}).get(k, (None, None))[0]

    print("| runtime | N | host: used less the other sessions' cgroups (R²) | host: MemTotal − MemAvailable (R²) |"
          " charged to our cgroup | own processes (PSS) | **beyond own** | runtime's processes (PSS) | sandhostd ÷ runtime |")
    print("|---|---|---|---|---|---|---|---|---|")
    base = g("sandhostd", "host-others")
    for r in order:
        e = extra.get(r, {})
        if r not in sl:
            print(f"| {r} | – | {e.get('error', 'not measured')} | | | | | | |")
            continue
        ns = sorted({s["n"] for s in by[r]})
        host, r2 = sl[r]["host"]
        ho, r2o = sl[r]["host-others"]
        own = g(r, "own Pss")
        ratio = f"{base / ho:.1f}" if base and ho and ho > 0 else "–"
        err = f" (stopped: {e['error']})" if e.get("error") else ""
        print(f"| {r}{err} | {'/'.join(map(str, ns))} | {mib(ho)} ({r2o:.3f}) | {mib(host)} ({r2:.3f}) | {mib(g(r, 'memcg'))} |"
              f" {mib(own)} | **{mib(ho - own)}** | {mib(g(r, 'rt Pss'))} | {ratio} |")
    print()
    print("MiB per container, least-squares slopes over N. Each container:")
    print()
    for r in order:
        print(f"- {r}: {extra.get(r, {}).get('setup', '')}")
    print()
    print("Where it goes, KiB per container (least-squares slopes over the same points; /proc/meminfo is the"
          " whole host's, so other work on it shows up here):")
    print()
    print("| | " + " | ".join(r for r in order if r in sl) + " |")
    print("|---" * (1 + len(sl)) + "|")
    rows = [("MemTotal − MemAvailable", "host"), ("MemTotal − MemFree − the other sessions' cgroups", "host-others"), ("Mapped (file pages in page tables)", "mi Mapped"),
            ("charged to the benchmark's memory cgroup", "memcg"), ("… of it kernel memory (kmem)", "memcg kmem"),
            ("own processes: PSS anon", "own Pss_Anon"), ("own processes: PSS file", "own Pss_File"),
            ("own processes: RSS", "own Rss"), ("runtime's processes: PSS", "rt Pss"),
            ("AnonPages", "mi AnonPages"), ("Cached (page cache, all)", "mi Cached"), ("Shmem", "mi Shmem"),
            ("Buffers", "mi Buffers"), ("Slab unreclaimable", "mi SUnreclaim"), ("Slab reclaimable", "mi SReclaimable"),
            ("KernelStack", "mi KernelStack"), ("PageTables", "mi PageTables"), ("Percpu", "mi Percpu"),
            ("VmallocUsed", "mi VmallocUsed"), ("BPF memlock (programs + maps, whole host)", "bpf memlock")]
    for label, k in rows:
        print(f"| {label} | " + " | ".join(f(g(r, k)) for r in order if r in sl) + " |")
    for label, k in (("processes per container", "own procs"), ("BPF programs per container", "bpf progs"),
                     ("BPF maps per container", "bpf maps")):
        print(f"| {label} | " + " | ".join(f(g(r, k), 2) for r in order if r in sl) + " |")
    comms = sorted({k for r in sl for k in sl[r] if k.startswith("rt:") and (g(r, k) or 0) > 4})
    for k in comms:
        print(f"| PSS of `{k[3:]}` | " + " | ".join(f(g(r, k)) for r in order if r in sl) + " |")
    print()
    print("Slab caches that grow most, KiB per container:")
    print()
    for r in order:
        if r not in sl:
            continue
        top = sorted(((v[0], k[5:]) for k, v in sl[r].items() if k.startswith("slab:") and v[0] > 0), reverse=True)[:8]
        print(f"- {r}: " + ", ".join(f"{name} {v:.1f}" for v, name in top))
    for r in order:
        for note in extra.get(r, {}).get("notes", []):
            print(f"\n{note}")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"sample": sample, "bpf": bpf, "report": report}[cmd](*args)
