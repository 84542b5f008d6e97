import TarFormat

/// One entry of a hand-built v1 archive: its header and data, or, for a nested tar (`rootfs-diff.tar`,
/// `devshm-checkpoint.tar`, `volumes/<name>.tar`), the entries the tar holds, so that the expected unpacked
/// directory can be derived from the description (`ExpectedTree.v1`) rather than from the bytes.
public struct V1TestEntry: Sendable {
    /// The entry's header, pax records included (the writer sets `size` from the data).
    public var header: TarHeader
    /// The content of a regular file that is not a nested tar.
    public var data: [UInt8]
    /// The entries of the nested tar this regular file holds; its data is built from them.
    public var nested: V1NestedTar?

    public init(header: TarHeader, data: [UInt8] = [], nested: V1NestedTar? = nil) {
        self.header = header
        self.data = data
        self.nested = nested
    }

    /// A regular file holding `text` (UTF-8); mode 0600 as the engines' `metadata.WriteJSONFile` writes.
    public static func file(_ path: String, _ text: String, mode: Int64 = 0o600) -> V1TestEntry {
        bytes(path, Array(text.utf8), mode: mode)
    }

    /// A regular file holding `data`.
    public static func bytes(_ path: String, _ data: [UInt8], mode: Int64 = 0o600) -> V1TestEntry {
        V1TestEntry(header: TarHeader(path: path, type: .regular, size: Int64(data.count), mode: mode), data: data)
    }

    /// A directory; the writer appends the `/`.
    public static func dir(_ path: String, mode: Int64 = 0o755) -> V1TestEntry {
        V1TestEntry(header: TarHeader(path: path, type: .directory, mode: mode))
    }

    /// A symbolic link (mode 0777), or with `type: .hardLink` a hard link (mode 0644), to `target`.
    public static func link(_ path: String, to target: String, type: TarEntryType = .symbolicLink) -> V1TestEntry {
        var h = TarHeader(path: path, type: type, mode: type == .symbolicLink ? 0o777 : 0o644)
        h.linkName = target
        return V1TestEntry(header: h)
    }

    /// A header-only entry of `type` (FIFO, device).
    public static func special(_ path: String, _ type: TarEntryType, mode: Int64 = 0o644) -> V1TestEntry {
        V1TestEntry(header: TarHeader(path: path, type: type, mode: mode))
    }

    /// A regular file holding a nested tar of `entries`; `gzip` makes it a gzip-compressed OCI layer
    /// (containerd's `rootfs-diff.tar`). Mode 0644: the engines create nested tars with `os.Create`.
    public static func nested(_ path: String, _ entries: [V1TestEntry], gzip: Bool = false,
                              mode: Int64 = 0o644) -> V1TestEntry {
        V1TestEntry(header: TarHeader(path: path, type: .regular, mode: mode),
                    nested: V1NestedTar(entries: entries, gzip: gzip))
    }

    /// The entry with its header changed.
    public func with(_ change: (inout TarHeader) -> Void) -> V1TestEntry {
        var e = self
        change(&e.header)
        return e
    }

    /// The entry owned by `uid`:`gid`.
    public func owned(_ uid: Int64, _ gid: Int64) -> V1TestEntry {
        with {
            $0.uid = uid
            $0.gid = gid
        }
    }

    /// The data written for the entry: the nested tar built from `nested`, or `data`.
    public func content() throws -> [UInt8] {
        guard let nested else { return data }
        return try nested.bytes()
    }
}

/// The content of a nested tar of a v1 archive.
public struct V1NestedTar: Sendable {
    /// The entries, in order.
    public var entries: [V1TestEntry]
    /// A gzip-compressed OCI layer (written with stored blocks, `StoredGzip`, so the bytes never depend on zlib).
    public var gzip: Bool

    public init(entries: [V1TestEntry], gzip: Bool = false) {
        self.entries = entries
        self.gzip = gzip
    }

    /// The nested tar's bytes (compressed when `gzip`).
    public func bytes() throws -> [UInt8] {
        let tar = try V1TestArchive.tar(entries)
        return gzip ? StoredGzip.encode(tar) : tar
    }
}

extension Array where Element == V1TestEntry {
    /// Inserts entries after the entry named `path` (it must exist).
    public mutating func insert(_ entries: [V1TestEntry], after path: String) {
        let i = firstIndex { $0.header.path == path }!
        insert(contentsOf: entries, at: i + 1)
    }

    /// Inserts entries before the entry named `path` (it must exist).
    public mutating func insert(_ entries: [V1TestEntry], before path: String) {
        let i = firstIndex { $0.header.path == path }!
        insert(contentsOf: entries, at: i)
    }

    /// Removes the entries named `path`, and with `subtree` every entry whose name starts with it.
    public mutating func remove(_ path: String, subtree: Bool = false) {
        removeAll { $0.header.path == path || (subtree && $0.header.path.hasPrefix(path)) }
    }

    /// Changes the entry named `path` (it must exist).
    public mutating func update(_ path: String, _ change: (inout V1TestEntry) -> Void) {
        let i = firstIndex { $0.header.path == path }!
        change(&self[i])
    }

    /// Changes the nested tar of the entry named `path` (it must be one).
    public mutating func updateNested(_ path: String, _ change: (inout [V1TestEntry]) -> Void) {
        update(path) { change(&$0.nested!.entries) }
    }
}
