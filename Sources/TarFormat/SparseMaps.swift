/// Decoding of the four GNU sparse encodings into a `SparseInfo`, with the checks that make a map safe.
enum SparseMaps {
    /// Reads the (offset, length) pairs of an old GNU sparse area (4 in the header, 21 per extension block).
    static func oldGNUEntries(_ area: UnsafeRawBufferPointer) throws(TarError.Kind) -> [SparseSegment] {
        var out: [SparseSegment] = []
        var i = 0
        while i + 24 <= area.count {
            let off = UnsafeRawBufferPointer(rebasing: area[i..<(i + 12)])
            let len = UnsafeRawBufferPointer(rebasing: area[(i + 12)..<(i + 24)])
            // An entry whose offset field is empty ends the list.
            if off.allSatisfy({ $0 == 0 }) && len.allSatisfy({ $0 == 0 }) { break }
            guard let o = NumericFields.parse(off), let l = NumericFields.parse(len) else {
                throw .invalidSparseMap(reason: "sparse entry is not a number")
            }
            out.append(SparseSegment(offset: o, length: l))
            i += 24
        }
        return out
    }

    /// pax 0.0: repeated `GNU.sparse.offset` / `GNU.sparse.numbytes` records, in order.
    static func pax00(_ records: [PaxRecord]) throws(TarError.Kind) -> [SparseSegment] {
        var out: [SparseSegment] = []
        var pendingOffset: Int64?
        for r in records {
            if r.key == "GNU.sparse.offset" {
                guard pendingOffset == nil, let v = Int64(r.stringValue) else {
                    throw .invalidSparseMap(reason: "GNU.sparse.offset out of sequence or not a number")
                }
                pendingOffset = v
            } else if r.key == "GNU.sparse.numbytes" {
                guard let o = pendingOffset, let v = Int64(r.stringValue) else {
                    throw .invalidSparseMap(reason: "GNU.sparse.numbytes out of sequence or not a number")
                }
                out.append(SparseSegment(offset: o, length: v))
                pendingOffset = nil
            }
        }
        if pendingOffset != nil { throw .invalidSparseMap(reason: "GNU.sparse.offset without numbytes") }
        return out
    }

    /// pax 0.1: `GNU.sparse.map` = "offset,length,offset,length,...".
    static func pax01(_ map: String) throws(TarError.Kind) -> [SparseSegment] {
        if map.isEmpty { return [] }
        let parts = map.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count % 2 == 0 else { throw .invalidSparseMap(reason: "GNU.sparse.map has an odd count") }
        var out: [SparseSegment] = []
        out.reserveCapacity(parts.count / 2)
        var i = 0
        while i < parts.count {
            guard let o = Int64(parts[i]), let l = Int64(parts[i + 1]) else {
                throw .invalidSparseMap(reason: "GNU.sparse.map holds a non-number")
            }
            out.append(SparseSegment(offset: o, length: l))
            i += 2
        }
        return out
    }

    /// pax 1.0: the map is text at the start of the data, "count\n" then "offset\nlength\n" pairs,
    /// padded to a block. `numbers` are the decimal lines read so far.
    static func pax10(numbers: [Int64]) throws(TarError.Kind) -> [SparseSegment] {
        guard let count = numbers.first, count >= 0, numbers.count == 1 + 2 * Int(count) else {
            throw .invalidSparseMap(reason: "pax 1.0 sparse map count does not match its entries")
        }
        var out: [SparseSegment] = []
        var i = 1
        while i < numbers.count {
            out.append(SparseSegment(offset: numbers[i], length: numbers[i + 1]))
            i += 2
        }
        return out
    }

    /// Checks a map: non-negative, sorted, non-overlapping, within `realSize`, lengths adding up to `stored`.
    static func validate(_ segments: [SparseSegment], realSize: Int64, stored: Int64) throws(TarError.Kind) {
        guard realSize >= 0 else { throw .invalidSparseMap(reason: "negative real size") }
        var end: Int64 = 0
        var total: Int64 = 0
        for s in segments {
            guard s.offset >= 0, s.length >= 0 else { throw .invalidSparseMap(reason: "negative offset or length") }
            guard s.offset >= end else { throw .invalidSparseMap(reason: "segments overlap or are unsorted") }
            let (e, overflow) = s.offset.addingReportingOverflow(s.length)
            guard !overflow, e <= realSize else {
                throw .invalidSparseMap(reason: "segment ends beyond the real size \(realSize)")
            }
            end = e
            total += s.length
        }
        guard total == stored else {
            throw .invalidSparseMap(reason: "segments hold \(total) bytes but \(stored) are stored")
        }
    }
}
