import ByteStreams
import FoundationEssentials

/// The few members `ckpt inspect` reports from `metadata/config.dump` and `metadata/spec.dump`, picked while the
/// file streams (`V2JSONCursor`), so that a metadata file of any size (table 2.9 allows 64 MiB) is inspected in
/// fixed memory. The values are those `JSONSerialization` would give for the first `limit` bytes: nothing
/// unless they are one JSON object; a member repeated counts as its last occurrence; a string member only when
/// its value is a string; the annotations only when every annotation value is a string; nothing when a byte
/// is not valid UTF-8. One departure: a single string or number longer than 4 MiB (`V2JSONInput.maxToken`)
/// also gives nothing, where `JSONSerialization` would have read it.
enum InspectedMetadata {
    /// The string values of the top-level members `wanted`; nil when the text is not a JSON object.
    static func strings(_ data: ByteSource, limit: Int, wanted: Set<String>) throws -> [String: String]? {
        var found: [String: String] = [:]
        let parsed = try walk(data, limit: limit) { c, key in
            guard wanted.contains(key) else { return }
            found[key] = try c.stringValue()
        }
        return parsed ? found : nil
    }

    /// The `wanted` members of the top-level `annotations` object when it maps every key to a string; nil
    /// otherwise, or when the text is not a JSON object.
    static func annotations(_ data: ByteSource, limit: Int, wanted: Set<String>,
                            budget: MemoryBudget) throws -> [String: String]? {
        var found: [String: String]?
        let parsed = try walk(data, limit: limit) { c, key in
            guard key == "annotations" else { return }
            found = nil
            guard try c.peek() == .object else { return }
            // Keys whose last value is not a string (by the NFC bytes, as a dictionary compares keys).
            let nonString = budget.makeNameTable()
            var nonStrings = 0
            var values: [String: String] = [:]
            try c.object { c, name in
                let k = V2MetadataFile.key(name)
                let isString = try c.peek() == .string
                let value = try c.stringValue()
                let old = nonString.update(k) { _ in isString ? 2 : 1 }
                if old == 1, isString { nonStrings -= 1 }
                if old != 1, !isString { nonStrings += 1 }
                if wanted.contains(name) { values[name] = value }
            }
            if nonStrings == 0, nonString.ioError == nil { found = values }
        }
        return parsed ? found : nil
    }

    /// Walks the first `limit` bytes of `data` as one JSON object, calling `member` with each top-level member
    /// (which may read its value); false when they are not one JSON object. Every string is checked as UTF-8,
    /// skipped ones too, and no other token may hold a byte above 0x7F.
    private static func walk(_ data: ByteSource, limit: Int,
                             member: (inout V2JSONCursor, String) throws -> Void) throws -> Bool {
        var left = limit
        let input = V2JSONInput {
            guard left > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
            let chunk = try data.read(upTo: min(left, 256 << 10))
            left -= chunk.count
            return chunk
        }
        do {
            var cursor = V2JSONCursor(input, maxDepth: 512)
            guard try cursor.object(member), try !cursor.hasMore() else { return false }
            return true
        } catch is V2JSONFailure {
            return false
        }
    }
}
