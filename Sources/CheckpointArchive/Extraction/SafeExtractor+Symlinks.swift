import TarFormat

/// The symbolic links each section allows (table 5.4).
extension SafeExtractor {
    /// Table 5.4 for symbolic links (CKA-V2-040), and a non-empty target without NUL (CKA-TAR-039, CKA-TAR-029).
    func checkSymlink(_ header: TarHeader, name: ExtractionName, section: Section, entry: String,
                      offset: Int64?) throws {
        let target = header.linkBytes
        if target.isEmpty {
            throw CheckpointError("CKA-TAR-039", "empty symbolic link target", entry: entry, offset: offset)
        }
        if target.contains(0) {
            throw CheckpointError("CKA-TAR-029", "symbolic link target contains a NUL byte", entry: entry,
                                  offset: offset)
        }
        switch section.policy.symlinks {
        case .anyTarget:
            return
        case .none:
            throw CheckpointError("CKA-V2-040", "symbolic links are not allowed in the \(section.kind.rawValue) section",
                                  entry: entry, offset: offset)
        case .checkpointParent:
            // Table 5.4 and CKA-V2-026: `checkpoint/parent -> ../pre-checkpoint` only (none in pre-checkpoint).
            guard name.components == [Array("checkpoint".utf8), Array("parent".utf8)],
                  target == Array("../pre-checkpoint".utf8) else {
                throw CheckpointError("CKA-V2-040", "the only symbolic link allowed here is 'checkpoint/parent' -> '../pre-checkpoint'",
                                      entry: entry, offset: offset)
            }
        case .relativeInside:
            // Resolve lexically from the link's directory; the result must stay inside the section directory.
            let sectionDir = ExtractionName.sectionComponents(section)
            guard target.first != 0x2F else {
                throw CheckpointError("CKA-V2-040", "absolute symbolic link target in the \(section.kind.rawValue) section",
                                      entry: entry, offset: offset)
            }
            var resolved = Array(name.components.dropLast())
            for part in target.split(separator: 0x2F) {
                if part.elementsEqual([0x2E]) { continue }
                if part.elementsEqual([0x2E, 0x2E]) {
                    guard resolved.count > sectionDir.count else {
                        throw CheckpointError("CKA-V2-040", "symbolic link target leaves '\(section.directory)'",
                                              entry: entry, offset: offset)
                    }
                    resolved.removeLast()
                } else {
                    resolved.append(Array(part))
                }
            }
        }
    }
}
