#!/usr/bin/env bash
# Benchmarks `ckpt-validate` in one run (issue 5) on a 2 GiB v2 archive:
#  - with digests, uncompressed: throughput against `sha256sum` of the same file (need >= 80%);
#  - --no-digests on the seekable file: against `tar -tf` (need: no slower);
#  - zstd-compressed: against `zstd -dc | sha256sum` (need >= 85%);
#  - peak RSS of every run (need < 64 MiB).
# Usage: Benchmarks/validate.sh   (needs python3, GNU tar, zstd, GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(pwd)/Benchmarks/work/val
mkdir -p "$work"
swift build -c release --product ckpt --product ckpt-validate >/dev/null 2>&1 || {
  swift build -c release --product ckpt >/dev/null; swift build -c release --product ckpt-validate >/dev/null; }
bin=$(swift build -c release --show-bin-path)
if [ ! -f "$work/v2.tar" ]; then
  python3 Benchmarks/gen-checkpoint.py "$work/src" --big 18 --big-mib 100 --small 3000 --checkpoint-mib 200
  "$bin/ckpt" create --quiet "$work/src" "$work/v2.tar"
  "$bin/ckpt" create --quiet --compress zstd "$work/src" "$work/v2.tar.zst"
  rm -rf "$work/src"
fi
echo "archive: $(stat -c %s "$work/v2.tar") bytes; zstd $(stat -c %s "$work/v2.tar.zst") bytes"

t() { # best of 3 wall-clock seconds
  local best=999999 s e d
  for _ in 1 2 3; do
    s=$(date +%s.%N); bash -c "$1" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    d=$(echo "$e - $s" | bc -l); if (( $(echo "$d < $best" | bc -l) )); then best=$d; fi
  done
  printf '%.3f' "$best"
}
rss() { /usr/bin/time -f %M bash -c "$1 >/dev/null 2>&1" 2>&1 | tail -1; }
pct() { echo "scale=1; 100 * $1 / $2" | bc -l; }

"$bin/ckpt-validate" "$work/v2.tar" | tail -1
v=$(t "$bin/ckpt-validate --quiet $work/v2.tar")
s=$(t "sha256sum $work/v2.tar")
echo "digests, uncompressed: ckpt-validate ${v}s, sha256sum ${s}s: $(pct "$s" "$v")% of sha256sum throughput (need >= 80%)"
o=$(t "openssl dgst -sha256 $work/v2.tar")
echo "  for reference: openssl dgst -sha256 ${o}s ($(pct "$o" "$v")%)"
n=$(t "$bin/ckpt-validate --quiet --no-digests $work/v2.tar")
tt=$(t "tar -tf $work/v2.tar")
echo "--no-digests, seekable: ckpt-validate ${n}s, tar -tf ${tt}s: tar/ckpt = $(echo "scale=2; $tt / $n" | bc -l) (need >= 1.0)"
z=$(t "$bin/ckpt-validate --quiet $work/v2.tar.zst")
zs=$(t "zstd -dc $work/v2.tar.zst | sha256sum")
echo "zstd: ckpt-validate ${z}s, zstd -dc | sha256sum ${zs}s: $(pct "$zs" "$z")% (need >= 85%)"
echo "peak RSS KiB: plain $(rss "$bin/ckpt-validate --quiet $work/v2.tar"), no-digests $(rss "$bin/ckpt-validate --quiet --no-digests $work/v2.tar"), zstd $(rss "$bin/ckpt-validate --quiet $work/v2.tar.zst"), stdin $(rss "$bin/ckpt-validate --quiet - < $work/v2.tar.zst") (need < 65536)"
