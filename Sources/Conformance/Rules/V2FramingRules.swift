import CheckpointArchive
import Compression

/// Framed compression (5.7): the locator (CKA-FRM-003..006) read from the file's last bytes, and the member
/// starts (CKA-FRM-001) when the decoder reports them (`V2Checker.frames`); `compressedStart` (CKA-IDX-007) is
/// the index check's.
///
/// Without member starts only what the locator and the index say about each other is checked:
/// `compressedStart` values increasing and before the index member; the locator's tar offsets.
enum V2FramingRules {
    struct Locator {
        var indexCompressedOffset: Int64
        var indexOffset: Int64
        var tarLength: Int64
    }

    enum LocatorRead {
        case found(Locator)
        case broken(id: String, why: String)
    }

    static let gzipPrefix: [UInt8] = [0x1F, 0x8B, 0x08, 0x04, 0, 0, 0, 0, 0x00, 0xFF, 0x24, 0x00, 0x43, 0x4B, 0x20, 0x00]
    static let gzipSuffix: [UInt8] = [0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
    static let zstdPrefix: [UInt8] = [0x5E, 0x2A, 0x4D, 0x18, 0x20, 0x00, 0x00, 0x00]

    /// The locator that must end a framed archive: CKA-FRM-003 (gzip member), 004 (zstd skippable frame),
    /// 005 (the `CKAINDEX` text).
    static func read(tail: [UInt8], format: CompressionFormat) -> LocatorRead {
        let gzip = format == .gzip
        let id = gzip ? "CKA-FRM-003" : "CKA-FRM-004"
        let size = gzip ? 58 : 40
        let what = gzip ? "the 58-byte locator member" : "the 40-byte locator skippable frame"
        guard tail.count >= size else { return .broken(id: id, why: "the archive is too short to end with \(what)") }
        let t = Array(tail.suffix(size))
        let payloadStart = gzip ? 16 : 8
        let frameOK = gzip ? t[0..<16].elementsEqual(gzipPrefix) && t[48..<58].elementsEqual(gzipSuffix)
            : t[0..<8].elementsEqual(zstdPrefix)
        guard frameOK else { return .broken(id: id, why: "a framed \(format.rawValue) archive must end with \(what)") }
        let payload = Array(t[payloadStart..<(payloadStart + 32)])
        guard payload[0..<8].elementsEqual("CKAINDEX".utf8) else {
            return .broken(id: "CKA-FRM-005", why: "the locator payload does not start with CKAINDEX")
        }
        func u64(_ at: Int) -> Int64 {
            var v: UInt64 = 0
            for i in (0..<8).reversed() { v = v << 8 | UInt64(payload[at + i]) }
            return Int64(bitPattern: v)
        }
        return .found(Locator(indexCompressedOffset: u64(8), indexOffset: u64(16), tarLength: u64(24)))
    }

    /// CKA-FRM-003..006 at the end of the stream: the locator is there exactly when the header says framed, and
    /// its payload matches the stream (the index member, the index offset, the stream's length).
    static func check(run: V2Run, tarLength: Int64) {
        guard let framed = run.header?.framed else { return }
        let report = run.report
        let compression = run.checker.compression
        guard compression == .gzip || compression == .zstd, let tail = run.checker.tail else { return }
        report.ran([compression == .gzip ? "CKA-FRM-003" : "CKA-FRM-004", "CKA-FRM-005", "CKA-FRM-006"])
        if framed {
            switch read(tail: tail, format: compression) {
            case let .found(l):
                payload(l, run: run, tarLength: tarLength)
            case let .broken(id, why):
                report(id, why, path: nil, offset: tarLength)
                if id != "CKA-FRM-005" {
                    report("CKA-V2-008", "the header says framed true but the archive carries no locator",
                           path: "cka-header.json", offset: 0)
                }
            }
        } else if FramedLocator.parse(tail: tail, format: compression) != nil {
            report("CKA-FRM-006", "an archive that is not framed ends with a locator", path: nil, offset: tarLength)
            report("CKA-V2-008", "the header says framed false but the archive ends with a locator",
                   path: "cka-header.json", offset: 0)
        }
    }

    /// CKA-FRM-005: the locator's offsets are the index member's, the index entry's and the stream's length.
    static func payload(_ l: Locator, run: V2Run, tarLength: Int64) {
        var problems: [String] = []
        if let index = run.indexOffset, l.indexOffset != index {
            problems.append("records the index at tar offset \(l.indexOffset), it is at \(index)")
        }
        if l.tarLength != tarLength { problems.append("records a tar stream of \(l.tarLength) bytes, it has \(tarLength)") }
        if run.checker.frames != nil, let members = run.indexFrames {
            var starts = false
            if case let .members(first, last) = members { starts = l.indexCompressedOffset >= first && l.indexCompressedOffset <= last }
            if members != .unknown, !starts {
                problems.append("records the index member at \(l.indexCompressedOffset), where no member starting at the index begins")
            }
        } else if l.indexCompressedOffset <= run.lastCompressedStart {
            problems.append("records the index member at \(l.indexCompressedOffset), before the last section's member")
        }
        for p in problems { run.report("CKA-FRM-005", "the locator " + p, path: nil, offset: tarLength) }
    }

    /// CKA-FRM-001 at one required boundary (offset 0, a section's start, the index): a member or frame of a
    /// framed archive begins there. Nothing is reported when the decoder's member starts are not known.
    static func memberStarts(at offset: Int64, path: String?, run: V2Run) -> FrameTracker.Lookup? {
        guard let frames = run.checker.frames else { return nil }
        let found = frames.members(at: offset)
        guard run.header?.framed == true else { return found }
        run.report.ran(["CKA-FRM-001"])
        if found == FrameTracker.Lookup.none {
            run.report("CKA-FRM-001", "no gzip member or zstd frame begins at tar offset \(offset)", path: path,
                       offset: offset)
        }
        return found
    }
}
