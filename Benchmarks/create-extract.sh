#!/usr/bin/env bash
# Benchmarks `ckpt create` and `ckpt extract` in one run (issue 4), on the podman#24984 workload:
#  - v2 create vs v1 create as Podman does it (two passes: the rootfs diff is tarred into rootfs-diff.tar in the
#    bundle, then the bundle is tarred; both passes with GNU tar, faster than Podman's Go archive/tar), and vs
#    `ckpt create --format v1` (which streams the nested tar without a temporary file), uncompressed and zstd;
#  - v2 create vs `tar -cf` of the same tree;
#  - extract vs `tar -xf` on the work file system (ext4 here);
#  - on a loop-mounted XFS (reflink=1): extract of an --align 4096 archive vs `tar -xf` (skipped when mounting
#    is refused);
#  - peak RSS of every ckpt run (must stay under 64 MiB).
# Neither ckpt nor tar forces data to disk by default; the "durable" line times both with an fsync.
# Usage: Benchmarks/create-extract.sh   (needs python3, GNU tar, GNU time; XFS part needs root and xfsprogs)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(pwd)/Benchmarks/work/ce
rm -rf "$work" && mkdir -p "$work"
ckpt=$(bash Benchmarks/release-build.sh ckpt)/ckpt
src=$work/src
python3 Benchmarks/gen-checkpoint.py "$src"
du -sh "$src" | sed 's/^/workload: /'
sync

warm() { # the same memory state before every measured run: write-back finished, the page cache emptied
  # (stale pages of earlier runs make the kernel reclaim while the next run writes), then the inputs read
  sync
  if [ -w /proc/sys/vm/drop_caches ]; then echo 3 > /proc/sys/vm/drop_caches; fi
  local p; for p in "$@"; do find "$p" -type f -exec cat {} + >/dev/null; done
}
t() { # t CMD PREP INPUT...: seconds of one run of CMD (best of 3) after PREP, inputs warm; output discarded
  local cmd=$1 prep=$2 best=999999 s e d; shift 2
  for _ in 1 2 3; do
    eval "$prep" >/dev/null 2>&1 || true
    warm "$@"
    s=$(date +%s.%N); eval "$cmd" >/dev/null 2>&1; e=$(date +%s.%N)
    d=$(echo "$e - $s" | bc -l); if (( $(echo "$d < $best" | bc -l) )); then best=$d; fi
  done
  printf '%.3f' "$best"
}
tfresh() { # tfresh CMD CLEANUP INPUT...: like t, but each run writes a new directory (RUN in CMD is the run
  # number), all removed only at the end: ext4 makes file creation slow right after many deletions nearby
  # (ialloc's recently-deleted scan), which would time the previous run's rm -rf rather than the tool
  local cmd=$1 cleanup=$2 best=999999 s e d i; shift 2
  for i in 1 2 3; do
    warm "$@"
    s=$(date +%s.%N); eval "${cmd//RUN/$i}" >/dev/null 2>&1; e=$(date +%s.%N)
    d=$(echo "$e - $s" | bc -l); if (( $(echo "$d < $best" | bc -l) )); then best=$d; fi
  done
  eval "$cleanup" >/dev/null 2>&1 || true
  printf '%.3f' "$best"
}
rss() { /usr/bin/time -f %M bash -c "$1 >/dev/null 2>&1" 2>&1 | tail -1; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }

# Podman's bundle: config.dump, spec.dump and checkpoint/ beside the rootfs diff (hard links: no copy).
bundle=$work/bundle
mkdir -p "$bundle"
cp -al "$src/metadata/config.dump" "$src/metadata/spec.dump" "$src/checkpoint" "$bundle/"
podman2pass() { # $1 = "" or "--zstd"
  echo "tar $1 -cf $work/pod.tar -C $bundle config.dump spec.dump checkpoint rootfs-diff.tar"
}
v2=$(t "$ckpt create --quiet $src $work/v2.tar" "rm -f $work/v2.tar" "$src")
pod=$(t "tar -cf $bundle/rootfs-diff.tar -C $src/rootfs/tree . && $(podman2pass '')" "rm -f $work/pod.tar $bundle/rootfs-diff.tar" "$src")
v1=$(t "$ckpt create --quiet --format v1 --profile podman $src $work/v1.tar" "rm -f $work/v1.tar" "$src")
tarc=$(t "tar -cf $work/plain.tar -C $src ." "rm -f $work/plain.tar" "$src")
v2z=$(t "$ckpt create --quiet --compress zstd $src $work/v2.tar.zst" "rm -f $work/v2.tar.zst" "$src")
v1z=$(t "$ckpt create --quiet --format v1 --profile podman --compress zstd $src $work/v1.tar.zst" "rm -f $work/v1.tar.zst" "$src")
podz=$(t "tar -cf $bundle/rootfs-diff.tar -C $src/rootfs/tree . && $(podman2pass --zstd)" "rm -f $work/pod.tar $bundle/rootfs-diff.tar" "$src")
echo "create uncompressed: v2 ${v2}s, v1 two-pass as Podman ${pod}s: v2 is $(ratio "$pod" "$v2")x faster (need >= 1.8x)"
echo "  ckpt v1 (nested tar streamed, no digests) ${v1}s: v2/v1 time $(ratio "$v2" "$v1")"
echo "create zstd: v2 ${v2z}s, v1 two-pass as Podman ${podz}s: v2 is $(ratio "$podz" "$v2z")x faster; ckpt v1 ${v1z}s"
echo "create vs tar -cf: v2 ${v2}s, tar -cf ${tarc}s: tar/v2 = $(ratio "$tarc" "$v2") (need >= 1.0)"
v2s=$(t "$ckpt create --quiet --fsync $src $work/v2s.tar" "rm -f $work/v2s.tar" "$src")
tarcs=$(t "tar -cf $work/plains.tar -C $src . && sync -d $work/plains.tar" "rm -f $work/plains.tar" "$src")
echo "  durable (ckpt --fsync; tar then sync -d): v2 ${v2s}s, tar ${tarcs}s: tar/v2 = $(ratio "$tarcs" "$v2s")"

ex=$(tfresh "$ckpt extract --quiet $work/v2.tar $work/x.RUN" "rm -rf $work/x.*" "$work/v2.tar")
tx=$(tfresh "mkdir -p $work/tx.RUN && tar -xf $work/plain.tar -C $work/tx.RUN" "rm -rf $work/tx.*" "$work/plain.tar")
echo "extract (ext4): ckpt ${ex}s (verifies every digest), tar -xf ${tx}s: tar/ckpt = $(ratio "$tx" "$ex") (need >= 1.0)"
echo "peak RSS KiB: create v2 $(rss "rm -f $work/r.tar; $ckpt create --quiet $src $work/r.tar"), create zstd $(rss "rm -f $work/r.zst; $ckpt create --quiet --compress zstd $src $work/r.zst"), extract $(rss "rm -rf $work/rx; $ckpt extract --quiet $work/v2.tar $work/rx") (need < 65536)"

# XFS with reflink: an aligned archive on the same file system as the destination.
img=$work/xfs.img mnt=$work/xfs
if truncate -s 12G "$img" && mkfs.xfs -q -m reflink=1 "$img" && mkdir -p "$mnt" && mount -o loop "$img" "$mnt" 2>/dev/null; then
  trap 'umount "$mnt" 2>/dev/null || true' EXIT
  "$ckpt" create --quiet --align 4096 "$src" "$mnt/aligned.tar"
  tar -cf "$mnt/plain.tar" -C "$src" .
  sync
  xr=$(tfresh "$ckpt extract --quiet $mnt/aligned.tar $mnt/x.RUN" "rm -rf $mnt/x.*; sync" "$mnt/aligned.tar")
  xt=$(tfresh "mkdir -p $mnt/tx.RUN && tar -xf $mnt/plain.tar -C $mnt/tx.RUN" "rm -rf $mnt/tx.*; sync" "$mnt/plain.tar")
  "$ckpt" extract --quiet "$mnt/aligned.tar" "$mnt/x2"
  shared=$(xfs_io -c 'fiemap -v' "$mnt/x2/rootfs/tree/data/big-00.bin" | awk 'NR>2 && $NF ~ /^0x2/ {n++} END {print n+0}')
  echo "extract (XFS, --align 4096): ckpt ${xr}s, tar -xf ${xt}s: tar/ckpt = $(ratio "$xt" "$xr"); big-00.bin has $shared shared extents"
else
  echo "extract (XFS): skipped: mkfs.xfs or mount -o loop refused here"
fi
