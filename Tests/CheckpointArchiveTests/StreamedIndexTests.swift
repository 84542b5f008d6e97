import ByteStreams
@testable import CheckpointArchive
import Crypto
import Foundation
import TarFormat
import TestSupport
import XCTest

/// The v2 decoder walks `cka-index.json` as it streams (`IndexComparison`); its verdicts must be those of the
/// decoder that parsed the whole index with `JSONSerialization` (`ArchiveIndex.parse`) and compared the two
/// indexes, kept here as the oracle `legacyVerdict`. Each case rewrites the index of a valid archive; both
/// memory budgets are run.
final class StreamedIndexTests: XCTestCase {
    private struct Archive {
        var head: [UInt8]
        var indexOffset: Int64
        var index: String
        var computed: ArchiveIndex
    }

    private func makeArchive() throws -> Archive {
        let dir = try TestTools.temporaryDirectory(self)
        let src = dir.appendingPathComponent("src")
        func write(_ path: String, _ text: String) throws {
            let url = src.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try write("metadata/config.dump", #"{"id":"i","name":"n"}"#)
        try write("metadata/spec.dump", #"{"ociVersion":"1.1.0"}"#)
        try write("checkpoint/inventory.img", "\u{16}11X-inventory")
        for i in 0..<12 { try write("rootfs/tree/d\(i % 3)/f\(i)", "content \(i)\n") }
        let archive = dir.appendingPathComponent("a.tar")
        XCTAssertEqual(try TestTools.run([TestTools.product("ckpt"), "create", "--quiet", src.path, archive.path]).status, 0)
        let bytes = Array(try Data(contentsOf: archive))
        let reader = TarReader(source: MemorySource(bytes))
        while let h = try reader.next() {
            if h.path == "cka-index.json" {
                let content = try reader.readData()
                return Archive(head: Array(bytes[..<Int(h.headerOffset)]), indexOffset: h.headerOffset,
                               index: String(decoding: content, as: UTF8.self), computed: try ArchiveIndex.parse(content))
            }
        }
        throw CheckpointError("TEST", "no index")
    }

    /// The archive with `content` as its index.
    private func archive(_ a: Archive, index content: [UInt8]) throws -> [UInt8] {
        let sink = MemorySink()
        let writer = try TarWriter(sink: sink)
        var h = TarHeader(path: "cka-index.json", type: .regular, size: Int64(content.count), mode: 0o644)
        h.paxRecords = [PaxRecord(key: "CKA.index", value: "1")]
        try writer.writeHeader(h)
        try writer.write(content)
        try writer.finish()
        return a.head + sink.bytes
    }

    /// (requirement, entry, offset) of a decode, nil when it is accepted.
    private typealias Verdict = [String?]

    private func decode(_ bytes: [UInt8], pin: String?, budget: MemoryBudget) -> Verdict? {
        let decoder = V2Decoder(stream: MemorySource(bytes), expectedIndexDigest: pin)
        decoder.budget = budget
        do {
            let result = try decoder.decode(into: InspectionSink())
            XCTAssertEqual(result.index.fileCount, 16)
            return nil
        } catch let e as CheckpointError {
            return [e.requirement, e.entry, e.offset.map(String.init)]
        } catch {
            return ["\(error)"]
        }
    }

    /// The verdict of the decoder that parsed the index whole (`ArchiveIndex.parse`, then the comparison).
    private func legacyVerdict(_ content: [UInt8], _ a: Archive, pin: String?) -> Verdict? {
        let at = String(a.indexOffset)
        let digest = "sha256:" + Hex.string(SHA256.hash(data: content))
        if let pin, pin != digest { return ["CKA-IDX-010", "cka-index.json", at] }
        let recorded: ArchiveIndex
        do { recorded = try ArchiveIndex.parse(content) } catch let e as CheckpointError {
            return [e.requirement, e.entry, at]
        } catch {
            return ["\(error)"]
        }
        func fail(_ id: String, _ entry: String = "cka-index.json", _ offset: Int64? = nil) -> Verdict {
            [id, entry, offset.map(String.init) ?? at]
        }
        let c = a.computed
        if recorded.header != c.header { return fail("CKA-IDX-002", "cka-header.json") }
        guard recorded.sections.count == c.sections.count else { return fail("CKA-IDX-003") }
        for (r, s) in zip(recorded.sections, c.sections) {
            if r.section != s.section || r.span.start != s.span.start || r.span.end != s.span.end {
                return fail("CKA-IDX-003", s.section.directory)
            }
            if r.span.sha256 != s.span.sha256 || r.entries != s.entries { return fail("CKA-IDX-004", s.section.directory) }
        }
        guard recorded.files.count == c.files.count else { return fail("CKA-IDX-005") }
        for (r, f) in zip(recorded.files, c.files) {
            if r.path != f.path || r.size != f.size || r.offset != f.offset { return fail("CKA-IDX-005", f.path) }
            if r.sha256 != f.sha256 { return fail("CKA-IDX-005", f.path, f.offset) }
        }
        if recorded.indexOffset != c.indexOffset { return fail("CKA-IDX-006") }
        if recorded.canonicalBytes != content, !CanonicalJSON.listsUnknownSectionKind(content),
           !CanonicalJSON.equalIgnoringVendorMembers(content, recorded.canonicalBytes) {
            return fail("CKA-IDX-001")
        }
        return nil
    }

    func testStreamedVerdictsAreThoseOfTheWholeIndex() throws {
        let a = try makeArchive()
        let i = a.index
        let firstFile = try XCTUnwrap(a.computed.files.first { $0.path.hasPrefix("rootfs/") })
        let lastFile = try XCTUnwrap(a.computed.files.last)
        func file(_ f: ArchiveIndex.FileRecord) -> String {
            #"{"path":"\#(f.path)","size":\#(f.size),"offset":\#(f.offset),"sha256":"\#(f.sha256)"}"#
        }
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let cases: [(String, String)] = [
            ("as written", i),
            ("vendor members", i.replacingOccurrences(of: #"{"format""#, with: #"{"x-v":{"a":[1,{"x-b":2}]},"format""#)
                .replacingOccurrences(of: #""entries":"#, with: #""x-n":null,"entries":"#)),
            ("vendor member nested deep", i.replacingOccurrences(of: #"{"format""#, with: #"{"x-v":\#(deep),"format""#)),
            ("vendor member and whitespace", i.replacingOccurrences(of: #"{"format""#, with: "{ \"x-v\" : 1 ,\n\"format\"")),
            ("vendor member and a number with a fraction", i.replacingOccurrences(of: #"{"format""#, with: #"{"x-v":1,"format""#)
                .replacingOccurrences(of: #""version":2"#, with: #""version":2.0"#)),
            ("vendor member and critical 1", i.replacingOccurrences(of: #"{"format""#, with: #"{"x-v":1,"format""#)
                .replacingOccurrences(of: #""critical":true"#, with: #""critical":1"#)),
            ("vendor member and a start written 0e5", i.replacingOccurrences(of: #"{"format""#, with: #"{"x-v":1,"format""#)
                .replacingOccurrences(of: #""header":{"path":"cka-header.json","start":0"#,
                                      with: #""header":{"path":"cka-header.json","start":0e5"#)),
            ("vendor member and a repeated member", i.replacingOccurrences(of: #"{"format""#,
                                                                             with: #"{"x-v":1,"format":"x","format""#)),
            ("unknown member", i.replacingOccurrences(of: #"{"format""#, with: #"{"extra":1,"format""#)),
            ("whitespace", i.replacingOccurrences(of: #","version""#, with: ", \"version\"")),
            ("version 2.0", i.replacingOccurrences(of: #""version":2"#, with: #""version":2.0"#)),
            ("version true", i.replacingOccurrences(of: #""version":2"#, with: #""version":true"#)),
            ("version missing", i.replacingOccurrences(of: #""version":2,"#, with: "")),
            ("critical 1", i.replacingOccurrences(of: #""critical":true"#, with: #""critical":1"#)),
            ("critical 2", i.replacingOccurrences(of: #""critical":true"#, with: #""critical":2"#)),
            ("start written 0.0", i.replacingOccurrences(of: #""header":{"path":"cka-header.json","start":0"#,
                                                          with: #""header":{"path":"cka-header.json","start":0.0"#)),
            ("start written 0e5", i.replacingOccurrences(of: #""header":{"path":"cka-header.json","start":0"#,
                                                          with: #""header":{"path":"cka-header.json","start":0e5"#)),
            ("header path wrong", i.replacingOccurrences(of: #""path":"cka-header.json""#, with: #""path":"x.json""#)),
            ("header end wrong", i.replacingOccurrences(of: #""start":0,"end":\#(a.computed.header.end),"#,
                                                         with: #""start":0,"end":\#(a.computed.header.end + 1),"#)),
            ("section entries wrong", i.replacingOccurrences(
                of: #""entries":\#(a.computed.sections[0].entries),"sha256":"\#(a.computed.sections[0].span.sha256)""#,
                with: #""entries":\#(a.computed.sections[0].entries + 1),"sha256":"\#(a.computed.sections[0].span.sha256)""#)),
            ("file members reordered", i.replacingOccurrences(
                of: file(firstFile),
                with: #"{"size":\#(firstFile.size),"path":"\#(firstFile.path)","offset":\#(firstFile.offset),"sha256":"\#(firstFile.sha256)"}"#)),
            ("file path escaped", i.replacingOccurrences(of: #""path":"rootfs/"#, with: #""path":"\u0072ootfs/"#)),
            ("file digest upper case", i.replacingOccurrences(of: lastFile.sha256, with: lastFile.sha256.uppercased())),
            ("file size 1.0e1", i.replacingOccurrences(of: #""size":\#(lastFile.size),"offset":\#(lastFile.offset)"#,
                                                        with: #""size":\#(lastFile.size).0,"offset":\#(lastFile.offset)"#)),
            ("file not an object", i.replacingOccurrences(of: file(lastFile), with: "null")),
            ("file record malformed", i.replacingOccurrences(of: file(lastFile), with: #"{"path":"x"}"#)),
            ("file record malformed, a later one not an object",
             i.replacingOccurrences(of: file(firstFile), with: #"{"path":"x"}"#)
                .replacingOccurrences(of: file(lastFile), with: "7")),
            ("files repeated", i.replacingOccurrences(of: #""files":["#, with: #""files":[],"files":["#)),
            ("files repeated after", i.replacingOccurrences(of: #","indexOffset""#, with: #","files":[],"indexOffset""#)),
            ("sections not an array", i.replacingOccurrences(of: #""sections":["#, with: #""sections":"no","x":["#)),
            ("sections member not an object", i.replacingOccurrences(of: #""sections":["#, with: #""sections":[1,"#)),
            ("section kind unknown", i.replacingOccurrences(of: #""kind":"rootfs""#, with: #""kind":"future""#)),
            ("section name on metadata", i.replacingOccurrences(of: #""kind":"metadata","#, with: #""kind":"metadata","name":"n","#)),
            ("negative compressedStart", i.replacingOccurrences(of: #","entries":"#, with: #","compressedStart":-5,"entries":"#)),
            ("compressedStart 1.5", i.replacingOccurrences(of: #","entries":"#, with: #","compressedStart":1.5,"entries":"#)),
            ("indexOffset upper case", i.replacingOccurrences(of: String(format: "\"%016llx\"", a.indexOffset),
                                                               with: String(format: "\"%016llX\"", a.indexOffset))),
            ("indexOffset wrong", i.replacingOccurrences(of: String(format: "\"%016llx\"", a.indexOffset),
                                                          with: String(format: "\"%016llx\"", a.indexOffset + 512))),
            ("indexOffset 15 digits", i.replacingOccurrences(of: String(format: "\"%016llx\"", a.indexOffset),
                                                              with: String(format: "\"%015llx\"", a.indexOffset))),
            ("two line feeds", i + "\n"),
            ("no line feed", String(i.dropLast())),
            ("data after the object", i + "x"),
            ("byte order mark", "\u{FEFF}" + i),
            ("not an object", "[]\n"),
            ("truncated", String(i.prefix(i.utf8.count / 2))),
            ("empty", ""),
            ("size too large", i.replacingOccurrences(of: #""size":\#(lastFile.size),"#, with: #""size":99999999999999999999,"#)),
        ]
        var accepted = 0
        var ids = Set<String>()
        for (label, text) in cases {
            let content = Array(text.utf8)
            let bytes = try archive(a, index: content)
            for pin in [nil, "sha256:" + Hex.string(SHA256.hash(data: content)), "sha256:" + String(repeating: "1", count: 64)] {
                let expected = legacyVerdict(content, a, pin: pin)
                XCTAssertEqual(decode(bytes, pin: pin, budget: MemoryBudget()), expected, label)
                XCTAssertEqual(decode(bytes, pin: pin, budget: .tiny), expected, "\(label) (tiny budget)")
                if pin == nil {
                    if let id = expected?.first ?? nil { ids.insert(id) } else { accepted += 1 }
                }
            }
        }
        // The cases reach every outcome the comparison can give.
        XCTAssertEqual(accepted, 8)
        XCTAssertEqual(ids, ["CKA-IDX-001", "CKA-IDX-002", "CKA-IDX-003", "CKA-IDX-004", "CKA-IDX-005", "CKA-IDX-006"])
    }

    /// The unpacked `cka-index.json` is the canonical JSON of the verified index, byte for byte what
    /// `ArchiveIndex.canonicalBytes` writes, vendor members left out.
    func testVerifiedIndexIsTheCanonicalJSONOfWhatWasParsed() throws {
        let a = try makeArchive()
        let vendor = a.index.replacingOccurrences(of: #"{"format""#, with: #"{"x-v":[1],"format""#)
        for text in [a.index, vendor] {
            for budget in [MemoryBudget(), .tiny] {
                let decoder = V2Decoder(stream: MemorySource(try archive(a, index: Array(text.utf8))))
                decoder.budget = budget
                let index = try decoder.decode(into: InspectionSink()).index
                XCTAssertEqual(index.canonicalBytes, a.computed.canonicalBytes)
                XCTAssertEqual(try index.canonicalLength(), Int64(a.computed.canonicalBytes.count))
                XCTAssertEqual(try index.canonicalSource().readBytes(1 << 20), a.computed.canonicalBytes)
                XCTAssertEqual(index.fileCount, a.computed.files.count)
                XCTAssertEqual(index.sectionCount, 3)
                XCTAssertEqual(index.indexOffset, a.indexOffset)
            }
        }
    }
}
