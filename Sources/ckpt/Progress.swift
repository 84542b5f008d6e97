import ByteStreams
#if canImport(Glibc)
import Glibc
#endif

/// Progress on standard error for long operations: only when standard error is a terminal and the user did
/// not ask for `--quiet`; a line redrawn in place at most every 256 MiB, erased at the end.
final class Progress {
    private let label: String
    private let total: Int64?
    private var next: Int64 = 256 << 20
    private var shown = false
    let enabled: Bool

    init(_ label: String, total: Int64? = nil, quiet: Bool) {
        self.label = label
        self.total = total
        enabled = !quiet && isatty(2) == 1
    }

    func update(_ done: Int64) {
        guard enabled, done >= next else { return }
        next = done + (256 << 20)
        var line = "\r\(label): \(done >> 20) MiB"
        if let total, total > 0 { line += " of \(total >> 20) MiB (\(done * 100 / total)%)" }
        FileHandleWriter.stderr(line)
        shown = true
    }

    func finish() {
        if shown { FileHandleWriter.stderr("\r\u{1B}[K") }
        shown = false
    }
}

enum FileHandleWriter {
    static func stderr(_ s: String) {
        let bytes = Array(s.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}

/// A `ByteSource` that reports how far it has been read.
final class ProgressSource: ByteSource {
    private let inner: ByteSource
    private let progress: Progress

    init(_ inner: ByteSource, progress: Progress) {
        self.inner = inner
        self.progress = progress
    }

    var position: Int64 { inner.position }

    func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer {
        let chunk = try inner.read(upTo: maxCount)
        progress.update(inner.position)
        return chunk
    }

    func skip(_ count: Int64) throws -> Int64 {
        let n = try inner.skip(count)
        progress.update(inner.position)
        return n
    }
}

/// A `ByteSink` that reports how much has been written; direct writes pass through.
final class ProgressSink: DirectWriteSink {
    private let inner: ByteSink
    private let progress: Progress

    init(_ inner: ByteSink, progress: Progress) {
        self.inner = inner
        self.progress = progress
    }

    var position: Int64 { inner.position }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try inner.write(bytes)
        progress.update(inner.position)
    }

    func flush() throws { try inner.flush() }

    func beginDirectWrite() throws -> Int32? { try (inner as? DirectWriteSink)?.beginDirectWrite() }

    func endDirectWrite(_ count: Int64) {
        (inner as? DirectWriteSink)?.endDirectWrite(count)
        progress.update(inner.position)
    }
}
