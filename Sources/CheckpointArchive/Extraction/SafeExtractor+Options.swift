#if canImport(Glibc)
import Glibc
#endif

/// The options and statistics of a `SafeExtractor`.
extension SafeExtractor {
    /// What the extractor may restore.
    public struct Options: Sendable, Equatable {
        /// Set numeric ownership in rootfs, devshm and volume sections (needs privilege); otherwise every
        /// object belongs to the extracting user (CKA-SEC-007).
        public var restoreOwnership: Bool
        /// Create character and block devices in rootfs, devshm and volume sections (CKA-SEC-009: only when
        /// the destination is a container root file system, /dev/shm or a volume). FIFOs need no privilege
        /// and are created in those sections whatever this says.
        public var allowDeviceNodes: Bool
        /// Share or copy file contents in the kernel when the decoder offers a `ReflinkSource` (CKA-ALN-006).
        public var useReflink: Bool
        /// Apply `security.selinux` (CKA-SEC-008: only when the engine relabels afterwards anyway).
        public var applySELinuxLabels: Bool
        /// Fail when an xattr cannot be set; otherwise it is skipped and listed in `warnings`
        /// (unprivileged `security.*`, `user.*` on a symbolic link, file systems without xattrs).
        public var strictXattrs: Bool
        /// `fsync` files and directories before the final rename.
        public var fsync: Bool
        /// Permission bits of the destination directory itself (the staging directory is created 0700).
        public var rootMode: UInt32
        /// Memory for the per-entry bookkeeping (names, hard-link targets, directories waiting for their
        /// metadata, and the v2 decoder's records) before it moves to temporary files.
        public var memory: MemoryBudget

        public init(restoreOwnership: Bool = false, allowDeviceNodes: Bool = false, useReflink: Bool = true,
                    applySELinuxLabels: Bool = false, strictXattrs: Bool = false, fsync: Bool = false,
                    rootMode: UInt32 = 0o700, memory: MemoryBudget = MemoryBudget()) {
            self.restoreOwnership = restoreOwnership
            self.allowDeviceNodes = allowDeviceNodes
            self.useReflink = useReflink
            self.applySELinuxLabels = applySELinuxLabels
            self.strictXattrs = strictXattrs
            self.fsync = fsync
            self.rootMode = rootMode
            self.memory = memory
        }

        /// Ownership restored when running as root; device nodes stay refused (an unpacked directory is not a
        /// container root file system, CKA-SEC-009).
        public static var forCurrentUser: Options { Options(restoreOwnership: geteuid() == 0) }
    }

    /// What the extraction did.
    public struct Statistics: Sendable, Equatable {
        public var files = 0
        public var directories = 0
        public var symlinks = 0
        public var hardLinks = 0
        public var specialFiles = 0
        /// Bytes written from the entries' data.
        public var bytesWritten: Int64 = 0
        /// Bytes shared with `FICLONERANGE`.
        public var bytesCloned: Int64 = 0
        /// Bytes copied with `copy_file_range`.
        public var bytesCopiedInKernel: Int64 = 0
        public init() {}
    }
}
