import ByteStreams
import CSysShims
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// Ownership, mode bits, times and xattrs of extracted objects.
extension ExtractionTree {
    /// The attributes an entry gets in a section: special mode bits cleared unless the policy keeps them
    /// (CKA-SEC-007), ownership only when asked and the policy restores it, xattrs filtered (CKA-SEC-008).
    func attributes(_ header: TarHeader, policy: EntryPolicy, entry: String) throws -> ObjectAttributes {
        var mode = UInt32(truncatingIfNeeded: header.mode) & 0o7777
        if !policy.specialModeBits, mode & 0o7000 != 0 {
            warnings.append(CheckpointError("CKA-SEC-007",
                                            "setuid, setgid and sticky bits cleared (mode \(String(mode, radix: 8)))",
                                            entry: entry, offset: header.headerOffset))
            mode &= 0o777
        }
        var owner: (uid: UInt32, gid: UInt32)?
        if options.restoreOwnership, policy.ownership {
            guard (0..<Int64(UInt32.max)).contains(header.uid), (0..<Int64(UInt32.max)).contains(header.gid) else {
                throw CheckpointError("CKA-TAR-019", "uid \(header.uid) or gid \(header.gid) out of range",
                                      entry: entry, offset: header.headerOffset)
            }
            owner = (UInt32(header.uid), UInt32(header.gid))
        }
        var xattrs: [TarXattr] = []
        if policy.xattrs {
            for x in header.xattrs {
                if x.name.hasPrefix("trusted.") {
                    warnings.append(CheckpointError("CKA-SEC-008", "xattr '\(x.name)' not applied",
                                                    entry: entry, offset: header.headerOffset))
                } else if x.name == "security.selinux", !options.applySELinuxLabels {
                    warnings.append(CheckpointError("CKA-SEC-008", "xattr 'security.selinux' not applied",
                                                    entry: entry, offset: header.headerOffset))
                } else if x.name.isEmpty || x.name.utf8.contains(0) {
                    warnings.append(CheckpointError("CKA-SEC-008", "xattr with an invalid name not applied",
                                                    entry: entry, offset: header.headerOffset))
                } else {
                    xattrs.append(x)
                }
            }
        }
        return ObjectAttributes(mode: mode, owner: owner, xattrs: xattrs, mtime: header.mtime, atime: header.atime)
    }

    func timespecs(_ a: ObjectAttributes) -> [timespec] {
        let m = timespec(tv_sec: Int(a.mtime.seconds), tv_nsec: Int(a.mtime.nanoseconds))
        let at = a.atime.map { timespec(tv_sec: Int($0.seconds), tv_nsec: Int($0.nanoseconds)) }
            ?? timespec(tv_sec: 0, tv_nsec: Self.utimeOmit)
        return [at, m]
    }

    func xattrFailed(_ x: TarXattr, _ code: Int32, entry: String, offset: Int64?) throws {
        if options.strictXattrs {
            throw CheckpointError.extractionIO("setxattr '\(x.name)'", code, entry: entry, offset: offset)
        }
        warnings.append(CheckpointError("IO", "xattr '\(x.name)' not applied: \(String(cString: strerror(code)))",
                                        entry: entry, offset: offset))
    }

    /// Ownership, then xattrs, then mode, then times, on an open descriptor (regular files).
    /// - Parameter mode: false for directories, whose mode and times are applied later.
    func applyOnDescriptor(_ fd: Int32, _ a: ObjectAttributes, modeAndTimes: Bool, entry: String,
                           offset: Int64?) throws {
        if let o = a.owner, fchown(fd, o.uid, o.gid) != 0 {
            throw CheckpointError.extractionIO("fchown", csys_errno(), entry: entry, offset: offset)
        }
        for x in a.xattrs {
            let r = x.value.withUnsafeBytes { fsetxattr(fd, x.name, $0.baseAddress, $0.count, 0) }
            if r != 0 { try xattrFailed(x, csys_errno(), entry: entry, offset: offset) }
        }
        guard modeAndTimes else { return }
        if fchmod(fd, mode_t(a.mode)) != 0 {
            throw CheckpointError.extractionIO("fchmod", csys_errno(), entry: entry, offset: offset)
        }
        var ts = timespecs(a)
        if futimens(fd, &ts) != 0 {
            throw CheckpointError.extractionIO("futimens", csys_errno(), entry: entry, offset: offset)
        }
    }

    /// Ownership, xattrs, mode (unless a symbolic link) and times on `name` in `dir`, never following it.
    /// Only for objects this process has just created there (symbolic links, devices, FIFOs).
    func applyAt(_ dir: Int32, _ name: [UInt8], _ a: ObjectAttributes, isSymlink: Bool, entry: String,
                 offset: Int64?) throws {
        if let o = a.owner, withCName(name, { fchownat(dir, $0, o.uid, o.gid, AT_SYMLINK_NOFOLLOW) }) != 0 {
            throw CheckpointError.extractionIO("fchownat", csys_errno(), entry: entry, offset: offset)
        }
        if !a.xattrs.isEmpty {
            // No lsetxattrat: name the object through the parent's descriptor; lsetxattr does not follow the
            // final component, and /proc/self/fd/N is the directory this process holds open.
            let path = Array("/proc/self/fd/\(dir)/".utf8) + name
            for x in a.xattrs {
                let r = withCName(path) { p in x.value.withUnsafeBytes { lsetxattr(p, x.name, $0.baseAddress, $0.count, 0) } }
                if r != 0 { try xattrFailed(x, csys_errno(), entry: entry, offset: offset) }
            }
        }
        if !isSymlink {
            // fchmodat cannot refuse to follow a link, but the object was made by mknodat a moment ago
            // in a directory this process resolved without links; check its type anyway.
            guard let st = try lstatAt(dir, name, entry: entry, offset: offset), st.st_mode & S_IFMT != S_IFLNK else {
                throw CheckpointError("CKA-SEC-003", "object changed while its metadata was applied",
                                      entry: entry, offset: offset)
            }
            if withCName(name, { fchmodat(dir, $0, mode_t(a.mode), 0) }) != 0 {
                throw CheckpointError.extractionIO("fchmodat", csys_errno(), entry: entry, offset: offset)
            }
        }
        var ts = timespecs(a)
        if withCName(name, { utimensat(dir, $0, &ts, AT_SYMLINK_NOFOLLOW) }) != 0 {
            throw CheckpointError.extractionIO("utimensat", csys_errno(), entry: entry, offset: offset)
        }
    }
}
