import Crypto
import TarFormat

/// Writes the `cka-index.json` entry from the spooled file records and digests, in bounded memory: a first
/// pass over the records gives the content's exact length (the tar header comes before the content), a
/// second streams the canonical JSON into the tar writer and hashes it. The bytes are those of
/// `ArchiveIndex.canonicalBytes` for the same index: both use `canonicalPrefix`,
/// `FileRecord.appendCanonical` and `canonicalSuffix`.
struct IndexStreamWriter {
    var header: ArchiveIndex.Span
    var sections: [ArchiveIndex.SectionRecord]
    var indexOffset: Int64
    let records: FileRecordSpool
    let digests: SlotDigestStore

    /// Bytes of JSON gathered before they are written (and hashed) on.
    static let chunk = 256 << 10

    /// The content's length and `sha256:<hex>` digest.
    struct Written {
        var length: Int64
        var digest: String
    }

    /// Writes the entry (`header` with its size set) and its content to `tar`.
    /// - Throws: `IO` when a file has no digest (naming it and its data offset), or what the tar writer throws.
    func write(entry header: TarHeader, to tar: TarWriter) throws -> Written {
        let prefix = ArchiveIndex.canonicalPrefix(header: self.header, sections: sections)
        let suffix = ArchiveIndex.canonicalSuffix(indexOffset: indexOffset)
        var length = Int64(prefix.count + suffix.count + max(0, records.count - 1))
        try forEachRecord { record in length += Int64(record.count) }

        var h = header
        h.size = length
        try tar.writeHeader(h)
        var hasher = SHA256()
        var written: Int64 = 0
        var out = prefix
        out.reserveCapacity(Self.chunk + 4096)
        func emit() throws {
            out.withUnsafeBytes { hasher.update(bufferPointer: $0) }
            try tar.write(out)
            written += Int64(out.count)
            out.removeAll(keepingCapacity: true)
        }
        try forEachRecord { record in
            if record.slot > 0 { out.append(0x2C) }
            out.append(contentsOf: record.json)
            if out.count >= Self.chunk { try emit() }
        }
        out += suffix
        try emit()
        guard written == length else {
            throw CheckpointError("IO", "the index content was \(written) bytes, not the \(length) announced",
                                  entry: "cka-index.json", offset: indexOffset)
        }
        return Written(length: length, digest: "sha256:" + Hex.string(hasher.finalize()))
    }

    /// One record's canonical JSON, valid during the call.
    private struct Record {
        var slot: Int
        var json: ArraySlice<UInt8>
        var count: Int { json.count }
    }

    /// Calls `body` with the canonical JSON of every file record in order.
    private func forEachRecord(_ body: (Record) throws -> Void) throws {
        var reader = try digests.reader()
        var json: [UInt8] = []
        var hex = [UInt8](repeating: 0, count: 64)
        let digits = Array("0123456789abcdef".utf8)
        try records.forEach { slot, path, size, offset in
            guard let digest = try reader.digest(slot) else {
                throw CheckpointError("IO", "no digest was computed for the file",
                                      entry: String(decoding: path, as: UTF8.self), offset: offset)
            }
            for (i, b) in digest.enumerated() {
                hex[2 * i] = digits[Int(b >> 4)]
                hex[2 * i + 1] = digits[Int(b & 15)]
            }
            json.removeAll(keepingCapacity: true)
            ArchiveIndex.FileRecord.appendCanonical(path: path, size: size, offset: offset, sha256: hex, to: &json)
            try body(Record(slot: slot, json: json[...]))
        }
    }
}
