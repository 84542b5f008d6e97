#!/usr/bin/env python3
"""treemanifest.py [--owner] [--holes] DIR -- describe a directory tree as JSON.

Prints a JSON array (one object per entry below DIR, DIR itself excluded),
sorted by the path's bytes. Every object has
  path   relative path, "/"-separated
  type   file | dir | symlink | char | block | fifo | socket
  mode   st_mode & 0o7777
plus, by type:
  file     size, mtime (int seconds), and a content digest:
             sha256         hex SHA-256 of the content, for files <= 64 MiB
             blocks_sha256  for larger files: SHA-256 over, for every 64 KiB block
                            that is not all zero, 8-byte big-endian offset + SHA-256
                            of the block (holes are skipped via SEEK_DATA, so a
                            9 GiB sparse file is cheap; the value does not depend
                            on whether the extractor wrote holes or zeros)
           hardlink_group when two or more paths in the tree share the inode:
                          the smallest of those paths (same label for all of them)
  symlink  target
  char/block devmajor, devminor
  any      xattrs: {name: value} for user.* attributes, only when present
           (value is the UTF-8 text, or "base64:..." if it is not valid UTF-8)
Directory mtimes are not included (they change during extraction).
--owner adds uid and gid; --holes adds "holes": true|false for regular files
(st_blocks * 512 < size; depends on the filesystem).
"""
import base64
import hashlib
import json
import os
import stat
import sys

BIG = 64 * 1024 * 1024
BLOCK = 64 * 1024


def file_digest(path, size):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        if size <= BIG:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                h.update(b)
            return "sha256", h.hexdigest()
        fd = f.fileno()
        zero = bytes(BLOCK)
        off = 0
        while off < size:
            try:
                data = os.lseek(fd, off, os.SEEK_DATA)
            except OSError:  # ENXIO: no data after off
                break
            blk = data - data % BLOCK
            if blk > off:
                off = blk
            b = os.pread(fd, BLOCK, off)
            if not b:
                break
            if b != zero[:len(b)]:
                h.update(off.to_bytes(8, "big") + hashlib.sha256(b).digest())
            off += BLOCK
        return "blocks_sha256", h.hexdigest()


def xattrs(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    out = {}
    for n in sorted(names):
        if not n.startswith("user."):
            continue
        v = os.getxattr(path, n, follow_symlinks=False)
        try:
            out[n] = v.decode("utf-8")
        except UnicodeDecodeError:
            out[n] = "base64:" + base64.b64encode(v).decode()
    return out


def walk(top):
    out = []

    def rec(dirb, relb):
        for name in sorted(os.listdir(dirb)):
            full = os.path.join(dirb, name)
            rel = relb + b"/" + name if relb else name
            st = os.lstat(full)
            out.append((rel, full, st))
            if stat.S_ISDIR(st.st_mode):
                rec(full, rel)

    rec(os.fsencode(top), b"")
    return out


def main(argv):
    args = argv[1:]
    owner = "--owner" in args
    holes = "--holes" in args
    args = [a for a in args if a not in ("--owner", "--holes")]
    if len(args) != 1 or not os.path.isdir(args[0]):
        print(__doc__, file=sys.stderr)
        return 2
    entries = walk(args[0])
    groups = {}
    for rel, full, st in entries:
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
            groups.setdefault((st.st_dev, st.st_ino), []).append(rel)
    result = []
    for rel, full, st in sorted(entries, key=lambda e: e[0]):
        m = st.st_mode
        o = {"path": os.fsdecode(rel)}
        if stat.S_ISREG(m):
            o["type"] = "file"
        elif stat.S_ISDIR(m):
            o["type"] = "dir"
        elif stat.S_ISLNK(m):
            o["type"] = "symlink"
        elif stat.S_ISCHR(m):
            o["type"] = "char"
        elif stat.S_ISBLK(m):
            o["type"] = "block"
        elif stat.S_ISFIFO(m):
            o["type"] = "fifo"
        elif stat.S_ISSOCK(m):
            o["type"] = "socket"
        else:
            o["type"] = "unknown"
        o["mode"] = stat.S_IMODE(m)
        if owner:
            o["uid"], o["gid"] = st.st_uid, st.st_gid
        if stat.S_ISREG(m):
            o["size"] = st.st_size
            o["mtime"] = int(st.st_mtime_ns // 10**9)
            k, v = file_digest(full, st.st_size)
            o[k] = v
            g = groups.get((st.st_dev, st.st_ino), [])
            if len(g) > 1:
                o["hardlink_group"] = os.fsdecode(min(g))
            if holes:
                o["holes"] = st.st_blocks * 512 < st.st_size
        elif stat.S_ISLNK(m):
            o["target"] = os.fsdecode(os.readlink(full))
        elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
            o["devmajor"], o["devminor"] = os.major(st.st_rdev), os.minor(st.st_rdev)
        xa = xattrs(full)
        if xa:
            o["xattrs"] = xa
        result.append(o)
    text = json.dumps(result, indent=1, ensure_ascii=False)
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape") + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
