import FuzzDecoding

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBzip2(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    DecoderHarness.run(.bzip2, UnsafeRawBufferPointer(start: data, count: size))
}
