import FuzzDecoding

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZstd(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    DecoderHarness.run(.zstd, UnsafeRawBufferPointer(start: data, count: size))
}
