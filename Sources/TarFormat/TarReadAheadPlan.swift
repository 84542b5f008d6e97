import ByteStreams

/// Foresees which bytes of a tar file a reader that skips file data will want, for `FileSource`'s read-ahead
/// thread: every header block, the whole body of each pax (`x`, `g`) and GNU long-name (`L`, `K`) entry, all the
/// data of a file up to `wholeFile` bytes (or of any size, for the files `readsWhole` names) and the first
/// `fileHead` bytes of a larger one.
///
/// It walks the headers in the chunks it is shown, using each entry's size (a pax `size` record before it
/// overrides the header's field), and names where to read next: on from the chunk's end while the current entry
/// still needs bytes, else the next header, past the data it skips. It checks nothing: on a header it cannot
/// follow (a bad size, an old GNU sparse header with extension blocks, a long-name body over `maxBody`) or at the
/// end-of-archive blocks it stops foreseeing, and the reader reads the rest itself.
public final class TarReadAheadPlan: ReadAheadPlanner {
    /// Files up to this size are read whole (a v2 reader parses the small JSON documents).
    public static let wholeFile: Int64 = 64 << 10
    /// The bytes read of a larger file's data (enough for any magic number a reader checks).
    public static let fileHead: Int64 = 4 << 10
    /// The largest pax or long-name body followed; a larger one ends the plan.
    public static let maxBody: Int64 = 1 << 20

    public private(set) var nextOffset: Int64? = 0
    /// The next header block to look at.
    private var header: Int64 = 0
    /// The current entry's wanted bytes end here.
    private var wantedEnd: Int64 = TarReadAheadPlan.block
    /// A pax or long-name body being gathered: its start and size; its bytes so far in `body`.
    private var pending: (type: UInt8, start: Int64, size: Int64)?
    private var body: [UInt8] = []
    /// Where the records of the last pax body lie, for the screen (storage reused).
    private var spans: [PaxRecordSpan] = []
    /// The `size` record of the last pax `x` header, for the entry it precedes.
    private var paxSize: Int64?

    private static let block = Int64(HeaderBlock.size)
    /// Says, from a header block's name field, whether the entry's data is read whole whatever its size; called on
    /// the read-ahead thread.
    private let readsWhole: (@Sendable (UnsafeRawBufferPointer) -> Bool)?

    /// Screens every header block the plan walks, for the reader given the same screen; nil for none.
    private let screen: HeaderScreen?

    /// - Parameters:
    ///   - readsWhole: given each file's header name field (NUL-padded, 100 bytes), whether its data will be read
    ///     whole however large it is (a v2 validator's `cka-index.json`); nil for none.
    ///   - screen: where to record the header blocks that pass its checks (`HeaderScreen`); nil for none.
    public init(readsWhole: (@Sendable (UnsafeRawBufferPointer) -> Bool)? = nil, screen: HeaderScreen? = nil) {
        self.readsWhole = readsWhole
        self.screen = screen
    }

    public func inspect(_ bytes: UnsafeRawBufferPointer, at offset: Int64) {
        let end = offset + Int64(bytes.count)
        guard !bytes.isEmpty, nextOffset != nil else { nextOffset = nil; return }
        while true {
            if let p = pending {
                gather(bytes, at: offset, for: p)
                guard Int64(body.count) == p.size else { break }
                if p.type == TarEntryType.paxExtended.rawValue {
                    // Parsed as the reader parses it: for the size record, and for the reader and the body's
                    // screen (`HeaderScreen`), which reads it through the spans rather than scanning it again.
                    // The spans gathered in a local array (its storage taken from `spans` and given back): appending
                    // to the property from the parser's closure cost more than the scan it spares.
                    var found = spans
                    spans = []
                    found.removeAll(keepingCapacity: true)
                    let records = screen == nil ? try? PaxParser.parse(body)
                                                : try? PaxParser.parse(body) { found.append($0) }
                    paxSize = records.flatMap(Self.sizeRecord) ?? paxSize
                    body.withUnsafeBytes {
                        screen?.screenBody($0, at: p.start - Self.block, records: records, spans: records == nil ? nil : found)
                    }
                    spans = found
                } else if p.type == TarEntryType.paxGlobal.rawValue {
                    body.withUnsafeBytes { screen?.screenBody($0, at: p.start - Self.block) }
                }
                pending = nil
            }
            guard header >= offset, header + Self.block <= end else { break }
            let at = Int(header - offset)
            let block = UnsafeRawBufferPointer(rebasing: bytes[at..<(at + HeaderBlock.size)])
            screen?.screen(block, at: header)
            guard follow(block) else { nextOffset = nil; return }
        }
        nextOffset = wantedEnd > end ? end : max(header, end)
    }

    /// Steps over the header `block` at `header`; false when the plan cannot go on.
    private func follow(_ block: UnsafeRawBufferPointer) -> Bool {
        if HeaderBlock.isZero(block) { return false }
        let type = TarEntryType(rawValue: block[HeaderBlock.typeflag])
        // The size field read as the reader reads it (in the block's format); a block it refuses ends the plan, as
        // do old GNU sparse headers with extension blocks.
        guard let fieldSize = try? HeaderBlock.extendedSize(block), fieldSize >= 0,
              !(type == .gnuSparse && block[HeaderBlock.gnuIsExtended] != 0) else { return false }
        let meta = type == .paxExtended || type == .paxGlobal || type == .gnuLongName || type == .gnuLongLink
        let size = meta ? fieldSize : (paxSize ?? fieldSize)
        if !meta { paxSize = nil }
        let dataStart = header + Self.block
        guard size <= Int64.max - Self.block else { return false }
        let padded = (size + Self.block - 1) / Self.block * Self.block
        guard dataStart <= Int64.max - padded else { return false }
        if meta {
            guard size <= Self.maxBody else { return false }
            pending = (type.rawValue, dataStart, size)
            body.removeAll(keepingCapacity: true)
            wantedEnd = dataStart + padded
        } else {
            let whole = size <= Self.wholeFile
                || readsWhole?(UnsafeRawBufferPointer(rebasing: block[HeaderBlock.name])) == true
            wantedEnd = dataStart + (whole ? padded : min(padded, Self.fileHead))
        }
        header = dataStart + padded
        return true
    }

    /// Appends what `bytes` (at `offset`) holds of the pending body.
    private func gather(_ bytes: UnsafeRawBufferPointer, at offset: Int64, for p: (type: UInt8, start: Int64, size: Int64)) {
        let from = max(p.start + Int64(body.count), offset)
        let to = min(p.start + p.size, offset + Int64(bytes.count))
        guard from < to else { return }
        body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[Int(from - offset)..<Int(to - offset)]))
    }

    /// The size a pax body's records give the entry after it, read as the reader reads it (the last `size` record
    /// wins); nil when they give none.
    static func sizeRecord(_ records: [PaxRecord]) -> Int64? {
        guard let r = records.last(where: { $0.key == "size" }) else { return nil }
        return try? PaxApplier.decimal(r, allowNegative: false)
    }
}
