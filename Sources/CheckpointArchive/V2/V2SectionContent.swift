import TarFormat

/// What the v2 decoder requires of the content of the known sections (5.3), tracked while the section streams
/// by: the metadata section's `config.dump` and `spec.dump` (CKA-V2-023), the checkpoint section's
/// `inventory.img` (CKA-V2-025), the fixed prefix of the rootfs section (CKA-V2-027) with its deletion list a
/// regular file (CKA-V2-028), and the container paths of `metadata/bind.mounts` (CKA-SEC-010).
///
/// The content formats of the metadata files (CKA-V2-024) bind encoders and validators only; a decoder reads
/// `bind.mounts` for the destinations alone, which a runtime would mount onto.
struct V2SectionContent {
    /// The known section being read; nil before the first marker and inside a skipped (unknown) section.
    private var section: Section?
    private var markerPath = ""
    private var markerOffset: Int64 = 0
    /// Regular files seen in the section, relative to its directory.
    private var files = Set<String>()
    /// rootfs: 0 after the marker, 1 after `deleted.files`, 2 after `implied.dirs`, 3 from `rootfs/tree/` on.
    private var rootfsPhase = 0

    static let treePrefix = "rootfs/tree/"

    /// Starts tracking the section a marker opens (nil for an unknown section the decoder skips).
    mutating func begin(_ section: Section?, marker h: TarHeader) {
        self.section = section
        markerPath = h.path
        markerOffset = h.headerOffset
        files = []
        rootfsPhase = 0
    }

    /// One entry of the current section after its marker.
    mutating func entry(_ h: TarHeader) throws {
        guard let section else { return }
        let relative = String(h.path.dropFirst(section.directory.count))
        switch section.kind {
        case .metadata, .checkpoint:
            if h.type.isRegularFile { files.insert(relative) }
        case .rootfs:
            try rootfsEntry(h)
        default:
            break
        }
    }

    /// At the end of the current section (the next marker or the index entry).
    func end() throws {
        guard let section else { return }
        switch section.kind {
        case .metadata:
            for f in ["config.dump", "spec.dump"] where !files.contains(f) {
                throw CheckpointError("CKA-V2-023", "the metadata section has no regular file metadata/\(f)",
                                      entry: markerPath, offset: markerOffset)
            }
        case .checkpoint where !files.contains("inventory.img"):
            throw CheckpointError("CKA-V2-025", "the checkpoint section has no regular file checkpoint/inventory.img",
                                  entry: markerPath, offset: markerOffset)
        case .rootfs where rootfsPhase < 3:
            throw CheckpointError("CKA-V2-027", "the rootfs section has no directory rootfs/tree/", entry: markerPath,
                                  offset: markerOffset)
        default:
            break
        }
    }

    /// CKA-V2-027, 028 and 029 (types): marker, `deleted.files`, `implied.dirs`, `tree/`, in this order and once
    /// each, then the entries below `rootfs/tree/`; no other names.
    private mutating func rootfsEntry(_ h: TarHeader) throws {
        func refuse(_ id: String, _ why: String) -> CheckpointError {
            CheckpointError(id, why, entry: h.path, offset: h.headerOffset)
        }
        if h.path.utf8.count > Self.treePrefix.utf8.count, h.path.hasPrefix(Self.treePrefix) {
            guard rootfsPhase == 3 else { throw refuse("CKA-V2-027", "an entry below rootfs/tree/ before the directory rootfs/tree/") }
            return
        }
        var name = h.path
        if name.hasSuffix("/") { name.removeLast() }
        let phase: Int
        switch name {
        case "rootfs/deleted.files", "rootfs/implied.dirs":
            let deleted = name == "rootfs/deleted.files"
            guard h.type.isRegularFile else {
                throw refuse(deleted ? "CKA-V2-028" : "CKA-V2-029", "\(name) must be a regular file")
            }
            phase = deleted ? 1 : 2
        case "rootfs/tree":
            guard h.type == .directory else { throw refuse("CKA-V2-027", "rootfs/tree/ must be a directory") }
            phase = 3
        default:
            throw refuse("CKA-V2-027", "the rootfs section holds only deleted.files, implied.dirs and tree/")
        }
        guard rootfsPhase < phase else {
            throw refuse("CKA-V2-027", "\(name) out of order (marker, deleted.files, implied.dirs, tree/, then the tree)")
        }
        rootfsPhase = phase
    }

    /// CKA-SEC-010 for `metadata/bind.mounts`: every destination a valid container path. Elements that are not
    /// objects with a string `destination`, and text that is not a JSON array, break CKA-V2-024 only.
    static func checkBindMounts(_ bytes: [UInt8], entry: String, offset: Int64) throws {
        guard case let .array(items)? = try? V1JSON.parse(bytes) else { return }
        for (i, item) in items.enumerated() {
            guard let destination = item["destination"]?.stringValue, let why = ContainerPath.problem(destination) else {
                continue
            }
            throw CheckpointError("CKA-SEC-010", "bind.mounts[\(i)].destination \(ContainerPath.quoted(destination)) \(why)",
                                  entry: entry, offset: offset)
        }
    }
}
