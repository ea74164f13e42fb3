#!/bin/bash
# Image imports from archives: a normal tree keeps what an image needs, every
# hostile case of docs/storage.md is refused or neutralised with nothing
# written outside, and OCI layouts import with their layers, whiteouts and
# digests checked.  Archives are made by mkarchives.py at test time.
. "$(dirname "$0")/../lib/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
: "${SBX_STORAGE:?set SBX_STORAGE to the sbx-storage binary}"
: "${SANDHOST_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
for t in mkfs.btrfs getfattr setfattr zstd jq python3; do
  command -v $t >/dev/null || { echo "Bail out! $t is missing (scripts/setup.sh installs it)"; exit 1; }
done
[ -e /dev/loop-control ] || modprobe loop 2>/dev/null

WORK=$(mktemp -d /tmp/sbx-archive.XXXXXX)
defer "rm -rf '$WORK'"
defer "grep -o \"$WORK/[^ ]*\" /proc/self/mounts | sort -r | xargs -r -n1 umount -l"
POOL=$WORK/pool A=$WORK/archives OUT=$WORK/outside
mkdir -p "$OUT"
st() { "$SBX_STORAGE" --pool "$POOL" "$@"; }
python3 "$SANDHOST_SRC/tests/integration/mkarchives.py" "$A" "$OUT" || { echo "Bail out! mkarchives.py failed"; exit 1; }
zstd -q "$A/good.tar" -o "$A/good.tar.zst"
st pool create --size 1G >/dev/null || { echo "Bail out! no pool"; exit 1; }
D=$POOL/data/images

# ---- a normal tree, in every compression ----
id=$(st image import "$A/good.tar" --name good | jq -r .id)
like "$id" '^[0-9a-f]{64}$' "a plain tar imports"
I=$D/$id
is "$(stat -c '%a %u:%g' "$I/bin/su")" "4755 0:0" "setuid root is kept, with the container's ids"
is "$(stat -c '%a %g' "$I/bin/wall")" "2755 5" "setgid is kept"
is "$(stat -c '%a %u:%g' "$I/home/user")" "700 1000:1000" "owners and modes of directories are kept"
is "$(stat -c '%a' "$I/tmp")" 1777 "the sticky bit is kept"
is "$(getfattr -n user.test --only-values "$I/etc/tagged" 2>/dev/null)" hello "user xattrs are kept"
getfattr -n security.capability "$I/bin/ping" >/dev/null 2>&1
ok $? "file capabilities (security.capability) are kept"
is "$(stat -c %i "$I/etc/hard")" "$(stat -c %i "$I/etc/hostname")" "a hardlink is a hardlink"
is "$(readlink "$I/etc/abs-link")" /etc/hostname "an absolute symlink is kept as it is"
is "$(readlink "$I/etc/rel-link")" ../etc/hostname "a relative symlink inside the tree is kept"
is "$(stat -c %F "$I/run/fifo")" fifo "fifos are kept"
is "$(stat -c %Y "$I/etc/hostname")" 1700000000 "mtimes are kept"
is "$(stat -c %Y "$I/etc")" 1700000000 "directory mtimes survive their children"
for ext in tar.gz tar.xz tar.bz2 tar.zst; do
  out=$(st image import "$A/good.$ext" --name "good-$ext" 2>&1)
  ok $? "a .$ext imports ($(echo "$out" | jq -r .id 2>/dev/null | cut -c1-12))"
  cmp -s "$D/$(echo "$out" | jq -r .id)/bin/su" "$I/bin/su"
  ok $? "  to the same content"
done

# ---- hostile archives ----
refuse() { # FILE REGEX DESCRIPTION
  local out rc
  out=$(st image import "$A/$1" 2>&1); rc=$?
  ok $(( rc == 0 )) "$3: refused"
  like "$out" "$2" "  saying why ($(echo "$out" | cut -c1-150))"
  is "$(ls -A "$POOL/data/tmp" | wc -l)" 0 "  and nothing is left in staging"
}
n_images=$(st image list | jq length)
refuse dotdot.tar "'\.\.' component" "a '..' path"
refuse symlink-escape.tar "above the root" "a relative symlink that climbs out of the tree"
refuse hardlink-abs.tar "not an earlier entry" "a hardlink to /etc/passwd"
refuse hardlink-dotdot.tar "'\.\.' component" "a hardlink to ../x"
refuse through-symlink.tar "symlink or not a directory: not followed" "a file written through a symlink to a host directory"
is "$(ls -A "$OUT" | wc -l)" 0 "the host directory the symlink pointed at is untouched"
refuse long-name.tar "name of 300 bytes" "a 300-byte name"
refuse long-path.tar "path of [0-9]+ bytes" "a path over 4095 bytes"
refuse duplicate.tar "duplicate" "a duplicate entry"
refuse bomb-declared.tar "decompression-bomb" "a file that declares 20 GiB"
out=$(st image import "$A/bomb-small.tar.gz" --max-bytes 1M 2>&1)
like "$out" "decompression-bomb" "with a 1 MiB limit, 2 MiB of zeros (a few KiB of gzip) are refused"
is "$(st image list | jq length)" "$n_images" "no refused archive left an image"
[ ! -e /escaped ] && [ ! -e "$POOL/escaped" ] && [ ! -e "$POOL/data/escaped" ]
ok $? "nothing was written outside"

aid=$(st image import "$A/abs.tar" | jq -r .id)
is "$(cat "$D/$aid/etc/abs")" stripped "an absolute path is stripped to the tree"
did=$(st image import "$A/device.tar" | jq -r .id)
[ -d "$D/$did/dev" ] && [ -z "$(ls -A "$D/$did/dev")" ]
ok $? "device nodes are dropped (the runtime makes /dev)"

# ---- OCI layouts ----
out=$(st image import-oci "$A/oci" --ref v1 2>&1)
oid=$(echo "$out" | jq -r .id)
is "$oid" "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v1") | .digest' "$A/oci/index.json" | cut -d: -f2)" \
  "an OCI image is named by its manifest digest ($out)"
O=$D/$oid
is "$(cat "$O/etc/kept")" v2 "a later layer replaces a file"
[ ! -e "$O/etc/gone" ]
ok $? "a whiteout removes a file of an earlier layer"
is "$(ls -A "$O/opq" | tr '\n' ' ')" "new " "an opaque directory holds only the last layer's children"
is "$(cat "$O/usr/tool")" t "files of every layer are there"
[ -z "$(find "$O" -name '.wh.*')" ]
ok $? "no whiteout file is left in the tree"
is "$(st image list | jq -r --arg i "$oid" '.[] | select(.id == $i) | .architecture')" amd64 "the architecture comes from the image config"
tid=$(st image import-oci "$A/oci.tar" --ref v1 | jq -r .id)
is "$tid" "$oid" "the same layout as a tar archive imports to the same image"
out=$(st image import-oci "$A/oci" --ref nope 2>&1)
like "$out" "available: v1, base" "an unknown ref is refused, listing the refs there are"
out=$(st image import-oci "$A/oci" 2>&1)
like "$out" "give a ref" "two manifests and no ref: refused"
mid=$(st image import-oci "$A/oci-multi" | jq -r .id)
is "$(cat "$D/$mid/etc/arch")" amd64 "an image index with two platforms gives this machine's"
out=$(st image import-oci "$A/oci-bad" 2>&1)
like "$out" "digest mismatch" "a layer with a flipped byte is refused"
out=$(st image import-oci "$A/oci-size" 2>&1)
like "$out" "size [0-9]+ where" "a manifest whose size is wrong is refused"
is "$(ls -A "$POOL/data/tmp" | wc -l)" 0 "refused OCI imports leave nothing in staging"

st pool unmount
ok $? "the pool unmounts"
done_testing
