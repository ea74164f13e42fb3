#!/bin/bash
# Writing to another container's files through a shared image: two
# containers cloned from one image share its blocks (a btrfs snapshot) or its
# lower directory (overlayfs), each seen through its own idmapped mount.  A
# write in one, an overwrite of an image file (copy-up), a delete (whiteout),
# a chmod or chown, must never show in the other container nor in the image.
# Class: copy-on-write sharing across tenants, e.g. the overlayfs copy-up
# bugs CVE-2021-3847 (https://www.openwall.com/lists/oss-security/2021/10/14/3)
# and CVE-2023-0386 (https://securitylabs.datadoghq.com/articles/overlayfs-cve-2023-0386/).
# Sandhost: each volume is its own writable snapshot (btrfs) or its own upper
# (overlay) over a read-only image; the idmap is a property of the mount, so
# nothing is chowned and the image's files stay container-id 0 on disk.
. "$(dirname "$0")/escape-env.sh"
: "${SBX_STORAGE:?set SBX_STORAGE to the sbx-storage binary}"
for t in mkfs.btrfs mkfs.ext4; do command -v $t >/dev/null || skip_all "$t is missing (scripts/setup.sh installs it)"; done
[ -e /dev/loop-control ] || modprobe loop 2>/dev/null
defer "grep -o \"$WORK/[^ ]*\" /proc/self/mounts | sort -r | xargs -r -n1 umount -l"

# What A does to its view of the image: overwrite, append, create, delete,
# chmod, chown, a hard link to an image file, and a write through it.
attack='echo owned > /etc/hosts; echo "evil:x:0:0::/:/bin/sh" >> /etc/passwd; echo new > /etc/created;
rm /etc/group; chmod 4777 /bin/busybox; chown 1:1 /etc/passwd; ln /etc/passwd /passwd.lnk; echo more >> /passwd.lnk;
cat /etc/hosts'
# What B reports of the same files.
look='cat /etc/hosts; md5sum /etc/passwd | cut -d" " -f1; ls /etc/created /passwd.lnk 2>&1 | wc -l; cat /etc/group | head -1;
stat -c "%a %u" /bin/busybox /etc/passwd'

for driver in btrfs overlay; do
  P=$WORK/$driver
  st() { "$SBX_STORAGE" --pool "$P/pool" "$@"; }
  mkdir -p "$P"
  if [ $driver = btrfs ]; then
    st pool create --size 1G > /dev/null 2>&1
    ok $? "$driver: a loop-backed pool"
    images=$P/pool/data/images
  else
    truncate -s 512M "$P/ext4.img" && mkfs.ext4 -q "$P/ext4.img" && mkdir "$P/fs" && mount -o loop "$P/ext4.img" "$P/fs" &&
      st pool create --driver overlay --source "$P/fs" > /dev/null 2>&1
    ok $? "$driver: an overlay pool on ext4"
    images=$P/fs/images
  fi
  img=$(st image build busybox | jq -r .id)
  image_before=$(fingerprint "$images/$img")
  st volume create a busybox --tenant 1 && st volume create b busybox --tenant 2 &&
    st volume mount a "$P/a" --uid-map 0:100000:65536 && st volume mount b "$P/b" --uid-map 0:200000:65536
  ok $? "$driver: volumes a (ids 100000) and b (ids 200000) from one image"
  bundle() { # bundle NAME ROOT HOSTID
    local d
    d=$(make_bundle "esc-$driver-$1" ".root.path = \"$2\" | .linux.uidMappings[0].hostID = $3 | .linux.gidMappings[0].hostID = $3")
    echo "$d"
  }
  b=$(bundle look0 "$P/b" 200000)
  jq --arg c "$look" '.process.args = ["/bin/sh", "-c", $c]' "$b/config.json" > "$b/c" && mv "$b/c" "$b/config.json"
  before_b=$(sbx run --bundle "$b" "esc-$driver-look0" 2>&1)
  a=$(bundle attack "$P/a" 100000)
  jq --arg c "$attack" '.process.args = ["/bin/sh", "-c", $c]' "$a/config.json" > "$a/c" && mv "$a/c" "$a/config.json"
  is "$(sbx run --bundle "$a" "esc-$driver-attack" 2>&1 | tail -1)" owned "$driver: A overwrote the image's /etc/hosts in its own view"
  b=$(bundle look1 "$P/b" 200000)
  jq --arg c "$look" '.process.args = ["/bin/sh", "-c", $c]' "$b/config.json" > "$b/c" && mv "$b/c" "$b/config.json"
  after_b=$(sbx run --bundle "$b" "esc-$driver-look1" 2>&1)
  is "$after_b" "$before_b" "$driver: B sees every file as before A's writes"
  like "$after_b" "^127.0.0.1 localhost" "$driver: (B's /etc/hosts is the image's)"
  is "$(fingerprint "$images/$img")" "$image_before" "$driver: the image is unchanged (contents, modes, sizes)"
  is "$(stat -c '%u %a' "$images/$img/etc/passwd" "$images/$img/bin/busybox" | tr '\n' ' ')" "0 644 0 755 " \
    "$driver: the image's files keep container id 0 and their modes on disk"
  is "$(stat -c %u "$P/a/etc/passwd")" 100001 "$driver: A's chown stayed in A's view (host id 100001)"
  st volume unmount a 2>/dev/null; st volume unmount b 2>/dev/null
  umount -l "$P/a" "$P/b" 2>/dev/null
done
done_testing
