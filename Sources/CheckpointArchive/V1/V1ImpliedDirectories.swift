import ByteStreams

/// The directories of `rootfs/tree/` a v1 reader creates for missing parents, in creation order: what
/// `rootfs/implied.dirs` lists. A deep name implies depth times length bytes of parent paths, up to the 64 MiB of
/// a metadata file (table 2.9), so the paths go to a `RecordSpool` (1 MiB in memory, then an unlinked temporary
/// file) and the file is streamed from it. Whether a path is still implied when the list is made (no later entry
/// named it, no opaque whiteout kept it) is for the reader's tree to say: `keep`.
final class V1ImpliedDirectories {
    private let spool: RecordSpool
    /// Paths appended.
    private(set) var count = 0

    init(memoryLimit: Int = 1 << 20) { spool = RecordSpool(memoryLimit: memoryLimit) }

    /// Why the temporary file failed, if it did (the list is then incomplete).
    var ioError: String? { spool.ioError }

    /// Records the unpacked path (`rootfs/tree/etc`) of a directory just created.
    func append<C: Collection>(_ path: C) where C.Element == UInt8 {
        spool.append { $0.data(path) }
        count += 1
    }

    /// `rootfs/tree/etc` as the container sees it: `/etc`.
    private static func containerPath(_ path: [UInt8]) -> String {
        V1Path.string(Array(path.dropFirst(V1ReadSession.treeRoot.count)))
    }

    /// Calls `body` with each path `keep` accepts, as a container path (`/etc`), in creation order.
    func forEach(keep: ([UInt8]) -> Bool, _ body: (String) throws -> Void) rethrows {
        let reader = spool.makeReader()
        while var record = reader.next() {
            let path = record.data()
            if keep(path) { try body(Self.containerPath(path)) }
        }
    }

    /// `rootfs/implied.dirs` for the paths `keep` accepts, as `json.MarshalIndent` writes a string array
    /// (`V1JSON.goIndentedStringArray`), with its size; nil when there is none. The size is counted in a first
    /// pass and the text made in a second as it is read, so neither the list nor the file is held whole.
    func jsonFile(keep: @escaping ([UInt8]) -> Bool) -> (size: Int64, source: ByteSource)? {
        var size: Int64 = 0
        var items = 0
        forEach(keep: keep) { size += Int64(V1JSON.goQuoted($0).count); items += 1 }
        guard items > 0 else { return nil }
        // "[\n", then "  " + item for each, joined by ",\n", then "\n]".
        size += 2 + Int64(items) * 2 + Int64(items - 1) * 2 + 2
        let reader = spool.makeReader()
        var started = false
        var ended = false
        let source = ChunkedSource {
            while let next = reader.next() {
                var record = next
                let path = record.data()
                guard keep(path) else { continue }
                let quoted = V1JSON.goQuoted(Self.containerPath(path))
                defer { started = true }
                return (started ? [0x2C, 0x0A, 0x20, 0x20] : [0x5B, 0x0A, 0x20, 0x20]) + quoted
            }
            guard !ended else { return nil }
            ended = true
            return [0x0A, 0x5D]
        }
        return (size, source)
    }
}
