#!/usr/bin/env bash
# Fuzz/run-all.sh SECONDS [SEED_DIR...]: every target for SECONDS each, one after the other (never in parallel).
# Prints one summary line per target; exit status 1 if any target found something.
set -uo pipefail
if [[ $# -lt 1 ]]; then echo "usage: $0 SECONDS [SEED_DIR...]" >&2; exit 2; fi
here=$(cd "$(dirname "$0")" && pwd)
seconds=$1
shift
status=0
summaries=()
for t in tar gzip zstd bzip2 xz extract validate index; do
  line=$(bash "$here/run.sh" "$t" "$seconds" "$@" | tail -1) || status=1
  summaries+=("$line")
  shift $#  # seeds are regenerated at most once
done
printf '%s\n' "${summaries[@]}"
exit $status
