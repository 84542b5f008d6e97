#!/usr/bin/env bash
# Benchmarks/symbol-order.sh [ARCHIVE]
#
# Writes Benchmarks/ckpt-validate.order, the symbol ordering file of the shipped `ckpt-validate` build
# (Benchmarks/static-flags.sh): the functions its usual runs execute, which lld then places next to each other at
# the start of the text section, so that a run maps fewer pages of code. Each fault that maps code costs a few
# microseconds on the benchmark machine (a PVM guest), more when the binary's pages were read back into the page
# cache after being evicted; grouping the executed code took the run on the benchmark archive from 973 page faults
# to 920, and 0.23 to 0.54 ms off its wall clock (README, Benchmarks).
#
# The functions are those callgrind sees (all threads, names not demangled) in: `--no-digests` on ARCHIVE (default:
# the benchmark archive of validate.sh), with digests and each report format on a v2 vector, on a v1 vector of each
# engine, and on gzip- and zstd-compressed vectors: those of the two `--no-digests` runs first, then the others,
# each part sorted by name, so that a rerun on unchanged sources writes the same file. A stale list costs speed only: lld places what it finds and ignores the rest.
# Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "symbol-order.sh needs valgrind" >&2; exit 2; }
archive=${1:-Benchmarks/work/val/v2.tar}
[[ -f $archive ]] || { echo "no $archive: run Benchmarks/validate.sh once, or name an archive" >&2; exit 2; }
dir=$(Benchmarks/release-build.sh --static ckpt-validate)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
objcopy --strip-debug "$dir/ckpt-validate" "$work/ckpt-validate"
runs=(
  "--quiet --no-digests $archive"
  "--quiet Vectors/v2/valid/v2-minimal.tar"
  "--format json Vectors/v2/valid/v2-minimal.tar"
  "--format junit Vectors/v2/valid/v2-minimal.tar"
  "Vectors/v1/valid/v1-podman.tar Vectors/v1/valid/v1-crio.tar Vectors/v1/valid/v1-containerd.tar"
  "Vectors/v2/valid/v2-gzip-framed.tar.gz Vectors/v2/valid/v2-cmp-zstd-skippable-first.tar.zst"
)
n=0
for run in "${runs[@]}"; do
  n=$((n + 1))
  # shellcheck disable=SC2086
  valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/run-$n.out" "$work/ckpt-validate" $run \
    >/dev/null 2>&1 || { echo "symbol-order.sh: ckpt-validate $run failed" >&2; exit 1; }
done
names() { cat "$@" | sed -nE 's/^c?fn=\([0-9]+\) (.*)$/\1/p' | grep -v -E '^0x|^\(below|^\?\?\?' | LC_ALL=C sort -u; }
# The functions of the `--no-digests` runs first, then those only the other runs execute.
names "$work/run-1.out" "$work/run-2.out" >"$work/first"
names "$work"/run-*.out | LC_ALL=C comm -23 - "$work/first" >"$work/rest"
cat "$work/first" "$work/rest" >Benchmarks/ckpt-validate.order
echo "Benchmarks/ckpt-validate.order: $(wc -l <Benchmarks/ckpt-validate.order) functions from $n runs"
