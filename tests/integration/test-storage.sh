#!/bin/bash
# Storage pools end to end on a loop-backed btrfs pool the test makes: the
# busybox image, O(1) volumes, idmapped mounts, quotas enforced inside
# containers (per volume and per tenant), snapshots, clones, backups, the
# watermark and crash cleanup.  Runs on the host and in the VM tier.
. "$(dirname "$0")/../lib/sbx-env.sh"
: "${SBX_STORAGE:?set SBX_STORAGE to the sbx-storage binary}"
for t in mkfs.btrfs getfattr setfattr zstd jq python3; do
  command -v $t >/dev/null || { echo "Bail out! $t is missing (scripts/setup.sh installs it)"; exit 1; }
done

# A bare system (the VM tier) has no static /dev nodes for unloaded modules.
[ -e /dev/loop-control ] || modprobe loop 2>/dev/null
grep -qw btrfs /proc/filesystems || modprobe btrfs 2>/dev/null

POOL=$WORK/pool
MNT=$WORK/mnt
st() { "$SBX_STORAGE" --pool "$POOL" "$@"; }
# Unmount every idmapped mount and the pools before the work dir goes.
defer "grep -o \"$WORK/[^ ]*\" /proc/self/mounts | sort -r | xargs -r -n1 umount -l"

st pool create --size 2G > "$WORK/create.out" 2>&1
ok $? "a loop-backed pool is created"
qmode=$(st pool info | jq -r .quota_mode)
like "$qmode" '^(simple|full)$' "quotas are on (mode $qmode)"
is "$(stat -c %a "$POOL")" 700 "the pool directory is root's alone"
like "$(grep " $POOL/data " /proc/self/mounts)" 'nosuid,nodev' "the pool is mounted nosuid,nodev"

# ---- images ----
img=$(st image build busybox | jq -r .id)
like "$img" '^[0-9a-f]{64}$' "the busybox image builds"
is "$(st image build busybox | jq -r .id)" "$img" "building it again finds the same image"
is "$(stat -c %u "$POOL/data/images/$img/bin/busybox")" 0 "image files are stored with container ids (0)"
like "$(btrfs property get -ts "$POOL/data/images/$img" ro)" 'ro=true' "the image is a read-only subvolume"
is "$(st image list | jq length)" 1 "image list shows it"

# ---- volumes: O(1) clones ----
st volume create c1 busybox --tenant 7 --quota 24M && st volume create c2 busybox --tenant 7 --quota 24M &&
  st volume create c3 busybox --tenant 8 --quota 24M
ok $? "three volumes from the image (tenants 7, 7, 8)"
st volume create c1 busybox --tenant 7 --quota 24M
ok $? "creating the same volume again is harmless"
out=$(st volume create c1 busybox --tenant 9 2>&1)
like "$out" "exists" "the same id for another tenant is refused"
excl=$(st volume usage c1 | jq .exclusive)
check "$excl < 1048576" "a new volume holds under 1 MiB of its own ($excl bytes)"
out=$(st volume create ../x busybox 2>&1)
like "$out" "volume id" "a bad volume id is refused, naming the field"

# ---- idmapped mounts: one image, each container its own ids ----
st volume mount c1 "$MNT/c1" --uid-map 0:100000:65536 && st volume mount c2 "$MNT/c2" --uid-map 0:200000:65536
ok $? "two volumes mounted with different id maps"
is "$(stat -c %u:%g "$MNT/c1/bin/busybox")" 100000:100000 "c1 sees the image's files as its own root"
is "$(stat -c %u:%g "$MNT/c2/bin/busybox")" 200000:200000 "c2 sees the same image as its own root"
is "$(stat -c %u "$POOL/data/containers/c1/bin/busybox")" 0 "nothing was chowned on disk"
st volume mount c1 "$MNT/c1" --uid-map 0:100000:65536
ok $? "mounting twice is harmless"
out=$(st volume mount c3 "$MNT/c3" --uid-map 0:0:65536 2>&1)
like "$out" "host root" "an id map onto host root is refused"

# A container runs from c1 with its quota enforced inside.
b=$(make_bundle q1 ".root.path = \"$MNT/c1\" | .process.args = [\"/bin/sh\", \"-c\", \"id -u; stat -c %u /bin/busybox; dd if=/dev/zero of=/fill bs=1M count=64 2>&1; sync; echo done\"]")
sbx run --bundle "$b" q1 > "$WORK/q1.out" 2>&1
diag "$(tr '\n' '|' < "$WORK/q1.out")"
is "$(sed -n 1p "$WORK/q1.out")" 0 "the container runs as its root"
is "$(sed -n 2p "$WORK/q1.out")" 0 "inside, the image's files belong to the container's root"
like "$(cat "$WORK/q1.out")" 'Disk quota exceeded|No space left' "writing past the 24 MiB quota fails inside (EDQUOT)"
used=$(st volume usage c1 | jq .exclusive)
check "$used <= 26 * 1048576 && $used >= 16 * 1048576" "c1 stopped at its quota ($((used >> 20)) MiB)"

# Its neighbours still write: c2 (same tenant) and c3 (another tenant).
b=$(make_bundle q2 ".root.path = \"$MNT/c2\" | .linux.uidMappings[0].hostID = 200000 | .linux.gidMappings[0].hostID = 200000 | .process.args = [\"/bin/sh\", \"-c\", \"dd if=/dev/zero of=/f bs=1M count=4 && sync && echo wrote\"]")
sbx run --bundle "$b" q2 > "$WORK/q2.out" 2>&1
like "$(cat "$WORK/q2.out")" wrote "a neighbour of the same tenant still writes"
dd if=/dev/zero of="$POOL/data/containers/c3/f" bs=1M count=4 status=none && sync
ok $? "a volume of another tenant still writes"

# The tenant's total binds across its volumes: 7 has c1 (~24 MiB) and c2 (4 MiB).
st tenant quota 7 34M
ok $? "tenant 7 gets a 34 MiB total"
out=$(dd if=/dev/zero of="$POOL/data/containers/c2/g" bs=1M count=16 2>&1; sync)
like "$out" 'Disk quota exceeded' "two volumes of one tenant together hit the tenant's total"
t7=$(st tenant usage 7 | jq .exclusive)
check "$t7 <= 36 * 1048576" "tenant 7 holds no more than its total ($((t7 >> 20)) MiB)"
dd if=/dev/zero of="$POOL/data/containers/c3/g" bs=1M count=8 status=none && sync
ok $? "tenant 8 is not affected by tenant 7's total"
st tenant quota 7 none && st volume quota c1 none
ok $? "quotas can be lifted"
rm -f "$POOL/data/containers/c1/fill" "$POOL/data/containers/c2/g"

# ---- snapshots ----
echo v1 > "$POOL/data/containers/c1/data.txt"
st snapshot create c1 s1
ok $? "snapshot s1 of c1"
like "$(btrfs property get -ts "$POOL/data/snapshots/c1/s1" ro)" 'ro=true' "the snapshot is read-only"
echo v2 > "$POOL/data/containers/c1/data.txt"
out=$(st snapshot restore c1 s1 2>&1)
like "$out" "mounted at" "restore is refused while the volume is mounted"
st volume unmount c1 "$MNT/c1"
ok $? "c1 unmounted"
st snapshot restore c1 s1
ok $? "restore s1"
is "$(cat "$POOL/data/containers/c1/data.txt")" v1 "the snapshot's data is back"
is "$(st volume list | jq -r '.[] | select(.id == "c1") | .snapshots | join(",")')" s1 "the volume lists its snapshot"
out=$(st snapshot create c1 s1 2>&1)
like "$out" "already has" "a duplicate snapshot name is refused"

# ---- clone of a volume ----
st volume clone c1 c4 --tenant 7
ok $? "c1 cloned to c4"
is "$(cat "$POOL/data/containers/c4/data.txt")" v1 "the clone has c1's data"
st volume mount c4 "$MNT/c4" --uid-map 0:300000:65536
is "$(stat -c %u "$MNT/c4/data.txt")" 300000 "the clone serves another id range without a chown"
st volume unmount c4 "$MNT/c4"

# ---- backups ----
tree_sum() { # owners, modes, sizes, link targets, contents and xattrs of a tree
  (cd "$1" && find . -printf '%P %U %G %m %s %l\n' | sort &&
   find . -type f -print0 | sort -z | xargs -0 -r sha256sum &&
   getfattr -R -d -m - -P . | sort) | sha256sum | cut -c1-64
}
setfattr -n user.note -v hello "$POOL/data/containers/c1/data.txt"
ln "$POOL/data/containers/c1/data.txt" "$POOL/data/containers/c1/hard.txt"
chown 1000:1000 "$POOL/data/containers/c1/hard.txt"
before=$(tree_sum "$POOL/data/containers/c1")
snap_before=$(tree_sum "$POOL/data/snapshots/c1/s1")
st backup export c1 "$WORK/c1.tar.zst" --snapshots
ok $? "c1 exported with its snapshots"
like "$(zstd -dc "$WORK/c1.tar.zst" | tar -t | head -1)" '^backup.json$' "the backup is a tar.zst that starts with backup.json"
st volume delete c1
ok $? "c1 deleted"
[ ! -e "$POOL/data/containers/c1" ] && [ ! -e "$POOL/data/snapshots/c1" ]
ok $? "its volume and snapshots are gone"
st backup import "$WORK/c1.tar.zst" --tenant 7
ok $? "the backup imports"
is "$(tree_sum "$POOL/data/containers/c1")" "$before" "the restored tree is identical (contents, owners, modes, xattrs, links)"
is "$(tree_sum "$POOL/data/snapshots/c1/s1")" "$snap_before" "its snapshot came back identical"
out=$(st backup import "$WORK/c1.tar.zst" 2>&1)
like "$out" "exists" "importing over an existing volume is refused"
st backup import - --id c5 < "$WORK/c1.tar.zst"
ok $? "a backup imports from a stream under a new id"
head -c 4096 "$WORK/c1.tar.zst" > "$WORK/cut.tar.zst"
out=$(st backup import "$WORK/cut.tar.zst" --id c6 2>&1)
ok $(( $? == 0 )) "a truncated backup is refused ($out)"
[ ! -e "$POOL/data/containers/c6" ] && [ -z "$(ls -A "$POOL/data/tmp")" ]
ok $? "and leaves nothing behind"

# ---- images in use, tarball import ----
out=$(st image delete busybox 2>&1)
like "$out" "in use by" "an image in use cannot be deleted"
tar -C "$POOL/data/images/$img" -czf "$WORK/bb.tar.gz" .
tid=$(st image import "$WORK/bb.tar.gz" --name bb | jq -r .id)
is "$tid" "$(sha256sum < "$WORK/bb.tar.gz" | cut -c1-64)" "a tarball image is named by its sha256"
is "$(st image import - < "$WORK/bb.tar.gz" | jq -r .id)" "$tid" "the same tarball from a stream is the same image"
st image delete bb
ok $? "an unused image is deleted"

# ---- the debian image: mmdebstrap from the configured Debian mirror ----
# The VM tier has no network: STORAGE_DEBIAN=0 there.
if [ "${STORAGE_DEBIAN:-1}" = 1 ] && command -v mmdebstrap >/dev/null; then
  deb=$(st image build debian bookworm 2> "$WORK/deb.err" | jq -r .id)
  like "$deb" '^[0-9a-f]{64}$' "the debian image builds ($(tail -c 300 "$WORK/deb.err"))"
  st volume create d1 debian-bookworm --tenant 9 --quota 2G && st volume mount d1 "$MNT/d1" --uid-map 0:400000:65536
  ok $? "a volume of the debian image is mounted"
  b=$(make_bundle deb ".root.path = \"$MNT/d1\" | .linux.uidMappings[0].hostID = 400000 | .linux.gidMappings[0].hostID = 400000 | .process.args = [\"/bin/bash\", \"-c\", \"cat /etc/debian_version; dpkg-query -W -f='\${Status}' dpkg; id -un\"]")
  sbx run --bundle "$b" deb > "$WORK/deb.out" 2>&1
  like "$(tr -d '\n' < "$WORK/deb.out")" '^12\.[0-9]+install ok installedroot$' "a Debian 12 container runs from it, dpkg installed, as root"
  st volume unmount d1 "$MNT/d1" && st volume delete d1 && st image delete debian-bookworm
  ok $? "the debian volume and image are removed"
else
  diag "debian image not built here (STORAGE_DEBIAN=0 or no mmdebstrap)"
fi

# ---- a big image clones in O(1) space; a crash during an import ----
big_mb=${STORAGE_BIG_MB:-400}
mkdir -p "$WORK/big"
head -c "${big_mb}M" /dev/urandom > "$WORK/big/blob"
tar -C "$WORK/big" -cf "$WORK/big.tar" .
st image import "$WORK/big.tar" --name big > /dev/null
ok $? "a ${big_mb} MiB image imports"
st volume create b1 big --tenant 7
excl=$(st volume usage b1 | jq .exclusive)
check "$excl < 1048576" "its clone holds under 1 MiB of its own, by the pool's accounting ($excl bytes)"
st volume delete b1 && st image delete big
ok $? "the big image and its clone are deleted"

echo other > "$WORK/big/other"
tar -C "$WORK/big" -cf "$WORK/big.tar" .
rm -rf "$WORK/big"
st image import "$WORK/big.tar" --name big2 > /dev/null 2>&1 &
ipid=$!
for _ in $(seq 400); do
  [ -n "$(find "$POOL/data/tmp" -name blob -size +1M 2>/dev/null)" ] && break
  sleep 0.05
done
kill -9 "$ipid" 2>/dev/null
wait "$ipid" 2>/dev/null
check "$(ls "$POOL/data/tmp" | wc -l) > 0" "an import killed midway leaves staging behind"
st pool info > /dev/null
is "$(ls -A "$POOL/data/tmp" | wc -l)" 0 "the next open removes it"
is "$(st image list | jq '[.[] | select(.name == "big2")] | length')" 0 "and there is no half image"
rm -f "$WORK/big.tar"

# ---- watermark ----
SMALL=$WORK/small
"$SBX_STORAGE" --pool "$SMALL" pool create --size 512M --watermark 50 >/dev/null
"$SBX_STORAGE" --pool "$SMALL" image build busybox >/dev/null
"$SBX_STORAGE" --pool "$SMALL" volume create w1 busybox
dd if=/dev/urandom of="$SMALL/data/containers/w1/fill" bs=1M count=300 status=none; sync
out=$("$SBX_STORAGE" --pool "$SMALL" volume create w2 busybox 2>&1)
like "$out" "watermark" "provisioning is refused above the watermark ($out)"
echo still > "$SMALL/data/containers/w1/small"
ok $? "the running volume can still write"
"$SBX_STORAGE" --pool "$SMALL" pool unmount
ok $? "the small pool unmounts"

# ---- delete and unmount ----
out=$(st volume delete c2 2>&1)
like "$out" "mounted at" "a mounted volume cannot be deleted"
st volume unmount c2 "$MNT/c2"
for v in c1 c2 c3 c4 c5; do st volume delete $v || echo "delete $v failed"; done
is "$(st volume list | jq length)" 0 "every volume is deleted"
st image delete busybox
ok $? "the image goes once nothing uses it"
st pool unmount
ok $? "the pool unmounts"
ok $(grep -c "$WORK" /proc/self/mounts) "no mount is left"

done_testing
