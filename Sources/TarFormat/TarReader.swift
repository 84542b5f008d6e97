import ByteStreams
#if canImport(Glibc)
import Glibc
#endif

/// A streaming tar reader: yields each entry's header, then lets the caller read or skip its data.
///
/// It reads v7, ustar, pax (`x` and `g`), GNU (`L`, `K`, base-256, old sparse `S`) and star headers,
/// and the pax sparse formats 0.0, 0.1 and 1.0. Unread data is skipped on the next call to `next()`,
/// by seeking when the source allows it. Memory stays bounded by `TarLimits` whatever the archive says.
public final class TarReader {
    /// Where the bytes come from; its `position` is the offset in the uncompressed tar stream.
    public let source: ByteSource
    /// The limits enforced while reading.
    public let limits: TarLimits
    /// When true, pax global headers are also returned as entries of type `.paxGlobal` (as Go does).
    public var yieldsGlobalHeaders: Bool {
        get { returnsGlobalHeaders }
        set { returnsGlobalHeaders = newValue }
    }
    // `@exclusivity(unchecked)` below: see the README, "Unchecked exclusivity" (not public, changed only in
    // straight-line code that nothing re-enters).
    /// The pax global records seen so far, applied to every later entry (as POSIX and Python do).
    @exclusivity(unchecked) public private(set) var globalRecords: [PaxRecord] = []
    /// How the archive ended; nil until `next()` has returned nil.
    public var end: TarEnd? { ended }
    /// Number of entries returned so far.
    public var entryCount: Int { entriesReturned }
    /// Sees the raw structure as it is read (header blocks, extended header bodies, padding): for validators.
    /// Held strongly: while a weak reference points to an object, every retain and release of it takes the
    /// runtime's slow path (1.4 million of the 80 million instructions of a v2 check of the benchmark archive when
    /// this was weak). An observer must therefore not hold its reader strongly; each callback passes it.
    public var observer: TarReaderObserver? {
        get { currentObserver }
        set { currentObserver = newValue }
    }
    /// The screen of the read-ahead plan, when the file is read ahead with one (`HeaderScreen`).
    public var screen: HeaderScreen? {
        get { headerScreen }
        set { headerScreen = newValue }
    }
    /// During `readHeaderBlock`: whether the block passed the screen with these bytes, so that the reader did not
    /// test its checksum and the observer may skip the checks the screen ran.
    public var blockWasScreened: Bool { screenedBlock }
    /// During `readExtendedHeaderBody`: whether the body passed the screen with these bytes, so that the observer
    /// may skip the checks the screen ran.
    public var bodyWasScreened: Bool { screenedBody }

    // The stored properties behind `observer`, `end`, `entryCount` and `yieldsGlobalHeaders`, read or changed on
    // every entry: each of those accesses was a run-time exclusivity check (see the README, "Unchecked exclusivity").
    @exclusivity(unchecked) var currentObserver: TarReaderObserver?
    /// Behind `screen`, read for every header block and pax body.
    @exclusivity(unchecked) var headerScreen: HeaderScreen?
    /// Behind `blockWasScreened`.
    @exclusivity(unchecked) private var screenedBlock = false
    /// Behind `bodyWasScreened`.
    @exclusivity(unchecked) var screenedBody = false
    @exclusivity(unchecked) var ended: TarEnd?
    @exclusivity(unchecked) private var entriesReturned = 0
    @exclusivity(unchecked) private var returnsGlobalHeaders = false

    /// Bytes of the current entry's stored data not yet read or skipped, and of the padding after them.
    @exclusivity(unchecked) var remaining: Int64 = 0
    @exclusivity(unchecked) var padding: Int64 = 0
    /// The current entry's name, kept as bytes: a string is made only for an error.
    @exclusivity(unchecked) var currentPath: [UInt8]?
    /// The body of the last extended header: its storage serves the next one (no allocation per header).
    @exclusivity(unchecked) var extendedBody: [UInt8] = []
    var currentName: String? { currentPath.map { String(decoding: $0, as: UTF8.self) } }
    /// The block `readBlock` reads into: the current header (or sparse extension) block.
    let block = UnsafeMutableRawBufferPointer.allocate(byteCount: HeaderBlock.size, alignment: 8)

    /// Creates a reader positioned at the first header of `source`.
    public init(source: ByteSource, limits: TarLimits = .default) {
        self.source = source
        self.limits = limits
    }

    deinit { block.deallocate() }

    /// Bytes of the current entry's stored data not yet read.
    public var remainingData: Int64 { remaining }

    /// Reads the next entry's headers, skipping whatever is left of the current entry.
    /// - Returns: the header, or nil at the end of the archive (then `end` says how it ended).
    /// - Throws: `TarError` on truncation, corruption or an exceeded limit.
    public func next() throws -> TarHeader? {
        if ended != nil { return nil }
        try skipRest()
        var local: [PaxRecord] = []
        var longName: [UInt8]?
        var longLink: [UInt8]?
        var first: Int64?
        var pending = false  // an extended header was read and promises an entry
        while true {
            let at = source.position
            let got = try readBlock()
            // Extended headers (pax `x`, GNU `L`/`K`) promise an entry: ending before it is truncation.
            if got == 0 {
                if pending { throw TarError(.truncated, offset: at) }
                ended = TarEnd(marker: .none, offset: at)
                return nil
            }
            if got < HeaderBlock.size { throw TarError(.truncated, offset: at + Int64(got)) }
            let raw = UnsafeRawBufferPointer(block)
            if HeaderBlock.isZero(raw) {
                if pending {
                    throw TarError(.invalidHeader(reason: "extended header not followed by an entry"), offset: at)
                }
                return try readEndMarker(at: at)
            }
            // A block the read-ahead thread screened with these bytes has had its checksum tested there.
            screenedBlock = headerScreen?.passed(raw, at: at) ?? false
            if !screenedBlock { try verifyChecksum(at: at) }
            currentObserver?.tarReader(self, readHeaderBlock: raw, at: at)
            if raw[HeaderBlock.typeflag] == UInt8(ascii: "x") {
                // A pax header needs only its size: no header (and none of its strings) is built.
                let size: Int64
                do { size = try HeaderBlock.extendedSize(raw) } catch { throw TarError(error, offset: at) }
                if first == nil { first = at }
                let body = try readExtended(size: size, limit: limits.maxPaxHeaderSize, what: "pax header", at: at)
                // The read-ahead thread's parse of these very bytes, when it kept one (`HeaderScreen`).
                let parsed: [PaxRecord]
                if let kept = headerScreen?.takeBodyRecords() {
                    parsed = kept
                } else {
                    do { parsed = try PaxParser.parse(body) } catch { throw TarError(error, offset: at) }
                }
                if local.isEmpty { local = parsed } else { local += parsed }
                pending = true
                continue
            }
            let flag = TarEntryType(rawValue: raw[HeaderBlock.typeflag])
            if flag != .paxGlobal, flag != .gnuLongName, flag != .gnuLongLink {
                return try entry(raw, at: at, first: first ?? at,
                                 records: globalRecords.isEmpty ? local : globalRecords + local,
                                 longName: longName, longLink: longLink)
            }
            var h = try decode(raw, at: at)
            if first == nil { first = at }
            switch h.type {
            case .paxGlobal:
                let body = try readExtended(size: h.size, limit: limits.maxPaxHeaderSize, what: "pax header", at: at)
                let records: [PaxRecord]
                do { records = try PaxParser.parse(body) } catch { throw TarError(error, offset: at) }
                for r in records {
                    globalRecords.removeAll { $0.key == r.key }
                    if !r.value.isEmpty { globalRecords.append(r) }
                }
                if returnsGlobalHeaders {
                    h.paxRecords = records
                    h.format.insert(.pax)
                    h.headerOffset = first ?? at
                    h.dataOffset = source.position
                    h.storedSize = 0
                    return h
                }
                first = nil
                continue
            case .gnuLongName:
                longName = try readLongName(size: h.size, at: at)
                pending = true
                continue
            default:  // .gnuLongLink, the only other type that comes here
                longLink = try readLongName(size: h.size, at: at)
                pending = true
                continue
            }
        }
    }

    /// The header of an entry (not an extended header) whose block is `raw`, at `at`: decoded, with its extended
    /// headers' records and names applied. A function of its own, so that the header is built where it is
    /// returned: built inside `next()`'s loop, it was copied on the way out (some 500 instructions an entry).
    private func entry(_ raw: UnsafeRawBufferPointer, at: Int64, first: Int64, records: [PaxRecord],
                       longName: [UInt8]?, longLink: [UInt8]?) throws -> TarHeader {
        var h = try decode(raw, at: at)
        h.headerOffset = first
        try finishHeader(&h, records: records, longName: longName, longLink: longLink, at: at)
        return h
    }

    /// The fields of the header block `raw` at `at`, any error with that offset.
    @inline(__always)
    private func decode(_ raw: UnsafeRawBufferPointer, at: Int64) throws -> TarHeader {
        do { return try HeaderBlock.decode(raw, offset: at) } catch { throw TarError(error, offset: at) }
    }

    /// Reads up to `maxCount` bytes of the current entry's stored data; empty at the end of the data.
    /// For sparse entries this is the stored runs back to back; `TarHeader.sparse` maps them.
    public func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer {
        guard remaining > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let chunk = try source.read(upTo: Int(min(Int64(maxCount), remaining)))
        if chunk.isEmpty { throw TarError(.truncated, offset: source.position, entry: currentName) }
        remaining -= Int64(chunk.count)
        return chunk
    }

    /// Skips up to `count` bytes of the current entry's data, seeking where the source can (a file).
    /// - Returns: the bytes skipped; fewer than asked only at the end of the entry's data.
    /// - Throws: `truncated` when the stream ends inside the data.
    public func skip(_ count: Int64) throws -> Int64 {
        let wanted = min(max(0, count), remaining)
        guard wanted > 0 else { return 0 }
        let n = try source.skip(wanted)
        remaining -= n
        if n < wanted { throw TarError(.truncated, offset: source.position, entry: currentName) }
        return n
    }

    /// Reads the current entry's remaining data into an array (bounded by `limit`).
    public func readData(limit: Int64 = 1 << 30) throws -> [UInt8] {
        guard remaining <= limit else {
            throw TarError(.limitExceeded(limit: "data", value: remaining, maximum: limit), offset: source.position,
                           entry: currentName)
        }
        var out: [UInt8] = []
        out.reserveCapacity(Int(remaining))
        while remaining > 0 { out.append(contentsOf: try read(upTo: 1 << 20)) }
        return out
    }

    /// Skips what is left of the current entry's data and its padding, so that `source.position` is where the
    /// next entry's headers start. `next()` does this itself; callers that hash the stream call it first.
    public func skipRemainingData() throws { try skipRest() }

    // MARK: - Steps of next()

    /// Reads the next 512-byte block into `block`: one read when the source has the whole block at hand (the
    /// usual case), else as many as it takes.
    func readBlock() throws -> Int {
        let chunk = try source.read(upTo: HeaderBlock.size)
        if chunk.count == HeaderBlock.size {
            block.copyMemory(from: chunk)
            return HeaderBlock.size
        }
        if chunk.isEmpty { return 0 }
        UnsafeMutableRawBufferPointer(rebasing: block[0..<chunk.count]).copyMemory(from: chunk)
        let rest = UnsafeMutableRawBufferPointer(rebasing: block[chunk.count...])
        return try chunk.count + source.readFully(into: rest)
    }

    private func verifyChecksum(at: Int64) throws {
        let raw = UnsafeRawBufferPointer(block)
        // The unsigned sum first (the read-ahead screen's test too): the signed one is needed only when it does not
        // match, and the field is parsed again then, for the error.
        if TarHeaderChecksum.recordsUnsignedSum(raw) { return }
        guard let recorded = NumericFields.parseOctal(UnsafeRawBufferPointer(rebasing: raw[HeaderBlock.checksum])) else {
            throw TarError(.invalidNumericField(field: "chksum"), offset: at)
        }
        let sums = TarHeaderChecksum.sums(raw)
        guard recorded == sums.unsigned || recorded == sums.signed else {
            throw TarError(.badChecksum(recorded: recorded, unsigned: sums.unsigned, signed: sums.signed), offset: at)
        }
    }

    /// `limits.maxPathDepth` for a name.
    private func checkDepth(_ what: String, _ name: [UInt8], at: Int64) throws {
        // Each component counted takes a byte and all but the last a '/' after it: more than `maxPathDepth` of
        // them take at least 2 x maxPathDepth + 1 bytes, so a shorter name (every usual one) is not scanned.
        if name.count <= 2 * limits.maxPathDepth { return }
        let depth = Self.depth(name)
        if depth > limits.maxPathDepth {
            throw TarError(.limitExceeded(limit: what, value: Int64(depth), maximum: Int64(limits.maxPathDepth)),
                           offset: at, entry: nil)
        }
    }

    /// Applies extended records and long names, decodes sparse maps and sets the data bookkeeping.
    private func finishHeader(_ h: inout TarHeader, records: [PaxRecord], longName: [UInt8]?, longLink: [UInt8]?,
                              at: Int64) throws {
        var sparseName: [UInt8]?
        do {
            for r in records { try PaxApplier.apply(r, to: &h, sparseName: &sparseName) }
        } catch { throw TarError(error, offset: at, entry: h.path) }
        if !records.isEmpty { h.format.insert(.pax) }
        if let n = sparseName { h.pathBytes = n }
        if let n = longName { h.pathBytes = n }
        if let n = longLink { h.linkBytes = n }
        if h.type == .regularLegacy, h.pathBytes.last == 0x2F { h.type = .directory }
        if max(h.pathBytes.count, h.linkBytes.count) > limits.maxNameLength {
            for (what, count) in [("name length", h.pathBytes.count), ("link name length", h.linkBytes.count)]
            where count > limits.maxNameLength {
                throw TarError(.limitExceeded(limit: what, value: Int64(count), maximum: Int64(limits.maxNameLength)),
                               offset: at, entry: nil)
            }
        }
        try checkDepth("path depth", h.pathBytes, at: at)
        if h.type == .hardLink { try checkDepth("link path depth", h.linkBytes, at: at) }
        entriesReturned += 1
        if entriesReturned > limits.maxEntryCount {
            throw TarError(.limitExceeded(limit: "entry count", value: Int64(entriesReturned),
                                          maximum: Int64(limits.maxEntryCount)), offset: at)
        }
        h.paxRecords = records
        currentPath = h.pathBytes
        h.storedSize = h.type.isHeaderOnly ? 0 : h.size
        if h.type == .gnuSparse {
            try readOldGNUSparse(&h, at: at)
        }
        remaining = h.storedSize
        padding = (512 - h.storedSize % 512) % 512
        // The GNU sparse keys are looked for only when some key starts with 'G'.
        let gnuKeys = records.contains { $0.key.utf8.first == 0x47 }
        if gnuKeys, h.type != .gnuSparse, let map = h.paxValue("GNU.sparse.major"), map == "1" {
            try readPax10Sparse(&h, at: at)
        } else if gnuKeys, h.type != .gnuSparse, records.contains(where: { $0.key == "GNU.sparse.map" || $0.key == "GNU.sparse.offset" }) {
            let segments: [SparseSegment]
            do {
                if let m = h.paxValue("GNU.sparse.map") {
                    segments = try SparseMaps.pax01(m)
                } else {
                    segments = try SparseMaps.pax00(records)
                }
            } catch { throw TarError(error, offset: at, entry: h.path) }
            try setSparse(&h, encoding: h.paxValue("GNU.sparse.map") != nil ? .pax01 : .pax00, segments: segments,
                          realSizeKey: "GNU.sparse.size", at: at)
        }
        h.dataOffset = source.position
    }

    /// The number of components of a name that are neither empty nor `.`.
    static func depth(_ name: [UInt8]) -> Int {
        var count = 0
        name.withUnsafeBytes { p in
            p.forEachRun(separatedBy: 0x2F) { r in
                if r.count > 1 || (r.count == 1 && p[r.lowerBound] != 0x2E) { count += 1 }
                return true
            }
        }
        return count
    }
}
