#!/usr/bin/env bash
# Measures decoding of archives with many tiny files (issues 4 and 7): peak RSS (/usr/bin/time %M) and wall
# time of `ckpt extract` from the archive file (kernel copies, digests on worker threads), of `ckpt extract -`
# from standard input (digests inline), of `ckpt inspect` and `ckpt inspect --json`. The decoder's per-entry
# records go to bounded spools and name tables, so peak RSS must stay under 64 MiB whatever the number of
# entries; a run over that limit is marked OVER and makes the script exit 1.
# Archives: an unpacked directory from gen-many-dir.py (N files of a few bytes, 1000 a directory), then
# `ckpt create` in each of KINDS: v2 (uncompressed), v2-zstd, v1 (Podman profile, the files in the nested
# rootfs-diff.tar). Every run extracts into a fresh directory; the extractions of one archive are removed after
# its runs (ext4 creates files slowly right after many deletions nearby: the recently-deleted inode scan).
# Usage: Benchmarks/many-entries-decode.sh [N...]   (default: 100000 1000000; needs python3, GNU time)
#        KINDS="v2 v2-zstd v1" (the default) to choose the archives; CKPT=/path/to/ckpt to measure another
#        build; WORK=/dev/shm/many to work on a tmpfs (times without the file system's own costs; the peak RSS
#        is the process's either way).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${WORK:-$(pwd)/Benchmarks/work/many}
rm -rf "$work" && mkdir -p "$work"
if [ -z "${CKPT:-}" ]; then
  CKPT=$(bash Benchmarks/release-build.sh ckpt)/ckpt
fi
# On a tmpfs (no recently-deleted scan, but memory) files are removed as soon as they have served.
tmpfs=false; [ "$(stat -f -c %T "$work")" = tmpfs ] && tmpfs=true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100000 1000000)
read -r -a kinds <<<"${KINDS:-v2 v2-zstd v1}"
limit_kib=$((64 * 1024))
over=0

measure() { # measure LABEL CMD: one run; prints "LABEL: Xs, peak RSS Y MiB" (OVER past 64 MiB, FAILED on an error)
  local out status=0
  out=$( { /usr/bin/time -f '%e %M %x' bash -c "$2 >/dev/null" ; } 2>&1 | tail -1) || true
  read -r secs kib status <<<"$out"
  local note=""
  [ "$kib" -lt "$limit_kib" ] || { note="  OVER"; over=1; }
  [ "$status" = 0 ] || { note="$note  FAILED (exit $status)"; over=1; }
  printf '  %-30s %8.2fs  peak RSS %6.1f MiB%s\n' "$1:" "$secs" "$(echo "scale=1; $kib / 1024" | bc -l)" "$note"
}

archive_of() { # archive_of N KIND: the archive's path
  case $2 in
    v2) echo "$work/many-$1.tar" ;;
    v2-zstd) echo "$work/many-$1.tar.zst" ;;
    v1) echo "$work/many-$1-v1.tar" ;;
    *) echo "unknown kind $2" >&2; exit 2 ;;
  esac
}

for n in "${counts[@]}"; do
  src=$work/src-$n
  python3 Benchmarks/gen-many-dir.py "$src" "$n"
  for kind in "${kinds[@]}"; do
    case $kind in
      v2) options=() ;;
      v2-zstd) options=(--compress zstd) ;;
      v1) options=(--format v1 --profile podman) ;;
    esac
    "$CKPT" create --quiet "${options[@]}" "$src" "$(archive_of "$n" "$kind")"
  done
  # On a tmpfs (no recently-deleted scan, but memory) the source goes now and each extraction once measured.
  $tmpfs && rm -rf "$src"
  sync
  for kind in "${kinds[@]}"; do
    archive=$(archive_of "$n" "$kind")
    echo "$n files, $kind: archive $(stat -c %s "$archive") bytes"
    x=$work/x-$n-$kind
    measure "ckpt extract FILE" "$CKPT extract --quiet $archive $x-file"
    find "$x-file" -type f | wc -l | sed 's/^/  files extracted: /'
    $tmpfs && rm -rf "$x-file"
    measure "ckpt extract - (stdin)" "$CKPT extract --quiet - $x-stdin < $archive"
    $tmpfs && rm -rf "$x-stdin"
    measure "ckpt inspect" "$CKPT inspect $archive"
    measure "ckpt inspect --json" "$CKPT inspect --json $archive"
    measure "ckpt inspect - (stdin)" "$CKPT inspect - < $archive"
    rm -rf "$x-file" "$x-stdin" "$archive"
  done
  rm -rf "$src"
done
rm -rf "$work"
exit $over
