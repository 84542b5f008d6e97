import ByteStreams
import Crypto

/// A `ByteSink` in front of the output that hashes the tar stream span by span (the header span and each
/// section, CKA-IDX-002/004). Regular-file data written while `excludingData` is set is passed on but not
/// hashed into the span: it is covered by the file's own digest.
final class SpanDigester: DirectWriteSink {
    let inner: ByteSink
    private var hasher = SHA256()
    private var written: Int64 = 0
    /// While true, bytes pass through without entering the span digest.
    var excludingData = false

    init(_ inner: ByteSink) { self.inner = inner }

    var position: Int64 { written }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if !excludingData { hasher.update(bufferPointer: bytes) }
        try inner.write(bytes)
        written += Int64(bytes.count)
    }

    func flush() throws { try inner.flush() }

    /// Direct writes are file content, which never enters a span digest.
    func beginDirectWrite() throws -> Int32? {
        guard excludingData, let direct = inner as? DirectWriteSink else { return nil }
        return try direct.beginDirectWrite()
    }

    func endDirectWrite(_ count: Int64) {
        (inner as? DirectWriteSink)?.endDirectWrite(count)
        written += count
    }

    /// Ends the current span: its digest as lowercase hex, and a fresh hasher for the next span.
    func cut() -> String {
        let digest = hasher.finalize()
        hasher = SHA256()
        return Hex.string(digest)
    }
}

/// Lowercase hexadecimal of digests.
public enum Hex {
    public static func string<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
