#!/bin/bash
# The overlay pool driver end to end, on an ext4 loop filesystem the test
# makes: the image as an idmapped lower shared by every container, writes
# from inside a container landing in its upper with its own host ids,
# whiteouts, snapshots and restore, clones and moves to a new id range (the
# shifted copy, with its cost reported), backups through the merged view and
# across drivers, crash leftovers, and project quotas where the kernel has
# them (the VM tier) or a clear refusal where it has not (this host's kernel
# lacks ext4 quota support).
. "$(dirname "$0")/../lib/sbx-env.sh"
: "${SBX_STORAGE:?set SBX_STORAGE to the sbx-storage binary}"
for t in mkfs.ext4 mkfs.btrfs getfattr setfattr zstd jq; do
  command -v $t >/dev/null || { echo "Bail out! $t is missing (scripts/setup.sh installs it)"; exit 1; }
done
[ -e /dev/loop-control ] || modprobe loop 2>/dev/null
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null
grep -qw btrfs /proc/filesystems || modprobe btrfs 2>/dev/null

FS=$WORK/fs POOL=$WORK/pool MNT=$WORK/mnt
st() { "$SBX_STORAGE" --pool "$POOL" "$@"; }
# Mounts under $WORK go deepest first; the loop devices are autoclear.
defer "grep -o \"$WORK/[^ ]*\" /proc/self/mounts | sort -r | xargs -r -n1 umount -l"

# ext4 with project quotas where the kernel can mount it so, else plain ext4.
truncate -s 1G "$WORK/ext4.img"
mkdir -p "$FS"
if mkfs.ext4 -q -O quota,project "$WORK/ext4.img" && mount -o loop,prjquota "$WORK/ext4.img" "$FS" 2>/dev/null; then
  quotas=1
else
  mkfs.ext4 -q -F "$WORK/ext4.img" && mount -o loop "$WORK/ext4.img" "$FS"
  ok $? "an ext4 filesystem without quotas is mounted (the kernel cannot mount project quotas)"
  quotas=0
fi
diag "project quotas: $quotas"

out=$("$SBX_STORAGE" --pool "$POOL" pool create --driver overlay 2>&1)
like "$out" "source.*directory" "an overlay pool without a directory is refused, naming --source"
mkdir -p "$WORK/bad,dir"
out=$("$SBX_STORAGE" --pool "$WORK/p2" pool create --driver overlay --source "$WORK/bad,dir" 2>&1)
like "$out" "must not hold" "a directory overlayfs cannot name is refused"
st pool create --driver overlay --source "$FS"
ok $? "an overlay pool is created on the ext4 directory"
is "$(st pool info | jq -r .driver)" overlay "pool info names the driver"
is "$(st pool info | jq -r .quota_mode)" "$([ $quotas = 1 ] && echo project || echo none)" "the quota mode matches the filesystem"
is "$(stat -c %a "$FS")" 700 "the data directory is root's alone"

img=$(st image build busybox | jq -r .id)
like "$img" '^[0-9a-f]{64}$' "the busybox image builds into a plain tree"
is "$(stat -c %u "$FS/images/$img/bin/busybox")" 0 "image files are stored with container ids"

# ---- quotas, or their refusal ----
if [ $quotas = 1 ]; then
  st volume create c1 busybox --tenant 7 --quota 24M
  ok $? "a volume with a 24 MiB project quota"
  pid=$(lsattr -pd "$FS/containers/c1" | awk '{print $1}')
  check "$pid >= 100000" "the volume has its own project id ($pid)"
else
  out=$(st volume create c1 busybox --tenant 7 --quota 24M 2>&1)
  like "$out" "no project quotas.*prjquota" "a quota request without project quotas is a clear error"
  [ ! -e "$FS/containers/c1" ] && [ ! -e "$FS/containers/c1.json" ]
  ok $? "and leaves no half volume"
  st volume create c1 busybox --tenant 7
  ok $? "the volume without a quota"
fi
out=$(st tenant quota 7 100M 2>&1)
like "$out" "cannot enforce a tenant's total.*btrfs" "a tenant total on overlay is refused, pointing to btrfs"
st volume create c2 busybox --tenant 7
ok $? "a second volume"
excl=$(st volume usage c2 | jq .exclusive)
check "$excl < 65536" "a new volume holds almost nothing of its own ($excl bytes)"

# ---- one image, two id ranges, writes from inside ----
st volume mount c1 "$MNT/c1" --uid-map 0:100000:65536 && st volume mount c2 "$MNT/c2" --uid-map 0:200000:65536
ok $? "two volumes mounted with different id maps"
is "$(stat -c %u:%g "$MNT/c1/bin/busybox")" 100000:100000 "c1 sees the image as its own root's"
is "$(stat -c %u:%g "$MNT/c2/bin/busybox")" 200000:200000 "c2 sees the same image as its own root's"
is "$(stat -c %u "$FS/images/$img/bin/busybox")" 0 "the image was not chowned"
like "$(grep " $MNT/c1 " /proc/self/mounts)" 'overlay .*nodev' "the rootfs is an overlay mounted nodev"
st volume mount c1 "$MNT/c1" --uid-map 0:100000:65536
ok $? "mounting twice is harmless"

fill=$([ $quotas = 1 ] && echo "dd if=/dev/zero of=/fill bs=1M count=64 2>&1; sync;" || echo "")
b=$(make_bundle w1 ".root.path = \"$MNT/c1\" | .process.args = [\"/bin/sh\", \"-c\", \"id -u; echo hi > /etc/motd; mkdir -p /home/u; chown 1000:1000 /home/u; rm /etc/passwd; ls /etc/passwd 2>&1; $fill echo done\"]")
sbx run --bundle "$b" w1 > "$WORK/w1.out" 2>&1
diag "$(tr '\n' '|' < "$WORK/w1.out")"
is "$(sed -n 1p "$WORK/w1.out")" 0 "the container runs as its root"
like "$(cat "$WORK/w1.out")" "passwd: No such file" "a deleted image file is gone inside"
is "$(stat -c %u "$FS/containers/c1/upper/etc/motd")" 100000 "a new file lands in the upper with the container's host id"
is "$(stat -c %u:%g "$FS/containers/c1/upper/home/u")" 101000:101000 "a chown inside stays in the container's range"
is "$(stat -c %t:%T "$FS/containers/c1/upper/etc/passwd")" 0:0 "the deletion is a whiteout in the upper"
[ -e "$FS/images/$img/etc/passwd" ]
ok $? "the image itself is untouched"
if [ $quotas = 1 ]; then
  like "$(cat "$WORK/w1.out")" 'Disk quota exceeded|No space left' "writing past the 24 MiB quota fails inside"
  used=$(st volume usage c1 | jq .exclusive)
  check "$used <= 26 * 1048576 && $used >= 16 * 1048576" "c1 stopped at its quota ($((used >> 20)) MiB)"
  b=$(make_bundle w2 ".root.path = \"$MNT/c2\" | .linux.uidMappings[0].hostID = 200000 | .linux.gidMappings[0].hostID = 200000 | .process.args = [\"/bin/sh\", \"-c\", \"dd if=/dev/zero of=/f bs=1M count=4 && sync && echo wrote\"]")
  sbx run --bundle "$b" w2 > "$WORK/w2.out" 2>&1
  like "$(cat "$WORK/w2.out")" wrote "its neighbour still writes"
  st volume quota c1 none
  ok $? "the quota is lifted"
  rm -f "$MNT/c1/fill"
fi
t7=$(st tenant usage 7 | jq .exclusive)
c1u=$(st volume usage c1 | jq .exclusive)
check "$t7 >= $c1u" "tenant usage sums its volumes ($t7 bytes)"

# ---- snapshots and restore ----
# Files written here from the host belong to the container's root, as if it wrote them.
put() { echo "$2" > "$1" && chown 100000:100000 "$1"; }
put "$MNT/c1/data.txt" v1
st snapshot create c1 s1
ok $? "snapshot s1 of a mounted volume"
is "$(cat "$FS/snapshots/c1/s1/upper/data.txt")" v1 "the snapshot holds the upper's state"
put "$MNT/c1/data.txt" v2
out=$(st snapshot restore c1 s1 2>&1)
like "$out" "mounted at" "restore is refused while mounted"
st volume unmount c1 "$MNT/c1"
ok $? "c1 unmounted"
st snapshot restore c1 s1 && st volume mount c1 "$MNT/c1" --uid-map 0:100000:65536
ok $? "s1 restored and c1 mounted again"
is "$(cat "$MNT/c1/data.txt")" v1 "the snapshot's data is back"
[ ! -e "$MNT/c1/etc/passwd" ] && [ "$(cat "$MNT/c1/etc/motd")" = hi ]
ok $? "with its whiteout and its other changes"

# ---- clone and a move to another id range: the shifted copy ----
st volume clone c1 c3 --tenant 8
ok $? "c1 cloned to c3"
st volume mount c3 "$MNT/c3" --uid-map 0:300000:65536 2> "$WORK/shift.err"
ok $? "the clone mounts in another range"
diag "$(cat "$WORK/shift.err")"
is "$(stat -c %u "$MNT/c3/data.txt")" 300000 "its files show as the new range's root"
is "$(stat -c %u "$FS/containers/c3/upper/data.txt")" 300000 "the upper now holds the new range's ids"
is "$(stat -c %u:%g "$MNT/c3/home/u")" 301000:301000 "a non-root owner keeps its place in the range"
is "$(stat -c %u "$MNT/c3/bin/busybox")" 300000 "the shared image follows through the idmap"
[ ! -e "$MNT/c3/etc/passwd" ]
ok $? "the whiteout came with the clone"
n=$(st volume list | jq '.[] | select(.id == "c3") | .last_shift.entries')
check "${n:-0} > 3" "the move's cost is recorded ($n entries, $(st volume list | jq '.[] | select(.id == "c3") | .last_shift.ms') ms)"
like "$(cat "$WORK/shift.err")" "moved to a new id range" "and reported when it happens"
is "$(stat -c %u "$MNT/c1/data.txt")" 100000 "the original keeps its own range"
[ -z "$(ls -A "$FS/containers" | grep '^\.')" ]
ok $? "no side tree is left in containers/"

# ---- backups: the merged tree in container ids, portable to btrfs ----
tree_sum() { # owners, modes, sizes, link targets and contents of a tree (not directory sizes: they differ between filesystems)
  (cd "$1" && find . -xdev \( -type d -printf '%P %U %G %m dir\n' \) -o -printf '%P %U %G %m %s %l\n' | sort &&
   find . -xdev -type f -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum | cut -c1-64
}
setfattr -n user.note -v hello "$MNT/c1/data.txt"
before=$(tree_sum "$MNT/c1")
st backup export c1 "$WORK/c1.tar.zst" --snapshots
ok $? "c1 exported with its snapshot"
zstd -dc "$WORK/c1.tar.zst" | tar -tv > "$WORK/list"
like "$(grep ' rootfs/bin/busybox$' "$WORK/list")" '^-.* 0/0 ' "the backup holds the merged tree in container ids"
ok $(grep -c ' rootfs/etc/passwd$' "$WORK/list") "deleted files are not in the backup"
like "$(grep ' rootfs/home/u/$' "$WORK/list")" ' 1000/1000 ' "non-root owners are in container ids"
ok $(grep -c -E 'upper|work|layer.json' "$WORK/list") "nothing of the driver's layout leaks into the backup"
st backup import "$WORK/c1.tar.zst" --id c4 --tenant 7 && st volume mount c4 "$MNT/c4" --uid-map 0:100000:65536
ok $? "the backup imports as c4 and mounts"
is "$(tree_sum "$MNT/c4")" "$before" "c4 looks exactly as c1 did (contents, owners, modes, links)"
is "$(getfattr --only-values -n user.note "$MNT/c4/data.txt" 2>/dev/null)" hello "xattrs came along"
is "$(st volume list | jq -r '.[] | select(.id == "c4") | .snapshots | join(",")')" s1 "and so did the snapshot"
BT=$WORK/btpool
"$SBX_STORAGE" --pool "$BT" pool create --size 512M >/dev/null &&
  "$SBX_STORAGE" --pool "$BT" backup import "$WORK/c1.tar.zst" --id x1 &&
  "$SBX_STORAGE" --pool "$BT" volume mount x1 "$MNT/x1" --uid-map 0:100000:65536
ok $? "the overlay backup imports into a btrfs pool"
is "$(tree_sum "$MNT/x1")" "$before" "and the btrfs volume looks the same"
"$SBX_STORAGE" --pool "$BT" volume unmount x1 "$MNT/x1"
"$SBX_STORAGE" --pool "$BT" backup export x1 "$WORK/x1.tar.zst" && st backup import "$WORK/x1.tar.zst" --id c5 &&
  st volume mount c5 "$MNT/c5" --uid-map 0:100000:65536
ok $? "and a btrfs backup comes back into the overlay pool"
is "$(tree_sum "$MNT/c5")" "$before" "unchanged"
"$SBX_STORAGE" --pool "$BT" volume delete x1 && "$SBX_STORAGE" --pool "$BT" pool unmount
head -c 4096 "$WORK/c1.tar.zst" > "$WORK/cut.tar.zst"
out=$(st backup import "$WORK/cut.tar.zst" --id c6 2>&1)
ok $(( $? == 0 )) "a truncated backup is refused"
[ ! -e "$FS/containers/c6" ] && [ -z "$(ls -A "$FS/tmp")" ]
ok $? "and leaves nothing behind"

# ---- rebuild: a fresh tree from the image in place of the volume ----
like "$(st volume rebuild c4 busybox 2>&1)" "mounted at" "rebuild is refused while mounted"
st volume unmount c4 "$MNT/c4"
st volume rebuild c4 && st volume mount c4 "$MNT/c4" --uid-map 0:100000:65536
ok $? "c4 rebuilt from the image it came from (its backup named it) and mounted again"
[ ! -e "$MNT/c4/data.txt" ] && [ ! -e "$MNT/c4/home/u" ] && [ -e "$MNT/c4/etc/passwd" ]
ok $? "the image's files are back, the volume's own are gone"
is "$(stat -c %u "$MNT/c4/bin/busybox")" 100000 "seen in the volume's range"
is "$(st volume list | jq -r '.[] | select(.id == "c4") | .origin + " " + (.snapshots | join(","))')" "image:$img s1" \
  "the volume now comes from the image, and keeps its snapshot"
[ -z "$(ls -A "$FS/containers" | grep '^\.')" ]
ok $? "no side tree is left"

# ---- crash leftovers, image in use ----
mkdir -p "$FS/containers/.c2.shift/upper" "$FS/tmp/export-dead"
st pool info >/dev/null
[ ! -e "$FS/containers/.c2.shift" ] && [ -z "$(ls -A "$FS/tmp")" ]
ok $? "an interrupted shift and staging are removed at the next open"
out=$(st image delete busybox 2>&1)
like "$out" "in use by" "an image that is a lower layer cannot be deleted"

# ---- delete ----
out=$(st volume delete c2 2>&1)
like "$out" "mounted at" "a mounted volume cannot be deleted"
for v in c1 c2 c3 c4 c5; do
  if mountpoint -q "$MNT/$v"; then st volume unmount $v "$MNT/$v"; fi
  st volume delete $v || echo "# delete $v failed"
done
is "$(st volume list | jq length)" 0 "every volume is deleted"
[ -z "$(ls -A "$FS/containers")" ] && [ -z "$(ls -A "$FS/snapshots")" ]
ok $? "their uppers and snapshots are gone"
st image delete busybox
ok $? "the image goes once nothing uses it"
ok $(grep -c " $MNT/" /proc/self/mounts) "no container mount is left"

done_testing
