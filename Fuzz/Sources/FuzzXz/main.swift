import FuzzDecoding

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    DecoderHarness.run(.xz, UnsafeRawBufferPointer(start: data, count: size))
}
