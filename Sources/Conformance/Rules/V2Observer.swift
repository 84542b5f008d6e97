import TarFormat

/// One pax record as stored: its key, value and encoded length (for CKA-ALN-004).
struct V2PaxRecord {
    var key: String
    /// The value's bytes, a slice of the extended header's body.
    var value: ArraySlice<UInt8>
    var length: Int

    var stringValue: String { String(decoding: value, as: UTF8.self) }

    /// The records of a pax extended header body, in stored order, appended to `out`, by TarFormat's grammar. The
    /// reader has already refused malformed bodies, so a malformed record only ends the list quietly.
    static func parse(_ body: [UInt8], into out: inout [V2PaxRecord]) {
        body.withUnsafeBytes { raw in
            _ = PaxRecordGrammar.scan(raw) { span in
                let key = UnsafeBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + span.key.lowerBound,
                                              count: span.key.count)
                out.append(V2PaxRecord(key: PaxRecordGrammar.keyString(key), value: body[span.value], length: span.length))
                return true
            }
        }
    }

    static func parse(_ body: [UInt8]) -> [V2PaxRecord] {
        var out: [V2PaxRecord] = []
        parse(body, into: &out)
        return out
    }
}

/// The raw structure of one entry as the reader saw it: its header blocks and its pax extended headers.
struct V2RawEntry {
    /// Every header block read for the entry (extended headers first, the entry's own block last).
    var blocks: [(offset: Int64, bytes: [UInt8])] = []
    /// The pax `x` headers: their header block and body.
    var paxHeaders: [(offset: Int64, block: [UInt8], body: [UInt8])] = []
    /// The records of all the entry's own pax headers, in stored order.
    var records: [V2PaxRecord] = []

    /// The entry's own header block (the last one read).
    var entryBlock: [UInt8]? { blocks.last?.bytes }

    static let typeflagOffset = 156
}

/// The reader's observer during a v2 check: keeps the raw blocks of the current entry for the encoding rules
/// and passes every callback on to the tar-layer observer. The blocks are copied into arrays it reuses, so an
/// entry costs no allocation once the first entries have been read.
final class V2StreamObserver: TarReaderObserver {
    private let forward: TarReaderObserver?
    // `@exclusivity(unchecked)` below: see the README, "Unchecked exclusivity" (not public, changed only in
    // straight-line code that nothing re-enters).
    /// Everything the observer keeps, in one stored property: a callback makes one access to it, not one per field.
    @exclusivity(unchecked) private var state = State()

    private struct State {
        var entry = V2RawEntry()
        var bodies: [(offset: Int64, body: [UInt8])] = []
        /// 512-byte arrays reused for the blocks of each entry.
        var pool: [[UInt8]] = []
        var used = 0

        mutating func begin() {
            clear(&entry.blocks)
            clear(&entry.paxHeaders)
            clear(&entry.records)
            clear(&bodies)
            used = 0
        }

        mutating func add(_ block: UnsafeRawBufferPointer, at offset: Int64) {
            if used == pool.count { pool.append([UInt8](repeating: 0, count: 512)) }
            // Unique again once the previous entry's copies are gone, so the copy stays in place.
            pool[used].withUnsafeMutableBytes { $0.copyMemory(from: block) }
            entry.blocks.append((offset, pool[used]))
            used += 1
        }

        mutating func finish() -> V2RawEntry {
            for b in entry.blocks where b.bytes[V2RawEntry.typeflagOffset] == 0x78 {
                let body = bodies.first(where: { $0.offset == b.offset })?.body ?? []
                entry.paxHeaders.append((b.offset, b.bytes, body))
                V2PaxRecord.parse(body, into: &entry.records)
            }
            return entry
        }

        /// Empties `array` keeping its storage: it holds an element or two, for which a loop of `removeLast` costs
        /// a fraction of `removeAll(keepingCapacity:)`.
        @inline(__always)
        private func clear<T>(_ array: inout [T]) {
            while !array.isEmpty { array.removeLast() }
        }
    }

    init(forwardingTo forward: TarReaderObserver?) { self.forward = forward }

    /// Forgets the previous entry; call before `reader.next()`.
    func beginEntry() { state.begin() }

    /// The entry just read, with its pax headers matched to their bodies.
    func finishEntry() -> V2RawEntry { state.finish() }

    func tarReader(_ reader: TarReader, readHeaderBlock block: UnsafeRawBufferPointer, at offset: Int64) {
        state.add(block, at: offset)
        forward?.tarReader(reader, readHeaderBlock: block, at: offset)
    }

    func tarReader(_ reader: TarReader, readExtendedHeaderBody body: [UInt8], at offset: Int64) {
        state.bodies.append((offset, body))
        forward?.tarReader(reader, readExtendedHeaderBody: body, at: offset)
    }

    func tarReader(_ reader: TarReader, sawNonZeroPaddingAt offset: Int64) {
        forward?.tarReader(reader, sawNonZeroPaddingAt: offset)
    }
}
