#!/usr/bin/env python3
"""gen-many.py OUT N [--format v2|podman] [--per-dir M] [--zstd]

Writes a checkpoint archive whose rootfs diff holds N tiny files (a few bytes each) in directories of M
(default 1000) files, for measuring how the validator's memory grows with the number of entries:

  v2      a valid v2 archive as `ckpt create --deterministic` lays it out (pax headers named as CKA-V2-049
          asks, span and file digests in the index), written directly, without files on disk;
  podman  a Podman-profile v1 archive whose rootfs-diff.tar holds the files.

With --zstd a v2 archive says "compression":"zstd" in its header and is written through `zstd -3`.
Deterministic; streams the tar (the index's file list is kept in memory, about 100 bytes a file).
"""
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

out, n = sys.argv[1], int(sys.argv[2])
fmt = sys.argv[sys.argv.index("--format") + 1] if "--format" in sys.argv else "v2"
per_dir = int(sys.argv[sys.argv.index("--per-dir") + 1]) if "--per-dir" in sys.argv else 1000
zstd = "--zstd" in sys.argv

CONFIG = b'{"id":"many","name":"many","rootfsImageID":"x"}'
SPEC = b'{"ociVersion":"1.1.0","annotations":{"io.container.manager":"libpod"}}'
INVENTORY = b"\x16\x31\x31\x58" + bytes(28)


def tree():
    """(name relative to the tree, content or None for a directory), depth-first in byte order."""
    dirs = (n + per_dir - 1) // per_dir
    width = len(str(max(dirs - 1, 0)))
    fwidth = len(str(max(n - 1, 0)))
    for d in range(dirs):
        yield f"d{d:0{width}d}/", None
        for f in range(d * per_dir, min(n, (d + 1) * per_dir)):
            yield f"d{d:0{width}d}/f{f:0{fwidth}d}", f"{f}\n".encode()


# ---- v2 --------------------------------------------------------------------------------------------------


def octal(value, width):
    return b"%0*o\0" % (width - 1, value)


def block(name, mode, size, typeflag, link=b""):
    b = bytearray(512)
    b[0:len(name)] = name
    b[100:108] = octal(mode, 8)
    b[108:116] = octal(0, 8)
    b[116:124] = octal(0, 8)
    b[124:136] = octal(size, 12)
    b[136:148] = octal(0, 12)
    b[148:156] = b" " * 8
    b[156:157] = typeflag
    b[157:157 + len(link)] = link
    b[257:265] = b"ustar\x0000"
    b[329:337] = octal(0, 8)
    b[337:345] = octal(0, 8)
    b[148:156] = b"%06o\0 " % sum(b)
    return bytes(b)


def pad(size):
    return bytes((512 - size % 512) % 512)


class V2Writer:
    def __init__(self, f):
        self.f = f
        self.offset = 0
        self.span = hashlib.sha256()
        self.files = []

    def raw(self, data, hashed=True):
        self.f.write(data)
        if hashed:
            self.span.update(data)
        self.offset += len(data)

    def entry(self, name, mode, typeflag, data=b"", records=()):
        """Writes one entry (its pax header first when it has records); returns its header offset."""
        start = self.offset
        if records:
            body = b""
            for k, v in sorted(records):
                rec = b" %s=%s\n" % (k, v)
                length = len(rec) + 1
                while len(str(length)) + len(rec) != length:
                    length += 1
                body += str(length).encode() + rec
            plain = name.rstrip(b"/")
            d, _, base = plain.rpartition(b"/")
            pax_name = (d or b".") + b"/PaxHeaders/" + base
            self.raw(block(pax_name[:100], 0o644, len(body), b"x") + body + pad(len(body)))
        regular = typeflag == b"0"
        self.raw(block(name, mode, len(data) if regular else 0, typeflag))
        if regular:
            self.files.append((name.decode(), len(data), self.offset, hashlib.sha256(data).hexdigest()))
            self.raw(data, hashed=False)
            self.raw(pad(len(data)))
        return start

    def cut(self):
        digest = self.span.hexdigest()
        self.span = hashlib.sha256()
        return digest


def write_v2(path):
    sections = [("metadata", b"metadata/"), ("checkpoint", b"checkpoint/"), ("rootfs", b"rootfs/")]
    header = {"format": "checkpoint-archive", "version": 2, "profile": "podman",
              "compression": "zstd" if zstd else "none",
              "framed": False, "alignment": 0, "creator": "ckpt",
              "sections": [{"kind": k, "critical": True} for k, _ in sections]}
    header_text = json.dumps(header, separators=(",", ":")).encode() + b"\n"
    with open(path, "wb") as out:
        proc = subprocess.Popen(["zstd", "-q", "-3", "-T2", "-c"], stdin=subprocess.PIPE, stdout=out) if zstd else None
        f = proc.stdin if proc else out
        w = V2Writer(f)
        w.entry(b"cka-header.json", 0o644, b"0", header_text, [(b"CKA.version", b"2")])
        spans, bounds, counts = [], [], []

        def marker(kind, name):
            digest = w.cut()
            spans.append(digest)
            bounds.append(w.offset)
            counts.append(1)
            w.entry(name, 0o755, b"5", records=[(b"CKA.section", kind.encode()), (b"CKA.section.critical", b"1")])

        def add(name, mode, typeflag, data=b""):
            w.entry(name, mode, typeflag, data)
            counts[-1] += 1

        marker("metadata", b"metadata/")
        add(b"metadata/config.dump", 0o600, b"0", CONFIG)
        add(b"metadata/spec.dump", 0o600, b"0", SPEC)
        marker("checkpoint", b"checkpoint/")
        add(b"checkpoint/inventory.img", 0o600, b"0", INVENTORY)
        marker("rootfs", b"rootfs/")
        add(b"rootfs/tree/", 0o755, b"5")
        for name, data in tree():
            add(b"rootfs/tree/" + name.encode(), 0o755 if data is None else 0o644, b"5" if data is None else b"0",
                data or b"")
        spans.append(w.cut())
        index_offset = w.offset
        secs = []
        for i, (kind, name) in enumerate(sections):
            end = bounds[i + 1] if i + 1 < len(bounds) else index_offset
            secs.append('{"kind":"%s","critical":true,"path":"%s","start":%d,"end":%d,"entries":%d,"sha256":"%s"}'
                        % (kind, name.decode(), bounds[i], end, counts[i], spans[i + 1]))
        files = ",".join('{"path":%s,"size":%d,"offset":%d,"sha256":"%s"}' % (json.dumps(p), s, o, h)
                         for p, s, o, h in w.files)
        index = ('{"format":"checkpoint-archive-index","version":2,"header":{"path":"cka-header.json","start":0,'
                 '"end":%d,"sha256":"%s"},"sections":[%s],"files":[%s],"indexOffset":"%016x"}\n'
                 % (bounds[0], spans[0], ",".join(secs), files, index_offset)).encode()
        w.entry(b"cka-index.json", 0o644, b"0", index, [(b"CKA.index", b"1")])
        w.raw(bytes(1024))
        if proc:
            proc.stdin.close()
            proc.wait()


# ---- v1 (Podman) -----------------------------------------------------------------------------------------


def info(name, size=0, mode=0o644, dir=False):
    t = tarfile.TarInfo(name)
    t.size = size
    t.mode = mode
    t.type = tarfile.DIRTYPE if dir else tarfile.REGTYPE
    t.mtime = 1700000000
    return t


def write_podman(path):
    with tempfile.TemporaryFile(dir=os.path.dirname(os.path.abspath(path))) as diff:
        with tarfile.open(fileobj=diff, mode="w", format=tarfile.GNU_FORMAT) as t:
            for name, data in tree():
                if data is None:
                    t.addfile(info(name.rstrip("/"), mode=0o755, dir=True))
                else:
                    t.addfile(info(name, len(data)), io.BytesIO(data))
        size = diff.tell()
        diff.seek(0)
        with tarfile.open(path, mode="w", format=tarfile.GNU_FORMAT) as t:
            t.addfile(info("config.dump", len(CONFIG), 0o600), io.BytesIO(CONFIG))
            t.addfile(info("spec.dump", len(SPEC), 0o600), io.BytesIO(SPEC))
            t.addfile(info("checkpoint", mode=0o700, dir=True))
            t.addfile(info("checkpoint/inventory.img", len(INVENTORY), 0o600), io.BytesIO(INVENTORY))
            t.addfile(info("rootfs-diff.tar", size), diff)


(write_v2 if fmt == "v2" else write_podman)(out)
