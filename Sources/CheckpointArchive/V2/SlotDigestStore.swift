import ByteStreams
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 digests by slot (the index of a file among the index's records), in fixed-width cells of a flag
/// byte and the 32 digest bytes. Digests may arrive in any order and from any thread: the encoder's own, and
/// the late ones of `ParallelRangeHasher` workers.
///
/// While the cells fit in `memoryBudget` bytes they are kept in memory; past it they go to an anonymous
/// `SpoolFile` at `slot * 33`, through a window of that many bytes that follows the arriving slots (workers
/// finish roughly in slot order; a digest behind the window is written in place). So memory stays bounded
/// whatever the number of files, and reading the digests back in slot order is one sequential pass.
final class SlotDigestStore: @unchecked Sendable {
    /// Bytes of a cell: 1 when set, then the digest.
    static let cellWidth = 33

    /// Bytes of cells held in memory.
    let memoryBudget: Int
    /// Where the spool file is created; nil for the temporary directory.
    let directory: String?
    private let lock = ConditionLock()
    /// All cells from slot 0 while `file` is nil; else the window of cells from `windowBase`.
    private var cells: [UInt8] = []
    private var windowBase = 0
    private var file: SpoolFile?
    /// The first failure to write the spool file, reported by the next read (workers cannot throw).
    private var failure: CheckpointError?

    init(memoryBudget: Int = 1 << 20, directory: String? = nil) {
        self.memoryBudget = max(Self.cellWidth, memoryBudget)
        self.directory = directory
    }

    /// Whether cells went to the spool file (the budget was exceeded).
    var spilled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return file != nil
    }

    /// Records the 32-byte digest of `slot`.
    func set<D: Sequence>(_ slot: Int, digest: D) where D.Element == UInt8 {
        var cell: [UInt8] = [1]
        cell.append(contentsOf: digest)
        precondition(cell.count == Self.cellWidth, "a SHA-256 digest has 32 bytes")
        lock.lock()
        defer { lock.unlock() }
        do { try store(cell, at: slot) } catch let e as CheckpointError { failure = failure ?? e } catch {}
    }

    /// Records the digest of `slot` given as 64 hex digits.
    func set(_ slot: Int, hex: String) {
        let digits = Array(hex.utf8)
        precondition(digits.count == 64, "a SHA-256 digest has 64 hex digits")
        func value(_ c: UInt8) -> UInt8 { c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57 }
        set(slot, digest: (0..<32).map { value(digits[2 * $0]) << 4 | value(digits[2 * $0 + 1]) })
    }

    private func store(_ cell: [UInt8], at slot: Int) throws {
        let w = Self.cellWidth
        if file == nil {
            if (slot + 1) * w <= memoryBudget {
                if cells.count < (slot + 1) * w { cells.append(contentsOf: repeatElement(0, count: (slot + 1) * w - cells.count)) }
                cells.replaceSubrange(slot * w..<(slot + 1) * w, with: cell)
                return
            }
            file = try SpoolFile(directory: directory, purpose: "file digests")
        } else if slot >= windowBase, (slot - windowBase + 1) * w <= memoryBudget {
            let at = (slot - windowBase) * w
            if cells.count < at + w { cells.append(contentsOf: repeatElement(0, count: at + w - cells.count)) }
            cells.replaceSubrange(at..<at + w, with: cell)
            return
        }
        if slot < windowBase {
            try file!.write(cell, at: Int64(slot) * Int64(w))
            return
        }
        // Past the window: write it out and start the next one at this slot.
        try flushWindow()
        windowBase = slot
        cells = cell
    }

    /// Writes the window to the file and moves its start past it. Its unset cells are zero, which reads as
    /// unset: no cell at or after `windowBase` was ever written to the file (the window only moves forward),
    /// and a digest arriving later for one of them is written in place.
    private func flushWindow() throws {
        guard let file, !cells.isEmpty else { return }
        try file.write(cells, at: Int64(windowBase) * Int64(Self.cellWidth))
        windowBase += cells.count / Self.cellWidth
        cells.removeAll(keepingCapacity: true)
    }

    /// A reader of the digests by slot. Make it once every digest has arrived (the store must not change
    /// while it is used).
    /// - Throws: a failure to write the spool file.
    func reader() throws -> Reader {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        try flushWindow()
        return Reader(file: file, cells: file == nil ? cells : [])
    }

    /// Digests by slot, from memory or from the spool file through a buffer of 8,192 cells: reading slots
    /// in increasing order reads the file once, sequentially.
    struct Reader {
        let file: SpoolFile?
        /// All cells (memory), or the cells read last from the file, from slot `first`.
        private var cells: [UInt8]
        private var first = 0

        fileprivate init(file: SpoolFile?, cells: [UInt8]) {
            self.file = file
            self.cells = cells
        }

        /// The 32 bytes of the digest of `slot`, or nil when none was set.
        mutating func digest(_ slot: Int) throws -> ArraySlice<UInt8>? {
            let w = SlotDigestStore.cellWidth
            if let file, slot < first || (slot - first + 1) * w > cells.count {
                let perRead = 8192
                cells = [UInt8](repeating: 0, count: perRead * w)
                let got = try cells.withUnsafeMutableBytes { try file.read(into: $0, at: Int64(slot) * Int64(w)) }
                cells.removeSubrange(got...)
                first = slot
            }
            let at = (slot - first) * w
            guard slot >= first, at + w <= cells.count, cells[at] == 1 else { return nil }
            return cells[(at + 1)..<(at + w)]
        }
    }

    /// Every digest set, as lowercase hex by slot (for callers that want them all in memory).
    func dictionary() throws -> [Int: String] {
        var reader = try self.reader()
        lock.lock()
        var end = cells.count / Self.cellWidth
        if let file {
            var st = stat()
            end = fstat(file.fd, &st) == 0 ? Int(st.st_size) / Self.cellWidth : 0
        }
        lock.unlock()
        var out: [Int: String] = [:]
        for slot in 0..<end {
            if let digest = try reader.digest(slot) { out[slot] = Hex.string(digest) }
        }
        return out
    }
}
