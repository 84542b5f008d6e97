@testable import CheckpointArchive
import ByteStreams
import Compression
import Crypto
import Foundation
import SystemPackage
import TestSupport
import XCTest

/// The encoder spools file records and digests past a memory budget and streams the index from the spools:
/// the archive must be the same byte for byte as with everything in memory, and its index the canonical one.
final class V2EncoderSpoolTests: XCTestCase {
    /// A directory of `count` small files in nested directories (some empty, names that need JSON escapes,
    /// one of several MiB), beside the metadata and checkpoint sections.
    private func makeDirectory(count: Int) throws -> URL {
        let root = try TestTools.temporaryDirectory(self).appendingPathComponent("src")
        let fm = FileManager.default
        for d in ["metadata", "checkpoint", "rootfs/tree"] {
            try fm.createDirectory(at: root.appendingPathComponent(d), withIntermediateDirectories: true)
        }
        try Data(#"{"id":"x"}"#.utf8).write(to: root.appendingPathComponent("metadata/config.dump"))
        try Data("criu\n".utf8).write(to: root.appendingPathComponent("checkpoint/inventory.img"))
        let urandom = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom"))
        defer { try? urandom.close() }
        let odd = ["quote\"d", "back\\slash", "new\nline", "tab\tand\u{1}", "caf\u{e9}-\u{2603}"]
        for i in 0..<count {
            let dir = root.appendingPathComponent("rootfs/tree/lib/d\(i / 200)/sub\(i % 3)")
            if i % 200 < 3 { try fm.createDirectory(at: dir, withIntermediateDirectories: true) }
            let name = i % 97 == 0 ? odd[(i / 97) % odd.count] + "-\(i)" : "file-\(i).txt"
            try urandom.readData(ofLength: i % 13 == 0 ? 0 : 1 + i * 7919 % 700).write(to: dir.appendingPathComponent(name))
        }
        try urandom.readData(ofLength: 3 << 20).write(to: root.appendingPathComponent("rootfs/tree/lib/big.bin"))
        return root
    }

    /// Encodes `dir` to a real file (so data is copied by the kernel and hashed late by the workers when
    /// uncompressed) and returns the archive's bytes and the encoder's result.
    private func encode(_ dir: URL, compression: CompressionFormat, budget: Int?) throws -> ([UInt8], V2EncodeResult) {
        var options = V2EncoderOptions()
        options.compression = compression
        options.deterministic = true
        if let budget { options.spoolMemoryBudget = budget }
        let path = dir.deletingLastPathComponent().appendingPathComponent("out-\(UUID().uuidString)").path
        let fd = try FileDescriptor.open(path, .readWrite, options: [.create, .truncate], permissions: .ownerReadWrite)
        let result: V2EncodeResult
        do {
            let sink = FileSink(descriptor: fd)
            result = try V2Encoder(directory: dir.path, options: options).encode(to: sink)
            try sink.flush()
        }
        try fd.close()
        defer { try? FileManager.default.removeItem(atPath: path) }
        return ([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), result)
    }

    func testSpooledEncodingIsIdenticalToInMemory() throws {
        let dir = try makeDirectory(count: 1500)
        for compression in [CompressionFormat.none, .zstd] {
            let (memory, m) = try encode(dir, compression: compression, budget: nil)
            XCTAssertFalse(m.spooled, "\(compression): 1,500 records fit the default budget")
            for budget in [1, 4096] {
                let (spooled, s) = try encode(dir, compression: compression, budget: budget)
                XCTAssertTrue(s.spooled, "\(compression) budget \(budget)")
                XCTAssertEqual(spooled.count, memory.count, "\(compression) budget \(budget)")
                XCTAssertTrue(spooled == memory, "\(compression) budget \(budget): the archives differ")
                XCTAssertEqual(s.indexDigest, m.indexDigest)
                XCTAssertEqual(s.fileCount, m.fileCount)
            }
        }
    }

    func testStreamedIndexIsTheCanonicalIndexOfTheArchive() throws {
        let dir = try makeDirectory(count: 1200)
        let (bytes, result) = try encode(dir, compression: .none, budget: 64)
        XCTAssertTrue(result.spooled)
        // The index content ends the tar stream, before its padding and the two zero blocks.
        let length = Int(result.indexLength)
        let start = Int(result.tarBytes) - 1024 - (length + 511) / 512 * 512
        let content = Array(bytes[start..<(start + length)])
        XCTAssertEqual("sha256:" + Hex(SHA256.hash(data: content)), result.indexDigest)
        let index = try ArchiveIndex.parse(content)
        XCTAssertEqual(index.canonicalBytes, content, "the streamed index is not ArchiveIndex.canonicalBytes")
        XCTAssertEqual(index.files.count, result.fileCount)
        XCTAssertEqual(index.files.count, 1200 + 4)  // the header, config.dump, inventory.img and big.bin too
        XCTAssertEqual(index.sections, result.sections)
        XCTAssertEqual(index.indexOffset, result.indexOffset)
        XCTAssertTrue(index.files.contains { $0.path.contains("new\nline") })
        // Every record names its own data: slots and late digests were not mixed up.
        for f in index.files {
            let data = bytes[Int(f.offset)..<Int(f.offset + f.size)]
            XCTAssertEqual(Hex(SHA256.hash(data: data)), f.sha256, f.path)
        }
        let check = try TestTools.run(["python3", WorkedExampleTests.v2check,
                                       try write(bytes, beside: dir, name: "checked.tar")])
        XCTAssertEqual(check.status, 0, check.stdoutText)
    }

    private func write(_ bytes: [UInt8], beside dir: URL, name: String) throws -> String {
        let url = dir.deletingLastPathComponent().appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }
}
