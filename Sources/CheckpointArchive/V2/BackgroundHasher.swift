import Crypto
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 computed on a second thread, in submission order, while the caller copies the same bytes: the
/// encoder and decoder hash every byte of file content, and on two cores hashing and copying overlap.
///
/// The caller owns the buffers and must not reuse one until `waitForBuffer` says the hasher is done with it.
final class BackgroundHasher: @unchecked Sendable {
    private let queue = DispatchQueue(label: "ckpt.sha256")
    private var hasher = SHA256()
    private let inFlight = DispatchGroup()

    /// Hashes `bytes` after everything submitted before. The memory must stay valid and unchanged until
    /// `waitForBuffer()` or `finish()` returns.
    func submit(_ bytes: UnsafeRawBufferPointer) {
        let base = bytes.baseAddress.map { UInt(bitPattern: $0) } ?? 0
        let count = bytes.count
        inFlight.enter()
        queue.async {
            if count > 0, let p = UnsafeRawPointer(bitPattern: base) {
                self.hasher.update(bufferPointer: UnsafeRawBufferPointer(start: p, count: count))
            }
            self.inFlight.leave()
        }
    }

    /// Waits until every submitted buffer has been hashed.
    func waitForBuffer() { inFlight.wait() }

    /// Waits for the remaining work and returns the lowercase hex digest.
    func finish() -> String {
        inFlight.wait()
        return queue.sync { Hex.string(hasher.finalize()) }
    }
}

/// The SHA-256 of a whole file computed on its own thread with `pread` (the file offset is not touched), so
/// the caller can copy the same file meanwhile.
final class BackgroundFileHash: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var digest: String?
    private var failure: CheckpointError?

    /// - Parameter inline: hash now, on the caller's thread (for small files).
    init(fd: Int32, size: Int64, inline: Bool = false) {
        let work: @Sendable () -> Void = { [self] in
            defer { done.signal() }
            let chunk = 1 << 20
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
            defer { buffer.deallocate() }
            var hasher = SHA256()
            var offset: Int64 = 0
            while offset < size {
                let n = pread(fd, buffer.baseAddress, Int(min(Int64(chunk), size - offset)), off_t(offset))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    failure = CheckpointError("IO", "file shrank or could not be read while it was being archived")
                    return
                }
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                offset += Int64(n)
            }
            digest = Hex.string(hasher.finalize())
        }
        if inline {
            work()
        } else {
            Thread(block: work).start()
        }
    }

    /// Waits for the thread and returns the digest.
    func result() throws -> String {
        done.wait()
        if let failure { throw failure }
        return digest ?? ""
    }
}
