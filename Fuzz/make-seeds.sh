#!/usr/bin/env bash
# Fuzz/make-seeds.sh OUT [SEED_DIR...]
#
# Writes the seed corpora of every fuzz target into OUT/<target>/ (tar, gzip, zstd, bzip2, xz, extract, validate,
# index):
# - archives `ckpt create` writes from the bundled Podman sample and from a small directory with every
#   section and entry kind: v2 none/gzip/zstd, framed gzip/zstd, aligned 512/4096, and v1 podman/cri-o/
#   containerd (each compressed three ways);
# - Examples/podman-checkpoint.tar.zst;
# - the tar reader's differential fixtures (Tests/TarFormatTests/Fixtures/make-archives.sh: GNU tar, bsdtar,
#   Python and Go archives in every format, sparse files, and 44 hand-made quirk archives), when the tools
#   it needs are installed;
# - every file under Vectors/ (the golden corpus) when it exists, and every file under each SEED_DIR.
# Compressed files seed the decoders; their decompressed streams seed the tar reader; everything seeds the
# extract and validate targets. Files above 1 MiB are left out (the fuzzer works on small inputs).
set -euo pipefail
if [[ $# -lt 1 ]]; then echo "usage: $0 OUT [SEED_DIR...]" >&2; exit 2; fi
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
shift
extra=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in tar gzip zstd bzip2 xz extract validate index; do mkdir -p "$out/$t"; done

echo "make-seeds: building ckpt" >&2
(cd "$repo" && nice -n 19 swift build --product ckpt >/dev/null)
ckpt=$(cd "$repo" && swift build --show-bin-path)/ckpt

# ---- source directories for ckpt create
"$ckpt" extract --quiet "$repo/Examples/podman-checkpoint.tar.zst" "$work/podman"
r=$work/rich
mkdir -p "$r"/{metadata,checkpoint,rootfs/tree/etc,rootfs/tree/usr/lib,devshm,volumes/data,volumes/logs/sub,logs,artifacts,ext/vendor.example}
printf '{"id":"abc","name":"rich","runtime":"crun","rootfsImageName":"alpine"}' >"$r/metadata/config.dump"
printf '{"ociVersion":"1.1.0","annotations":{"io.container.manager":"libpod"}}' >"$r/metadata/spec.dump"
printf '{}' >"$r/metadata/network.status"
printf '\x16\x31\x31\x58AAAAAAAAAAAAAAAAAAAA' >"$r/checkpoint/inventory.img"
head -c 5000 /dev/urandom >"$r/checkpoint/pages-1.img"
printf '[\n  "/etc/motd",\n  "/var/cache"\n]' >"$r/rootfs/deleted.files"
printf '[\n  "/usr",\n  "/usr/lib"\n]' >"$r/rootfs/implied.dirs"
printf 'x=1\n' >"$r/rootfs/tree/etc/app.conf"
ln "$r/rootfs/tree/etc/app.conf" "$r/rootfs/tree/etc/app.conf.hard"
ln -s /usr/share/zoneinfo/UTC "$r/rootfs/tree/etc/localtime"
mkfifo "$r/rootfs/tree/etc/fifo"
printf '#!/bin/sh\n' >"$r/rootfs/tree/etc/setuid-tool"; chmod 4755 "$r/rootfs/tree/etc/setuid-tool"
head -c 4500 /dev/urandom >"$r/rootfs/tree/usr/lib/big.bin"
printf 'utf8\n' >"$r/rootfs/tree/usr/lib/äöü-日本語.txt"
printf 'long\n' >"$r/rootfs/tree/usr/lib/$(printf 'long%.0s' {1..40})"
chmod 1777 "$r/devshm"; printf 'shm' >"$r/devshm/segment"
printf 'sqlite' >"$r/volumes/data/db.sqlite"; printf 'log\n' >"$r/volumes/logs/sub/x.log"
printf 'hello\n' >"$r/logs/ctr.log"
printf 'artifact\n' >"$r/artifacts/note.txt"; ln -s note.txt "$r/artifacts/note-link"
printf '{}' >"$r/ext/vendor.example/data.json"
chmod 0600 "$r"/metadata/* "$r"/checkpoint/*
# v1 profiles: Podman carries everything but extension sections; CRI-O and containerd need their own spec.dump
# (engine annotation), metadata and log names.
cp -a "$r" "$work/rich-v1"; rm -rf "$work/rich-v1/ext"
for engine in crio containerd; do
  e=$work/$engine
  cp -a "$work/podman" "$e"
  rm -f "$e/metadata/network.status"
  mkdir -p "$e/logs"; printf 'dump log\n' >"$e/logs/dump.log"
done
printf '{"ociVersion":"1.1.0","annotations":{"io.container.manager":"cri-o"}}' >"$work/crio/metadata/spec.dump"
printf '[{"source":"/run/hosts","destination":"/etc/hosts","file_type":"file","permissions":420}]' >"$work/crio/metadata/bind.mounts"
printf '{"ociVersion":"1.1.0","annotations":{"io.kubernetes.cri.container-type":"container"}}' >"$work/containerd/metadata/spec.dump"
printf '{"Pid":1,"CreatedAt":"2024-01-01T00:00:00Z"}' >"$work/containerd/metadata/status.dump"

# ---- archives written by ckpt create
mkdir -p "$work/archives"
n=0
v2opts=("--compress none" "--compress gzip" "--compress zstd" "--compress gzip --framed" "--compress zstd --framed"
        "--compress none --align 512" "--compress none --align 4096")
v1opts=("--compress none" "--compress gzip" "--compress zstd")
for job in podman:v2 rich:v2 podman:podman rich-v1:podman crio:cri-o containerd:containerd; do
  src=${job%%:*} kind=${job#*:}
  if [[ $kind == v2 ]]; then opts_list=("${v2opts[@]}"); else opts_list=("${v1opts[@]/#/--format v1 --profile $kind }"); fi
  for opts in "${opts_list[@]}"; do
    n=$((n + 1))
    name="ckpt-$src-$(echo "$opts" | tr -d ' -' )"
    # shellcheck disable=SC2086
    if ! "$ckpt" create --quiet --deterministic $opts "$work/$src" "$work/archives/$name" 2>/dev/null; then
      echo "make-seeds: ckpt create $opts $src refused (the profile cannot hold this directory); skipped" >&2
    fi
  done
done
cp "$repo/Examples/podman-checkpoint.tar.zst" "$work/archives/example-podman.tar.zst"

# ---- the tar reader's differential fixtures (other writers, quirks)
if command -v go >/dev/null && command -v bsdtar >/dev/null; then
  echo "make-seeds: building the tar fixtures (make-archives.sh)" >&2
  if bash "$repo/Tests/TarFormatTests/Fixtures/make-archives.sh" "$work/fixtures" >/dev/null 2>&1; then
    find "$work/fixtures" -path "$work/fixtures/bin" -prune -o -type f \( -name '*.tar' -o -name '*.gz' -o -name '*.zst' \) -print0 |
      while IFS= read -r -d '' f; do cp "$f" "$work/archives/fixture-$(basename "$(dirname "$f")")-$(basename "$f")"; done
  else
    echo "make-seeds: make-archives.sh failed; tar fixtures left out" >&2
  fi
else
  echo "make-seeds: go or bsdtar missing; tar fixtures left out" >&2
fi

# ---- the golden corpus and caller-given directories
dirs=()
[[ -d "$repo/Vectors" ]] && dirs+=("$repo/Vectors")
dirs+=("${extra[@]}")
for d in "${dirs[@]}"; do
  [[ -d "$d" ]] || { echo "make-seeds: $d is not a directory" >&2; exit 2; }
  find "$d" -type f ! -name '*.json' ! -name '*.md' -print0 |
    while IFS= read -r -d '' f; do cp "$f" "$work/archives/extra-$(echo "${f#"$d"/}" | tr '/' '_')"; done
done

# ---- sort into the targets (content-named, so reruns do not duplicate)
put() { local h; h=$(sha1sum "$2" | cut -c1-40); cp "$2" "$out/$1/$h"; }
for f in "$work"/archives/*; do
  size=$(stat -c %s "$f")
  [[ $size -le 1048576 ]] || continue
  put extract "$f"; put validate "$f"
  magic=$(head -c 4 "$f" | od -An -tx1 | tr -d ' \n')
  case "$magic" in
    1f8b*) put gzip "$f"; gzip -dc "$f" >"$work/stream" 2>/dev/null && put tar "$work/stream" ;;
    28b52ffd|5?2a4d18) put zstd "$f"; zstd -qdc "$f" >"$work/stream" 2>/dev/null && put tar "$work/stream" ;;
    425a68*) put bzip2 "$f"; bzip2 -dc "$f" >"$work/stream" 2>/dev/null && put tar "$work/stream" ;;
    fd377a58) put xz "$f"; xz -dc "$f" >"$work/stream" 2>/dev/null && put tar "$work/stream" ;;
    *) put tar "$f" ;;
  esac
done
# The v2 indexes, for the index reader.
for f in "$out"/tar/*; do
  if tar -xOf "$f" cka-index.json >"$work/index" 2>/dev/null && [[ -s "$work/index" ]]; then put index "$work/index"; fi
done
# Small hand-made decoder seeds: empty members/frames, multi-member, a skippable frame, trailing bytes.
printf '' | gzip -c >"$work/g1"; put gzip "$work/g1"
{ printf 'a' | gzip -c; printf 'b' | gzip -c; } >"$work/g2"; put gzip "$work/g2"
printf '' | zstd -qc >"$work/z1"; put zstd "$work/z1"
{ printf '\x50\x2a\x4d\x18\x04\x00\x00\x00abcd'; printf 'x' | zstd -qc; printf 'y' | zstd -qc --no-check; } >"$work/z2"; put zstd "$work/z2"
head -c 20000 /dev/zero | zstd -qc --content-size >"$work/z3"; put zstd "$work/z3"
# bzip2 and xz: a few small tar streams at several levels and check types, concatenated streams, xz padding.
i=0
for f in $(ls "$out"/tar/* | head -6); do
  [[ $(stat -c %s "$f") -le 65536 ]] || continue
  i=$((i + 1))
  bzip2 -c -$((i % 9 + 1)) "$f" >"$work/b$i"; put bzip2 "$work/b$i"
  xz -c --check=$(case $((i % 3)) in 0) echo crc32 ;; 1) echo crc64 ;; *) echo sha256 ;; esac) "$f" >"$work/x$i"; put xz "$work/x$i"
done
printf '' | bzip2 -c >"$work/b0"; put bzip2 "$work/b0"
{ printf 'a' | bzip2 -c; printf 'b' | bzip2 -c; } >"$work/b00"; put bzip2 "$work/b00"
printf '' | xz -c >"$work/x0"; put xz "$work/x0"
{ printf 'a' | xz -c; head -c 4 /dev/zero; printf 'b' | xz -c --check=none; } >"$work/x00"; put xz "$work/x00"
printf 'abc' | xz -c --format=xz -T2 >"$work/x01"; put xz "$work/x01"
for t in tar gzip zstd bzip2 xz extract validate index; do
  echo "make-seeds: $t: $(find "$out/$t" -type f | wc -l) seeds" >&2
done
