#if canImport(Glibc)
import Glibc
#endif

/// Writes to the standard streams without Foundation's `FileHandle` (the tool does not link Foundation).
enum StandardStreams {
    /// Writes `text` to standard error, unbuffered as the stream is.
    static func error(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let n = write(2, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                done += n
            }
        }
    }

    /// Writes a UTF-8 document to standard output, after whatever `print` wrote before it.
    static func output(_ utf8: [UInt8]) {
        print(String(decoding: utf8, as: UTF8.self), terminator: "")
    }
}
