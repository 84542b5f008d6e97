import ByteStreams
import CheckpointArchive
import Compression
import Conformance
import TarFormat

/// One entry of a hand-built v2 archive: its header (pax records included) and its data.
///
/// Moved here from the conformance tests so that every rule-trigger fixture can also be a golden vector; the
/// tests and the vector generator share one builder.
public struct V2TestEntry: Sendable {
    /// The entry's header, pax records included.
    public var header: TarHeader
    /// The entry's content (regular files; the writer sets `size` from it).
    public var data: [UInt8] = []

    public init(header: TarHeader, data: [UInt8] = []) {
        self.header = header
        self.data = data
    }

    /// A section marker of `kind` (its directory from table 5.3 unless `path` is given), with
    /// `CKA.section.critical` from the table unless `critical` is given.
    public static func marker(_ kind: String, name: String? = nil, critical: String? = nil, path: String? = nil,
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

    /// A regular file holding `text` (UTF-8).
    public static func file(_ path: String, _ text: String, mode: Int64 = 0o600) -> V2TestEntry {
        bytes(path, Array(text.utf8), mode: mode)
    }

    /// A regular file holding `data`.
    public static func bytes(_ path: String, _ data: [UInt8], mode: Int64 = 0o600) -> V2TestEntry {
        V2TestEntry(header: TarHeader(path: path, type: .regular, size: Int64(data.count), mode: mode), data: data)
    }

    /// A directory (`path` ends in `/`).
    public static func dir(_ path: String, mode: Int64 = 0o755) -> V2TestEntry {
        V2TestEntry(header: TarHeader(path: path, type: .directory, mode: mode))
    }

    /// A symbolic link (or, with `type: .hardLink`, a hard link) to `target`.
    public static func link(_ path: String, _ target: String, type: TarEntryType = .symbolicLink) -> V2TestEntry {
        var h = TarHeader(path: path, type: type, mode: type == .symbolicLink ? 0o777 : 0o644)
        h.linkName = target
        return V2TestEntry(header: h)
    }

    /// A header-only entry of `type` (FIFO, device, or an unknown typeflag) with mode 0644.
    public static func special(_ path: String, _ type: TarEntryType) -> V2TestEntry {
        V2TestEntry(header: TarHeader(path: path, type: type, mode: 0o644))
    }

    /// Adds pax records (kept by the writer unless it sets the key itself).
    public func with(_ records: [String: String]) -> V2TestEntry {
        var e = self
        for (k, v) in records.sorted(by: { $0.key < $1.key }) { e.header.paxRecords.append(PaxRecord(key: k, value: v)) }
        return e
    }

    public func with(_ change: (inout TarHeader) -> Void) -> V2TestEntry {
        var e = self
        change(&e.header)
        return e
    }
}

/// Where the builder put each entry, for patches.
public struct V2TestLayout: Sendable {
    /// Every entry written (the version marker first), with its header and data offsets in the tar stream.
    public var entries: [(path: String, headerOffset: Int64, dataOffset: Int64, size: Int64, regular: Bool)] = []

    public init() {}

    /// The entry named `path` (it must exist).
    public func entry(_ path: String) -> (path: String, headerOffset: Int64, dataOffset: Int64, size: Int64, regular: Bool) {
        entries.first { $0.path == path }!
    }

    /// The offset of the entry's own header block (after its pax header, if any).
    public func block(_ path: String) -> Int { Int(entry(path).dataOffset) - 512 }

    /// The offset of the entry's pax extended header block.
    public func paxBlock(_ path: String) -> Int { Int(entry(path).headerOffset) }
}

/// A v2 archive built entry by entry with `TarWriter`; the index is computed from the bytes written (after
/// `patch`), independently of the checker, so a mutation breaks only the rule it is meant to break.
public struct V2TestArchive {
    /// The entries between the version marker and the index (by default the worked example of part 10 with a
    /// CRIU inventory image, so that it breaks no rule).
    public var entries: [V2TestEntry] = V2TestArchive.validExample
    public var profile = "podman"
    public var compression: CompressionFormat = .none
    public var framed = false
    public var alignment = 0
    /// The alignment the writer applies, when it differs from the one the header declares.
    public var writerAlignment: Int?
    public var headerText: ((String) -> String)?
    public var headerEntry: ((inout TarHeader) -> Void)?
    public var indexText: ((String) -> String)?
    public var indexEntry: ((inout TarHeader) -> Void)?
    /// Changes the bytes before the index (same length); the index is computed afterwards.
    public var patch: ((inout [UInt8], V2TestLayout) -> Void)?
    /// Leaves out the index entry.
    public var omitIndex = false
    /// Framed: the section at this position (0 the first) does not begin a new member or frame.
    public var continuedSection: Int?
    /// Bytes after the end-of-archive blocks of the tar stream.
    public var trailing: [UInt8] = []

    public init(entries: [V2TestEntry] = V2TestArchive.validExample) { self.entries = entries }

    /// The entries of the worked example (part 10) between the version marker and the index.
    public static let workedExample: [V2TestEntry] = [
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
    public static let inventoryImage: [UInt8] = [0x16, 0x31, 0x31, 0x58] + Array("criu-invent".utf8)

    /// The worked example with `inventoryImage` instead of the placeholder (which draws CKA-V2-055).
    public static let validExample: [V2TestEntry] = workedExample.map {
        $0.header.path == "checkpoint/inventory.img" ? .bytes("checkpoint/inventory.img", inventoryImage) : $0
    }

    /// `s` as a JSON string in the canonical form of CKA-V2-054 (for the characters the fixtures use).
    public static func json(_ s: String) -> String {
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

    /// The headers of the section markers, in order.
    public var markers: [TarHeader] { entries.map(\.header).filter { $0.paxValue("CKA.section") != nil } }

    /// The content of `cka-header.json` (after `headerText`).
    public func header() -> String {
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

    /// Lowercase hex SHA-256.
    public static func sha256(_ bytes: [UInt8]) -> String { try! HashingEntrySource(MemorySource(bytes)).finish() }

    /// The tar stream and the archive file.
    public func build() throws -> V2Built {
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
public struct V2Built: Sendable {
    /// The archive file (compressed, with the locator, when asked for).
    public var file: [UInt8]
    /// The uncompressed tar stream.
    public var tar: [UInt8]
    /// Where each entry before the index was written.
    public var layout: V2TestLayout
    /// Where the builder began members or frames (framed archives).
    public var boundaries: [V2TestMember]
}

/// A gzip member or zstd frame the builder began: its archive offset and the tar offset its output starts at.
public struct V2TestMember: Equatable, Sendable {
    public var compressedOffset: Int64
    public var tarOffset: Int64

    public init(compressedOffset: Int64, tarOffset: Int64) {
        self.compressedOffset = compressedOffset
        self.tarOffset = tarOffset
    }
}
