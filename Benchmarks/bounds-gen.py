#!/usr/bin/env python3
"""bounds-gen.py OUT CASE...

Writes the hostile archives of the resource-bound checks (Benchmarks/bounds.sh, and the quick ones of
Tests/CheckpointArchiveTests/ResourceBoundsTests.swift) into OUT. Every archive is a v1 Podman checkpoint
(config.dump, spec.dump, checkpoint/inventory.img, then the hostile part), so a decoder reaches the hostile part
instead of refusing the profile first. CASE is one of:

  pax-1tb-header   a pax extended header whose size field claims 1 TiB (no body follows)
  pax-1tb-size     checkpoint/pages-1.img with a pax size record of 1 TiB and no data
  deep-100k        rootfs-diff.tar holding one directory 100,000 components deep (200,000-byte name)
  deep-32k         rootfs-diff.tar holding a directory 32,000 components deep (64,000 bytes: within the limit)
  deep-wide        rootfs-diff.tar holding 16 directories 1,000 components deep (60-byte components, 61,000-byte
                   names) under distinct top directories: within every limit, each entry has 999 parents
  million          rootfs-diff.tar holding 1,000,000 empty files in 1,000 directories (written as million.tar)
  sparse-10g PATH  PATH is a v2 archive whose rootfs holds the empty file rootfs/tree/big.bin: its size field
                   becomes 10 GiB (base-256) and a 10 GiB hole is inserted after its header (written as
                   sparse-10g.tar; the v2 digests no longer match, so it is invalid, but only at the end)
"""
import os
import sys

BLOCK = 512


def octal(n, width):
    return ("%0*o" % (width - 1, n)).encode() + b"\0"


def header(name, size=0, typeflag=b"0", mode=0o644, size_field=None):
    """A ustar header block; names longer than 100 bytes need a pax header (see pax())."""
    h = bytearray(BLOCK)
    raw = name.encode()[:100]
    h[0:len(raw)] = raw
    h[100:108] = octal(mode, 8)
    h[108:116] = octal(0, 8)
    h[116:124] = octal(0, 8)
    h[124:136] = size_field if size_field is not None else octal(size, 12)
    h[136:148] = octal(1700000000, 12)
    h[156:157] = typeflag
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[148:156] = b" " * 8
    h[148:156] = ("%06o\0 " % sum(h)).encode()
    return bytes(h)


def record(key, value):
    body = " %s=%s\n" % (key, value)
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n = len(str(n)) + len(body)
    return (str(n) + body).encode()


def padded(data):
    return data + bytes(-len(data) % BLOCK)


def pax(records, name="PaxHeaders/x"):
    body = b"".join(record(k, v) for k, v in records)
    return header(name, len(body), b"x") + padded(body)


def entry(name, data=b"", typeflag=b"0", mode=0o644):
    out = b""
    if len(name.encode()) > 100:
        out += pax([("path", name)])
    return out + header(name, len(data), typeflag, mode) + padded(data)


END = bytes(2 * BLOCK)


def podman_prefix():
    config = b'{"id":"bounds","name":"bounds","rootfsImageID":"abc"}'
    spec = b'{"ociVersion":"1.2.0","annotations":{"io.container.manager":"libpod"}}'
    inventory = bytes([0x16, 0x31, 0x31, 0x58, 0x24, 0, 0, 0]) + bytes(24)
    return (entry("config.dump", config, mode=0o600) + entry("spec.dump", spec, mode=0o600)
            + entry("checkpoint/", typeflag=b"5", mode=0o755) + entry("checkpoint/inventory.img", inventory, mode=0o600))


def write_podman(path, nested_writer):
    """Writes a Podman archive whose rootfs-diff.tar is produced by nested_writer(file) (streamed to a temporary
    file first, so that the outer header can carry its size)."""
    tmp = path + ".nested"
    with open(tmp, "wb") as f:
        nested_writer(f)
    size = os.path.getsize(tmp)
    with open(path, "wb") as out:
        out.write(podman_prefix())
        out.write(header("rootfs-diff.tar", size))
        with open(tmp, "rb") as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk)
        out.write(bytes(-size % BLOCK))
        out.write(END)
    os.unlink(tmp)


def deep(components):
    name = "a/" * components
    return lambda f: f.write(entry(name, typeflag=b"5", mode=0o755) + END)


def deep_wide(f):
    for top in range(16):
        name = "t%02d/" % top + ("c" * 60 + "/") * 999
        f.write(entry(name, typeflag=b"5", mode=0o755))
    f.write(END)


def million(f):
    for d in range(1000):
        f.write(header("d%03d/" % d, 0, b"5", 0o755))
        for i in range(1000):
            f.write(header("d%03d/f%06d" % (d, d * 1000 + i), 0))
    f.write(END)


def sparse_10g(src, out):
    with open(src, "rb") as f:
        data = f.read()
    target = b"rootfs/tree/big.bin"
    at = 0
    while True:
        block = data[at:at + BLOCK]
        if len(block) < BLOCK:
            sys.exit("bounds-gen: %s holds no header for %s" % (src, target.decode()))
        if block[:len(target) + 1] == target + b"\0" and block[156:157] in (b"0", b"\0"):
            break
        at += BLOCK
    size = 10 << 30
    field = bytes([0x80]) + size.to_bytes(11, "big")  # base-256: 10 GiB does not fit 11 octal digits
    h = bytearray(block)
    h[124:136] = field
    h[148:156] = b" " * 8
    h[148:156] = ("%06o\0 " % sum(h)).encode()
    with open(out, "wb") as f:
        f.write(data[:at] + bytes(h))
        f.seek(size, os.SEEK_CUR)  # the hole: 10 GiB of data that reads as zeros
        f.write(data[at + BLOCK:])


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    args = sys.argv[2:]
    while args:
        case = args.pop(0)
        path = os.path.join(out, case + ".tar")
        if case == "pax-1tb-header":
            size_field = bytes([0x80]) + (1 << 40).to_bytes(11, "big")
            with open(path, "wb") as f:
                f.write(podman_prefix() + header("PaxHeaders/huge", typeflag=b"x", size_field=size_field) + END)
        elif case == "pax-1tb-size":
            with open(path, "wb") as f:
                f.write(podman_prefix() + pax([("size", str(1 << 40))]) + header("checkpoint/pages-1.img", 0) + END)
        elif case == "deep-100k":
            write_podman(path, deep(100_000))
        elif case == "deep-32k":
            write_podman(path, deep(32_000))
        elif case == "deep-wide":
            write_podman(path, deep_wide)
        elif case == "million":
            write_podman(path, million)
        elif case == "sparse-10g":
            sparse_10g(args.pop(0), path)
        else:
            sys.exit("bounds-gen: unknown case %s" % case)


main()
