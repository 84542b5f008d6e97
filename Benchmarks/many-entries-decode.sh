#!/usr/bin/env bash
# Measures v2 decoding of archives with many tiny files (issues 4 and 7): peak RSS (/usr/bin/time %M) and wall
# time of `ckpt extract` from the archive file (kernel copies, digests on worker threads), of `ckpt extract -`
# from standard input (digests inline), and of `ckpt inspect`. The decoder's per-entry records go to bounded
# spools and name tables, so peak RSS must stay under 64 MiB whatever the number of entries.
# Archives: an unpacked directory from gen-many-dir.py (N files of a few bytes, 1000 a directory), then
# `ckpt create`. Every run extracts into a fresh directory; all are removed at the end of each size, after the
# runs (ext4 creates files slowly right after many deletions nearby: the recently-deleted inode scan).
# Usage: Benchmarks/many-entries-decode.sh [N...]   (default: 100000 1000000; needs python3, GNU time)
#        CKPT=/path/to/ckpt to measure another build; WORK=/dev/shm/many to work on a tmpfs (times without the
#        file system's own costs; the peak RSS is the process's either way).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${WORK:-$(pwd)/Benchmarks/work/many}
rm -rf "$work" && mkdir -p "$work"
if [ -z "${CKPT:-}" ]; then
  swift build -c release --product ckpt >/dev/null
  CKPT=$(swift build -c release --show-bin-path)/ckpt
fi
# On a tmpfs (no recently-deleted scan, but memory) extractions are removed as soon as they are measured.
tmpfs=false; [ "$(stat -f -c %T "$work")" = tmpfs ] && tmpfs=true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100000 1000000)

measure() { # measure LABEL CMD: one run; prints "LABEL: Xs, peak RSS Y MiB"
  local out
  out=$( { /usr/bin/time -f '%e %M' bash -c "$2 >/dev/null" ; } 2>&1 | tail -1)
  read -r secs kib <<<"$out"
  printf '  %-28s %8.2fs  peak RSS %6.1f MiB\n' "$1:" "$secs" "$(echo "scale=1; $kib / 1024" | bc -l)"
}

for n in "${counts[@]}"; do
  src=$work/src-$n
  archive=$work/many-$n.tar
  python3 Benchmarks/gen-many-dir.py "$src" "$n"
  "$CKPT" create --quiet "$src" "$archive"
  sync
  echo "$n files: archive $(stat -c %s "$archive") bytes"
  measure "ckpt extract FILE" "$CKPT extract --quiet $archive $work/x-$n-file"
  find "$work/x-$n-file" -type f | wc -l | sed 's/^/  files extracted: /'
  $tmpfs && rm -rf "$work/x-$n-file"
  measure "ckpt extract - (stdin)" "$CKPT extract --quiet - $work/x-$n-stdin < $archive"
  $tmpfs && rm -rf "$work/x-$n-stdin"
  measure "ckpt inspect" "$CKPT inspect $archive"
  rm -rf "$src" "$work/x-$n-file" "$work/x-$n-stdin" "$archive"
done
rm -rf "$work"
