import ArgumentParser
import CheckpointArchive
import ByteStreams
import Compression

extension Ckpt {
    /// `ckpt create`: write an archive from an unpacked checkpoint directory.
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a checkpoint archive from an unpacked checkpoint directory.",
            discussion: """
                The directory has the layout of part 9 of the specification (metadata/, checkpoint/, rootfs/tree/, \
                ...), as `ckpt extract` writes it. v2 output is one streaming pass with no temporary file; v1 output \
                is what the chosen engine writes. The output appears under its name only when complete.
                """)

        @Argument(help: "The unpacked checkpoint directory.")
        var directory: String

        @Argument(help: "The archive to write, or - for standard output.")
        var output: String

        @Option(help: "Archive format: v2 or v1.")
        var format: FormatChoice = .v2

        @OptionGroup var encoding: EncodingOptions

        @Flag(help: "Print nothing but errors.")
        var quiet = false

        func run() throws {
            try Self.write(directory: directory, to: output, format: format, encoding: encoding,
                           compression: encoding.compress?.format ?? .none, quiet: quiet)
        }

        /// Writes `directory` as an archive at `output` (shared by `create` and `convert`).
        static func write(directory: String, to output: String, format: FormatChoice, encoding: EncodingOptions,
                          compression: CompressionFormat, quiet: Bool) throws {
            let chosenProfile = try encoding.chosenProfile()
            let out = try OutputFile(path: output)
            do {
                let progress = Progress("writing \(output)", quiet: quiet)
                let sink = progress.enabled ? ProgressSink(out.sink, progress: progress) : out.sink as ByteSink
                let summary: String
                switch format {
                case .v2:
                    var options = V2EncoderOptions()
                    options.compression = compression
                    options.level = encoding.level
                    options.framed = encoding.framed
                    options.alignment = encoding.align
                    options.deterministic = encoding.deterministic
                    options.profile = chosenProfile
                    let result = try V2Encoder(directory: directory, options: options).encode(to: sink)
                    summary = "\(result.outputBytes) bytes, \(result.sections.count) sections, "
                        + "\(result.fileCount) files; index digest \(result.indexDigest)"
                case .v1:
                    guard !encoding.framed, encoding.align == 0 else {
                        throw ValidationError("--framed and --align apply to v2 only")
                    }
                    let profileToWrite = try chosenProfile ?? UnpackedLayout(root: directory).profile
                    guard profileToWrite != .generic else {
                        throw ValidationError("v1 needs an engine profile: --profile podman, cri-o or containerd")
                    }
                    var options = V1WriterOptions()
                    if encoding.deterministic { options.deterministic = .init() }
                    let compressor = try compression.makeEncoder(sink, level: encoding.level)
                    let written = try V1Writer(options: options).write(directory: directory, profile: profileToWrite,
                                                                       to: compressor)
                    try compressor.finish()
                    summary = "v1 (\(written.profile.rawValue)), \(written.entryNames.count) entries"
                }
                progress.finish()
                try out.commit(durable: encoding.fsync)
                if !quiet && output != "-" { printError("ckpt: wrote \(output): \(summary)") }
            } catch {
                out.discard()
                throw error
            }
        }
    }

    /// The encoding options `create` and `convert` share.
    struct EncodingOptions: ParsableArguments {
        @Option(help: "Engine profile: podman, cri-o, containerd (or generic for v2). Default: from cka-header.json.")
        var profile: String?

        @Option(help: "Compression: none, gzip or zstd (create: none; convert: that of the input, CKA-CNV-010).")
        var compress: CompressionChoice?

        @Flag(help: "v2: start a gzip member or zstd frame at every section and add the index locator.")
        var framed = false

        @Option(help: "v2, uncompressed: align file data to N bytes (a power of two from 512 to 1048576).")
        var align: Int = 0

        @Option(help: "Compression level.")
        var level: Int?

        @Flag(help: "Reproducible output: mtime 0, no user or group names, ids 0 outside file-system sections.")
        var deterministic = false

        @Flag(help: """
            Force the archive to stable storage (fsync) before renaming it into place. Without it, as with tar, \
            the rename still hides a failed run's partial output, but a power loss soon after may not.
            """)
        var fsync = false

        func chosenProfile() throws -> CheckpointProfile? {
            try profile.map { name in
                guard let p = CheckpointProfile(rawValue: name == "crio" ? "cri-o" : name) else {
                    throw ValidationError("unknown profile '\(name)'")
                }
                return p
            }
        }
    }

    enum FormatChoice: String, ExpressibleByArgument, CaseIterable { case v1, v2 }

    enum CompressionChoice: String, ExpressibleByArgument, CaseIterable {
        case none, gzip, zstd
        var format: CompressionFormat {
            switch self {
            case .none: return .none
            case .gzip: return .gzip
            case .zstd: return .zstd
            }
        }
    }
}
