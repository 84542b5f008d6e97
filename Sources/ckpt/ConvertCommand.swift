import ArgumentParser
import ByteStreams
import CheckpointArchive
#if canImport(Glibc)
import Glibc
#endif

extension Ckpt {
    /// `ckpt convert`: v1 <-> v2, or one v1 profile to another, through the unpacked directory.
    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert a checkpoint archive between v1 and v2 (losslessly, as part 5.10 defines it).",
            discussion: """
                convert(A) = create(extract(A)): the archive is verified and unpacked into a private staging \
                directory next to OUT, written in the target format, and the staging directory is removed. The \
                profile of a v1 source is kept unless --profile says otherwise.
                """)

        @Argument(help: "The archive to convert, or - for standard input.")
        var input: String

        @Argument(help: "The archive to write, or - for standard output.")
        var output: String

        @Option(help: "Target format: v2 or v1.")
        var to: FormatChoice

        @Option(help: "Engine profile of the result (podman, cri-o, containerd; generic for v2).")
        var profile: String?

        @Option(help: "Compression of the result: none, gzip or zstd (default: that of the input, CKA-CNV-010).")
        var compress: CompressionChoice?

        @Flag(help: "v2: framed compression.")
        var framed = false

        @Option(help: "v2, uncompressed: data alignment.")
        var align: Int = 0

        @Option(help: "Compression level.")
        var level: Int?

        @Flag(help: "Reproducible output.")
        var deterministic = false

        @Flag(help: "Print nothing but errors.")
        var quiet = false

        func run() throws {
            let slash = output.lastIndex(of: "/")
            let dir = output == "-" ? "." : slash.map { String(output[..<$0]) } ?? "."
            let staging = "\(dir)/.ckpt-convert-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            defer { removeTree(staging) }
            let extract = try Extract.parse([input, staging, "--quiet"])
            try extract.run()
            let header = try ArchiveHeader.parse(Array(try readFile(staging + "/cka-header.json"))).header
            let method = compress?.rawValue ?? header.compression.rawValue
            var args = [staging, output, "--format", to.rawValue, "--compress", method]
            if let profile { args += ["--profile", profile] }
            if framed { args.append("--framed") }
            if align > 0 { args += ["--align", String(align)] }
            if let level { args += ["--level", String(level)] }
            if deterministic { args.append("--deterministic") }
            if quiet { args.append("--quiet") }
            let create = try Create.parse(args)
            try create.run()
        }
    }
}

/// Removes a directory tree we created (never following symbolic links).
func removeTree(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if (st.st_mode & S_IFMT) == S_IFDIR {
        if let d = opendir(path) {
            var names: [String] = []
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(d)
            for n in names { removeTree(path + "/" + n) }
        }
        chmod(path, 0o700)
        rmdir(path)
    } else {
        unlink(path)
    }
}

/// The bytes of a small file.
func readFile(_ path: String) throws -> [UInt8] {
    let source = try FileSource(path: path)
    return try source.readAll(limit: 64 << 20)
}
