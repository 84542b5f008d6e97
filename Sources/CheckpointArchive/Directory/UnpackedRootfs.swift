import ByteStreams
import TarFormat

/// The rootfs section of an unpacked directory, replayed into a sink (for `ckpt extract --rootfs TARGET`,
/// which applies the diff to a container root after the archive was verified and unpacked).
public enum UnpackedRootfs {
    /// Feeds `<directory>/rootfs` (marker, deleted.files, implied.dirs, tree) to `sink` in archive order.
    public static func replay(directory: String, into sink: UnpackedEntrySink) throws {
        let root = directory + "/rootfs"
        let section = Section(.rootfs)
        let scanner = DirectoryScanner(root: root, prefix: "rootfs/")
        for entry in try scanner.entries(includeRoot: true) {
            if entry.header.type.isRegularFile {
                let file = try FileSource(path: entry.sourcePath)
                try sink.add(entry.header, section: section, data: file, reflink: nil)
            } else {
                try sink.add(entry.header, section: section, data: MemorySource([]), reflink: nil)
            }
        }
    }

    /// Applies the rootfs diff of an unpacked directory to the container root `target` (CKA-V2-032).
    public static func apply(directory: String, to target: String, options: SafeExtractor.Options) throws {
        let applier = try RootfsApplier(root: target, options: options)
        try replay(directory: directory, into: applier)
        try applier.finish()
    }
}
