/// A small, deterministic bzip2 encoder for the vectors of archives compressed with a method the specification
/// does not allow (CKA-CMP-001): the initial run-length step, the Burrows-Wheeler transform (rotations sorted by
/// prefix doubling), move-to-front with RUNA/RUNB zero runs, and two identical Huffman tables of equal-length
/// codes. The output is a real bzip2 stream that `bzip2 -d` reads (Tests/VectorTests checks that); its ratio
/// does not matter.
public enum Bzip2Writer {
    /// - Parameter blockSize: input bytes per block; 100 kB stays far below bzip2's 900 kB after the run-length step.
    public static func compress(_ data: [UInt8], blockSize: Int = 100_000) -> [UInt8] {
        var w = MSBBitWriter()
        w.bytes = Array("BZh9".utf8)
        var combined: UInt32 = 0
        var at = 0
        while at < data.count {
            let chunk = Array(data[at..<min(data.count, at + blockSize)])
            let crc = Checksums.bzip2CRC(chunk)
            combined = (combined << 1 | combined >> 31) ^ crc
            block(runLengthEncoded(chunk), crc: crc, into: &w)
            at += chunk.count
        }
        w.write(0x177245, 24)
        w.write(0x385090, 24)
        w.write(Int(combined), 32)
        w.flush()
        return w.bytes
    }

    /// bzip2's first step: a run of 4 to 255 equal bytes becomes the byte four times and the count of the rest.
    static func runLengthEncoded(_ d: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < d.count {
            var run = 1
            while i + run < d.count, d[i + run] == d[i], run < 255 { run += 1 }
            if run >= 4 {
                out += [d[i], d[i], d[i], d[i], UInt8(run - 4)]
            } else {
                out += [UInt8](repeating: d[i], count: run)
            }
            i += run
        }
        return out
    }

    /// The last column of the sorted rotations of `s` and the row of `s` itself.
    static func transform(_ s: [UInt8]) -> (last: [UInt8], origin: Int) {
        let n = s.count
        var rank = s.map(Int.init)
        var order = Array(0..<n)
        var k = 1
        while true {
            let r = rank
            let step = k
            func key(_ i: Int) -> (Int, Int) { (r[i], r[(i + step) % n]) }
            order.sort { key($0) < key($1) }
            var next = [Int](repeating: 0, count: n)
            for i in 1..<n { next[order[i]] = next[order[i - 1]] + (key(order[i - 1]) < key(order[i]) ? 1 : 0) }
            rank = next
            if rank[order[n - 1]] == n - 1 || k >= n { break }
            k *= 2
        }
        return (order.map { s[($0 + n - 1) % n] }, order.firstIndex(of: 0)!)
    }

    static func block(_ data: [UInt8], crc: UInt32, into w: inout MSBBitWriter) {
        let (last, origin) = transform(data)
        var inUse = [Bool](repeating: false, count: 256)
        for b in data { inUse[Int(b)] = true }
        var seq = [Int](repeating: 0, count: 256)
        var nInUse = 0
        for b in 0..<256 where inUse[b] {
            seq[b] = nInUse
            nInUse += 1
        }
        // Move-to-front; runs of zeros as RUNA (0) and RUNB (1) in bijective base 2; values j + 1; end of block.
        var symbols: [Int] = []
        var list = Array(0..<nInUse)
        var zeros = 0
        func flushZeros() {
            guard zeros > 0 else { return }
            var z = zeros - 1
            while true {
                symbols.append(z & 1)
                if z < 2 { break }
                z = (z - 2) / 2
            }
            zeros = 0
        }
        for b in last {
            let s = seq[Int(b)]
            let j = list.firstIndex(of: s)!
            if j == 0 {
                zeros += 1
                continue
            }
            flushZeros()
            list.remove(at: j)
            list.insert(s, at: 0)
            symbols.append(j + 1)
        }
        flushZeros()
        symbols.append(nInUse + 1)
        let alphabet = nInUse + 2
        var length = 1
        while 1 << length < alphabet { length += 1 }

        w.write(0x314159, 24)
        w.write(0x265359, 24)
        w.write(Int(crc), 32)
        w.write(0, 1)  // not randomised
        w.write(origin, 24)
        var ranges = 0
        for i in 0..<16 where inUse[(i * 16)..<(i * 16 + 16)].contains(true) { ranges |= 1 << (15 - i) }
        w.write(ranges, 16)
        for i in 0..<16 where ranges & (1 << (15 - i)) != 0 {
            var bits = 0
            for j in 0..<16 where inUse[i * 16 + j] { bits |= 1 << (15 - j) }
            w.write(bits, 16)
        }
        let selectors = (symbols.count + 49) / 50
        w.write(2, 3)  // two tables, the fewest allowed
        w.write(selectors, 15)
        for _ in 0..<selectors { w.write(0, 1) }  // every group uses table 0
        for _ in 0..<2 {
            w.write(length, 5)
            for _ in 0..<alphabet { w.write(0, 1) }  // every code has the starting length
        }
        // Canonical codes of equal length: symbol s has code s.
        for s in symbols { w.write(s, length) }
    }
}

/// Writes bits most significant first (bzip2's order).
struct MSBBitWriter {
    var bytes: [UInt8] = []
    private var acc = 0
    private var count = 0

    mutating func write(_ value: Int, _ bits: Int) {
        for i in stride(from: bits - 1, through: 0, by: -1) {
            acc = acc << 1 | (value >> i) & 1
            count += 1
            if count == 8 {
                bytes.append(UInt8(acc))
                acc = 0
                count = 0
            }
        }
    }

    mutating func flush() {
        if count > 0 { bytes.append(UInt8(acc << (8 - count))) }
        acc = 0
        count = 0
    }
}
