#!/usr/bin/env bash
# Benchmarks/release-build.sh [--static] PRODUCT...
#
# Builds release products for a measurement and prints their directory. The build lives in its own scratch path
# (.build-bench, or .build-bench-static with --static: the shipped configuration of the README's "Release
# binaries", flags in Benchmarks/static-flags.sh) and starts from clean whenever the sources differ from those it was built from (the commit plus
# any uncommitted change): an incremental release build was twice seen to link a module compiled against an
# older layout of a struct of another module (a `TarLimits` without `maxPathDepth` refused every archive), and a
# measurement of a binary that does not match its sources is worthless.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-bench
flags=(-c release)
if [[ ${1:-} == --static ]]; then
  scratch=.build-bench-static
  source Benchmarks/static-flags.sh
  flags=("${static_flags[@]}")
  shift
fi
[[ $# -gt 0 ]] || { echo "usage: $0 [--static] PRODUCT..." >&2; exit 2; }
key=$( { git rev-parse HEAD; git diff HEAD -- Package.swift Sources Benchmarks/static-flags.sh; git status --porcelain -- Sources
          cat Benchmarks/ckpt-validate.order 2>/dev/null; } | sha256sum | cut -c1-64)
if [[ ! -f $scratch/sources.key || $(cat "$scratch/sources.key") != "$key" ]]; then
  rm -rf "$scratch"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for product in "$@"; do
  # One product per call: given several --product options, SwiftPM builds only the last.
  swift build "${flags[@]}" --scratch-path "$scratch" --product "$product" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
done
echo "$key" > "$scratch/sources.key"
swift build "${flags[@]}" --scratch-path "$scratch" --show-bin-path
