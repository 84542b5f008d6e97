#!/usr/bin/env bash
# Benchmarks `ckpt-validate` in one run (issue 5) on a 2 GiB v2 archive:
#  - with digests, uncompressed: throughput against `sha256sum` of the same file (need >= 80%);
#  - --no-digests on the seekable file: against `tar -tf` (need: no slower, wall and CPU), for the shipped
#    configuration: the release build linked as a static position-independent executable (the README's
#    "Release binaries", flags in Benchmarks/static-flags.sh), which loads no shared library at start; the
#    default release build (dynamically linked) is measured too, for reference; `ckpt-validate --help` shows
#    the start-up; the wall clock the checks take per entry, against what parity would allow; and the
#    floor under `tar -tf` for any validator shipped this way (start-up plus reading, see below), with what
#    ckpt-validate spends above it;
#  - zstd-compressed: against `zstd -dc | sha256sum` (need >= 85%);
#  - peak RSS of every run (need < 64 MiB; Benchmarks/validate-many.sh measures it against the entry count).
# Wall-clock times are the best of RUNS runs (default 5) for the long runs; the --no-digests runs, a few
# milliseconds each, are timed by Benchmarks/walltime.py (interleaved, spawned without a shell, medians), and their
# CPU times (user + system) and page faults come from perf stat, which is not used for their wall clock (see
# walltime.py: under perf stat the two threads of ckpt-validate run 2 to 4 ms slower, tar -tf hardly at all).
# Usage: Benchmarks/validate.sh   (needs python3, GNU tar, zstd, GNU time, bc; perf and gcc for the floor)
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
wall_rounds() { # wall[COMMAND] = median wall-clock seconds, wallmean[COMMAND] = mean, without perf (walltime.py)
  local line c m a
  while IFS=$'\t' read -r c m a _; do
    wall[$c]=$(echo "scale=6; $m / 1000" | bc -l); wallmean[$c]=$(echo "scale=6; $a / 1000" | bc -l)
  done < <(python3 Benchmarks/walltime.py 10 $((4 * runs)) "$@")
}
stat_rounds() { # best[COMMAND] = CPU seconds, perfwall[COMMAND] = wall-clock seconds under perf, faults[COMMAND] = page faults a run
  local stat_file c v w
  if ! { command -v perf >/dev/null && perf stat -e task-clock true >/dev/null 2>&1; }; then
    # Without perf: user + system time of one run, from GNU time.
    for c in "$@"; do
      best[$c]=$({ /usr/bin/time -f "%U %S" bash -c "$c >/dev/null 2>&1"; } 2>&1 | tail -1 | awk '{ printf "%.3f", $1 + $2 }')
    done
    return
  fi
  stat_file=$(mktemp)
  for _ in 1 2 3 4 5; do
    for c in "$@"; do
      # shellcheck disable=SC2086 # the command is split into its words on purpose
      perf stat -o "$stat_file" -r $((4 * runs)) -e task-clock,page-faults $c >/dev/null 2>&1 || true
      v=$(awk '/task-clock/ { gsub(",", "", $1); printf "%.5f", $1 / 1000 }' "$stat_file")
      faults[$c]=$(awk '/page-faults/ { gsub(",", "", $1); printf "%d", $1 }' "$stat_file")
      w=$(awk '/seconds time elapsed/ { printf "%.5f", $1 }' "$stat_file")
      if [[ -z ${best[$c]:-} ]] || (( $(echo "$v < ${best[$c]}" | bc -l) )); then best[$c]=$v; fi
      if [[ -z ${perfwall[$c]:-} ]] || (( $(echo "$w < ${perfwall[$c]}" | bc -l) )); then perfwall[$c]=$w; fi
    done
  done
  rm -f "$stat_file"
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
# --no-digests: a few milliseconds a run, where a shell's own start-up and a busy moment of the machine would
# show. CPU times are taken with each command run directly (no shell in between), 4 * $runs runs a round under
# perf stat, in five interleaved rounds, and each command's best round counts (other load only adds to it).
#
# The floor under that comparison, for a validator shipped as this one is, in CPU time, is measured
# in the same rounds: its start-up (Benchmarks/floor: a program that links the Swift runtime, FoundationEssentials
# and libxml2 as ckpt-validate must, for its JUnit reports, built the same way, and does nothing) plus reading
# the archive as FileSource does (Benchmarks/floor/header-walk.c, less a C program's own start-up, that of
# `true`). What tar's CPU time leaves above the floor is all a validator may spend on its own work for the two to
# be even.
tar_cmd="tar -tf $work/v2.tar"
static_cmd="$static --quiet --no-digests $work/v2.tar"
default_cmd="$bin/ckpt-validate --quiet --no-digests $work/v2.tar"
help_cmd="$bin/ckpt-validate --help"; static_help_cmd="$static --help"
declare -A best wall wallmean perfwall faults
minimal_cmd="$static --quiet --no-digests Vectors/v2/valid/v2-minimal.tar"
floor_cmd="$work/floor-build/release/startup-floor"
walk_cmd="$work/header-walk $work/v2.tar"
floor=no
if command -v gcc >/dev/null; then
  source Benchmarks/static-flags.sh
  swift build "${static_flags[@]}" --package-path Benchmarks/floor --scratch-path "$work/floor-build" \
    >/dev/null 2>&1 || { echo "cannot build Benchmarks/floor" >&2; exit 1; }
  gcc -O2 -o "$work/header-walk" Benchmarks/floor/header-walk.c
  floor=yes
  stat_rounds "$tar_cmd" "$static_cmd" "$default_cmd" "$help_cmd" "$static_help_cmd" "$minimal_cmd" "$floor_cmd" \
    "$walk_cmd" true
else
  stat_rounds "$tar_cmd" "$static_cmd" "$default_cmd" "$help_cmd" "$static_help_cmd"
fi
# Wall clock without perf, interleaved (10 rounds of 4 * $runs runs, medians): with the read-ahead thread the CPU
# time is spent on two cores, and "no slower than tar -tf" is a matter of elapsed time.
wall_rounds "$tar_cmd" "$static_cmd" "$default_cmd" "$help_cmd" "$static_help_cmd" "$minimal_cmd"
tt=${wall[$tar_cmd]}; ns=${wall[$static_cmd]}; n=${wall[$default_cmd]}; h=${wall[$help_cmd]}; hs=${wall[$static_help_cmd]}
ttc=${best[$tar_cmd]}; nsc=${best[$static_cmd]}; nc=${best[$default_cmd]}
echo "--no-digests, seekable: tar -tf ${tt}s (CPU ${ttc}s)"
echo "  shipped (static) ckpt-validate ${ns}s (CPU ${nsc}s): tar/ckpt = $(ratio "$tt" "$ns") wall, $(ratio "$ttc" "$nsc") CPU (need >= 1.0)"
echo "  mean wall clock: tar -tf ${wallmean[$tar_cmd]}s, shipped ckpt-validate ${wallmean[$static_cmd]}s" \
     "($(ratio "${wallmean[$tar_cmd]}" "${wallmean[$static_cmd]}")); under perf stat (not used): tar -tf" \
     "${perfwall[$tar_cmd]:-?}s, shipped ckpt-validate ${perfwall[$static_cmd]:-?}s"
echo "  default release build ${n}s (CPU ${nc}s): tar/ckpt = $(ratio "$tt" "$n") wall, $(ratio "$ttc" "$nc") CPU (for reference)"
echo "  start-up (ckpt-validate --help): shipped ${hs}s, default build ${h}s"
# Page faults cost a microsecond or two each on a virtual machine: the shipped binary's start-up applies its
# relocations page by page, the read-ahead ring and the checks' buffers are fresh pages.
echo "  page faults a run: tar -tf ${faults[$tar_cmd]:-?}, shipped ckpt-validate ${faults[$static_cmd]:-?}" \
     "(${faults[$minimal_cmd]:-?} on the 7-entry archive), default build ${faults[$default_cmd]:-?}"
if [[ $floor == yes ]]; then
  entries=$("$work/header-walk" "$work/v2.tar")
  minimal=${best[$minimal_cmd]}; start_c=${best[$floor_cmd]}; walk=${best[$walk_cmd]}; c_start=${best[true]}
  reading=$(echo "$walk - $c_start" | bc -l); lowest=$(echo "$start_c + $reading" | bc -l)
  echo "  floor (CPU): start-up ${start_c}s + reading ${reading}s = ${lowest}s, $(pct "$lowest" "$ttc")% of tar -tf's"
  # Above the floor, ckpt-validate spends a fixed part (its time on the 7-entry minimal archive less the start-up
  # floor: its own set-up, first uses of types, the report) and a part per entry.
  fixed=$(echo "$minimal - $start_c" | bc -l); per_entry=$(echo "$nsc - $minimal - $reading" | bc -l)
  echo "  above the floor: tar leaves $(echo "$ttc - $lowest" | bc -l)s; ckpt-validate spends ${fixed}s fixed" \
       "(${minimal}s on the 7-entry Vectors/v2/valid/v2-minimal.tar less the start-up floor) and ${per_entry}s on" \
       "its $entries entries ($(echo "scale=0; 10^9 * $per_entry / $entries" | bc -l) ns an entry)"
  # In wall clock the file is read on a second thread, and what is left is the start-up (the minimal archive's
  # run) and the checks of the entries, one after the other: that is what must fit in tar's time.
  minimal_w=${wall[$minimal_cmd]}; checks_w=$(echo "$ns - $minimal_w" | bc -l)
  echo "  checks (wall clock): ${checks_w}s (${ns}s less ${minimal_w}s on the 7-entry archive)," \
       "$(echo "scale=0; 10^9 * $checks_w / $entries" | bc -l) ns an entry; even with tar at" \
       "$(echo "scale=0; 10^9 * ($tt - $minimal_w) / $entries" | bc -l) ns an entry"
fi
z=$(t "$bin/ckpt-validate --quiet $work/v2.tar.zst")
zs=$(t "zstd -dc $work/v2.tar.zst | sha256sum")
echo "zstd: ckpt-validate ${z}s, zstd -dc | sha256sum ${zs}s: $(pct "$zs" "$z")% (need >= 85%)"
echo "peak RSS KiB: plain $(rss "$bin/ckpt-validate --quiet $work/v2.tar"), no-digests $(rss "$bin/ckpt-validate --quiet --no-digests $work/v2.tar"), zstd $(rss "$bin/ckpt-validate --quiet $work/v2.tar.zst"), stdin $(rss "$bin/ckpt-validate --quiet - < $work/v2.tar.zst"), static no-digests $(rss "$static --quiet --no-digests $work/v2.tar") (need < 65536)"
