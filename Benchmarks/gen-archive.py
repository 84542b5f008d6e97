#!/usr/bin/env python3
"""gen-archive.py OUT.tar SIZE_MIB [--small N]

Writes a deterministic tar archive of about SIZE_MIB MiB shaped like a checkpoint: a few large files
whose 4 KiB pages are a mix of zero pages, random pages and text-like pages (so gzip and zstd see
realistic ratios), plus N small files (default 2000). Uses Python's tarfile (PAX format).
"""
import io
import random
import sys
import tarfile

out, size_mib = sys.argv[1], int(sys.argv[2])
small = int(sys.argv[sys.argv.index("--small") + 1]) if "--small" in sys.argv else 2000
rng = random.Random(1234)
words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(512)]


def page(kind):
    if kind < 4:
        return bytes(4096)
    if kind < 7:
        return rng.randbytes(4096)
    text = b" ".join(rng.choice(words) for _ in range(800))
    return (text * 2)[:4096]


class PageStream(io.RawIOBase):
    def __init__(self, size):
        self.left = size
        self.buf = b""

    def readable(self):
        return True

    def readinto(self, b):
        while len(self.buf) < len(b) and self.left > len(self.buf):
            self.buf += b"".join(page(rng.randrange(10)) for _ in range(64))
        n = min(len(b), self.left, len(self.buf))
        b[:n] = self.buf[:n]
        self.buf = self.buf[n:]
        self.left -= n
        return n


def info(name, size):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mtime, ti.mode, ti.uid, ti.gid = size, 1700000000, 0o644, 0, 0
    return ti


total = size_mib << 20
big_files = max(1, total // (100 << 20))
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
    for i in range(small):
        data = rng.randbytes(rng.randint(0, 4096))
        tar.addfile(info(f"rootfs/etc/small-{i:05d}.conf", len(data)), io.BytesIO(data))
    per = (total - small * 2048) // big_files
    for i in range(big_files):
        tar.addfile(info(f"checkpoint/pages-{i + 1}.img", per), io.BufferedReader(PageStream(per), 1 << 20))
