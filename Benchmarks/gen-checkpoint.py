#!/usr/bin/env python3
"""gen-checkpoint.py DIR [--big N] [--big-mib M] [--small N] [--checkpoint-mib M]

Writes an unpacked checkpoint directory shaped like the podman#24984 measurement: a rootfs diff of N (11)
files of M (100) MiB of random data plus a few thousand small files, and a checkpoint/ directory of
200 MiB of CRIU-image-sized files. Deterministic (seeded).
"""
import os
import random
import sys

out = sys.argv[1]
def opt(name, default):
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default

big, big_mib, small, ckpt_mib = opt("--big", 11), opt("--big-mib", 100), opt("--small", 3000), opt("--checkpoint-mib", 200)
rng = random.Random(24984)
def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)

write(f"{out}/metadata/config.dump", b'{"id":"bench","name":"bench","runtime":"crun"}', 0o600)
write(f"{out}/metadata/spec.dump", b'{"ociVersion":"1.1.0","annotations":{"io.container.manager":"libpod"}}', 0o600)
write(f"{out}/checkpoint/inventory.img", b"\x16\x31\x31\x58" + bytes(40), 0o600)
left = ckpt_mib << 20
i = 0
while left > 0:
    n = min(left, 32 << 20)
    write(f"{out}/checkpoint/pages-{i + 1}.img", rng.randbytes(n), 0o600)
    left -= n
    i += 1
for i in range(big):
    write(f"{out}/rootfs/tree/data/big-{i:02d}.bin", rng.randbytes(big_mib << 20))
for i in range(small):
    write(f"{out}/rootfs/tree/usr/share/small/{i // 100:02d}/f-{i:05d}.txt", rng.randbytes(rng.randint(10, 8192)))
