#if canImport(Glibc)
import Glibc
#endif

/// Records written once in order and read back once in the same order, in bounded memory: the first
/// `memoryLimit` bytes stay in memory, the rest goes to an unlinked temporary file.
///
/// The v2 checker keeps what the index will be compared with (one record per regular file and per section)
/// here until the index, the archive's last entry, is read; both are in archive order, so the comparison is a
/// merge of two sequential streams.
public final class RecordSpool {
    /// Bytes of records kept in memory before they go to the temporary file.
    public let memoryLimit: Int
    /// Where the temporary file is created.
    public let temporaryDirectory: String
    /// Records appended.
    public var count: Int { appended }
    /// Why the temporary file failed, if it did (the records after it are lost).
    public private(set) var ioError: String?

    // `@exclusivity(unchecked)` below: see the README, "Unchecked exclusivity" (not public, changed only in
    // straight-line code that nothing re-enters).
    @exclusivity(unchecked) private var buffer: [UInt8] = []
    @exclusivity(unchecked) private var appended = 0
    private var file: Int32 = -1
    private var fileSize: Int64 = 0

    /// - Parameters:
    ///   - memoryLimit: bytes kept in memory before spilling.
    ///   - temporaryDirectory: where the file goes; nil for `$TMPDIR` or `/tmp`.
    public init(memoryLimit: Int = 1 << 20, temporaryDirectory: String? = nil) {
        self.memoryLimit = memoryLimit
        self.temporaryDirectory = TemporaryFile.directory(temporaryDirectory)
    }

    deinit { if file >= 0 { close(file) } }

    /// Whether records went to the temporary file.
    public var isOnDisk: Bool { file >= 0 }

    /// Appends one record (its bytes are framed with their length).
    public func append(_ record: RecordWriter) { append { $0.bytes.append(contentsOf: record.bytes) } }

    /// Appends the record `build` writes. The writer appends to the spool's own buffer (its length is filled in
    /// afterwards), so the record is not copied.
    public func append(_ build: (inout RecordWriter) -> Void) {
        reserveIfGrowing()
        var w = RecordWriter()
        swap(&w.bytes, &buffer)
        let start = w.bytes.count
        w.int32(0)
        build(&w)
        let n = UInt32(w.bytes.count - start - 4)
        w.bytes.withUnsafeMutableBytes { $0.storeBytes(of: n, toByteOffset: start, as: UInt32.self) }
        swap(&w.bytes, &buffer)
        appended += 1
        if buffer.count >= memoryLimit { flush() }
    }

    /// Once the buffer outgrows `growthStep` (a spool that is not a handful of records), gives it the capacity to
    /// reach `memoryLimit` (at most `largestReservation`) in one step: growing by doubling would copy its records
    /// at every step and touch fresh pages each time (page faults the validator paid for on every large archive).
    /// Pages of the reservation that no record reaches are never touched.
    @inline(__always)
    private func reserveIfGrowing() {
        let target = min(memoryLimit, Self.largestReservation) + Self.growthStep
        guard buffer.count >= Self.growthStep, buffer.capacity < target,
              buffer.capacity - buffer.count < Self.growthStep else { return }
        buffer.reserveCapacity(target)
    }

    /// Below this the buffer grows as arrays do.
    static let growthStep = 16 << 10
    /// The largest capacity reserved in one step; a larger buffer grows as arrays do.
    static let largestReservation = 8 << 20

    /// The bytes kept in memory, and the capacity of their buffer.
    var bufferedBytes: Int { buffer.count }
    var bufferCapacity: Int { buffer.capacity }

    /// Writes the buffer to the file.
    private func flush() {
        guard ioError == nil, !buffer.isEmpty else { return }
        if file < 0 {
            switch TemporaryFile.openUnlinked(in: temporaryDirectory, prefix: "ckpt-spool") {
            case let .success(fd): file = fd
            case let .failure(e):
                ioError = e.description
                return
            }
        }
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeBytes { pwrite(file, $0.baseAddress! + done, $0.count - done, off_t(fileSize)) }
            guard n > 0 else {
                ioError = "cannot write the temporary file: errno \(errno)"
                return
            }
            done += n
            fileSize += Int64(n)
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Reads the records back in order (once; appending afterwards is not allowed).
    public func makeReader() -> Reader { Reader(self) }

    /// Reads a spool's records back in the order they were appended.
    public final class Reader {
        private let spool: RecordSpool
        @exclusivity(unchecked) private var chunk: [UInt8] = []
        private var at = 0
        private var fileOffset: Int64 = 0
        private var inMemory = false

        fileprivate init(_ spool: RecordSpool) { self.spool = spool }

        /// The next record, nil after the last (or when the file cannot be read, see `ioError`).
        public func next() -> RecordReader? {
            if at + 4 > chunk.count, !refill(4) { return nil }
            var n: UInt32 = 0
            withUnsafeMutableBytes(of: &n) { $0.copyBytes(from: chunk[at..<(at + 4)]) }
            if at + 4 + Int(n) > chunk.count, !refill(4 + Int(n)) { return nil }
            let record = RecordReader(chunk[(at + 4)..<(at + 4 + Int(n))])
            at += 4 + Int(n)
            return record
        }

        /// Shows the next record's bytes to `accept` and consumes the record only when it returns true: a record can
        /// be compared where it lies, without building a value of it. Nil after the last record.
        public func nextIf(_ accept: (UnsafeRawBufferPointer) -> Bool) -> Bool? {
            if at + 4 > chunk.count, !refill(4) { return nil }
            let n = chunk.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
            if at + 4 + n > chunk.count, !refill(4 + n) { return nil }
            let accepted = chunk.withUnsafeBytes { accept(UnsafeRawBufferPointer(rebasing: $0[(at + 4)..<(at + 4 + n)])) }
            if accepted { at += 4 + n }
            return accepted
        }

        /// Makes `wanted` bytes from `at` available: from the file while it lasts, then from the buffer.
        private func refill(_ wanted: Int) -> Bool {
            // Once the buffer is reached there is nothing more to read.
            if inMemory { return false }
            chunk.removeSubrange(0..<at)
            at = 0
            while chunk.count < wanted {
                guard fileOffset < spool.fileSize else {
                    inMemory = true
                    // The buffer is read where it lies (shared, not copied), unless the file left a partial record.
                    if chunk.isEmpty { chunk = spool.buffer } else { chunk += spool.buffer }
                    return chunk.count >= wanted
                }
                let n = Int(min(Int64(max(wanted, 256 << 10)), spool.fileSize - fileOffset))
                let old = chunk.count
                chunk += [UInt8](repeating: 0, count: n)
                let got = chunk.withUnsafeMutableBytes { pread(spool.file, $0.baseAddress! + old, n, off_t(fileOffset)) }
                guard got > 0 else {
                    if spool.ioError == nil { spool.ioError = "cannot read the temporary file: errno \(errno)" }
                    return false
                }
                chunk.removeLast(n - got)
                fileOffset += Int64(got)
            }
            return true
        }
    }
}

/// Builds one record: integers little-endian, byte strings with their length.
public struct RecordWriter {
    /// The record built so far.
    public internal(set) var bytes: [UInt8] = []

    /// An empty record.
    public init() {}

    /// Empties the record, keeping its storage.
    public mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    /// Appends an integer (8 bytes, little-endian).
    public mutating func int(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }

    /// Appends a 32-bit integer (4 bytes, in the byte order `RecordSpool` frames records with).
    mutating func int32(_ v: UInt32) { withUnsafeBytes(of: v) { bytes.append(contentsOf: $0) } }

    /// Appends an optional integer (a presence byte, then 8 bytes).
    public mutating func optionalInt(_ v: Int64?) {
        bytes.append(v == nil ? 0 : 1)
        int(v ?? 0)
    }

    /// Appends a boolean (one byte).
    public mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }

    /// Appends a byte string with its length.
    public mutating func data<C: Collection>(_ v: C) where C.Element == UInt8 {
        int(Int64(v.count))
        bytes.append(contentsOf: v)
    }

    /// Appends a byte string with its length (the generic form, unspecialised across modules, costs several
    /// times more per call).
    public mutating func data(_ v: [UInt8]) {
        int(Int64(v.count))
        bytes.append(contentsOf: v)
    }

    /// The most bytes `fields` writes in one call.
    public static let maxFieldsByteCount = 256

    /// Appends `count` bytes (at most `maxFieldsByteCount`) that `write` stores into a scratch buffer: several
    /// fixed-size fields in one append (each `int` is an append of its own, some hundred instructions). `write`
    /// must store every byte; the layout is the caller's, the same as the one-field methods would write.
    public mutating func fields(_ count: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void) {
        precondition(count >= 0 && count <= Self.maxFieldsByteCount, "RecordWriter.fields: \(count) bytes")
        withUnsafeTemporaryAllocation(byteCount: Self.maxFieldsByteCount, alignment: 8) { scratch in
            let part = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<count])
            write(part)
            bytes.append(contentsOf: UnsafeRawBufferPointer(part))
        }
    }

    /// Appends raw bytes with their length.
    public mutating func data(_ v: UnsafeRawBufferPointer) {
        int(Int64(v.count))
        bytes.append(contentsOf: v)
    }

    /// Appends a string's UTF-8 bytes with their length.
    public mutating func string(_ s: String) { data(s.utf8) }

    /// Appends an optional string (a presence byte, then the string).
    public mutating func optionalString(_ s: String?) {
        bool(s != nil)
        if let s { string(s) }
    }
}

/// Reads a record `RecordWriter` built, field by field in the same order.
public struct RecordReader {
    private let bytes: ArraySlice<UInt8>
    private var at: Int

    /// A reader of one record's bytes.
    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        at = bytes.startIndex
    }

    /// The next integer.
    public mutating func int() -> Int64 {
        var v: Int64 = 0
        withUnsafeMutableBytes(of: &v) { $0.copyBytes(from: bytes[at..<(at + 8)]) }
        at += 8
        return Int64(littleEndian: v)
    }

    /// The next optional integer.
    public mutating func optionalInt() -> Int64? {
        let present = bytes[at] != 0
        at += 1
        let v = int()
        return present ? v : nil
    }

    /// The next boolean.
    public mutating func bool() -> Bool {
        at += 1
        return bytes[at - 1] != 0
    }

    /// The next byte string.
    public mutating func data() -> [UInt8] {
        let n = Int(int())
        defer { at += n }
        return Array(bytes[at..<(at + n)])
    }

    /// The next string.
    public mutating func string() -> String { String(decoding: data(), as: UTF8.self) }

    /// The next optional string.
    public mutating func optionalString() -> String? { bool() ? string() : nil }
}
