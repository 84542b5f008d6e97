#!/usr/bin/env bash
# Benchmarks/bounds.sh [CASE...]
#
# Resource bounds of ckpt extract (the decoder) and ckpt-validate (the validator), release builds, on hostile
# archives: each must end with a clear error or success, in bounded time and memory, leaving nothing behind on
# failure. Prints one line per run: case, command, exit status, wall seconds, peak RSS (/usr/bin/time -f %M), and
# the first line of the message. CASEs (default: all): sparse-10g, bomb-2g, pax-1tb-header, pax-1tb-size,
# deep-100k, deep-32k, deep-wide, million-v1, million-v2. The heavy ones:
#   sparse-10g  a v2 archive with one 10 GiB file whose data is a hole (its digests no longer match): validate
#               reads and hashes 10 GiB of zeros; extract writes 10 GiB to disk before finding the mismatch
#               (run under ionice -c 3; needs 10 GiB free under Benchmarks/work)
#   bomb-2g     a zstd v2 archive (ckpt create of a 2 GiB file of zeros, ~70 KB): the budget (1024 x the file
#               size, at least 1 GiB) stops it from the file; the expansion ratio stops it at once from a pipe
#   million-v1  a v1 Podman archive whose rootfs-diff.tar holds 1,000,000 empty files (zstd), extract creates them
#   million-v2  ckpt create of a directory of 1,000,000 empty files (v2, zstd; about 2 minutes to make)
# Work files go to Benchmarks/work/bounds (removed at the end unless KEEP=1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
work=$here/work/bounds
cases=("$@")
[[ ${#cases[@]} -gt 0 ]] || cases=(pax-1tb-header pax-1tb-size deep-100k deep-32k deep-wide bomb-2g sparse-10g million-v1 million-v2)
rm -rf "$work"
mkdir -p "$work"
[[ ${KEEP:-0} == 1 ]] || trap 'rm -rf "$work"' EXIT

echo "bounds: building release products" >&2
bin=$(nice -n 19 bash "$repo/Benchmarks/release-build.sh" ckpt ckpt-validate)
ckpt=$bin/ckpt validate=$bin/ckpt-validate
gen() { python3 "$here/bounds-gen.py" "$work" "$@"; }

printf '%-15s %-18s %4s %9s %10s  %s\n' case command exit seconds "peak RSS" message
# run CASE LABEL COMMAND...: times COMMAND (nice'd, idle I/O), prints the line; an extraction's destination
# ($work/out) must not exist afterwards unless it succeeded, and is removed.
run() {
  local name=$1 label=$2
  shift 2
  local t0 t1 status=0
  t0=$(date +%s.%N)
  /usr/bin/time -f %M -o "$work/rss" ionice -c 3 nice -n 19 "$@" >"$work/stdout" 2>"$work/stderr" || status=$?
  t1=$(date +%s.%N)
  local rss message
  rss=$(tail -1 "$work/rss")
  message=$( (grep -hE '^ *error CKA|^ckpt:|^ckpt-validate:' "$work/stdout" "$work/stderr"; grep -hE 'VALID' "$work/stdout") 2>/dev/null \
    | head -1 | sed 's/^ *//' | cut -c1-150 || true)
  printf '%-15s %-18s %4s %9.1f %7d MiB  %s\n' "$name" "$label" "$status" "$(echo "$t1 - $t0" | bc)" "$((rss / 1024))" "$message"
  if [[ $label == extract* ]]; then
    local left
    left=$(ls -A "$work" | grep -E '^[.]?out' | tr '\n' ' ' || true)
    if [[ -n $left && ( $status -ne 0 || $left != "out " ) ]]; then
      echo "bounds: $name: $label left something behind: $left" >&2
    fi
    rm -rf "$work/out" "$work"/.out*
  fi
}
# both NAME FILE: validate and extract from the file, then both through a pipe.
both() {
  local name=$1 file=$2
  run "$name" "validate" "$validate" --quiet "$file"
  run "$name" "extract" "$ckpt" extract --quiet "$file" "$work/out"
  run "$name" "validate (pipe)" sh -c 'cat "$1" | "$2" --quiet -' sh "$file" "$validate"
  run "$name" "extract (pipe)" sh -c 'cat "$1" | "$2" extract --quiet - "$3"' sh "$file" "$ckpt" "$work/out"
}

for c in "${cases[@]}"; do
  case "$c" in
    pax-1tb-header|pax-1tb-size|deep-100k|deep-32k|deep-wide)
      gen "$c"
      both "$c" "$work/$c.tar"
      rm -f "$work/$c.tar" ;;
    million-v1)
      gen million
      zstd -q -T0 --rm "$work/million.tar" -o "$work/million.tar.zst"
      both "$c" "$work/million.tar.zst"
      rm -f "$work/million.tar.zst" ;;
    million-v2)
      src=$work/million-src
      "$ckpt" extract --quiet "$repo/Examples/podman-checkpoint.tar.zst" "$src"
      python3 -c '
import os, sys
root = sys.argv[1] + "/rootfs/tree/many"
for d in range(1000):
    os.makedirs("%s/d%03d" % (root, d))
    for i in range(1000):
        os.close(os.open("%s/d%03d/f%06d" % (root, d, d * 1000 + i), os.O_CREAT | os.O_WRONLY, 0o644))
' "$src"
      run "$c" "create" "$ckpt" create --quiet --compress zstd "$src" "$work/million-v2.tar.zst"
      rm -rf "$src"
      both "$c" "$work/million-v2.tar.zst"
      rm -f "$work/million-v2.tar.zst" ;;
    bomb-2g)
      src=$work/bomb-src
      "$ckpt" extract --quiet "$repo/Examples/podman-checkpoint.tar.zst" "$src"
      truncate -s 2G "$src/checkpoint/pages-2.img"
      "$ckpt" create --quiet --compress zstd "$src" "$work/bomb.tar.zst"
      rm -rf "$src"
      echo "bounds: bomb-2g: $(stat -c %s "$work/bomb.tar.zst") bytes of zstd for 2 GiB of data" >&2
      both "$c" "$work/bomb.tar.zst"
      rm -f "$work/bomb.tar.zst" ;;
    sparse-10g)
      src=$work/sparse-src
      "$ckpt" extract --quiet "$repo/Examples/podman-checkpoint.tar.zst" "$src"
      : >"$src/rootfs/tree/big.bin"
      "$ckpt" create --quiet "$src" "$work/sparse-src.tar"
      rm -rf "$src"
      python3 "$here/bounds-gen.py" "$work" sparse-10g "$work/sparse-src.tar"
      rm -f "$work/sparse-src.tar"
      echo "bounds: sparse-10g: $(du -k --apparent-size "$work/sparse-10g.tar" | cut -f1) KiB apparent, $(du -k "$work/sparse-10g.tar" | cut -f1) KiB on disk" >&2
      run "$c" "validate" "$validate" --quiet "$work/sparse-10g.tar"
      run "$c" "extract" "$ckpt" extract --quiet "$work/sparse-10g.tar" "$work/out"
      rm -f "$work/sparse-10g.tar" ;;
    *) echo "bounds: unknown case $c" >&2; exit 2 ;;
  esac
done
