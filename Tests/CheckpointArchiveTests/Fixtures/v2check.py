#!/usr/bin/env python3
"""v2check.py ARCHIVE -- an independent check of a v2 archive's index, written from the specification
(part 5) with Python's tarfile, to hold the Swift encoder to the text. Prints one line per problem and
exits 1 if there is any; prints the index digest and exits 0 otherwise.

Checks: entry 0 and CKA.version; section markers and order of spans; the header span, every section span
and every file digest (span digests leave regular-file content out, CKA-IDX-014); entry counts; data
offsets; indexOffset; the canonical JSON of header and index (CKA-V2-054); alignment of files >= alignment.
Compressed archives are decompressed with gzip/zstd first (the framed locator is invisible to both).
"""
import hashlib
import io
import json
import subprocess
import sys
import tarfile

path = sys.argv[1]
raw = open(path, "rb").read()
if raw[:2] == b"\x1f\x8b":
    data = subprocess.run(["gzip", "-dc"], input=raw, capture_output=True, check=True).stdout
elif raw[:4] == b"\x28\xb5\x2f\xfd":
    data = subprocess.run(["zstd", "-dc"], input=raw, capture_output=True, check=True).stdout
else:
    data = raw

problems = []
members = []
with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
    for m in tar:
        members.append(m)


def canonical(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def content(m):
    return data[m.offset_data:m.offset_data + m.size]


if not members or members[0].name != "cka-header.json" or members[0].pax_headers.get("CKA.version") != "2":
    print("entry 0 is not cka-header.json with CKA.version=2")
    sys.exit(1)
header_bytes = content(members[0])
header = json.loads(header_bytes)
if canonical(header) != header_bytes:
    problems.append("cka-header.json is not canonical JSON")
index_member = members[-1]
if index_member.name != "cka-index.json" or index_member.pax_headers.get("CKA.index") != "1":
    print("last entry is not cka-index.json with CKA.index=1")
    sys.exit(1)
index_bytes = content(index_member)
index = json.loads(index_bytes)
if canonical(index) != index_bytes:
    problems.append("cka-index.json is not canonical JSON")

# Spans: [0, first marker), [marker_i, marker_i+1), [last marker, index entry).
starts = [(m.offset, m) for m in members if "CKA.section" in m.pax_headers]
bounds = [0] + [s for s, _ in starts] + [index_member.offset]


def span_digest(start, end):
    h = hashlib.sha256()
    pos = start
    for m in members:
        if m.isreg() and start <= m.offset < end and m.size > 0:
            h.update(data[pos:m.offset_data])
            pos = m.offset_data + m.size
    h.update(data[pos:end])
    return h.hexdigest()


def count(start, end):
    return sum(1 for m in members if start <= m.offset < end)


hdr = index["header"]
if (hdr["start"], hdr["end"]) != (0, bounds[1]):
    problems.append(f"header span {hdr['start']}..{hdr['end']} != 0..{bounds[1]}")
if hdr["sha256"] != span_digest(0, bounds[1]):
    problems.append("header span digest differs")
if len(index["sections"]) != len(starts):
    problems.append(f"{len(index['sections'])} sections in the index, {len(starts)} markers in the stream")
for i, (sec, (start, marker)) in enumerate(zip(index["sections"], starts)):
    end = bounds[i + 2]
    if sec["kind"] != marker.pax_headers["CKA.section"] or sec["path"] != marker.name.rstrip("/") + "/":
        problems.append(f"section {i}: kind/path differ from the marker {marker.name}")
    if (sec["start"], sec["end"]) != (start, end):
        problems.append(f"section {i}: span {sec['start']}..{sec['end']} != {start}..{end}")
    if sec["entries"] != count(start, end):
        problems.append(f"section {i}: {sec['entries']} entries in the index, {count(start, end)} in the stream")
    if sec["sha256"] != span_digest(start, end):
        problems.append(f"section {i} ({sec['kind']}): span digest differs")
files = [m for m in members[:-1] if m.isreg()]
if len(files) != len(index["files"]):
    problems.append(f"{len(index['files'])} files in the index, {len(files)} in the stream")
for rec, m in zip(index["files"], files):
    if (rec["path"], rec["size"], rec["offset"]) != (m.name, m.size, m.offset_data):
        problems.append(f"file record {rec['path']} does not match the entry {m.name}")
    if rec["sha256"] != hashlib.sha256(content(m)).hexdigest():
        problems.append(f"file {m.name}: digest differs")
if index["indexOffset"] != f"{index_member.offset:016x}":
    problems.append(f"indexOffset {index['indexOffset']} != {index_member.offset:016x}")
align = header.get("alignment", 0)
for m in members:
    if align and m.isreg() and m.size >= align and m.offset_data % align:
        problems.append(f"{m.name}: data at {m.offset_data} is not aligned to {align}")
for p in problems:
    print(p)
if problems:
    sys.exit(1)
print("sha256:" + hashlib.sha256(index_bytes).hexdigest())
