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

        @Option(help: "Engine profile: podman, cri-o, containerd (or generic for v2). Default: from cka-header.json.")
        var profile: String?

        @Option(help: "Compression: none, gzip or zstd.")
        var compress: CompressionChoice = .none

        @Flag(help: "v2: start a gzip member or zstd frame at every section and add the index locator.")
        var framed = false

        @Option(help: "v2, uncompressed: align file data to N bytes (a power of two from 512 to 1048576).")
        var align: Int = 0

        @Option(help: "Compression level.")
        var level: Int?

        @Flag(help: "Reproducible output: mtime 0, no user or group names, ids 0 outside file-system sections.")
        var deterministic = false

        @Flag(help: "Print nothing but errors.")
        var quiet = false

        func run() throws {
            let chosenProfile = try profile.map { name -> CheckpointProfile in
                guard let p = CheckpointProfile(rawValue: name == "crio" ? "cri-o" : name) else {
                    throw ValidationError("unknown profile '\(name)'")
                }
                return p
            }
            let out = try OutputFile(path: output)
            do {
                switch format {
                case .v2:
                    var options = V2EncoderOptions()
                    options.compression = compress.format
                    options.level = level
                    options.framed = framed
                    options.alignment = align
                    options.deterministic = deterministic
                    options.profile = chosenProfile
                    let encoder = try V2Encoder(directory: directory, options: options)
                    let progress = Progress("writing \(output)", quiet: quiet)
                    let sink = progress.enabled ? ProgressSink(out.sink, progress: progress) : out.sink as ByteSink
                    let result = try encoder.encode(to: sink)
                    progress.finish()
                    try out.commit()
                    if !quiet && output != "-" {
                        printError("ckpt: wrote \(output): \(result.outputBytes) bytes, \(result.index.sections.count) sections, "
                                   + "\(result.index.files.count) files; index digest \(result.indexDigest)")
                    }
                case .v1:
                    guard !framed, align == 0 else {
                        throw ValidationError("--framed and --align apply to v2 only")
                    }
                    let profileToWrite = try chosenProfile ?? UnpackedLayout(root: directory).profile
                    guard profileToWrite != .generic else {
                        throw ValidationError("v1 needs an engine profile: --profile podman, cri-o or containerd")
                    }
                    var options = V1WriterOptions()
                    if deterministic { options.deterministic = .init() }
                    let progress = Progress("writing \(output)", quiet: quiet)
                    let sink = progress.enabled ? ProgressSink(out.sink, progress: progress) : out.sink as ByteSink
                    let compressor = try compress.format.makeEncoder(sink, level: level)
                    let summary = try V1Writer(options: options).write(directory: directory, profile: profileToWrite,
                                                                       to: compressor)
                    try compressor.finish()
                    progress.finish()
                    try out.commit()
                    if !quiet && output != "-" {
                        printError("ckpt: wrote \(output): v1 (\(summary.profile.rawValue)), \(summary.entryNames.count) entries")
                    }
                }
            } catch {
                out.discard()
                throw error
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
