import ByteStreams
import TarFormat
import XCTest

/// Small helpers to build archives in memory and read them back.
enum Archives {
    /// An archive of `(header, data)` entries written by our writer.
    static func make(_ entries: [(TarHeader, [UInt8])], options: TarWriterOptions = .init()) throws -> [UInt8] {
        let sink = MemorySink()
        let writer = try TarWriter(sink: sink, options: options)
        for (h, data) in entries { try writer.writeEntry(h, data: data) }
        try writer.finish()
        return sink.bytes
    }

    /// Every header of an archive and each entry's stored data.
    static func read(_ bytes: [UInt8], limits: TarLimits = .default) throws -> [(TarHeader, [UInt8])] {
        let reader = TarReader(source: MemorySource(bytes), limits: limits)
        var out: [(TarHeader, [UInt8])] = []
        while let h = try reader.next() { out.append((h, try reader.readData())) }
        try reader.finish()
        return out
    }

    /// The error reading `bytes` ends with, or nil when it reads cleanly.
    static func error(reading bytes: [UInt8], limits: TarLimits = .default) -> TarError? {
        do {
            _ = try read(bytes, limits: limits)
            return nil
        } catch let e as TarError {
            return e
        } catch {
            XCTFail("unexpected error type \(error)")
            return nil
        }
    }

    /// A ustar header block built by hand, with a correct checksum unless `checksum` overrides it.
    static func block(name: String, type: UInt8 = 0x30, size: String = "00000000000", mode: String = "0000644",
                      magic: String = "ustar\u{0}00", checksum: String? = nil, linkname: String = "") -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, _ at: Int) { for (i, c) in s.utf8.enumerated() { b[at + i] = c } }
        put(name, 0)
        put(mode, 100)
        put("0000000", 108)
        put("0000000", 116)
        put(size, 124)
        put("00000000000", 136)
        b[156] = type
        put(linkname, 157)
        put(magic, 257)
        if let checksum {
            put(checksum, 148)
        } else {
            fixChecksum(&b)
        }
        return b
    }

    /// Recomputes the checksum of the header block at `offset`.
    static func fixChecksum(_ bytes: inout [UInt8], at offset: Int = 0) {
        for i in 148..<156 { bytes[offset + i] = 0x20 }
        let sum = bytes[offset..<(offset + 512)].reduce(0) { $0 + Int($1) }
        let text = Array(String(sum, radix: 8).utf8)
        let padded = [UInt8](repeating: 0x30, count: 6 - text.count) + text
        for i in 0..<6 { bytes[offset + 148 + i] = padded[i] }
        bytes[offset + 154] = 0
        bytes[offset + 155] = 0x20
    }

    static let endBlocks = [UInt8](repeating: 0, count: 1024)

    /// Data padded to a whole number of blocks.
    static func padded(_ data: [UInt8]) -> [UInt8] {
        data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }
}
