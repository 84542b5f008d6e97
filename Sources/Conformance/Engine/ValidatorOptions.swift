import Compression
import TarFormat

/// What `ckpt-validate` checks and how.
public struct ValidatorOptions: Sendable {
    /// Which rules to apply: decided from the archive (`auto`), or forced.
    public enum ProfileChoice: String, Sendable, CaseIterable {
        case auto, v2, podman, crio, containerd
    }

    public var profile: ProfileChoice = .auto
    /// Verify every v2 digest while streaming (`--no-digests` turns it off; structure is still checked). Off, no
    /// digest is computed at all: the index digest only when `expectedIndexDigest` asks for it.
    public var verifyDigests = true
    /// `sha256:<hex>` the index digest must equal (CKA-IDX-010).
    public var expectedIndexDigest: String?
    /// Limits of the tar reader (CKA-SEC-014/015).
    public var tarLimits = TarLimits.default
    /// The decompression budget (CKA-SEC-019); nil picks 1024 times the compressed size when known.
    public var decompressionLimits: DecompressionLimits?
    /// At most this many findings per requirement.
    public var maxDiagnosticsPerRule = 20
    /// Bytes of memory each table of names (duplicates, parents, hard-link targets) may use before it moves to a
    /// temporary file, so that memory stays bounded whatever the number of entries.
    public var nameTableMemory = 4 << 20
    /// Bytes of memory the records kept for the v2 index comparison (a record per section and per regular file)
    /// may use before they move to a temporary file.
    public var spoolMemory = 1 << 20
    /// Without digests, an uncompressed archive file of at least this many bytes is read ahead on a second thread
    /// (`TarReadAheadPlan`); nil never. A smaller file is read in a few reads, faster than a thread starts.
    public var readAheadFrom: Int64? = 1 << 20

    public init() {}
}
