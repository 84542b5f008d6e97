#!/usr/bin/env bash
# Builds Examples/podman-checkpoint.tar.zst: a small checkpoint archive laid out as
# `podman container checkpoint --export` writes it (v1, Podman profile), with CRIU images encoded by
# CRIU's `crit` from the JSON in podman-sample-src/. Deterministic: fixed mtimes, owners and order.
# Needs crit (Debian package criu), GNU tar and zstd.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$here/podman-sample-src
b=$work/bundle
mkdir -p "$b/checkpoint" "$work/rootfs/etc" "$work/rootfs/srv/data"
cp "$src/config.dump" "$src/spec.dump" "$src/network.status" "$b/"
for img in "$src"/images/*.json; do
  crit encode -i "$img" -o "$b/checkpoint/$(basename "$img" .json).img"
done
# A pages image holds raw memory pages; 2 pages of a fixed pattern.
python3 -c "import sys; sys.stdout.buffer.write((b'ckpt-sample-page' * 256) * 2)" > "$b/checkpoint/pages-1.img"
printf 'changed by the container\n' > "$work/rootfs/etc/motd"
printf 'state=42\n' > "$work/rootfs/srv/data/state.txt"
printf '[\n  "/etc/issue",\n  "/var/cache/apt"\n]' > "$b/deleted.files"
tarflags=(--format=pax --mtime=@1700000000 --owner=0 --group=0 --numeric-owner
          --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)
tar "${tarflags[@]}" --sort=name -cf "$b/rootfs-diff.tar" -C "$work/rootfs" etc/motd srv/data/state.txt
find "$b" -exec touch -h -d @1700000000 {} +
chmod 0600 "$b"/config.dump "$b"/spec.dump "$b"/network.status "$b"/checkpoint/*.img  # CRIU writes 0600
# Podman's include order: config.dump, spec.dump, network.status, checkpoint, rootfs-diff.tar, deleted.files.
tar "${tarflags[@]}" --no-recursion -cf "$work/out.tar" -C "$b" config.dump spec.dump network.status \
  checkpoint $(cd "$b" && ls checkpoint/* | sort) rootfs-diff.tar deleted.files
zstd -q -19 -f "$work/out.tar" -o "$here/podman-checkpoint.tar.zst"
echo "wrote $here/podman-checkpoint.tar.zst"
