import CheckpointArchive
import Compression

/// Framed compression (5.7): the locator (CKA-FRM-003..006) read from the file's last bytes, the member
/// boundaries (CKA-FRM-001) when the engine supplies them, and the `compressedStart` values (CKA-IDX-007).
///
/// Without member boundaries only what the locator and the index say about each other is checked:
/// `compressedStart` values increasing, after offset 0 and before the index member; the locator's tar offsets.
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

    static func check(run: V2Run, tarLength: Int64, boundaries: [V2FrameBoundary]?) {
        guard let framed = run.header?.framed else { return }
        let report = run.report
        let compression = run.checker.compression
        var locator: Locator?
        if compression == .gzip || compression == .zstd, let tail = run.checker.tail {
            report.ran([compression == .gzip ? "CKA-FRM-003" : "CKA-FRM-004", "CKA-FRM-005", "CKA-FRM-006"])
            if framed {
                switch read(tail: tail, format: compression) {
                case let .found(l):
                    locator = l
                    payload(l, run: run, tarLength: tarLength, boundaries: boundaries)
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
        if framed, let boundaries { memberStarts(run: run, boundaries: boundaries) }
        compressedStarts(run: run, locator: locator, boundaries: framed ? boundaries : nil)
    }

    /// CKA-FRM-005: the locator's offsets are the index member's, the index entry's and the stream's length.
    static func payload(_ l: Locator, run: V2Run, tarLength: Int64, boundaries: [V2FrameBoundary]?) {
        var problems: [String] = []
        if let index = run.indexOffset, l.indexOffset != index {
            problems.append("records the index at tar offset \(l.indexOffset), it is at \(index)")
        }
        if l.tarLength != tarLength { problems.append("records a tar stream of \(l.tarLength) bytes, it has \(tarLength)") }
        if let boundaries, let index = run.indexOffset {
            if !boundaries.contains(V2FrameBoundary(compressedOffset: l.indexCompressedOffset, tarOffset: index)) {
                problems.append("records the index member at \(l.indexCompressedOffset), where no member starting at the index begins")
            }
        } else if let last = (run.compressedStarts ?? []).compactMap({ $0 }).max(), l.indexCompressedOffset <= last {
            problems.append("records the index member at \(l.indexCompressedOffset), before the last section's member")
        }
        for p in problems { run.report("CKA-FRM-005", "the locator " + p, path: nil, offset: tarLength) }
    }

    /// CKA-FRM-001: a member or frame begins at offset 0, at every section's start and at the index.
    static func memberStarts(run: V2Run, boundaries: [V2FrameBoundary]) {
        run.report.ran(["CKA-FRM-001"])
        let starts = Set(boundaries.map(\.tarOffset))
        var required: [(Int64, String?)] = [(0, "cka-header.json")] + run.sections.map { ($0.start, $0.path) }
        if let index = run.indexOffset { required.append((index, "cka-index.json")) }
        for (offset, path) in required where !starts.contains(offset) {
            run.report("CKA-FRM-001", "no gzip member or zstd frame begins at tar offset \(offset)", path: path,
                       offset: offset)
        }
    }

    /// CKA-IDX-007: each `compressedStart` is where a member beginning at the section's start begins; without
    /// boundaries, the values increase, follow the header's member and precede the index member.
    static func compressedStarts(run: V2Run, locator: Locator?, boundaries: [V2FrameBoundary]?) {
        guard let recorded = run.compressedStarts else { return }
        var previous: Int64 = 0
        for (i, value) in recorded.enumerated() {
            guard let value else { continue }
            let section = i < run.sections.count ? run.sections[i] : nil
            let at = (path: section?.path, offset: section?.start)
            if let boundaries, let section {
                if !boundaries.contains(V2FrameBoundary(compressedOffset: value, tarOffset: section.start)) {
                    run.report("CKA-IDX-007", "sections[\(i)].compressedStart \(value) is not where a member "
                               + "beginning at the section's start begins", path: at.path, offset: at.offset)
                }
            } else if value <= previous {
                run.report("CKA-IDX-007", "sections[\(i)].compressedStart \(value) does not follow the previous member "
                           + "at \(previous)", path: at.path, offset: at.offset)
            } else if let locator, value >= locator.indexCompressedOffset {
                run.report("CKA-IDX-007", "sections[\(i)].compressedStart \(value) is not before the index member at "
                           + "\(locator.indexCompressedOffset)", path: at.path, offset: at.offset)
            }
            previous = max(previous, value)
        }
    }
}
