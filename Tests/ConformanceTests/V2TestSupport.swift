import ByteStreams
import CheckpointArchive
import Compression
@testable import Conformance
import Foundation
import TarFormat
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// One entry of a hand-built v2 archive: its header (pax records included) and its data.
struct V2TestEntry {
    var header: TarHeader
    var data: [UInt8] = []

    static func marker(_ kind: String, name: String? = nil, critical: String? = nil, path: String? = nil,
                       mode: Int64 = 0o755) -> V2TestEntry {
        let known = SectionKind(rawValue: kind)
        let dir = path ?? known.map { Section($0, name: name).directory } ?? "\(kind)/"
        var h = TarHeader(path: dir, type: .directory, mode: mode)
        h.paxRecords = [PaxRecord(key: "CKA.section", value: kind),
                        PaxRecord(key: "CKA.section.critical",
                                  value: critical ?? ((known?.defaultCritical ?? false) ? "1" : "0"))]
        if let name { h.paxRecords.append(PaxRecord(key: "CKA.section.name", value: name)) }
        return V2TestEntry(header: h)
    }

    static func file(_ path: String, _ text: String, mode: Int64 = 0o600) -> V2TestEntry {
        bytes(path, Array(text.utf8), mode: mode)
    }

    static func bytes(_ path: String, _ data: [UInt8], mode: Int64 = 0o600) -> V2TestEntry {
        V2TestEntry(header: TarHeader(path: path, type: .regular, size: Int64(data.count), mode: mode), data: data)
    }

    static func dir(_ path: String, mode: Int64 = 0o755) -> V2TestEntry {
        V2TestEntry(header: TarHeader(path: path, type: .directory, mode: mode))
    }

    static func link(_ path: String, _ target: String, type: TarEntryType = .symbolicLink) -> V2TestEntry {
        var h = TarHeader(path: path, type: type, mode: type == .symbolicLink ? 0o777 : 0o644)
        h.linkName = target
        return V2TestEntry(header: h)
    }

    static func special(_ path: String, _ type: TarEntryType) -> V2TestEntry {
        V2TestEntry(header: TarHeader(path: path, type: type, mode: 0o644))
    }

    /// Adds pax records (kept by the writer unless it sets the key itself).
    func with(_ records: [String: String]) -> V2TestEntry {
        var e = self
        for (k, v) in records.sorted(by: { $0.key < $1.key }) { e.header.paxRecords.append(PaxRecord(key: k, value: v)) }
        return e
    }

    func with(_ change: (inout TarHeader) -> Void) -> V2TestEntry {
        var e = self
        change(&e.header)
        return e
    }
}

/// Where the builder put each entry, for patches.
struct V2TestLayout {
    var entries: [(path: String, headerOffset: Int64, dataOffset: Int64, size: Int64, regular: Bool)] = []

    func entry(_ path: String) -> (path: String, headerOffset: Int64, dataOffset: Int64, size: Int64, regular: Bool) {
        entries.first { $0.path == path }!
    }

    /// The offset of the entry's own header block (after its pax header, if any).
    func block(_ path: String) -> Int { Int(entry(path).dataOffset) - 512 }

    /// The offset of the entry's pax extended header block.
    func paxBlock(_ path: String) -> Int { Int(entry(path).headerOffset) }
}

/// A v2 archive built entry by entry with `TarWriter`; the index is computed from the bytes written (after
/// `patch`), independently of the checker, so a mutation breaks only the rule it is meant to break.
struct V2TestArchive {
    /// The entries between the version marker and the index (by default the worked example of part 10 with a
    /// CRIU inventory image, so that it breaks no rule).
    var entries: [V2TestEntry] = V2TestArchive.validExample
    var profile = "podman"
    var compression: CompressionFormat = .none
    var framed = false
    var alignment = 0
    /// The alignment the writer applies, when it differs from the one the header declares.
    var writerAlignment: Int?
    var headerText: ((String) -> String)?
    var headerEntry: ((inout TarHeader) -> Void)?
    var indexText: ((String) -> String)?
    var indexEntry: ((inout TarHeader) -> Void)?
    /// Changes the bytes before the index (same length); the index is computed afterwards.
    var patch: ((inout [UInt8], V2TestLayout) -> Void)?
    var omitIndex = false
    /// Framed: the section at this position (0 the first) does not begin a new member or frame.
    var continuedSection: Int?
    /// Bytes after the end-of-archive blocks of the tar stream.
    var trailing: [UInt8] = []

    static let workedExample: [V2TestEntry] = [
        .marker("metadata"),
        .file("metadata/config.dump", #"{"id":"0123abcd","name":"demo","runtime":"crun"}"#),
        .file("metadata/spec.dump", #"{"ociVersion":"1.2.0","annotations":{"io.container.manager":"libpod"}}"#),
        .marker("checkpoint"),
        .file("checkpoint/inventory.img", "criu-inventory\n"),
        .marker("rootfs"),
        .file("rootfs/deleted.files", "[\n  \"/etc/motd\"\n]"),
        .file("rootfs/implied.dirs", "[\n  \"/etc\"\n]"),
        .dir("rootfs/tree/"),
        .dir("rootfs/tree/etc/"),
        .file("rootfs/tree/etc/app.conf", "x=1\n", mode: 0o644),
        .link("rootfs/tree/etc/localtime", "/usr/share/zoneinfo/UTC"),
    ]

    /// The start of a CRIU inventory image (INVENTORY_MAGIC 0x58313116, little-endian), 15 bytes like the
    /// worked example's placeholder `criu-inventory\n`, so that every offset stays the same.
    static let inventoryImage: [UInt8] = [0x16, 0x31, 0x31, 0x58] + Array("criu-invent".utf8)

    /// The worked example with `inventoryImage` instead of the placeholder (which draws CKA-V2-055).
    static let validExample: [V2TestEntry] = workedExample.map {
        $0.header.path == "checkpoint/inventory.img" ? .bytes("checkpoint/inventory.img", inventoryImage) : $0
    }

    static func json(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    var markers: [TarHeader] { entries.map(\.header).filter { $0.paxValue("CKA.section") != nil } }

    func header() -> String {
        let sections = markers.map { m -> String in
            var s = "{\"kind\":\(Self.json(m.paxValue("CKA.section")!))"
            if let n = m.paxValue("CKA.section.name") { s += ",\"name\":\(Self.json(n))" }
            return s + ",\"critical\":\(m.paxValue("CKA.section.critical") == "1")}"
        }
        let text = "{\"format\":\"checkpoint-archive\",\"version\":2,\"profile\":\(Self.json(profile)),"
            + "\"compression\":\"\(compression.rawValue)\",\"framed\":\(framed),\"alignment\":\(alignment),"
            + "\"creator\":\"ckpt\",\"sections\":[\(sections.joined(separator: ","))]}\n"
        return headerText?(text) ?? text
    }

    static func sha256(_ bytes: [UInt8]) -> String { try! HashingEntrySource(MemorySource(bytes)).finish() }

    /// The tar stream and the archive file.
    func build() throws -> V2Built {
        let sink = MemorySink()
        var writerOptions = TarWriterOptions()
        let aligned = writerAlignment ?? alignment
        if aligned > 0 { writerOptions.alignment = aligned }
        let writer = try TarWriter(sink: sink, options: writerOptions)
        var layout = V2TestLayout()
        var h0 = TarHeader(path: "cka-header.json", type: .regular, mode: 0o644)
        h0.paxRecords = [PaxRecord(key: "CKA.version", value: "2")]
        headerEntry?(&h0)
        for e in [V2TestEntry(header: h0, data: Array(header().utf8))] + entries {
            try writer.finishPendingEntry()
            let start = writer.offset
            var h = e.header
            if h.type.isRegularFile { h.size = Int64(e.data.count) }
            let dataOffset = try writer.writeHeader(h)
            try writer.write(e.data)
            layout.entries.append((h.path, start, dataOffset, Int64(e.data.count), h.type.isRegularFile))
        }
        try writer.finishPendingEntry()
        var bytes = sink.bytes
        patch?(&bytes, layout)
        // The index, computed from the bytes: spans leave regular-file content out (CKA-IDX-014).
        let indexOffset = Int64(bytes.count)
        let starts = entries.indices.filter { entries[$0].header.paxValue("CKA.section") != nil }
            .map { layout.entries[$0 + 1].headerOffset }
        func span(_ from: Int64, _ to: Int64) -> String {
            var kept: [UInt8] = []
            var at = from
            for e in layout.entries where e.regular && e.headerOffset >= from && e.headerOffset < to {
                kept += bytes[Int(at)..<Int(e.dataOffset)]
                at = e.dataOffset + e.size
            }
            kept += bytes[Int(at)..<Int(to)]
            return Self.sha256(kept)
        }
        let bounds = [Int64(0)] + starts + [indexOffset]
        let compressed = MemorySink()
        let compressor = try compression.makeEncoder(compressed)
        var compressedStarts: [Int64] = []
        var indexMember: Int64 = 0
        if framed {
            for (k, (a, b)) in zip(bounds, bounds.dropFirst()).enumerated() {
                if k == 0 || k - 1 != continuedSection { try compressor.endFrame() }
                if a > 0 { compressedStarts.append(compressor.compressedPosition) }
                try compressor.write(Array(bytes[Int(a)..<Int(b)]))
            }
            try compressor.endFrame()
            indexMember = compressor.compressedPosition
        }
        var sections: [String] = []
        for (i, m) in markers.enumerated() {
            let entry = layout.entries.first { $0.headerOffset == starts[i] }!
            let count = layout.entries.filter { $0.headerOffset >= bounds[i + 1] && $0.headerOffset < bounds[i + 2] }.count
            var s = "{\"kind\":\(Self.json(m.paxValue("CKA.section")!))"
            if let n = m.paxValue("CKA.section.name") { s += ",\"name\":\(Self.json(n))" }
            s += ",\"critical\":\(m.paxValue("CKA.section.critical") == "1"),\"path\":\(Self.json(entry.path)),"
                + "\"start\":\(bounds[i + 1]),\"end\":\(bounds[i + 2]),"
            if framed { s += "\"compressedStart\":\(compressedStarts[i])," }
            sections.append(s + "\"entries\":\(count),\"sha256\":\"\(span(bounds[i + 1], bounds[i + 2]))\"}")
        }
        let files = layout.entries.filter(\.regular).map { e in
            "{\"path\":\(Self.json(e.path)),\"size\":\(e.size),\"offset\":\(e.dataOffset),\"sha256\":\""
                + Self.sha256(Array(bytes[Int(e.dataOffset)..<Int(e.dataOffset + e.size)])) + "\"}"
        }
        let hex = String(indexOffset, radix: 16)
        var index = "{\"format\":\"checkpoint-archive-index\",\"version\":2,\"header\":{\"path\":\"cka-header.json\","
            + "\"start\":0,\"end\":\(bounds[1]),\"sha256\":\"\(span(0, bounds[1]))\"},"
            + "\"sections\":[\(sections.joined(separator: ","))],\"files\":[\(files.joined(separator: ","))],"
            + "\"indexOffset\":\"\(String(repeating: "0", count: 16 - hex.count) + hex)\"}\n"
        index = indexText?(index) ?? index
        let tail = MemorySink()
        try tail.write(bytes)
        let indexWriter = try TarWriter(sink: tail, options: writerOptions)
        if !omitIndex {
            var hi = TarHeader(path: "cka-index.json", type: .regular, mode: 0o644)
            hi.paxRecords = [PaxRecord(key: "CKA.index", value: "1")]
            indexEntry?(&hi)
            hi.size = Int64(index.utf8.count)
            try indexWriter.writeHeader(hi)
            try indexWriter.write(Array(index.utf8))
        }
        try indexWriter.finish()
        let tar = tail.bytes + trailing
        var boundaries = [V2TestMember(compressedOffset: 0, tarOffset: 0)]
        for (k, (c, t)) in zip(compressedStarts, starts).enumerated() where k != continuedSection {
            boundaries.append(V2TestMember(compressedOffset: c, tarOffset: t))
        }
        boundaries.append(V2TestMember(compressedOffset: indexMember, tarOffset: indexOffset))
        guard compression != .none else { return V2Built(file: tar, tar: tar, layout: layout, boundaries: []) }
        try compressor.write(Array(tar[Int(framed ? indexOffset : 0)...]))
        try compressor.finish()
        var file = compressed.bytes
        if framed {
            file += FramedLocator.bytes(format: compression, indexCompressedOffset: indexMember, indexOffset: indexOffset,
                                        tarLength: Int64(tar.count))
        }
        return V2Built(file: file, tar: tar, layout: layout, boundaries: framed ? boundaries : [])
    }
}

/// What the builder made.
struct V2Built {
    var file: [UInt8]
    var tar: [UInt8]
    var layout: V2TestLayout
    /// Where the builder began members or frames (framed archives).
    var boundaries: [V2TestMember]
}

/// A gzip member or zstd frame the builder began: its archive offset and the tar offset its output starts at.
struct V2TestMember: Equatable {
    var compressedOffset: Int64
    var tarOffset: Int64
}
