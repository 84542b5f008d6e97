@testable import TarFormat
import XCTest

/// The word-at-a-time scans of the reader's hot path against the byte-by-byte definitions they replace.
final class HeaderScanTests: XCTestCase {
    /// The unsigned header sum, with the checksum field read as spaces, as the byte loop computes it.
    private func referenceSum(_ block: [UInt8]) -> Int64 {
        var sum: Int64 = 0
        for (i, c) in block.enumerated() { sum += HeaderBlock.checksum.contains(i) ? 0x20 : Int64(c) }
        return sum
    }

    /// The signed header sum (bytes as Int8), the checksum field read as spaces, as the byte loop computes it.
    private func referenceSignedSum(_ block: [UInt8]) -> Int64 {
        var sum: Int64 = 0
        for (i, c) in block.enumerated() { sum += HeaderBlock.checksum.contains(i) ? 0x20 : Int64(Int8(bitPattern: c)) }
        return sum
    }

    /// Random blocks, blocks of one repeated byte (all 0xFF is the largest sum) and blocks of random high bytes.
    func testUnsignedChecksumIsTheByteSum() {
        var generator = SystemRandomNumberGenerator()
        var blocks: [[UInt8]] = (0...255).map { [UInt8](repeating: UInt8($0), count: 512) }
        for _ in 0..<5000 { blocks.append((0..<512).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        for _ in 0..<1000 { blocks.append((0..<512).map { _ in UInt8.random(in: 0x80...0xFF, using: &generator) }) }
        for block in blocks {
            block.withUnsafeBytes { raw in
                XCTAssertEqual(TarHeaderChecksum.unsigned(raw), referenceSum(block))
                XCTAssertEqual(TarHeaderChecksum.unsigned(raw), TarHeaderChecksum.sums(raw).unsigned)
                XCTAssertEqual(TarHeaderChecksum.sums(raw).signed, referenceSignedSum(block))
            }
        }
    }

    /// The depth of a name (components neither empty nor `.`), against a split of the name.
    func testDepthCountsTheComponentsLikeASplit() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("/./a..".utf8)
        for _ in 0..<20_000 {
            let name = (0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            let expected = name.split(separator: 0x2F, omittingEmptySubsequences: true).filter { $0 != [0x2E] }.count
            XCTAssertEqual(TarReader.depth(name), expected, String(decoding: name, as: UTF8.self))
        }
    }
}
