#!/usr/bin/env bash
# `ckpt-validate --no-digests` against `tar -tf` on the 2 GiB benchmark archive, idle and while a busy loop holds
# one CPU: how the validator fares when its read-ahead thread does not get a CPU of its own (a CI machine running
# other jobs). The read-ahead is given up after `FileSource.readAheadLateLimit` late chunks; without that the check
# took 10.1 ms against 8.2 ms with no read-ahead at all (README, "Benchmarks").
#
# For the idle machine and then for each CPU in turn (a shell loop pinned to it with taskset), Benchmarks/walltime.py
# times the two commands interleaved: ROUNDS rounds (default 5) of RUNS runs (default 20), medians, for the shipped
# static build (Benchmarks/release-build.sh --static).
# Usage: Benchmarks/validate-busy.sh   (needs python3, GNU tar, taskset; Benchmarks/validate.sh writes the archive)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(pwd)/Benchmarks/work/val
[[ -f $work/v2.tar ]] || { echo "no $work/v2.tar: run Benchmarks/validate.sh first, it writes the archive" >&2; exit 2; }
static=$(bash Benchmarks/release-build.sh --static ckpt-validate)/ckpt-validate
rounds=${ROUNDS:-5}
runs=${RUNS:-20}
tar_cmd="tar -tf $work/v2.tar"
ckpt_cmd="$static --quiet --no-digests $work/v2.tar"
busy=
trap '[[ -n $busy ]] && kill "$busy" 2>/dev/null; true' EXIT

measure() { # label: one line of medians and the ratio
  local t c
  { IFS=$'\t' read -r _ t _ _; IFS=$'\t' read -r _ c _ _; } < <(python3 Benchmarks/walltime.py "$rounds" "$runs" \
    "$tar_cmd" "$ckpt_cmd")
  printf '%-22s tar -tf %6.2f ms   ckpt-validate %6.2f ms   tar/ckpt %.2f\n' "$1" "$t" "$c" \
    "$(echo "scale=4; $t / $c" | bc -l)"
}

echo "archive: $(stat -c %s "$work/v2.tar") bytes; $rounds rounds of $runs runs, medians"
measure "idle"
for cpu in $(seq 0 $(($(nproc) - 1))); do
  taskset -c "$cpu" sh -c 'while :; do :; done' &
  busy=$!
  sleep 0.5
  measure "CPU $cpu busy"
  kill "$busy"
  wait "$busy" 2>/dev/null || true
  busy=
done
