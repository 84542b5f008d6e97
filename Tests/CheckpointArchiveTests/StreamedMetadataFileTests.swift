import ByteStreams
@testable import CheckpointArchive
import Foundation
import TarFormat
import XCTest

/// `rootfs/deleted.files`, `rootfs/implied.dirs` and `metadata/bind.mounts` are checked as they stream
/// (`V2MetadataFile`) with the verdicts of parsing them whole with `V1JSON`, in chunks of any size and with the
/// tiny budget (content and paths on disk).
final class StreamedMetadataFileTests: XCTestCase {
    private let header = TarHeader(path: "rootfs/deleted.files", type: .regular, mode: 0o644)

    /// A reader handing out `bytes` in chunks of `size`.
    private func chunks(_ bytes: [UInt8], _ size: Int) -> () throws -> UnsafeRawBufferPointer {
        let source = MemorySource(bytes)
        return { try source.read(upTo: size) }
    }

    private func outcome(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let e as CheckpointError {
            return "\(e.requirement) \(e.entry ?? "-") \(e.offset.map(String.init) ?? "-")"
        } catch {
            return "\(error)"
        }
    }

    private static let lists: [String] = [
        #"["/etc/motd","/usr/lib/x"]"#,
        "[\n  \"/a\",\n  \"/b\"\n]",
        #"[]"#, #"{}"#, #""/a""#, "", " ", "[", #"["/a""#, #"["/a",]"#, #"["/a"] x"#, #"["/a"]  "#,
        "\u{FEFF}[\"/a\"]", #"["/a",1]"#, #"["/a",null,"/b"]"#, #"[1,"/a",["#, #"["relative"]"#, #"["/a","/a"]"#,
        #"["/a/","/b"]"#, #"["/a//b"]"#, #"["/a/../b"]"#, #"["/"]"#, #"["/a\u0000b"]"#, #"["/\u00e9","/\u0065\u0301"]"#,
        "[\"/\u{E9}\",\"/e\u{301}\"]", #"["/a\ud800"]"#, #"["/a\ud800\u0041"]"#, #"["/a\udc00"]"#, #"["/a\/b"]"#,
        #"["/a\x"]"#, #"["/ok",1e5]"#, #"[-0]"#, #"[01]"#,
        String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
        "[" + (0..<5000).map { "\"/d/\($0)\"" }.joined(separator: ",") + "]",
        "[" + (0..<5000).map { "\"/d/\($0 % 4000)\"" }.joined(separator: ",") + "]",
    ]

    private static let invalidUTF8: [[UInt8]] = [
        Array(#"["/a"]"#.utf8) + [0xFF],
        Array(#"["/"#.utf8) + [0xC3] + Array(#""]"#.utf8),
        Array(#"["/"#.utf8) + [0xED, 0xA0, 0x80] + Array(#""]"#.utf8),
        Array(#"["/a""#.utf8) + [0xE2, 0x82],
        Array(#"[1,"/"#.utf8) + [0xF4, 0x90, 0x80, 0x80] + Array(#""]"#.utf8),
        Array(#"["/"#.utf8) + [0xF0, 0x9F, 0x98, 0x80] + Array(#""]"#.utf8),
    ]

    func testPathListsAsParsedWhole() {
        let inputs = Self.lists.map { Array($0.utf8) } + Self.invalidUTF8
        var refusals = Set<String>()
        for bytes in inputs {
            for requirement in ["CKA-V2-028", "CKA-V2-029"] {
                let expected = outcome {
                    do {
                        _ = try ContainerPathList.parse(bytes, entry: header.path, requirement: requirement)
                    } catch var e as CheckpointError {
                        e.offset = header.headerOffset
                        throw e
                    }
                }
                for (size, budget) in [(1 << 20, MemoryBudget()), (7, MemoryBudget.tiny), (1, MemoryBudget.tiny)] {
                    var listed: [String] = []
                    let got = outcome {
                        let file = try V2MetadataFile.pathList(header, requirement: requirement, budget: budget,
                                                               read: chunks(bytes, size)) { listed.append($0) }
                        XCTAssertEqual(try file.content.source().readBytes(bytes.count + 1), bytes)
                        XCTAssertEqual(listed, try ContainerPathList.parse(bytes, entry: "", requirement: requirement))
                    }
                    XCTAssertEqual(got, expected, "\(String(decoding: bytes.prefix(60), as: UTF8.self)) in chunks of \(size)")
                }
                if let expected { refusals.insert(String(expected.prefix(10))) }
            }
        }
        XCTAssertEqual(refusals, ["CKA-SEC-01", "CKA-V2-028", "CKA-V2-029"])
    }

    /// The legacy check of `metadata/bind.mounts`: destinations of a text that parses as a JSON array.
    private func legacyBindMounts(_ bytes: [UInt8]) throws {
        guard case let .array(items)? = try? V1JSON.parse(bytes) else { return }
        for (i, item) in items.enumerated() {
            guard let destination = item["destination"]?.stringValue, let why = ContainerPath.problem(destination) else {
                continue
            }
            throw CheckpointError("CKA-SEC-010", "bind.mounts[\(i)].destination \(ContainerPath.quoted(destination)) \(why)",
                                  entry: "metadata/bind.mounts", offset: 0)
        }
    }

    func testBindMountsAsParsedWhole() {
        let h = TarHeader(path: "metadata/bind.mounts", type: .regular, mode: 0o600)
        let texts = [
            #"[{"destination":"/etc/hosts","source":"/x"}]"#, #"[{"destination":"etc"}]"#,
            #"[{"destination":"/ok"},{"destination":"/a/../b"}]"#, #"[{"destination":"/a/../b"},"#,
            #"[{"destination":"rel","destination":"/ok"}]"#, #"[{"destination":"/ok","destination":"rel"}]"#,
            #"[{"destination":"/ok","destination":5}]"#, #"[1,"x",{"destination":"//"}]"#, #"{"destination":"x"}"#,
            "\u{FEFF}[{\"destination\":\"x\"}]", #"[{"destination":"x"}] junk"#, #"[{"destination":"x\ud800"}]"#,
            #"[{"options":[[[["deep"]]]],"destination":"x"}]"#, "",
        ]
        var refused = 0
        for bytes in texts.map({ Array($0.utf8) }) + [Array(#"[{"destination":"x"}]"#.utf8) + [0xC0]] {
            let expected = outcome { try legacyBindMounts(bytes) }
            if expected != nil { refused += 1 }
            for size in [1 << 20, 5, 1] {
                let got = outcome {
                    let file = try V2MetadataFile.bindMounts(h, budget: .tiny, read: chunks(bytes, size))
                    XCTAssertEqual(try file.content.source().readBytes(bytes.count + 1), bytes)
                }
                XCTAssertEqual(got, expected, String(decoding: bytes, as: UTF8.self))
            }
        }
        XCTAssertEqual(refused, 5)
    }

    func testUTF8ValidationMatchesTheStandardLibrary() {
        var rng = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = [[0x41], [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0xED, 0x9F, 0xBF],
                                 [0xED, 0xA0, 0x80], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xF4, 0x90, 0x80, 0x80],
                                 [0x80], [0xFF], [0xE2, 0x82], [0xF0, 0x90]]
        for _ in 0..<2000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...6, using: &rng) { bytes += pieces.randomElement(using: &rng)! }
            var v = UTF8Validation()
            var at = 0
            while at < bytes.count {
                let n = Int.random(in: 1...3, using: &rng)
                bytes[at..<min(bytes.count, at + n)].withUnsafeBytes { v.feed($0) }
                at += n
            }
            XCTAssertEqual(v.isComplete, String(validating: bytes, as: UTF8.self) != nil, "\(bytes)")
        }
    }

    /// `ckpt inspect` picks its members of `config.dump` and `spec.dump` as they stream, as `JSONSerialization`
    /// reads the whole text (its first `limit` bytes).
    func testInspectedMembersAsJSONSerializationReadsThem() throws {
        let texts = [
            #"{"name":"n","id":"i","runtime":"crun","annotations":{"io.container.manager":"libpod"}}"#,
            #"{"name":"a","name":"b","id":5,"rootfsImageRef":"r"}"#, #"{"name":"a","name":null}"#,
            "\u{FEFF}{\"name\":\"bom\"}", " {\"name\" : \"ws\"}\n", #"{"name":"x"} trailing"#, #"["name"]"#, "",
            #"{"name":"trunc"#, #"{"x":[[[[{"name":"deep"}]]]],"name":"top"}"#,
            #"{"annotations":{"io.container.manager":"libpod","io.kubernetes.cri.image-name":"img"}}"#,
            #"{"annotations":{"io.container.manager":"libpod","other":1}}"#,
            #"{"annotations":{"other":1,"other":"s","io.container.manager":"cri-o"}}"#,
            #"{"annotations":{"other":"s","other":1}}"#, #"{"annotations":[]}"#,
            #"{"annotations":{"a":"1"},"annotations":{"io.container.manager":"second"}}"#,
            #"{"annotations":{"io.container.manager":"x"},"annotations":5}"#,
            #"{"name":"n","id":"i"}"# + String(repeating: " ", count: 20),
            #"{"name":"caf\u00e9","id":"\ud83d\ude00","runtime":1.5e3}"#,
        ]
        // Invalid UTF-8 in a member nobody asked for, and in a wanted one.
        let invalid: [[UInt8]] = [Array(#"{"other":""#.utf8) + [0xFF] + Array(#"","name":"n"}"#.utf8),
                                  Array(#"{"name":""#.utf8) + [0xC3] + Array(#""}"#.utf8)]
        for bytes in texts.map({ Array($0.utf8) }) + invalid {
            for limit in [16 << 20, 12] {
                let json = try? JSONSerialization.jsonObject(with: Data(bytes.prefix(limit))) as? [String: Any]
                let strings = json.map { j in
                    InspectionSink.configMembers.reduce(into: [String: String]()) { $0[$1] = j[$1] as? String }
                }
                XCTAssertEqual(try InspectedMetadata.strings(MemorySource(bytes), limit: limit,
                                                             wanted: InspectionSink.configMembers), strings,
                               String(decoding: bytes, as: UTF8.self))
                let annotations = (json?["annotations"] as? [String: String]).map { a in
                    a.filter { InspectionSink.annotationKeys.contains($0.key) }
                }
                for budget in [MemoryBudget(), .tiny] {
                    XCTAssertEqual(try InspectedMetadata.annotations(MemorySource(bytes), limit: limit,
                                                                     wanted: InspectionSink.annotationKeys, budget: budget),
                                   annotations, String(decoding: bytes, as: UTF8.self))
                }
            }
        }
    }
}
