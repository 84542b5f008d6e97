import FuzzDecoding

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGzip(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    DecoderHarness.run(.gzip, UnsafeRawBufferPointer(start: data, count: size))
}
