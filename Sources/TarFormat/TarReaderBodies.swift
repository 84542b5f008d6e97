#if canImport(Glibc)
import Glibc
#endif

/// What a `TarReader` reads between header blocks: the rest of an entry's data and its padding, and the bodies of
/// extended headers.
extension TarReader {
    /// Skips what is left of the current entry's data, and its padding: read and shown to a validating observer,
    /// skipped otherwise.
    func skipRest() throws {
        if let observer = currentObserver, padding > 0 {
            // A validator wants to see the padding: skip the data, then read the padding itself.
            let data = remaining
            if data > 0, try source.skip(data) < data {
                throw TarError(.truncated, offset: source.position, entry: currentName)
            }
            remaining = 0
            let count = Int(padding)
            padding = 0
            try readPadding(count, showing: observer, namingEntry: true)
            return
        }
        let total = remaining + padding
        guard total > 0 else { return }
        let skipped = try source.skip(total)
        remaining = 0
        padding = 0
        if skipped < total { throw TarError(.truncated, offset: source.position, entry: currentName) }
    }

    /// Reads `count` bytes of padding for a validating observer and shows it the first non-zero one, if any. Padding
    /// is shorter than a block and usually at hand in one piece: it is looked at where the source holds it, not
    /// copied. A stream that ends inside it is truncated (naming the current entry when `namingEntry`).
    private func readPadding(_ count: Int, showing observer: TarReaderObserver, namingEntry: Bool) throws {
        var at = source.position
        var left = count
        var reported = false
        while left > 0 {
            let bytes = try source.read(upTo: left)
            if bytes.isEmpty {
                throw TarError(.truncated, offset: source.position, entry: namingEntry ? currentName : nil)
            }
            if !reported, !HeaderBlock.isZero(bytes), let i = bytes.firstIndex(where: { $0 != 0 }) {
                observer.tarReader(self, sawNonZeroPaddingAt: at + Int64(i))
                reported = true
            }
            at += Int64(bytes.count)
            left -= bytes.count
        }
    }

    /// Reads the body of an extended header (pax, GNU long name) after checking its size against `limit`.
    func readExtended(size: Int64, limit: Int64, what: String, at: Int64) throws -> [UInt8] {
        guard size <= limit else {
            throw TarError(.limitExceeded(limit: what, value: size, maximum: limit), offset: at)
        }
        // Into the storage of the previous body, which is free again once its observers have let it go.
        extendedBody.removeAll(keepingCapacity: true)
        var left = Int(size)
        while left > 0 {
            let chunk = try source.read(upTo: left)
            if chunk.isEmpty { throw TarError(.truncated, offset: source.position) }
            extendedBody.append(contentsOf: chunk)
            left -= chunk.count
        }
        let body = extendedBody
        let pad = (512 - size % 512) % 512
        if let observer = currentObserver {
            try readPadding(Int(pad), showing: observer, namingEntry: false)
        } else {
            guard try source.skip(pad) == pad else { throw TarError(.truncated, offset: source.position) }
        }
        if let headerScreen { screenedBody = body.withUnsafeBytes { headerScreen.bodyPassed($0, at: at) } }
        currentObserver?.tarReader(self, readExtendedHeaderBody: body, at: at)
        return body
    }

    /// The body of a GNU long name or link entry, its trailing NULs dropped.
    func readLongName(size: Int64, at: Int64) throws -> [UInt8] {
        // The header may hold at most maxNameLength bytes, its terminating NUL included (CKA-TAR-028).
        var body = try readExtended(size: size, limit: Int64(limits.maxNameLength), what: "name length", at: at)
        if let nul = body.firstIndex(of: 0) { body.removeSubrange(nul...) }
        return body
    }
}
