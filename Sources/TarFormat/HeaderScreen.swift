import Synchronization

/// Header blocks found sound on the read-ahead thread, so that the thread reading the archive does not check
/// them again.
///
/// The read-ahead plan (`TarReadAheadPlan`) walks every header block of the file before the reader gets to it, on
/// a thread that is otherwise mostly idle. Given a screen, it runs on each block the checks that depend on the
/// block's 512 bytes alone: the reader's own checksum test (the recorded value, parsed as the reader parses it,
/// equals the unsigned sum) and the caller's `test` (a validator's field-encoding rules). The offsets of the
/// blocks that pass, with a 64-bit fingerprint of their bytes, go into a bounded ring. The reader, given the same
/// screen, asks for each block it reads (`passed`): a block the ring holds at that offset with the same
/// fingerprint is one whose checks would find nothing, so the reader skips its checksum test and tells its
/// observer (`TarReader.blockWasScreened`). Anything else (a block the plan did not see, one that failed, one
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

    private let test: Test
    /// The number of entries the ring holds: more than the header blocks of a full read-ahead ring (16 chunks of
    /// 64 KiB hold at most 2,048); when it is full, blocks are not recorded and are checked in full.
    public static let capacity = 4096
    private let offsets: UnsafeMutablePointer<Int64>
    private let prints: UnsafeMutablePointer<UInt64>
    /// Entries written so far (by the recorder).
    private let published = Atomic<Int>(0)
    /// Entries the asker is past (by the asker).
    private let released = Atomic<Int>(0)
    /// The asker's position in the ring (its own).
    private var cursor = 0

    public init(test: @escaping Test) {
        self.test = test
        offsets = .allocate(capacity: Self.capacity)
        prints = .allocate(capacity: Self.capacity)
    }

    deinit {
        offsets.deallocate()
        prints.deallocate()
    }

    /// On the recording thread: screens the header block `block` (512 bytes) at `offset`, and records it when it
    /// passes and the ring has room. Offsets must increase from call to call.
    func screen(_ block: UnsafeRawBufferPointer, at offset: Int64) {
        guard block.count == HeaderBlock.size, Self.checksumVerifies(block), test(block) else { return }
        let n = published.load(ordering: .relaxed)
        guard n - released.load(ordering: .acquiring) < Self.capacity else { return }
        offsets[n % Self.capacity] = offset
        prints[n % Self.capacity] = Self.fingerprint(block)
        published.store(n + 1, ordering: .releasing)
    }

    /// On the reading thread: whether the header block `block` read at `offset` passed the screen with these very
    /// bytes. Offsets must increase from call to call.
    public func passed(_ block: UnsafeRawBufferPointer, at offset: Int64) -> Bool {
        let n = published.load(ordering: .acquiring)
        var i = cursor
        while i < n, offsets[i % Self.capacity] < offset { i += 1 }
        if i != cursor {
            cursor = i
            released.store(i, ordering: .releasing)
        }
        guard i < n, offsets[i % Self.capacity] == offset else { return false }
        return prints[i % Self.capacity] == Self.fingerprint(block)
    }

    /// The reader's checksum test passes by the unsigned sum (the signed one, which old writers used, is left to
    /// the full checks).
    static func checksumVerifies(_ block: UnsafeRawBufferPointer) -> Bool {
        guard let recorded = NumericFields.parseOctal(UnsafeRawBufferPointer(rebasing: block[HeaderBlock.checksum]))
        else { return false }
        return recorded == TarHeaderChecksum.unsigned(block)
    }

    /// A fingerprint of a block's 512 bytes: the XOR and the sum of its 64-byte lines, eight words wide, folded to
    /// 64 bits. Any change of one word changes it; it tells apart a block read again after the file changed in
    /// between, and is not meant to resist a forger.
    static func fingerprint(_ block: UnsafeRawBufferPointer) -> UInt64 {
        var x = SIMD8<UInt64>(), s = SIMD8<UInt64>()
        for i in stride(from: 0, to: HeaderBlock.size, by: 64) {
            let line = block.loadUnaligned(fromByteOffset: i, as: SIMD8<UInt64>.self)
            x ^= line
            s &+= line
        }
        // Halves, not lanes one by one: each step is one vector operation.
        let x4 = x.lowHalf ^ x.highHalf, s4 = s.lowHalf &+ s.highHalf
        let x2 = x4.lowHalf ^ x4.highHalf, s2 = s4.lowHalf &+ s4.highHalf
        // The XOR turned by half a word: a change of a top bit moves both folds by 2^63, which would cancel.
        let xor = x2[0] ^ x2[1]
        return (xor << 32 | xor >> 32) ^ ((s2[0] &+ s2[1]) &* 0x9E37_79B9_7F4A_7C15)
    }
}
