#!/usr/bin/env bash
# Benchmarks `ckpt-validate` in one run (issue 5) on a 2 GiB v2 archive:
#  - with digests, uncompressed: throughput against `sha256sum` of the same file (need >= 80%);
#  - --no-digests on the seekable file: against `tar -tf` (need: no slower, wall and CPU), for the shipped
#    configuration: the release build linked with --static-swift-stdlib (position-independent; the README's
#    "Release binaries"), which loads no Swift runtime or Foundation at start; the default release build
#    (dynamically linked) is measured too, for reference; `ckpt-validate --help` shows the start-up;
#  - zstd-compressed: against `zstd -dc | sha256sum` (need >= 85%);
#  - peak RSS of every run (need < 64 MiB; Benchmarks/validate-many.sh measures it against the entry count).
# Wall-clock times are the best of RUNS runs (default 5); CPU times (user + system) are printed too, as
# they are less disturbed by other load on the machine.
# Usage: Benchmarks/validate.sh   (needs python3, GNU tar, zstd, GNU time, bc)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(pwd)/Benchmarks/work/val
mkdir -p "$work"
runs=${RUNS:-5}
bin=$(bash Benchmarks/release-build.sh ckpt ckpt-validate)
# The shipped configuration (README, "Release binaries").
static=$(bash Benchmarks/release-build.sh --static ckpt-validate)/ckpt-validate
if [ ! -f "$work/v2.tar" ]; then
  python3 Benchmarks/gen-checkpoint.py "$work/src" --big 18 --big-mib 100 --small 3000 --checkpoint-mib 200
  "$bin/ckpt" create --quiet "$work/src" "$work/v2.tar"
  "$bin/ckpt" create --quiet --compress zstd "$work/src" "$work/v2.tar.zst"
  rm -rf "$work/src"
fi
echo "archive: $(stat -c %s "$work/v2.tar") bytes, $(tar -tf "$work/v2.tar" 2>/dev/null | wc -l) entries; zstd $(stat -c %s "$work/v2.tar.zst") bytes"

t() { # best of $runs wall-clock seconds
  local best=999999 s e d
  for _ in $(seq "$runs"); do
    s=$(date +%s.%N); bash -c "$1" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    d=$(echo "$e - $s" | bc -l); if (( $(echo "$d < $best" | bc -l) )); then best=$d; fi
  done
  printf '%.3f' "$best"
}
cpu() { # mean CPU seconds (task-clock, user + system) over 4 * $runs runs, with perf; GNU time otherwise
  if command -v perf >/dev/null && perf stat -x, -e task-clock true >/dev/null 2>&1; then
    perf stat -x, -r $((4 * runs)) -e task-clock bash -c "exec $1 >/dev/null 2>&1" 2>&1 >/dev/null \
      | awk -F, '/task-clock/ { printf "%.4f", $1 / 1000 }'
  else
    { /usr/bin/time -f "%U %S" bash -c "$1 >/dev/null 2>&1"; } 2>&1 | tail -1 | awk '{ printf "%.3f", $1 + $2 }'
  fi
}
rss() { /usr/bin/time -f %M bash -c "$1 >/dev/null 2>&1" 2>&1 | tail -1; }
pct() { echo "scale=1; 100 * $1 / $2" | bc -l; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }

"$bin/ckpt-validate" "$work/v2.tar" | tail -1
v=$(t "$bin/ckpt-validate --quiet $work/v2.tar")
s=$(t "sha256sum $work/v2.tar")
echo "digests, uncompressed: ckpt-validate ${v}s, sha256sum ${s}s: $(pct "$s" "$v")% of sha256sum throughput (need >= 80%)"
o=$(t "openssl dgst -sha256 $work/v2.tar")
echo "  for reference: openssl dgst -sha256 ${o}s ($(pct "$o" "$v")%)"
tt=$(t "tar -tf $work/v2.tar"); ttc=$(cpu "tar -tf $work/v2.tar")
n=$(t "$bin/ckpt-validate --quiet --no-digests $work/v2.tar"); nc=$(cpu "$bin/ckpt-validate --quiet --no-digests $work/v2.tar")
ns=$(t "$static --quiet --no-digests $work/v2.tar"); nsc=$(cpu "$static --quiet --no-digests $work/v2.tar")
h=$(t "$bin/ckpt-validate --help"); hs=$(t "$static --help")
echo "--no-digests, seekable: tar -tf ${tt}s (CPU ${ttc}s)"
echo "  shipped (static) ckpt-validate ${ns}s (CPU ${nsc}s): tar/ckpt = $(ratio "$tt" "$ns") wall, $(ratio "$ttc" "$nsc") CPU (need >= 1.0)"
echo "  default release build ${n}s (CPU ${nc}s): tar/ckpt = $(ratio "$tt" "$n") wall, $(ratio "$ttc" "$nc") CPU (for reference)"
echo "  start-up (ckpt-validate --help): shipped ${hs}s, default build ${h}s"
z=$(t "$bin/ckpt-validate --quiet $work/v2.tar.zst")
zs=$(t "zstd -dc $work/v2.tar.zst | sha256sum")
echo "zstd: ckpt-validate ${z}s, zstd -dc | sha256sum ${zs}s: $(pct "$zs" "$z")% (need >= 85%)"
echo "peak RSS KiB: plain $(rss "$bin/ckpt-validate --quiet $work/v2.tar"), no-digests $(rss "$bin/ckpt-validate --quiet --no-digests $work/v2.tar"), zstd $(rss "$bin/ckpt-validate --quiet $work/v2.tar.zst"), stdin $(rss "$bin/ckpt-validate --quiet - < $work/v2.tar.zst"), static no-digests $(rss "$static --quiet --no-digests $work/v2.tar") (need < 65536)"
