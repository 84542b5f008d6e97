#!/usr/bin/env bash
# Peak memory of `ckpt-validate` as the number of entries grows (issue 5: "peak memory < 64 MiB for any size").
# For each N (default 100000 and 1000000) it writes, with Benchmarks/gen-many.py, a v2 archive and a Podman v1
# archive whose rootfs diff holds N tiny files, and reports peak RSS (/usr/bin/time %M) and wall-clock time of
#  - v2 with digests, v2 --no-digests, v2 from standard input, v2 zstd-compressed from standard input;
#  - v1 (Podman, the files in rootfs-diff.tar).
# Every run must say VALID (the generators write valid archives) and stay below 65536 KiB.
# Usage: Benchmarks/validate-many.sh [N...]   (needs python3, zstd, GNU time; about 2.5 GB of disk for 1M)
# The archives are deleted afterwards unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(pwd)/Benchmarks/work/many
mkdir -p "$work"
bin=$(bash Benchmarks/release-build.sh ckpt ckpt-validate)
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
fail=0

run() { # label, command (a shell command line); prints RSS and time, checks the verdict and the limit
  local label=$1 cmd=$2 out
  out=$( { /usr/bin/time -f "%M %e" bash -c "$cmd" > "$work/out.txt"; } 2>&1 | tail -1) || true
  local rss=${out% *} secs=${out#* }
  local verdict
  verdict=$(tail -1 "$work/out.txt")
  printf '  %-34s %8s KiB %8s s   %s\n' "$label" "$rss" "$secs" "$verdict"
  if [ "$rss" -ge 65536 ]; then echo "  ^ over 64 MiB"; fail=1; fi
  case "$verdict" in *"1 valid"*) ;; *) echo "  ^ not valid"; fail=1 ;; esac
}

for n in "${sizes[@]}"; do
  v2=$work/v2-$n.tar v1=$work/v1-$n.tar
  [ -f "$v2" ] || python3 Benchmarks/gen-many.py "$v2" "$n"
  [ -f "$v2.zst" ] || python3 Benchmarks/gen-many.py "$v2.zst" "$n" --zstd
  [ -f "$v1" ] || python3 Benchmarks/gen-many.py "$v1" "$n" --format podman
  echo "N = $n tiny files: v2 $(stat -c %s "$v2") bytes (zstd $(stat -c %s "$v2.zst")), v1 $(stat -c %s "$v1") bytes"
  run "v2, digests" "$bin/ckpt-validate --quiet $v2"
  run "v2, --no-digests" "$bin/ckpt-validate --quiet --no-digests $v2"
  run "v2, standard input" "$bin/ckpt-validate --quiet - < $v2"
  run "v2 zstd, standard input" "$bin/ckpt-validate --quiet - < $v2.zst"
  run "v1 podman (rootfs-diff.tar)" "$bin/ckpt-validate --quiet $v1"
  [ "${KEEP:-0}" = 1 ] || rm -f "$v2" "$v2.zst" "$v1"
done
rm -f "$work/out.txt"
exit $fail
