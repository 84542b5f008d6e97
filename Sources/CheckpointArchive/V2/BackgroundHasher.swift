import Crypto
import Dispatch
import FoundationEssentials
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
