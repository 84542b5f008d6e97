import Compression
import Crypto
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// CKA-FRM-005 for a decoder that has the archive as a file: the locator payload that ends a framed archive
/// must say `CKAINDEX` and give the index member's archive offset, the index entry's tar offset and the tar
/// stream's length.
///
/// The rule binds decoders (class D) because a seeking decoder trusts these numbers (CKA-FRM-007, CKA-IDX-013),
/// so an archive whose locator lies would be read differently by a seeking and a streaming decoder. A decoder
/// reading a pipe never sees the locator (decompressors pass over it as an empty member or a skippable frame,
/// CKA-FRM-007) and cannot check it; a decoder given the archive as a file can, after one streaming pass, with
/// a few `pread`s. `ckpt extract` does whenever its input is a regular file.
///
/// Missing or misframed locators (CKA-FRM-003, 004, 006) and `framed` claims (CKA-V2-008) are encoder and
/// validator rules; they are left to the validator.
public enum FramedLocatorCheck {
    /// Checks the locator of a decoded framed archive.
    /// - Parameters:
    ///   - descriptor: the archive file (only read with `pread`; nothing is checked unless it is a regular file).
    ///   - compression: the archive's compression.
    ///   - result: what `V2Decoder` found in the same archive.
    /// - Throws: `CheckpointError` CKA-FRM-005 naming what the payload gets wrong, at the tar stream's end.
    public static func verify(descriptor: Int32, compression: CompressionFormat, result: V2DecodeResult) throws {
        guard result.header.framed, compression == .gzip || compression == .zstd else { return }
        var st = stat()
        guard fstat(descriptor, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return }
        let size = Int64(st.st_size)
        let template = FramedLocator.bytes(format: compression, indexCompressedOffset: 0, indexOffset: 0, tarLength: 0)
        let payloadStart = compression == .gzip ? 16 : 8
        guard size >= Int64(template.count) else { return }
        var tail = [UInt8](repeating: 0, count: template.count)
        let got = tail.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, template.count, off_t(size) - off_t(template.count)) }
        guard got == template.count,
              tail[..<payloadStart].elementsEqual(template[..<payloadStart]),
              tail[(payloadStart + 32)...].elementsEqual(template[(payloadStart + 32)...]) else { return }
        let at = result.streamLength
        func refuse(_ why: String) -> CheckpointError { CheckpointError("CKA-FRM-005", "the locator " + why, offset: at) }
        guard tail[payloadStart..<(payloadStart + 8)].elementsEqual("CKAINDEX".utf8) else {
            throw refuse("payload does not start with CKAINDEX")
        }
        func u64(_ field: Int) -> Int64 {
            var v: UInt64 = 0
            for i in (0..<8).reversed() { v = v << 8 | UInt64(tail[payloadStart + field + i]) }
            return Int64(bitPattern: v)
        }
        let (memberOffset, indexOffset, tarLength) = (u64(8), u64(16), u64(24))
        guard indexOffset == result.index.indexOffset else {
            throw refuse("records the index at tar offset \(indexOffset), it is at \(result.index.indexOffset)")
        }
        guard tarLength == result.streamLength else {
            throw refuse("records a tar stream of \(tarLength) bytes, it has \(result.streamLength)")
        }
        let locatorStart = size - Int64(template.count)
        guard memberOffset > 0, memberOffset < locatorStart,
              indexMemberHoldsIndex(descriptor: descriptor, start: memberOffset, end: size, compression: compression,
                                    result: result) else {
            throw refuse("records the index member at archive offset \(memberOffset), where no member or frame "
                         + "decompressing to the index entry and the end of the tar stream begins")
        }
    }

    /// Whether decompressing from `start` gives the index entry (with this index's content) and then exactly the
    /// rest of the tar stream (CKA-FRM-007).
    static func indexMemberHoldsIndex(descriptor: Int32, start: Int64, end: Int64, compression: CompressionFormat,
                                      result: V2DecodeResult) -> Bool {
        do {
            let raw = PositionedFileSource(descriptor: descriptor, start: start, end: end)
            let stream = try compression.makeDecoder(raw, limits: .forInput(compressedSize: end - start))
            let reader = TarReader(source: stream)
            guard let h = try reader.next(), h.headerOffset == 0, h.path == "cka-index.json",
                  h.paxValue("CKA.index") == "1" else { return false }
            let content = try reader.readData(limit: 1 << 30)
            guard "sha256:" + Hex.string(SHA256.hash(data: content)) == result.indexDigest else { return false }
            let tarEnd = try reader.finish()
            guard tarEnd.marker == .twoZeroBlocks, tarEnd.trailingBytes == 0 else { return false }
            return stream.position == result.streamLength - result.index.indexOffset
        } catch {
            return false
        }
    }
}
