/// How much memory the per-entry bookkeeping of a decode or an extraction may take before it moves to
/// unlinked temporary files, so that peak memory does not grow with the number of entries (issues 4 and 7).
///
/// The defaults keep a decode of any archive well under 64 MiB; tests force tiny budgets to run the on-disk
/// paths, which must give exactly the results of the in-memory ones.
public struct MemoryBudget: Sendable, Equatable {
    /// Bytes of records each `RecordSpool` keeps in memory (the decoder's section and file records, late
    /// digests, directories whose metadata waits for the commit).
    public var spoolBytes: Int
    /// Bytes of fingerprints each `NameTable` keeps in memory (names already extracted, hard-link targets).
    public var nameTableBytes: Int
    /// Files per batch of digests computed on worker threads (`WrittenFileDigests`); the digests of two
    /// batches at most are held in memory.
    public var digestBatchFiles: Int
    /// Where the temporary files go; nil for `$TMPDIR`, else `/tmp`.
    public var temporaryDirectory: String?

    /// - Parameters:
    ///   - spoolBytes: per spool (1 MiB by default).
    ///   - nameTableBytes: per name table (8 MiB by default; at least 16 KiB are used).
    ///   - digestBatchFiles: files per batch of worker-thread digests (4096 by default).
    ///   - temporaryDirectory: nil for `$TMPDIR` or `/tmp`.
    public init(spoolBytes: Int = 1 << 20, nameTableBytes: Int = 8 << 20, digestBatchFiles: Int = 4096,
                temporaryDirectory: String? = nil) {
        self.spoolBytes = spoolBytes
        self.nameTableBytes = nameTableBytes
        self.digestBatchFiles = digestBatchFiles
        self.temporaryDirectory = temporaryDirectory
    }

    /// The smallest budget: every record goes to a temporary file at once, name tables move to theirs at a
    /// few hundred names, digests are handed over file by file. For tests of the on-disk paths.
    public static let tiny = MemoryBudget(spoolBytes: 0, nameTableBytes: 0, digestBatchFiles: 1)

    /// A spool with this budget.
    public func makeSpool() -> RecordSpool {
        RecordSpool(memoryLimit: spoolBytes, temporaryDirectory: temporaryDirectory)
    }

    /// A name table with this budget.
    public func makeNameTable() -> NameTable {
        NameTable(memoryLimit: nameTableBytes, temporaryDirectory: temporaryDirectory)
    }
}
