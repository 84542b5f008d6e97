#!/usr/bin/env python3
"""make-quirks.py OUTDIR -- hand-crafted edge-case archives + OUTDIR/quirks.json.

Each archive is built byte by byte (no external tool), so the output is
deterministic. quirks.json lists, per archive, what it exercises and how the two
reference listers behave on it (observed with Python 3.11.7 tarfile and Go 1.19.8
archive/tar):
  agree    true when `pylist.py` and `gotar list` print the same members (after
           removing Go's trailing "/" on directory names) and exit alike
  python   / go: short description of each lister's result
crosscheck.py --quirks OUTDIR re-runs both listers and checks the agree flags.
"""
import json
import os
import sys

Z = b"\0" * 512
E = Z + Z


def oct_(n, w):
    return ("%0*o" % (w - 1, n)).encode() + b"\0"


def hdr(name=b"f", mode=b"0000644\0", uid=b"0001750\0", gid=b"0001750\0", size=0,
        mtime=b"14524770400\0", typ=b"0", link=b"", magic=b"ustar\x0000", uname=b"u",
        gname=b"g", major=b"", minor=b"", prefix=b"", raw_size=None, chk=None, extra=()):
    """A 512-byte header; numeric fields are raw bytes, size an int unless raw_size."""
    b = bytearray(512)

    def put(off, w, v):
        v = v[:w]
        b[off:off + len(v)] = v

    put(0, 100, name); put(100, 8, mode); put(108, 8, uid); put(116, 8, gid)
    put(124, 12, raw_size if raw_size is not None else oct_(size, 12)); put(136, 12, mtime)
    put(156, 1, typ); put(157, 100, link); put(257, 8, magic); put(265, 32, uname)
    put(297, 32, gname); put(329, 8, major); put(337, 8, minor); put(345, 155, prefix)
    for off, v in extra:
        put(off, len(v), v)
    b[148:156] = b" " * 8
    c = sum(b) if chk is None else chk
    b[148:156] = ("%06o" % c).encode() + b"\0 "
    return bytes(b)


def data(d):
    return d + b"\0" * (-len(d) % 512)


def pax(recs, typ=b"x", name=b"PaxHeader/f"):
    body = b""
    for k, v in recs:
        rest = b" " + k + b"=" + v + b"\n"
        n = len(rest) + 1
        while len(str(n)) + len(rest) != n:
            n += 1
        body += str(n).encode() + rest
    return hdr(name=name, typ=typ, size=len(body)) + data(body)


GNU = b"ustar  \0"
F1 = hdr(name=b"a.txt", size=3) + data(b"abc")
F2 = hdr(name=b"b.txt", size=3) + data(b"xyz")

# (file, description, agree, python, go, blocks)
QUIRKS = [
    ("one-zero-block-then-member", "a single zero block between two members", False,
     "stops at the zero block: lists a.txt only, exit 0",
     "lists a.txt, then error 'invalid tar header' (zero block followed by non-zero block)",
     [F1, Z, F2, E]),
    ("bad-checksum-second", "second header has a wrong checksum", False,
     "lists a.txt, then silently stops, exit 0 (invalid header after the first is treated as EOF)",
     "lists a.txt, then error 'invalid tar header'",
     [F1, hdr(name=b"b.txt", size=3, chk=1234) + data(b"xyz"), E]),
    ("bad-checksum-first", "first header has a wrong checksum", True,
     "ReadError 'bad checksum', exit 1", "error 'invalid tar header', exit 1",
     [hdr(name=b"a", chk=7), E]),
    ("truncated-in-data", "archive ends inside the data of the second member", True,
     "lists a.txt, b.txt, then ReadError 'unexpected end of data'",
     "lists a.txt, b.txt, then 'unexpected EOF'",
     [F1, hdr(name=b"b.txt", size=3000), b"x" * 700]),
    ("no-eof-marker", "two members, no end-of-archive zero blocks", True,
     "both members, exit 0", "both members, exit 0", [F1, F2]),
    ("garbage-after-eof", "non-tar bytes after the two zero blocks", True,
     "a.txt, exit 0", "a.txt, exit 0", [F1, E, b"garbage!" * 64]),
    ("one-zero-block-at-end", "archive ends with a single zero block", True,
     "a.txt, exit 0", "a.txt, exit 0", [F1, Z]),
    ("empty-file", "zero-length file", False,
     "ReadError 'empty file', exit 1", "no members, exit 0", [b""]),
    ("zero-blocks-only", "just the two end-of-archive blocks", True,
     "no members, exit 0", "no members, exit 0", [E]),
    ("nonutf8-name", "ustar name and uname with Latin-1 bytes (caf\\xe9.txt, \\xfcser)", False,
     "raw bytes (surrogateescape) written back unchanged", "each invalid byte becomes U+FFFD in JSON",
     [hdr(name=b"caf\xe9.txt", uname=b"\xfcser"), E]),
    ("hdrcharset-binary", "pax hdrcharset=BINARY with a non-UTF-8 path", False,
     "raw bytes", "U+FFFD", [pax([(b"hdrcharset", b"BINARY"), (b"path", b"bin\xff")]), hdr(name=b"x"), E]),
    ("xattr-binary-and-empty", "SCHILY.xattr value with bytes ff 00 01, and an empty value", False,
     "raw bytes; empty value kept", "U+FFFD for ff; empty value kept",
     [pax([(b"SCHILY.xattr.user.bin", b"\xff\x00\x01"), (b"SCHILY.xattr.user.empty", b"")]), hdr(name=b"x"), E]),
    ("global-pax", "pax global header (xattr, mtime, uname) then one member with and one without an 'x' header", False,
     "no member for the 'g' header; its mtime/uname/xattr apply to every later member (the 'x' record merges over it)",
     "the 'g' header is returned as a member (type 'g', name pax_global_header, mtime -62135596800); its values are NOT applied to later members",
     [pax([(b"SCHILY.xattr.user.g", b"global"), (b"mtime", b"1600000000"), (b"uname", b"gl")], typ=b"g", name=b"pax_global_header"),
      pax([(b"SCHILY.xattr.user.own", b"own")], name=b"P/a"), hdr(name=b"with-x"), hdr(name=b"without-x"), E]),
    ("posix-volume-label", "GNU tar posix -V: global header carrying GNU.volume.label", False,
     "label invisible", "'g' member named /tmp/GlobalHead.1",
     [pax([(b"GNU.volume.label", b"My Label")], typ=b"g", name=b"/tmp/GlobalHead.1"),
      hdr(name=b"d/", typ=b"5"), E]),
    ("gnu-volume-label", "GNU 'V' volume label header", True, "type 'V'", "type 'V'",
     [hdr(name=b"My Label", typ=b"V", magic=GNU, mode=b"", uname=b"", gname=b""), hdr(name=b"d/", typ=b"5", magic=GNU), E]),
    ("gnu-incremental-atime", "GNU format with atime/ctime set (as GNU tar -g writes): 'D' dumpdir and a file", False,
     "BUG: the octal atime in bytes 345.. is taken as a ustar prefix, names become '15303062540/d/' and '15303062540/d/f'",
     "names 'd/' (type 'D') and 'd/f'; atime/ctime parsed",
     [hdr(name=b"d/", typ=b"D", magic=GNU, size=4, extra=((345, b"15303062540\0"), (357, b"15303062540\0"))) + data(b"Yf\0\0"),
      hdr(name=b"d/f", size=2, magic=GNU, extra=((345, b"15303062540\0"), (357, b"15303062540\0"))) + data(b"x\n"), E]),
    ("gnu-magic-ascii-junk-prefix", "GNU magic with ASCII text where GNU keeps atime", True,
     "'junk/g' (prefix joined)", "'junk/g' (Go's fallback for pre-1.8 Go archives)",
     [hdr(name=b"g", magic=GNU, prefix=b"junk"), E]),
    ("gnu-multivolume-M", "GNU 'M' continuation header", True, "type 'M'", "type 'M'",
     [hdr(name=b"big", typ=b"M", magic=GNU, size=3, mode=b"", uname=b"", gname=b"") + data(b"abc"), E]),
    ("hardlink-with-data", "hard link header with size 3 and a data block", False,
     "lists l with size 3, then the data block is parsed as a header: silent stop, exit 0",
     "lists l with size 3, then error 'invalid tar header' (header-only types have no data)",
     [F1, hdr(name=b"l", typ=b"1", link=b"a.txt", size=3) + data(b"abc"), E]),
    ("symlink-with-data", "symlink header with size 3 and a data block", False,
     "silent stop after the symlink, exit 0", "error 'invalid tar header'",
     [hdr(name=b"sl", typ=b"2", link=b"t", size=3) + data(b"abc"), F1, E]),
    ("typeflag-7-and-unknown", "contiguous file '7' and unknown typeflag 'Z' with data", True,
     "'7' -> file; 'Z' raw, data skipped", "same", [hdr(name=b"c7", typ=b"7", size=3) + data(b"abc"),
                                                    hdr(name=b"xz", typ=b"Z", size=3) + data(b"abc"), F1, E]),
    ("trailing-slash-variants", "type '0' named 'notdir/', type NUL named 'aregdir/', type '5' without slash", True,
     "notdir/ stays a file with its slash; aregdir -> dir (slash stripped); dirnoslash dir",
     "same (aregdir/ keeps its slash)", [hdr(name=b"notdir/", typ=b"0"), hdr(name=b"aregdir/", typ=b"\0"),
                                        hdr(name=b"dirnoslash", typ=b"5"), E]),
    ("pax-size-override", "pax size=3 overrides header size 999", True, "size 3", "size 3",
     [pax([(b"size", b"3")]), hdr(name=b"s", size=999) + data(b"abc"), E]),
    ("pax-empty-path", "pax record 'path=' (empty value)", False,
     "path '' (empty string)", "empty record deletes the keyword: header name 'orig' is used",
     [pax([(b"path", b"")]), hdr(name=b"orig"), E]),
    ("pax-mtime-10-digits", "pax mtime=1700000000.1234567891", True,
     "float 1700000000.1234567", "truncated to ns, same float", [pax([(b"mtime", b"1700000000.1234567891")]), hdr(name=b"a"), E]),
    ("pax-mtime-rounds-up", "pax mtime=1700000000.9999999999", True,
     "float rounds to 1700000001 (printed as int)", "ns 999999999; as float64 also 1700000001",
     [pax([(b"mtime", b"1700000000.9999999999")]), hdr(name=b"o"), E]),
    ("pax-mtime-exponent", "pax mtime=1e9", False, "accepted (float('1e9'))", "error 'invalid tar header'",
     [pax([(b"mtime", b"1e9")]), hdr(name=b"b"), E]),
    ("pax-mtime-plus", "pax mtime=+5", True, "accepted: 5", "accepted: 5 (strconv.ParseInt allows '+')",
     [pax([(b"mtime", b"+5")]), hdr(name=b"c"), E]),
    ("pax-mtime-negative-fraction", "pax mtime=-0.5", True, "-0.5", "-0.5",
     [pax([(b"mtime", b"-0.5")]), hdr(name=b"d"), E]),
    ("pax-uid-huge", "pax uid=2^32, gid=99999999999", True, "as given", "as given",
     [pax([(b"uid", b"4294967296"), (b"gid", b"99999999999")]), hdr(name=b"u"), E]),
    ("pax-path-dir-slash", "pax path 'paxdir/' on a '5' header", True, "'paxdir'", "'paxdir/'",
     [pax([(b"path", b"paxdir/")]), hdr(name=b"d", typ=b"5"), E]),
    ("pax-path-over-prefix", "pax path overrides name+prefix; second member uses prefix", True,
     "from-pax, pre2/name2", "same", [pax([(b"path", b"from-pax")]), hdr(name=b"name", prefix=b"pre"),
                                       hdr(name=b"name2", prefix=b"pre2"), E]),
    ("pax-linkpath-hardlink", "pax linkpath overrides the hard link's linkname field", True, "a.txt", "a.txt",
     [F1, pax([(b"linkpath", b"a.txt")]), hdr(name=b"h", typ=b"1", link=b"zzz"), E]),
    ("sparse-1.0-realsize", "hand-made GNU sparse 1.0 member: map '1 / 0 3', realsize 100", True,
     "file, size 100", "file, size 100",
     [pax([(b"GNU.sparse.major", b"1"), (b"GNU.sparse.minor", b"0"), (b"GNU.sparse.name", b"real"),
           (b"GNU.sparse.realsize", b"100")]), hdr(name=b"x", size=1024) + data(b"1\n0\n3\n") + data(b"abc"), E]),
    ("base256-negative-uid", "uid field ff*8 (base-256 -1)", True, "-1", "-1", [hdr(name=b"n", uid=b"\xff" * 8), E]),
    ("base256-size", "size in base-256", True, "3", "3",
     [hdr(name=b"sz", raw_size=b"\x80" + b"\0" * 10 + b"\x03") + data(b"abc"), E]),
    ("huge-mtimes", "mtime 77777777777 octal and 2^56 in base-256", True, "as given", "as given",
     [hdr(name=b"m", mtime=b"77777777777\0"), hdr(name=b"b256", mtime=b"\x80\0\0\0\x01\0\0\0\0\0\0\0"), E]),
    ("octal-with-spaces", "numeric fields padded with spaces", True, "parsed", "parsed",
     [hdr(name=b"sp", mode=b"   644 \0", uid=b"  1750  ", mtime=b" 14524770400"), E]),
    ("empty-numeric-fields", "mode/uid/gid/mtime all NUL", True, "zeros", "zeros",
     [hdr(name=b"e", mode=b"", uid=b"", gid=b"", mtime=b""), E]),
    ("mode-with-type-bits", "mode field 0100755", True, "33261 (raw)", "33261 (raw)", [hdr(name=b"m", mode=b"0100755\0"), E]),
    ("name-100-no-nul", "name field fully used, no NUL", True, "100-byte name", "100-byte name", [hdr(name=b"n" * 100), E]),
    ("v7-no-magic", "v7 headers (no magic), directory as NUL type + trailing slash", True,
     "file + dir 'v7dir'", "file + dir 'v7dir/'",
     [hdr(name=b"v7file", magic=b"\0" * 8, uname=b"", gname=b"", size=3) + data(b"abc"),
      hdr(name=b"v7dir/", typ=b"\0", magic=b"\0" * 8, uname=b"", gname=b""), E]),
    ("gnu-longname-dir", "GNU ././@LongLink 'L' naming a directory", True, "'longdir'", "'longdir/'",
     [hdr(name=b"././@LongLink", typ=b"L", size=8, magic=GNU) + data(b"longdir/"), hdr(name=b"short", typ=b"5", magic=GNU), E]),
    ("dev-numbers", "devmajor/minor on a regular file and on a char device", True,
     "only the char device reports them", "same",
     [hdr(name=b"f", major=b"0000007\0", minor=b"0000003\0"), hdr(name=b"c", typ=b"3", major=b"0000007\0", minor=b"0000003\0"), E]),
]


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    entries = []
    for i, (name, desc, agree, py, go, blocks) in enumerate(QUIRKS, 1):
        fname = "q%02d-%s.tar" % (i, name)
        with open(os.path.join(out, fname), "wb") as f:
            f.write(b"".join(blocks))
        entries.append({"file": fname, "description": desc, "agree": agree, "python": py, "go": go})
    with open(os.path.join(out, "quirks.json"), "w", encoding="utf-8") as f:
        json.dump({"quirks": entries}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
