/// Patching raw header blocks of a built tar stream (the checksum is recomputed), for fixtures that break one
/// field the writer would never write.
public enum V2Patch {
    /// Applies `change` to the 512-byte header block at `offset` and fixes its checksum.
    public static func header(_ bytes: inout [UInt8], at offset: Int, _ change: (inout [UInt8]) -> Void) {
        var block = Array(bytes[offset..<(offset + 512)])
        change(&block)
        for i in 148..<156 { block[i] = 0x20 }
        var sum = block.reduce(0) { $0 + Int($1) }
        for i in stride(from: 153, through: 148, by: -1) {
            block[i] = 0x30 + UInt8(sum & 7)
            sum >>= 3
        }
        block[154] = 0
        block[155] = 0x20
        bytes.replaceSubrange(offset..<(offset + 512), with: block)
    }

    /// Writes `text` into a header field of `width` bytes at `offset`, NUL-filling the rest.
    public static func put(_ block: inout [UInt8], _ text: String, at offset: Int, width: Int) {
        let b = Array(text.utf8)
        for i in 0..<width { block[offset + i] = i < b.count ? b[i] : 0 }
    }
}

extension Array where Element == V2TestEntry {
    /// Inserts entries after the entry named `path`.
    public mutating func insert(_ entries: [V2TestEntry], after path: String) {
        let i = firstIndex { $0.header.path == path }!
        insert(contentsOf: entries, at: i + 1)
    }

    /// Removes the entries named `path`.
    public mutating func remove(_ path: String) { removeAll { $0.header.path == path } }

    /// Changes the entry named `path` (it must exist).
    public mutating func update(_ path: String, _ change: (inout V2TestEntry) -> Void) {
        let i = firstIndex { $0.header.path == path }!
        change(&self[i])
    }
}
