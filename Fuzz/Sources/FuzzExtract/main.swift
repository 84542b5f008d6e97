import ByteStreams
import CheckpointArchive
import Compression
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

/// `ckpt extract ARCHIVE DIR --rootfs ROOT` without the CLI: the archive is read from a file (so the reflink
/// path runs for uncompressed input), decoded by the v2 decoder or the v1 reader into a SafeExtractor, and on
/// success its rootfs diff is applied to a small container root. Invariants checked after every input:
/// - a failure leaves nothing behind (no destination, no staging directory);
/// - a success leaves exactly the destination;
/// - a sibling directory (`victim`) and a file outside the container root are never touched, whatever the
///   archive's names, links or deletion lists say.
enum ExtractHarness {
    static let archive = ScratchFile(name: "archive")

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let work = Fuzz.scratch + "/w"
        let dest = work + "/out"
        let root = work + "/root"
        Fuzz.removeTree(work)
        precondition(mkdir(work, 0o700) == 0)
        precondition(mkdir(work + "/victim", 0o700) == 0)
        precondition(mkdir(root, 0o755) == 0 && mkdir(root + "/etc", 0o755) == 0)
        precondition(symlink("/etc", root + "/link-abs") == 0 && symlink("../victim", root + "/link-up") == 0)
        writeFile(work + "/victim/keep", "keep")
        writeFile(root + "/etc/motd", "motd")

        archive.store(bytes)
        let file = FileSource(descriptor: .init(rawValue: archive.descriptor))
        var committed = false
        do {
            let opened = try ArchiveOpener.open(file, limits: .forInput(compressedSize: file.fileSize))
            let extractor = try SafeExtractor(destination: dest, options: SafeExtractor.Options())
            do {
                let reflink = opened.compression == .none ? archive.descriptor : nil
                _ = try ArchiveExtraction.decode(opened, into: extractor, reflinkDescriptor: reflink)
                try extractor.commit()
                committed = true
            } catch {
                extractor.abort()
                throw error
            }
            try UnpackedRootfs.apply(directory: dest, to: root, options: SafeExtractor.Options())
        } catch {
            _ = "\(error)"
        }
        let left = Fuzz.names(in: work)
        let expected = (committed ? ["out"] : []) + ["root", "victim"]
        Fuzz.require(left == expected, "left behind \(left), expected \(expected)")
        Fuzz.require(Fuzz.names(in: work + "/victim") == ["keep"] && readFile(work + "/victim/keep") == "keep",
                     "the sibling directory was changed: \(Fuzz.names(in: work + "/victim"))")
        Fuzz.removeTree(work)
    }

    static func writeFile(_ path: String, _ text: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        precondition(fd >= 0)
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }

    static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buffer, 64)
        return n >= 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExtract(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    ExtractHarness.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
