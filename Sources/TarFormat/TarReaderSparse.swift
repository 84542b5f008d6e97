/// The sparse maps of `TarReader`: GNU's old header-borne map, pax 1.0's map at the start of the data, and the
/// checks every encoding's map gets (segment count, real size, the stored bytes it accounts for).
extension TarReader {
    /// Checks a decoded map (segment count, `realSizeKey`'s real size, the stored bytes) and puts it on the header.
    func setSparse(_ h: inout TarHeader, encoding: SparseInfo.Encoding, segments: [SparseSegment],
                   realSizeKey: String, at: Int64) throws {
        guard segments.count <= limits.maxSparseSegments else {
            throw TarError(.limitExceeded(limit: "sparse segments", value: Int64(segments.count),
                                          maximum: Int64(limits.maxSparseSegments)), offset: at, entry: h.path)
        }
        guard let real = h.paxValue(realSizeKey).flatMap({ Int64($0) }) else {
            throw TarError(.invalidPaxValue(key: realSizeKey), offset: at, entry: h.path)
        }
        do { try SparseMaps.validate(segments, realSize: real, stored: remaining) } catch {
            throw TarError(error, offset: at, entry: h.path)
        }
        h.sparse = SparseInfo(encoding: encoding, segments: segments, realSize: real)
        h.size = real
    }

    /// Old GNU sparse: 4 segments in the header, more in extension blocks, real size at offset 483.
    func readOldGNUSparse(_ h: inout TarHeader, at: Int64) throws {
        let raw = UnsafeRawBufferPointer(block)
        var segments: [SparseSegment]
        let real: Int64
        do {
            segments = try SparseMaps.oldGNUEntries(UnsafeRawBufferPointer(rebasing: raw[HeaderBlock.gnuSparse]))
            real = try HeaderBlock.number(raw, HeaderBlock.gnuRealSize, field: "realsize")
        } catch { throw TarError(error, offset: at, entry: h.path) }
        var extended = raw[HeaderBlock.gnuIsExtended] != 0
        while extended {
            let blockAt = source.position
            guard try readBlock() == HeaderBlock.size else { throw TarError(.truncated, offset: source.position) }
            let ext = UnsafeRawBufferPointer(block)
            do { segments += try SparseMaps.oldGNUEntries(UnsafeRawBufferPointer(rebasing: ext[0..<504])) } catch {
                throw TarError(error, offset: blockAt, entry: h.path)
            }
            guard segments.count <= limits.maxSparseSegments else {
                throw TarError(.limitExceeded(limit: "sparse segments", value: Int64(segments.count),
                                              maximum: Int64(limits.maxSparseSegments)), offset: blockAt, entry: h.path)
            }
            extended = ext[504] != 0
        }
        do { try SparseMaps.validate(segments, realSize: real, stored: h.storedSize) } catch {
            throw TarError(error, offset: at, entry: h.path)
        }
        h.sparse = SparseInfo(encoding: .oldGNU, segments: segments, realSize: real)
        h.size = real
    }

    /// pax 1.0 sparse: the map is decimal text in whole blocks at the start of the data.
    func readPax10Sparse(_ h: inout TarHeader, at: Int64) throws {
        var numbers: [Int64] = []
        var expected: Int? = nil
        var current: Int64 = 0
        var digits = 0
        var consumed: Int64 = 0
        while expected == nil || numbers.count < expected! {
            guard consumed + 512 <= limits.maxSparseMapSize else {
                throw TarError(.limitExceeded(limit: "sparse map size", value: consumed + 512,
                                              maximum: limits.maxSparseMapSize), offset: at, entry: h.path)
            }
            guard remaining >= 512 else {
                throw TarError(.invalidSparseMap(reason: "map runs past the entry's data"), offset: at, entry: h.path)
            }
            guard try readBlock() == HeaderBlock.size else { throw TarError(.truncated, offset: source.position) }
            remaining -= 512
            consumed += 512
            for byte in UnsafeRawBufferPointer(block) {
                if let e = expected, numbers.count >= e { break }
                if byte == 0x0A {
                    guard digits > 0 else {
                        throw TarError(.invalidSparseMap(reason: "empty number in map"), offset: at, entry: h.path)
                    }
                    numbers.append(current)
                    if numbers.count == 1 {
                        guard current <= Int64(limits.maxSparseSegments) else {
                            throw TarError(.limitExceeded(limit: "sparse segments", value: current,
                                                          maximum: Int64(limits.maxSparseSegments)),
                                           offset: at, entry: h.path)
                        }
                        expected = 1 + 2 * Int(current)
                    }
                    current = 0
                    digits = 0
                } else if byte >= 0x30, byte <= 0x39, digits < 18 {
                    current = current * 10 + Int64(byte - 0x30)
                    digits += 1
                } else {
                    throw TarError(.invalidSparseMap(reason: "map holds a byte that is not a digit"), offset: at,
                                   entry: h.path)
                }
            }
        }
        h.storedSize = remaining
        let segments: [SparseSegment]
        do { segments = try SparseMaps.pax10(numbers: numbers) } catch { throw TarError(error, offset: at, entry: h.path) }
        try setSparse(&h, encoding: .pax10, segments: segments, realSizeKey: "GNU.sparse.realsize", at: at)
        padding = (512 - (remaining + consumed) % 512) % 512
    }
}
