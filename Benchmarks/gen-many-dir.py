#!/usr/bin/env python3
"""gen-many-dir.py DIR N [--per-dir M]

Writes an unpacked checkpoint directory (part 9) whose rootfs tree holds N tiny files (a few bytes each) in
directories of M (default 1000) files, for measuring how a decoder's memory grows with the number of entries
(`ckpt create DIR` then makes the archive). Deterministic.
"""
import os
import sys

out, n = sys.argv[1], int(sys.argv[2])
per_dir = int(sys.argv[sys.argv.index("--per-dir") + 1]) if "--per-dir" in sys.argv else 1000


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


write(f"{out}/metadata/config.dump", b'{"id":"many","name":"many","runtime":"crun"}', 0o600)
write(f"{out}/metadata/spec.dump", b'{"ociVersion":"1.1.0","annotations":{"io.container.manager":"libpod"}}', 0o600)
write(f"{out}/checkpoint/inventory.img", b"\x16\x31\x31\x58" + bytes(28), 0o600)
dirs = (n + per_dir - 1) // per_dir
width, fwidth = len(str(max(dirs - 1, 0))), len(str(max(n - 1, 0)))
for d in range(dirs):
    base = f"{out}/rootfs/tree/d{d:0{width}d}"
    os.makedirs(base, exist_ok=True)
    for f in range(d * per_dir, min(n, (d + 1) * per_dir)):
        with open(f"{base}/f{f:0{fwidth}d}", "wb") as fh:
            fh.write(b"%d\n" % f)
