import Compression
import TarFormat

/// Options of `V1Reader`.
public struct V1ReaderOptions: Sendable {
    /// Limits of the outer and of every nested tar reader.
    public var limits: TarLimits = .default
    /// Largest JSON metadata file (`config.dump`, `spec.dump`, `deleted.files`, ...) held in memory; table 2.9
    /// requires at least 64 MiB to be accepted. A larger one is refused as a resource limit (CKA-TAR-043).
    public var maxMetadataFileSize: Int64 = 64 << 20
    /// Limits of the outer decompressor, used by `read(archive:into:)`.
    public var decompressionLimits: DecompressionLimits = .default
    /// Decompression budget of containerd's gzip `rootfs-diff.tar`, as a ratio of its compressed size
    /// (CKA-SEC-019's default is 1024).
    public var nestedExpansionRatio: Int64 = 1024
    /// Keep the names the reader tracks (duplicates, parents, hard-link targets) in a table of this many bytes
    /// that moves to a temporary file beyond it, instead of in memory without bound (validators).
    public var nameTableMemory: Int?
    /// A descriptor of the archive file, when the decompressed source reads that (uncompressed) file from
    /// offset 0: regular files of the outer stream and of plain nested tars are then delivered with a
    /// `ReflinkSource` for cloning.
    public var reflinkDescriptor: Int32?

    public init() {}
}

/// Where the deletion list of an archive came from.
public enum V1DeletionSource: String, Sendable, Equatable {
    /// The archive has no deletions.
    case none
    /// Podman's and CRI-O's `deleted.files`, delivered byte for byte as `rootfs/deleted.files`.
    case deletedFiles = "deleted.files"
    /// containerd's whiteouts in the gzip layer (CKA-CNV-009), delivered as `json.MarshalIndent` JSON.
    case whiteouts
}

/// What `V1Reader` found in an archive.
public struct V1ReadSummary: Sendable {
    /// The profile of CKA-V1-019.
    public var profile: CheckpointProfile
    /// The detection with its evidence and CKA-V1-020 contradictions.
    public var detection: V1ProfileDetection
    /// The signals detection used.
    public var signals: V1ProfileSignals
    /// The compression of the outer stream (as given by the caller or detected by `read(archive:into:)`).
    public var compression: CompressionFormat
    /// The sections delivered to the sink, in the order of CKA-V2-015 (what `cka-header.json` lists).
    public var sections: [Section]
    /// The implied directories of the rootfs tree as container paths (`/etc`), in the order they were
    /// created: the content of `rootfs/implied.dirs`. Only the first MiB of paths (the file may hold 64 MiB);
    /// `impliedDirectoryCount` counts them all.
    public var impliedDirectories: [String]
    /// How many implied directories there are.
    public var impliedDirectoryCount: Int
    /// Unpacked paths of directories the reader created outside the rootfs tree because the archive named
    /// entries inside them without naming them (mode 0755, uid 0, gid 0, mtime 0; not recorded anywhere). Only
    /// the first MiB of paths; `synthesizedDirectoryCount` counts them all.
    public var synthesizedDirectories: [String]
    /// How many such directories there are.
    public var synthesizedDirectoryCount: Int
    /// The deletion list as container paths.
    public var deletedFiles: [String]
    /// Where the deletion list came from.
    public var deletionSource: V1DeletionSource
    /// Problems that do not stop decoding: CKA-V1-005 unknown names, CKA-V1-020 contradictions, and so on.
    public var warnings: [CheckpointError]
    /// Breaches of error-severity decoder rules found only once the whole stream was read (a missing
    /// `checkpoint/inventory.img`, CKA-V1-003). The reader finishes so a validator can report everything;
    /// a decoder must refuse the archive when this is not empty (CKA-GEN-006).
    public var refusals: [CheckpointError] = []
    /// Number of entries of the outer stream (the `./` root entry not counted).
    public var entryCount: Int
    /// How the outer tar stream ended.
    public var end: TarEnd
    /// A failure of the temporary file of the name table (`V1ReaderOptions.nameTableMemory`): the checks that
    /// need earlier names are then incomplete.
    public var temporaryFileError: String?
}
