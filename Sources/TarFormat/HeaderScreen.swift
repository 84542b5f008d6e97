import Synchronization

/// Header blocks and pax bodies found sound on the read-ahead thread, so that the thread reading the archive
/// does not check them again.
///
/// The read-ahead plan (`TarReadAheadPlan`) walks every header block of the file before the reader gets to it, on
/// a thread that is otherwise mostly idle. Given a screen, it runs on each block the checks that depend on the
/// block's 512 bytes alone: the reader's own checksum test (the recorded value, parsed as the reader parses it,
/// equals the unsigned sum) and the caller's `test` (a validator's field-encoding rules). The offsets of the
/// blocks that pass, with a 64-bit fingerprint of their bytes, go into a bounded ring. The reader, given the same
/// screen, asks for each block it reads (`passed`): a block the ring holds at that offset with the same
/// fingerprint is one whose checks would find nothing, so the reader skips its checksum test and tells its
/// observer (`TarReader.blockWasScreened`). The body of each pax extended header (`x`, `g`) is screened the same
/// way by `bodyTest`, under its header's offset (`bodyPassed`, `TarReader.bodyWasScreened`). The plan parses each
/// `x` body anyway (for its `size` record); its records travel with the body's entry, and a reader that finds the
/// body there with the same fingerprint takes them (`takeBodyRecords`) instead of parsing the body again. Anything else (a block the plan did not see, one that failed, one
/// read again after the file changed, a full ring) is checked in full as before: the screen changes what is
/// computed where, never what is found.
///
/// One thread records (the plan's, and before it starts the thread that shows the plan the file's first bytes),
/// one thread asks; both go forward through the file. The ring is shared through two atomic counters: the
/// recorder publishes an entry after writing it, the asker releases entries once past them.
public final class HeaderScreen: @unchecked Sendable {
    /// The caller's part of the screen: whether its checks of a header block's bytes would find nothing. It runs
    /// on the read-ahead thread, so it must depend on nothing but the block.
    public typealias Test = @Sendable (UnsafeRawBufferPointer) -> Bool
    /// The caller's part of the screen of a pax body, given where its records lie when the plan parsed it (nil:
    /// the test finds them itself). It runs on the read-ahead thread, so it must depend on nothing but the body.
    public typealias BodyTest = @Sendable (_ body: UnsafeRawBufferPointer, _ spans: [PaxRecordSpan]?) -> Bool

    private let test: Test
    private let bodyTest: BodyTest?
    /// The number of entries the ring holds: more than the header blocks of a full read-ahead ring (16 chunks of
    /// 64 KiB hold at most 2,048); when it is full, blocks are not recorded and are checked in full.
    public static let capacity = 4096
    /// The entries' keys: the offset times two, plus one for a body (so a block and a body are never confused).
    private let offsets: UnsafeMutablePointer<Int64>
    private let prints: UnsafeMutablePointer<UInt64>
    /// Whether the entry passed the tests (a body's entry may be there for its records alone).
    private let passes: UnsafeMutablePointer<Bool>
    /// A body's records as `PaxParser` parses them, when the recorder had them; every slot is initialised (nil when
    /// empty), and one the asker passes over is emptied before the recorder may use it again.
    private let parsed: UnsafeMutablePointer<[PaxRecord]?>
    /// Entries written so far (by the recorder).
    private let published = Atomic<Int>(0)
    /// Entries the asker is past (by the asker).
    private let released = Atomic<Int>(0)
    /// The asker's position in the ring (its own).
    private var cursor = 0
    /// The slot of the body the asker last found, whose records it may take; -1 for none.
    private var bodySlot = -1

    /// - Parameters:
    ///   - test: the caller's checks of a header block's bytes (the reader's checksum test is the screen's own).
    ///   - bodyTest: the caller's checks of a pax extended header's body; nil screens no body.
    public init(test: @escaping Test, bodyTest: BodyTest? = nil) {
        self.test = test
        self.bodyTest = bodyTest
        offsets = .allocate(capacity: Self.capacity)
        prints = .allocate(capacity: Self.capacity)
        passes = .allocate(capacity: Self.capacity)
        parsed = .allocate(capacity: Self.capacity)
        parsed.initialize(repeating: nil, count: Self.capacity)
    }

    deinit {
        offsets.deallocate()
        prints.deallocate()
        passes.deallocate()
        parsed.deinitialize(count: Self.capacity)
        parsed.deallocate()
    }

    /// On the recording thread: screens the header block `block` (512 bytes) at `offset`, and records it when it
    /// passes and the ring has room. Offsets must increase from call to call.
    func screen(_ block: UnsafeRawBufferPointer, at offset: Int64) {
        guard block.count == HeaderBlock.size, TarHeaderChecksum.recordsUnsignedSum(block), test(block) else { return }
        record(block, key: offset << 1, passed: true, records: nil)
    }

    /// On the recording thread: screens the body of the pax extended header at `offset` (after its block), and
    /// keeps `records`, what `PaxParser.parse` gave for it, with `spans`, where they lie (nil when not parsed or
    /// refused).
    func screenBody(_ body: UnsafeRawBufferPointer, at offset: Int64, records: [PaxRecord]? = nil,
                    spans: [PaxRecordSpan]? = nil) {
        let passed = bodyTest?(body, spans) ?? false
        guard passed || records != nil else { return }
        record(body, key: offset << 1 | 1, passed: passed, records: records)
    }

    private func record(_ bytes: UnsafeRawBufferPointer, key: Int64, passed: Bool, records: [PaxRecord]?) {
        let n = published.load(ordering: .relaxed)
        guard n - released.load(ordering: .acquiring) < Self.capacity else { return }
        let slot = n % Self.capacity
        offsets[slot] = key
        prints[slot] = Self.fingerprint(bytes)
        passes[slot] = passed
        parsed[slot] = records
        published.store(n + 1, ordering: .releasing)
    }

    /// On the reading thread: whether the header block `block` read at `offset` passed the screen with these very
    /// bytes. Offsets must increase from call to call.
    public func passed(_ block: UnsafeRawBufferPointer, at offset: Int64) -> Bool {
        guard let slot = find(block, key: offset << 1) else { return false }
        return passes[slot]
    }

    /// On the reading thread: whether the body of the pax extended header at `offset` passed with these bytes.
    /// The body's records, when the recorder kept them, can then be taken (`takeBodyRecords`).
    public func bodyPassed(_ body: UnsafeRawBufferPointer, at offset: Int64) -> Bool {
        bodySlot = find(body, key: offset << 1 | 1) ?? -1
        return bodySlot >= 0 && passes[bodySlot]
    }

    /// On the reading thread: the records of the body `bodyPassed` last found, as `PaxParser.parse` gives them for
    /// those bytes; nil when it found none or they were not kept (or were taken already).
    public func takeBodyRecords() -> [PaxRecord]? {
        guard bodySlot >= 0 else { return nil }
        defer { bodySlot = -1 }
        return parsed[bodySlot].take()
    }

    /// The slot of the entry under `key` with the fingerprint of `bytes`; entries before it are let go.
    private func find(_ bytes: UnsafeRawBufferPointer, key: Int64) -> Int? {
        bodySlot = -1
        let n = published.load(ordering: .acquiring)
        var i = cursor
        while i < n, offsets[i % Self.capacity] < key {
            // Emptied here, before the recorder may write the slot again.
            if parsed[i % Self.capacity] != nil { parsed[i % Self.capacity] = nil }
            i += 1
        }
        if i != cursor {
            cursor = i
            released.store(i, ordering: .releasing)
        }
        guard i < n, offsets[i % Self.capacity] == key, prints[i % Self.capacity] == Self.fingerprint(bytes) else {
            return nil
        }
        return i % Self.capacity
    }

    /// A fingerprint of some bytes: the XOR and the sum of their 64-byte lines, eight words wide, folded to 64 bits,
    /// then the words and bytes of a shorter rest and the length. Any change of one word changes it; it tells apart
    /// bytes read again after the file changed in between, and is not meant to resist a forger.
    static func fingerprint(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var xor: UInt64 = 0, sum: UInt64 = 0
        // A header block's fixed size is a loop the compiler unrolls (128 instructions; 190 through the general
        // loop); a pax body is usually shorter than one line.
        let lines = bytes.count & ~63
        if lines == HeaderBlock.size {
            (xor, sum) = lineFolds(bytes, HeaderBlock.size)
        } else if lines > 0 {
            (xor, sum) = lineFolds(bytes, lines)
        }
        var i = lines
        while i + 8 <= bytes.count {
            let w = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            xor ^= w
            sum = sum &+ w
            i += 8
        }
        var last: UInt64 = 0
        if i < bytes.count, bytes.count >= 8 {
            // The last eight bytes, overlapping words already taken.
            last = bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)
        } else {
            while i < bytes.count {
                last = last << 8 | UInt64(bytes[i])
                i += 1
            }
        }
        xor ^= last
        sum = sum &+ last &+ UInt64(bytes.count) &* 0xC2B2_AE3D_27D4_EB4F
        // The XOR turned by half a word: a change of a top bit moves both by 2^63, which would cancel.
        return (xor << 32 | xor >> 32) ^ (sum &* 0x9E37_79B9_7F4A_7C15)
    }

    /// The XOR and the sum of the first `count` bytes (a multiple of 64) as 64-byte lines, eight words wide,
    /// folded to one word each.
    @inline(__always)
    private static func lineFolds(_ bytes: UnsafeRawBufferPointer, _ count: Int) -> (xor: UInt64, sum: UInt64) {
        var x = SIMD8<UInt64>(), s = SIMD8<UInt64>()
        for i in stride(from: 0, to: count, by: 64) {
            let line = bytes.loadUnaligned(fromByteOffset: i, as: SIMD8<UInt64>.self)
            x ^= line
            s &+= line
        }
        // Halves, not lanes one by one: each step is one vector operation.
        let x4 = x.lowHalf ^ x.highHalf, s4 = s.lowHalf &+ s.highHalf
        let x2 = x4.lowHalf ^ x4.highHalf, s2 = s4.lowHalf &+ s4.highHalf
        return (x2[0] ^ x2[1], s2[0] &+ s2[1])
    }
}
