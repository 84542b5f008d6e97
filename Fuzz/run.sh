#!/usr/bin/env bash
# Fuzz/run.sh TARGET SECONDS [SEED_DIR...]
#
# Builds one libFuzzer target with AddressSanitizer and runs it for SECONDS, nice'd, one process
# (-workers=1 -jobs=1). TARGET is tar, gzip, zstd, bzip2, xz, extract (the v2 decoder and v1 reader through the safe
# extractor), validate or index (the v2 index reader). Seeds come from make-seeds.sh (generated into Fuzz/seeds/ on first use, or again
# when SEED_DIR arguments are given; Vectors/ is used when it exists). New inputs go to Fuzz/corpus/TARGET,
# crashes to Fuzz/findings/TARGET/, the log to Fuzz/logs/TARGET-<time>.log; the summary line
# (executions, coverage, findings) is printed at the end. Exit status 1 if the run found something.
set -euo pipefail
if [[ $# -lt 2 ]]; then echo "usage: $0 tar|gzip|zstd|bzip2|xz|extract|validate|index SECONDS [SEED_DIR...]" >&2; exit 2; fi
here=$(cd "$(dirname "$0")" && pwd)
target=$1 seconds=$2
shift 2
case "$target" in
  tar) product=FuzzTar maxlen=65536 ;;
  gzip) product=FuzzGzip maxlen=16384 ;;
  zstd) product=FuzzZstd maxlen=16384 ;;
  bzip2) product=FuzzBzip2 maxlen=16384 ;;
  xz) product=FuzzXz maxlen=16384 ;;
  extract) product=FuzzExtract maxlen=65536 ;;
  validate) product=FuzzValidate maxlen=65536 ;;
  index) product=FuzzIndex maxlen=65536 ;;
  *) echo "run.sh: unknown target $target" >&2; exit 2 ;;
esac
cd "$here"
# SwiftPM keeps the source list of a path dependency from its last planning: a file added to the main package since
# then is not seen ("cannot find ... in scope"). Touching the manifest makes it plan again.
touch "$here/Package.swift"
# swiftc keeps only the last -sanitize= option, and SwiftPM passes --sanitize=fuzzer and --sanitize=address as two
# options in no fixed order: every Swift module got coverage or ASan, never both. The -Xswiftc option comes last.
nice -n 19 swift build -c debug --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address \
  --scratch-path .build-fuzz \
  --product "$product" 2>&1 | grep -v 'ld.gold: warning: Cannot export local symbol' >&2
binary=$here/.build-fuzz/debug/$product

if [[ $# -gt 0 || ! -d seeds/$target ]]; then
  bash "$here/make-seeds.sh" seeds "$@"
fi
mkdir -p "corpus/$target" "findings/$target" logs
stamp=$(date -u +%Y%m%dT%H%M%SZ)
log=$here/logs/$target-$stamp.log
rundir=$(mktemp -d)
trap 'rm -rf "$rundir"' EXIT
# -jobs=1 runs the fuzzer in one child process whose output goes to fuzz-0.log in the working directory.
# SWIFT_BACKTRACE=enable=no: the Swift crash handler otherwise trips ASan after a real fatal error.
(cd "$rundir" && SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" nice -n 19 "$binary" \
  -workers=1 -jobs=1 -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -max_len="$maxlen" \
  -dict="$here/dicts/archive.dict" -print_final_stats=1 -artifact_prefix="$here/findings/$target/" \
  "$here/corpus/$target" "$here/seeds/$target" >/dev/null 2>&1) || true
cp "$rundir/fuzz-0.log" "$log"
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | awk '{print $2}')
rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | tail -1 | awk '{print $2}')
last=$(grep -E '^#[0-9]+' "$log" | tail -1)
cov=$(echo "$last" | grep -o 'cov: [0-9]*' | awk '{print $2}')
ft=$(echo "$last" | grep -o 'ft: [0-9]*' | awk '{print $2}')
corp=$(echo "$last" | grep -o 'corp: [0-9]*' | awk '{print $2}')
crash=$(grep -cE '^==[0-9]+==ERROR|deadly signal|fuzz invariant broken|ERROR: libFuzzer' "$log" || true)
echo "$target: ${execs:-?} executions in ${seconds}s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}, peak RSS ${rss:-?} MB, findings ${crash}; log $log"
[[ $crash -eq 0 ]]
