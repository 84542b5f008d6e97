/// The file records of an index being written (path, size, data offset; the digest is kept by slot in a
/// `SlotDigestStore`), in archive order, in a compact form: in memory up to `memoryBudget` bytes, then
/// appended to an anonymous `SpoolFile` through a buffer of that size. So the encoder's memory does not grow
/// with the number of files.
///
/// A record is: the length of the prefix its path shares with the previous path, the length and bytes of the
/// rest of the path, the size, and the data offset minus the previous record's (zigzag): all unsigned LEB128.
/// A million files under a few directories take about 15 MB.
final class FileRecordSpool {
    /// Bytes of records held in memory before they go to the spool file.
    let memoryBudget: Int
    /// Where the spool file is created; nil for the temporary directory.
    let directory: String?
    /// Records appended so far.
    private(set) var count = 0
    /// Records not yet written to the file: all of them while `file` is nil.
    private var pending: [UInt8] = []
    private var file: SpoolFile?
    private var fileLength: Int64 = 0
    private var previousPath: [UInt8] = []
    private var previousOffset: Int64 = 0

    init(memoryBudget: Int = 1 << 20, directory: String? = nil) {
        self.memoryBudget = max(1, memoryBudget)
        self.directory = directory
    }

    /// Whether records went to the spool file (the budget was exceeded).
    var spilled: Bool { file != nil }

    /// Appends the record of the next file (slot `count`).
    func append<P: Collection>(path: P, size: Int64, offset: Int64) throws where P.Element == UInt8 {
        var shared = 0
        for (a, b) in zip(previousPath, path) {
            guard a == b else { break }
            shared += 1
        }
        let rest = path.dropFirst(shared)
        Self.putVarint(UInt64(shared), to: &pending)
        Self.putVarint(UInt64(rest.count), to: &pending)
        pending.append(contentsOf: rest)
        Self.putVarint(UInt64(bitPattern: size), to: &pending)
        let delta = offset &- previousOffset
        Self.putVarint(UInt64(bitPattern: (delta << 1) ^ (delta >> 63)), to: &pending)
        previousPath.removeSubrange(shared...)
        previousPath.append(contentsOf: rest)
        previousOffset = offset
        count += 1
        if pending.count > memoryBudget { try flush() }
    }

    /// Calls `body` with every record in order: slot, path bytes (valid only during the call), size, offset.
    func forEach(_ body: (Int, ArraySlice<UInt8>, Int64, Int64) throws -> Void) throws {
        if file != nil { try flush() }
        var reader = Reader(file: file, length: fileLength, memory: file == nil ? pending : [])
        var path: [UInt8] = []
        var offset: Int64 = 0
        for slot in 0..<count {
            try reader.fill(40)
            let shared = Int(try reader.varint())
            let restCount = Int(try reader.varint())
            guard shared <= path.count else { throw reader.corrupt() }
            path.removeSubrange(shared...)
            try reader.fill(restCount + 20)
            path.append(contentsOf: try reader.take(restCount))
            let size = Int64(bitPattern: try reader.varint())
            let z = try reader.varint()
            offset &+= Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1)))
            try body(slot, path[...], size, offset)
        }
    }

    private func flush() throws {
        guard !pending.isEmpty else { return }
        let out = try file ?? SpoolFile(directory: directory, purpose: "index file records")
        file = out
        try out.write(pending, at: fileLength)
        fileLength += Int64(pending.count)
        pending.removeAll(keepingCapacity: true)
    }

    static func putVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// Sequential reading of the records, from memory or from the file through a buffer.
    private struct Reader {
        let file: SpoolFile?
        let length: Int64
        var bytes: [UInt8]
        var position = 0
        var fileOffset: Int64 = 0

        init(file: SpoolFile?, length: Int64, memory: [UInt8]) {
            self.file = file
            self.length = length
            bytes = memory
        }

        /// Makes at least `n` bytes available from `position`, or all that are left.
        mutating func fill(_ n: Int) throws {
            guard let file, bytes.count - position < n, fileOffset < length else { return }
            bytes.removeSubrange(..<position)
            position = 0
            let want = Int(min(Int64(max(n, 256 << 10)), length - fileOffset))
            let have = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: want))
            let got = try bytes.withUnsafeMutableBytes {
                try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[have...]), at: fileOffset)
            }
            guard got == want else { throw corrupt() }
            fileOffset += Int64(got)
        }

        mutating func varint() throws -> UInt64 {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard position < bytes.count, shift < 64 else { throw corrupt() }
                let b = bytes[position]
                position += 1
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
            }
        }

        mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, bytes.count - position >= n else { throw corrupt() }
            defer { position += n }
            return bytes[position..<(position + n)]
        }

        func corrupt() -> CheckpointError {
            CheckpointError("IO", "the temporary index file records were read back damaged")
        }
    }
}
