#!/usr/bin/env bash
# Benchmarks `ckpt list` against the reference tools in one run (issue 2):
#  - uncompressed, seekable: bytes read and time beside `tar -tvf` (data must not be read);
#  - zstd: throughput against `zstd -dc >/dev/null`; gzip: against `gzip -dc >/dev/null`;
#  - peak RSS of every ckpt run (must stay under 64 MiB).
# Usage: Benchmarks/list.sh [SIZE_MIB]   (default 2048; needs python3, zstd, gzip, strace, GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-2048}
work=Benchmarks/work
mkdir -p "$work"
ckpt=$(bash Benchmarks/release-build.sh ckpt)/ckpt
tarfile=$work/bench-$size.tar
if [ ! -f "$tarfile" ]; then
  echo "generating a $size MiB archive..." >&2
  python3 Benchmarks/gen-archive.py "$tarfile.tmp" "$size" && mv "$tarfile.tmp" "$tarfile"
fi
[ -f "$tarfile.zst" ] || zstd -q -T1 -3 -o "$tarfile.zst" "$tarfile"
[ -f "$tarfile.gz" ] || gzip -6 -c "$tarfile" > "$tarfile.gz"
filesize=$(stat -c %s "$tarfile")

# best-of-3 wall time in seconds of a shell command
best() {
  local best=999999
  for _ in 1 2 3; do
    local s e t
    s=$(date +%s.%N); bash -c "$1" >/dev/null 2>&1; e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l)
    if (( $(echo "$t < $best" | bc -l) )); then best=$t; fi
  done
  printf '%.3f' "$best"
}
# peak RSS in KiB of one run
rss() { /usr/bin/time -f %M bash -c "$1 >/dev/null 2>/dev/null" 2>&1 | tail -1; }
# bytes returned by read(2) over a run, from strace
bytes_read() {
  strace -f -e trace=read -o "$work/strace.out" bash -c "$1" >/dev/null 2>&1 || true
  grep -E '^[0-9]+ +read\(' "$work/strace.out" | grep -v 'ENOENT' | awk -F'= ' '{ if ($NF ~ /^[0-9]+/) s += $NF } END { print s+0 }'
}

cat /dev/null > "$work/results.txt"
report() { echo "$*" | tee -a "$work/results.txt"; }

report "archive: $tarfile, $filesize bytes ($(tar -tf "$tarfile" | wc -l) entries); zstd $(stat -c %s "$tarfile.zst") bytes, gzip $(stat -c %s "$tarfile.gz") bytes"

t_ckpt=$(best "$ckpt list -l $tarfile")
t_tar=$(best "tar -tvf $tarfile")
stats=$("$ckpt" list --stats "$tarfile" 2>&1 >/dev/null | grep stats)
r_ckpt=$(echo "$stats" | sed -E 's/.*read ([0-9]+) bytes.*/\1/')
r_tar=$(bytes_read "tar -tvf $tarfile")
report "uncompressed list: ckpt ${t_ckpt}s reading $r_ckpt bytes; tar -tvf ${t_tar}s reading $r_tar bytes; file $filesize bytes"
report "  ckpt read $(echo "scale=4; 100 * $r_ckpt / $filesize" | bc)% of the file; time ratio tar/ckpt $(echo "scale=2; $t_tar / $t_ckpt" | bc)"

t_ckpt_zst=$(best "$ckpt list $tarfile.zst")
t_zstd=$(best "zstd -dc $tarfile.zst")
report "zstd list: ckpt ${t_ckpt_zst}s, zstd -dc ${t_zstd}s: ckpt throughput = $(echo "scale=1; 100 * $t_zstd / $t_ckpt_zst" | bc)% of zstd -dc (need >= 90%)"

t_ckpt_gz=$(best "$ckpt list $tarfile.gz")
t_gzip=$(best "gzip -dc $tarfile.gz")
report "gzip list: ckpt ${t_ckpt_gz}s, gzip -dc ${t_gzip}s: ckpt throughput = $(echo "scale=1; 100 * $t_gzip / $t_ckpt_gz" | bc)% of gzip -dc (need >= 90%)"

report "peak RSS (KiB): plain $(rss "$ckpt list $tarfile"), zstd $(rss "$ckpt list $tarfile.zst"), gzip $(rss "$ckpt list $tarfile.gz"), stdin zstd $(rss "$ckpt list - < $tarfile.zst") (need < 65536)"
