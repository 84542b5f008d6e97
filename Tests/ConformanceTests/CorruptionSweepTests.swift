import Conformance
import Foundation
import TestSupport
import XCTest

/// Corruption sweeps (issue 7): valid archives cut at (nearly) every byte and with single bits flipped. The
/// validator must never crash or hang (a watchdog aborts with the case after 20 s), never call a cut archive
/// anything but invalid, and never call a v2 archive whose tar stream changed anything but invalid (every byte of a
/// v2 stream is covered by a span digest, a file digest or the index). Every error must name a requirement ID.
final class CorruptionSweepTests: XCTestCase {
    struct Counts {
        var archives = 0, truncations = 0, flips = 0, flipsWithSameStream = 0
    }

    func testEncoderArchivesCutAndFlipped() throws {
        let dir = try TestTools.temporaryDirectory(self)
        let archives = try SweepFixtures.make(in: dir)
        // CKPT_SWEEP_DUMP=DIR writes the archives there, to reproduce a finding with ckpt-validate.
        if let dump = ProcessInfo.processInfo.environment["CKPT_SWEEP_DUMP"] {
            for a in archives { try Data(a.bytes).write(to: URL(fileURLWithPath: dump).appendingPathComponent(a.name)) }
        }
        let counts = try sweep(archives)
        XCTAssertEqual(counts.archives, 8)
    }

    /// Every `valid` case of Vectors/manifest.json, when the golden corpus is there.
    func testValidVectorsCutAndFlipped() throws {
        let manifest = TestTools.repositoryRoot.appendingPathComponent("Vectors/manifest.json")
        guard FileManager.default.fileExists(atPath: manifest.path) else {
            throw XCTSkip("no Vectors/manifest.json yet: nothing to sweep")
        }
        let loaded = try SweepVectorManifest(contentsOf: manifest)
        XCTAssertFalse(loaded.valid.isEmpty, "the manifest lists no valid case")
        let archives = try loaded.valid.map { c in
            try SweepFixtures.archive("vector \(c.id)", SweepVectorManifest.bytes(of: c), isV2: c.format == "v2")
        }
        let full = ProcessInfo.processInfo.environment["CKPT_SWEEP_VECTORS"] == "full"
        _ = try sweep(archives, density: full ? .full : .light)
    }

    /// The loader reads table 7.4 as the specification writes it (a manifest made here, since Vectors/ may not
    /// exist yet), resolves files against the manifest's directory and checks each file's sha256.
    func testVectorManifestLoaderFollowsTable74() throws {
        let dir = try TestTools.temporaryDirectory(self)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("v2"), withIntermediateDirectories: true)
        let archive = Data("not really an archive".utf8)
        try archive.write(to: dir.appendingPathComponent("v2/basic.tar"))
        let digest = String(try TestTools.run(["sha256sum", dir.appendingPathComponent("v2/basic.tar").path]).stdoutText.prefix(64))
        func testCase(_ tcId: Int, _ id: String, _ result: String, sha: String) -> [String: Any] {
            ["tcId": tcId, "id": id, "file": "v2/basic.tar", "description": "d", "result": result,
             "requirements": ["CKA-V2-001"], "flags": [], "compression": "none", "framed": false, "malformed": false,
             "sha256": sha, "streamSha256": sha, "tree": []]
        }
        let manifest: [String: Any] = [
            "schema": "vectors-manifest.schema.json", "format": "checkpoint-archive-vectors", "specVersion": 2,
            "generator": ["name": "test", "version": "0"], "numberOfTests": 3, "header": [], "notes": [:],
            "testGroups": [
                ["type": "ArchiveValidation", "format": "v2", "profile": "podman",
                 "tests": [testCase(1, "v2-ok", "valid", sha: digest), testCase(2, "v2-bad", "invalid", sha: digest)]],
                ["type": "ArchiveValidation", "format": "v1", "profile": "cri-o",
                 "tests": [testCase(3, "v1-stale", "valid", sha: String(repeating: "0", count: 64))]],
            ],
        ]
        let url = dir.appendingPathComponent("manifest.json")
        try JSONSerialization.data(withJSONObject: manifest).write(to: url)
        let loaded = try SweepVectorManifest(contentsOf: url)
        XCTAssertEqual(loaded.cases.map(\.id), ["v2-ok", "v2-bad", "v1-stale"])
        XCTAssertEqual(loaded.valid.map(\.id), ["v2-ok", "v1-stale"])
        XCTAssertEqual(loaded.valid.map(\.format), ["v2", "v1"])
        XCTAssertEqual(loaded.cases[2].profile, "cri-o")
        XCTAssertEqual(loaded.cases[0].file.path, dir.appendingPathComponent("v2/basic.tar").path)
        XCTAssertEqual(try SweepVectorManifest.bytes(of: loaded.cases[0]), [UInt8](archive))
        XCTAssertThrowsError(try SweepVectorManifest.bytes(of: loaded.cases[2]), "a stale sha256 must be refused")
        var broken = manifest
        broken["testGroups"] = [["type": "ArchiveValidation", "format": "v2", "profile": "podman", "tests": [["tcId": 1]]]]
        try JSONSerialization.data(withJSONObject: broken).write(to: url)
        XCTAssertThrowsError(try SweepVectorManifest(contentsOf: url)) { error in
            XCTAssertTrue("\(error)".contains("lacks"), "\(error)")
        }
    }

    // MARK: - The sweep

    /// One corrupted variant of an archive.
    enum Corruption {
        case cut(Int)
        case flip(offset: Int, bit: UInt8)
    }

    /// What one worker found.
    struct Findings {
        var counts = Counts()
        var failures: [String] = []
    }

    /// Sweeps every archive, the corruptions of each spread over two workers (each with its own validator, scratch
    /// file and watchdog) so the test takes half the time on a two-core machine. Failures are reported on the test's
    /// own thread, at most five per archive.
    private func sweep(_ archives: [SweepArchive], density: CorruptionSweep.Density = .full) throws -> Counts {
        let started = Date()
        let startedCPU = SweepWatchdog.cpuNow()
        let workers = 2
        let validators = try (0..<workers).map { _ in try SweepValidator() }
        var total = Counts()
        for a in archives {
            let archiveCPU = SweepWatchdog.cpuNow()
            total.archives += 1
            let clean = validators[0].validate(a.bytes[...])
            XCTAssertEqual(clean.verdict, .valid, "\(a.name) is not valid to begin with:\n\(Self.describe(clean))")
            let d = density
            let corruptions = CorruptionSweep.truncationOffsets(count: a.bytes.count, edge: d.edge, middle: d.middle)
                .map(Corruption.cut)
                + CorruptionSweep.flipPositions(count: a.bytes.count, every: d.flipEvery, extra: d.extraFlips,
                                                seed: UInt64(a.bytes.count)).map(Corruption.flip)
            let results = SweepResults(count: workers)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let watchdog = SweepWatchdog(cpuLimit: 40)
                defer { watchdog.stop() }
                var findings = Findings()
                for i in Swift.stride(from: w, to: corruptions.count, by: workers) {
                    Self.check(a, corruptions[i], validators[w], watchdog, &findings)
                }
                results.store(findings, at: w)
            }
            let found = results.all
            total.truncations += found.reduce(0) { $0 + $1.counts.truncations }
            total.flips += found.reduce(0) { $0 + $1.counts.flips }
            total.flipsWithSameStream += found.reduce(0) { $0 + $1.counts.flipsWithSameStream }
            let failures = found.flatMap(\.failures)
            for message in failures.prefix(5) { XCTFail(message) }
            if failures.count > 5 { XCTFail("\(a.name): \(failures.count) failures in all, the first 5 shown") }
            print("corruption sweep: \(a.name), \(a.bytes.count) bytes, \(corruptions.count) variants: "
                  + String(format: "%.1f s of CPU", SweepWatchdog.cpuNow() - archiveCPU))
        }
        print("corruption sweep: \(total.archives) archives, \(total.truncations) truncations, \(total.flips) bit flips "
              + "(\(total.flipsWithSameStream) left the tar stream unchanged), \(validators.reduce(0) { $0 + $1.runs }) "
              + "validations in " + String(format: "%.1f s (%.1f s of CPU)", Date().timeIntervalSince(started),
                                           SweepWatchdog.cpuNow() - startedCPU))
        return total
    }

    private static func check(_ a: SweepArchive, _ corruption: Corruption, _ validator: SweepValidator,
                              _ watchdog: SweepWatchdog, _ findings: inout Findings) {
        switch corruption {
        case let .cut(cut):
            let label = "\(a.name) cut at \(cut) of \(a.bytes.count)"
            watchdog.begin(label)
            let r = validator.validate(a.bytes[0..<cut])
            findings.counts.truncations += 1
            findings.failures += errorsLackingRequirements(r, label)
            if let validFrom = a.validFrom, cut >= validFrom { return }
            if r.verdict != .invalid { findings.failures.append("\(label) is \(r.verdict)") }
        case let .flip(offset, bit):
            let label = "\(a.name) with bit \(bit) of byte \(offset) flipped"
            var bytes = a.bytes
            bytes[offset] ^= 1 << bit
            watchdog.begin(label)
            let r = validator.validate(bytes[...])
            findings.counts.flips += 1
            findings.failures += errorsLackingRequirements(r, label)
            guard a.isV2, r.verdict != .invalid else { return }
            // Only a change the tar stream does not see (a gzip header's MTIME, say) may pass.
            if CorruptionSweep.decompressed(bytes) == a.stream {
                findings.counts.flipsWithSameStream += 1
            } else {
                findings.failures.append("\(label) is \(r.verdict):\n\(describe(r))")
            }
        }
    }

    /// A clear error names its requirement (CKA-GEN-008).
    private static func errorsLackingRequirements(_ r: ValidationReport, _ label: String) -> [String] {
        var out = r.diagnostics.filter { !$0.id.hasPrefix("CKA-") }
            .map { "\(label): a finding without a requirement ID: \($0.id) \($0.message)" }
        if r.verdict == .invalid, !r.diagnostics.contains(where: { $0.severity == .error }) {
            out.append("\(label): invalid without an error")
        }
        return out
    }

    private static func describe(_ r: ValidationReport) -> String {
        r.diagnostics.map { "\($0.severity) \($0.id) \($0.path ?? "-")@\($0.offset.map(String.init) ?? "-"): \($0.message)" }
            .joined(separator: "\n") + (r.ioError.map { "\nI/O: \($0)" } ?? "")
    }
}
