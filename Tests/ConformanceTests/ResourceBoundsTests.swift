import ByteStreams
import Compression
import Foundation
import TarFormat
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Resource bounds (CKA-SEC-014 to CKA-SEC-020, table 2.9) of the built `ckpt extract` and `ckpt-validate`, run as
/// child processes on hostile archives: each must end with a clear error (exit 1, the requirement ID) and a peak
/// resident set below 64 MiB, leaving nothing at the destination. The archives come from Benchmarks/bounds-gen.py,
/// the generator Benchmarks/bounds.sh uses for the heavy cases (10 GiB, a 2 GiB bomb through a file, a million
/// entries). A `timeout 300` guards against hangs (exit 124); no timing is asserted.
final class ResourceBoundsTests: XCTestCase {
    /// Under `swift test --sanitize=address|thread` the products are instrumented too, and the sanitizers' shadow
    /// memory and quarantine take several times the program's own memory (.ci/sanitizers): the limits scale.
    static let sanitizerFactor: Int = {
        switch Sanitizer.current {
        case .thread: return 8
        case .address: return 4
        case nil: return 1
        }
    }()
    static let rssLimitKiB = 64 * 1024 * sanitizerFactor

    struct Run {
        var status: Int32
        var stderr: String
        var peakKiB: Int
        var seconds: Double
        /// `exit 1, 0.4 s, peak RSS 12 MiB`, for the figures the tests print.
        var summary: String { "exit \(status), \(String(format: "%.1f", seconds)) s, peak RSS \(peakKiB / 1024) MiB" }
    }

    /// Under ASan the children keep freed blocks in a quarantine (256 MiB by default) whose size is the allocations
    /// made, not the memory held: the deep chains allocate a 30 KB path per parent and peaked at 660 MiB. A 16 MiB
    /// quarantine leaves the peak to measure what is held.
    static let childEnvironment = Sanitizer.current == .address
        ? "export ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16\"; " : ""

    /// Runs `command` (a shell command line) under `/usr/bin/time`, returning its exit status and peak RSS.
    private func measure(_ command: String) throws -> Run {
        let dir = try TestTools.temporaryDirectory(self)
        let rss = dir.appendingPathComponent("rss").path
        let start = Date()
        let r = try TestTools.spawn(["/usr/bin/time", "-f", "%M", "-o", rss, "/bin/sh", "-c",
                                     Self.childEnvironment + command])
        let seconds = Date().timeIntervalSince(start)
        let peak = Int((try String(contentsOfFile: rss, encoding: .utf8))
            .split(separator: "\n").last.map(String.init) ?? "") ?? Int.max
        return Run(status: r.status, stderr: r.stderrText, peakKiB: peak, seconds: seconds)
    }

    private func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    private func generate(_ cases: [String]) throws -> URL {
        let dir = try TestTools.temporaryDirectory(self)
        let script = TestTools.repositoryRoot.appendingPathComponent("Benchmarks/bounds-gen.py")
        let r = try TestTools.spawn(["python3", script.path, dir.path] + cases)
        XCTAssertEqual(r.status, 0, r.stderrText)
        return dir
    }

    /// `ckpt extract` and `ckpt-validate` on `archive` (read from the file, and through a pipe when `pipe`):
    /// exit 1 naming `requirement`, below the RSS limit, nothing left at the destination.
    private func assertBounded(_ archive: URL, _ requirement: String, pipe: Bool = true,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let out = try TestTools.temporaryDirectory(self)
        let ckpt = quote(TestTools.product("ckpt")), validate = quote(TestTools.product("ckpt-validate"))
        let input = quote(archive.path)
        var commands = [("ckpt extract", "exec timeout 300 \(ckpt) extract --quiet \(input) \(quote(out.path + "/x"))"),
                        ("ckpt-validate", "exec timeout 300 \(validate) --quiet \(input)")]
        if pipe {
            commands += [("ckpt extract -", "cat \(input) | timeout 300 \(ckpt) extract --quiet - \(quote(out.path + "/y"))"),
                         ("ckpt-validate -", "cat \(input) | timeout 300 \(validate) --quiet -")]
        }
        for (what, command) in commands {
            let r = try measure(command)
            let label = "\(what) \(archive.lastPathComponent)"
            print("resource bounds: \(label): \(r.summary)")
            XCTAssertEqual(r.status, 1, "\(label): \(r.stderr)", file: file, line: line)
            XCTAssertLessThan(r.peakKiB, Self.rssLimitKiB, "\(label): peak RSS \(r.peakKiB) KiB", file: file, line: line)
            let output = what.hasPrefix("ckpt-validate") ? "" : r.stderr
            if what.hasPrefix("ckpt extract") {
                XCTAssertTrue(output.contains(requirement), "\(label) does not name \(requirement): \(output)",
                              file: file, line: line)
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), [],
                       "extraction left something behind", file: file, line: line)
        // The validator names the requirement in its report (standard output).
        let report = try TestTools.spawn(["timeout", "300", TestTools.product("ckpt-validate"), "--quiet", "--format", "json",
                                          archive.path])
        XCTAssertTrue(report.stdoutText.contains(requirement), "ckpt-validate does not name \(requirement): \(report.stdoutText)",
                      file: file, line: line)
    }

    /// A pax extended header whose size field claims 1 TiB: refused before anything is allocated (CKA-SEC-015).
    func testPaxHeaderClaimingOneTebibyte() throws {
        let dir = try generate(["pax-1tb-header"])
        try assertBounded(dir.appendingPathComponent("pax-1tb-header.tar"), "CKA-TAR-027")
    }

    /// A file whose pax size record claims 1 TiB of data the archive does not hold: truncated, found as data fails to
    /// arrive, never by reserving the declared size (CKA-SEC-016).
    func testPaxSizeClaimingOneTebibyte() throws {
        let dir = try generate(["pax-1tb-size"])
        try assertBounded(dir.appendingPathComponent("pax-1tb-size.tar"), "CKA-TAR-001")
    }

    /// A directory 100,000 components deep (a 200,000-byte name): over the name length limit (CKA-TAR-043).
    func testHundredThousandDeepPath() throws {
        let dir = try generate(["deep-100k"])
        try assertBounded(dir.appendingPathComponent("deep-100k.tar"), "CKA-TAR-043")
    }

    /// A directory 32,000 components deep: within the name length limit, but every parent a decoder creates (and a
    /// validator tracks) holds the whole path so far, so memory and time grew with the square of the depth (1.3 GiB
    /// and minutes for `ckpt extract`, 4 GiB for `ckpt-validate`). Now refused by the depth limit (CKA-TAR-043).
    func testThirtyTwoThousandDeepPath() throws {
        let dir = try generate(["deep-32k"])
        try assertBounded(dir.appendingPathComponent("deep-32k.tar"), "CKA-TAR-043", pipe: false)
    }

    /// Sixteen directories 1,000 components deep with 60-byte components (61,000-byte names, 1 MB in all): within
    /// every limit, but each name has 999 parents. The validator kept every parent as a byte string of its own (depth
    /// times length: 2.4 GiB and 198 s) and so did the v1 reader (4 GiB and more than 300 s for `ckpt extract`). Names
    /// and their parents are now fingerprints in a `NameTable` (16 bytes each, fixed memory in a validator); the
    /// directories a v1 reader creates for missing parents are bounded like the JSON file listing them (64 MiB of
    /// paths, table 2.9: a resource limit, CKA-TAR-043) and spooled to a temporary file, `rootfs/implied.dirs` is
    /// streamed from the spool, and the summary lists only the first MiB of them. Before the spool the validator
    /// peaked at 164 MiB and `ckpt extract` at 111 MiB (release builds); now 25 MiB for extract and below 64 MiB
    /// for both.
    func testSixteenDeepChainsWithinTheLimits() throws {
        let dir = try generate(["deep-wide"])
        try assertBounded(dir.appendingPathComponent("deep-wide.tar"), "CKA-TAR-043")
    }

    /// A zstd bomb read from a pipe: a v1 archive whose 256 MiB pages image is zeros (about 8 KiB compressed). With
    /// no size known, the decoders stop once output passes 1024 times the input consumed (CKA-SEC-019/020).
    func testZstdBombThroughAPipe() throws {
        let dir = try generate(["pax-1tb-size"])  // only for the directory; the bomb is written here
        let bomb = dir.appendingPathComponent("bomb.tar.zst")
        let sink = FileSink(descriptor: try .open(.init(bomb.path), .writeOnly, options: [.create, .truncate],
                                                  permissions: [.ownerReadWrite]), closeOnDeinit: true)
        let encoder = try CompressionFormat.zstd.makeEncoder(sink)
        let writer = try TarWriter(sink: encoder)
        try writer.writeEntry(TarHeader(path: "config.dump", type: .regular, mode: 0o600), data: Array(#"{"id":"b"}"#.utf8))
        try writer.writeEntry(TarHeader(path: "spec.dump", type: .regular, mode: 0o600),
                              data: Array(#"{"annotations":{"io.container.manager":"libpod"}}"#.utf8))
        let size = 256 << 20
        try writer.writeHeader(TarHeader(path: "checkpoint/pages-1.img", type: .regular, size: Int64(size), mode: 0o600))
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        for _ in 0..<(size >> 20) { try writer.write(zeros) }
        try writer.finish()
        try encoder.finish()
        let compressed = try FileManager.default.attributesOfItem(atPath: bomb.path)[.size] as? Int ?? 0
        XCTAssertLessThan(compressed, 64 << 10, "the bomb should be tiny")
        let out = try TestTools.temporaryDirectory(self)
        let ckpt = quote(TestTools.product("ckpt")), validate = quote(TestTools.product("ckpt-validate"))
        for (what, command) in [
            ("ckpt extract -", "cat \(quote(bomb.path)) | timeout 300 \(ckpt) extract --quiet - \(quote(out.path + "/x"))"),
            ("ckpt-validate -", "cat \(quote(bomb.path)) | timeout 300 \(validate) --quiet --format json -"),
        ] {
            let r = try measure(command + " > \(quote(out.path + "/../report-\(what.count)"))")
            print("resource bounds: \(what) \(compressed)-byte zstd bomb: \(r.summary)")
            XCTAssertEqual(r.status, 1, "\(what): \(r.stderr)")
            XCTAssertLessThan(r.peakKiB, Self.rssLimitKiB, "\(what): peak RSS \(r.peakKiB) KiB")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), [])
    }
}
