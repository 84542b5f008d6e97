import ByteStreams
@testable import CheckpointArchive
import Compression
import Conformance
import Foundation
import TarFormat
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// One valid archive the corruption sweeps start from.
struct SweepArchive {
    var name: String
    var bytes: [UInt8]
    /// v2 archives carry digests: no changed byte of their tar stream may pass as valid.
    var isV2: Bool
    /// The decompressed tar stream.
    var stream: [UInt8]
    /// For uncompressed v1 archives, where the end-of-archive marker ends: zero blocks after it (GNU tar's record
    /// padding) may be cut off without making the archive invalid (CKA-TAR-003). Nil when every cut must be invalid.
    var validFrom: Int?
}

/// Runs `Validator` (the engine `ckpt-validate` uses, with its default options) on bytes held in memory, through one
/// scratch file on tmpfs, as the command reads a regular file (seeking and the framed-locator tail included).
/// Used by one worker at a time (the sweep gives each worker its own).
final class SweepValidator: @unchecked Sendable {
    /// An unlinked scratch file (in /dev/shm when there is one), so a run that is killed leaves nothing behind.
    private let file: SpoolFile
    private let validator = Validator()
    /// Validations run so far.
    private(set) var runs = 0

    init() throws {
        file = try SpoolFile(directory: FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : nil,
                             purpose: "corruption sweep")
    }

    func validate(_ bytes: ArraySlice<UInt8>) -> ValidationReport {
        runs += 1
        precondition(ftruncate(file.fd, 0) == 0)
        do { try bytes.withUnsafeBytes { try file.write($0, at: 0) } } catch { preconditionFailure("\(error)") }
        precondition(lseek(file.fd, 0, SEEK_SET) == 0)
        return validator.validate(file: "sweep", source: FileSource(descriptor: .init(rawValue: file.fd)))
    }
}

/// Aborts the test process with the case at hand when one validation spins for more than `cpuLimit` seconds of
/// processor time, or blocks for more than `wallLimit` seconds: a hang is a failure the log names, not a CI job that
/// never ends. Processor time, not wall time, is the main measure: on a loaded machine a nice'd test may wait long.
final class SweepWatchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var current = ""
    private var startedWall = SweepWatchdog.wallNow()
    private var startedCPU = SweepWatchdog.cpuNow()
    private var running = true

    init(cpuLimit: Double = 20, wallLimit: Double = 600) {
        Thread.detachNewThread { [self] in
            while true {
                sleep(1)
                lock.lock()
                let (alive, label, wall, cpu) = (running, current, startedWall, startedCPU)
                lock.unlock()
                if !alive { return }
                let spent = (cpu: Self.cpuNow() - cpu, wall: Self.wallNow() - wall)
                if spent.cpu > cpuLimit || spent.wall > wallLimit {
                    let text = String(format: "corruption sweep: no answer after %.0f s (%.0f s of CPU) on ", spent.wall, spent.cpu)
                    FileHandle.standardError.write(Data((text + label + "\n").utf8))
                    abort()
                }
            }
        }
    }

    /// Starts timing one case.
    func begin(_ label: String) {
        let (wall, cpu) = (Self.wallNow(), Self.cpuNow())
        lock.lock()
        current = label
        startedWall = wall
        startedCPU = cpu
        lock.unlock()
    }

    func stop() {
        lock.lock()
        running = false
        lock.unlock()
    }

    /// Processor time of the whole process, in seconds.
    static func cpuNow() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    static func wallNow() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}

/// Where the sweep's workers leave what they found.
final class SweepResults: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [CorruptionSweepTests.Findings]

    init(count: Int) { slots = Array(repeating: CorruptionSweepTests.Findings(), count: count) }

    func store(_ findings: CorruptionSweepTests.Findings, at index: Int) {
        lock.lock()
        slots[index] = findings
        lock.unlock()
    }

    var all: [CorruptionSweepTests.Findings] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}

enum CorruptionSweep {
    /// How densely an archive is cut and flipped.
    struct Density {
        /// Cut at every offset of the first and last `edge` bytes, and at about `middle` evenly spaced ones between.
        var edge: Int, middle: Int
        /// Flip one bit in every `flipEvery` bytes, and at `extraFlips` further pseudo-random offsets.
        var flipEvery: Int, extraFlips: Int

        /// Issue 7's sweep: every byte of the first and last 4 KiB, a flip in every 512-byte block (every tar header
        /// and every compressed block is hit).
        static let full = Density(edge: 4096, middle: 600, flipEvery: 512, extraFlips: 300)
        /// For the 89 valid vectors (727,000 variants at full density, 45 minutes of a debug build on two busy
        /// cores): every byte of the first and last 256, a flip in every 4 KiB. `CKPT_SWEEP_VECTORS=full` sweeps
        /// them at full density.
        static let light = Density(edge: 256, middle: 32, flipEvery: 4096, extraFlips: 16)
    }

    /// Cut points: every offset in the first and last `edge` bytes, and about `middle` evenly spaced ones between.
    static func truncationOffsets(count n: Int, edge: Int = 4096, middle: Int = 600) -> [Int] {
        if n <= 2 * edge { return Array(0..<n) }
        let stride = max(1, (n - 2 * edge) / middle)
        return Array(0..<edge) + Array(Swift.stride(from: edge, to: n - edge, by: stride)) + Array((n - edge)..<n)
    }

    /// Bit flips: one in every 512-byte block (so every tar header and every compressed block is hit), plus one at
    /// `extra` further pseudo-random offsets; bit positions and offsets are fixed by `seed`.
    static func flipPositions(count n: Int, every: Int = 512, extra: Int = 300,
                              seed: UInt64) -> [(offset: Int, bit: UInt8)] {
        var rng = SeededRandom(seed: seed)
        var out: [(Int, UInt8)] = []
        for block in Swift.stride(from: 0, to: n, by: every) {
            out.append((block + Int(rng.next() % UInt64(min(every, n - block))), UInt8(rng.next() % 8)))
        }
        for _ in 0..<extra where n > 0 { out.append((Int(rng.next() % UInt64(n)), UInt8(rng.next() % 8))) }
        return out
    }

    /// The decompressed bytes of `bytes`, or nil when they do not decode.
    static func decompressed(_ bytes: [UInt8]) -> [UInt8]? {
        guard let decoded = try? openDecompressed(MemorySource(bytes)) else { return nil }
        return try? decoded.source.readAll(limit: 1 << 30)
    }

    /// Where the end-of-archive marker of an uncompressed tar stream ends.
    static func endOfMarker(_ stream: [UInt8]) throws -> Int {
        let reader = TarReader(source: MemorySource(stream))
        while try reader.next() != nil {}
        guard let end = reader.end, end.marker == .twoZeroBlocks else { throw CocoaError(.fileReadCorruptFile) }
        return Int(end.offset) + 1024
    }
}

/// The valid archives written by this package's encoders: v2 uncompressed, gzip and zstd, framed gzip and zstd,
/// aligned to 4096, and v1 Podman uncompressed and zstd, all from one small checkpoint directory with every section
/// and entry kind.
enum SweepFixtures {
    static func make(in root: URL) throws -> [SweepArchive] {
        let v1Dir = root.appendingPathComponent("v1")
        let v2Dir = root.appendingPathComponent("v2")
        try makeDirectory(v1Dir, extensionSection: false)
        try makeDirectory(v2Dir, extensionSection: true)
        var archives: [SweepArchive] = []
        let v2: [(String, CompressionFormat, Bool, Int)] = [
            ("v2-none", .none, false, 0), ("v2-gzip", .gzip, false, 0), ("v2-zstd", .zstd, false, 0),
            ("v2-gzip-framed", .gzip, true, 0), ("v2-zstd-framed", .zstd, true, 0), ("v2-none-align4096", .none, false, 4096),
        ]
        for (name, compression, framed, alignment) in v2 {
            let bytes = try V2Fixture.encode(v2Dir, compression: compression, framed: framed, alignment: alignment)
            archives.append(try archive(name, bytes, isV2: true))
        }
        var v1Options = V1WriterOptions()
        v1Options.deterministic = TarWriterOptions.Deterministic(mtime: TarTime(seconds: 1_700_000_000))
        let tar = MemorySink()
        _ = try V1Writer(options: v1Options).write(directory: v1Dir.path, profile: .podman, to: tar)
        archives.append(try archive("v1-podman-none", tar.bytes, isV2: false))
        let zstdBytes = MemorySink()
        let encoder = try CompressionFormat.zstd.makeEncoder(zstdBytes)
        _ = try V1Writer(options: v1Options).write(directory: v1Dir.path, profile: .podman, to: encoder)
        try encoder.finish()
        archives.append(try archive("v1-podman-zstd", zstdBytes.bytes, isV2: false))
        return archives
    }

    static func archive(_ name: String, _ bytes: [UInt8], isV2: Bool) throws -> SweepArchive {
        let stream = try XCTUnwrap(CorruptionSweep.decompressed(bytes), "\(name) does not decompress")
        let compressed = CompressionFormat.detect(prefix: Array(bytes.prefix(CompressionFormat.detectionPrefixLength))) != .none
        let end = try CorruptionSweep.endOfMarker(stream)
        let validFrom = (!isV2 && !compressed && end < bytes.count) ? end : nil
        return SweepArchive(name: name, bytes: bytes, isV2: isV2, stream: stream, validFrom: validFrom)
    }

    /// A checkpoint directory small enough to cut at (nearly) every byte: text files, CRIU image magic, one 5120-byte
    /// file (aligned with --align 4096), symbolic and hard links, a long and a non-ASCII name, deletions, implied
    /// directories, devshm, volumes, logs and artifacts.
    static func makeDirectory(_ root: URL, extensionSection: Bool) throws {
        let fm = FileManager.default
        let tree = FixtureTree(root)
        // Compressible: the compressed archives stay below 8 KiB, so they are cut at every byte.
        let pages = Array(String(repeating: "ckpt-sweep-page ", count: 320).utf8)
        try tree.text("metadata/config.dump", #"{"id":"0123abcd","name":"sweep","rootfsImageID":"abc"}"#)
        try tree.text("metadata/spec.dump", #"{"ociVersion":"1.2.0","annotations":{"io.container.manager":"libpod"}}"#)
        try tree.text("metadata/network.status", "{}")
        try tree.file("checkpoint/inventory.img", [0x16, 0x31, 0x31, 0x58, 0x24, 0, 0, 0] + Array(repeating: 7, count: 24))
        try tree.file("checkpoint/core-1.img", [0x19, 0x43, 0x56, 0x54, 0x6c, 0x2f, 0x6e, 0x64] + Array(repeating: 3, count: 40))
        try tree.file("checkpoint/pages-1.img", pages)
        try tree.text("rootfs/deleted.files", "[\n  \"/etc/issue\"\n]")
        try tree.text("rootfs/implied.dirs", "[\n  \"/usr\"\n]")
        try fm.createDirectory(at: root.appendingPathComponent("rootfs/tree/usr/lib"), withIntermediateDirectories: true)
        try tree.text("rootfs/tree/etc/motd", "changed by the container\n", 0o644)
        try tree.text("rootfs/tree/usr/lib/äöü-日本語.txt", "utf8\n", 0o644)
        try tree.text("rootfs/tree/usr/lib/" + String(repeating: "long", count: 30), "long\n", 0o644)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("rootfs/tree/etc/localtime").path,
                                  withDestinationPath: "/usr/share/zoneinfo/UTC")
        try fm.linkItem(at: root.appendingPathComponent("rootfs/tree/etc/motd"),
                        to: root.appendingPathComponent("rootfs/tree/etc/motd.hard"))
        try tree.text("devshm/segment", "shm", 0o644)
        try tree.text("volumes/data/db.sqlite", "sqlite", 0o644)
        try tree.text("logs/ctr.log", "hello\n")
        try tree.text("artifacts/note.txt", "artifact\n", 0o644)
        if extensionSection { try tree.text("ext/vendor.example/data.json", "{}", 0o644) }
    }
}
