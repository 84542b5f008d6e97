import ByteStreams
import FuzzSupport
import TarFormat

/// Sees the raw structure, as the validator's tar rules do (this takes TarReader's observer paths).
final class CountingObserver: TarReaderObserver {
    var headerBlocks = 0
    func tarReader(_ reader: TarReader, readHeaderBlock block: UnsafeRawBufferPointer, at offset: Int64) {
        headerBlocks += 1
    }
    func tarReader(_ reader: TarReader, readExtendedHeaderBody body: [UInt8], at offset: Int64) {}
    func tarReader(_ reader: TarReader, sawNonZeroPaddingAt offset: Int64) {}
}

/// One pass over the archive: every header, every data byte (or a skip), then the end of the stream.
/// Checks that the reader makes progress (CKA-SEC-014): every entry costs at least one 512-byte block, data
/// never exceeds the input, and offsets only grow.
func pass(_ bytes: UnsafeRawBufferPointer, readData: Bool, observe: Bool) {
    let source = MemorySource(bytes)
    let reader = TarReader(source: source)
    let observer = CountingObserver()
    if observe { reader.observer = observer }
    reader.yieldsGlobalHeaders = !readData
    var lastOffset: Int64 = -1
    do {
        var n = 0
        while let h = try reader.next() {
            n += 1
            Fuzz.require(h.headerOffset > lastOffset, "header offsets go back: \(h.headerOffset) after \(lastOffset)")
            Fuzz.require(h.dataOffset <= Int64(bytes.count), "data offset \(h.dataOffset) past the input")
            Fuzz.require(Int64(n) * 512 <= Int64(bytes.count), "\(n) entries from \(bytes.count) bytes")
            lastOffset = h.headerOffset
            _ = TarListing.jsonLine(h)
            _ = TarListing.longLine(h)
            if readData, n % 2 == 1 {
                let got = try Fuzz.drain(TarEntrySource(reader), seed: n)
                Fuzz.require(got == h.storedSize, "read \(got) of \(h.storedSize) stored bytes")
            }
        }
        try reader.finish()
        Fuzz.require(source.position <= Int64(bytes.count), "read past the input")
    } catch {
        _ = "\(error)"  // every error must describe itself without trapping
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTar(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    pass(bytes, readData: true, observe: false)
    pass(bytes, readData: false, observe: true)
    return 0
}
