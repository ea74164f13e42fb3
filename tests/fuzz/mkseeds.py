#!/usr/bin/env python3
"""Write the seed corpus of the libFuzzer targets into corpus/<target>/.

The seeds are committed; this script says where they came from and makes
them again: `mkseeds.py SBX` (SBX: the sbx binary, for `sbx spec`).  Each
seed is small and valid (or hostile in a documented way), so the fuzzers
start from the formats' real shapes."""
import gzip, io, json, os, subprocess, sys, tarfile, tempfile

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.dirname(os.path.dirname(here))


def put(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def spec(sbx, hardened):
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sbx, "spec"] + (["--hardened"] if hardened else []), cwd=d, check=True)
        with open(os.path.join(d, "config.json")) as f:
            return json.load(f)


def configs(sbx):
    hard, plain = spec(sbx, True), spec(sbx, False)
    put("config", "hardened.json", json.dumps(hard, indent=1))
    put("config", "plain.json", json.dumps(plain))
    small = {"ociVersion": "1.2.0", "root": {"path": "rootfs", "readonly": True},
             "process": {"args": ["/bin/sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
             "linux": {"namespaces": [{"type": "user"}, {"type": "mount"}, {"type": "pid"}],
                       "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
                       "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}}
    put("config", "small.json", json.dumps(small))
    rich = json.loads(json.dumps(small))
    rich["mounts"] = [{"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "ro", "nosuid"]},
                      {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["size=64k", "mode=1777"]}]
    rich["linux"]["resources"] = {"memory": {"limit": 67108864, "swap": 18446744073709551615},
                                  "pids": {"limit": 64}, "cpu": {"quota": 50000, "period": 100000},
                                  "devices": [{"allow": False, "access": "rwm"}, {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"}]}
    rich["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    rich["linux"]["maskedPaths"] = ["/proc/kcore"]
    rich["linux"]["readonlyPaths"] = ["/proc/sys"]
    rich["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]
    rich["process"]["capabilities"] = {"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"]}
    put("config", "rich.json", json.dumps(rich))
    return hard


def seccomp(hard):
    put("seccomp", "hardened.json", json.dumps(hard["linux"]["seccomp"]))
    put("seccomp", "allow-read.json", json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}))
    put("seccomp", "args.json", json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                      "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_NE"}]},
                     {"names": ["clone"], "action": "SCMP_ACT_ERRNO",
                      "args": [{"index": 0, "value": 268435456, "valueTwo": 268435456, "op": "SCMP_CMP_MASKED_EQ"}]}]}))
    put("seccomp", "flags.json", json.dumps({"defaultAction": "SCMP_ACT_KILL_PROCESS", "flags": ["SECCOMP_FILTER_FLAG_LOG"],
        "syscalls": [{"names": ["exit_group"], "action": "SCMP_ACT_ALLOW"}, {"names": ["kill"], "action": "SCMP_ACT_TRAP"}]}))


def netpolicies():
    put("netpolicy", "web.txt", "# a web server\ndefault in deny\ndefault out deny\nallow in tcp any port 80\n"
        "allow out tcp 10.1.2.3/32 port 5432\nallow out udp 192.0.2.53 port 53\ndeny out 10.0.0.0/8\n"
        "allow out tcp 10.9.9.9 port 443\nallow out icmp 0.0.0.0/0\nallow out tcp fd00:1::/64 port 8000-8080\n"
        "forward tcp 8080 to 80\n")
    put("netpolicy", "v6.txt", "default out deny\nallow out icmpv6 ::/0\nallow out udp 2001:db8::1 port 53\ndeny in any\n")
    put("netpolicy", "bad-port.txt", "allow in tcp any port 70000\n")
    put("netpolicy", "forwards.txt", "forward udp 10053 to 53\nforward tcp 10022 to 22\nallow in tcp 198.51.100.0/24 port 22\n")


def tar(entries, compress=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for kind, name, extra in entries:
            ti = tarfile.TarInfo(name)
            data = None
            if kind == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            elif kind == "file":
                data = extra.encode()
                ti.size, ti.mode = len(data), 0o644
            elif kind == "sym":
                ti.type, ti.linkname = tarfile.SYMTYPE, extra
            elif kind == "hard":
                ti.type, ti.linkname = tarfile.LNKTYPE, extra
            elif kind == "fifo":
                ti.type = tarfile.FIFOTYPE
            elif kind == "chr":
                ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    # Past the end-of-archive blocks tar pads to 10 KiB of zeros: cut them,
    # small seeds fuzz faster.
    raw = buf.getvalue()
    end = len(raw.rstrip(b"\0"))
    raw = raw[:(end + 511) // 512 * 512 + 1024]
    return gzip.compress(raw, mtime=0) if compress == "gz" else raw


def archives():
    plain = [("dir", "etc", None), ("file", "etc/hostname", "box\n"), ("sym", "bin/sh", "busybox"),
             ("file", "bin/busybox", "\x7fELF"), ("hard", "bin/ash", "bin/busybox"), ("fifo", "run/fifo", None),
             ("chr", "dev/null", None)]
    # The first byte is the mode: 0 plain image import, 1 OCI layer.
    put("archive", "image.tar", b"\0" + tar(plain))
    put("archive", "image.tar.gz", b"\0" + tar(plain, "gz"))
    put("archive", "layer-whiteouts.tar", b"\1" + tar([("dir", "etc", None), ("file", "etc/.wh.hostname", ""),
                                                        ("file", "etc/.wh..wh..opq", ""), ("file", "etc/new", "x")]))
    # Hostile: climbing names, a symlink out and a write through it, an absolute name.
    put("archive", "hostile.tar", b"\0" + tar([("file", "../escape", "x"), ("sym", "out", "/etc"),
                                                ("file", "out/passwd", "root::0:0::/:/bin/sh"),
                                                ("file", "/abs", "x"), ("hard", "h", "../../etc/shadow")]))


def api_bodies():
    bodies = {
        "plan.json": {"name": "basic", "cpu_millis": 1000, "memory_mib": 512, "pids": 256, "disk_mib": 1024,
                      "bandwidth_mbit": 50, "max_containers": 3, "total_cpu_millis": 2000, "total_memory_mib": 1024,
                      "total_disk_mib": 3072, "net_default": "allow", "seccomp": "default"},
        "tenant.json": {"name": "globex", "plan_id": 1},
        "user.json": {"name": "bob", "role": "member", "tenant_id": 1},
        "token.json": {"name": "ci"},
        "container.json": {"name": "db", "tenant_id": 1},
        "state.json": {"action": "start"},
        "policy.json": {"policy": "default in deny\nallow in tcp any port 80\n"},
        "snapshot.json": {"name": "before"},
        "patch.json": {"description": "x", "pids": 300},
    }
    for name, body in bodies.items():
        put("api", name, json.dumps(body))
    put("api", "duplicate-key.json", '{"name": "a", "name": "b"}')


if __name__ == "__main__":
    hard = configs(os.path.abspath(sys.argv[1]))
    seccomp(hard)
    netpolicies()
    archives()
    api_bodies()
