#!/usr/bin/env python3
"""pylist.py [--sha256] ARCHIVE -- reference lister (Python tarfile), JSON Lines on stdout.

One object per member, keys in this order:
  path, type, size, mode, uid, gid, uname, gname, mtime,
  linkname (symlink/hardlink only), devmajor/devminor (char/block only),
  xattrs (only when the member has SCHILY.xattr.* pax records; prefix stripped).

path is TarInfo.name exactly as tarfile gives it (directories lose their trailing
"/"). size is TarInfo.size (the logical size for sparse members). mtime is an int
when integral, else a float. Names are decoded as UTF-8 with surrogateescape and
written back as the original bytes. Compressed archives (gz/bz2/xz) are accepted.
--sha256 (not part of the `ckpt list --json` schema) adds "sha256": hex digest of
the member content as tarfile's extractfile() returns it, for type "file" only
(sparse holes read as zeros).
Exit 1 with a message on stderr if tarfile raises ReadError (or another TarError).
"""
import hashlib
import json
import sys
import tarfile

TYPES = {
    tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.CONTTYPE: "file",
    tarfile.GNUTYPE_SPARSE: "file", tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink", tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block",
    tarfile.FIFOTYPE: "fifo",
}
XATTR = "SCHILY.xattr."


def member_obj(ti):
    t = TYPES.get(ti.type, ti.type.decode("latin-1"))
    mtime = ti.mtime
    if isinstance(mtime, float) and mtime.is_integer():
        mtime = int(mtime)
    o = {"path": ti.name, "type": t, "size": ti.size, "mode": ti.mode,
         "uid": ti.uid, "gid": ti.gid, "uname": ti.uname, "gname": ti.gname,
         "mtime": mtime}
    if t in ("symlink", "hardlink"):
        o["linkname"] = ti.linkname
    if t in ("char", "block"):
        o["devmajor"] = ti.devmajor
        o["devminor"] = ti.devminor
    xa = {k[len(XATTR):]: v for k, v in sorted(ti.pax_headers.items()) if k.startswith(XATTR)}
    if xa:
        o["xattrs"] = xa
    return o


def content_sha256(tf, ti):
    h = hashlib.sha256()
    f = tf.extractfile(ti)
    while True:
        b = f.read(1 << 20)
        if not b:
            break
        h.update(b)
    return h.hexdigest()


def main(argv):
    digest = "--sha256" in argv[1:]
    argv = [a for a in argv if a != "--sha256"]
    if len(argv) != 2:
        print("usage: pylist.py [--sha256] ARCHIVE", file=sys.stderr)
        return 2
    out = sys.stdout.buffer
    try:
        with tarfile.open(argv[1], "r:*", encoding="utf-8", errors="surrogateescape") as tf:
            for ti in tf:
                o = member_obj(ti)
                if digest and o["type"] == "file":
                    o["sha256"] = content_sha256(tf, ti)
                line = json.dumps(o, ensure_ascii=False, separators=(",", ":"))
                out.write(line.encode("utf-8", "surrogateescape") + b"\n")
    except (tarfile.TarError, EOFError) as e:  # ReadError, CompressionError, ...
        out.flush()
        print("pylist: %s: %s" % (argv[1], e), file=sys.stderr)
        return 1
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
