#!/usr/bin/env python3
"""Helpers for make-archives.sh (source tree, member lists, Python writer, index).

Sub-commands:
  build-tree PARENT            create PARENT/tree (the differential-test source tree)
  build-big PARENT             create PARENT/big/sparse-9g.bin (9 GiB logical, 8 KiB data)
  list PARENT VARIANT OUT      write the NUL-separated, sorted member list of PARENT/tree
                               for VARIANT (full | ustar | v7) to OUT
  pywrite FORMAT PARENT LIST OUT
                               write OUT with Python tarfile (FORMAT gnu | pax) from the
                               NUL-separated LIST of paths relative to PARENT
  pybigsparse PARENT OUT       write a PAX archive holding PARENT/big/sparse-9g.bin as a
                               GNU sparse 1.0 member, built by hand with tarfile
  index OUTDIR PARENT BIGPARENT ARCHIVE-SPEC...
                               write OUTDIR/index.json; each ARCHIVE-SPEC is
                               file:writer:format:variant; prints lacking features to stderr

Everything is deterministic: fixed content (SHA-256 counter stream), fixed times,
walks sorted by byte order (the same order as GNU tar --sort=name and Go filepath.WalkDir).
"""
import errno
import hashlib
import json
import os
import stat
import sys
import tarfile

MTIME = 1700000000
SUBSEC_MTIME_NS = 1700000000_500000000
UID = GID = 1000
UNAME = "ckptuser"
GNAME = "ckptgroup"

ROOT = "tree"
LONGBASE = "long-basename-" + "b" * 96 + ".txt"            # basename 114 bytes
SPLITDIR = "long-split-dir-" + "d" * 45                     # 60 bytes
SPLITFILE = "long-split-file-" + "f" * 40 + ".txt"          # 60 bytes; path 126, ustar-splittable
DEEPDIRS = ["level%d-" % i + "x" * 55 for i in range(1, 5)]  # 62 bytes each
DEEPFILE = "deep-file.txt"                                  # path 275 bytes
UTF8NAME = "äöü-日本語.txt"
LONGTARGET = "long-target-" + "t" * 140                     # symlink target 152 bytes
SPARSE_SIZE = 4 * 1024 * 1024 + 1000
# 6 data regions: more than the 4 map entries of an old GNU header, so gnu/oldgnu
# need an extended sparse header; the file ends in data that is not block aligned
SPARSE_DATA = [(0, 4096), (512 * 1024, 4096), (1024 * 1024, 8192), (2 * 1024 * 1024, 4096),
               (3 * 1024 * 1024, 4096), (4 * 1024 * 1024, 1000)]
BIG_SIZE = 9 * 1024 ** 3
BIG_DATA = [(0, 4096), (BIG_SIZE - 4096, 4096)]
XATTRS = {"user.checkpoint.comment": b"hello xattr", "user.mime_type": b"text/plain",
          "user.utf8": "wert-äöü".encode()}

DEEPPATH = "/".join([ROOT, "deep"] + DEEPDIRS + [DEEPFILE])

# feature -> source path (relative to PARENT) whose presence carries the feature
FEATURE_PATHS = {
    "empty-file": ROOT + "/empty.txt",
    "small-text": ROOT + "/small.txt",
    "random-70k": ROOT + "/random-70k.bin",
    "exec-mode": ROOT + "/exec.sh",
    "sticky-dir": ROOT + "/sticky-dir",
    "longname": ROOT + "/" + LONGBASE,
    "longname-split": ROOT + "/" + SPLITDIR + "/" + SPLITFILE,
    "longpath": DEEPPATH,
    "longlink": ROOT + "/symlink-long",
    "utf8-name": ROOT + "/" + UTF8NAME,
    "hardlink": ROOT + "/hardlink-b.txt",
    "symlink-rel": ROOT + "/symlink-rel",
    "symlink-abs": ROOT + "/symlink-abs",
    "fifo": ROOT + "/fifo",
    "chardev": ROOT + "/dev-char",
    "blockdev": ROOT + "/dev-block",
}
# capability features: (needs path, writer/format capability key)
CAP_FEATURES = {
    "xattrs": ROOT + "/xattr.txt",
    "sparse": ROOT + "/sparse-4m.bin",
    "subsec-mtime": ROOT + "/subsec-mtime.txt",
    "uname": None,
}
# (writer, format) -> capabilities that the archive actually stores
CAPS = {
    ("gnutar", "gnu"): {"sparse", "uname"},
    ("gnutar", "oldgnu"): {"sparse", "uname"},
    ("gnutar", "ustar"): {"uname"},
    ("gnutar", "posix"): {"xattrs", "sparse", "uname", "subsec-mtime"},
    ("gnutar", "v7"): set(),
    ("bsdtar", "pax"): {"xattrs", "sparse", "uname"},  # default = restricted pax
    ("bsdtar", "ustar"): {"uname"},
    ("python", "gnu"): {"uname"},
    ("python", "pax"): {"xattrs", "uname", "subsec-mtime"},
    ("go", "pax"): {"xattrs", "uname", "subsec-mtime"},
    ("go", "gnu"): {"uname"},
    # big-sparse archives
    ("gnutar", "big-posix"): {"sparse", "uname"},
    ("gnutar", "big-gnu"): {"sparse", "uname"},
    ("python", "big-pax"): {"sparse", "uname"},
}


def stream(seed, n):
    """Deterministic pseudo-random bytes: SHA-256 in counter mode."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s:%d" % (seed.encode(), i)).digest()
        i += 1
    return bytes(out[:n])


def warn(msg):
    print(msg, file=sys.stderr)


def build_tree(parent):
    t = os.path.join(parent, ROOT)
    os.makedirs(t)
    J = lambda *p: os.path.join(t, *p)

    def wfile(rel, data, mode=0o644):
        with open(J(rel), "wb") as f:
            f.write(data)
        os.chmod(J(rel), mode)

    wfile("empty.txt", b"")
    wfile("small.txt", b"Hello, tar!\nThis is a small text file.\nLine 3.\n")
    wfile("random-70k.bin", stream("random-70k", 70 * 1024), 0o600)
    wfile("exec.sh", b"#!/bin/sh\necho hello\n", 0o755)
    os.mkdir(J("sticky-dir"))
    os.chmod(J("sticky-dir"), 0o1777)
    wfile("sticky-dir/inside.txt", b"inside sticky dir\n")
    wfile(LONGBASE, b"file with a 114-byte basename\n")
    os.mkdir(J(SPLITDIR))
    wfile(os.path.join(SPLITDIR, SPLITFILE), b"path > 100 bytes, splittable into ustar prefix/name\n")
    d = J("deep")
    os.mkdir(d)
    for x in DEEPDIRS:
        d = os.path.join(d, x)
        os.mkdir(d)
    with open(os.path.join(d, DEEPFILE), "wb") as f:
        f.write(b"path longer than 255 bytes\n")
    wfile(UTF8NAME, "UTF-8 name: äöü-日本語\n".encode())
    wfile("hardlink-a.txt", b"hard link content\n")
    os.link(J("hardlink-a.txt"), J("hardlink-b.txt"))
    os.symlink("small.txt", J("symlink-rel"))
    os.symlink("/absolute/target/does-not-exist", J("symlink-abs"))
    os.symlink(LONGTARGET, J("symlink-long"))
    os.mkfifo(J("fifo"), 0o644)
    for name, kind, dev in (("dev-char", stat.S_IFCHR, os.makedev(1, 3)),
                            ("dev-block", stat.S_IFBLK, os.makedev(7, 0))):
        try:
            os.mknod(J(name), kind | 0o640, dev)
        except OSError as e:
            warn("make-archives: cannot mknod %s (%s); device feature skipped" % (name, e.strerror))
    # sparse file
    with open(J("sparse-4m.bin"), "wb") as f:
        f.truncate(SPARSE_SIZE)
        for off, n in SPARSE_DATA:
            os.pwrite(f.fileno(), stream("sparse-%d" % off, n), off)
    os.chmod(J("sparse-4m.bin"), 0o644)
    st = os.stat(J("sparse-4m.bin"))
    if st.st_blocks * 512 >= st.st_size:
        warn("make-archives: filesystem did not create holes in sparse-4m.bin")
    # xattrs
    wfile("xattr.txt", b"file with user.* extended attributes\n")
    try:
        for k, v in XATTRS.items():
            os.setxattr(J("xattr.txt"), k, v)
    except OSError as e:
        warn("make-archives: cannot set user xattrs (%s); xattr feature skipped" % e.strerror)
        try:
            for k in os.listxattr(J("xattr.txt")):
                os.removexattr(J("xattr.txt"), k)
        except OSError:
            pass
    wfile("subsec-mtime.txt", b"mtime 1700000000.5\n")
    finish(t, {os.path.join(t, "subsec-mtime.txt"): SUBSEC_MTIME_NS})


_chown_warned = []


def chown(p):
    try:
        os.chown(p, UID, GID, follow_symlinks=False)
    except PermissionError as e:
        if not _chown_warned:
            warn("make-archives: cannot chown to %d:%d (%s); writers still record uid/gid %d via options"
                 % (UID, GID, e.strerror, UID))
            _chown_warned.append(1)


def finish(top, special_ns=None):
    """chown everything to 1000:1000 and set fixed times, children before parents."""
    special_ns = special_ns or {}
    for dirpath, dirnames, filenames in os.walk(top, topdown=False):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            if os.path.isdir(p) and not os.path.islink(p):
                continue  # handled as its own dirpath
            chown(p)
            ns = special_ns.get(p, MTIME * 10 ** 9)
            os.utime(p, ns=(ns, ns), follow_symlinks=False)
        chown(dirpath)
        os.utime(dirpath, ns=(MTIME * 10 ** 9,) * 2)


def build_big(parent):
    d = os.path.join(parent, "big")
    os.makedirs(d)
    p = os.path.join(d, "sparse-9g.bin")
    with open(p, "wb") as f:
        f.truncate(BIG_SIZE)
        for off, n in BIG_DATA:
            os.pwrite(f.fileno(), stream("big-%d" % off, n), off)
    os.chmod(p, 0o644)
    finish(d)


def walk_sorted(parent, rel):
    """Depth-first, entries of each directory sorted by byte order, parent first."""
    yield rel
    full = os.path.join(parent, rel)
    if os.path.isdir(full) and not os.path.islink(full):
        for name in sorted(os.listdir(os.fsencode(full))):
            yield from walk_sorted(parent, os.path.join(rel, os.fsdecode(name)))


def ustar_ok(name_bytes):
    if len(name_bytes) <= 99:
        return True
    # split at a '/' so that prefix <= 154 and name <= 99 (conservative for all writers)
    for i in range(len(name_bytes) - 1, 0, -1):
        if name_bytes[i:i + 1] == b"/":
            prefix, name = name_bytes[:i], name_bytes[i + 1:]
            if len(prefix) <= 154 and 0 < len(name) <= 99:
                return True
            if len(name) > 99:
                return False
    return False


def included(parent, rel, variant):
    full = os.path.join(parent, rel)
    st = os.lstat(full)
    b = os.fsencode(rel) + (b"/" if stat.S_ISDIR(st.st_mode) else b"")
    target = os.fsencode(os.readlink(full)) if stat.S_ISLNK(st.st_mode) else b""
    if variant == "full":
        return True
    if variant == "v7":
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            return False
        return len(b) <= 99 and len(target) <= 99
    if variant == "ustar":
        return ustar_ok(b) and len(target) <= 99
    raise SystemExit("unknown variant " + variant)


def member_paths(parent, variant, root=ROOT):
    out = []
    for rel in walk_sorted(parent, root):
        if not included(parent, rel, variant):
            continue
        # a path whose parent directory was dropped is dropped too
        if out and "/" in rel and os.path.dirname(rel) not in out:
            continue
        out.append(rel)
    return out


def write_list(parent, variant, out):
    with open(out, "wb") as f:
        for rel in member_paths(parent, variant):
            f.write(os.fsencode(rel) + b"\0")


def read_list(path):
    with open(path, "rb") as f:
        return [os.fsdecode(x) for x in f.read().split(b"\0") if x]


def pywrite(fmt, parent, listfile, out):
    format_ = {"gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT}[fmt]

    def filt(ti):
        ti.uid, ti.gid, ti.uname, ti.gname = UID, GID, UNAME, GNAME
        return ti

    with tarfile.open(out, "w", format=format_, encoding="utf-8", errors="surrogateescape") as tf:
        for rel in read_list(listfile):
            full = os.path.join(parent, rel)
            ti = tf.gettarinfo(full, arcname=rel)
            ti = filt(ti)
            if fmt == "pax" and (ti.isreg() or ti.isdir()) and not ti.islnk():
                for k in sorted(os.listxattr(full, follow_symlinks=False)):
                    if k.startswith("user."):
                        v = os.getxattr(full, k, follow_symlinks=False)
                        ti.pax_headers["SCHILY.xattr." + k] = v.decode("utf-8", "surrogateescape")
            if ti.isreg():
                with open(full, "rb") as f:
                    tf.addfile(ti, f)
            else:
                tf.addfile(ti)


def pybigsparse(parent, out):
    """GNU sparse format 1.0 member written through tarfile's PAX writer by hand
    (tarfile itself cannot write sparse files)."""
    import io
    rel = "big/sparse-9g.bin"
    full = os.path.join(parent, rel)
    st = os.stat(full)
    mp = ("%d\n" % len(BIG_DATA)) + "".join("%d\n%d\n" % (o, n) for o, n in BIG_DATA)
    mp = mp.encode()
    mp += b"\0" * (-len(mp) % 512)
    data = bytearray(mp)
    with open(full, "rb") as f:
        for off, n in BIG_DATA:
            data += os.pread(f.fileno(), n, off)
    ti = tarfile.TarInfo("big/GNUSparseFile.0/sparse-9g.bin")
    ti.size = len(data)
    ti.mode = stat.S_IMODE(st.st_mode)
    ti.mtime = int(st.st_mtime)
    ti.uid, ti.gid, ti.uname, ti.gname = UID, GID, UNAME, GNAME
    ti.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0",
                      "GNU.sparse.name": rel, "GNU.sparse.realsize": str(st.st_size)}
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tf:
        dti = tf.gettarinfo(os.path.join(parent, "big"), arcname="big")
        dti.uid, dti.gid, dti.uname, dti.gname = UID, GID, UNAME, GNAME
        tf.addfile(dti)
        tf.addfile(ti, io.BytesIO(bytes(data)))


def has_holes(path):
    st = os.lstat(path)
    return stat.S_ISREG(st.st_mode) and st.st_blocks * 512 < st.st_size


def has_xattrs(path):
    try:
        return any(k.startswith("user.") for k in os.listxattr(path, follow_symlinks=False))
    except OSError:
        return False


def index(outdir, parent, bigparent, specs):
    entries = []
    for spec in specs:
        fname, writer, fmt, variant = spec.split(":")
        if variant == "big":
            paths = member_paths(bigparent, "full", root="big")
        else:
            paths = member_paths(parent, variant)
        pset = set(paths)
        caps = CAPS[(writer, fmt)]
        feats, lacks = ["dir"], []
        if variant == "big":
            feats += ["big-sparse-9g", "size-over-8g"]
            feats += sorted(caps)
        else:
            for feat, p in FEATURE_PATHS.items():
                exists = os.path.lexists(os.path.join(parent, p))
                (feats if exists and p in pset else lacks).append(feat)
            for feat, p in CAP_FEATURES.items():
                ok = feat in caps
                if p is not None:
                    full = os.path.join(parent, p)
                    ok = ok and p in pset and os.path.lexists(full)
                    if feat == "xattrs":
                        ok = ok and has_xattrs(full)
                    if feat == "sparse":
                        if not ok and p in pset and has_holes(full):
                            feats.append("sparse-dense")  # holes stored as data
                        ok = ok and has_holes(full)
                (feats if ok else lacks).append(feat)
        notes = []
        if writer == "gnutar" and fmt in ("posix", "big-posix") and variant != "v7":
            notes.append("GNU sparse 1.0 members are named %d/GNUSparseFile.%p/%f in the ustar header")
        if writer == "bsdtar" and fmt == "pax":
            notes.append("bsdtar default format (restricted pax): pax records only when needed, "
                         "sub-second mtime dropped, xattrs also as LIBARCHIVE.xattr.* (base64)")
        if writer == "python" and fmt == "pax":
            notes.append("every member has a pax mtime record (tarfile stores float mtimes)")
        if writer == "python" and fmt == "big-pax":
            notes.append("sparse 1.0 member hand-built with tarfile (map block + data), name in GNU.sparse.name")
        entries.append({"file": fname, "writer": writer, "format": fmt, "variant": variant,
                        "features": sorted(feats), "lacks": sorted(lacks), "paths": paths,
                        "uid": UID, "gid": GID,
                        "uname": UNAME if "uname" in caps else "",
                        "gname": GNAME if "uname" in caps else "",
                        "mtime": MTIME, "notes": notes})
        if lacks:
            warn("make-archives: %-32s lacks: %s" % (fname, ", ".join(sorted(lacks))))
    doc = {"root": ROOT, "features_help": {
        "longname": "basename > 100 bytes (" + FEATURE_PATHS["longname"] + ")",
        "longname-split": "path > 100 bytes that fits ustar prefix+name",
        "longpath": "path > 255 bytes",
        "longlink": "symlink target > 100 bytes",
        "sparse": "sparse file stored as a sparse member",
        "sparse-dense": "sparse source file stored as plain data (holes as zeros)",
        "subsec-mtime": "tree/subsec-mtime.txt keeps mtime 1700000000.5 (else truncated to 1700000000)",
        "uname": "uname/gname ckptuser/ckptgroup recorded",
        "xattrs": "SCHILY.xattr.user.* records on tree/xattr.txt",
    }, "archives": entries, "compressed": [
        {"file": "compressed/gnutar-posix.tar.gz", "source": "gnutar-posix.tar", "compression": "gzip",
         "note": "gzip -n -9; pylist.py and gotar list read it directly"},
        {"file": "compressed/gnutar-posix.tar.zst", "source": "gnutar-posix.tar", "compression": "zstd",
         "note": "zstd -19; Python 3.11 tarfile and Go stdlib cannot read zstd: pipe through zstd -dc"},
    ]}
    with open(os.path.join(outdir, "index.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False, sort_keys=False)
        f.write("\n")


def main(argv):
    if not argv:
        raise SystemExit(__doc__)
    cmd, args = argv[0], argv[1:]
    if cmd == "build-tree":
        build_tree(*args)
    elif cmd == "build-big":
        build_big(*args)
    elif cmd == "list":
        write_list(*args)
    elif cmd == "pywrite":
        pywrite(*args)
    elif cmd == "pybigsparse":
        pybigsparse(*args)
    elif cmd == "index":
        index(args[0], args[1], args[2], args[3:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
