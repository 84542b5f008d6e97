import ByteStreams
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// An output file written under a temporary name and renamed into place only when complete, so a failed
/// command never leaves something that looks like a finished archive. `-` writes to standard output.
final class OutputFile {
    let path: String
    let temporaryPath: String?
    let sink: FileSink

    init(path: String) throws {
        self.path = path
        if path == "-" {
            temporaryPath = nil
            sink = FileSink(descriptor: .standardOutput)
            return
        }
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temp = "\(dir)/.\(base).ckpt-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            let fd = try FileDescriptor.open(FilePath(temp), .readWrite, options: [.create, .exclusiveCreate, .closeOnExec],
                                             permissions: [.ownerReadWrite])
            sink = FileSink(descriptor: fd, closeOnDeinit: true)
        } catch let errno as Errno {
            throw ByteStreamError.system(operation: "create \(temp)", errno: errno)
        }
        temporaryPath = temp
    }

    /// The descriptor written to.
    var descriptor: Int32 { sink.descriptor.rawValue }

    /// Flushes and moves the file into place; `durable` first forces its data to stable storage (`fsync`), so
    /// that not even a power loss right after the rename can leave a partial file under the final name.
    func commit(durable: Bool) throws {
        try sink.flush()
        guard let temp = temporaryPath else {
            if durable { _ = fsync(sink.descriptor.rawValue) }  // a pipe or terminal: nothing to force
            return
        }
        guard !durable || fsync(sink.descriptor.rawValue) == 0, rename(temp, path) == 0 else {
            let e = Errno(rawValue: errno)
            unlink(temp)
            throw ByteStreamError.system(operation: "rename \(temp) to \(path)", errno: e)
        }
    }

    /// Removes the temporary file (after a failure).
    func discard() {
        if let temp = temporaryPath { unlink(temp) }
    }
}
