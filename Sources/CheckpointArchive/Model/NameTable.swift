#if canImport(Glibc)
import Glibc
#endif

/// A set of byte strings (entry names, paths) with one byte of flags each, in bounded memory.
///
/// Strings are kept as 120-bit fingerprints (two SipHash values under the process's random seed, so an archive
/// cannot aim at collisions; a false match among a billion names has a probability below 10^-17). The table
/// lives in memory, in an open-addressing array of 16-byte slots, until that array would exceed `memoryLimit`
/// bytes; then it moves to an unlinked temporary file of 4 KiB buckets read and written with `pread`/`pwrite`,
/// so a validator's memory stays fixed whatever the number of entries (the file grows by about 32 bytes a name).
///
/// A failed read or write of the file is recorded in `ioError`; from then on the table answers that nothing is
/// present, and the caller must treat its run as an I/O failure.
public final class NameTable {
    /// A fingerprint: 120 bits, the low byte of `lo` zero (it holds the flags in a slot), `hi` never zero.
    public struct Key: Hashable, Sendable {
        public let hi: UInt64
        public let lo: UInt64
    }

    /// The most bytes the in-memory slots may take before the table moves to a file.
    public let memoryLimit: Int
    /// The directory of the temporary file (`$TMPDIR`, else `/tmp`).
    public let temporaryDirectory: String
    /// Number of strings in the table.
    public var count: Int { stored }
    /// Behind `count`, changed on every insertion in straight-line code: no run-time exclusivity check (see the
    /// README, "Unchecked exclusivity").
    @exclusivity(unchecked) private var stored = 0
    /// Why the temporary file failed, if it did.
    public private(set) var ioError: String?
    /// Whether the table has moved to its file.
    public var isOnDisk: Bool { file >= 0 }

    // In memory: `capacity` slots of two UInt64 (hi, lo | flags); hi == 0 marks an empty slot.
    private var slots: UnsafeMutablePointer<UInt64>
    private var capacity: Int
    // On disk: `buckets` pages of `slotsPerPage` slots, filled from the front.
    private var file: Int32 = -1
    private var buckets = 0
    private let page = UnsafeMutablePointer<UInt64>.allocate(capacity: NameTable.pageSize / 8)
    private static let pageSize = 4096
    private static let slotsPerPage = pageSize / 16

    /// - Parameters:
    ///   - memoryLimit: bytes of slots kept in memory (at least 16 KiB are used); `Int.max` never spills.
    ///   - temporaryDirectory: where the file goes when it does; nil for `$TMPDIR` or `/tmp`.
    public init(memoryLimit: Int = 8 << 20, temporaryDirectory: String? = nil) {
        self.memoryLimit = max(memoryLimit, 16 << 10)
        self.temporaryDirectory = TemporaryFile.directory(temporaryDirectory)
        capacity = 1024
        slots = .allocate(capacity: 2 * capacity)
        slots.initialize(repeating: 0, count: 2 * capacity)
    }

    deinit {
        slots.deallocate()
        page.deallocate()
        if file >= 0 { close(file) }
    }

    /// The fingerprint of `bytes`: two halves from the process's seeded SipHash of `bytes` followed by 0x5A and by
    /// 0xA5, two distinct messages, with the bytes absorbed once (the hasher is copied before the last byte).
    public static func key(_ bytes: UnsafeRawBufferPointer) -> Key {
        var a = Hasher()
        a.combine(bytes: bytes)
        var b = a
        a.combine(UInt8(0x5A))
        b.combine(UInt8(0xA5))
        return Key(hi: UInt64(UInt(bitPattern: a.finalize())) | 1, lo: UInt64(UInt(bitPattern: b.finalize())) & ~0xFF)
    }

    /// The fingerprint of an array's bytes (an overload, so that callers in other modules reach the hash
    /// directly, not through the generic version's unspecialised `withContiguousStorageIfAvailable`).
    public static func key(_ bytes: [UInt8]) -> Key {
        bytes.withUnsafeBytes { key($0) }
    }

    /// The fingerprint of an array slice's bytes.
    public static func key(_ bytes: ArraySlice<UInt8>) -> Key {
        bytes.withUnsafeBytes { key($0) }
    }

    /// The fingerprint of a byte collection.
    public static func key<C: Collection>(_ bytes: C) -> Key where C.Element == UInt8 {
        if let k = bytes.withContiguousStorageIfAvailable({ key(UnsafeRawBufferPointer($0)) }) { return k }
        return Array(bytes).withUnsafeBytes { key($0) }
    }

    /// The flags of `key`, nil when it is not in the table.
    public subscript(key: Key) -> UInt8? {
        if file >= 0 { return diskFind(key)?.flags }
        let i = memoryFind(key)
        return slots[2 * i] == 0 ? nil : UInt8(truncatingIfNeeded: slots[2 * i + 1])
    }

    /// Adds `flags` to the flags of `key` (inserting it with `flags` when absent); returns the flags before,
    /// nil when it was absent.
    @discardableResult
    public func insert(_ key: Key, flags: UInt8) -> UInt8? {
        update(key) { ($0 ?? 0) | flags }
    }

    /// Sets the flags of `key` to `change(old)` (inserting it when absent); returns the old flags.
    @discardableResult
    public func update(_ key: Key, _ change: (UInt8?) -> UInt8) -> UInt8? {
        if file >= 0 { return diskUpdate(key, change) }
        let i = memoryFind(key)
        if slots[2 * i] != 0 {
            let old = UInt8(truncatingIfNeeded: slots[2 * i + 1])
            slots[2 * i + 1] = key.lo | UInt64(change(old))
            return old
        }
        slots[2 * i] = key.hi
        slots[2 * i + 1] = key.lo | UInt64(change(nil))
        stored += 1
        if 4 * stored > 3 * capacity { grow() }
        return nil
    }

    // MARK: - In memory

    /// The slot holding `key`, or the empty slot where it would go.
    private func memoryFind(_ key: Key) -> Int {
        let mask = capacity - 1
        var i = Int(truncatingIfNeeded: key.hi >> 7) & mask
        while true {
            let hi = slots[2 * i]
            if hi == 0 || (hi == key.hi && slots[2 * i + 1] & ~0xFF == key.lo) { return i }
            i = (i + 1) & mask
        }
    }

    private func grow() {
        if 2 * capacity * 16 > memoryLimit, spill() { return }
        let old = slots
        let oldCapacity = capacity
        capacity *= 2
        slots = .allocate(capacity: 2 * capacity)
        slots.initialize(repeating: 0, count: 2 * capacity)
        for j in 0..<oldCapacity where old[2 * j] != 0 {
            let i = memoryFind(Key(hi: old[2 * j], lo: old[2 * j + 1] & ~0xFF))
            slots[2 * i] = old[2 * j]
            slots[2 * i + 1] = old[2 * j + 1]
        }
        old.deallocate()
    }

    // MARK: - On disk

    /// Moves the slots to a temporary file sized for twice their number; false when the file cannot be made.
    private func spill() -> Bool {
        guard case let .success(fd) = TemporaryFile.openUnlinked(in: temporaryDirectory, prefix: "ckpt-names") else {
            return false
        }
        file = fd
        var b = 1
        while b * Self.slotsPerPage < 4 * count { b *= 2 }
        buckets = b
        guard ftruncate(file, off_t(b * Self.pageSize)) == 0 else {
            fail("ftruncate")
            return true
        }
        // Bucket by bucket (a counting sort of the slots), so that each page is written once.
        var starts = [UInt32](repeating: 0, count: b + 1)
        for j in 0..<capacity where slots[2 * j] != 0 { starts[bucket(slots[2 * j]) + 1] += 1 }
        for n in 0..<b { starts[n + 1] += starts[n] }
        var next = starts
        var order = [UInt32](repeating: 0, count: count)
        for j in 0..<capacity where slots[2 * j] != 0 {
            let n = bucket(slots[2 * j])
            order[Int(next[n])] = UInt32(j)
            next[n] += 1
        }
        for n in 0..<b where starts[n + 1] > starts[n] {
            page.initialize(repeating: 0, count: Self.pageSize / 8)
            // At most a page per bucket: with four buckets' room per key a fuller bucket is all but impossible,
            // and a key left out would only be reported again as new.
            for (s, j) in order[Int(starts[n])..<Int(starts[n + 1])].prefix(Self.slotsPerPage).enumerated() {
                page[2 * s] = slots[2 * Int(j)]
                page[2 * s + 1] = slots[2 * Int(j) + 1]
            }
            writePage(n)
        }
        slots.deallocate()
        capacity = 1
        slots = .allocate(capacity: 2)
        slots.initialize(repeating: 0, count: 2)
        return true
    }

    private func bucket(_ hi: UInt64) -> Int { Int(truncatingIfNeeded: hi >> 7) & (buckets - 1) }

    private func fail(_ operation: String) {
        if ioError == nil { ioError = "\(operation) of the temporary name table failed: errno \(errno)" }
    }

    private func readPage(_ n: Int) -> Bool {
        guard ioError == nil else { return false }
        let got = pread(file, page, Self.pageSize, off_t(n * Self.pageSize))
        guard got == Self.pageSize else {
            fail("read")
            return false
        }
        return true
    }

    private func writePage(_ n: Int) {
        guard ioError == nil else { return }
        if pwrite(file, page, Self.pageSize, off_t(n * Self.pageSize)) != Self.pageSize { fail("write") }
    }

    /// Reads the key's bucket into `page`; returns the key's slot there (flags included) or the first free slot.
    private func diskFind(_ key: Key) -> (slot: Int, flags: UInt8)? {
        guard readPage(bucket(key.hi)) else { return nil }
        for s in 0..<Self.slotsPerPage {
            let hi = page[2 * s]
            if hi == 0 { return nil }
            if hi == key.hi, page[2 * s + 1] & ~0xFF == key.lo { return (s, UInt8(truncatingIfNeeded: page[2 * s + 1])) }
        }
        return nil
    }

    private func diskUpdate(_ key: Key, _ change: (UInt8?) -> UInt8) -> UInt8? {
        while ioError == nil {
            let n = bucket(key.hi)
            if let found = diskFind(key) {
                page[2 * found.slot + 1] = key.lo | UInt64(change(found.flags))
                writePage(n)
                return found.flags
            }
            guard ioError == nil else { break }
            // `page` holds the bucket: put the key in its first free slot, or split the buckets and try again.
            if let free = (0..<Self.slotsPerPage).first(where: { page[2 * $0] == 0 }), 2 * count < buckets * Self.slotsPerPage {
                page[2 * free] = key.hi
                page[2 * free + 1] = key.lo | UInt64(change(nil))
                writePage(n)
                stored += 1
                return nil
            }
            doubleBuckets()
        }
        return nil
    }

    /// Doubles the number of buckets: bucket n keeps the keys whose next hash bit is 0, bucket n + old count
    /// takes the others (linear hashing, one pass over the file).
    private func doubleBuckets() {
        let old = buckets
        guard ftruncate(file, off_t(2 * old * Self.pageSize)) == 0 else { return fail("ftruncate") }
        buckets = 2 * old
        let high = UnsafeMutablePointer<UInt64>.allocate(capacity: Self.pageSize / 8)
        defer { high.deallocate() }
        for n in 0..<old {
            guard readPage(n) else { return }
            high.initialize(repeating: 0, count: Self.pageSize / 8)
            var low = 0, up = 0
            for s in 0..<Self.slotsPerPage where page[2 * s] != 0 {
                let hi = page[2 * s], lo = page[2 * s + 1]
                if bucket(hi) == n {
                    page[2 * low] = hi
                    page[2 * low + 1] = lo
                    low += 1
                } else {
                    high[2 * up] = hi
                    high[2 * up + 1] = lo
                    up += 1
                }
            }
            for s in low..<Self.slotsPerPage {
                page[2 * s] = 0
                page[2 * s + 1] = 0
            }
            writePage(n)
            if pwrite(file, high, Self.pageSize, off_t((n + old) * Self.pageSize)) != Self.pageSize { return fail("write") }
        }
    }
}
