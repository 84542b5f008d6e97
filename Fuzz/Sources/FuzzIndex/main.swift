import CheckpointArchive
import FuzzSupport

/// `ArchiveIndex.parse` (the whole-index reader; the v2 decoder itself compares cka-index.json as it streams, which
/// FuzzExtract and FuzzValidate reach) on any bytes. Invariants: an
/// index that parses serialises to canonical bytes that parse back to the same index, and those bytes are a fixed
/// point; errors name CKA-IDX-001.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIndex(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let index = try ArchiveIndex.parse(bytes)
        let canonical = index.canonicalBytes
        let again = try ArchiveIndex.parse(canonical)
        Fuzz.require(again == index, "the canonical form parses to another index")
        Fuzz.require(again.canonicalBytes == canonical, "the canonical form is not a fixed point")
    } catch let e as CheckpointError {
        Fuzz.require(e.requirement == "CKA-IDX-001", "unexpected requirement \(e.requirement)")
    } catch {
        Fuzz.require(false, "unexpected error \(error)")
    }
    return 0
}
