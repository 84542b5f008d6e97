/// What kinds of entries a section may hold and which attributes extraction restores (table 5.4, part 6).
public struct EntryPolicy: Sendable, Equatable {
    /// Where symbolic links are allowed.
    public enum Symlinks: Sendable, Equatable {
        /// None at all.
        case none
        /// Any target, absolute or with `..`: stored and restored unchanged, never followed (rootfs, devshm, volumes).
        case anyTarget
        /// Only relative targets that stay inside the section directory (artifacts).
        case relativeInside
        /// Only `checkpoint/parent -> ../pre-checkpoint` (CKA-V2-026).
        case checkpointParent
    }

    public var symlinks: Symlinks
    /// Hard links to earlier entries of the same section.
    public var hardLinks: Bool
    /// Character and block devices and FIFOs.
    public var specialFiles: Bool
    /// Sub-directories (besides the marker).
    public var directories: Bool
    /// setuid, setgid and sticky bits.
    public var specialModeBits: Bool
    /// `SCHILY.xattr.*` records.
    public var xattrs: Bool
    /// Numeric ownership is part of the content (rootfs, devshm, volumes) rather than forced to 0.
    public var ownership: Bool

    public init(symlinks: Symlinks, hardLinks: Bool, specialFiles: Bool, directories: Bool, specialModeBits: Bool,
                xattrs: Bool, ownership: Bool) {
        self.symlinks = symlinks
        self.hardLinks = hardLinks
        self.specialFiles = specialFiles
        self.directories = directories
        self.specialModeBits = specialModeBits
        self.xattrs = xattrs
        self.ownership = ownership
    }

    /// A container file system (rootfs tree, /dev/shm, a volume): everything is allowed and restored.
    public static let fileSystem = EntryPolicy(symlinks: .anyTarget, hardLinks: true, specialFiles: true,
                                               directories: true, specialModeBits: true, xattrs: true,
                                               ownership: true)
    /// Plain files only (metadata, logs, the header and the index).
    public static let plainFiles = EntryPolicy(symlinks: .none, hardLinks: false, specialFiles: false,
                                               directories: false, specialModeBits: false, xattrs: false,
                                               ownership: false)

    /// Table 5.4 for a section kind.
    public static func forSection(_ kind: SectionKind) -> EntryPolicy {
        switch kind {
        case .rootfs, .devshm, .volume: return .fileSystem
        case .metadata, .logs: return .plainFiles
        case .checkpoint, .preCheckpoint:
            var p = EntryPolicy.plainFiles
            p.directories = true
            p.symlinks = .checkpointParent
            return p
        case .artifacts:
            var p = EntryPolicy.plainFiles
            p.directories = true
            p.symlinks = .relativeInside
            return p
        case .ext:
            var p = EntryPolicy.plainFiles
            p.directories = true
            return p
        }
    }
}
