import ByteStreams
import TarFormat

/// Where the bytes of a regular file can be shared from, when the archive is an uncompressed regular file:
/// the extractor may then clone (`FICLONERANGE`) or `copy_file_range` them instead of copying (CKA-ALN-006).
public struct ReflinkSource: Sendable, Equatable {
    /// An open descriptor of the archive file.
    public var descriptor: Int32
    /// Offset of the entry's data in the archive file.
    public var offset: Int64
    /// Told when the sink has written the file, so the decoder can hash what is on disk.
    public var observer: WrittenFileObserver?

    public init(descriptor: Int32, offset: Int64, observer: WrittenFileObserver? = nil) {
        self.descriptor = descriptor
        self.offset = offset
        self.observer = observer
    }

    public static func == (a: ReflinkSource, b: ReflinkSource) -> Bool {
        a.descriptor == b.descriptor && a.offset == b.offset && a.observer === b.observer
    }
}

/// Told about a regular file a sink has just written from a `ReflinkSource`, with a descriptor that reads the
/// file back. The kernel copied (or shared) the content without it passing through the decoder, so the
/// decoder verifies the file's digest on what is on disk, on worker threads, instead of on the stream.
public protocol WrittenFileObserver: AnyObject, Sendable {
    /// `descriptor` is valid only during the call; an observer that keeps it duplicates it.
    func fileWritten(descriptor: Int32, size: Int64)
}

/// Receives the entries of a checkpoint, in archive order, already named as paths of the unpacked directory
/// (part 9 of the specification): `metadata/config.dump`, `checkpoint/inventory.img`,
/// `rootfs/tree/etc/motd`, `volumes/data/...`. Decoders of every format (v2, and each v1 profile after
/// mapping) drive a sink; the safe extractor is one, validators and converters are others.
public protocol UnpackedEntrySink: AnyObject {
    /// Adds one entry.
    /// - Parameters:
    ///   - header: the entry; `path` (and `linkName` for hard links) are unpacked-directory paths, directories
    ///     end in `/`. For regular files `size` bytes follow in `data`.
    ///   - section: the section the entry belongs to; its `policy` says what may be created.
    ///   - data: the entry's content (empty for non-regular entries); the sink must read or skip it all.
    ///   - reflink: where the content can be shared from, when the archive allows it.
    func add(_ header: TarHeader, section: Section, data: ByteSource, reflink: ReflinkSource?) throws
}
