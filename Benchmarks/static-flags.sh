# Sourced by Benchmarks/release-build.sh and Benchmarks/validate.sh: the SwiftPM flags of the shipped Linux
# binaries (the README's "Release binaries"), in one place.
#
# A static position-independent executable (`-static-pie`): the Swift runtime, FoundationEssentials and the C
# libraries (glibc, libxml2 with the ICU it needs, zlib, libzstd, liblzma, libbz2) are all linked in, so the
# dynamic loader maps and resolves no shared library at start, yet the program still loads at a random address
# (it applies its own relative relocations). lld links it, as GNU gold cannot link a static PIE; lld also
# resolves the static libraries in any order. libxml2.a needs ICU, liblzma, zlib and libm named explicitly.
# `--disable-local-rpath`: glibc refuses to start a static PIE that carries a run path (an assertion in
# `_dl_relocate_static_pie`), and SwiftPM adds `$ORIGIN` by default.
# The link may warn that getpwuid, getaddrinfo and dlopen would need glibc's shared libraries at run time:
# FoundationEssentials and libxml2 contain them, `ckpt-validate` never calls them.
static_flags=(
  -c release --disable-local-rpath
  -Xswiftc -static-executable -Xswiftc -use-ld=lld -Xswiftc -Xclang-linker -Xswiftc -static-pie
  -Xlinker -licuuc -Xlinker -licudata -Xlinker -llzma -Xlinker -lz -Xlinker -lm
)
# Link-time optimisation of the Swift modules, whole (`--experimental-lto-mode=full`: SwiftPM compiles them to
# LLVM bitcode and lld optimises the program at once, across TarFormat, CheckpointArchive and Conformance, which
# the compiler otherwise sees one at a time): on the benchmark archive the checking thread runs 46.5 million
# instructions instead of 51.7 and the read-ahead thread 15.4 instead of 18.4 (callgrind), 5.59 ms against 6.06
# (medians of 150 runs in random order, `tar -tf` 5.67); the 7-entry vector 1.30 against 1.37 ms. ThinLTO gave 48.0
# million; `-cross-module-optimization` 60.6 million (more, not fewer). The JSON reports of every vector, with and
# without digests, are the same byte for byte as without it. The link takes about two minutes.
static_flags+=(--experimental-lto-mode=full)
# Relative relocations packed (DT_RELR): 18 KB of bitmaps instead of 2.2 MB of RELA entries, which the static PIE
# reads and applies at start (0.4 million fewer instructions, 55 fewer page faults; on the benchmark archive 6.67
# against 6.86 ms, medians of 150 runs in random order). glibc applies them in a static PIE from 2.36 on; the glibc
# linked in is the build machine's, so the flag is passed only where that is at least 2.36.
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
if [[ -n $glibc ]] && printf '2.36\n%s\n' "$glibc" | sort -V -C; then
  static_flags+=(-Xlinker -z -Xlinker pack-relative-relocs)
fi
# The functions a usual run executes come first in the text section, next to each other, in the order of
# Benchmarks/ckpt-validate.order (written by Benchmarks/symbol-order.sh): a run then maps fewer pages of code (973
# page faults to 920 on the benchmark archive, 0.23 to 0.54 ms less wall clock). lld ignores names it does not find,
# so a list older than the sources costs speed, never correctness.
symbol_order="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ckpt-validate.order"
if [[ -f $symbol_order ]]; then
  static_flags+=(-Xlinker "--symbol-ordering-file=$symbol_order" -Xlinker --no-warn-symbol-ordering)
fi

