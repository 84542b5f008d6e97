import ByteStreams
import CheckpointArchive
import Compression
@testable import Conformance
import Foundation
import TarFormat
import TestSupport
import XCTest

/// The mapping of decoding errors to requirements (CKA-CMP-*, malformed tar streams) through `MalformedInput`.
final class TarMalformedInputTests: XCTestCase {
    let tar = TarTestStream.file("a", "hello") + TarTestStream.end

    /// Decompresses and reads `bytes` as a validator does; every error goes to `MalformedInput`.
    func findings(_ bytes: [UInt8], format: CheckpointFormat? = .v1) -> DiagnosticCollector {
        let c = DiagnosticCollector()
        do {
            let decoded = try openDecompressed(MemorySource(bytes))
            MalformedInput.noteCompression(decoded.format, format: format, to: c)
            let rules = TarLayerRules(collector: c, format: format ?? .v1)
            let reader = TarReader(source: decoded.source)
            reader.observer = rules
            while let h = try reader.next() { rules.entry(h) }
            rules.end(try reader.finish())
        } catch {
            MalformedInput.report(error, to: c, format: format, compression: CompressionFormat.none)
        }
        return c
    }

    func ids(_ bytes: [UInt8], format: CheckpointFormat? = .v1) -> [String] {
        findings(bytes, format: format).diagnostics.map(\.id)
    }

    func compress(_ bytes: [UInt8], _ format: CompressionFormat) throws -> [UInt8] {
        let sink = MemorySink()
        let encoder = try format.makeEncoder(sink)
        try bytes.withUnsafeBytes { try encoder.write($0) }
        try encoder.finish()
        return sink.bytes
    }

    func testCleanCompressedStreams() throws {
        XCTAssertEqual(ids(try compress(tar, .gzip)), [])
        XCTAssertEqual(ids(try compress(tar, .zstd)), [])
        // Concatenated gzip members are one stream (CKA-CMP-006).
        let half = tar.count / 2
        let two = try compress(Array(tar[..<half]), .gzip) + compress(Array(tar[half...]), .gzip)
        XCTAssertEqual(ids(two), [])
        let c = findings(try compress(tar, .gzip))
        for id in ["CKA-CMP-001", "CKA-CMP-002", "CKA-CMP-006", "CKA-CMP-009", "CKA-CMP-010"] {
            XCTAssertTrue(c.checked.contains(id), id)
        }
    }

    func testGzipCRCMismatch() throws {
        var gz = try compress(tar, .gzip)
        gz[gz.count - 8] ^= 0xFF
        XCTAssertEqual(ids(gz), ["CKA-CMP-006"])
    }

    func testGzipTruncated() throws {
        let gz = try compress(tar, .gzip)
        XCTAssertEqual(ids(Array(gz.dropLast(6))), ["CKA-CMP-010"])
    }

    func testGzipTrailingGarbage() throws {
        let gz = try compress(tar, .gzip)
        XCTAssertEqual(ids(gz + Array("garbage".utf8)), ["CKA-CMP-009"])
    }

    func testCompleteGzipOfAnIncompleteTar() throws {
        XCTAssertEqual(ids(try compress(Array(tar.prefix(1024)), .gzip)), ["CKA-TAR-001"])
        XCTAssertEqual(ids(try compress(Array(tar.prefix(700)), .gzip)), ["CKA-TAR-001"])
    }

    func testZstdChecksumMismatch() throws {
        try TestTools.require("zstd")
        let r = try TestTools.run(["zstd", "-q", "-c"], stdin: Data(tar))
        XCTAssertEqual(r.status, 0, r.stderrText)
        var zst = [UInt8](r.stdout)
        XCTAssertEqual(ids(zst), [])
        zst[zst.count - 1] ^= 0xFF
        XCTAssertEqual(ids(zst), ["CKA-CMP-007"])
    }

    func testZstdDictionary() {
        // A frame header with Dictionary_ID 7, then an empty last raw block.
        let frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x21, 0x07, 0x00, 0x01, 0x00, 0x00]
        XCTAssertEqual(ids(frame), ["CKA-CMP-008"])
        let noDictionary: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x20, 0x00, 0x01, 0x00, 0x00]
        XCTAssertEqual(ids(noDictionary), ["CKA-TAR-001"], "an empty stream is a tar stream without its end")
    }

    func testBzip2AndXz() throws {
        try TestTools.require("bzip2")
        let r = try TestTools.run(["bzip2", "-c"], stdin: Data(tar))
        let bz = [UInt8](r.stdout)
        XCTAssertEqual(ids(bz, format: nil), ["CKA-CMP-001"])
        XCTAssertEqual(ids(bz, format: .v1), ["CKA-CMP-004"])
        XCTAssertEqual(ids(bz, format: .v2), ["CKA-CMP-005"])
        let c = DiagnosticCollector()
        MalformedInput.noteCompression(.xz, format: .v1, to: c)
        XCTAssertEqual(c.diagnostics.map(\.id), ["CKA-CMP-004"])
        XCTAssertEqual(c.diagnostics.first?.severity, .warning)
        let lz4 = DiagnosticCollector()
        MalformedInput.noteCompression(.lz4, to: lz4)
        XCTAssertEqual(lz4.diagnostics.map(\.id), ["CKA-CMP-001"])
    }

    func testUncompressedGarbage() {
        let garbage = [UInt8](repeating: 0x41, count: 2048)
        XCTAssertEqual(ids(garbage), ["CKA-CMP-003"])
        XCTAssertEqual(ids(tar), [])
    }

    func testDecompressionBudgetIsAResourceLimit() throws {
        var limits = DecompressionLimits.default
        limits.maxOutputBytes = 1000
        let c = DiagnosticCollector()
        do {
            let decoded = try openDecompressed(MemorySource(try compress(tar, .gzip)), limits: limits)
            let reader = TarReader(source: decoded.source)
            while try reader.next() != nil {}
            try reader.finish()
            XCTFail("the budget should stop decompression")
        } catch {
            XCTAssertEqual(MalformedInput.report(error, to: c), .reported("CKA-SEC-020"))
        }
    }

    func testReadErrorsAreNotFindings() {
        let c = DiagnosticCollector()
        // Reading a directory fails with EISDIR: a ByteStreamError of the file, not of the archive.
        do {
            _ = try FileSource(path: NSTemporaryDirectory()).readAll()
            XCTFail("reading a directory should fail")
        } catch {
            XCTAssertTrue(error is ByteStreamError, "\(error)")
            guard case .notAFinding = MalformedInput.report(error, to: c) else { return XCTFail("an I/O error is no finding") }
        }
        guard case .notAFinding = MalformedInput.report(CheckpointError("IO", "read failed"), to: c) else {
            return XCTFail("an I/O error is no finding")
        }
        guard case .notAFinding = MalformedInput.report(TarError(.io("boom"), offset: 0), to: c) else {
            return XCTFail("an I/O error is no finding")
        }
        XCTAssertEqual(c.diagnostics, [])
    }

    func testCheckpointErrorsKeepTheirRequirementAndAreNotRepeated() {
        let c = DiagnosticCollector()
        c.report("CKA-TAR-037", "duplicate entry name", path: "a", offset: 1024)
        MalformedInput.report(CheckpointError("CKA-TAR-037", "duplicate entry name", entry: "a", offset: 1024), to: c)
        MalformedInput.report(CheckpointError("CKA-V1-001", "the archive has no top-level spec.dump"), to: c)
        XCTAssertEqual(c.diagnostics.map(\.id), ["CKA-TAR-037", "CKA-V1-001"])
        // A bad first block of an uncompressed v1 archive, as V1Reader reports it.
        let first = DiagnosticCollector()
        MalformedInput.report(CheckpointError("CKA-TAR-004", "bad checksum", offset: 0), to: first,
                              compression: CompressionFormat.none)
        XCTAssertEqual(first.diagnostics.map(\.id), ["CKA-CMP-003"])
    }

    func testTarErrorKindsMapToTheirRequirements() {
        let cases: [(TarError.Kind, String)] = [
            (.truncated, "CKA-TAR-001"),
            (.badChecksum(recorded: 1, unsigned: 2, signed: 3), "CKA-TAR-004"),
            (.invalidNumericField(field: "uid"), "CKA-TAR-012"),
            (.invalidNumericField(field: "chksum"), "CKA-TAR-004"),
            (.negativeValue(field: "size"), "CKA-TAR-013"),
            (.invalidPaxRecord(reason: "record has no '='"), "CKA-TAR-020"),
            (.invalidPaxRecord(reason: "value of 'path' contains NUL"), "CKA-TAR-023"),
            (.invalidPaxValue(key: "mtime"), "CKA-TAR-024"),
            (.invalidPaxValue(key: "GNU.sparse.size"), "CKA-TAR-010"),
            (.limitExceeded(limit: "pax header", value: 2 << 20, maximum: 1 << 20), "CKA-TAR-027"),
            (.limitExceeded(limit: "entry count", value: 11, maximum: 10), "CKA-TAR-043"),
            (.garbageAfterZeroBlock, "CKA-TAR-005"),
            (.invalidSparseMap(reason: "x"), "CKA-TAR-010"),
            (.invalidHeader(reason: "extended header not followed by an entry"), "CKA-TAR-022"),
        ]
        for (kind, id) in cases {
            let c = DiagnosticCollector()
            XCTAssertEqual(MalformedInput.report(TarError(kind, offset: 512), to: c, format: .v1), .reported(id), "\(kind)")
            XCTAssertEqual(c.diagnostics.map(\.id), [id])
            XCTAssertEqual(c.diagnostics.first?.offset, 512)
        }
        let v2 = DiagnosticCollector()
        MalformedInput.report(TarError(.negativeValue(field: "size"), offset: 0), to: v2, format: .v2)
        XCTAssertEqual(v2.diagnostics.map(\.id), ["CKA-TAR-014"])
    }
}
