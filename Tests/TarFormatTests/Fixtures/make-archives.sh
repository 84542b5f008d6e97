#!/usr/bin/env bash
# make-archives.sh OUTDIR
#
# Builds the differential-test source tree in a temp dir and writes one archive
# per writer/format into OUTDIR (<writer>-<format>.tar), three big-sparse
# archives (big-sparse-<writer>.tar), OUTDIR/index.json (features per archive)
# and OUTDIR/bin/gotar (the Go reference lister/writer).
# Formats that cannot represent part of the tree get a reduced member list;
# what each archive lacks is printed to stderr and recorded in index.json.
# Needs: GNU tar, bsdtar, python3, go. Run as root for mknod/chown.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LC_ALL=C.UTF-8 TZ=UTC
lib=$here/fixturelib.py

# ---- tools
gotar=$out/bin/gotar
"$here/gotar/build.sh" "$gotar"

# A fixed PID makes GNU tar's sparse 1.0 member names (GNUSparseFile.%p) reproducible.
pidns=()
if unshare -p -f true 2>/dev/null; then
  pidns=(unshare -p -f)
else
  echo "make-archives: note: no PID namespace; gnutar posix sparse names contain the real PID" >&2
fi

# ---- source trees
src=$work/src
mkdir -p "$src" "$work/bigsrc"
python3 "$lib" build-tree "$src"
python3 "$lib" build-big "$work/bigsrc"
for v in full ustar v7; do
  python3 "$lib" list "$src" "$v" "$work/list-$v"
done
printf 'big\0big/sparse-9g.bin\0' >"$work/list-big"

owner=(--owner=ckptuser:1000 --group=ckptgroup:1000)
paxopt=--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime
specs=()

gnutar() { # gnutar FORMAT VARIANT OUTFILE [extra tar options]
  local fmt=$1 variant=$2 file=$3
  shift 3
  local srcdir=$src
  [[ $variant == big ]] && srcdir=$work/bigsrc
  "${pidns[@]}" tar --create --file="$out/$file" --format="$fmt" "${owner[@]}" "$@" \
    -C "$srcdir" --null --no-recursion --files-from="$work/list-$variant"
}

# GNU tar
gnutar gnu    full  gnutar-gnu.tar    --sparse
gnutar oldgnu full  gnutar-oldgnu.tar --sparse
gnutar ustar  ustar gnutar-ustar.tar
gnutar posix  full  gnutar-posix.tar  --sparse --xattrs --xattrs-include='user.*' "$paxopt"
gnutar v7     v7    gnutar-v7.tar
specs+=(gnutar-gnu.tar:gnutar:gnu:full gnutar-oldgnu.tar:gnutar:oldgnu:full
        gnutar-ustar.tar:gnutar:ustar:ustar gnutar-posix.tar:gnutar:posix:full
        gnutar-v7.tar:gnutar:v7:v7)

# bsdtar: default format (restricted pax; reads holes and xattrs by default) and ustar
bsd() { # bsd VARIANT OUTFILE [options]
  local variant=$1 file=$2
  shift 2
  bsdtar -c -f "$out/$file" "$@" --uid 1000 --gid 1000 --uname ckptuser --gname ckptgroup \
    -C "$src" -n --null -T "$work/list-$variant"
}
bsd full  bsdtar-pax.tar
bsd ustar bsdtar-ustar.tar --format ustar
specs+=(bsdtar-pax.tar:bsdtar:pax:full bsdtar-ustar.tar:bsdtar:ustar:ustar)

# Python tarfile
python3 "$lib" pywrite gnu "$src" "$work/list-full" "$out/python-gnu.tar"
python3 "$lib" pywrite pax "$src" "$work/list-full" "$out/python-pax.tar"
specs+=(python-gnu.tar:python:gnu:full python-pax.tar:python:pax:full)

# Go archive/tar
"$gotar" write --format pax --uid 1000 --gid 1000 --uname ckptuser --gname ckptgroup "$src/tree" "$out/go-pax.tar"
"$gotar" write --format gnu --uid 1000 --gid 1000 --uname ckptuser --gname ckptgroup "$src/tree" "$out/go-gnu.tar"
specs+=(go-pax.tar:go:pax:full go-gnu.tar:go:gnu:full)

# 9 GiB logical sparse file (only ~8 KiB of data is stored)
gnutar posix big big-sparse-gnutar-posix.tar --sparse "$paxopt"
gnutar gnu   big big-sparse-gnutar-gnu.tar   --sparse
python3 "$lib" pybigsparse "$work/bigsrc" "$out/big-sparse-python-pax.tar"
specs+=(big-sparse-gnutar-posix.tar:gnutar:big-posix:big
        big-sparse-gnutar-gnu.tar:gnutar:big-gnu:big
        big-sparse-python-pax.tar:python:big-pax:big)

python3 "$lib" index "$out" "$src" "$work/bigsrc" "${specs[@]}"

# compressed copies of one archive (listed under "compressed" in index.json)
mkdir -p "$out/compressed"
gzip -n -9 -c "$out/gnutar-posix.tar" >"$out/compressed/gnutar-posix.tar.gz"
zstd -q -19 -f -c "$out/gnutar-posix.tar" >"$out/compressed/gnutar-posix.tar.zst"

# hand-crafted edge cases (separate index: quirks/quirks.json)
python3 "$here/make-quirks.py" "$out/quirks"
echo "make-archives: wrote $(ls "$out"/*.tar | wc -l) archives and index.json to $out" >&2
