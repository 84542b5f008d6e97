#if canImport(Glibc)
import Glibc
#endif

/// Records written once in order and read back once in the same order, in bounded memory: the first
/// `memoryLimit` bytes stay in memory, the rest goes to an unlinked temporary file.
///
/// The v2 checker keeps what the index will be compared with (one record per regular file and per section)
/// here until the index, the archive's last entry, is read; both are in archive order, so the comparison is a
/// merge of two sequential streams.
final class RecordSpool {
    let memoryLimit: Int
    let temporaryDirectory: String
    /// Records appended.
    private(set) var count = 0
    /// Why the temporary file failed, if it did (the records after it are lost).
    private(set) var ioError: String?

    private var buffer: [UInt8] = []
    private var file: Int32 = -1
    private var fileSize: Int64 = 0

    init(memoryLimit: Int = 1 << 20, temporaryDirectory: String? = nil) {
        self.memoryLimit = memoryLimit
        self.temporaryDirectory = temporaryDirectory ?? getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    }

    deinit { if file >= 0 { close(file) } }

    /// Whether records went to the temporary file.
    var isOnDisk: Bool { file >= 0 }

    /// Appends one record (its bytes are framed with their length).
    func append(_ record: RecordWriter) {
        var n = UInt32(record.bytes.count)
        withUnsafeBytes(of: &n) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: record.bytes)
        count += 1
        if buffer.count >= memoryLimit { flush() }
    }

    /// Appends the record `build` writes, through a writer whose storage is reused.
    func append(_ build: (inout RecordWriter) -> Void) {
        scratch.reset()
        build(&scratch)
        append(scratch)
    }

    private var scratch = RecordWriter()

    /// Writes the buffer to the file.
    private func flush() {
        guard ioError == nil, !buffer.isEmpty else { return }
        if file < 0 {
            var template = Array("\(temporaryDirectory)/ckpt-spool-XXXXXX".utf8CString)
            file = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard file >= 0 else {
                ioError = "cannot create a temporary file in \(temporaryDirectory): errno \(errno)"
                return
            }
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
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
    func makeReader() -> Reader { Reader(self) }

    final class Reader {
        private let spool: RecordSpool
        private var chunk: [UInt8] = []
        private var at = 0
        private var fileOffset: Int64 = 0
        private var inMemory = false

        fileprivate init(_ spool: RecordSpool) { self.spool = spool }

        /// The next record, nil after the last (or when the file cannot be read, see `ioError`).
        func next() -> RecordReader? {
            if at + 4 > chunk.count, !refill(4) { return nil }
            var n: UInt32 = 0
            withUnsafeMutableBytes(of: &n) { $0.copyBytes(from: chunk[at..<(at + 4)]) }
            if at + 4 + Int(n) > chunk.count, !refill(4 + Int(n)) { return nil }
            let record = RecordReader(chunk[(at + 4)..<(at + 4 + Int(n))])
            at += 4 + Int(n)
            return record
        }

        /// Makes `wanted` bytes from `at` available: from the file while it lasts, then from the buffer.
        private func refill(_ wanted: Int) -> Bool {
            chunk.removeSubrange(0..<at)
            at = 0
            while chunk.count < wanted {
                if fileOffset < spool.fileSize {
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
                } else if !inMemory {
                    inMemory = true
                    chunk += spool.buffer
                } else {
                    return false
                }
            }
            return true
        }
    }
}

/// Builds one record: integers little-endian, byte strings with their length.
struct RecordWriter {
    private(set) var bytes: [UInt8] = []

    mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    mutating func int(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }

    mutating func optionalInt(_ v: Int64?) {
        bytes.append(v == nil ? 0 : 1)
        int(v ?? 0)
    }

    mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }

    mutating func data<C: Collection>(_ v: C) where C.Element == UInt8 {
        int(Int64(v.count))
        bytes.append(contentsOf: v)
    }

    mutating func string(_ s: String) { data(s.utf8) }

    mutating func optionalString(_ s: String?) {
        bool(s != nil)
        if let s { string(s) }
    }
}

/// Reads a record `RecordWriter` built, field by field in the same order.
struct RecordReader {
    private let bytes: ArraySlice<UInt8>
    private var at: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        at = bytes.startIndex
    }

    mutating func int() -> Int64 {
        var v: Int64 = 0
        withUnsafeMutableBytes(of: &v) { $0.copyBytes(from: bytes[at..<(at + 8)]) }
        at += 8
        return Int64(littleEndian: v)
    }

    mutating func optionalInt() -> Int64? {
        let present = bytes[at] != 0
        at += 1
        let v = int()
        return present ? v : nil
    }

    mutating func bool() -> Bool {
        at += 1
        return bytes[at - 1] != 0
    }

    mutating func data() -> [UInt8] {
        let n = Int(int())
        defer { at += n }
        return Array(bytes[at..<(at + n)])
    }

    mutating func string() -> String { String(decoding: data(), as: UTF8.self) }

    mutating func optionalString() -> String? { bool() ? string() : nil }
}
