import ArgumentParser
import ByteStreams
import SystemPackage
import TarFormat

extension Ckpt {
    /// `ckpt list`: list the entries of any tar archive, compressed or not.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the entries of a tar archive (uncompressed, gzip or zstd).",
            discussion: """
                Prints one name per line, or with --long a line like `tar -tv`, or with --json one JSON object \
                per entry (JSON Lines) with the keys path, type, size, mode, uid, gid, uname, gname, mtime, \
                and where they apply linkname, devmajor, devminor, xattrs.
                On a malformed archive the entries read so far are printed, then an error naming the byte \
                offset, and the exit status is 1.
                """)

        @Argument(help: "The archive, or - for standard input.")
        var archive: String

        @Flag(help: "Print JSON Lines.")
        var json = false

        @Flag(name: [.short, .long], help: "Print mode, owner, size and time like tar -tv.")
        var long = false

        @Flag(help: "Report on standard error how many bytes were read from the input and the time taken.")
        var stats = false

        @Option(help: "Refuse pax extended headers larger than this many bytes.")
        var maxPaxHeader: Int64 = TarLimits.default.maxPaxHeaderSize

        @Option(help: "Refuse archives with more entries than this.")
        var maxEntries: Int = TarLimits.default.maxEntryCount

        func run() throws {
            let started = ContinuousClock.now
            let input = try InputArchive(path: archive)
            defer {
                if stats {
                    let elapsed = ContinuousClock.now - started
                    printError("ckpt: stats: read \(input.file.storageBytesRead) bytes from the input, "
                               + "decoded \(input.stream.position) bytes of tar stream in \(elapsed)")
                }
            }
            var limits = TarLimits.default
            limits.maxPaxHeaderSize = maxPaxHeader
            limits.maxEntryCount = maxEntries
            let reader = TarReader(source: input.stream, limits: limits)
            let out = FileSink(descriptor: .standardOutput, bufferSize: 256 * 1024)
            do {
                while let h = try reader.next() {
                    let line = json ? TarListing.jsonLine(h) : long ? TarListing.longLine(h) : h.path
                    try out.write(Array((line + "\n").utf8))
                }
                let end = try reader.finish()
                try out.flush()
                switch end.marker {
                case .twoZeroBlocks: break
                case .oneZeroBlock: printError("ckpt: warning: archive ends with a lone zero block at byte offset \(end.offset)")
                case .none: printError("ckpt: warning: archive has no end-of-archive blocks (ends at byte offset \(end.offset))")
                }
                if let g = end.firstTrailingGarbageOffset {
                    printError("ckpt: warning: non-zero data after the end of the archive at byte offset \(g)")
                }
            } catch {
                try? out.flush()
                throw error
            }
        }
    }
}
