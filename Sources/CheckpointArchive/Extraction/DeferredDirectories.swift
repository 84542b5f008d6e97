import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// The directories whose mode and times wait until their children are written (`ExtractionTree`), kept in
/// bounded memory whatever their number: records are grouped by depth, each group in a buffer of at most
/// `chunkBytes` that goes, when full (or when all buffers together pass the budget), to an unlinked temporary
/// file as a chunk linked to the group's previous chunk.
///
/// `forEachDeepestFirst` hands them back deepest first, so that no directory is made read-only or
/// unsearchable before the directories below it are done; within a depth the order does not matter (no
/// directory is below another of the same depth). A directory recorded more than once (named again, or
/// updated in place) is applied once, with its newest record.
final class DeferredDirectories {
    /// What to apply to one directory.
    struct Item {
        var components: [[UInt8]]
        var mode: UInt32
        var mtime: TarTime
        var atime: TarTime?
        var entry: String
        var offset: Int64?
    }

    static let chunkBytes = 16 << 10
    private struct Group {
        var buffer: [UInt8] = []
        /// The file offset of the group's newest chunk, -1 when none.
        var lastChunk: Int64 = -1
    }

    private let budget: MemoryBudget
    private var groups: [Int: Group] = [:]
    private var buffered = 0
    private var file: Int32 = -1
    private var fileSize: Int64 = 0
    /// Why the temporary file failed, if it did (records were lost).
    private(set) var ioError: String?
    /// Set when a directory may have been recorded more than once: then each is applied only once.
    var mayRepeat = false

    init(budget: MemoryBudget) { self.budget = budget }

    deinit { if file >= 0 { close(file) } }

    func append(_ item: Item) {
        var w = RecordWriter()
        w.data(ExtractionName.key(item.components))
        w.int(Int64(item.mode))
        w.int(item.mtime.seconds)
        w.int(Int64(item.mtime.nanoseconds))
        w.bool(item.atime != nil)
        w.int(item.atime?.seconds ?? 0)
        w.int(Int64(item.atime?.nanoseconds ?? 0))
        w.string(item.entry)
        w.optionalInt(item.offset)
        let depth = item.components.count
        var n = UInt32(w.bytes.count)
        withUnsafeBytes(of: &n) { groups[depth, default: Group()].buffer.append(contentsOf: $0) }
        groups[depth]!.buffer.append(contentsOf: w.bytes)
        buffered += 4 + w.bytes.count
        if groups[depth]!.buffer.count >= Self.chunkBytes {
            flush(depth)
        } else if buffered > budget.spoolBytes {
            for d in groups.keys { flush(d) }
        }
    }

    /// Writes a group's buffer as a chunk: the offset of the group's previous chunk, the length, the records.
    private func flush(_ depth: Int) {
        guard var g = groups[depth], !g.buffer.isEmpty, ioError == nil else { return }
        if file < 0 {
            let directory = TemporaryFile.directory(budget.temporaryDirectory)
            switch TemporaryFile.openUnlinked(in: directory, prefix: "ckpt-dirs") {
            case let .success(fd): file = fd
            case let .failure(e):
                ioError = e.description
                return
            }
        }
        var chunk: [UInt8] = []
        withUnsafeBytes(of: g.lastChunk.littleEndian) { chunk.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(g.buffer.count).littleEndian) { chunk.append(contentsOf: $0) }
        chunk += g.buffer
        var done = 0
        while done < chunk.count {
            let n = chunk.withUnsafeBytes { pwrite(file, $0.baseAddress! + done, $0.count - done, off_t(fileSize) + off_t(done)) }
            guard n > 0 else {
                ioError = "cannot write a temporary file: errno \(errno)"
                return
            }
            done += n
        }
        g.lastChunk = fileSize
        fileSize += Int64(chunk.count)
        buffered -= g.buffer.count
        g.buffer.removeAll()
        groups[depth] = g
    }

    /// Calls `body` with every directory, deepest first, each once (its newest record).
    func forEachDeepestFirst(_ body: (Item) throws -> Void) throws {
        let applied = mayRepeat ? budget.makeNameTable() : nil
        func each(_ records: [UInt8]) throws {
            var starts: [Int] = []
            var at = 0
            while at + 4 <= records.count {
                var n: UInt32 = 0
                withUnsafeMutableBytes(of: &n) { $0.copyBytes(from: records[at..<(at + 4)]) }
                starts.append(at + 4)
                at += 4 + Int(n)
            }
            for (k, start) in starts.enumerated().reversed() {
                let end = k + 1 < starts.count ? starts[k + 1] - 4 : records.count
                var r = RecordReader(records[start..<end])
                let key = r.data()
                if let applied, applied.insert(NameTable.key(key), flags: 1) != nil { continue }
                let mode = UInt32(truncatingIfNeeded: r.int())
                let mtime = TarTime(seconds: r.int(), nanoseconds: Int32(truncatingIfNeeded: r.int()))
                let hasAtime = r.bool()
                let atime = TarTime(seconds: r.int(), nanoseconds: Int32(truncatingIfNeeded: r.int()))
                let entry = r.string()
                let components = key.isEmpty ? [] : key.split(separator: 0x2F, omittingEmptySubsequences: false).map { Array($0) }
                try body(Item(components: components, mode: mode, mtime: mtime, atime: hasAtime ? atime : nil,
                              entry: entry, offset: r.optionalInt()))
            }
        }
        for depth in groups.keys.sorted(by: >) {
            let g = groups[depth]!
            try each(g.buffer)
            var chunk = g.lastChunk
            while chunk >= 0, ioError == nil {
                var head = [UInt8](repeating: 0, count: 12)
                guard read(&head, at: chunk) else { break }
                let previous = head.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) }
                let length = head.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) }
                var records = [UInt8](repeating: 0, count: Int(length))
                guard read(&records, at: chunk + 12) else { break }
                try each(records)
                chunk = previous
            }
        }
        if let io = applied?.ioError, ioError == nil { ioError = io }
    }

    private func read(_ buffer: inout [UInt8], at offset: Int64) -> Bool {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeMutableBytes { pread(file, $0.baseAddress! + done, $0.count - done, off_t(offset) + off_t(done)) }
            guard n > 0 else {
                ioError = "cannot read a temporary file: errno \(errno)"
                return false
            }
            done += n
        }
        return true
    }

    /// Forgets every record (after they were applied).
    func removeAll() {
        groups.removeAll()
        buffered = 0
        if file >= 0 { close(file) }
        file = -1
        fileSize = 0
        mayRepeat = false
    }
}
