#!/bin/bash
# Mount-destination races through a shared volume: a container swaps a
# directory of a volume it shares with a second container for a symlink
# while the runtime sets that second container up, so a mount whose
# destination lies inside the volume lands outside the rootfs (on the host's
# filesystem, in the runtime's view).
# CVE-2021-30465 (runc): https://blog.champtar.fr/runc-symlink-CVE-2021-30465/
# Advisory: https://github.com/opencontainers/runc/security/advisories/GHSA-c3xm-pvg7-gh7r
# sbx resolves every destination with openat2(RESOLVE_IN_ROOT |
# RESOLVE_NO_MAGICLINKS) against the new root's fd (kernel filesystems with
# RESOLVE_NO_SYMLINKS), creates what is missing fd-relative, and mounts
# onto the fd it resolved (move_mount), so a swap can only redirect a mount
# to another place inside the rootfs, or make the setup fail.
. "$(dirname "$0")/escape-env.sh"
RUNS=${ESCAPE_RACE_RUNS:-40}

bait=$WORK/bait        # where an escaped mount or mkdir would land
mkdir -m 0777 "$bait"
vol=$WORK/vol          # the shared volume, the container's own
mkdir -p "$vol/a"
src=$WORK/src          # what the racing mount carries
mkdir "$src"
echo "marker-$$" > "$src/marker-$$"
chown -R 100000:100000 "$vol"
# The symlink aims at the bait both ways an attacker would: far up, and absolute.
ln -s "../../../../../../../../../../../../..$bait" "$vol/b"
ln -s "$bait" "$vol/c"
chown -h 100000:100000 "$vol/b" "$vol/c"
before=$(fingerprint "$bait")
host_mounts() { grep -c " $bait" /proc/self/mountinfo; }

bind() { echo "{\"destination\": \"$1\", \"type\": \"bind\", \"source\": \"$2\", \"options\": [\"bind\", \"${3:-rw}\"]}"; }
run_hardened esc-attacker ".mounts += [$(bind /vol "$vol")]"
ok $? "the attacking container runs, with the volume at /vol"
sbx exec esc-attacker sbx-escape swap /vol/a /vol/b 1 > "$WORK/swap0"
like "$(cat "$WORK/swap0")" "^swap [0-9]+ exchanges 0 failed" "it can swap /vol/a and the symlink /vol/b at will"
sbx exec esc-attacker sbx-escape swap /vol/a /vol/b 60 > "$WORK/swap1" 2>&1 &
racer1=$!
sbx exec esc-attacker sbx-escape swap /vol/b /vol/c 60 > "$WORK/swap2" 2>&1 &
racer2=$!
defer "kill $racer1 $racer2"

inside=0 refused=0 other=0
for i in $(seq "$RUNS"); do
  b=$(make_bundle "esc-v$i" ".mounts += [$(bind /vol "$vol"), $(bind /vol/a/sub "$src" ro)] |
    .process.args = [\"/bin/grep\", \"-c\", \" $src \", \"/proc/self/mountinfo\"]")
  # mountinfo lists only mounts reachable from the process's root: the bind
  # of src is there iff it was attached inside the rootfs.  (The racer keeps
  # renaming its directory, so looking for the file itself would miss it.)
  out=$(sbx run --bundle "$b" "esc-v$i" 2>&1)
  case "$out" in
    1) inside=$((inside + 1)) ;;
    "sbx: error"*) refused=$((refused + 1)) ;;
    *) other=$((other + 1)); diag "run $i: $out" ;;
  esac
  sbx delete --force "esc-v$i" 2>/dev/null
  rm -rf "$b"
done
kill -0 $racer1 && kill -0 $racer2
ok $? "the attacker was still swapping when the last run was set up"
sbx kill esc-attacker KILL
wait $racer1 $racer2 2>/dev/null
diag "$RUNS runs: the mount was inside the container $inside times, refused $refused times"
is "$other" 0 "every run either saw the mount inside its rootfs or was refused"
check "inside + refused == $RUNS" "all $RUNS runs accounted for"
is "$(fingerprint "$bait")" "$before" "the host directory the symlinks point at is untouched (no mkdir, no file)"
is "$(host_mounts)" 0 "nothing is mounted on it in the host's mount namespace"

# Destinations through a symlink with no race at all land inside too: the
# absolute link resolves against the container's root.
rm -rf "$vol"/*
ln -s "$bait" "$vol/b"
chown -h 100000:100000 "$vol/b"
b=$(make_bundle esc-fixed ".mounts += [$(bind /vol "$vol"), $(bind /vol/b/sub2 "$src" ro)] | .process.args = [\"/bin/cat\", \"$bait/sub2/marker-$$\"]")
like "$(sbx run --bundle "$b" esc-fixed 2>&1)" "^marker-$$$|sbx: error" "a destination through a symlink to the host's path resolves inside the rootfs"
is "$(fingerprint "$bait")" "$before" "and the host's directory is still untouched"
done_testing
