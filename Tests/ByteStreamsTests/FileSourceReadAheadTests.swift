import ByteStreams
import CSysShims
import Foundation
import TestSupport
import XCTest

/// `FileSource` reading ahead on a second thread hands out exactly the bytes a plain `FileSource` does, whatever
/// its planner foresees: right, wrong, overlapping, or nothing at all.
final class FileSourceReadAheadTests: XCTestCase {
    /// Names offsets from a fixed list, then stops.
    private final class ListPlanner: ReadAheadPlanner {
        private var offsets: [Int64]
        init(_ offsets: [Int64]) { self.offsets = offsets }
        var nextOffset: Int64? { offsets.first }
        func inspect(_ bytes: UnsafeRawBufferPointer, at offset: Int64) { offsets.removeFirst() }
    }

    private func file(_ bytes: [UInt8]) throws -> URL {
        let url = try TestTools.temporaryDirectory(self).appendingPathComponent("data")
        try Data(bytes).write(to: url)
        return url
    }

    /// Replays `steps` (a positive step reads that many bytes, fewer only at the end, a negative one skips) on
    /// `source`. (`read(upTo:)` may hand out shorter chunks from one source than from another.)
    private func replay(_ steps: [Int], on source: FileSource) throws -> [UInt8] {
        var out: [UInt8] = []
        for step in steps {
            if step > 0 {
                out += try source.readBytes(step)
            } else {
                let n = try source.skip(Int64(-step))
                out += Array("skip \(n) to \(source.position);".utf8)
            }
        }
        return out
    }

    func testAnyPlanGivesTheBytesOfAPlainRead() throws {
        var rng = SeededGenerator(seed: 0x5eed)
        let size = 3 << 20
        let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let url = try file(bytes)
        for round in 0..<40 {
            var steps: [Int] = []
            for _ in 0..<400 {
                steps.append(Bool.random(using: &rng) ? Int.random(in: 1...70_000, using: &rng)
                                                      : -Int.random(in: 0...200_000, using: &rng))
            }
            // Forward offsets, some overlapping the chunk before, some beyond the file, some never reached.
            var offsets: [Int64] = []
            var at: Int64 = round % 3 == 0 ? 0 : Int64.random(in: 0...4096, using: &rng)
            for _ in 0..<Int.random(in: 0...60, using: &rng) {
                offsets.append(at)
                at += Int64.random(in: 1...300_000, using: &rng)
            }
            if round % 5 == 0 { offsets.append(Int64(size) + 10) }
            let plain = try FileSource(path: url.path)
            let ahead = try FileSource(path: url.path)
            XCTAssertTrue(ahead.startReadAhead(ListPlanner(offsets)))
            let (a, b) = (try replay(steps, on: ahead), try replay(steps, on: plain))
            XCTAssertEqual(a.count, b.count, "round \(round)")
            XCTAssertFalse(zip(a, b).contains { $0 != $1 }, "round \(round): the bytes differ")
            XCTAssertEqual(ahead.position, plain.position)
        }
    }

    func testAPlanThatForeseesEverythingLeavesNoMisses() throws {
        let bytes = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let url = try file(bytes)
        let ahead = try FileSource(path: url.path)
        ahead.readAheadPatience = 60_000_000_000  // a busy machine must not make a chunk late
        XCTAssertTrue(ahead.startReadAhead(ListPlanner(stride(from: 0, to: 1 << 20, by: 64 << 10).map { Int64($0) })))
        XCTAssertEqual(try ahead.readAll(), bytes)
        XCTAssertEqual(ahead.readAheadMisses, 1, "only the read that meets the end of the file")
        XCTAssertEqual(ahead.readAheadLate, 0)
        XCTAssertEqual(ahead.storageBytesRead, Int64(bytes.count))
    }

    /// Names offsets from a list and records the size of every read it is shown (under a lock: the test thread
    /// reads the record while the read-ahead thread may still write it).
    private final class RecordingPlanner: ReadAheadPlanner, @unchecked Sendable {
        private var offsets: [Int64]
        private var record: [(offset: Int64, count: Int)] = []
        private let lock = NSLock()
        init(_ offsets: [Int64]) { self.offsets = offsets }
        var nextOffset: Int64? { lock.withLock { offsets.first } }
        func inspect(_ bytes: UnsafeRawBufferPointer, at offset: Int64) {
            lock.withLock {
                record.append((offset, bytes.count))
                offsets.removeFirst()
            }
        }
        var shown: [(offset: Int64, count: Int)] { lock.withLock { record } }
    }

    func testAReadAfterAGapIsAShortProbeAndAReadThatFollowsOnAWholeChunk() throws {
        let bytes = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let url = try file(bytes)
        let chunk = 64 << 10, probe = 8 << 10
        // From 0 (follows on from nothing read), on from there, a gap, on from the probe's end, a gap to near the
        // end of the file (the probe comes back short).
        let offsets: [Int64] = [0, Int64(chunk), 500_000, 500_000 + Int64(probe), Int64(bytes.count - 100)]
        let planner = RecordingPlanner(offsets)
        let ahead = try FileSource(path: url.path)
        // A busy machine must not make the thread late (four late chunks would give it up before its list).
        ahead.readAheadPatience = 60_000_000_000
        XCTAssertTrue(ahead.startReadAhead(planner))
        // The reader takes every byte, so the thread gets through its list; the bytes are the file's.
        XCTAssertEqual(try ahead.readAll(), bytes)
        // The ring holds more chunks than the list names, so the thread reads them all unless stopped: wait for it.
        let deadline = Date().addingTimeInterval(10)
        while planner.shown.count < offsets.count, Date() < deadline { usleep(1000) }
        XCTAssertEqual(planner.shown.map(\.offset), offsets)
        XCTAssertEqual(planner.shown.map(\.count), [chunk, chunk, probe, chunk, 100])
    }

    func testReleasingASourceMidwayStopsItsThread() throws {
        let url = try file([UInt8](repeating: 1, count: 8 << 20))
        for _ in 0..<50 {
            let ahead = try FileSource(path: url.path)
            XCTAssertTrue(ahead.startReadAhead(ListPlanner(stride(from: 0, to: 8 << 20, by: 64 << 10).map { Int64($0) })))
            XCTAssertEqual(try ahead.readBytes(10), [UInt8](repeating: 1, count: 10))
        }
    }

    /// Records, on the read-ahead thread, the CPUs that thread may run on when it is first shown bytes.
    private final class AffinityPlanner: ReadAheadPlanner, @unchecked Sendable {
        private let cpus: [Int32]
        private var done = false
        private var allowed: [Int32]?
        private let lock = NSLock()
        init(cpus: [Int32]) { self.cpus = cpus }
        var nextOffset: Int64? { lock.withLock { done ? nil : 0 } }
        func inspect(_ bytes: UnsafeRawBufferPointer, at offset: Int64) {
            let mine = cpus.filter { csys_thread_may_run_on(pthread_self(), $0) == 1 }
            lock.withLock {
                done = true
                allowed = mine
            }
        }
        var seen: [Int32]? { lock.withLock { allowed } }
    }

    /// Two threads that wake each other in turn are often kept on one CPU by the scheduler; the read-ahead thread
    /// keeps off the one its reader was on, before its first read.
    func testTheThreadKeepsOffTheCPUItsReaderWasOn() throws {
        let cpus = (0..<Int32(sysconf(Int32(_SC_NPROCESSORS_CONF)))).map { $0 }
        let readers = cpus.filter { csys_thread_may_run_on(pthread_self(), $0) == 1 }
        try XCTSkipIf(readers.count < 2, "this process may run on \(readers.count) CPU here: nothing to keep apart")
        let url = try file([UInt8](repeating: 7, count: 1 << 20))
        for _ in 0..<20 {
            let planner = AffinityPlanner(cpus: cpus)
            let ahead = try FileSource(path: url.path)
            XCTAssertTrue(ahead.startReadAhead(planner))
            XCTAssertEqual(try ahead.readBytes(3), [7, 7, 7])
            let deadline = Date().addingTimeInterval(10)
            while planner.seen == nil, Date() < deadline { usleep(1000) }
            let seen = try XCTUnwrap(planner.seen)
            // Every CPU the reader may use but exactly one.
            XCTAssertEqual(Set(readers).subtracting(seen).count, 1, "reader \(readers), thread \(seen)")
            XCTAssertTrue(Set(seen).isSubset(of: readers), "reader \(readers), thread \(seen)")
            XCTAssertEqual(seen.count, readers.count - 1)
        }
    }

    /// Records, on the read-ahead thread, the addresses of the chunks it is shown.
    private final class AddressPlanner: ReadAheadPlanner, @unchecked Sendable {
        private var offsets: [Int64]
        private var seen: [UInt] = []
        private let lock = NSLock()
        init(_ offsets: [Int64]) { self.offsets = offsets }
        var nextOffset: Int64? { lock.withLock { offsets.first } }
        func inspect(_ bytes: UnsafeRawBufferPointer, at offset: Int64) {
            lock.withLock {
                offsets.removeFirst()
                seen.append(UInt(bitPattern: bytes.baseAddress))
            }
        }
        var addresses: [UInt] { lock.withLock { seen } }
    }

    /// The ring lies in one mapping of small pages, kept from transparent huge pages whatever the system's
    /// default: on the benchmark machine a huge page made the thread stall for milliseconds before its first chunk
    /// (`ReadAheadQueue.allocateChunks`).
    func testTheRingLiesInOneMappingOfSmallPages() throws {
        let mode = (try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8)) ?? ""
        try XCTSkipIf(mode.isEmpty || mode.contains("[never]"),
                      "transparent huge pages are off here (\(mode.isEmpty ? "no sysfs entry" : mode)): nothing to keep from")
        // The plan goes on past what is read, so that the thread still holds its ring when the maps are read.
        let url = try file([UInt8](repeating: 7, count: 4 << 20))
        let planner = AddressPlanner(stride(from: 0, to: 4 << 20, by: 64 << 10).map { Int64($0) })
        let ahead = try FileSource(path: url.path)
        ahead.readAheadPatience = 60_000_000_000  // every chunk taken from the thread, however busy the machine
        XCTAssertTrue(ahead.startReadAhead(planner))
        XCTAssertEqual(try ahead.readBytes(2 << 20).count, 2 << 20)
        let chunks = planner.addresses
        XCTAssertGreaterThanOrEqual(chunks.count, 32)
        let first = try XCTUnwrap(chunks.min()), last = try XCTUnwrap(chunks.max()) + (64 << 10)
        XCTAssertLessThanOrEqual(last - first, 1 << 20, "the chunks lie in one 1 MiB ring")
        // The mapping that holds the ring, as /proc/self/smaps describes it.
        // Read to the end: a file of /proc says it is empty, and a read of its stated size stops after a page.
        let maps = try XCTUnwrap(FileHandle(forReadingAtPath: "/proc/self/smaps")).readDataToEndOfFile()
        let smaps = String(decoding: maps, as: UTF8.self).split(separator: "\n")
        var inRing = false
        var eligible: String?
        for line in smaps {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), fields.count >= 5 {
                let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
                inRing = bounds.count == 2 && bounds[0] <= first && last <= bounds[1]
            } else if inRing, line.hasPrefix("THPeligible:") {
                eligible = fields.last.map(String.init)
            }
        }
        XCTAssertEqual(eligible, "0", "the ring lies in one mapping, kept from huge pages")
        withExtendedLifetime(ahead) {}  // the ring is unmapped with its source
    }

    /// The reader keeps to one CPU while the thread reads ahead (one the thread keeps off), and gets its CPUs back
    /// when the source is released.
    func testTheReaderKeepsToItsCPUUntilTheSourceIsReleased() throws {
        let cpus = (0..<Int32(sysconf(Int32(_SC_NPROCESSORS_CONF)))).map { $0 }
        let mine = { cpus.filter { csys_thread_may_run_on(pthread_self(), $0) == 1 } }
        let before = mine()
        try XCTSkipIf(before.count < 2, "this process may run on \(before.count) CPU here: nothing to keep apart")
        let url = try file([UInt8](repeating: 7, count: 1 << 20))
        for _ in 0..<5 {
            let planner = AffinityPlanner(cpus: cpus)
            var ahead: FileSource? = try FileSource(path: url.path)
            XCTAssertTrue(ahead!.startReadAhead(planner))
            let during = mine()
            XCTAssertEqual(during.count, 1, "reader before \(before), during \(during)")
            XCTAssertEqual(try ahead!.readBytes(3), [7, 7, 7])
            let deadline = Date().addingTimeInterval(10)
            while planner.seen == nil, Date() < deadline { usleep(1000) }
            XCTAssertFalse(try XCTUnwrap(planner.seen).contains(during[0]), "the thread keeps off the reader's CPU")
            ahead = nil
            XCTAssertEqual(mine(), before, "the reader's CPUs are given back")
        }
    }

    /// Stops for `stall` seconds when shown its first chunk, as a thread whose CPU does not run it for a while.
    private final class StallingPlanner: ReadAheadPlanner, @unchecked Sendable {
        private var offsets: [Int64]
        private let stall: useconds_t
        private var stalled = false
        init(_ offsets: [Int64], stall: useconds_t) {
            self.offsets = offsets
            self.stall = stall
        }
        var nextOffset: Int64? { offsets.first }
        func inspect(_ bytes: UnsafeRawBufferPointer, at offset: Int64) {
            offsets.removeFirst()
            if !stalled {
                stalled = true
                usleep(stall)
            }
        }
    }

    /// When the thread is late, the reader does not wait for it: after `readAheadPatience` it reads the bytes
    /// itself (and reads on alone once the thread has been late `readAheadLateLimit` times).
    /// A file of `size` random bytes (seeded), read ahead in 64 KiB chunks by a thread that stalls for `stall`
    /// microseconds at its first chunk.
    private func stalledReadAhead(size: Int, seed: UInt64, stall: useconds_t) throws -> ([UInt8], FileSource) {
        var rng = SeededGenerator(seed: seed)
        let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let ahead = try FileSource(path: try file(bytes).path)
        let offsets = stride(from: 0, to: size, by: 64 << 10).map { Int64($0) }
        XCTAssertTrue(ahead.startReadAhead(StallingPlanner(offsets, stall: stall)))
        return (bytes, ahead)
    }

    func testAReaderDoesNotWaitForALateThread() throws {
        let (bytes, ahead) = try stalledReadAhead(size: 2 << 20, seed: 0x1a7e, stall: 400_000)
        let started = Date()
        let head = try ahead.readBytes(1 << 20)
        let waited = Date().timeIntervalSince(started)
        XCTAssertEqual(head, Array(bytes[..<(1 << 20)]))
        XCTAssertLessThan(waited, 0.2, "the reader waited out the thread's stall of 0.4 s")
        XCTAssertGreaterThan(ahead.readAheadLate, 0)
        // The rest, once the thread has run again: the same bytes, from its chunks or read here.
        usleep(500_000)
        XCTAssertEqual(try ahead.readBytes(1 << 20), Array(bytes[(1 << 20)...]))
        XCTAssertEqual(try ahead.readBytes(1), [])
    }

    /// A thread that stays late is given up after `readAheadLateLimit` late chunks: the reader reads on by
    /// itself, at its own pace, and counts no more late chunks; the bytes are the file's all the same.
    func testAThreadThatStaysLateIsGivenUp() throws {
        let (bytes, ahead) = try stalledReadAhead(size: 3 << 20, seed: 0x91fe, stall: 600_000)
        let started = Date()
        var got: [UInt8] = []
        // Small reads and a skip: many refills, each of which would wait for a chunk of a thread still reading.
        while got.count < 1 << 20 { got += try ahead.readBytes(4096) }
        XCTAssertEqual(try ahead.skip(1 << 20), 1 << 20)
        while true {
            let b = try ahead.readBytes(8192)
            if b.isEmpty { break }
            got += b
        }
        let took = Date().timeIntervalSince(started)
        XCTAssertEqual(got, Array(bytes[..<(1 << 20)] + bytes[(2 << 20)...]))
        XCTAssertTrue(ahead.readAheadAbandoned)
        XCTAssertEqual(ahead.readAheadLate, FileSource.readAheadLateLimit, "no late chunk counted once given up")
        XCTAssertLessThan(took, 0.3, "the reader waited for the stalled thread")
        let stopping = Date()
        ahead.stopReadAhead()  // waits for the thread, which ends its stall and then sees it was told to stop
        XCTAssertLessThan(Date().timeIntervalSince(stopping), 5)
    }

    func testAPipeIsNotReadAhead() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        close(fds[1])
        let source = FileSource(descriptor: .init(rawValue: fds[0]), closeOnDeinit: true)
        XCTAssertFalse(source.startReadAhead(ListPlanner([0])))
    }
}

/// SplitMix64: the same random steps on every run.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
