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

        @OptionGroup var encoding: EncodingOptions

        @Flag(help: "Print nothing but errors.")
        var quiet = false

        func run() throws {
            let slash = output.lastIndex(of: "/")
            let dir = output == "-" ? "." : slash.map { String(output[..<$0]) } ?? "."
            let staging = "\(dir)/.ckpt-convert-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            defer { removeTree(staging) }
            let extract = try Extract.parse([input, staging, "--quiet"])
            try extract.run()
            let header = try ArchiveHeader.parse(try readFile(staging + "/cka-header.json")).header
            try Create.write(directory: staging, to: output, format: to, encoding: encoding,
                             compression: encoding.compress?.format ?? header.compression, quiet: quiet)
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
