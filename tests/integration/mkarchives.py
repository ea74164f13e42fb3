#!/usr/bin/env python3
"""Write the archives test-archive.sh imports: hostile tarballs and OCI image
layouts.  usage: mkarchives.py OUTDIR OUTSIDE_DIR"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

out, outside = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def info(name, kind=tarfile.REGTYPE, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    ti.mode = kw.get("mode", 0o755 if kind == tarfile.DIRTYPE else 0o644)
    ti.uid, ti.gid = kw.get("uid", 0), kw.get("gid", 0)
    ti.mtime = kw.get("mtime", 1700000000)
    ti.linkname = kw.get("linkname", "")
    ti.devmajor, ti.devminor = kw.get("dev", (0, 0))
    if "pax" in kw:
        ti.pax_headers = kw["pax"]
    return ti, (data if kind == tarfile.REGTYPE else None)


def tar(name, entries, mode="w", fmt=tarfile.PAX_FORMAT):
    with tarfile.open(os.path.join(out, name), mode, format=fmt) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)


base = [info("bin", tarfile.DIRTYPE), info("etc", tarfile.DIRTYPE),
        info("etc/hostname", data=b"box\n")]

# A normal tree with everything an image carries.
good = base + [
    info("home", tarfile.DIRTYPE), info("home/user", tarfile.DIRTYPE, uid=1000, gid=1000, mode=0o700),
    info("home/user/notes", data=b"mine\n", uid=1000, gid=1000, mode=0o600),
    info("bin/su", data=b"\x7fELF-not-really", mode=0o4755),
    info("bin/wall", data=b"x", mode=0o2755, gid=5),
    info("bin/ping", data=b"ping", pax={"SCHILY.xattr.security.capability":
                                        "\x01\x00\x00\x02\x00\x20\x00\x00" + "\x00" * 12}),
    info("etc/tagged", data=b"t", pax={"SCHILY.xattr.user.test": "hello"}),
    info("etc/hard", tarfile.LNKTYPE, linkname="etc/hostname"),
    info("etc/abs-link", tarfile.SYMTYPE, linkname="/etc/hostname"),
    info("etc/rel-link", tarfile.SYMTYPE, linkname="../etc/hostname"),
    info("run", tarfile.DIRTYPE), info("run/fifo", tarfile.FIFOTYPE),
    info("tmp", tarfile.DIRTYPE, mode=0o1777),
]
for name, mode in (("good.tar", "w"), ("good.tar.gz", "w:gz"), ("good.tar.xz", "w:xz"),
                   ("good.tar.bz2", "w:bz2")):
    tar(name, good, mode)

# Hostile cases: file name -> entries.
hostile = {
    "dotdot.tar": base + [info("etc/../../escaped", data=b"x")],
    "abs.tar": base + [info("/etc/abs", data=b"stripped")],
    "symlink-escape.tar": base + [info("etc/esc", tarfile.SYMTYPE, linkname="../../../etc/shadow")],
    "hardlink-abs.tar": base + [info("etc/pw", tarfile.LNKTYPE, linkname="/etc/passwd")],
    "hardlink-dotdot.tar": base + [info("etc/pw", tarfile.LNKTYPE, linkname="../x")],
    "through-symlink.tar": base + [info("link", tarfile.SYMTYPE, linkname=outside),
                                   info("link/pwned", data=b"pwned")],
    "device.tar": base + [info("dev", tarfile.DIRTYPE),
                          info("dev/sda", tarfile.BLKTYPE, dev=(8, 0)),
                          info("dev/mem", tarfile.CHRTYPE, dev=(1, 1))],
    "long-name.tar": base + [info("etc/" + "n" * 300, data=b"x")],
    "long-path.tar": base + [info("/".join(["d" * 200] * 25) + "/f", data=b"x")],
    "duplicate.tar": base + [info("etc/twice", data=b"one"), info("etc/twice", data=b"two")],
}
for name, entries in hostile.items():
    tar(name, entries)

# A header that declares 20 GiB and then ends: refused before any data is read.
with open(os.path.join(out, "bomb-declared.tar"), "wb") as f:
    ti, _ = info("huge")
    ti.size = 20 << 30
    f.write(ti.tobuf(format=tarfile.PAX_FORMAT))
    f.write(b"\0" * 1024)

# 2 MiB of zeros: a few KiB compressed.
zeros = b"\0" * (2 << 20)
tar("bomb-small.tar.gz", base + [info("zeros", data=zeros)], "w:gz")

# ---- OCI layouts ----


def blob(layout, data):
    d = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}


def layer(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return gzip.compress(buf.getvalue(), mtime=0)


def oci(layout, manifests):
    """manifests: list of (ref or None, platform arch, [layers])"""
    os.makedirs(layout, exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    descs = []
    for ref, arch, layers in manifests:
        cfg = blob(layout, json.dumps({"architecture": arch, "os": "linux",
                                       "rootfs": {"type": "layers", "diff_ids": []}}).encode())
        cfg["mediaType"] = "application/vnd.oci.image.config.v1+json"
        ls = []
        for l in layers:
            d = blob(layout, l)
            d["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
            ls.append(d)
        m = blob(layout, json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                     "config": cfg, "layers": ls}).encode())
        m["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
        m["platform"] = {"os": "linux", "architecture": arch}
        if ref:
            m["annotations"] = {"org.opencontainers.image.ref.name": ref}
        descs.append(m)
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": descs}, f)
    return descs


l1 = layer(base + [info("etc/gone", data=b"deleted by layer 3"), info("etc/kept", data=b"v1"),
                   info("opq", tarfile.DIRTYPE), info("opq/old", data=b"hidden by layer 3"),
                   info("opq/sub", tarfile.DIRTYPE), info("opq/sub/deep", data=b"hidden too")])
l2 = layer([info("etc/kept", data=b"v2"), info("usr", tarfile.DIRTYPE), info("usr/tool", data=b"t")])
l3 = layer([info("etc/.wh.gone"), info("opq", tarfile.DIRTYPE), info("opq/new", data=b"from layer 3"),
            info("opq/.wh..wh..opq")])
oci(os.path.join(out, "oci"), [("v1", "amd64", [l1, l2, l3]), ("base", "amd64", [l1])])

# The same layout as a tar archive.
with tarfile.open(os.path.join(out, "oci.tar"), "w") as t:
    t.add(os.path.join(out, "oci"), arcname=".")

# Two platforms, no refs: this machine's is chosen.
oci(os.path.join(out, "oci-multi"), [(None, "arm64", [layer(base + [info("etc/arch", data=b"arm64")])]),
                                     (None, "amd64", [layer(base + [info("etc/arch", data=b"amd64")])])])

# A layer with one byte flipped (its digest no longer matches), and a wrong size.
d = oci(os.path.join(out, "oci-bad"), [("v1", "amd64", [l1])])
m = json.load(open(os.path.join(out, "oci-bad", "blobs", "sha256", d[0]["digest"][7:])))
lp = os.path.join(out, "oci-bad", "blobs", "sha256", m["layers"][0]["digest"][7:])
data = bytearray(open(lp, "rb").read())
data[len(data) // 2] ^= 0xff
open(lp, "wb").write(bytes(data))

oci(os.path.join(out, "oci-size"), [("v1", "amd64", [l2])])
ip = os.path.join(out, "oci-size", "index.json")
idx = json.load(open(ip))
idx["manifests"][0]["size"] += 1
json.dump(idx, open(ip, "w"))
