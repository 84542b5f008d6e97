#!/usr/bin/env python3
"""crosscheck.py OUTDIR [GOTAR] -- compare the reference listers on every archive.

For each archive in OUTDIR/index.json: runs pylist.py and `gotar list`
(default GOTAR: OUTDIR/bin/gotar) and tools-list.sh, then reports
  * member-by-member, field-by-field differences between Python and Go
    (Go's trailing "/" on directory names is normalised first and counted
    separately as a known difference),
  * paths that differ from index.json "paths",
  * names that differ between GNU tar -t, bsdtar -t and Python,
  * features in index.json that the Python listing contradicts.
Exit status 1 if any unexpected difference was found. --json prints a machine
readable summary instead of text.

crosscheck.py --quirks QDIR [GOTAR]
  runs both listers over the archives in QDIR/quirks.json (make-quirks.py) and
  checks that Python and Go agree exactly where "agree" is true and differ
  where it is false; prints both outputs for the differing ones.
"""
import json
import os
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))


def jsonl(cmd):
    p = subprocess.run(cmd, capture_output=True)
    rows = [json.loads(l) for l in p.stdout.decode("utf-8", "surrogateescape").splitlines() if l]
    return p.returncode, rows, p.stderr.decode(errors="replace")


def feature_checks(a, py, path):
    """Verify capability features against the Python view."""
    problems = []
    by = {r["path"]: r for r in py}
    feats = set(a["features"])
    xa = any("xattrs" in r for r in py)
    if ("xattrs" in feats) != xa:
        problems.append("xattrs feature=%s but listing has xattrs=%s" % ("xattrs" in feats, xa))
    sub = by.get("tree/subsec-mtime.txt")
    if sub is not None:
        has = not isinstance(sub["mtime"], int)
        if ("subsec-mtime" in feats) != has:
            problems.append("subsec-mtime feature=%s but mtime=%r" % ("subsec-mtime" in feats, sub["mtime"]))
    with tarfile.open(path) as tf:
        sparse = [m.name for m in tf if m.sparse is not None]
    if ("sparse" in feats or "big-sparse-9g" in feats) != bool(sparse):
        problems.append("sparse feature vs sparse members %r" % sparse)
    if "uname" in feats and any(r["uname"] != a["uname"] for r in py):
        problems.append("uname mismatch")
    return problems


def normalised_go(go):
    out = []
    for g in go:
        g = dict(g)
        if g.get("type") == "dir" and g["path"].endswith("/"):
            g["path"] = g["path"].rstrip("/") or g["path"]
        out.append(g)
    return out


def quirks(qdir, gotar):
    doc = json.load(open(os.path.join(qdir, "quirks.json"), encoding="utf-8"))
    bad = False
    for q in doc["quirks"]:
        path = os.path.join(qdir, q["file"])
        rc1, py, e1 = jsonl([sys.executable, os.path.join(HERE, "pylist.py"), path])
        rc2, go, e2 = jsonl([gotar, "list", path])
        same = rc1 == rc2 and py == normalised_go(go)
        ok = same == q["agree"]
        bad |= not ok
        print("%-40s %s (agree expected=%s observed=%s)" % (q["file"], "OK" if ok else "UNEXPECTED", q["agree"], same))
        if not same or not ok:
            print("    py rc=%d %s" % (rc1, e1.strip().splitlines()[-1] if e1.strip() else ""))
            for r in py:
                print("      " + json.dumps(r, ensure_ascii=True))
            print("    go rc=%d %s" % (rc2, e2.strip()))
            for r in go:
                print("      " + json.dumps(r, ensure_ascii=True))
    return 1 if bad else 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "--quirks":
        qdir = argv[2]
        return quirks(qdir, argv[3] if len(argv) > 3 else os.path.join(qdir, "..", "bin", "gotar"))
    as_json = "--json" in argv
    argv = [x for x in argv if x != "--json"]
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    outdir = argv[1]
    gotar = argv[2] if len(argv) == 3 else os.path.join(outdir, "bin", "gotar")
    index = json.load(open(os.path.join(outdir, "index.json"), encoding="utf-8"))
    summary = []
    bad = False
    for a in index["archives"]:
        path = os.path.join(outdir, a["file"])
        rep = {"file": a["file"], "py_vs_go": [], "dir_slash": 0, "index": [], "tools": [], "features": []}
        rc1, py, e1 = jsonl([sys.executable, os.path.join(HERE, "pylist.py"), path])
        rc2, go, e2 = jsonl([gotar, "list", path])
        if rc1 or rc2:
            rep["py_vs_go"].append("exit codes py=%d go=%d %s %s" % (rc1, rc2, e1.strip(), e2.strip()))
        if len(py) != len(go):
            rep["py_vs_go"].append("member count py=%d go=%d" % (len(py), len(go)))
        for i, (p, g) in enumerate(zip(py, go)):
            g = dict(g)
            if g.get("type") == "dir" and g["path"].endswith("/") and g["path"].rstrip("/") == p["path"]:
                g["path"] = p["path"]
                rep["dir_slash"] += 1
            for k in sorted(set(p) | set(g)):
                if p.get(k, "<absent>") != g.get(k, "<absent>") or type(p.get(k)) != type(g.get(k)):
                    rep["py_vs_go"].append("#%d %s: %s py=%r go=%r" % (i, p.get("path"), k, p.get(k, "<absent>"), g.get(k, "<absent>")))
        names = [r["path"] for r in py]
        if names != a["paths"]:
            rep["index"].append("pylist paths != index paths: missing=%r extra=%r" % (
                sorted(set(a["paths"]) - set(names)), sorted(set(names) - set(a["paths"]))))
        t = subprocess.run([os.path.join(HERE, "tools-list.sh"), path], capture_output=True)
        lines = t.stdout.decode("utf-8", "surrogateescape").splitlines()
        gn = [l[len("gnutar:"):] for l in lines if l.startswith("gnutar:")]
        bs = [l[len("bsdtar:"):] for l in lines if l.startswith("bsdtar:")]
        if t.returncode:
            rep["tools"].append("tools-list.sh exit %d: %s" % (t.returncode, t.stderr.decode(errors="replace").strip()))
        if gn != names:
            rep["tools"].append("gnutar -t differs from python: %r" % [x for x in zip(gn, names) if x[0] != x[1]][:5] + (" len %d vs %d" % (len(gn), len(names))))
        if bs != names:
            rep["tools"].append("bsdtar -t differs from python: %r" % [x for x in zip(bs, names) if x[0] != x[1]][:5] + (" len %d vs %d" % (len(bs), len(names))))
        rep["features"] = feature_checks(a, py, path)
        if rep["py_vs_go"] or rep["index"] or rep["tools"] or rep["features"]:
            bad = True
        summary.append(rep)
    for c in index.get("compressed", []):
        rep = {"file": c["file"], "py_vs_go": [], "dir_slash": 0, "index": [], "tools": [], "features": []}
        src = os.path.join(outdir, c["source"])
        _, ref, _ = jsonl([sys.executable, os.path.join(HERE, "pylist.py"), src])
        path = os.path.join(outdir, c["file"])
        if c["compression"] == "gzip":
            rc1, py, e1 = jsonl([sys.executable, os.path.join(HERE, "pylist.py"), path])
            rc2, go, e2 = jsonl([gotar, "list", path])
            if rc1 or py != ref:
                rep["py_vs_go"].append("pylist on %s differs from its source (rc %d %s)" % (c["compression"], rc1, e1.strip()))
            if rc2 or normalised_go(go) != ref:
                rep["py_vs_go"].append("gotar on %s differs from its source (rc %d %s)" % (c["compression"], rc2, e2.strip()))
        t = subprocess.run([os.path.join(HERE, "tools-list.sh"), path], capture_output=True)
        lines = t.stdout.decode("utf-8", "surrogateescape").splitlines()
        names = [r["path"] for r in ref]
        for tool in ("gnutar", "bsdtar"):
            got = [l[len(tool) + 1:] for l in lines if l.startswith(tool + ":")]
            if got != names:
                rep["tools"].append("%s -t on %s differs from the source listing" % (tool, c["compression"]))
        bad |= bool(rep["py_vs_go"] or rep["tools"])
        summary.append(rep)
    if as_json:
        json.dump(summary, sys.stdout, indent=1, ensure_ascii=False)
        print()
    else:
        for rep in summary:
            ok = not (rep["py_vs_go"] or rep["index"] or rep["tools"] or rep["features"])
            print("%-30s %s (go dir-slash names: %d)" % (rep["file"], "OK" if ok else "DIFF", rep["dir_slash"]))
            for k in ("py_vs_go", "index", "tools", "features"):
                for line in rep[k]:
                    print("    %s: %s" % (k, line))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
