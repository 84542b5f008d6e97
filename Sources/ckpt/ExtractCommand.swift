import ArgumentParser
import ByteStreams
import CheckpointArchive
import Compression
#if canImport(Glibc)
import Glibc
#endif

extension Ckpt {
    /// `ckpt extract`: unpack any checkpoint archive into an unpacked checkpoint directory.
    struct Extract: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Unpack a checkpoint archive (v2 or any v1 profile) into a new directory.",
            discussion: """
                Reads the archive once, from a file or standard input. v2 digests are verified while streaming \
                and against the index at the end; the directory appears only when everything checked out \
                (it is staged under a temporary name and renamed). Extraction never follows symbolic links, never \
                writes outside DIR, and refuses hostile names, links and special files.
                """)

        @Argument(help: "The archive, or - for standard input.")
        var archive: String

        @Argument(help: "The directory to create (it must not exist).")
        var directory: String

        @Option(help: "Also apply the rootfs diff (deletions, then changed files) to this container root.")
        var rootfs: String?

        @Option(help: "Refuse the archive unless its index digest is this sha256:<hex> value.")
        var expectIndexDigest: String?

        @Flag(help: "Do not share extents with the archive (FICLONERANGE/copy_file_range).")
        var noReflink = false

        @Flag(inversion: .prefixedNo,
              help: "Create device nodes found in rootfs, devshm and volume sections (default: only when run as root).")
        var devices: Bool?

        @Flag(help: "Force every file and directory to stable storage (fsync) before the final rename.")
        var fsync = false

        @Flag(help: "Print nothing but errors.")
        var quiet = false

        func run() throws {
            let file: FileSource = archive == "-" ? FileSource(descriptor: .standardInput) : try FileSource(path: archive)
            let progress = Progress("reading \(archive)", total: file.fileSize, quiet: quiet)
            let input: ByteSource = progress.enabled ? ProgressSource(file, progress: progress) : file
            let opened = try ArchiveOpener.open(input, limits: .forInput(compressedSize: file.fileSize))
            defer { progress.finish() }
            var options = SafeExtractor.Options.forCurrentUser
            options.useReflink = !noReflink
            options.fsync = fsync
            options.allowDeviceNodes = devices ?? (geteuid() == 0)
            let extractor = try SafeExtractor(destination: directory, options: options)
            let summary: ExtractionSummary
            do {
                let reflink = opened.compression == .none && file.isSeekable ? file.descriptor.rawValue : nil
                summary = try ArchiveExtraction.decode(opened, into: extractor, reflinkDescriptor: reflink,
                                                       archiveDescriptor: file.isSeekable ? file.descriptor.rawValue : nil,
                                                       expectedIndexDigest: expectIndexDigest)
                try extractor.commit()
            } catch {
                extractor.abort()
                throw error
            }
            if let rootfs {
                try UnpackedRootfs.apply(directory: directory, to: rootfs, options: options)
            }
            if !quiet {
                for w in summary.warnings { printError("ckpt: warning: \(w)") }
                var line = "ckpt: extracted \(archive) into \(directory): \(summary.format.rawValue) (\(summary.profile.rawValue)), "
                    + "\(summary.sections.count) sections"
                if let digest = summary.indexDigest { line += ", every digest verified, index digest \(digest)" }
                printError(line)
            }
        }
    }
}
