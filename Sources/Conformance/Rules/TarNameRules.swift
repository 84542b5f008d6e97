import ByteStreams
import CheckpointArchive
import TarFormat

/// The tar-layer rules on names and links: duplicates and entries below a non-directory (CKA-TAR-037, 038, in
/// bounded memory through `names`) and link targets (CKA-TAR-039, 040).
extension TarLayerRules {
    /// CKA-TAR-037 (duplicates, CKA-SEC-024: by bytes) and CKA-TAR-038 (below an earlier non-directory).
    ///
    /// Each name and each proper prefix is one lookup in `names`; the prefixes the name shares with the previous
    /// entry's name were looked up for it and have not changed since, so in the usual depth-first order an
    /// entry costs one or two lookups.
    func checkNamePlacement(_ h: TarHeader, _ n: [UInt8]) {
        let isDirectory = h.type == .directory
        let isRegular = h.type == .regular || h.type == .regularLegacy
        // Proper prefixes end before a '/' at index i > 0; those before `shared` are the previous name's too.
        let shared = n.withUnsafeBytes { a in previousName.withUnsafeBytes { a.commonPrefixLength(with: $0) } }
        var bad = previousBadPrefix.flatMap { $0 < shared ? $0 : nil }
        let first = max(shared, 1)
        for i in first..<max(n.count, first) where n[i] == 0x2F {
            let flags = n.withUnsafeBytes { names.insert(NameTable.key(UnsafeRawBufferPointer(rebasing: $0[..<i])),
                                                         flags: Self.parent) } ?? 0
            if bad == nil, flags & Self.seen != 0, flags & Self.directory == 0 { bad = i }
        }
        let old = names.update(NameTable.key(n)) { old in
            (old ?? 0) | Self.seen | (isDirectory ? Self.directory : 0) | (isRegular ? Self.regular : 0)
        } ?? 0
        if old & Self.seen != 0 {
            report("CKA-TAR-037", "duplicate entry name", name: Self.name(h), at: h.headerOffset)
        }
        if let bad {
            report("CKA-TAR-038", "the earlier entry '\(TarNames.display(Array(n[..<bad])))' is not a directory",
                   name: Self.name(h), at: h.headerOffset)
        } else if !isDirectory, old & Self.parent != 0, old & Self.seen == 0 {
            report("CKA-TAR-038", "a non-directory named after a directory that earlier entries are inside", name: Self.name(h),
                   at: h.headerOffset)
        }
        previousName = n
        previousBadPrefix = bad
    }

    /// CKA-TAR-039 (symlink targets) and CKA-TAR-040 (hard-link targets).
    func checkLinkTarget(_ h: TarHeader) {
        if h.type == .symbolicLink {
            if h.linkBytes.isEmpty {
                report("CKA-TAR-039", "a symbolic link with an empty target", name: Self.name(h), at: h.headerOffset)
            } else if format == .v2, h.linkBytes.count > 4096 {
                report("CKA-TAR-039", "a symbolic link target of \(h.linkBytes.count) bytes (more than 4096)", name: Self.name(h),
                       at: h.headerOffset)
            }
        }
        if h.type == .hardLink {
            let target = TarNames.normalise(h.linkBytes, v1: v1)
            guard case let .name(t) = target, TarNames.problem(t) == nil,
                  (names[NameTable.key(t)] ?? 0) & Self.regular != 0 else {
                report("CKA-TAR-040", "hard link target '\(TarNames.display(h.linkBytes))' is not an earlier regular file "
                       + "of the same tar stream", name: Self.name(h), at: h.headerOffset)
                return
            }
        }
    }
}
